package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// billingWorld is the month of models/billing/testdata/march-2024.md in a
// database: one consumer customer with six resources of one offering,
// their histories as done orders.
type billingWorld struct {
	db        *gorm.DB
	st        *store.Store
	customer  int64
	project   int64
	offering  int64
	plans     map[string]int64
	comps     map[string]int64
	resources map[string]int64
	ruuid     map[string]models.UUID
}

var (
	march = billing.Month{Year: 2024, Month: time.March}
	april = march.Next()
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func seedBilling(t *testing.T, db *gorm.DB) *billingWorld {
	now := time.Now().UTC()
	w := &billingWorld{db: db, st: store.New(db), plans: map[string]int64{}, comps: map[string]int64{},
		resources: map[string]int64{}, ruuid: map[string]models.UUID{}}
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	w.customer, _ = ins("customers", map[string]any{"name": "consumer", "accounting_start_date": now, "created": now, "modified": now})
	w.project, _ = ins("projects", map[string]any{"name": "P", "customer_id": w.customer, "created": now, "modified": now})
	provider, _ := ins("customers", map[string]any{"name": "Provider", "accounting_start_date": now, "created": now, "modified": now})
	_, _ = ins("service_providers", map[string]any{"customer_id": provider, "created": now, "modified": now})
	cat, _ := ins("categories", map[string]any{"title": "Cloud", "created": now, "modified": now})
	w.offering, _ = ins("offerings", map[string]any{"name": "Cloud", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "billable": true, "created": now, "modified": now})
	for _, c := range []struct{ typ, bt, period, factor string }{
		{"base", "fixed", "", "1"}, {"cores", "limit", "month", "1"}, {"setup", "one", "", "1"}, {"migrate", "few", "", "1"},
		{"storage", "limit", "total", "1"}, {"cpu", "usage", "", "60"},
	} {
		v := map[string]any{"offering_id": w.offering, "type": c.typ, "name": c.typ, "billing_type": c.bt, "unit_factor": c.factor}
		if c.period != "" {
			v["limit_period"] = c.period
		}
		w.comps[c.typ], _ = ins("offering_components", v)
	}
	for _, p := range []struct {
		name, unit, price                                 string
		base, amount, cores, setup, migrate, storage, cpu string
	}{
		{"A", "day", "1", "2", "3", "0.5", "25", "0", "0.1", "0.02"},
		{"B", "month", "300", "50", "1", "12", "25", "10", "0.1", "0.03"},
		{"C", "hour", "0.1", "0.05", "2", "0", "0", "0", "0", "0"},
		{"D", "half_month", "40", "20", "2", "0", "0", "0", "0", "0"},
	} {
		id, _ := ins("plans", map[string]any{"name": p.name, "offering_id": w.offering, "unit": p.unit, "unit_price": p.price, "created": now, "modified": now})
		w.plans[p.name] = id
		for typ, price := range map[string]string{"base": p.base, "cores": p.cores, "setup": p.setup, "migrate": p.migrate, "storage": p.storage, "cpu": p.cpu} {
			amount := "0"
			if typ == "base" {
				amount = p.amount
			}
			require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": id, "component_id": w.comps[typ], "price": price, "amount": amount}).Error)
		}
	}
	type ord struct {
		at     string
		typ    models.OrderType
		plan   string
		limits map[string]int64
	}
	res := func(name, plan string, state models.ResourceState, orders ...ord) {
		id, u := ins("resources", map[string]any{"name": name, "project_id": w.project, "offering_id": w.offering, "plan_id": w.plans[plan],
			"state": state, "limits": "{}", "created": at("2023-12-01 00:00"), "modified": now})
		w.resources[name], w.ruuid[name] = id, u
		for _, o := range orders {
			w.order(t, name, o.at, o.typ, o.plan, o.limits)
		}
	}
	res("R1", "A", models.ResourceTerminated,
		ord{"2024-03-10 14:00", models.OrderCreate, "A", map[string]int64{"cores": 4, "storage": 100}},
		ord{"2024-03-15 09:00", models.OrderUpdate, "A", map[string]int64{"cores": 8, "storage": 100}},
		ord{"2024-03-20 18:00", models.OrderUpdate, "A", map[string]int64{"cores": 2, "storage": 150}},
		ord{"2024-03-25 12:00", models.OrderTerminate, "A", nil})
	res("R2", "B", models.ResourceOK,
		ord{"2024-02-05 10:00", models.OrderCreate, "A", map[string]int64{"cores": 2}},
		ord{"2024-03-12 06:00", models.OrderUpdate, "B", nil})
	res("R3", "C", models.ResourceOK, ord{"2024-03-30 22:30", models.OrderCreate, "C", nil})
	res("R4", "D", models.ResourceOK, ord{"2024-03-05 08:00", models.OrderCreate, "D", nil})
	res("R5", "D", models.ResourceTerminated,
		ord{"2024-01-20 08:00", models.OrderCreate, "D", nil},
		ord{"2024-03-15 10:00", models.OrderTerminate, "D", nil})
	res("R6", "B", models.ResourceOK,
		ord{"2024-01-02 08:00", models.OrderCreate, "B", map[string]int64{"cores": 4}},
		ord{"2024-03-31 20:00", models.OrderUpdate, "B", map[string]int64{"cores": 1}})
	// 1500 cpu minutes reported for R1 in March (and some in February).
	for _, u := range []struct{ period, usage string }{{"2024-03-01", "1500"}, {"2024-02-01", "99"}} {
		_, _ = ins("component_usages", map[string]any{"resource_id": w.resources["R1"], "component_id": w.comps["cpu"], "usage": u.usage,
			"date": at("2024-03-20 00:00"), "billing_period": u.period, "created": now, "modified": now})
	}
	return w
}

// order records a done order completed at `when`.
func (w *billingWorld) order(t *testing.T, res, when string, typ models.OrderType, plan string, limits map[string]int64) {
	raw := []byte("null")
	if limits != nil {
		raw, _ = json.Marshal(limits)
	}
	var planID any
	if plan != "" {
		planID = w.plans[plan]
	}
	done := at(when)
	require.NoError(t, w.db.Table("orders").Create(map[string]any{"uuid": models.NewUUID(), "type": typ, "state": models.OrderDone,
		"resource_id": w.resources[res], "offering_id": w.offering, "project_id": w.project, "plan_id": planID, "limits": string(raw),
		"attributes": "{}", "workflow_started": true, "completed_at": done, "created": done, "modified": done}).Error)
}

func (w *billingWorld) ids() []int64 {
	var out []int64
	for _, n := range []string{"R1", "R2", "R3", "R4", "R5", "R6"} {
		out = append(out, w.resources[n])
	}
	return out
}

func (w *billingWorld) invoice(t *testing.T, m billing.Month) *store.Invoice {
	inv, err := w.st.InvoiceFor(context.Background(), w.customer, m)
	require.NoError(t, err)
	return inv
}

// resourceTotals sums the invoice's item prices per resource name.
func (w *billingWorld) resourceTotals(t *testing.T, inv *store.Invoice) map[string]string {
	items, err := w.st.InvoiceItems(context.Background(), inv.ID)
	require.NoError(t, err)
	sums := map[int64]decimal.Decimal{}
	for _, it := range items {
		sums[*it.ResourceID] = sums[*it.ResourceID].Add(it.Price)
	}
	out := map[string]string{}
	for name, id := range w.resources {
		if s, ok := sums[id]; ok {
			out[name] = s.StringFixed(2)
		}
	}
	return out
}

// TestRegisterMonthFromHistory: the hand-computed month of
// models/billing/testdata/march-2024.md comes out of the database the same,
// registering again changes nothing, and a change in the history updates
// exactly the items it affects.
func TestRegisterMonthFromHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db)

		ids, err := w.st.BillableResourceIDs(ctx, march, 0, 100)
		require.NoError(t, err)
		require.Equal(t, w.ids(), ids)
		aprilIDs, err := w.st.BillableResourceIDs(ctx, april, 0, 100)
		require.NoError(t, err)
		require.NotContains(t, aprilIDs, w.resources["R1"], "terminated in March")
		require.NotContains(t, aprilIDs, w.resources["R5"])

		res, err := w.st.RegisterResources(ctx, march, ids, true)
		require.NoError(t, err)
		require.Equal(t, 16, res.Inserted)
		inv := w.invoice(t, march)
		require.Equal(t, billing.InvoicePending, inv.State)
		require.Equal(t, "529.00", inv.TotalPrice.StringFixed(2))
		require.Equal(t, map[string]string{"R1": "169.50", "R2": "150.50", "R3": "2.60", "R4": "68.40", "R5": "40.00", "R6": "98.00"},
			w.resourceTotals(t, inv))

		again, err := w.st.RegisterResources(ctx, march, ids, true)
		require.NoError(t, err)
		require.Equal(t, [3]int{0, 0, 0}, [3]int{again.Inserted, again.Updated, again.Deleted}, "registering twice is a no-op")
		before, err := w.st.InvoiceItems(ctx, inv.ID)
		require.NoError(t, err)

		// R6's cores go down to 2 on 03-20 (from the 21st): only its cores item changes.
		w.order(t, "R6", "2024-03-20 10:00", models.OrderUpdate, "B", map[string]int64{"cores": 2})
		one, err := w.st.RegisterResource(ctx, w.ruuid["R6"], march)
		require.NoError(t, err)
		require.Equal(t, [3]int{0, 1, 0}, [3]int{one.Inserted, one.Updated, one.Deleted})
		// A month plan bills each span's limit once (Waldur): 12 × (4 + 2) = 72 instead of 48.
		inv = w.invoice(t, march)
		require.Equal(t, "553.00", inv.TotalPrice.StringFixed(2))
		after, err := w.st.InvoiceItems(ctx, inv.ID)
		require.NoError(t, err)
		require.Len(t, after, len(before))
		for i := range before {
			require.Equal(t, before[i].UUID, after[i].UUID, "items keep their identity")
		}

		// The offering asks for prorated limits (plugin_options.prorate_limits):
		// 12 × (4 × 20/31 → 0.65 + 2 × 11/31 → 0.36, rounded up) = 12 × 3.32 = 39.84.
		require.NoError(t, db.Table("offerings").Where("id = ?", w.offering).Update("plugin_options", `{"prorate_limits": true}`).Error)
		_, err = w.st.RegisterResource(ctx, w.ruuid["R6"], march)
		require.NoError(t, err)
		require.Equal(t, "89.84", w.resourceTotals(t, w.invoice(t, march))["R6"])
		require.NoError(t, db.Table("offerings").Where("id = ?", w.offering).Update("plugin_options", `{}`).Error)
		_, err = w.st.RegisterResource(ctx, w.ruuid["R6"], march)
		require.NoError(t, err)
		require.Equal(t, "122.00", w.resourceTotals(t, w.invoice(t, march))["R6"])

		// R4's offering stops being billable: its item goes.
		require.NoError(t, db.Table("offerings").Where("id = ?", w.offering).Update("billable", false).Error)
		gone, err := w.st.RegisterResources(ctx, march, []int64{w.resources["R4"]}, true)
		require.NoError(t, err)
		require.Equal(t, 1, gone.Deleted)
		require.NoError(t, db.Table("offerings").Where("id = ?", w.offering).Update("billable", true).Error)
		require.Equal(t, "484.60", w.invoice(t, march).TotalPrice.StringFixed(2))

		// April carries the running resources over.
		_, err = w.st.RegisterResources(ctx, april, aprilIDs, true)
		require.NoError(t, err)
		totals := w.resourceTotals(t, w.invoice(t, april))
		require.Equal(t, "74.00", totals["R2"])
		require.Equal(t, "62.00", totals["R6"])
	})
}

// TestFinalizeWithCredits: closing the month compensates items from the
// customer's credit (cheapest first), creates the invoice, zeroes an
// overdue credit, and doing it again changes nothing; a customer with a
// fixed-price payment profile gets a paid invoice.
func TestFinalizeWithCredits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db)
		_, err := w.st.RegisterResources(ctx, march, w.ids(), true)
		require.NoError(t, err)
		now := time.Now().UTC()
		require.NoError(t, db.Table("customer_credits").Create(map[string]any{"uuid": models.NewUUID(), "customer_id": w.customer,
			"value": "100", "end_date": "2024-04-01", "expected_consumption": "150", "grace_coefficient": "0",
			"apply_as_minimal_consumption": true, "created": now, "modified": now}).Error)
		require.NoError(t, db.Table("project_credits").Create(map[string]any{"uuid": models.NewUUID(), "project_id": w.project,
			"value": "30", "created": now, "modified": now}).Error)

		ids, err := w.st.PendingInvoiceIDs(ctx, april)
		require.NoError(t, err)
		inv := w.invoice(t, march)
		require.Equal(t, []int64{inv.ID}, ids)
		today := april.Start()
		done, err := w.st.FinalizeInvoice(ctx, inv.ID, today)
		require.NoError(t, err)
		require.True(t, done)

		inv = w.invoice(t, march)
		require.Equal(t, billing.InvoiceCreated, inv.State)
		require.NotNil(t, inv.InvoiceDate)
		require.Equal(t, "2024-04-01", inv.InvoiceDate.UTC().Format("2006-01-02"))
		// Every item is in project P, whose credit is 30: items cheapest
		// first (0.50, 2.60, 5.00, 10.00, 10.00 and 1.90 of the next 12.00)
		// use it up, and no other item of P is compensated. The credit's
		// last month asks for all 150 expected: the remaining 70 of the
		// customer credit goes as the minimal-consumption tail.
		items, err := w.st.InvoiceItems(ctx, inv.ID)
		require.NoError(t, err)
		comp := decimal.Zero
		n := 0
		for _, it := range items {
			if it.Kind == billing.KindCompensation {
				comp = comp.Add(it.Price)
				n++
				require.NotNil(t, it.CreditID)
				require.NotNil(t, it.CompensatedItemID)
			}
		}
		require.Equal(t, "-30.00", comp.StringFixed(2))
		require.Equal(t, 6, n)
		require.Equal(t, "499.00", inv.TotalPrice.StringFixed(2))
		var credit struct{ Value decimal.Decimal }
		require.NoError(t, db.Table("customer_credits").Select("value").Where("customer_id = ?", w.customer).Scan(&credit).Error)
		require.True(t, credit.Value.IsZero(), "the credit ended on 04-01: whatever is left is set to zero")
		var pc struct{ Value decimal.Decimal }
		require.NoError(t, db.Table("project_credits").Select("value").Where("project_id = ?", w.project).Scan(&pc).Error)
		require.True(t, pc.Value.IsZero())
		var events []string
		require.NoError(t, db.Table("events").Where("event_type IN ?", []string{"invoice_created", "reduction_of_customer_credit",
			"reduction_of_customer_credit_due_to_minimal_consumption", "reduction_of_project_credit"}).Order("id").Pluck("event_type", &events).Error)
		require.Equal(t, []string{"reduction_of_customer_credit", "reduction_of_customer_credit_due_to_minimal_consumption",
			"reduction_of_project_credit", "invoice_created"}, events)

		again, err := w.st.FinalizeInvoice(ctx, inv.ID, today)
		require.NoError(t, err)
		require.False(t, again)
		items2, err := w.st.InvoiceItems(ctx, inv.ID)
		require.NoError(t, err)
		require.Len(t, items2, len(items))
		// A finalized invoice is closed to registration.
		reg, err := w.st.RegisterResources(ctx, march, w.ids(), true)
		require.NoError(t, err)
		require.Equal(t, 6, reg.Closed)
		require.Equal(t, [3]int{0, 0, 0}, [3]int{reg.Inserted, reg.Updated, reg.Deleted})

		// Fixed-price customers' invoices are paid at once.
		require.NoError(t, db.Table("payment_profiles").Create(map[string]any{"uuid": models.NewUUID(), "customer_id": w.customer,
			"payment_type": store.PaymentFixedPrice, "is_active": true}).Error)
		_, err = w.st.RegisterResources(ctx, april, w.ids(), true)
		require.NoError(t, err)
		aprilInv := w.invoice(t, april)
		// Without a credit the invoice goes the bulk way.
		require.NoError(t, db.Exec("DELETE FROM customer_credits").Error)
		n, err = w.st.FinalizeInvoices(ctx, []int64{aprilInv.ID}, april.Next().Start())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = w.st.FinalizeInvoices(ctx, []int64{aprilInv.ID}, april.Next().Start())
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, billing.InvoicePaid, w.invoice(t, april).State)
		_, err = w.st.MarkInvoicePaid(ctx, aprilInv.UUID, today)
		require.True(t, models.IsCode(err, models.CodeConflict), "paid already: %v", err)
		paid, err := w.st.MarkInvoicePaid(ctx, inv.UUID, today)
		require.NoError(t, err)
		require.Equal(t, billing.InvoicePaid, paid.State)
	})
}

// TestProjectCreditMinimalConsumption: a project credit applies its own
// minimal consumption (models/billing/testdata/waldur-rules.md, 5).
func TestProjectCreditMinimalConsumption(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db)
		// Only R3 (2.60) in March: a small bill.
		_, err := w.st.RegisterResources(ctx, march, []int64{w.resources["R3"]}, true)
		require.NoError(t, err)
		now := time.Now().UTC()
		require.NoError(t, db.Table("customer_credits").Create(map[string]any{"uuid": models.NewUUID(), "customer_id": w.customer,
			"value": "1000", "apply_as_minimal_consumption": false, "created": now, "modified": now}).Error)
		require.NoError(t, db.Table("project_credits").Create(map[string]any{"uuid": models.NewUUID(), "project_id": w.project,
			"value": "500", "expected_consumption": "100", "apply_as_minimal_consumption": true, "created": now, "modified": now}).Error)
		_, err = w.st.FinalizeInvoice(ctx, w.invoice(t, march).ID, april.Start())
		require.NoError(t, err)
		var pc, cc struct{ Value decimal.Decimal }
		require.NoError(t, db.Table("project_credits").Select("value").Where("project_id = ?", w.project).Scan(&pc).Error)
		require.NoError(t, db.Table("customer_credits").Select("value").Where("customer_id = ?", w.customer).Scan(&cc).Error)
		// 2.60 compensated, the project's minimal 100 takes 97.40 more.
		require.Equal(t, []string{"400.00", "900.00"}, []string{pc.Value.StringFixed(2), cc.Value.StringFixed(2)})
		require.Equal(t, "0.00", w.invoice(t, march).TotalPrice.StringFixed(2))
		var events []string
		require.NoError(t, db.Table("events").Where("event_type LIKE ?", "reduction_of_project_credit%").Order("id").Pluck("event_type", &events).Error)
		require.Equal(t, []string{"reduction_of_project_credit", "reduction_of_project_credit_due_to_minimal_consumption"}, events)
	})
}

// TestCopyFuturePricesOncePerMonth: the future price becomes the price the
// first time a month is closed, never again for that month.
func TestCopyFuturePricesOncePerMonth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db)
		set := func(price string) {
			require.NoError(t, db.Table("plan_components").Where("plan_id = ? AND component_id = ?", w.plans["A"], w.comps["base"]).
				Update("future_price", price).Error)
		}
		price := func() string {
			var p struct{ Price decimal.Decimal }
			require.NoError(t, db.Table("plan_components").Select("price").Where("plan_id = ? AND component_id = ?", w.plans["A"], w.comps["base"]).Scan(&p).Error)
			return p.Price.String()
		}
		set("3")
		n, already, err := w.st.CopyFuturePrices(ctx, april)
		require.NoError(t, err)
		require.Equal(t, [2]any{int64(1), false}, [2]any{n, already})
		require.Equal(t, "3", price())
		set("4")
		n, already, err = w.st.CopyFuturePrices(ctx, april)
		require.NoError(t, err)
		require.Equal(t, [2]any{int64(0), true}, [2]any{n, already})
		require.Equal(t, "3", price(), "April's close copied its prices already")

		closed, err := w.st.MonthClosed(ctx, april)
		require.NoError(t, err)
		require.False(t, closed)
		require.NoError(t, w.st.MarkMonthClosed(ctx, april))
		require.NoError(t, w.st.MarkMonthClosed(ctx, april))
		closed, err = w.st.MonthClosed(ctx, april)
		require.NoError(t, err)
		require.True(t, closed)

		created, err := w.st.EnsureMonthInvoices(ctx, april)
		require.NoError(t, err)
		require.Equal(t, 2, created, "the consumer and the provider")
		created, err = w.st.EnsureMonthInvoices(ctx, april)
		require.NoError(t, err)
		require.Zero(t, created)
	})
}

// TestPriceEstimates: a customer's and a project's billing_price_estimate
// is the month's items (total) and what they cost up to now (current: hour
// and day items of the plan and fixed components accrue), from the
// hand-computed month.
func TestPriceEstimates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db)
		_, err := w.st.RegisterResources(ctx, march, w.ids(), true)
		require.NoError(t, err)
		require.NoError(t, db.Table("invoices").Where("customer_id = ?", w.customer).Update("tax_percent", "10").Error)
		// On 03-16 00:00: R1's day items have run 6 days of 15 (base 36 instead
		// of 90) and R3 has not started (0 instead of 2.60):
		// 529.00 − 54 − 2.60 = 472.40.
		mid := at("2024-03-16 00:00")
		for _, scope := range []struct {
			typ models.ScopeType
			id  int64
		}{{models.ScopeCustomer, w.customer}, {models.ScopeProject, w.project}} {
			est, err := w.st.PriceEstimates(ctx, scope.typ, []int64{scope.id, 999999}, mid)
			require.NoError(t, err)
			e := est[scope.id]
			require.Equal(t, []string{"529.00", "472.40", "52.90", "47.24"},
				[]string{e.Total.StringFixed(2), e.Current.StringFixed(2), e.Tax.StringFixed(2), e.TaxCurrent.StringFixed(2)}, scope.typ)
			require.True(t, est[999999].Total.IsZero())
		}
		// Another month has nothing yet.
		est, err := w.st.PriceEstimates(ctx, models.ScopeCustomer, []int64{w.customer}, at("2024-05-02 00:00"))
		require.NoError(t, err)
		require.True(t, est[w.customer].Total.IsZero())
	})
}
