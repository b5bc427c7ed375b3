// Package aws is the AWS integration: EC2 instances (AWS.Instance) and EBS
// volumes (AWS.Volume), through aws-sdk-go-v2, as one plugin (Plugin).
//
// The backend half reads no database:
//
//	aws.go, attributes.go  the providers.Provider (orders on the "aws" queue)
//	client.go              the EC2 client and an offering's Config
//	catalog.go, import.go  the catalog, instance and volume listings; imports
//	mototest/              moto for the tests
//
// The core half is where the database is:
//
//	migration.go           its tables (migration 11)
//	store.go               the pulls' rows and their sync
//	store_query.go         the API's lists and retrieves: filters, and what
//	                       a caller may see
//	pull.go, workflow.go   the pulls: AWSPull on the core queue, its
//	                       activities (Activities) on the "aws" queue
//	import_keeper.go       the database side of imports
//	api.go, api_instances.go  /api/aws-regions|images|sizes|instances/
//	plugin.go              Plugin: what the platform gets
//
// The pull activities run on the "aws" queue, where AWS is reachable, and
// read the offering's options (credentials among them) from the database
// themselves, so they never travel in the workflows' histories; they write
// what they read there too.
package aws

import (
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/workflows"
)

// Plugin is the AWS integration: AWS.Instance and AWS.Volume, their pulls,
// routes, tables and import keepers.
type Plugin struct{}

var (
	_ plugin.Plugin    = Plugin{}
	_ plugin.Workers   = Plugin{}
	_ plugin.Routes    = Plugin{}
	_ plugin.Scheduled = Plugin{}
	_ plugin.Migrated  = Plugin{}
	_ plugin.Keepers   = Plugin{}
)

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Queue }

// Providers implements plugin.Plugin.
func (Plugin) Providers(r *providers.Registry) { Register(r) }

// Module implements plugin.Routes.
func (Plugin) Module(d plugin.APIDeps) api.Module { return NewAPI(APIDeps{Store: d.Store}) }

// Schedules implements plugin.Scheduled.
func (Plugin) Schedules() []workflows.Schedule {
	return []workflows.Schedule{CatalogPullSchedule, StatePullSchedule}
}

// Migrations implements plugin.Migrated.
func (Plugin) Migrations() []migrations.Migration { return []migrations.Migration{migration11} }

// Workers implements plugin.Workers: the pulls' workflow on core, their
// activities where AWS is reachable.
func (Plugin) Workers(d plugin.Deps) []plugin.Worker {
	p := &Provider{}
	return []plugin.Worker{
		{Queue: Queue, Register: func(w worker.Registry) {
			RegisterQueue(w, &Activities{Store: d.Store(), Provider: p})
		}},
		{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
			RegisterCore(w, &Activities{Store: d.Store(), Provider: p})
		}},
	}
}

// ScopeKeepers implements plugin.Keepers: AWS orders need none.
func (Plugin) ScopeKeepers(*store.Store) map[string]activities.ScopeKeeper { return nil }

// ImportKeepers implements plugin.Keepers.
func (Plugin) ImportKeepers(*store.Store) map[string]activities.ImportKeeper {
	return map[string]activities.ImportKeeper{OfferingInstance: ImportKeeper{}, OfferingVolume: ImportKeeper{}}
}
