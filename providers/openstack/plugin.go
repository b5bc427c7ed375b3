package openstack

import (
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/workflows"
)

// Plugin is the OpenStack integration (plugin.Plugin): OpenStack.Tenant,
// Instance and Volume on the openstack queue, performed by Provider (set
// it: New), whose sessions the pull's backend activity shares; the pull
// (its workflow and database side on the core queue, every ten minutes);
// the /api/openstack-* routes and the objects' actions; the tables
// (migrations 13, 22, 23, 24, 28 and 31); the keepers of
// its orders' and imports' rows; `waldur openstack-emulator`.
type Plugin struct {
	Provider *Provider
}

var (
	_ plugin.Plugin    = Plugin{}
	_ plugin.Workers   = Plugin{}
	_ plugin.Routes    = Plugin{}
	_ plugin.Scheduled = Plugin{}
	_ plugin.Migrated  = Plugin{}
	_ plugin.Keepers   = Plugin{}
	_ plugin.Commander = Plugin{}
)

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Queue }

// Providers implements plugin.Plugin.
func (p Plugin) Providers(r *providers.Registry) { Register(r, p.Provider) }

// Workers implements plugin.Workers: the pull's cloud side on the openstack
// queue, with the provider (and its sessions) of the orders; its workflow
// and database side on the core queue.
func (p Plugin) Workers(d plugin.Deps) []plugin.Worker {
	return []plugin.Worker{
		{Queue: Queue, Register: func(w worker.Registry) {
			registerBackend(w, &PullBackend{Provider: p.Provider})
			registerActionBackend(w, &ActionBackend{Provider: p.Provider})
			w.RegisterActivity(&MigrationBackend{Provider: p.Provider})
		}},
		{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
			registerCore(w, &PullCore{Store: NewStore(d.Store())})
			registerActions(w, &ActionCore{Store: NewStore(d.Store())})
			registerMigrations(w, &MigrationCore{Store: NewStore(d.Store())})
		}},
	}
}

// Module implements plugin.Routes: /api/openstack-*.
func (Plugin) Module(d plugin.APIDeps) api.Module { return newRoutes(d) }

// Schedules implements plugin.Scheduled: the pull.
func (Plugin) Schedules() []workflows.Schedule {
	return []workflows.Schedule{PullSchedule, ActionDispatchSchedule}
}

// Migrations implements plugin.Migrated.
func (Plugin) Migrations() []migrations.Migration {
	return []migrations.Migration{migration(), migrationActions(), migrationL3(), migrationStorage(), migrationZones(), migrationMigrations()}
}

// ScopeKeepers implements plugin.Keepers.
func (Plugin) ScopeKeepers(st *store.Store) map[string]activities.ScopeKeeper {
	return keepers(&Keeper{Store: NewStore(st)})
}

// ImportKeepers implements plugin.Keepers.
func (Plugin) ImportKeepers(st *store.Store) map[string]activities.ImportKeeper {
	return importKeepers(&Keeper{Store: NewStore(st)})
}

// Commands implements plugin.Commander.
func (Plugin) Commands(*config.Config) []*cobra.Command { return []*cobra.Command{emulatorCommand()} }
