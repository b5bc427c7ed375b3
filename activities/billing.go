package activities

import (
	"context"
	"runtime"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// Billing holds the invoice activities: registering resources' items,
// finalizing months, copying future prices, refreshing totals, and the
// periodic scan-and-fix jobs on resources and orders.
type Billing struct {
	Store *store.Store
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
	// BatchSize is how many resources one registration batch handles (0: 2000).
	BatchSize int
	// Parallel is how many registration ranges the monthly close and the
	// refresh run at once (0: on PostgreSQL the worker's CPUs, at least 2
	// and at most 4; on SQLite 1, as its writers take turns anyway).
	Parallel int
}

func (a *Billing) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Billing) batch() int {
	if a.BatchSize > 0 {
		return a.BatchSize
	}
	return 2000
}

// month is m, or the current month for the zero Month.
func (a *Billing) month(m billing.Month) billing.Month {
	if m.IsZero() {
		return billing.MonthOf(a.now())
	}
	return m
}

// RegisterResourceInput is the input of RegisterResource.
type RegisterResourceInput struct {
	ResourceUUID models.UUID
	// Month is the month of the items; zero means the current month.
	Month billing.Month
}

// RegisterSummary counts what a registration changed.
type RegisterSummary struct {
	Resources, Items, Inserted, Updated, Deleted, Closed int
}

// Add sums two summaries.
func (s RegisterSummary) Add(o RegisterSummary) RegisterSummary {
	return RegisterSummary{Resources: s.Resources + o.Resources, Items: s.Items + o.Items, Inserted: s.Inserted + o.Inserted,
		Updated: s.Updated + o.Updated, Deleted: s.Deleted + o.Deleted, Closed: s.Closed + o.Closed}
}

func summary(r store.RegisterResult) RegisterSummary {
	return RegisterSummary{Resources: r.Resources, Items: r.Items, Inserted: r.Inserted, Updated: r.Updated, Deleted: r.Deleted, Closed: r.Closed}
}

// RegisterResource (re)computes one resource's invoice items for a month
// from its history (store.RegisterResource) and refreshes its invoice's
// total. Idempotent; the order workflow calls it after an order is done
// and the usage endpoints after usage is reported. A resource that no
// longer exists is a non-retryable error.
func (a *Billing) RegisterResource(ctx context.Context, in RegisterResourceInput) (RegisterSummary, error) {
	m := a.month(in.Month)
	res, err := a.Store.RegisterResource(ctx, in.ResourceUUID, m)
	return summary(res), classify(err)
}

// RegisterBatchInput is the input of RegisterBatch.
type RegisterBatchInput struct {
	Month   billing.Month
	AfterID int64 // resources with a greater id
}

// RegisterBatchResult is a batch's outcome; Done when no resource was left.
type RegisterBatchResult struct {
	LastID  int64
	Done    bool
	Summary RegisterSummary
}

// RegisterBatch registers the next batch of billable resources of a month
// (ids after AfterID) without refreshing invoice totals (RefreshTotals does
// that once at the end). Each batch is one transaction and idempotent.
func (a *Billing) RegisterBatch(ctx context.Context, in RegisterBatchInput) (RegisterBatchResult, error) {
	m := a.month(in.Month)
	ids, err := a.Store.BillableResourceIDs(ctx, m, in.AfterID, a.batch())
	if err != nil {
		return RegisterBatchResult{}, err
	}
	if len(ids) == 0 {
		return RegisterBatchResult{LastID: in.AfterID, Done: true}, nil
	}
	res, err := a.Store.RegisterResources(ctx, m, ids, false)
	if err != nil {
		return RegisterBatchResult{}, err
	}
	return RegisterBatchResult{LastID: ids[len(ids)-1], Done: len(ids) < a.batch(), Summary: summary(res)}, nil
}

// RegistrationPlan splits a month's registration into ranges that may run
// at once (RegisterRange), Parallel of them at a time.
type RegistrationPlan struct {
	Ranges   []store.ResourceRange
	Parallel int
}

// PlanRegistration splits the billable resources of a month into ranges of
// one batch each, by customer (store.BillableResourceRanges), and says how
// many to run at once. Read-only.
func (a *Billing) PlanRegistration(ctx context.Context, month billing.Month) (RegistrationPlan, error) {
	m := a.month(month)
	ranges, err := a.Store.BillableResourceRanges(ctx, m, a.batch())
	if err != nil {
		return RegistrationPlan{}, err
	}
	p := a.Parallel
	switch {
	case p > 0:
	case a.Store.DB.Dialector.Name() != "postgres":
		p = 1
	default:
		p = min(max(runtime.NumCPU(), 2), 4)
	}
	return RegistrationPlan{Ranges: ranges, Parallel: p}, nil
}

// RegisterRangeInput is the input of RegisterRange.
type RegisterRangeInput struct {
	Month billing.Month
	Range store.ResourceRange
}

// RegisterRange registers the billable resources of a month in one range,
// a batch per transaction (more than one when resources were added since
// the plan), without refreshing invoice totals (RefreshTotals does that
// once at the end); it heartbeats the key reached. Idempotent, like each
// batch: a retry registers the range again and changes nothing already
// done. Ranges of one month may run at once.
func (a *Billing) RegisterRange(ctx context.Context, in RegisterRangeInput) (RegisterSummary, error) {
	m := a.month(in.Month)
	var sum RegisterSummary
	after := in.Range.After
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		// A retry goes on after the last batch the failed attempt committed.
		var k store.ResourceKey
		if activity.GetHeartbeatDetails(ctx, &k) == nil {
			after = k
		}
	}
	for {
		keys, err := a.Store.BillableResourceKeys(ctx, m, in.Range, after, a.batch())
		if err != nil || len(keys) == 0 {
			return sum, err
		}
		ids := make([]int64, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		res, err := a.Store.RegisterResources(ctx, m, ids, false)
		if err != nil {
			return sum, err
		}
		sum = sum.Add(summary(res))
		after = keys[len(keys)-1]
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, after)
		}
		if len(keys) < a.batch() || (in.Range.To != nil && after == *in.Range.To) {
			return sum, nil
		}
	}
}

// RegisterDirty registers one batch of the billing outbox for the month
// ("YYYY-MM") and returns its size (0: the outbox is empty).
func (a *Billing) RegisterDirty(ctx context.Context, month billing.Month) (int, error) {
	m := a.month(month)
	n, err := a.Store.RegisterDirtyResources(ctx, m, a.batch())
	return n, classify(err)
}

// RefreshTotals recomputes the cached totals of a month's invoices.
func (a *Billing) RefreshTotals(ctx context.Context, month billing.Month) error {
	m := a.month(month)
	return a.Store.RefreshInvoiceTotals(ctx, m, nil)
}

// MonthClosed reports whether the close of a month has finished.
func (a *Billing) MonthClosed(ctx context.Context, month billing.Month) (bool, error) {
	m := a.month(month)
	return a.Store.MonthClosed(ctx, m)
}

// MarkMonthClosed records that the close of a month finished.
func (a *Billing) MarkMonthClosed(ctx context.Context, month billing.Month) error {
	m := a.month(month)
	return a.Store.MarkMonthClosed(ctx, m)
}

// PendingMonths lists the months before month that still have pending
// invoices: those the close of month finalizes.
func (a *Billing) PendingMonths(ctx context.Context, month billing.Month) ([]billing.Month, error) {
	return a.Store.PendingInvoiceMonths(ctx, a.month(month))
}

// CopyFuturePricesResult is what CopyFuturePrices did.
type CopyFuturePricesResult struct {
	Copied  int64
	Already bool
}

// CopyFuturePrices copies future prices to prices once for the month.
func (a *Billing) CopyFuturePrices(ctx context.Context, month billing.Month) (CopyFuturePricesResult, error) {
	m := a.month(month)
	n, already, err := a.Store.CopyFuturePrices(ctx, m)
	return CopyFuturePricesResult{Copied: n, Already: already}, err
}

// FinalizeInput is the input of FinalizeInvoices.
type FinalizeInput struct {
	// Month is the month that begins; its earlier pending invoices are finalized.
	Month billing.Month
	// Today is the invoice date (the close's scheduled time).
	Today time.Time
}

// FinalizeInvoices finalizes every pending invoice of the months before
// Month (credits, then created or paid; store.FinalizeInvoices), 500 at a
// time, heartbeating the count; it returns how many it finalized.
func (a *Billing) FinalizeInvoices(ctx context.Context, in FinalizeInput) (int, error) {
	m := a.month(in.Month)
	ids, err := a.Store.PendingInvoiceIDs(ctx, m)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, chunk := range chunks(ids, 500) {
		done, err := a.Store.FinalizeInvoices(ctx, chunk, in.Today)
		n += done
		if err != nil {
			return n, err
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, n)
		}
	}
	return n, nil
}

// EnsureMonthInvoices gives every customer that is not archived an
// invoice for the month; it returns how many it created.
func (a *Billing) EnsureMonthInvoices(ctx context.Context, month billing.Month) (int, error) {
	m := a.month(month)
	return a.Store.EnsureMonthInvoices(ctx, m)
}

// StuckAfter is how long a resource may sit in a transitional state with
// no order in flight before MarkStuckResources sets it Erred.
const StuckAfter = time.Hour

// MarkStuckResources sets Erred the resources stuck in Creating, Updating
// or Terminating for longer than StuckAfter with no order in flight, and
// returns how many.
func (a *Billing) MarkStuckResources(ctx context.Context) (int, error) {
	before := a.now().Add(-StuckAfter)
	n := 0
	for {
		ids, err := a.Store.StuckResourceIDs(ctx, before, 500)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		progress := false
		for _, id := range ids {
			changed, err := a.Store.MarkResourceStuck(ctx, id, before)
			if err != nil {
				return n, err
			}
			if changed {
				n++
				progress = true
			}
		}
		if !progress {
			return n, nil
		}
	}
}

func chunks(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
