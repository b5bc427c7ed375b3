package billing

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

// total bills r for m and sums the prices.
func total(r *Resource, plans map[int64]*Plan, m Month) string {
	sum := decimal.Zero
	for _, it := range Items(r, plans, m) {
		sum = sum.Add(it.Price)
	}
	return sum.StringFixed(2)
}

func plan(unit models.PlanUnit, unitPrice string, cs ...Component) map[int64]*Plan {
	return map[int64]*Plan{1: {ID: 1, Name: "P", Unit: unit, UnitPrice: d(unitPrice), Components: cs}}
}

func limitComp(period models.LimitPeriod, price string) Component {
	return Component{ID: 1, Type: "cores", Name: "Cores", BillingType: models.BillingLimit, LimitPeriod: period, Price: d(price)}
}

func fixedComp(price string, amount int64) Component {
	return Component{ID: 2, Type: "base", Name: "Base", BillingType: models.BillingFixed, Price: d(price), Amount: amount}
}

func activated(at time.Time, limits map[string]int64, more ...Change) *Resource {
	return &Resource{Name: "r", Changes: append([]Change{{At: at, Kind: Activate, PlanID: 1, Limits: limits}}, more...)}
}

var (
	april = Month{2024, time.April}
	may   = Month{2024, time.May}
	june  = Month{2024, time.June}
	feb   = Month{2024, time.February}
)

// TestWaldurRules: every scenario of testdata/waldur-rules.md, worked by
// hand there.
func TestWaldurRules(t *testing.T) {
	allMarch := at("2024-02-01 00:00") // running since February
	ten := map[string]int64{"cores": 10}
	type check struct {
		m    Month
		want string
	}
	for _, tc := range []struct {
		name   string
		plans  map[int64]*Plan
		r      *Resource
		checks []check
	}{
		// 1. Limits on hour and half-month plans: once a month.
		{"1 hour plan limit", plan(models.UnitHour, "0", limitComp(models.LimitMonth, "0.01")), activated(allMarch, ten),
			[]check{{march, "0.10"}}},
		{"1 half-month plan limit", plan(models.UnitHalfMonth, "0", limitComp(models.LimitMonth, "5")), activated(allMarch, ten),
			[]check{{march, "50.00"}}},
		{"1 month plan limit created mid-month (Waldur: whole)", plan(models.UnitMonth, "0", limitComp(models.LimitMonth, "5")),
			activated(at("2024-03-22 10:00"), ten), []check{{march, "50.00"}, {april, "50.00"}}},
		{"1 month plan limit created mid-month, prorate_limits", plan(models.UnitMonth, "0", limitComp(models.LimitMonth, "5")),
			prorated(activated(at("2024-03-22 10:00"), ten)), []check{{march, "16.50"}, {april, "50.00"}}},
		{"1 terminated mid-month (Waldur: whole)", plan(models.UnitMonth, "0", limitComp(models.LimitMonth, "5")),
			activated(allMarch, ten, Change{At: at("2024-03-10 12:00"), Kind: Terminate}), []check{{march, "50.00"}, {april, "0.00"}}},
		{"1 terminated mid-month, prorate_limits", plan(models.UnitMonth, "0", limitComp(models.LimitMonth, "5")),
			prorated(activated(allMarch, ten, Change{At: at("2024-03-10 12:00"), Kind: Terminate})), []check{{march, "16.50"}}},
		// 2. Quarterly and annual limits, the quarter unit.
		{"2 quarterly limit", plan(models.UnitMonth, "0", limitComp(models.LimitQuarterly, "30")), activated(at("2024-04-01 00:00"), ten),
			[]check{{april, "300.00"}, {may, "0.00"}, {june, "0.00"}}},
		{"2 quarter plan", plan(models.UnitQuarter, "0", fixedComp("300", 1)), activated(at("2024-04-01 00:00"), nil),
			[]check{{april, "300.00"}, {may, "0.00"}, {june, "0.00"}}},
		{"2 annual limit", plan(models.UnitMonth, "0", limitComp(models.LimitAnnual, "10")),
			activated(at("2023-03-15 09:00"), map[string]int64{"cores": 12}), []check{{feb, "0.00"}, {march, "120.00"}, {april, "0.00"}}},
		// 3. Usage on a limit component is not billed.
		{"3 usage on a limit component", plan(models.UnitMonth, "0", limitComp(models.LimitMonth, "5")),
			withUsage(activated(allMarch, ten), 1, "7"), []check{{march, "50.00"}}},
		// 4. A failed creation kept, or an import: from the next month, no one-time charge.
		{"4 never OK through an order", plan(models.UnitMonth, "0", fixedComp("100", 1),
			Component{ID: 3, Type: "setup", Name: "Setup", BillingType: models.BillingOne, Price: d("50")}),
			&Resource{Name: "r", Changes: []Change{{At: MonthOf(at("2024-03-10 12:00")).Next().Start(), Kind: Adopt, PlanID: 1}}},
			[]check{{march, "0.00"}, {april, "100.00"}}},
		{"4 usage reported before the first billed month still bills", plan(models.UnitMonth, "0",
			Component{ID: 4, Type: "cpu", Name: "CPU", BillingType: models.BillingUsage, Price: d("2")}),
			withUsage(&Resource{Name: "r", Changes: []Change{{At: april.Start(), Kind: Adopt, PlanID: 1}}}, 4, "3"),
			[]check{{march, "6.00"}, {april, "0.00"}}},
		// 6. Rounding up.
		{"6 prorated from 22 March", plan(models.UnitMonth, "0", fixedComp("100", 1)), activated(at("2024-03-22 10:00"), nil),
			[]check{{march, "33.00"}}},
		{"6 a price of 33.333", plan(models.UnitMonth, "0", fixedComp("33.333", 1)), activated(allMarch, nil),
			[]check{{march, "33.34"}}},
		// 8. SLURM usage in whole hours.
		{"8 slurm whole hours", plan(models.UnitMonth, "0",
			Component{ID: 4, Type: "cpu", Name: "CPU", BillingType: models.BillingUsage, Price: d("0.10")}),
			slurm(withUsage(activated(allMarch, nil), 4, "1.50")), []check{{march, "0.20"}}},
		{"8 other usage keeps its fraction", plan(models.UnitMonth, "0",
			Component{ID: 4, Type: "cpu", Name: "CPU", BillingType: models.BillingUsage, Price: d("0.10")}),
			withUsage(activated(allMarch, nil), 4, "1.50"), []check{{march, "0.15"}}},
		// The plan's unit price is never billed.
		{"unit price is an estimate", plan(models.UnitMonth, "10", fixedComp("10", 1)), activated(allMarch, nil),
			[]check{{march, "10.00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.checks {
				require.Equal(t, c.want, total(tc.r, tc.plans, c.m), "%s", c.m)
			}
		})
	}
	require.False(t, WholeUsageUnits("Test.Whole"))
	DeclareWholeUsageUnits("Test.Whole")
	require.True(t, WholeUsageUnits("Test.Whole"))
	require.False(t, WholeUsageUnits(models.OfferingBasic))
}

func prorated(r *Resource) *Resource { r.ProrateLimits = true; return r }
func slurm(r *Resource) *Resource    { r.WholeUsageUnits = true; return r }

func withUsage(r *Resource, component int64, usage string) *Resource {
	r.Usages = append(r.Usages, Usage{ComponentID: component, Month: march, Usage: d(usage)})
	return r
}

// TestWaldurCredits: scenarios 5 and 7 of testdata/waldur-rules.md.
func TestWaldurCredits(t *testing.T) {
	today := at("2024-04-01 00:00")
	items := []Billed{{Ref: 1, ProjectID: 1, OfferingID: 1, Price: d("30")}}

	// 5. A customer credit with a minimal consumption.
	res := Compensate(items, Credit{Value: d("1000"), ExpectedConsumption: d("100"), ApplyAsMinimal: true}, nil, decimal.Zero, today)
	require.Equal(t, "900", res.CustomerValue.String())
	require.Equal(t, "30", res.Total.String())
	require.Equal(t, "70", res.Tail.String())

	// 5. A project credit's own minimal consumption.
	res = Compensate(items, Credit{Value: d("1000")},
		map[int64]Credit{1: {Value: d("500"), ExpectedConsumption: d("100"), ApplyAsMinimal: true}}, decimal.Zero, today)
	require.Equal(t, "400", res.ProjectValues[1].String())
	require.Equal(t, "70", res.ProjectTails[1].String())
	require.Equal(t, "900", res.CustomerValue.String())
	require.Equal(t, "0", res.Tail.String())
	require.Equal(t, "100", res.Consumed().String())

	// 7. The item that exhausts the credit, with 20 % tax.
	res = Compensate([]Billed{{Ref: 1, Price: d("150")}}, Credit{Value: d("100")}, nil, d("20"), today)
	require.Len(t, res.Compensations, 1)
	c := res.Compensations[0]
	require.Equal(t, "83.3333333333", c.Amount.String())
	require.Equal(t, "100", c.Consumed.String())
	require.Equal(t, "0", res.CustomerValue.String())
	comp := RoundPrice(c.Amount.Neg())
	require.Equal(t, "-83.34", comp.String())
	tot := InvoiceTotals([]decimal.Decimal{d("150"), comp}, d("20"))
	require.Equal(t, []string{"66.66", "13.33", "79.99"}, []string{tot.Price.String(), tot.Tax.String(), tot.Total.String()})

	// An item the credit covers is compensated its price before tax.
	res = Compensate([]Billed{{Ref: 1, Price: d("50")}}, Credit{Value: d("100")}, nil, d("20"), today)
	require.Equal(t, "50", res.Compensations[0].Amount.String())
	require.Equal(t, "50", res.CustomerValue.String())
}
