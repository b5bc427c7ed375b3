package main_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/slurm"
)

// TestSlurmCommands: with workers of the core and slurm queues running,
// `waldur slurm associations` reports an allocation whose associations
// differ from its project's members (on the real cluster), --sync makes
// them match, and `waldur slurm pull-usage` records the usage once.
func TestSlurmCommands(t *testing.T) {
	if _, err := exec.LookPath("sacctmgr"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("sacctmgr is not installed (run scripts/slurm-up.sh for a test cluster)")
		}
		t.Fatal("CI is set but sacctmgr is not installed: .ci/run should have run scripts/slurm-up.sh")
	}
	ts := temporaltest.Start(t)
	dir := t.TempDir()
	dsn := dbtest.EmptyURL(t, config.SQLite)
	env := []string{config.EnvDatabaseURL + "=" + dsn, config.EnvTemporalAddress + "=" + ts.Addr}
	out, err := run(t, dir, env, "migrate", "up")
	require.NoError(t, err, out)

	// An allocation whose account has a user no member is, and misses its member.
	ctx := context.Background()
	db, _, err := database.Open(ctx, config.Config{DatabaseURL: dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { database.Close(db) })
	st := store.New(db)
	member := &models.User{Username: "clim" + strings.ReplaceAll(models.NewUUID().String()[:6], "-", ""), Email: "m@example.com", IsActive: true}
	require.NoError(t, st.CreateUser(ctx, member, ""))
	cust := &models.Customer{Name: "Uni"}
	require.NoError(t, st.CreateCustomer(ctx, cust))
	proj := &models.Project{Name: "P"}
	require.NoError(t, st.CreateProject(ctx, proj, cust))
	role, err := st.RoleByName(ctx, models.RoleProjectMember)
	require.NoError(t, err)
	_, err = st.GrantRole(ctx, store.Grant{User: member, Role: role, Scope: proj.Scope(), CustomerID: cust.ID})
	require.NoError(t, err)
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		v["uuid"] = models.NewUUID()
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", v["uuid"]).Scan(&n).Error)
		return n
	}
	cat := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	off := ins("offerings", map[string]any{"name": "Cluster", "customer_id": cust.ID, "category_id": cat, "type": slurm.OfferingType,
		"state": models.OfferingActive, "plugin_options": `{}`, "created": now, "modified": now})
	ins("offering_components", map[string]any{"offering_id": off, "type": "cpu", "name": "CPU", "billing_type": "usage", "measured_unit": "hours"})
	account := "itcli" + strings.ReplaceAll(models.NewUUID().String()[:8], "-", "")
	ins("resources", map[string]any{"name": "alloc", "project_id": proj.ID, "offering_id": off, "state": models.ResourceOK,
		"backend_id": account, "created": now.Add(-time.Hour), "modified": now.Add(-time.Hour)})
	cl := slurm.NewClient(slurm.LocalExecutor{})
	cl.LockFile = slurm.DefaultLockFile
	t.Cleanup(func() { _, _ = cl.DeleteAccount(context.Background(), account) })
	_, err = cl.EnsureAccount(ctx, slurm.AccountSpec{Name: account})
	require.NoError(t, err)
	_, err = cl.AddAssociation(ctx, account, "intruder")
	require.NoError(t, err)

	worker := start(t, dir, env, "worker", "--queue", "core,slurm")
	defer worker.stop(t)
	// The worker creates the slurm-* schedules; paused, they leave the
	// allocation to the commands (they fire on the minute only).
	tc := ts.Client(t)
	for _, id := range []string{"waldur-slurm-membership-events", "waldur-slurm-membership-sync", "waldur-slurm-usage-pull"} {
		require.Eventually(t, func() bool {
			return tc.ScheduleClient().GetHandle(ctx, id).Pause(ctx, client.SchedulePauseOptions{Note: "test"}) == nil
		}, 30*time.Second, 20*time.Millisecond, "schedule %s", id)
	}

	out, err = run(t, dir, env, "slurm", "associations")
	require.NoError(t, err, out+worker.stderr.String())
	require.Contains(t, out, account+" (resource ")
	require.Contains(t, out, "missing "+member.Username+"; extra intruder", out)
	users := func() []string {
		u, err := cl.Associations(ctx, account)
		require.NoError(t, err)
		sort.Strings(u)
		return u
	}
	require.Equal(t, []string{"intruder"}, users(), "the report changes nothing")

	out, err = run(t, dir, env, "slurm", "associations", "--sync")
	require.NoError(t, err, out)
	require.Contains(t, out, "added "+member.Username+"; removed intruder", out)
	require.Equal(t, []string{member.Username}, users())
	out, err = run(t, dir, env, "slurm", "associations")
	require.NoError(t, err, out)
	require.Contains(t, out, "every account is in step with its members", out)

	out, err = run(t, dir, env, "slurm", "pull-usage")
	require.NoError(t, err, out)
	require.Contains(t, out, "1 allocations, 1 recorded, 0 unchanged", out)
	require.Contains(t, out, account+" (resource ")
	require.Contains(t, out, "recorded cpu=0", out)
	out, err = run(t, dir, env, "slurm", "pull-usage")
	require.NoError(t, err, out)
	require.Contains(t, out, "1 allocations, 0 recorded, 1 unchanged", out)

	out, err = run(t, dir, env, "slurm", "pull-usage", "--month", "2026-13")
	require.Error(t, err)
	require.Len(t, nonEmptyLines(out), 1, out)
}
