// Package billing is the arithmetic of Waldur's invoices, with no I/O: the
// billing month, prorating by plan unit, the invoice items a resource's
// history gives for a month (per billing type: fixed, usage, limit, one,
// few), credits and minimal consumption, invoice totals and the cost
// estimates of plans and orders. All money is exact (shopspring/decimal);
// the rules, and where they depart from Waldur, are written next to each
// function and worked by hand in testdata/.
package billing

import (
	"fmt"
	"time"

	"github.com/waldur-go/waldur/models"
)

// Month is a calendar month in UTC, the period of one invoice.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month containing t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{Year: t.Year(), Month: t.Month()}
}

// ParseMonth reads "YYYY-MM". Codes: invalid.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 1 {
		return Month{}, models.Errorf(models.CodeInvalid, "Month must be YYYY-MM, got %q.", s)
	}
	return MonthOf(t), nil
}

// String is "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// IsZero reports the zero Month.
func (m Month) IsZero() bool { return m.Year == 0 }

// Start is 00:00 UTC on the first day.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the last microsecond of the month (Waldur's month_end, 23:59:59.999999
// on the last day): the end of an item that runs to the end of its month.
func (m Month) End() time.Time { return m.Next().Start().Add(-time.Microsecond) }

// Next is the following month.
func (m Month) Next() Month { return MonthOf(m.Start().AddDate(0, 1, 0)) }

// Prev is the preceding month.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, -1, 0)) }

// Days is the number of days in the month.
func (m Month) Days() int { return m.Next().Start().AddDate(0, 0, -1).Day() }

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool {
	return m.Year < o.Year || (m.Year == o.Year && m.Month < o.Month)
}

// Contains reports whether t falls in the month.
func (m Month) Contains(t time.Time) bool { return MonthOf(t) == m }

// MarshalText writes "YYYY-MM", or "" for the zero Month, so a Month
// travels through JSON (Temporal payloads, histories) as the string it
// replaced and recorded histories replay unchanged.
func (m Month) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return []byte{}, nil
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "YYYY-MM"; "" is the zero Month. Codes: invalid.
func (m *Month) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = Month{}
		return nil
	}
	v, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
