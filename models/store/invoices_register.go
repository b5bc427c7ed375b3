package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// RegisterResult counts what a registration changed.
type RegisterResult struct {
	// Resources is how many resources were registered; Items how many
	// items they have in the month.
	Resources, Items           int
	Inserted, Updated, Deleted int
	// Closed counts resources whose invoice for the month is no longer
	// pending (finalized): left as they are.
	Closed int
	// Invoices are the ids of the invoices touched.
	Invoices []int64
}

// Add sums two results.
func (r *RegisterResult) Add(o RegisterResult) {
	r.Resources += o.Resources
	r.Items += o.Items
	r.Inserted += o.Inserted
	r.Updated += o.Updated
	r.Deleted += o.Deleted
	r.Closed += o.Closed
	r.Invoices = append(r.Invoices, o.Invoices...)
}

// billedResource is a resource with what its items carry.
type billedResource struct {
	ID            int64
	UUID          models.UUID
	Name          string
	State         models.ResourceState
	PlanID        *int64
	Limits        []byte
	Created       time.Time
	ProjectID     int64
	ProjectUUID   models.UUID
	ProjectName   string
	CustomerID    int64
	OfferingID    int64
	OfferingUUID  models.UUID
	OfferingName  string
	OfferingType  string
	Billable      bool
	PluginOptions []byte
	ProviderName  string
	ProviderUUID  *models.UUID
}

type billedOrder struct {
	ID          int64
	ResourceID  int64
	Type        models.OrderType
	PlanID      *int64
	Limits      []byte
	CompletedAt *time.Time
	Modified    time.Time
}

func (o *billedOrder) at() time.Time {
	if o.CompletedAt != nil {
		return *o.CompletedAt
	}
	return o.Modified
}

type billedUsage struct {
	ResourceID  int64
	ComponentID int64
	Usage       decimal.Decimal
	Description string
	PlanID      *int64
	Start       *time.Time
	End         *time.Time `gorm:"column:end"`
}

// loadPlans reads plans with their components, by id.
func (s *Store) loadPlans(ctx context.Context, ids []int64) (map[int64]*billing.Plan, error) {
	out := map[int64]*billing.Plan{}
	if len(ids) == 0 {
		return out, nil
	}
	db := s.DB.WithContext(ctx)
	var ps []struct {
		ID          int64
		UUID        models.UUID
		Name        string
		Unit        models.PlanUnit
		UnitPrice   decimal.Decimal
		ArticleCode string
	}
	if err := db.Table("plans").Select("id, uuid, name, unit, unit_price, article_code").Where("id IN ?", ids).Scan(&ps).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, p := range ps {
		out[p.ID] = &billing.Plan{ID: p.ID, UUID: p.UUID, Name: p.Name, Unit: p.Unit, UnitPrice: p.UnitPrice, ArticleCode: p.ArticleCode}
	}
	var cs []struct {
		PlanID       int64
		Amount       int64
		Price        decimal.Decimal
		ID           int64
		Type         string
		Name         string
		MeasuredUnit string
		ArticleCode  string
		BillingType  models.BillingType
		LimitPeriod  *string
		UnitFactor   decimal.Decimal
	}
	err := db.Table("plan_components pc").Select(`pc.plan_id, pc.amount, pc.price, oc.id, oc.type, oc.name, oc.measured_unit,
		oc.article_code, oc.billing_type, oc.limit_period, oc.unit_factor`).
		Joins("JOIN offering_components oc ON oc.id = pc.component_id").Where("pc.plan_id IN ?", ids).Order("oc.id").Scan(&cs).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, c := range cs {
		p := out[c.PlanID]
		if p == nil {
			continue
		}
		comp := billing.Component{ID: c.ID, Type: c.Type, Name: c.Name, MeasuredUnit: c.MeasuredUnit, ArticleCode: c.ArticleCode,
			BillingType: c.BillingType, UnitFactor: c.UnitFactor, Amount: c.Amount, Price: c.Price}
		if c.LimitPeriod != nil {
			comp.LimitPeriod = models.LimitPeriod(*c.LimitPeriod)
		}
		p.Components = append(p.Components, comp)
	}
	return out, nil
}

func limitsOf(raw []byte) map[string]int64 {
	var m map[string]int64
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

// prorateLimits reads an offering's plugin_options.prorate_limits.
func prorateLimits(raw []byte) bool {
	var opts struct {
		ProrateLimits any `json:"prorate_limits"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &opts) != nil {
		return false
	}
	switch v := opts.ProrateLimits.(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "True" || v == "1"
	}
	return false
}

// history turns a resource's done orders into its billing changes: the
// create order activates it (at its completion) on the order's plan and
// limits; an update order switches the plan when its plan differs from the
// one in force, else sets the limits it carries; the terminate order ends
// it. A resource in use that never became OK through a create order
// (imported, a failed creation kept, or made before orders were recorded)
// is adopted from the start of the month after it was created, on its
// current plan and limits (Waldur bills from the Creating → OK move only;
// others join the next month's invoice).
func history(r *billedResource, orders []billedOrder) []billing.Change {
	var out []billing.Change
	var plan int64
	active := false
	for _, o := range orders {
		switch o.Type {
		case models.OrderCreate:
			if o.PlanID == nil || active {
				continue
			}
			plan, active = *o.PlanID, true
			out = append(out, billing.Change{At: o.at(), Kind: billing.Activate, PlanID: plan, Limits: limitsOf(o.Limits)})
		case models.OrderUpdate:
			if !active {
				continue
			}
			limits := limitsOf(o.Limits)
			if o.PlanID != nil && *o.PlanID != plan {
				plan = *o.PlanID
				out = append(out, billing.Change{At: o.at(), Kind: billing.SwitchPlan, PlanID: plan, Limits: limits})
			} else if limits != nil {
				out = append(out, billing.Change{At: o.at(), Kind: billing.SetLimits, Limits: limits})
			}
		case models.OrderTerminate:
			if active {
				out = append(out, billing.Change{At: o.at(), Kind: billing.Terminate})
				active = false
			}
		}
	}
	if len(out) == 0 && r.PlanID != nil {
		switch r.State {
		case models.ResourceOK, models.ResourceErred, models.ResourceUpdating, models.ResourceTerminating:
			out = append(out, billing.Change{At: billing.MonthOf(r.Created).Next().Start(), Kind: billing.Adopt, PlanID: *r.PlanID,
				Limits: limitsOf(r.Limits)})
		}
	}
	return out
}

// RegisterResource (re)computes the invoice items of one resource for
// month m from its history and stores them in its customer's invoice
// (created if needed), updating the invoice's total. Idempotent: running it
// again with the same history changes nothing. Called after an order
// completes, after usage is reported, and by the monthly close and the
// invoice refresh for every resource. A finalized invoice is left alone.
// Codes: not_found.
func (s *Store) RegisterResource(ctx context.Context, id models.UUID, m billing.Month) (RegisterResult, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Table("resources").Where("uuid = ?", id).Pluck("id", &ids).Error; err != nil {
		return RegisterResult{}, models.Internal(err)
	}
	if len(ids) == 0 {
		return RegisterResult{}, models.Errorf(models.CodeNotFound, "Resource not found.")
	}
	return s.RegisterResources(ctx, m, ids, true)
}

// RegisterResources is RegisterResource for many resources at once (by
// id), in one transaction; the bulk paths (monthly close, refresh) call it
// per batch with refreshTotals false and refresh all totals once at the
// end. Unknown ids are skipped.
func (s *Store) RegisterResources(ctx context.Context, m billing.Month, ids []int64, refreshTotals bool) (RegisterResult, error) {
	var res RegisterResult
	if len(ids) == 0 {
		return res, nil
	}
	ms, next := m.Start(), m.Next().Start()
	db := s.DB.WithContext(ctx)

	var rs []billedResource
	err := db.Table("resources r").Select(`r.id, r.uuid, r.name, r.state, r.plan_id, r.limits, r.created, r.project_id,
		p.uuid AS project_uuid, p.name AS project_name, p.customer_id, f.id AS offering_id, f.uuid AS offering_uuid,
		f.name AS offering_name, f.type AS offering_type, f.billable, f.plugin_options, pr.name AS provider_name,
		sp.uuid AS provider_uuid`).
		Joins("JOIN projects p ON p.id = r.project_id").Joins("JOIN offerings f ON f.id = r.offering_id").
		Joins("JOIN customers pr ON pr.id = f.customer_id").Joins("LEFT JOIN service_providers sp ON sp.customer_id = f.customer_id").
		Where("r.id IN ?", ids).Order("r.id").Scan(&rs).Error
	if err != nil {
		return res, models.Internal(err)
	}
	var orders []billedOrder
	err = db.Table("orders").Select("id, resource_id, type, plan_id, limits, completed_at, modified").
		Where("resource_id IN ? AND state = ?", ids, models.OrderDone).Scan(&orders).Error
	if err != nil {
		return res, models.Internal(err)
	}
	sort.SliceStable(orders, func(i, j int) bool {
		a, b := orders[i].at(), orders[j].at()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return orders[i].ID < orders[j].ID
	})
	var usages []billedUsage
	err = db.Table("component_usages cu").Select(`cu.resource_id, cu.component_id, cu.usage, cu.description, rpp.plan_id,
		rpp.start, rpp."end"`).Joins("LEFT JOIN resource_plan_periods rpp ON rpp.id = cu.plan_period_id").
		Where("cu.resource_id IN ? AND cu.billing_period >= ? AND cu.billing_period < ?", ids, dateString(ms), dateString(next)).
		Scan(&usages).Error
	if err != nil {
		return res, models.Internal(err)
	}

	byResource := map[int64][]billedOrder{}
	planIDs := map[int64]bool{}
	for _, o := range orders {
		byResource[o.ResourceID] = append(byResource[o.ResourceID], o)
		if o.PlanID != nil {
			planIDs[*o.PlanID] = true
		}
	}
	usageOf := map[int64][]billing.Usage{}
	for _, u := range usages {
		bu := billing.Usage{ComponentID: u.ComponentID, Month: m, Usage: u.Usage, Description: u.Description, PeriodStart: u.Start, PeriodEnd: u.End}
		if u.PlanID != nil {
			bu.PlanID = *u.PlanID
			planIDs[*u.PlanID] = true
		}
		usageOf[u.ResourceID] = append(usageOf[u.ResourceID], bu)
	}
	for _, r := range rs {
		if r.PlanID != nil {
			planIDs[*r.PlanID] = true
		}
	}
	plans, err := s.loadPlans(ctx, keys(planIDs))
	if err != nil {
		return res, err
	}

	// Compute every resource's items.
	desired := map[int64][]billing.Item{}
	customers := map[int64]bool{}
	for i := range rs {
		r := &rs[i]
		res.Resources++
		if !r.Billable {
			desired[r.ID] = nil
			continue
		}
		br := &billing.Resource{ID: r.ID, UUID: r.UUID, Name: r.Name, ProjectID: r.ProjectID, ProjectUUID: r.ProjectUUID,
			ProjectName: r.ProjectName, OfferingID: r.OfferingID, OfferingUUID: r.OfferingUUID, OfferingName: r.OfferingName,
			OfferingType: r.OfferingType, ProviderName: r.ProviderName, Changes: history(r, byResource[r.ID]), Usages: usageOf[r.ID],
			ProrateLimits: prorateLimits(r.PluginOptions), WholeUsageUnits: billing.WholeUsageUnits(r.OfferingType)}
		if r.ProviderUUID != nil {
			br.ProviderUUID = *r.ProviderUUID
		}
		items := billing.Items(br, plans, m)
		desired[r.ID] = items
		res.Items += len(items)
		if len(items) > 0 {
			customers[r.CustomerID] = true
		}
	}

	err = s.Tx(ctx, func(tx *Store) error {
		tdb := tx.DB.WithContext(ctx)
		if _, err := tx.ensureInvoices(ctx, keys(customers), m); err != nil {
			return err
		}
		// Existing invoices of customers whose resources now have no items
		// may still hold their old items: look them up too.
		var all []Invoice
		custIDs := map[int64]bool{}
		for i := range rs {
			custIDs[rs[i].CustomerID] = true
		}
		for _, chunk := range chunks(keys(custIDs), 1000) {
			var part []Invoice
			if err := forUpdate(tdb.Where("year = ? AND month = ? AND customer_id IN ?", m.Year, int(m.Month), chunk)).
				Order("id").Find(&part).Error; err != nil {
				return models.Internal(err)
			}
			all = append(all, part...)
		}
		byCustomer := map[int64]*Invoice{}
		for i := range all {
			byCustomer[all[i].CustomerID] = &all[i]
		}
		var invIDs []int64
		for _, inv := range byCustomer {
			if inv.State.Mutable() {
				invIDs = append(invIDs, inv.ID)
			}
		}
		existing, err := tx.existingItems(ctx, rs, byCustomer, ids, invIDs)
		if err != nil {
			return err
		}
		type k struct {
			inv, res int64
			key      string
		}
		have := map[k]*InvoiceItem{}
		kept := map[k]bool{} // keys staff changed or removed
		for i := range existing {
			it := &existing[i]
			key := it.ItemKey
			for _, p := range []string{keyManual, keyDeleted} {
				if strings.HasPrefix(key, p) {
					kept[k{it.InvoiceID, *it.ResourceID, strings.TrimPrefix(key, p)}] = true
					key = ""
				}
			}
			if key != "" {
				have[k{it.InvoiceID, *it.ResourceID, key}] = it
			}
		}
		now := tx.Now()
		var inserts []InvoiceItem
		touched := map[int64]bool{}
		seen := map[k]bool{}
		for i := range rs {
			r := &rs[i]
			inv := byCustomer[r.CustomerID]
			if inv == nil {
				continue // no items and no invoice: nothing to do
			}
			if !inv.State.Mutable() {
				res.Closed++
				continue
			}
			for _, it := range desired[r.ID] {
				key := k{inv.ID, r.ID, it.Key}
				seen[key] = true
				if kept[key] {
					continue
				}
				row := itemRow(&it, inv.ID, r, now)
				old := have[key]
				if old == nil {
					row.UUID = models.NewUUID()
					inserts = append(inserts, row)
					touched[inv.ID] = true
					continue
				}
				if old.Fingerprint == row.Fingerprint {
					continue
				}
				if err := tdb.Model(&InvoiceItem{}).Where("id = ?", old.ID).Updates(map[string]any{
					"name": row.Name, "details": row.Details, "start": row.Start, "end": row.End, "unit": row.Unit,
					"unit_price": row.UnitPrice, "quantity": row.Quantity, "price": row.Price, "measured_unit": row.MeasuredUnit,
					"article_code": row.ArticleCode, "project_name": row.ProjectName, "fingerprint": row.Fingerprint, "modified": now,
				}).Error; err != nil {
					return models.Internal(err)
				}
				res.Updated++
				touched[inv.ID] = true
			}
		}
		var stale []int64
		for key, it := range have {
			inv := byCustomer[customerOf(rs, key.res)]
			if inv == nil || !inv.State.Mutable() || seen[key] {
				continue
			}
			stale = append(stale, it.ID)
			touched[key.inv] = true
		}
		if len(stale) > 0 {
			sort.Slice(stale, func(i, j int) bool { return stale[i] < stale[j] })
			if err := tdb.Where("id IN ?", stale).Delete(&InvoiceItem{}).Error; err != nil {
				return models.Internal(err)
			}
			res.Deleted = len(stale)
		}
		if len(inserts) > 0 {
			if err := tx.insertItems(ctx, inserts); err != nil {
				return models.Internal(err)
			}
			res.Inserted = len(inserts)
		}
		res.Invoices = keys(touched)
		if refreshTotals {
			return tx.RefreshInvoiceTotals(ctx, m, res.Invoices)
		}
		return nil
	})
	return res, err
}

// insertItems writes new items: on PostgreSQL one INSERT … SELECT FROM
// unnest of one array per column per few thousand rows (a handful of
// parameters instead of one per value: about five times faster than
// multi-row VALUES), elsewhere multi-row inserts.
func (s *Store) insertItems(ctx context.Context, rows []InvoiceItem) error {
	db := s.DB.WithContext(ctx)
	if db.Dialector.Name() != "postgres" {
		return translate(db.CreateInBatches(&rows, 400).Error, "Invoice item")
	}
	const q = `INSERT INTO invoice_items (uuid, invoice_id, resource_id, offering_id, project_id, project_name, project_uuid, item_key,
		fingerprint, kind, name, details, start, "end", unit, unit_price, quantity, price, measured_unit, article_code, created, modified)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::jsonb[], $13::timestamptz[], $14::timestamptz[], $15::text[], $16::numeric[],
			$17::numeric[], $18::numeric[], $19::text[], $20::text[], $21::timestamptz[], $22::timestamptz[])`
	for len(rows) > 0 {
		n := min(len(rows), 5000)
		chunk := rows[:n]
		rows = rows[n:]
		strs := func() []string { return make([]string, 0, n) }
		ptrs := func() []*int64 { return make([]*int64, 0, n) }
		times := func() []time.Time { return make([]time.Time, 0, n) }
		uuids, pnames, puuids, keys, fps, kinds, names := strs(), strs(), strs(), strs(), strs(), strs(), strs()
		details, units, ups, qs, prices, mus, acs := strs(), strs(), strs(), strs(), strs(), strs(), strs()
		invs, res, offs, projs := make([]int64, 0, n), ptrs(), ptrs(), ptrs()
		starts, ends, created, modified := times(), times(), times(), times()
		for i := range chunk {
			r := &chunk[i]
			uuids, invs, res, offs, projs = append(uuids, r.UUID.String()), append(invs, r.InvoiceID), append(res, r.ResourceID),
				append(offs, r.OfferingID), append(projs, r.ProjectID)
			pnames, puuids, keys, fps, kinds = append(pnames, r.ProjectName), append(puuids, r.ProjectUUID), append(keys, r.ItemKey),
				append(fps, r.Fingerprint), append(kinds, string(r.Kind))
			d := string(r.Details)
			if d == "" {
				d = "{}"
			}
			names, details, starts, ends, units = append(names, r.Name), append(details, d), append(starts, r.Start.UTC()),
				append(ends, r.End.UTC()), append(units, string(r.Unit))
			ups, qs, prices, mus, acs = append(ups, r.UnitPrice.String()), append(qs, r.Quantity.String()), append(prices, r.Price.String()),
				append(mus, r.MeasuredUnit), append(acs, r.ArticleCode)
			created, modified = append(created, r.Created.UTC()), append(modified, r.Modified.UTC())
		}
		// The pool of the transaction, bypassing GORM's expansion of slice arguments.
		if _, err := db.Statement.ConnPool.ExecContext(ctx, q, uuids, invs, res, offs, projs, pnames, puuids, keys, fps, kinds, names,
			details, starts, ends, units, ups, qs, prices, mus, acs, created, modified); err != nil {
			return translate(err, "Invoice item")
		}
	}
	return nil
}

// existingItems loads the registrator items (id, key, fingerprint only)
// the resources have in their customers' pending invoices. On PostgreSQL
// the lookup joins the (invoice, resource) pairs, one index probe each, a
// plan that stays right while a close fills the invoices faster than the
// statistics follow; pairs of invoices without any item (a month the close
// has just opened) are left out first, one probe per invoice. The caller
// holds the invoices' locks, so no registration adds items meanwhile.
func (s *Store) existingItems(ctx context.Context, rs []billedResource, byCustomer map[int64]*Invoice, ids, invIDs []int64) ([]InvoiceItem, error) {
	var out []InvoiceItem
	if len(invIDs) == 0 {
		return out, nil
	}
	db := s.DB.WithContext(ctx)
	if db.Dialector.Name() != "postgres" {
		err := db.Select("id, invoice_id, resource_id, item_key, fingerprint").
			Where("invoice_id IN ? AND resource_id IN ? AND item_key <> ''", invIDs, ids).Find(&out).Error
		return out, translate(err, "Invoice item")
	}
	var filled []int64
	if err := db.Raw(`SELECT i.id FROM invoices i WHERE i.id IN ? AND EXISTS (SELECT 1 FROM invoice_items ii WHERE ii.invoice_id = i.id)`,
		invIDs).Scan(&filled).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(filled) == 0 {
		return out, nil
	}
	hasItems := make(map[int64]bool, len(filled))
	for _, id := range filled {
		hasItems[id] = true
	}
	var pinv, pres []int64
	for i := range rs {
		if inv := byCustomer[rs[i].CustomerID]; inv != nil && inv.State.Mutable() && hasItems[inv.ID] {
			pinv, pres = append(pinv, inv.ID), append(pres, rs[i].ID)
		}
	}
	rows, err := db.Statement.ConnPool.QueryContext(ctx, `SELECT ii.id, ii.invoice_id, ii.resource_id, ii.item_key, ii.fingerprint
		FROM unnest($1::bigint[], $2::bigint[]) AS p(invoice_id, resource_id)
		JOIN invoice_items ii ON ii.invoice_id = p.invoice_id AND ii.resource_id = p.resource_id WHERE ii.item_key <> ''`, pinv, pres)
	if err != nil {
		return nil, models.Internal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var it InvoiceItem
		var rid int64
		if err := rows.Scan(&it.ID, &it.InvoiceID, &rid, &it.ItemKey, &it.Fingerprint); err != nil {
			return nil, models.Internal(err)
		}
		it.ResourceID = &rid
		out = append(out, it)
	}
	return out, translate(rows.Err(), "Invoice item")
}

func customerOf(rs []billedResource, id int64) int64 {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].ID >= id })
	if i < len(rs) && rs[i].ID == id {
		return rs[i].CustomerID
	}
	return 0
}

// itemRow is the row of a computed item (its UUID is left for an insert to set).
func itemRow(it *billing.Item, invoiceID int64, r *billedResource, now time.Time) InvoiceItem {
	rid, pid, oid := r.ID, r.ProjectID, r.OfferingID
	row := InvoiceItem{InvoiceID: invoiceID, ResourceID: &rid, OfferingID: &oid, ProjectID: &pid,
		ProjectName: r.ProjectName, ProjectUUID: r.ProjectUUID.String(), ItemKey: it.Key, Kind: it.Kind, Name: it.Name,
		Start: it.Start.UTC(), End: it.End.UTC(), Unit: it.Unit, UnitPrice: it.UnitPrice, Quantity: it.Quantity, Price: it.Price,
		MeasuredUnit: it.MeasuredUnit, ArticleCode: it.ArticleCode, Created: now, Modified: now}
	row.Details, _ = json.Marshal(it.Details)
	row.Fingerprint = fingerprint(&row)
	return row
}

// fingerprint hashes what the registrator computes for an item (FNV-1a, 64
// bits): equal fingerprints mean there is nothing to update. The hash is of
// the name, start and end (RFC 3339), unit, unit price, quantity, price,
// measured unit, article code and project name, each followed by a NUL
// byte, then the details; stored fingerprints depend on these exact bytes.
func fingerprint(it *InvoiceItem) string {
	b := make([]byte, 0, 256+len(it.Details))
	field := func(s string) { b = append(append(b, s...), 0) }
	field(it.Name)
	b = append(it.Start.UTC().AppendFormat(b, time.RFC3339Nano), 0)
	b = append(it.End.UTC().AppendFormat(b, time.RFC3339Nano), 0)
	field(string(it.Unit))
	field(it.UnitPrice.String())
	field(it.Quantity.String())
	field(it.Price.String())
	field(it.MeasuredUnit)
	field(it.ArticleCode)
	field(it.ProjectName)
	h := fnv.New64a()
	h.Write(b)
	h.Write(it.Details)
	var sum [8]byte
	return hex.EncodeToString(binary.BigEndian.AppendUint64(sum[:0], h.Sum64()))
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// billable narrows a query of resources r to those that may have items in
// month m: created before the month ends, past Creating, and not
// terminated before it began.
func billable(q *gorm.DB, m billing.Month) *gorm.DB {
	return q.Where(`r.created < ? AND r.state <> ? AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.resource_id = r.id
		AND o.type = ? AND o.state = ? AND o.completed_at < ?)`, m.Next().Start(), models.ResourceCreating,
		models.OrderTerminate, models.OrderDone, m.Start())
}

// BillableResourceIDs pages (by id, after afterID) through the resources
// that may have items in month m: created before the month ends, past
// Creating, and not terminated before it began.
func (s *Store) BillableResourceIDs(ctx context.Context, m billing.Month, afterID int64, limit int) ([]int64, error) {
	var ids []int64
	err := billable(s.DB.WithContext(ctx).Table("resources r").Where("r.id > ?", afterID), m).
		Order("r.id").Limit(limit).Pluck("r.id", &ids).Error
	return ids, translate(err, "Resource")
}

// ResourceKey orders resources by customer, then id: the order in which
// the monthly close splits them, so that the resources of one customer
// (whose invoice a registration locks) stay together.
type ResourceKey struct {
	Customer, ID int64
}

// ResourceRange is the resources whose key is after After and, unless To
// is nil, at most To.
type ResourceRange struct {
	After ResourceKey
	To    *ResourceKey `json:",omitempty"`
}

// BillableResourceRanges splits the resources that may have items in month
// m (BillableResourceIDs), in key order, into consecutive ranges of size
// resources, the last one open-ended: together they cover every key, so a
// resource made after the split still falls in exactly one. Ranges share a
// customer only where one is cut in two, so registrations of different
// ranges seldom wait for each other's invoice locks.
func (s *Store) BillableResourceRanges(ctx context.Context, m billing.Month, size int) ([]ResourceRange, error) {
	var cuts []ResourceKey
	keys := billable(s.DB.WithContext(ctx).Table("resources r").Joins("JOIN projects p ON p.id = r.project_id"), m).
		Select("p.customer_id, r.id, ROW_NUMBER() OVER (ORDER BY p.customer_id, r.id) AS n")
	err := s.DB.WithContext(ctx).Table("(?) k", keys).Select("k.customer_id AS customer, k.id").Where("k.n % ? = 0", size).
		Order("k.customer_id, k.id").Scan(&cuts).Error
	if err != nil {
		return nil, translate(err, "Resource")
	}
	out := make([]ResourceRange, 0, len(cuts)+1)
	after := ResourceKey{}
	for i := range cuts {
		out = append(out, ResourceRange{After: after, To: &cuts[i]})
		after = cuts[i]
	}
	return append(out, ResourceRange{After: after}), nil
}

// BillableResourceKeys pages (in key order, after `after`) through the
// resources of range r that may have items in month m.
func (s *Store) BillableResourceKeys(ctx context.Context, m billing.Month, r ResourceRange, after ResourceKey, limit int) ([]ResourceKey, error) {
	if after.Customer < r.After.Customer || (after.Customer == r.After.Customer && after.ID < r.After.ID) {
		after = r.After
	}
	// The bounds on the customer alone let a prepared statement's generic
	// plan scan only the range's projects.
	q := s.DB.WithContext(ctx).Table("resources r").Joins("JOIN projects p ON p.id = r.project_id").
		Where("p.customer_id >= ? AND (p.customer_id > ? OR r.id > ?)", after.Customer, after.Customer, after.ID)
	if r.To != nil {
		q = q.Where("p.customer_id <= ? AND (p.customer_id < ? OR r.id <= ?)", r.To.Customer, r.To.Customer, r.To.ID)
	}
	var out []ResourceKey
	err := billable(q, m).Select("p.customer_id AS customer, r.id").Order("p.customer_id, r.id").Limit(limit).Scan(&out).Error
	return out, translate(err, "Resource")
}
