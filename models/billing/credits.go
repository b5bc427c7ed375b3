package billing

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// MinimalConsumptionLogic is how a credit's expected consumption evolves.
type MinimalConsumptionLogic string

// The logics: fixed keeps expected_consumption; linear recomputes it each
// month so that the remaining credit is consumed evenly until its end date.
const (
	LogicFixed  MinimalConsumptionLogic = "fixed"
	LogicLinear MinimalConsumptionLogic = "linear"
)

// Credit is a customer's credit (Waldur's CustomerCredit), or a project's
// (ProjectCredit: its own value and minimal consumption; no offerings).
type Credit struct {
	Value decimal.Decimal
	// Offerings limits what the credit compensates (empty: everything).
	Offerings           []int64
	EndDate             *time.Time // the first day of the month the credit ends; nil: no end
	ExpectedConsumption decimal.Decimal
	Logic               MinimalConsumptionLogic
	GraceCoefficient    decimal.Decimal // percent
	ApplyAsMinimal      bool
}

// MinimalConsumption is what the credit consumes at least in the month that
// ends at today (Waldur's minimal_consumption): 0 unless
// apply_as_minimal_consumption; the whole expected consumption in the
// credit's last month; else (100 − grace coefficient)% of it.
func (c Credit) MinimalConsumption(today time.Time) decimal.Decimal {
	if !c.ApplyAsMinimal {
		return decimal.Zero
	}
	if c.EndDate != nil && MonthOf(*c.EndDate) == MonthOf(today) {
		return c.ExpectedConsumption
	}
	return hundred.Sub(c.GraceCoefficient).Div(hundred).Mul(c.ExpectedConsumption)
}

// timeLeftFactor is the share of the credit's remaining life that the
// current month is: min(1, days in month / days until the end month), 1
// when the end has come.
func (c Credit) timeLeftFactor(today time.Time) decimal.Decimal {
	if c.EndDate == nil {
		return one
	}
	end := MonthOf(*c.EndDate).Start()
	left := int64(end.Sub(dayStart(today)) / (24 * time.Hour))
	if left <= 0 {
		return one
	}
	f := decimal.NewFromInt(int64(MonthOf(today).Days())).DivRound(decimal.NewFromInt(left), QuantityPlaces)
	if f.GreaterThan(one) {
		return one
	}
	return f
}

// LinearExpected is the next expected consumption of a linear credit after
// a month that compensated total: max(0, expected − total) × (1 − f) +
// value × f, f the time-left factor; value is the credit after the month.
func (c Credit) LinearExpected(total decimal.Decimal, today time.Time) decimal.Decimal {
	f := c.timeLeftFactor(today)
	rest := c.ExpectedConsumption.Sub(total)
	if rest.IsNegative() {
		rest = decimal.Zero
	}
	return RoundPrice(rest.Mul(one.Sub(f)).Add(c.Value.Mul(f)))
}

// Billed is an invoice item as compensation sees it.
type Billed struct {
	Ref        int64 // the item's identity for the caller
	ProjectID  int64
	OfferingID int64
	Price      decimal.Decimal
}

// Compensation is a credit applied to one item.
type Compensation struct {
	Ref       int64
	ProjectID int64
	// Amount is what the compensation item takes off the item's price
	// (positive; the compensation's unit price is −Amount, its price that
	// rounded); Consumed is what it took from the credit. They differ only
	// for the item that exhausts a credit, when tax applies: Amount =
	// Consumed ÷ (1 + tax), so that the credit pays the item's tax too.
	Amount, Consumed decimal.Decimal
	// FromProject says the project's credit paid it (and the customer's
	// credit by the same amount, since project credits are shares of it).
	FromProject bool
}

// CompensationResult is the outcome of Compensate.
type CompensationResult struct {
	Compensations []Compensation
	// Total is what the compensations consumed of the customer's credit;
	// Tail what the customer's minimal consumption took on top (no item:
	// the credit is just consumed).
	Total, Tail decimal.Decimal
	// ProjectTails is what each project credit's own minimal consumption
	// took on top of its compensations (from the project's credit and the
	// customer's).
	ProjectTails map[int64]decimal.Decimal
	// CustomerValue and ProjectValues are the credits afterwards.
	CustomerValue decimal.Decimal
	ProjectValues map[int64]decimal.Decimal
}

// Consumed is everything the month took from the customer's credit.
func (r CompensationResult) Consumed() decimal.Decimal {
	sum := r.Total.Add(r.Tail)
	for _, t := range r.ProjectTails {
		sum = sum.Add(t)
	}
	return sum
}

// Compensate applies a customer's credit (and its projects' credits) to
// the items of a month being finalized (Waldur's MonthlyCompensation):
// items of the credit's offerings (all when none are named) with a
// positive price, cheapest first (ties by Ref), are compensated: an item of
// a project with a credit from that project's credit, up to its value, and
// the customer's credit by the same amount; any other item from the
// customer's credit. It stops when the customer's credit is used up; no
// compensation exceeds what the customer's credit has left (Waldur lets a
// project credit overdraw it). An item the credit covers is compensated
// its price before tax; the item that exhausts a credit is compensated
// what is left ÷ (1 + taxPercent/100), so the credit pays its share of the
// tax too. Then the minimal consumptions: each project credit's own (what
// its compensations fall short of its MinimalConsumption, from the project
// and the customer), then the customer's (what everything so far falls
// short of its MinimalConsumption), each at most what is left.
func Compensate(items []Billed, c Credit, projects map[int64]Credit, taxPercent decimal.Decimal, today time.Time) CompensationResult {
	res := CompensationResult{CustomerValue: c.Value, ProjectValues: map[int64]decimal.Decimal{}, ProjectTails: map[int64]decimal.Decimal{}}
	for k, v := range projects {
		res.ProjectValues[k] = v.Value
	}
	if !c.Value.IsPositive() {
		return res
	}
	allowed := map[int64]bool{}
	for _, id := range c.Offerings {
		allowed[id] = true
	}
	var eligible []Billed
	for _, it := range items {
		if it.Price.IsPositive() && (len(allowed) == 0 || allowed[it.OfferingID]) {
			eligible = append(eligible, it)
		}
	}
	sort.SliceStable(eligible, func(i, j int) bool {
		if !eligible[i].Price.Equal(eligible[j].Price) {
			return eligible[i].Price.LessThan(eligible[j].Price)
		}
		return eligible[i].Ref < eligible[j].Ref
	})
	taxFactor := one.Add(taxPercent.Div(hundred))
	used := map[int64]decimal.Decimal{} // per project credit
	for _, it := range eligible {
		if !res.CustomerValue.IsPositive() {
			break
		}
		avail := res.CustomerValue
		pv, hasProject := res.ProjectValues[it.ProjectID]
		if hasProject {
			avail = decimal.Min(avail, pv)
		}
		if !avail.IsPositive() {
			continue
		}
		amount, consumed := it.Price, it.Price
		if it.Price.GreaterThan(avail) {
			consumed = avail
			amount = avail.DivRound(taxFactor, QuantityPlaces)
		}
		if hasProject {
			res.ProjectValues[it.ProjectID] = pv.Sub(consumed)
			used[it.ProjectID] = used[it.ProjectID].Add(consumed)
		}
		res.CustomerValue = res.CustomerValue.Sub(consumed)
		res.Total = res.Total.Add(consumed)
		res.Compensations = append(res.Compensations, Compensation{Ref: it.Ref, ProjectID: it.ProjectID, Amount: amount,
			Consumed: consumed, FromProject: hasProject})
	}
	ids := make([]int64, 0, len(projects))
	for id := range projects {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	consumed := res.Total
	for _, id := range ids {
		minimal := projects[id].MinimalConsumption(today)
		if !used[id].LessThan(minimal) {
			continue
		}
		tail := decimal.Min(minimal.Sub(used[id]), res.ProjectValues[id], res.CustomerValue)
		if !tail.IsPositive() {
			continue
		}
		res.ProjectTails[id] = tail
		res.ProjectValues[id] = res.ProjectValues[id].Sub(tail)
		res.CustomerValue = res.CustomerValue.Sub(tail)
		consumed = consumed.Add(tail)
	}
	if minimal := c.MinimalConsumption(today); consumed.LessThan(minimal) {
		res.Tail = decimal.Min(minimal.Sub(consumed), res.CustomerValue)
		res.CustomerValue = res.CustomerValue.Sub(res.Tail)
	}
	return res
}
