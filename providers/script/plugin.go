package script

import "github.com/waldur-go/waldur/providers"

// Plugin is the Script integration: Marketplace.Script offerings run by
// Provider (its sandbox and limits as configured). It has no tables, routes
// or jobs of its own.
type Plugin struct {
	Provider Provider
}

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Queue }

// Providers implements plugin.Plugin.
func (p Plugin) Providers(r *providers.Registry) { RegisterProvider(r, p.Provider) }
