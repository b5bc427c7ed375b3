package billing

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
)

// Estimate is what the plan costs per plan unit with these limits
// (Waldur's Plan.get_estimate): the plan's unit price, which stands for
// its fixed part (it is an estimate only: the invoice bills the fixed
// components), plus limit components of a recurring period (price ×
// limit / unit factor).
func Estimate(p *Plan, limits map[string]int64) decimal.Decimal {
	if p == nil {
		return decimal.Zero
	}
	cost := p.UnitPrice
	for i := range p.Components {
		c := &p.Components[i]
		switch {
		case c.BillingType == models.BillingLimit && c.LimitPeriod != models.LimitTotal:
			cost = cost.Add(c.Price.Mul(c.convert(decimal.NewFromInt(limitOf(limits, c.Type)))))
		}
	}
	return cost
}

// OrderCost is an order's cost (Waldur's Order.init_cost): the plan's
// Estimate plus, for a Create order, the one-time components and the
// total-period limits it will be charged on activation, or for an Update
// order that switches plan, the switch components. A terminate order, or
// an order without a plan, costs nothing.
func OrderCost(t models.OrderType, p *Plan, limits map[string]int64) decimal.Decimal {
	if p == nil || t == models.OrderTerminate {
		return decimal.Zero
	}
	cost := Estimate(p, limits)
	for i := range p.Components {
		c := &p.Components[i]
		switch {
		case t == models.OrderCreate && c.BillingType == models.BillingOne:
			cost = cost.Add(c.Price)
		case t == models.OrderCreate && c.BillingType == models.BillingLimit && c.LimitPeriod == models.LimitTotal:
			cost = cost.Add(c.Price.Mul(c.convert(decimal.NewFromInt(limitOf(limits, c.Type)))))
		case t == models.OrderUpdate && c.BillingType == models.BillingFew:
			cost = cost.Add(c.Price)
		}
	}
	return cost
}

// Totals are an invoice's sums.
type Totals struct {
	Price, Tax, Total decimal.Decimal
}

// InvoiceTotals sums item prices: price = Σ prices; tax = price × tax
// percent / 100, rounded to cents; total = price + tax.
func InvoiceTotals(prices []decimal.Decimal, taxPercent decimal.Decimal) Totals {
	sum := decimal.Zero
	for _, p := range prices {
		sum = sum.Add(p)
	}
	return TotalsOf(sum, taxPercent)
}

// TotalsOf is InvoiceTotals from the sum of the prices.
func TotalsOf(price, taxPercent decimal.Decimal) Totals {
	tax := RoundTax(price.Mul(taxPercent).Div(hundred))
	return Totals{Price: price, Tax: tax, Total: price.Add(tax)}
}

// CurrentQuantity is an item's quantity up to now (Waldur's price_current):
// for hour and day items the started hours or days from start to
// min(end, now); the stored quantity for every other unit. Only the plan's
// own price and fixed components accrue this way (a limit item's quantity
// is limit × units, kept as stored).
func CurrentQuantity(kind ItemKind, unit models.PlanUnit, start, end, now time.Time, stored decimal.Decimal) decimal.Decimal {
	if kind != KindPlan && kind != KindFixed {
		return stored
	}
	if now.Before(end) {
		end = now
	}
	switch unit {
	case models.UnitHour:
		return decimal.NewFromInt(FullHours(start, end))
	case models.UnitDay:
		return decimal.NewFromInt(FullDays(start, end))
	}
	return stored
}
