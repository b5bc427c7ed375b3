// Package plugins is the one list of the integrations this build serves
// (providers/plugin is their contract). Adding an integration is a package
// under providers/ and a line here.
package plugins

import (
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/basic"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/providers/script"
	"github.com/waldur-go/waldur/providers/slurm"
)

// All returns the plugins of this build, configured by cfg.
func All(cfg config.Config) plugin.Set {
	return plugin.Set{
		basic.Plugin{},
		script.Plugin{Provider: ScriptProvider(cfg)},
		aws.Plugin{},
		openstack.Plugin{Provider: openstack.New(openstack.Options{})},
		slurm.Plugin{Provider: slurm.New()},
	}
}

// Migrations are every plugin's migrations (their tables do not depend on
// configuration).
func Migrations() []migrations.Migration { return All(config.Default()).Migrations() }

// ScriptProvider is the Script offerings' provider as configured: its
// sandbox, limits and images.
func ScriptProvider(cfg config.Config) script.Provider {
	mode, err := script.ParseMode(cfg.ScriptRunMode)
	if err != nil {
		mode = script.ModeBwrap // Validate refuses it before anything runs
	}
	network, err := script.ParseNetwork(cfg.ScriptNetwork)
	if err != nil {
		network = script.NetworkIsolated
	}
	return script.Provider{
		Timeout: cfg.ScriptTimeout,
		Sandbox: script.Sandbox{
			Mode: mode,
			Limits: script.Limits{
				CPUTime:   cfg.ScriptCPUTime,
				Memory:    int64(cfg.ScriptMemoryMB) << 20,
				Processes: cfg.ScriptProcesses,
				Output:    int64(cfg.ScriptOutputMB) << 20,
				FileSize:  int64(cfg.ScriptFileMB) << 20,
			},
			Images:  cfg.ScriptImages,
			Network: network,
		},
	}
}
