package billing

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"

	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// The offering of testdata/march-2024.md.
const (
	cBase = iota + 1
	cCores
	cSetup
	cMigrate
	cStorage
	cCPU
)

func comps(base, baseAmount, cores, setup, migrate, storage, cpu string) []Component {
	return []Component{
		{ID: cBase, Type: "base", Name: "Base", BillingType: models.BillingFixed, Price: d(base), Amount: int64(d(baseAmount).IntPart())},
		{ID: cCores, Type: "cores", Name: "Cores", BillingType: models.BillingLimit, LimitPeriod: models.LimitMonth, Price: d(cores)},
		{ID: cSetup, Type: "setup", Name: "Setup", BillingType: models.BillingOne, Price: d(setup)},
		{ID: cMigrate, Type: "migrate", Name: "Migrate", BillingType: models.BillingFew, Price: d(migrate)},
		{ID: cStorage, Type: "storage", Name: "Storage", BillingType: models.BillingLimit, LimitPeriod: models.LimitTotal, Price: d(storage)},
		{ID: cCPU, Type: "cpu", Name: "CPU", BillingType: models.BillingUsage, UnitFactor: d("60"), Price: d(cpu)},
	}
}

var testPlans = map[int64]*Plan{
	1: {ID: 1, UUID: models.MustParseUUID("a0000000000000000000000000000001"), Name: "A", Unit: models.UnitDay, UnitPrice: d("1"),
		Components: comps("2", "3", "0.5", "25", "0", "0.1", "0.02")},
	2: {ID: 2, UUID: models.MustParseUUID("a0000000000000000000000000000002"), Name: "B", Unit: models.UnitMonth, UnitPrice: d("300"),
		Components: comps("50", "1", "12", "25", "10", "0.1", "0.03")},
	3: {ID: 3, UUID: models.MustParseUUID("a0000000000000000000000000000003"), Name: "C", Unit: models.UnitHour, UnitPrice: d("0.1"),
		Components: comps("0.05", "2", "0", "0", "0", "0", "0")},
	4: {ID: 4, UUID: models.MustParseUUID("a0000000000000000000000000000004"), Name: "D", Unit: models.UnitHalfMonth, UnitPrice: d("40"),
		Components: comps("20", "2", "0", "0", "0", "0", "0")},
}

var march = Month{2024, time.March}

func resource(n int, changes ...Change) *Resource {
	return &Resource{ID: int64(n), UUID: models.MustParseUUID("b00000000000000000000000000000" + string(rune('0'+n/10)) + string(rune('0'+n%10))),
		Name: "R" + string(rune('0'+n)), ProjectID: 7, OfferingID: 9, OfferingName: "Cloud", OfferingType: "Marketplace.Basic",
		ProviderName: "Provider", Changes: changes}
}

func scenario() []*Resource {
	r1 := resource(1,
		Change{At: at("2024-03-10 14:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 4, "storage": 100}},
		Change{At: at("2024-03-15 09:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 8, "storage": 100}},
		Change{At: at("2024-03-20 18:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 2, "storage": 150}},
		Change{At: at("2024-03-25 12:00"), Kind: Terminate},
	)
	r1.Usages = []Usage{{ComponentID: cCPU, Month: march, Usage: d("1500")}, {ComponentID: cCPU, Month: march.Prev(), Usage: d("99")}}
	return []*Resource{
		r1,
		resource(2,
			Change{At: at("2024-02-05 10:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 2}},
			Change{At: at("2024-03-12 06:00"), Kind: SwitchPlan, PlanID: 2},
		),
		resource(3, Change{At: at("2024-03-30 22:30"), Kind: Activate, PlanID: 3}),
		resource(4, Change{At: at("2024-03-05 08:00"), Kind: Activate, PlanID: 4}),
		resource(5,
			Change{At: at("2024-01-20 08:00"), Kind: Activate, PlanID: 4},
			Change{At: at("2024-03-15 10:00"), Kind: Terminate},
		),
		resource(6,
			Change{At: at("2024-01-02 08:00"), Kind: Activate, PlanID: 2, Limits: map[string]int64{"cores": 4}},
			Change{At: at("2024-03-31 20:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 1}},
		),
	}
}

type want struct {
	resource  int
	kind      ItemKind
	component string
	plan      string
	quantity  string
	price     string
}

func TestItemsMarch2024(t *testing.T) {
	// Every line is worked by hand in testdata/march-2024.md.
	wants := []want{
		{1, KindFixed, "base", "A", "15", "90"},
		{1, KindLimit, "cores", "A", "78", "39"},
		{1, KindOne, "setup", "A", "1", "25"},
		{1, KindLimitTotal, "storage", "A", "100", "10"},
		{1, KindLimitTotal, "storage", "A", "50", "5"},
		{1, KindUsage, "cpu", "A", "25", "0.5"},
		{2, KindFixed, "base", "A", "12", "72"},
		{2, KindLimit, "cores", "A", "24", "12"},
		{2, KindFixed, "base", "B", "0.65", "32.5"},
		{2, KindLimit, "cores", "B", "2", "24"},
		{2, KindFew, "migrate", "B", "1", "10"},
		{3, KindFixed, "base", "C", "26", "2.6"},
		{4, KindFixed, "base", "D", "1.71", "68.4"},
		{5, KindFixed, "base", "D", "1", "40"},
		{6, KindFixed, "base", "B", "1", "50"},
		{6, KindLimit, "cores", "B", "4", "48"},
	}
	var got []want
	var all []Item
	total := decimal.Zero
	for _, r := range scenario() {
		for _, it := range Items(r, testPlans, march) {
			comp := ""
			for _, c := range testPlans[it.PlanID].Components {
				if c.ID == it.ComponentID {
					comp = c.Type
				}
			}
			got = append(got, want{int(r.ID), it.Kind, comp, testPlans[it.PlanID].Name, it.Quantity.String(), it.Price.String()})
			total = total.Add(it.Price)
			all = append(all, it)
		}
	}
	require.Equal(t, wants, got)
	require.Equal(t, "529", total.String())
	golden(t, "march-2024.golden.json", all)

	// The limit item of R1 carries its spans, as worked out by hand.
	for _, it := range all {
		if it.Kind == KindLimit && it.Details.ResourceName == "R1" {
			ps := it.Details.ResourceLimitPeriods
			require.Len(t, ps, 3)
			require.Equal(t, []string{"20", "48", "10"}, []string{ps[0].Total, ps[1].Total, ps[2].Total})
			require.Equal(t, at("2024-03-15 00:00").Add(-time.Microsecond), ps[0].End)
			require.Equal(t, at("2024-03-21 00:00"), ps[2].Start)
			require.Equal(t, at("2024-03-25 12:00"), ps[2].End)
		}
	}
}

func TestItemsApril2024(t *testing.T) {
	sums := map[int64]decimal.Decimal{}
	for _, r := range scenario() {
		for _, it := range Items(r, testPlans, march.Next()) {
			sums[r.ID] = sums[r.ID].Add(it.Price)
		}
	}
	got := map[int64]string{}
	for id, s := range sums {
		got[id] = s.String()
	}
	// R1 and R5 are terminated; see testdata/march-2024.md.
	require.Equal(t, map[int64]string{2: "74", 3: "72", 4: "80", 6: "62"}, got)
}

func TestItemsKeysAreStable(t *testing.T) {
	for _, r := range scenario() {
		a, b := Items(r, testPlans, march), Items(r, testPlans, march)
		require.Equal(t, a, b)
		keys := map[string]bool{}
		for _, it := range a {
			require.False(t, keys[it.Key], "duplicate key %s", it.Key)
			keys[it.Key] = true
		}
	}
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.JSONEq(t, string(want), string(got))
}

func TestQuantity(t *testing.T) {
	cases := []struct {
		name       string
		unit       models.PlanUnit
		start, end time.Time
		want       string
	}{
		{"whole month", models.UnitMonth, march.Start(), march.End(), "1"},
		{"ten days of 31, rounded up", models.UnitMonth, at("2024-03-22 00:00"), march.End(), "0.33"},          // 0.3226
		{"one day of February (29)", models.UnitMonth, at("2024-02-10 10:00"), at("2024-02-10 12:00"), "0.04"}, // 0.0345
		{"quarter plans prorate like month", models.UnitQuarter, at("2024-03-22 00:00"), march.End(), "0.33"},
		{"exact cents stay", models.UnitMonth, at("2024-03-01 00:00"), at("2024-03-31 00:00"), "1"},
		{"quantity unit counts as month", models.UnitQuantity, march.Start(), march.End(), "1"},
		{"first half", models.UnitHalfMonth, march.Start(), at("2024-03-15 23:59"), "1"},
		{"second half", models.UnitHalfMonth, at("2024-03-16 00:00"), march.End(), "1"},
		{"both halves", models.UnitHalfMonth, march.Start(), march.End(), "2"},
		{"from the 1st to the 20th", models.UnitHalfMonth, march.Start(), at("2024-03-20 10:00"), "1.33"}, // 1 + 5/15.5 = 1.3226
		{"inside one half", models.UnitHalfMonth, at("2024-03-03 00:00"), at("2024-03-09 00:00"), "0.46"}, // 7/15.5 = 0.4516
		{"exact day", models.UnitDay, at("2024-03-03 00:00"), at("2024-03-04 00:00"), "1"},
		{"day and a minute", models.UnitDay, at("2024-03-03 00:00"), at("2024-03-04 00:01"), "2"},
		{"whole March in days", models.UnitDay, march.Start(), march.End(), "31"},
		{"whole March in hours", models.UnitHour, march.Start(), march.End(), "744"},
		{"empty", models.UnitHour, at("2024-03-03 00:00"), at("2024-03-03 00:00"), "0"},
		{"negative", models.UnitDay, at("2024-03-03 00:00"), at("2024-03-02 00:00"), "0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, Quantity(c.unit, c.start, c.end).String())
		})
	}
}

func TestLimitChangesWithinADay(t *testing.T) {
	p := &Plan{ID: 1, Name: "A", Unit: models.UnitDay, Components: []Component{
		{ID: 2, Type: "cores", Name: "Cores", BillingType: models.BillingLimit, LimitPeriod: models.LimitMonth, Price: d("1")}}}
	plans := map[int64]*Plan{1: p}
	cases := []struct {
		name    string
		changes []Change
		want    string // item quantity
	}{
		// 10 from 03-01, up to 20 the 11th (20 from the 11th): 10×10 + 20×21.
		{"increase counts the same day", []Change{{At: at("2024-03-01 00:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 10}},
			{At: at("2024-03-11 23:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 20}}}, "520"},
		// Down to 5 the 11th (from the 12th): 10×11 + 5×20.
		{"decrease counts the next day", []Change{{At: at("2024-03-01 00:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 10}},
			{At: at("2024-03-11 01:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 5}}}, "210"},
		// Up on the activation day: the new limit for the whole item (no span before the resource existed).
		{"increase on the activation day", []Change{{At: at("2024-03-05 12:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 10}},
			{At: at("2024-03-05 13:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 30}}}, "810"}, // 27 days × 30
		// Down then up the same day: 10 for that day, 8 from the next.
		{"down then up the same day", []Change{{At: at("2024-03-01 00:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": 10}},
			{At: at("2024-03-10 10:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 5}},
			{At: at("2024-03-10 12:00"), Kind: SetLimits, Limits: map[string]int64{"cores": 8}}}, "268"}, // 10×10 + 8×21
		{"unlimited bills nothing", []Change{{At: at("2024-03-01 00:00"), Kind: Activate, PlanID: 1, Limits: map[string]int64{"cores": -1}}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := Items(&Resource{Name: "r", Changes: c.changes}, plans, march)
			if c.want == "" {
				require.Empty(t, items)
				return
			}
			require.Len(t, items, 1)
			require.Equal(t, c.want, items[0].Quantity.String())
		})
	}
}

func TestCompensate(t *testing.T) {
	items := []Billed{
		{Ref: 1, ProjectID: 1, OfferingID: 10, Price: d("10")},
		{Ref: 2, ProjectID: 1, OfferingID: 10, Price: d("30")},
		{Ref: 3, ProjectID: 2, OfferingID: 10, Price: d("20")},
		{Ref: 4, ProjectID: 3, OfferingID: 20, Price: d("50")},
		{Ref: 5, ProjectID: 3, OfferingID: 20, Price: d("-4")}, // a decrease: never compensated
	}
	today := at("2024-04-01 00:00")
	end := at("2024-07-01 00:00")
	credit := Credit{Value: d("70"), ExpectedConsumption: d("100"), GraceCoefficient: d("10"), ApplyAsMinimal: true}
	require.Equal(t, "90", credit.MinimalConsumption(today).String())

	res := Compensate(items, credit, map[int64]Credit{1: {Value: d("15")}}, decimal.Zero, today)
	type comp struct {
		Ref    int64
		Amount string
		Proj   bool
	}
	var got []comp
	for _, c := range res.Compensations {
		got = append(got, comp{c.Ref, c.Amount.String(), c.FromProject})
	}
	require.Equal(t, []comp{{1, "10", true}, {3, "20", false}, {2, "5", true}, {4, "35", false}}, got)
	require.Equal(t, "70", res.Total.String())
	require.Equal(t, "0", res.Tail.String())
	require.Equal(t, "0", res.CustomerValue.String())
	require.Equal(t, "0", res.ProjectValues[1].String())

	limited := Credit{Value: d("100"), Offerings: []int64{20}, ExpectedConsumption: d("90"), GraceCoefficient: d("10"),
		ApplyAsMinimal: true, EndDate: &end, Logic: LogicLinear}
	limited.ExpectedConsumption = d("100")
	res = Compensate(items, limited, nil, decimal.Zero, today)
	require.Len(t, res.Compensations, 1)
	require.Equal(t, "50", res.Compensations[0].Amount.String())
	require.Equal(t, "40", res.Tail.String())
	require.Equal(t, "10", res.CustomerValue.String())

	after := limited
	after.Value = res.CustomerValue
	after.ExpectedConsumption = d("90")
	require.Equal(t, "3.3", after.LinearExpected(res.Total.Add(res.Tail), today).String())

	// In the credit's last month the whole expected consumption is the minimum.
	require.Equal(t, "90", after.MinimalConsumption(at("2024-07-01 00:00")).String())
	// Nothing to give, nothing given.
	require.Empty(t, Compensate(items, Credit{}, nil, decimal.Zero, today).Compensations)
}

func TestEstimate(t *testing.T) {
	a, b := testPlans[1], testPlans[2]
	limits := map[string]int64{"cores": 4, "storage": 100}
	require.Equal(t, "3", Estimate(a, limits).String())
	require.Equal(t, "38", OrderCost(models.OrderCreate, a, limits).String())
	require.Equal(t, "358", OrderCost(models.OrderUpdate, b, map[string]int64{"cores": 4}).String())
	require.Equal(t, "0", OrderCost(models.OrderTerminate, b, nil).String())
	require.Equal(t, "0", OrderCost(models.OrderCreate, nil, nil).String())
}

func TestTotalsAndMonth(t *testing.T) {
	tot := InvoiceTotals([]decimal.Decimal{d("10.10"), d("5.05")}, d("20"))
	require.Equal(t, []string{"15.15", "3.03", "18.18"}, []string{tot.Price.String(), tot.Tax.String(), tot.Total.String()})
	m, err := ParseMonth("2024-02")
	require.NoError(t, err)
	require.Equal(t, 29, m.Days())
	require.Equal(t, "2024-01", m.Prev().String())
	require.Equal(t, "2024-03", m.Next().String())
	require.Equal(t, time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC), m.End())
	_, err = ParseMonth("2024-13")
	require.True(t, models.IsCode(err, models.CodeInvalid))
	require.True(t, m.Before(march) && !march.Before(m))
}

func TestCurrentQuantity(t *testing.T) {
	now := at("2024-03-10 12:00")
	require.Equal(t, "10", CurrentQuantity(KindPlan, models.UnitDay, march.Start(), march.End(), now, d("31")).String())
	require.Equal(t, "228", CurrentQuantity(KindFixed, models.UnitHour, march.Start(), march.End(), now, d("744")).String())
	require.Equal(t, "1", CurrentQuantity(KindPlan, models.UnitMonth, march.Start(), march.End(), now, d("1")).String())
	require.Equal(t, "78", CurrentQuantity(KindLimit, models.UnitDay, march.Start(), march.End(), now, d("78")).String())
}
