package slurm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// TestClusterSyncAllocations: one read, then changes only where accounts
// differ; a dry run reports and changes nothing; a missing account is
// reported, not created.
func TestClusterSyncAllocations(t *testing.T) {
	users := requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	suffix := strings.ReplaceAll(models.NewUUID().String()[:8], "-", "")
	a, b, gone := "itsync_a"+suffix, "itsync_b"+suffix, "itsync_gone"+suffix
	for _, acc := range []string{a, b} {
		t.Cleanup(func() { _, _ = cl.DeleteAccount(context.Background(), acc) })
		_, err := cl.EnsureAccount(ctx, AccountSpec{Name: acc})
		require.NoError(t, err)
	}
	_, err = cl.AddAssociation(ctx, a, users[1])
	require.NoError(t, err)
	_, err = cl.AddAssociation(ctx, b, users[0])
	require.NoError(t, err)
	want := map[string][]string{a: {strings.ToUpper(users[0])}, b: {users[0]}, gone: {users[0]}}

	rep, err := cl.SyncAllocations(ctx, want, true, nil)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Checked)
	require.Equal(t, map[string]AssociationDiff{a: {Missing: []string{users[0]}, Extra: []string{users[1]}}}, rep.Diffs)
	require.Empty(t, rep.Changed, "a dry run changes nothing")
	require.Equal(t, []string{gone}, rep.Missing)
	got, err := cl.Associations(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []string{users[1]}, got)

	var progress []string
	start := time.Now()
	rep, err = cl.SyncAllocations(ctx, want, false, func(acc string) { progress = append(progress, acc) })
	t.Logf("sync of 3 accounts (1 changed): %s", time.Since(start))
	require.NoError(t, err)
	require.Equal(t, map[string]AssociationDiff{a: {Missing: []string{users[0]}, Extra: []string{users[1]}}}, rep.Changed)
	require.Equal(t, []string{a}, progress)
	got, err = cl.Associations(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []string{users[0]}, got)
	_, found, err := cl.GetAccount(ctx, gone)
	require.NoError(t, err)
	require.False(t, found, "a missing account is not created")

	rep, err = cl.SyncAllocations(ctx, want, false, nil)
	require.NoError(t, err)
	require.Empty(t, rep.Diffs, "in step")

	rep, err = cl.SyncAllocations(ctx, map[string][]string{a: {"no such|user"}}, false, nil)
	require.NoError(t, err, "a name Slurm refuses is reported, not retried")
	require.Contains(t, rep.Failed[a], "not a valid SLURM user name")

	u, err := cl.ReadUsage(ctx, []string{a, gone}, time.Now())
	require.NoError(t, err)
	require.True(t, u[a].Exists)
	require.False(t, u[gone].Exists)
	require.Zero(t, u[gone].Total.Jobs)
	_, err = cl.ReadUsage(ctx, []string{"bad name"}, time.Now())
	require.True(t, models.IsCode(err, models.CodeInvalid))
}

// TestClusterImport: a leaf account made outside Waldur is importable
// (Waldur's own customer and project accounts are not) and describes its
// limits in component units; a missing one is a permanent not_found.
func TestClusterImport(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	suffix := strings.ReplaceAll(models.NewUUID().String()[:8], "-", "")
	parent, leaf := "itimp_p"+suffix, "itimp_l"+suffix
	t.Cleanup(func() {
		_, _ = cl.DeleteAccount(context.Background(), leaf)
		_, _ = cl.DeleteAccount(context.Background(), parent)
	})
	require.NoError(t, cl.EnsureAccounts(ctx, AccountSpec{Name: parent, Description: "Physics"},
		AccountSpec{Name: leaf, Parent: parent, Description: "Old Allocation", Organization: "physics"}))
	require.NoError(t, cl.SetLimits(ctx, leaf, Limits{CPU: 600, GPU: 120, Mem: -1}))

	r := providers.Request{OfferingType: OfferingType}
	items, err := p.Importable(ctx, r)
	require.NoError(t, err)
	byID := map[string]providers.ImportableResource{}
	for _, it := range items {
		byID[it.BackendID] = it
		require.False(t, strings.HasPrefix(it.BackendID, DefaultCustomerPrefix) || strings.HasPrefix(it.BackendID, DefaultProjectPrefix), it.BackendID)
	}
	require.Contains(t, byID, leaf)
	require.NotContains(t, byID, parent, "an account with children is not an allocation")
	require.Equal(t, "old allocation; organization physics; parent "+parent, byID[leaf].Description)

	r.BackendID = strings.ToUpper(leaf)
	got, err := p.DescribeImport(ctx, r)
	require.NoError(t, err)
	require.Equal(t, leaf, got.BackendID)
	require.Equal(t, map[string]int64{"cpu": 10, "gpu": 2}, got.Limits, "unlimited memory has no ram limit")
	require.Equal(t, parent, got.Metadata["parent_account"])

	r.BackendID = "itimp_none" + suffix
	_, err = p.DescribeImport(ctx, r)
	var perm *providers.PermanentError
	require.True(t, errors.As(err, &perm), "%v", err)
	require.True(t, models.IsCode(err, models.CodeNotFound))
	r.BackendID = "bad name"
	_, err = p.DescribeImport(ctx, r)
	require.True(t, models.IsCode(err, models.CodeInvalid))

	require.Equal(t, Components, p.AvailableLimits(OfferingType))
}
