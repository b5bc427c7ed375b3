package plugins_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/script"
)

// TestTheBuildsPlugins: the offering types, queues and capabilities this
// build serves, as the plugin list gives them.
func TestTheBuildsPlugins(t *testing.T) {
	set := plugins.All(config.Default())
	r := set.Providers()
	require.Equal(t, []string{"AWS.Instance", "AWS.Volume", models.OfferingBasic, script.OfferingType, models.OfferingSlurm,
		"OpenStack.Instance", "OpenStack.Tenant", "OpenStack.Volume", "SlurmInvoices.SlurmPackage"}, r.Types())
	require.Equal(t, []string{"agent", "aws", "basic", "openstack", "script", "slurm"}, r.Queues())
	basic, _ := r.Capabilities(models.OfferingBasic)
	require.True(t, basic.ManualCompletion && basic.Cancelable && !basic.AgentDriven)
	agent, _ := r.Capabilities(models.OfferingSlurm)
	require.True(t, agent.ManualCompletion && agent.AgentDriven && !agent.Cancelable)
	// SLURM bills whole hours of usage; the billing reads it from the registrations.
	sl, _ := r.Capabilities("SlurmInvoices.SlurmPackage")
	require.True(t, sl.WholeUsageUnits && !agent.WholeUsageUnits)
	require.True(t, billing.WholeUsageUnits("SlurmInvoices.SlurmPackage"))
	require.False(t, billing.WholeUsageUnits(models.OfferingSlurm))
	scripted, _ := r.Capabilities(script.OfferingType)
	require.Equal(t, providers.Capabilities{Pull: true}, scripted, "scripts finish their orders themselves; the pull script refreshes a resource")

	ids := map[string]bool{}
	for _, s := range set.Schedules() {
		require.False(t, ids[s.ID], "schedule %s twice", s.ID)
		ids[s.ID] = true
	}
	// The plugins' migrations and the platform's share one order of versions.
	seen := map[int64]bool{}
	for _, m := range append(migrations.All(), plugins.Migrations()...) {
		require.False(t, seen[m.Version], "migration %d twice", m.Version)
		seen[m.Version] = true
	}
}
