package billing

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
)

// QuantityPlaces is the precision of stored quantities and unit prices
// (the NUMERIC(22,10) columns); PricePlaces that of prices (cents).
const (
	QuantityPlaces = 10
	PricePlaces    = 2
)

var (
	one     = decimal.NewFromInt(1)
	two     = decimal.NewFromInt(2)
	hundred = decimal.NewFromInt(100)
)

// RoundPrice rounds money to cents away from zero, as Waldur rounds prices
// and prorated quantities (ROUND_UP to 0.01): 33.333 → 33.34, 0.3226 →
// 0.33, −83.333 → −83.34.
func RoundPrice(d decimal.Decimal) decimal.Decimal { return d.RoundUp(PricePlaces) }

// RoundTax rounds a tax amount to cents, half away from zero.
func RoundTax(d decimal.Decimal) decimal.Decimal { return d.Round(PricePlaces) }

// Price is what an item costs: unit price × quantity, rounded to cents.
func Price(unitPrice, quantity decimal.Decimal) decimal.Decimal {
	return RoundPrice(unitPrice.Mul(quantity))
}

// ceilDiv counts started periods of length p in [start, end]: a partial
// period counts as a whole one; an empty or negative span is 0.
func ceilDiv(start, end time.Time, p time.Duration) int64 {
	d := end.Sub(start)
	if d <= 0 {
		return 0
	}
	n := int64(d / p)
	if d%p != 0 {
		n++
	}
	return n
}

// FullHours is Waldur's get_full_hours: started hours between start and end.
func FullHours(start, end time.Time) int64 { return ceilDiv(start, end, time.Hour) }

// FullDays is Waldur's get_full_days: started 24-hour days between start
// and end (a partial day is a whole one).
func FullDays(start, end time.Time) int64 { return ceilDiv(start, end, 24*time.Hour) }

// Quantity is how many plan units the span [start, end] of one month
// counts, Waldur's get_quantity (end is inclusive: an item running to the
// end of the month ends at Month.End()):
//
//   - hour: started hours, FullHours;
//   - day: started days, FullDays;
//   - half_month: 1 for the 1st–15th or the 16th–last day, 2 for the whole
//     month; otherwise, with h = days in month / 2, rounded up to cents:
//     from the 1st to day e > 15: 1 + (e − 15)/h; from day s < 16 to the
//     last day: 1 + (16 − s)/h; else (e − s + 1)/h;
//   - month (and any other unit, quantity and quarter included, as in
//     Waldur): 1 from the 1st to the last day, else (whole days of end −
//     start + 1) / days in month, rounded up to cents.
//
// Rounded quantities are rounded up (RoundPrice), as Waldur does.
func Quantity(unit models.PlanUnit, start, end time.Time) decimal.Decimal {
	start, end = start.UTC(), end.UTC()
	switch unit {
	case models.UnitHour:
		return decimal.NewFromInt(FullHours(start, end))
	case models.UnitDay:
		return decimal.NewFromInt(FullDays(start, end))
	}
	if end.Before(start) {
		return decimal.Zero
	}
	md := MonthOf(start).Days()
	s, e := start.Day(), end.Day()
	if unit == models.UnitHalfMonth {
		half := decimal.NewFromInt(int64(md)).Div(two)
		frac := func(days int) decimal.Decimal {
			return decimal.NewFromInt(int64(days)).DivRound(half, QuantityPlaces)
		}
		switch {
		case (s == 1 && e == 15) || (s == 16 && e == md):
			return one
		case s == 1 && e == md:
			return two
		case s == 1 && e > 15:
			return RoundPrice(one.Add(frac(e - 15)))
		case s < 16 && e == md:
			return RoundPrice(one.Add(frac(16 - s)))
		default:
			return RoundPrice(frac(e - s + 1))
		}
	}
	if s == 1 && e == md {
		return one
	}
	days := int64(end.Sub(start)/(24*time.Hour)) + 1
	return RoundPrice(decimal.NewFromInt(days).DivRound(decimal.NewFromInt(int64(md)), QuantityPlaces))
}
