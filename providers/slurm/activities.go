package slurm

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// The SLURM integration around the provider's orders: usage pulled from
// sacct into component usages and invoice items, associations kept in step
// with the members of each allocation's project, and the association
// report. Activities runs the database side on the core queue and
// ClusterActivities the cluster side on the "slurm" queue, where the
// cluster is reachable.

// Activities holds the database side of the SLURM integration (core queue).
type Activities struct {
	Store *store.Store
	// Temporal starts the per-resource syncs (nil: the activity's client).
	Temporal client.Client
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
	// SyncWorkflow is the workflow StartSlurmSyncs starts per resource, by
	// name or function (nil: RegisterSlurm sets SlurmResourceSync).
	SyncWorkflow any
	// SyncQueue is where the per-resource syncs run (the core queue).
	SyncQueue string
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// ClusterActivities holds the cluster side of the SLURM integration: it runs on
// the "slurm" queue, next to the cluster (or with SSH to it). It reads each
// offering's options (an SSH key among them) from the database itself, so
// they never travel in the workflows' histories.
type ClusterActivities struct {
	Provider *Provider
	Store    *store.Store
}

// cluster is the client of the batch's offering's cluster.
func (a *ClusterActivities) cluster(ctx context.Context, b SlurmBatch) (*Cluster, error) {
	opts, err := a.Store.OfferingsOptions(ctx, []int64{b.OfferingID})
	if err != nil {
		return nil, err
	}
	o, ok := opts[b.OfferingID]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("offering %s is gone", b.OfferingUUID), string(models.CodeNotFound), nil)
	}
	cl, err := a.Provider.Cluster(o.PluginOptions, o.SecretOptions)
	if err != nil {
		return nil, activities.ProviderError(err)
	}
	return cl, nil
}

// Resource states the integration works on.
var (
	// SlurmSyncStates have associations kept in step.
	SlurmSyncStates = []models.ResourceState{models.ResourceOK, models.ResourceUpdating, models.ResourceErred}
	// SlurmUsageStates have their usage pulled (Erred ones recover to OK
	// when their account is there, as Waldur's pull does).
	SlurmUsageStates = []models.ResourceState{models.ResourceOK, models.ResourceUpdating, models.ResourceTerminating, models.ResourceErred}
)

// SlurmAllocation is one allocation (a resource of a SlurmInvoices
// offering) with its account and, for syncs, the users it should have.
type SlurmAllocation struct {
	ResourceUUID models.UUID
	ResourceName string
	State        models.ResourceState
	Account      string
	// Usernames should have an association (valid Slurm user names, sorted).
	Usernames []string
	// Invalid are members whose account name Slurm would refuse (left out).
	Invalid []string `json:",omitempty"`
}

// SlurmBatch is one offering's allocations (the cluster activities read
// the offering's options by OfferingID).
type SlurmBatch struct {
	OfferingID   int64
	OfferingUUID models.UUID
	OfferingName string
	Allocations  []SlurmAllocation
	// ListedAt is when the database was read: a resource changed later is
	// left to the next run.
	ListedAt time.Time
}

// SlurmAllocationsInput selects allocations.
type SlurmAllocationsInput struct {
	States []models.ResourceState
	// Resources and Offerings narrow the selection (empty: all).
	Resources []models.UUID
	Offerings []models.UUID
	// Members adds the users who should have associations.
	Members bool
}

// SlurmAllocations lists the allocations with a backend id (an account),
// grouped by offering. Backend ids that are not account names are left
// out. Codes: internal (retried).
func (a *Activities) SlurmAllocations(ctx context.Context, in SlurmAllocationsInput) ([]SlurmBatch, error) {
	listed := a.now()
	rs, err := a.Store.IntegratedResources(ctx, store.BackendResourceFilter{OfferingTypes: []string{OfferingType},
		States: in.States, WithBackendID: true, Resources: in.Resources, Offerings: in.Offerings})
	if err != nil {
		return nil, err
	}
	return a.batches(ctx, rs, in.Members, listed)
}

func (a *Activities) batches(ctx context.Context, rs []store.BackendResourceOf, members bool, listed time.Time) ([]SlurmBatch, error) {
	ids := make([]int64, 0, len(rs))
	offIDs := []int64{}
	seenOff := map[int64]bool{}
	for _, r := range rs {
		ids = append(ids, r.ID)
		if !seenOff[r.OfferingID] {
			seenOff[r.OfferingID] = true
			offIDs = append(offIDs, r.OfferingID)
		}
	}
	opts, err := a.Store.OfferingsOptions(ctx, offIDs)
	if err != nil {
		return nil, err
	}
	var mem map[int64][]store.MemberAccount
	if members {
		if mem, err = a.Store.ResourceMembers(ctx, ids); err != nil {
			return nil, err
		}
	}
	byOffering := map[int64]*SlurmBatch{}
	var out []*SlurmBatch
	for _, r := range rs {
		account, err := AccountOf(r.BackendID)
		if err != nil {
			activity.GetLogger(ctx).Warn("SLURM resource with a backend id that is not an account name", "resource", r.UUID, "backend_id", r.BackendID)
			continue
		}
		b := byOffering[r.OfferingID]
		if b == nil {
			o := opts[r.OfferingID]
			b = &SlurmBatch{OfferingID: r.OfferingID, OfferingUUID: r.OfferingUUID, OfferingName: o.Name, ListedAt: listed}
			byOffering[r.OfferingID] = b
			out = append(out, b)
		}
		al := SlurmAllocation{ResourceUUID: r.UUID, ResourceName: r.Name, State: r.State, Account: account}
		if members {
			al.Usernames, al.Invalid = SlurmUsernames(mem[r.ID])
		}
		b.Allocations = append(b.Allocations, al)
	}
	res := make([]SlurmBatch, len(out))
	for i, b := range out {
		res[i] = *b
	}
	return res, nil
}

// SlurmUsernames are the Slurm user names of the members (their offering
// account's username, else their platform username), lower case, sorted,
// without duplicates; names Slurm would refuse (e-mail addresses, say) are
// returned apart.
func SlurmUsernames(ms []store.MemberAccount) (valid, invalid []string) {
	seen := map[string]bool{}
	for _, m := range ms {
		n, err := NormalizeUsername(m.AccountName())
		if err != nil {
			invalid = append(invalid, m.AccountName())
			continue
		}
		if !seen[n] {
			seen[n] = true
			valid = append(valid, n)
		}
	}
	sort.Strings(valid)
	sort.Strings(invalid)
	if valid == nil {
		valid = []string{}
	}
	return valid, invalid
}

// SlurmEventCursor is where SlurmMembershipEvents left off: events created
// at or after Since, except those in Seen, are still to be looked at.
type SlurmEventCursor struct {
	Since time.Time
	Seen  []int64
}

// SlurmEventScan is what SlurmMembershipEvents found.
type SlurmEventScan struct {
	Events    int
	Resources []models.UUID
	Cursor    SlurmEventCursor
}

// Membership event handling: which events move which allocations.
const (
	// slurmEventOverlap is how far back each scan looks again, for events
	// whose transaction committed after a later-numbered one was seen.
	slurmEventOverlap = 2 * time.Minute
	// slurmFirstLookBack is how far back the first scan looks.
	slurmFirstLookBack = 10 * time.Minute
	slurmEventBatch    = 2000
)

// SlurmMembershipEventTypes change who should have an association: a role
// granted or revoked (in a project, or in a customer: all its projects),
// an allocation created or imported, an offering account (username)
// created, changed or deleted.
var SlurmMembershipEventTypes = []string{"role_granted", "role_revoked", "marketplace_resource_create_succeeded",
	"marketplace_offering_user_created", "marketplace_offering_user_updated", "marketplace_offering_user_deleted"}

// SlurmMembershipEvents reads the membership events after the cursor and
// returns the allocations (OK, Updating or Erred, with an account) they
// concern, and the cursor to continue from.
func (a *Activities) SlurmMembershipEvents(ctx context.Context, cur SlurmEventCursor) (SlurmEventScan, error) {
	now := a.now()
	since := cur.Since
	if since.IsZero() {
		since = now.Add(-slurmFirstLookBack)
	}
	evs, err := a.Store.EventsSince(ctx, SlurmMembershipEventTypes, since, slurmEventBatch)
	if err != nil {
		return SlurmEventScan{}, err
	}
	seen := map[int64]bool{}
	for _, id := range cur.Seen {
		seen[id] = true
	}
	var fresh []store.EventRecord
	for _, ev := range evs {
		if !seen[ev.ID] {
			fresh = append(fresh, ev)
		}
	}
	// The next scan starts a little before now (or, when this one was
	// cut short, at the last event read), skipping what was seen.
	next := now.Add(-slurmEventOverlap)
	if len(evs) == slurmEventBatch {
		next = evs[len(evs)-1].Created
	}
	if next.Before(since) {
		next = since
	}
	out := SlurmEventScan{Events: len(fresh), Cursor: SlurmEventCursor{Since: next}}
	for _, ev := range evs {
		if !ev.Created.Before(next) {
			out.Cursor.Seen = append(out.Cursor.Seen, ev.ID)
		}
	}
	if len(fresh) == 0 {
		return out, nil
	}
	ids := make([]int64, len(fresh))
	for i, ev := range fresh {
		ids[i] = ev.ID
	}
	feeds, err := a.Store.EventFeeds(ctx, ids)
	if err != nil {
		return SlurmEventScan{}, err
	}
	base := store.BackendResourceFilter{OfferingTypes: []string{OfferingType}, States: SlurmSyncStates, WithBackendID: true}
	var projects, customers []int64
	var resources []models.UUID
	touched := map[models.UUID]bool{}
	add := func(rs []store.BackendResourceOf) {
		for _, r := range rs {
			if !touched[r.UUID] {
				touched[r.UUID] = true
				out.Resources = append(out.Resources, r.UUID)
			}
		}
	}
	for _, ev := range fresh {
		c := ev.ContextMap()
		switch ev.EventType {
		case "role_granted", "role_revoked":
			scopeType, _ := c["scope_type"].(string)
			for _, sc := range feeds[ev.ID] {
				if string(sc.Type) != scopeType {
					continue
				}
				switch sc.Type {
				case models.ScopeProject:
					projects = append(projects, sc.ID)
				case models.ScopeCustomer:
					customers = append(customers, sc.ID)
				}
			}
		case "marketplace_resource_create_succeeded":
			if id, err := models.ParseUUID(fmt.Sprint(c["resource_uuid"])); err == nil {
				resources = append(resources, id)
			}
		default: // offering accounts: the user's allocations on that offering
			off, err1 := models.ParseUUID(fmt.Sprint(c["offering_uuid"]))
			user, err2 := models.ParseUUID(fmt.Sprint(c["affected_user_uuid"]))
			if err1 != nil || err2 != nil {
				continue
			}
			f := base
			f.Offerings, f.MemberUserUUID = []models.UUID{off}, &user
			rs, err := a.Store.IntegratedResources(ctx, f)
			if err != nil {
				return SlurmEventScan{}, err
			}
			add(rs)
		}
	}
	if len(projects) > 0 || len(customers) > 0 {
		f := base
		f.ProjectIDs, f.CustomerIDs = projects, customers
		rs, err := a.Store.IntegratedResources(ctx, f)
		if err != nil {
			return SlurmEventScan{}, err
		}
		add(rs)
	}
	if len(resources) > 0 {
		f := base
		f.Resources = resources
		rs, err := a.Store.IntegratedResources(ctx, f)
		if err != nil {
			return SlurmEventScan{}, err
		}
		add(rs)
	}
	return out, nil
}

// SlurmSyncSignal is the signal that asks a resource's sync workflow for
// (another) sync.
const SlurmSyncSignal = "sync"

// SlurmResourceSyncWorkflowID is the sync workflow of one allocation: one
// at a time per resource.
func SlurmResourceSyncWorkflowID(id models.UUID) string { return "slurm-sync-" + id.String() }

// SlurmResourceSyncInput is the input of the per-resource sync workflow.
type SlurmResourceSyncInput struct {
	ResourceUUID models.UUID
	// Queue is the task queue of the cluster activities ("" = slurm).
	Queue string
}

// StartSlurmSyncs asks each resource's sync workflow for a sync, starting
// it when it is not running (signal-with-start): a sync requested while
// one runs makes it sync once more when done. It returns how many it
// signalled, heartbeating every 50.
func (a *Activities) StartSlurmSyncs(ctx context.Context, ids []models.UUID) (int, error) {
	c := a.Temporal
	if c == nil {
		c = activity.GetClient(ctx)
	}
	if a.SyncWorkflow == nil || a.SyncQueue == "" {
		return 0, temporal.NewNonRetryableApplicationError("the SLURM sync workflow is not configured", "Misconfigured", nil)
	}
	n := 0
	for _, id := range ids {
		_, err := c.SignalWithStartWorkflow(ctx, SlurmResourceSyncWorkflowID(id), SlurmSyncSignal, nil,
			client.StartWorkflowOptions{TaskQueue: a.SyncQueue}, a.SyncWorkflow, SlurmResourceSyncInput{ResourceUUID: id})
		if err != nil {
			return n, fmt.Errorf("signal %s: %w", SlurmResourceSyncWorkflowID(id), err)
		}
		n++
		if n%50 == 0 {
			activity.RecordHeartbeat(ctx, n)
		}
	}
	return n, nil
}

// SlurmSyncInput is the input of the association activities.
type SlurmSyncInput struct {
	Batch SlurmBatch
	// DryRun only reports (the association report).
	DryRun bool
}

// SlurmSyncResult is an offering's association sync or report.
type SlurmSyncResult struct {
	OfferingUUID models.UUID
	SyncReport
	// Resources maps the accounts of the report back to their resources.
	Resources map[string]models.UUID
	// Invalid are member names left out because Slurm refuses them, by account.
	Invalid map[string][]string `json:",omitempty"`
}

// SlurmSyncAssociations makes (or, with DryRun, reports how) the
// associations of the batch's accounts differ from the users that should
// have them, heartbeating after each account changed. A failure a retry
// may fix fails the activity after the other accounts are done.
func (a *ClusterActivities) SlurmSyncAssociations(ctx context.Context, in SlurmSyncInput) (SlurmSyncResult, error) {
	out := SlurmSyncResult{OfferingUUID: in.Batch.OfferingUUID, Resources: map[string]models.UUID{}, Invalid: map[string][]string{}}
	cl, err := a.cluster(ctx, in.Batch)
	if err != nil {
		return out, err
	}
	want := map[string][]string{}
	for _, al := range in.Batch.Allocations {
		want[al.Account] = append(want[al.Account], al.Usernames...)
		out.Resources[al.Account] = al.ResourceUUID
		if len(al.Invalid) > 0 {
			out.Invalid[al.Account] = al.Invalid
		}
	}
	rep, err := cl.SyncAllocations(ctx, want, in.DryRun, func(account string) { activity.RecordHeartbeat(ctx, account) })
	out.SyncReport = rep
	if err != nil {
		return out, activities.ProviderError(Classify(err))
	}
	return out, nil
}

// SlurmUsageInput is the input of SlurmReadUsage.
type SlurmUsageInput struct {
	Batch SlurmBatch
	Month billing.Month
}

// SlurmUsageReport is one offering's usage of a month, by account.
type SlurmUsageReport struct {
	Month    billing.Month
	Accounts map[string]UsageReading
}

// SlurmReadUsage reads the month's usage of the batch's accounts from
// sacct (and whether each account exists). The month's window is
// [first day 00:00, next month 00:00) in the cluster's local time.
func (a *ClusterActivities) SlurmReadUsage(ctx context.Context, in SlurmUsageInput) (SlurmUsageReport, error) {
	m := in.Month
	cl, err := a.cluster(ctx, in.Batch)
	if err != nil {
		return SlurmUsageReport{}, err
	}
	accounts := make([]string, 0, len(in.Batch.Allocations))
	seen := map[string]bool{}
	for _, al := range in.Batch.Allocations {
		if !seen[al.Account] {
			seen[al.Account] = true
			accounts = append(accounts, al.Account)
		}
	}
	activity.RecordHeartbeat(ctx, "reading")
	got, err := cl.ReadUsage(ctx, accounts, m.Start())
	if err != nil {
		return SlurmUsageReport{}, activities.ProviderError(Classify(err))
	}
	return SlurmUsageReport{Month: m, Accounts: got}, nil
}

// RecordSlurmUsageInput is the input of RecordSlurmUsage.
type RecordSlurmUsageInput struct {
	Batch  SlurmBatch
	Report SlurmUsageReport
}

// SlurmUsageOutcome is what RecordSlurmUsage did with one allocation.
type SlurmUsageOutcome struct {
	ResourceUUID models.UUID
	Account      string
	// Outcome: recorded (usage changed and invoice items registered),
	// unchanged, skipped (refused: Message says why), erred (the account is
	// gone: the resource was marked Erred).
	Outcome string
	Message string `json:",omitempty"`
	// Recovered: the resource was Erred and its account is there: it is OK again.
	Recovered bool                       `json:",omitempty"`
	Usage     map[string]decimal.Decimal `json:",omitempty"`
}

// RecordSlurmUsageResult lists the outcomes, one per allocation.
type RecordSlurmUsageResult struct {
	Month    billing.Month
	Outcomes []SlurmUsageOutcome
}

// Count returns how many allocations had the outcome.
func (r RecordSlurmUsageResult) Count(outcome string) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Outcome == outcome {
			n++
		}
	}
	return n
}

// RecordSlurmUsage records a usage report: per allocation, the cpu, gpu and
// ram usage of the month (the components the offering has) as component
// usages (store.SetUsage: replaced, never added) with the usage of each
// user, then the resource's invoice items of the month (RegisterResource).
// Running it again with the same report changes nothing (unchanged usage
// is not reported again). An OK resource whose account is gone is marked
// Erred; an Erred one whose account is there is OK again (both only if
// unchanged since the batch was listed). A usage the store refuses (closed
// month, limit) is skipped with the reason. It heartbeats per allocation.
func (a *Activities) RecordSlurmUsage(ctx context.Context, in RecordSlurmUsageInput) (RecordSlurmUsageResult, error) {
	m := in.Report.Month
	comps, err := a.Store.ComponentsOf(ctx, []int64{in.Batch.OfferingID})
	if err != nil {
		return RecordSlurmUsageResult{}, err
	}
	has := map[string]bool{}
	for _, c := range comps[in.Batch.OfferingID] {
		has[c.Type] = true
	}
	out := RecordSlurmUsageResult{Month: m}
	for _, al := range in.Batch.Allocations {
		o, err := a.recordOne(ctx, in.Batch, al, in.Report.Accounts[al.Account], m, has)
		if err != nil {
			return out, err
		}
		out.Outcomes = append(out.Outcomes, o)
		activity.RecordHeartbeat(ctx, len(out.Outcomes))
	}
	return out, nil
}

func (a *Activities) recordOne(ctx context.Context, b SlurmBatch, al SlurmAllocation, r UsageReading, m billing.Month,
	has map[string]bool) (SlurmUsageOutcome, error) {
	o := SlurmUsageOutcome{ResourceUUID: al.ResourceUUID, Account: al.Account}
	if r.Account == "" {
		o.Outcome, o.Message = "skipped", "not in the usage report"
		return o, nil
	}
	state := al.State
	switch {
	case !r.Exists && state == models.ResourceOK:
		err := a.Store.MarkErredOnBackend(ctx, al.ResourceUUID, b.ListedAt, fmt.Sprintf("SLURM account %s does not exist on the cluster.", al.Account))
		if models.IsCode(err, models.CodeConflict) || models.IsCode(err, models.CodeNotFound) {
			o.Outcome, o.Message = "skipped", "the resource changed meanwhile"
			return o, nil
		}
		if err != nil {
			return o, err
		}
		o.Outcome, o.Message = "erred", "the account does not exist on the cluster"
		return o, nil
	case !r.Exists:
		o.Outcome, o.Message = "skipped", "the account does not exist on the cluster"
		return o, nil
	case state == models.ResourceErred:
		err := a.Store.MarkOKOnBackend(ctx, al.ResourceUUID, b.ListedAt)
		switch {
		case err == nil:
			o.Recovered = true
		case models.IsCode(err, models.CodeConflict):
			// Moved on since the listing (or recovered by an earlier
			// attempt of this activity): usage is taken in the states
			// SetUsage accepts, and refused in the others below.
		case models.IsCode(err, models.CodeNotFound):
			o.Outcome, o.Message = "skipped", "the resource is gone"
			return o, nil
		default:
			return o, err
		}
	}
	total := r.Total.Components()
	var items []store.UsageItem
	o.Usage = map[string]decimal.Decimal{}
	for _, c := range Components {
		if has[c] {
			items = append(items, store.UsageItem{Type: c, Amount: total[c]})
			o.Usage[c] = total[c]
		}
	}
	if len(items) == 0 {
		o.Outcome, o.Message = "skipped", "the offering has none of the components cpu, gpu, ram"
		return o, nil
	}
	before, err := a.Store.ComponentUsagesOf(ctx, al.ResourceUUID, m.Start())
	if err != nil {
		return o, err
	}
	changed := false
	for _, it := range items {
		if cu, ok := before[it.Type]; !ok || !cu.Usage.Equal(it.Amount) {
			changed = true
		}
	}
	if changed {
		date := a.now()
		if !m.Contains(date) {
			date = m.End()
		}
		err := a.Store.SetUsage(ctx, store.SetUsageInput{ResourceUUID: al.ResourceUUID, Date: date, Items: items})
		if models.IsCode(err, models.CodeInvalid) || models.IsCode(err, models.CodeNotFound) {
			o.Outcome, o.Message = "skipped", activities.AppMessage(err)
			return o, nil
		}
		if err != nil {
			return o, err
		}
	}
	after, err := a.Store.ComponentUsagesOf(ctx, al.ResourceUUID, m.Start())
	if err != nil {
		return o, err
	}
	for _, it := range items {
		cu, ok := after[it.Type]
		if !ok || len(r.Users) == 0 {
			continue
		}
		var uu []store.UserUsageInput
		for _, name := range r.Usernames() {
			uu = append(uu, store.UserUsageInput{Username: name, Usage: r.Users[name].Components()[it.Type]})
		}
		if err := a.Store.SetUserUsages(ctx, cu.UUID, uu); err != nil {
			return o, err
		}
	}
	if !changed && !o.Recovered {
		o.Outcome = "unchanged"
		return o, nil
	}
	if _, err := a.Store.RegisterResource(ctx, al.ResourceUUID, m); err != nil {
		return o, err
	}
	o.Outcome = "recorded"
	return o, nil
}
