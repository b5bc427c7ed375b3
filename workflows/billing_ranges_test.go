package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/workflows"
)

// TestCloseMonthAfterInterruption: a close of February 2026 that stopped
// part-way — January registered range by range (one range retried),
// finalized, the future price copied, February's invoices opened and the
// first of its ranges registered — then run again makes the same invoices
// as a close in one go (TestCloseMonth's prices), each item once.
func TestCloseMonthAfterInterruption(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newBillingEnv(t, srv, db)
		ctx := context.Background()
		now := time.Now().UTC()
		second, _ := e.ins("customers", map[string]any{"name": "second", "accounting_start_date": now, "created": now, "modified": now})
		project, _ := e.ins("projects", map[string]any{"name": "q", "customer_id": second, "created": now, "modified": now})
		jan10 := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
		for _, p := range []int64{e.project, project, e.project, project, e.project} { // ids interleave the customers
			e.resource(t, p, models.ResourceOK, jan10)
		}
		jan, feb := billing.Month{Year: 2026, Month: time.January}, billing.Month{Year: 2026, Month: time.February}

		// The interrupted close, step by step, as its activities run them.
		a := &activities.Billing{Store: e.st, BatchSize: 2}
		plan, err := a.PlanRegistration(ctx, jan)
		require.NoError(t, err)
		require.Len(t, plan.Ranges, 3, "five resources, two a range")
		inserted := 0
		for _, r := range plan.Ranges {
			sum, err := a.RegisterRange(ctx, activities.RegisterRangeInput{Month: jan, Range: r})
			require.NoError(t, err)
			inserted += sum.Inserted
		}
		require.Equal(t, 5, inserted)
		retry, err := a.RegisterRange(ctx, activities.RegisterRangeInput{Month: jan, Range: plan.Ranges[0]})
		require.NoError(t, err)
		require.Equal(t, activities.RegisterSummary{Resources: 2, Items: 2}, retry, "a retried range changes nothing")
		require.NoError(t, a.RefreshTotals(ctx, jan))
		finalized, err := a.FinalizeInvoices(ctx, activities.FinalizeInput{Month: feb, Today: now})
		require.NoError(t, err)
		require.Equal(t, 2, finalized)
		_, err = a.CopyFuturePrices(ctx, feb)
		require.NoError(t, err)
		_, err = a.EnsureMonthInvoices(ctx, feb)
		require.NoError(t, err)
		plan, err = a.PlanRegistration(ctx, feb)
		require.NoError(t, err)
		first, err := a.RegisterRange(ctx, activities.RegisterRangeInput{Month: feb, Range: plan.Ranges[0]})
		require.NoError(t, err)
		require.Equal(t, 2, first.Inserted)

		// Run again: it finishes what was left.
		out := e.close(t, "2026-02")
		require.False(t, out.AlreadyClosed)
		require.Zero(t, out.Finalized, "January was finalized already")
		require.Zero(t, out.PricesCopied)
		require.Equal(t, activities.RegisterSummary{Resources: 5, Items: 5, Closed: 5}, out.Past)
		require.Equal(t, activities.RegisterSummary{Resources: 5, Items: 5, Inserted: 3}, out.Current)

		// January: 22 of 31 days at 110 → 78.10 each; February: 120 each.
		for _, c := range []struct {
			customer int64
			m        billing.Month
			want     string
		}{
			{e.customer, jan, "created 234.30"}, {second, jan, "created 156.20"},
			{e.customer, feb, "pending 360.00"}, {second, feb, "pending 240.00"},
		} {
			inv, err := e.st.InvoiceFor(ctx, c.customer, c.m)
			require.NoError(t, err)
			require.Equal(t, c.want, string(inv.State)+" "+inv.TotalPrice.StringFixed(2), "%d %s", c.customer, c.m)
		}
		var items, distinct int64
		require.NoError(t, db.Table("invoice_items").Count(&items).Error)
		require.NoError(t, db.Raw(`SELECT COUNT(*) FROM (SELECT DISTINCT invoice_id, resource_id, item_key FROM invoice_items) d`).
			Scan(&distinct).Error)
		require.Equal(t, [2]int64{10, 10}, [2]int64{items, distinct}, "each resource's item once a month")

		// The hourly refresh finds nothing to change.
		ctx2, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		run, err := e.c.ExecuteWorkflow(ctx2, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
			workflows.RefreshInvoices, workflows.RefreshInvoicesInput{Month: feb})
		require.NoError(t, err)
		var sum activities.RegisterSummary
		require.NoError(t, run.Get(ctx2, &sum))
		require.Equal(t, activities.RegisterSummary{Resources: 5, Items: 5}, sum)
	})
}
