package plugins

// Adapters for the integrations whose code still lives across the
// platform's folders (activities/, workflows/, models/store/, api/,
// migrations/): each is the plugin value its package will export once the
// code moves into providers/<name>/, at which point its adapter here goes.

import (
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	awsapi "github.com/waldur-go/waldur/api/aws"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows"
)

// awsPlugin is AWS.Instance and AWS.Volume.
type awsPlugin struct{}

func (awsPlugin) Name() string                       { return "aws" }
func (awsPlugin) Providers(r *providers.Registry)    { aws.Register(r) }
func (awsPlugin) Module(d plugin.APIDeps) api.Module { return awsapi.New(awsapi.Deps{Store: d.Store}) }
func (awsPlugin) Schedules() []workflows.Schedule {
	return []workflows.Schedule{workflows.AWSCatalogPullSchedule, workflows.AWSStatePullSchedule}
}

func (awsPlugin) Workers(d plugin.Deps) []plugin.Worker {
	// The pulls: their workflows on core, their activities where AWS is reachable.
	p := &aws.Provider{}
	return []plugin.Worker{
		{Queue: aws.Queue, Register: func(w worker.Registry) {
			workflows.RegisterAWSActivities(w, &activities.AWS{Store: d.Store(), Provider: p})
		}},
		{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
			workflows.RegisterAWS(w, &activities.AWS{Store: d.Store(), Provider: p})
		}},
	}
}

func (awsPlugin) ScopeKeepers(*store.Store) map[string]activities.ScopeKeeper { return nil }
func (awsPlugin) ImportKeepers(*store.Store) map[string]activities.ImportKeeper {
	return activities.AWSImportKeepers()
}

// slurmPlugin is SlurmInvoices.SlurmPackage (Waldur's direct SLURM plugin).
type slurmPlugin struct{ p *slurm.Provider }

func newSlurmPlugin() slurmPlugin { return slurmPlugin{p: slurm.New()} }

func (slurmPlugin) Name() string                      { return "slurm" }
func (s slurmPlugin) Providers(r *providers.Registry) { slurm.Register(r, s.p) }
func (slurmPlugin) Schedules() []workflows.Schedule {
	return []workflows.Schedule{workflows.SlurmUsagePullSchedule, workflows.SlurmMembershipSyncSchedule,
		workflows.SlurmMembershipEventsSchedule}
}

func (s slurmPlugin) Workers(d plugin.Deps) []plugin.Worker {
	return []plugin.Worker{
		// The cluster side (usage, associations) where the cluster is
		// reachable, with the same provider (one client, one write lock
		// per cluster) as the orders.
		{Queue: slurm.Queue, Register: func(w worker.Registry) {
			workflows.RegisterSlurmCluster(w, &activities.SlurmCluster{Provider: s.p, Store: d.Store()})
		}},
		{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
			workflows.RegisterSlurm(w, &activities.Slurm{Store: d.Store()})
		}},
	}
}
