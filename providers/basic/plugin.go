package basic

import "github.com/waldur-go/waldur/providers"

// Plugin is the Basic integration: Marketplace.Basic (the provider's
// operator finishes orders) and the agent-driven Marketplace.Slurm (a site
// agent does). It has no tables, routes or jobs of its own.
type Plugin struct{}

// Name implements plugin.Plugin.
func (Plugin) Name() string { return "basic" }

// Providers implements plugin.Plugin.
func (Plugin) Providers(r *providers.Registry) {
	Register(r)
	RegisterAgentDriven(r)
}
