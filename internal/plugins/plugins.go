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
		script.Plugin{Provider: script.FromConfig(cfg)},
		aws.Plugin{},
		openstack.Plugin{Provider: openstack.New(openstack.Options{})},
		slurm.Plugin{Provider: slurm.New()},
	}
}

// Migrations are every plugin's migrations (their tables do not depend on
// configuration).
func Migrations() []migrations.Migration { return All(config.Default()).Migrations() }
