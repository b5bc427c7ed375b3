package plugin_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/fake"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/workflows"
)

// minimal is the smallest plugin: one offering type, nothing else.
type minimal struct{}

func (minimal) Name() string { return "minimal" }
func (minimal) Providers(r *providers.Registry) {
	r.Register(&fake.Provider{}, "minimal", "Minimal.Thing")
}

// full adds a worker, a schedule and a migration.
type full struct{}

func (full) Name() string { return "full" }
func (full) Providers(r *providers.Registry) {
	r.RegisterWith(&fake.Provider{}, "full", providers.Capabilities{Cancelable: true}, "Full.A", "Full.B")
}
func (full) Workers(plugin.Deps) []plugin.Worker {
	return []plugin.Worker{{Queue: "full", Register: func(worker.Registry) {}}}
}
func (full) Schedules() []workflows.Schedule {
	return []workflows.Schedule{{ID: "waldur-full-pull", Cron: "0 * * * *"}}
}
func (full) Migrations() []migrations.Migration {
	return []migrations.Migration{{Version: 9001, Name: "full_b"}, {Version: 9000, Name: "full_a"}}
}

func TestSet(t *testing.T) {
	set := plugin.Set{minimal{}, full{}}
	r := set.Providers()
	require.Equal(t, []string{"Full.A", "Full.B", "Minimal.Thing"}, r.Types())
	require.Equal(t, []string{"full", "minimal"}, r.Queues())
	caps, ok := r.Capabilities("Full.B")
	require.True(t, ok)
	require.True(t, caps.Cancelable)
	require.Len(t, set.Workers(plugin.Deps{}), 1)
	require.Equal(t, "waldur-full-pull", set.Schedules()[0].ID)
	ms := set.Migrations()
	require.Equal(t, []int64{9000, 9001}, []int64{ms[0].Version, ms[1].Version}, "in version order")
	require.Empty(t, set.Modules(plugin.APIDeps{}), "no plugin here serves routes")
	require.Empty(t, set.ScopeKeepers(nil))
	require.Panics(t, func() { plugin.Set{full{}, full{}}.Providers() }, "an offering type served twice")
}
