// Package plugin is the contract between the platform and an integration
// (a plugin: a cloud, a cluster, Script, Basic, …) and the set of plugins
// a build serves.
//
// A plugin is one package under providers/. It tells the platform, through
// one value registered in one list (internal/plugins), everything it adds:
// the offering types it serves with their providers, task queues and
// capabilities (Plugin.Providers); and, optionally, the workflows and
// activities it runs on its queues (Workers), its /api/<name>-* routes
// (Routes), its Schedules (Scheduled), its tables (Migrated), the
// database side of its orders and imports (Keepers), sub-commands of the
// binary (Commander) and start-up checks (Checker). Everything the
// platform asks about an offering type it asks the Set, never the type's
// name.
//
// The two halves stay apart: the backend half (the providers.Provider, its
// client code and the activities on the plugin's queue) reads no database;
// the core half (store code, keepers, routes, the workflows and activities
// on the core queue) is where the database is. They are separate files of
// the plugin's package, or two sub-packages. docs/writing-a-provider.md
// walks through a minimal plugin.
package plugin

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sort"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// Plugin is one integration.
type Plugin interface {
	// Name is the plugin's name: its package under providers/, the prefix
	// of its routes.
	Name() string
	// Providers registers the offering types it serves: each with its
	// provider (the backend half), task queue and capabilities
	// (providers.Registry.RegisterWith).
	Providers(r *providers.Registry)
}

// Deps are what a plugin's core half gets from the process.
type Deps struct {
	// DB returns the application database. A worker builds its
	// registrations before it opens the database, so a Worker's Register
	// calls it when the worker starts, not before.
	DB  func() *gorm.DB
	Log *slog.Logger
	// Providers is the registry of the whole build.
	Providers *providers.Registry
}

// Store is the store on the application database (see DB).
func (d Deps) Store() *store.Store { return store.New(d.DB()) }

// Worker is a registration on one task queue.
type Worker struct {
	Queue    string
	Register func(w worker.Registry)
}

// Workers is a plugin that runs workflows or activities of its own (pulls,
// syncs) besides its providers' order activities, which the platform
// registers for every queue.
type Workers interface {
	Workers(d Deps) []Worker
}

// APIDeps are what a plugin's routes get.
type APIDeps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Temporal starts the workflows of the plugin's actions (nil: none
	// reachable; an action's outbox keeps it until a dispatcher starts it).
	Temporal client.Client
}

// Routes is a plugin that serves /api/<name>-* routes.
type Routes interface {
	Module(d APIDeps) api.Module
}

// Scheduled is a plugin with periodic jobs (Schedules with stable IDs,
// created at start-up by the process that runs the core queue).
type Scheduled interface {
	Schedules() []workflows.Schedule
}

// Migrated is a plugin with tables of its own; its migrations are applied
// with the platform's, in one order of versions.
type Migrated interface {
	Migrations() []migrations.Migration
}

// Keepers is a plugin whose resources have rows of its own (a cloud's
// tenant): the database side of its orders and imports, on the core queue.
type Keepers interface {
	// ScopeKeepers are the keepers of its orders' plugin resources, by
	// offering type.
	ScopeKeepers(st *store.Store) map[string]activities.ScopeKeeper
	// ImportKeepers are the database side of its imports, by offering type
	// (nil: none).
	ImportKeepers(st *store.Store) map[string]activities.ImportKeeper
}

// OrderCheck checks a Create order of one offering type against what the
// plugin's core half records (a cloud tenant's quotas) before it is
// accepted: an error refuses the order (models.CodeInvalid: a 400 with the
// message) and nothing is created; the order preview shows the same
// refusal. It writes nothing.
type OrderCheck func(ctx context.Context, o *store.NewOrder) error

// OrderChecker is a plugin that checks Create orders of its offering types
// before they are accepted (OrderCheck).
type OrderChecker interface {
	// OrderChecks are its checks, by offering type.
	OrderChecks(st *store.Store) map[string]OrderCheck
}

// Commander is a plugin with sub-commands of the waldur binary (`waldur
// slurm associations`, a test double's server). They read cfg when
// they run (flags are parsed by then).
type Commander interface {
	Commands(cfg *config.Config) []*cobra.Command
}

// Checker is a plugin that checks, when a process that serves its queues
// starts, that its work can run there (a sandbox, a tool on the PATH). It
// logs what it finds — a warning, an error — and never stops the process:
// orders that cannot run fail with a message saying why.
type Checker interface {
	CheckStartup(ctx context.Context, log *slog.Logger)
}

// Set is the plugins of a build, in the order they were listed.
type Set []Plugin

// Providers is the registry of every offering type the set serves.
func (s Set) Providers() *providers.Registry {
	r := providers.NewRegistry()
	for _, p := range s {
		p.Providers(r)
	}
	return r
}

// Workers are the set's own registrations, by queue.
func (s Set) Workers(d Deps) []Worker {
	var out []Worker
	for _, p := range s {
		if w, ok := p.(Workers); ok {
			out = append(out, w.Workers(d)...)
		}
	}
	return out
}

// Modules are the set's API modules.
func (s Set) Modules(d APIDeps) []api.Module {
	var out []api.Module
	for _, p := range s {
		if r, ok := p.(Routes); ok {
			out = append(out, r.Module(d))
		}
	}
	return out
}

// Schedules are the set's periodic jobs.
func (s Set) Schedules() []workflows.Schedule {
	var out []workflows.Schedule
	for _, p := range s {
		if sc, ok := p.(Scheduled); ok {
			out = append(out, sc.Schedules()...)
		}
	}
	return out
}

// Migrations are the set's migrations, by version.
func (s Set) Migrations() []migrations.Migration {
	var out []migrations.Migration
	for _, p := range s {
		if m, ok := p.(Migrated); ok {
			out = append(out, m.Migrations()...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// Commands are the set's sub-commands.
func (s Set) Commands(cfg *config.Config) []*cobra.Command {
	var out []*cobra.Command
	for _, p := range s {
		if c, ok := p.(Commander); ok {
			out = append(out, c.Commands(cfg)...)
		}
	}
	return out
}

// CheckStartup runs the start-up checks of the plugins that serve any of
// queues (nil: every plugin).
func (s Set) CheckStartup(ctx context.Context, log *slog.Logger, queues []string) {
	for _, p := range s {
		c, ok := p.(Checker)
		if !ok {
			continue
		}
		r := providers.NewRegistry()
		p.Providers(r)
		if queues == nil || slices.ContainsFunc(r.Queues(), func(q string) bool { return slices.Contains(queues, q) }) {
			c.CheckStartup(ctx, log)
		}
	}
}

// ScopeKeepers are the set's scope keepers, by offering type.
func (s Set) ScopeKeepers(st *store.Store) map[string]activities.ScopeKeeper {
	out := map[string]activities.ScopeKeeper{}
	for _, p := range s {
		if k, ok := p.(Keepers); ok {
			maps.Copy(out, k.ScopeKeepers(st))
		}
	}
	return out
}

// ImportKeepers are the set's import keepers, by offering type.
func (s Set) ImportKeepers(st *store.Store) map[string]activities.ImportKeeper {
	out := map[string]activities.ImportKeeper{}
	for _, p := range s {
		if k, ok := p.(Keepers); ok {
			maps.Copy(out, k.ImportKeepers(st))
		}
	}
	return out
}

// OrderCheck is the set's check of a Create order of an offering type
// (OrderChecker): nil for a type no plugin checks.
func (s Set) OrderCheck(st *store.Store) func(ctx context.Context, offeringType string, o *store.NewOrder) error {
	checks := map[string]OrderCheck{}
	for _, p := range s {
		if c, ok := p.(OrderChecker); ok {
			maps.Copy(checks, c.OrderChecks(st))
		}
	}
	return func(ctx context.Context, offeringType string, o *store.NewOrder) error {
		if check, ok := checks[offeringType]; ok {
			return check(ctx, o)
		}
		return nil
	}
}
