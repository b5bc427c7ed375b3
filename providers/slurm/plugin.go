// Package slurm is the SLURM integration: SlurmInvoices.SlurmPackage
// offerings (Waldur's direct SLURM plugin), as one plugin (Plugin).
//
// The backend half reads no database. A worker on queue "slurm" runs
// Slurm's accounting commands (sacctmgr, sacct, squeue, scancel) on its own
// host or, when the offering says so, over SSH on the cluster's head node:
//
//	provider.go, naming.go  the providers.Provider (orders on the "slurm" queue)
//	sacct.go, sacct_usage.go, exec.go, ssh.go  the cluster client
//	sync.go, import.go      associations in step with members; imports
//
// Every account of Waldur's hierarchy (customer → project → allocation,
// named by Naming) and every association is managed by "check, then
// change, then read back": running any operation twice is a no-op, and a
// write slurmdbd silently lost is reported instead of trusted. Commands
// run with --parsable2 --noheader (and --immediate for sacctmgr); a
// failing command's stderr is in the returned error (CommandError).
//
// The core half is where the database is:
//
//	activities.go  the usage pull's and the association sync's activities:
//	               Activities on the core queue, ClusterActivities on the
//	               "slurm" queue
//	workflows.go   SlurmUsagePull, SlurmMembershipSync,
//	               SlurmFollowMembership, SlurmResourceSync and their
//	               Schedules (core queue)
//	commands.go    `waldur slurm associations|pull-usage`
//	plugin.go      Plugin: what the platform gets
//
// The cluster activities run on the "slurm" queue, where the cluster is
// reachable, and read the offering's options (an SSH key among them) from
// the database themselves, so they never travel in the workflows'
// histories.
package slurm

import (
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/workflows"
)

// Plugin is the SLURM integration: SlurmInvoices.SlurmPackage, its usage
// pull, association sync, schedules and commands.
type Plugin struct {
	// Provider serves the orders and the cluster activities alike (one
	// client, one write lock per cluster); New() makes one.
	Provider *Provider
}

var (
	_ plugin.Plugin    = Plugin{}
	_ plugin.Workers   = Plugin{}
	_ plugin.Scheduled = Plugin{}
	_ plugin.Commander = Plugin{}
)

// Name implements plugin.Plugin.
func (Plugin) Name() string { return Queue }

// Providers implements plugin.Plugin: SlurmInvoices.SlurmPackage on queue
// "slurm", billed in whole units (Register).
func (p Plugin) Providers(r *providers.Registry) { Register(r, p.Provider) }

// Schedules implements plugin.Scheduled.
func (Plugin) Schedules() []workflows.Schedule { return SlurmSchedules }

// Workers implements plugin.Workers: the cluster side (usage, associations)
// where the cluster is reachable, with the orders' provider; the workflows
// and database activities on core.
func (p Plugin) Workers(d plugin.Deps) []plugin.Worker {
	return []plugin.Worker{
		{Queue: Queue, Register: func(w worker.Registry) {
			RegisterSlurmCluster(w, &ClusterActivities{Provider: p.Provider, Store: d.Store()})
		}},
		{Queue: workflows.QueueCore, Register: func(w worker.Registry) {
			RegisterSlurm(w, &Activities{Store: d.Store()})
		}},
	}
}

// Commands implements plugin.Commander: `waldur slurm`.
func (Plugin) Commands(cfg *config.Config) []*cobra.Command { return []*cobra.Command{Command(cfg)} }
