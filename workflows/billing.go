package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models/billing"
)

// BillingCloseSchedule closes the month at 01:00 UTC on the 1st (Waldur's
// create_monthly_invoices beat runs at 00:00): an hour's grace lets the
// last usage of the month arrive first — the hourly Slurm pull at :05 and
// two cycles of a site agent's 30-minute usage report — since a closed
// month takes no more usage.
var BillingCloseSchedule = Schedule{
	ID:        "waldur-billing-close",
	Cron:      "0 1 1 * *",
	Workflow:  CloseMonth,
	Args:      []any{CloseMonthInput{}},
	TaskQueue: QueueCore,
	Note:      "Finalizes last month's invoices (credits, created or paid), copies future prices, opens this month's invoices.",
}

// InvoiceRefreshSchedule re-registers every billable resource of the
// current month and refreshes invoice totals hourly (Waldur's
// update-invoices-total-cost, plus catching anything an order or usage
// report did not register).
var InvoiceRefreshSchedule = Schedule{
	ID:        "waldur-invoice-refresh",
	Cron:      "20 * * * *",
	Workflow:  RefreshInvoices,
	Args:      []any{RefreshInvoicesInput{}},
	TaskQueue: QueueCore,
	Note:      "Recomputes this month's invoice items from resource histories and usage, and the invoice totals.",
}

// BillingDispatchSchedule drains the billing outbox every minute: the
// resources a done order or a usage report marked get their invoice items
// registered (so an order's completion does not wait for billing).
var BillingDispatchSchedule = Schedule{
	ID:        "waldur-billing-dispatch",
	Cron:      "* * * * *",
	Workflow:  BillingDispatch,
	TaskQueue: QueueCore,
	Note:      "Registers the invoice items of resources changed by done orders and usage reports (the billing outbox).",
}

// BillingDispatch registers the billing outbox, batch by batch, until it
// is empty; it returns how many resources it registered.
func BillingDispatch(ctx workflow.Context) (int, error) {
	ctx = billingOptions(ctx)
	var a *activities.Billing
	month := billing.MonthOf(workflow.Now(ctx))
	total := 0
	for i := 0; i < 1000; i++ { // bounded history; the next run continues
		var n int
		if err := workflow.ExecuteActivity(ctx, a.RegisterDirty, month).Get(ctx, &n); err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			break
		}
	}
	return total, nil
}

// RegisterBilling registers the billing workflows and activities on a
// core-queue worker.
func RegisterBilling(w worker.Registry, a *activities.Billing) {
	w.RegisterWorkflow(CloseMonth)
	w.RegisterWorkflow(RefreshInvoices)
	w.RegisterWorkflow(BillingDispatch)
	w.RegisterActivity(a)
}

// billingOptions: every billing step is idempotent, so it is retried until
// the database answers again; batches are bounded and heartbeat.
func billingOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    20,
		},
	})
}

// CloseMonthInput is the input of CloseMonth.
type CloseMonthInput struct {
	// Month is the month that begins; zero means the month of the
	// workflow's start (a scheduled run at 00:00 on the 1st).
	Month billing.Month
}

// CloseMonthResult is what CloseMonth did.
type CloseMonthResult struct {
	Month billing.Month
	// AlreadyClosed: the month had been closed; nothing was done.
	AlreadyClosed bool
	// Finalized are the invoices of earlier months finalized.
	Finalized int
	// PricesCopied are the plan components whose future price became current.
	PricesCopied int64
	// InvoicesCreated are the invoices opened for the month.
	InvoicesCreated int
	// Past is the final registration of the months finalized; Current that of the month opened.
	Past, Current activities.RegisterSummary
}

// CloseMonthWorkflowID is the ID of a close started by hand.
func CloseMonthWorkflowID(month billing.Month) string { return "billing-close-" + month.String() }

// CloseMonth is the monthly close (Waldur's create_monthly_invoices):
//
//  1. the months before Month that still have pending invoices, and the
//     month just ended in any case, are
//     registered a last time from the resources' histories and their
//     invoices finalized: credits and minimal consumption, then created
//     (paid for a fixed-price payment profile) with today's date;
//  2. future prices become current (once per month);
//  3. every customer gets an invoice for Month, and every billable
//     resource its items from the month's start;
//  4. the month is recorded closed.
//
// Finalizing comes before the price copy so a past month is never priced
// with the new prices. Every step is idempotent and the month's record
// makes a second close a no-op, whether started by the schedule or by
// `waldur billing close`.
func CloseMonth(ctx workflow.Context, in CloseMonthInput) (CloseMonthResult, error) {
	ctx = billingOptions(ctx)
	var a *activities.Billing
	month := in.Month
	if month.IsZero() {
		month = billing.MonthOf(workflow.Now(ctx))
	}
	out := CloseMonthResult{Month: month}
	if err := workflow.ExecuteActivity(ctx, a.MonthClosed, month).Get(ctx, &out.AlreadyClosed); err != nil || out.AlreadyClosed {
		return out, err
	}
	var past []billing.Month
	if err := workflow.ExecuteActivity(ctx, a.PendingMonths, month).Get(ctx, &past); err != nil {
		return out, err
	}
	// The month just ended is registered even when nothing opened its
	// invoices yet (a finalized invoice ignores registration).
	if len(past) == 0 || past[len(past)-1] != month.Prev() {
		past = append(past, month.Prev())
	}
	for _, pm := range past {
		sum, err := registerAll(ctx, pm)
		if err != nil {
			return out, err
		}
		out.Past = add(out.Past, sum)
		if err := workflow.ExecuteActivity(ctx, a.RefreshTotals, pm).Get(ctx, nil); err != nil {
			return out, err
		}
	}
	fin := activities.FinalizeInput{Month: month, Today: workflow.Now(ctx)}
	if err := workflow.ExecuteActivity(ctx, a.FinalizeInvoices, fin).Get(ctx, &out.Finalized); err != nil {
		return out, err
	}
	var copied activities.CopyFuturePricesResult
	if err := workflow.ExecuteActivity(ctx, a.CopyFuturePrices, month).Get(ctx, &copied); err != nil {
		return out, err
	}
	out.PricesCopied = copied.Copied
	if err := workflow.ExecuteActivity(ctx, a.EnsureMonthInvoices, month).Get(ctx, &out.InvoicesCreated); err != nil {
		return out, err
	}
	sum, err := registerAll(ctx, month)
	if err != nil {
		return out, err
	}
	out.Current = sum
	if err := workflow.ExecuteActivity(ctx, a.RefreshTotals, month).Get(ctx, nil); err != nil {
		return out, err
	}
	if err := workflow.ExecuteActivity(ctx, a.MarkMonthClosed, month).Get(ctx, nil); err != nil {
		return out, err
	}
	workflow.GetLogger(ctx).Info("month closed", "month", month, "finalized", out.Finalized,
		"invoices_created", out.InvoicesCreated, "items", out.Current.Items)
	return out, nil
}

// registerAll registers every billable resource of a month: split by
// customer into ranges of a batch each (PlanRegistration), run as separate
// activities, a few at once (RegisterRange). Histories begun before the
// change (no "billing-parallel-registration" marker) go on batch by batch.
func registerAll(ctx workflow.Context, month billing.Month) (activities.RegisterSummary, error) {
	if workflow.GetVersion(ctx, "billing-parallel-registration", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return registerBatches(ctx, month)
	}
	var a *activities.Billing
	var total activities.RegisterSummary
	var plan activities.RegistrationPlan
	if err := workflow.ExecuteActivity(ctx, a.PlanRegistration, month).Get(ctx, &plan); err != nil {
		return total, err
	}
	sel := workflow.NewSelector(ctx)
	var failed error
	next, running := 0, 0
	start := func() {
		f := workflow.ExecuteActivity(ctx, a.RegisterRange, activities.RegisterRangeInput{Month: month, Range: plan.Ranges[next]})
		next++
		running++
		sel.AddFuture(f, func(f workflow.Future) {
			running--
			var s activities.RegisterSummary
			if err := f.Get(ctx, &s); err != nil {
				if failed == nil {
					failed = err
				}
				return
			}
			total = add(total, s)
		})
	}
	for running > 0 || next < len(plan.Ranges) {
		for failed == nil && running < max(plan.Parallel, 1) && next < len(plan.Ranges) {
			start()
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	return total, failed
}

// registerBatches registers every billable resource of a month, batch by
// batch in id order (the close and refresh before parallel ranges).
func registerBatches(ctx workflow.Context, month billing.Month) (activities.RegisterSummary, error) {
	var a *activities.Billing
	var total activities.RegisterSummary
	after := int64(0)
	for {
		var b activities.RegisterBatchResult
		if err := workflow.ExecuteActivity(ctx, a.RegisterBatch, activities.RegisterBatchInput{Month: month, AfterID: after}).Get(ctx, &b); err != nil {
			return total, err
		}
		total = add(total, b.Summary)
		if b.Done {
			return total, nil
		}
		after = b.LastID
	}
}

func add(a, b activities.RegisterSummary) activities.RegisterSummary { return a.Add(b) }

// RefreshInvoicesInput is the input of RefreshInvoices.
type RefreshInvoicesInput struct {
	// Month is the month to refresh; zero means the current month.
	Month billing.Month
}

// RefreshInvoices registers every billable resource of the month again
// and refreshes the month's invoice totals; it returns what changed
// (nothing, when every order and usage report registered itself).
func RefreshInvoices(ctx workflow.Context, in RefreshInvoicesInput) (activities.RegisterSummary, error) {
	ctx = billingOptions(ctx)
	var a *activities.Billing
	month := in.Month
	if month.IsZero() {
		month = billing.MonthOf(workflow.Now(ctx))
	}
	sum, err := registerAll(ctx, month)
	if err != nil {
		return sum, err
	}
	return sum, workflow.ExecuteActivity(ctx, a.RefreshTotals, month).Get(ctx, nil)
}

// StartCloseMonth starts (or joins, when one is running) the close of
// month by hand and waits for its result: `waldur billing close`.
func StartCloseMonth(ctx context.Context, c client.Client, month string) (CloseMonthResult, error) {
	m, err := billing.ParseMonth(month)
	if err != nil {
		return CloseMonthResult{}, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       CloseMonthWorkflowID(m),
		TaskQueue:                QueueCore,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, CloseMonth, CloseMonthInput{Month: m})
	if err != nil {
		return CloseMonthResult{}, fmt.Errorf("start %s: %w", CloseMonthWorkflowID(m), err)
	}
	var out CloseMonthResult
	err = run.Get(ctx, &out)
	return out, err
}
