package main_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
)

// TestBillingCloseCommand: with a core worker running, `waldur billing
// close` closes a month once (the second run reports it closed already),
// a bad month is one line and status 1, and the worker has created every
// periodic job's schedule.
func TestBillingCloseCommand(t *testing.T) {
	ts := temporaltest.Start(t)
	dir := t.TempDir()
	env := []string{
		config.EnvDatabaseURL + "=" + dbtest.EmptyURL(t, config.SQLite),
		config.EnvTemporalAddress + "=" + ts.Addr,
	}
	out, err := run(t, dir, env, "migrate", "up")
	require.NoError(t, err, out)
	worker := start(t, dir, env, "worker", "--queue", "core")
	defer worker.stop(t)

	out, err = run(t, dir, env, "billing", "close", "--month", "2026-02")
	require.NoError(t, err, out+worker.stderr.String())
	require.Contains(t, out, "2026-02 closed: 0 invoices finalized")
	out, err = run(t, dir, env, "billing", "close", "--month", "2026-02")
	require.NoError(t, err, out)
	require.Contains(t, out, "2026-02 was closed already: nothing changed")

	out, err = run(t, dir, env, "billing", "close", "--month", "2026-13")
	require.Error(t, err)
	require.Len(t, nonEmptyLines(out), 1, out)
	require.Contains(t, out, "YYYY-MM")

	c := ts.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := []string{"waldur-billing-close", "waldur-invoice-refresh", "waldur-stuck-resources", "waldur-project-start-orders",
		"waldur-project-end-termination"}
	for _, id := range want {
		var desc *client.ScheduleDescription
		require.Eventually(t, func() bool {
			desc, err = c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
			return err == nil
		}, 30*time.Second, 100*time.Millisecond, "schedule %s: %v", id, err)
		require.False(t, desc.Schedule.State.Paused, id)
	}
}
