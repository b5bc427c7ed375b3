package plugins

// Adapters for the integrations whose code still lives across the
// platform's folders (activities/, workflows/, models/store/, api/,
// migrations/): each is the plugin value its package will export once the
// code moves into providers/<name>/, at which point its adapter here goes.

import (
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows"
)

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
