package form

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Bool reads a BooleanField: true/false, 1/0, and the strings "true",
// "false", "1", "0", "yes", "no", "y", "n", "on", "off", "t", "f" in any
// case and with surrounding whitespace. Null is an error.
func (f *Form) Bool(k string) (bool, bool) {
	raw, ok := f.raw[k]
	if !ok {
		return false, false
	}
	if isNull(raw) {
		f.Fail(k, MsgNull)
		return false, false
	}
	return f.boolean(k, raw)
}

// NullBool is Bool for a field that may be null: null gives (nil, true).
func (f *Form) NullBool(k string) (*bool, bool) {
	raw, ok := f.raw[k]
	if !ok {
		return nil, false
	}
	if isNull(raw) {
		return nil, true
	}
	v, ok := f.boolean(k, raw)
	if !ok {
		return nil, false
	}
	return &v, true
}

func (f *Form) boolean(k string, raw json.RawMessage) (bool, bool) {
	switch t := decode(raw).(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1", "yes", "y", "on", "t":
			return true, true
		case "false", "0", "no", "n", "off", "f":
			return false, true
		}
	case json.Number:
		switch t.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	f.Fail(k, MsgBool)
	return false, false
}

// number is a JSON number's text or a string's trimmed text.
func number(raw json.RawMessage) (string, bool) {
	switch t := decode(raw).(type) {
	case json.Number:
		return t.String(), true
	case string:
		return strings.TrimSpace(t), true
	}
	return "", false
}

// integer parses an IntegerField value: a whole number as a JSON number or
// a numeric string, in any notation that has an integral value (60, "60",
// 60.0, 6e1) and fits in 64 bits.
func integer(raw json.RawMessage) (int64, bool) {
	s, ok := number(raw)
	if !ok {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if !tameNumber(s) {
		return 0, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsInteger() || !d.BigInt().IsInt64() {
		return 0, false
	}
	return d.IntPart(), true
}

// present is the common start of a nullable accessor: whether there is a
// value to read (absent and null are not; null is an error unless nullable).
// ok is what the accessor returns when there is none.
func (f *Form) present(k string, nullable bool) (raw json.RawMessage, value, ok bool) {
	raw, has := f.raw[k]
	if !has {
		return nil, false, false
	}
	if isNull(raw) {
		if !nullable {
			f.Fail(k, MsgNull)
		}
		return nil, false, nullable
	}
	return raw, true, true
}

// Int reads an IntegerField within [lo, hi]; null gives (nil, true) when
// nullable.
func (f *Form) Int(k string, lo, hi int64, nullable bool) (*int64, bool) {
	raw, value, ok := f.present(k, nullable)
	if !value {
		return nil, ok
	}
	n, ok := integer(raw)
	switch {
	case !ok:
		f.Fail(k, MsgInteger)
	case n < lo:
		f.Fail(k, fmt.Sprintf(MsgMinValue, strconv.FormatInt(lo, 10)))
	case n > hi:
		f.Fail(k, fmt.Sprintf(MsgMaxValue, strconv.FormatInt(hi, 10)))
	default:
		return &n, true
	}
	return nil, false
}

// IntChoice reads an integer ChoiceField: the value (a number or a numeric
// string) must be one of choices; null gives (nil, true) when nullable. A
// wrong value is reported as sent (`"5" is not a valid choice.`).
func (f *Form) IntChoice(k string, nullable bool, choices ...int) (*int, bool) {
	raw, value, ok := f.present(k, nullable)
	if !value {
		return nil, ok
	}
	if n, ok := integer(raw); ok {
		for _, c := range choices {
			if int64(c) == n {
				v := c
				return &v, true
			}
		}
	}
	f.Fail(k, fmt.Sprintf(MsgChoice, strings.Trim(string(bytes.TrimSpace(raw)), `"`)))
	return nil, false
}

// Float reads a FloatField (finite); null gives (nil, true) when nullable.
func (f *Form) Float(k string, nullable bool) (*float64, bool) {
	raw, value, ok := f.present(k, nullable)
	if !value {
		return nil, ok
	}
	s, ok := number(raw)
	if !ok {
		f.Fail(k, MsgNumber)
		return nil, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		f.Fail(k, MsgNumber)
		return nil, false
	}
	return &v, true
}

// Decimal reads a DecimalField of maxDigits digits, places of them after the
// point, within [lo, hi], with Django's messages. Null is an error.
func (f *Form) Decimal(k string, maxDigits, places int32, lo, hi decimal.Decimal) (decimal.Decimal, bool) {
	raw, value, _ := f.present(k, false)
	if !value {
		return decimal.Zero, false
	}
	s, ok := number(raw)
	if !ok {
		f.Fail(k, MsgNumber)
		return decimal.Zero, false
	}
	if !tameNumber(s) {
		f.Fail(k, MsgNumber)
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil || len(s) > 64:
		f.Fail(k, MsgNumber)
	case -d.Exponent() > places && !d.Equal(d.Round(places)):
		f.Fail(k, fmt.Sprintf("Ensure that there are no more than %d decimal places.", places))
	case int32(len(d.Truncate(0).Abs().String())) > maxDigits-places && !d.Truncate(0).IsZero():
		f.Fail(k, fmt.Sprintf("Ensure that there are no more than %d digits before the decimal point.", maxDigits-places))
	case d.LessThan(lo):
		f.Fail(k, fmt.Sprintf(MsgMinValue, lo.String()))
	case d.GreaterThan(hi):
		f.Fail(k, fmt.Sprintf(MsgMaxValue, hi.String()))
	default:
		return d, true
	}
	return decimal.Zero, false
}

// Date reads a DateField (YYYY-MM-DD, surrounding whitespace ignored); null
// gives (nil, true) when nullable. Any other value is "Date has wrong
// format…".
func (f *Form) Date(k string, nullable bool) (*time.Time, bool) {
	raw, value, ok := f.present(k, nullable)
	if !value {
		return nil, ok
	}
	s, msg := scalarText(raw, false)
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if msg != "" || err != nil {
		f.Fail(k, MsgDate)
		return nil, false
	}
	return &t, true
}

var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
}

// Datetime reads a DateTimeField: RFC 3339, or ISO 8601 without a zone
// (taken as UTC), and a bare YYYY-MM-DD (midnight UTC) when dateOnly. The
// time is returned in UTC. Null gives (nil, true) when nullable; any other
// value is "Datetime has wrong format…".
func (f *Form) Datetime(k string, nullable, dateOnly bool) (*time.Time, bool) {
	raw, value, ok := f.present(k, nullable)
	if !value {
		return nil, ok
	}
	s, msg := scalarText(raw, false)
	if msg == "" {
		if t, ok := ParseDatetime(strings.TrimSpace(s), dateOnly); ok {
			return &t, true
		}
	}
	f.Fail(k, MsgDatetime)
	return nil, false
}

// ParseDatetime parses s as Datetime does (also for query filters).
func ParseDatetime(s string, dateOnly bool) (time.Time, bool) {
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	if dateOnly {
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// tameNumber refuses numeric text that would make arbitrary-precision
// arithmetic explode: longer than 64 characters, or with an exponent beyond
// ±400 ("1e999999999" would otherwise expand into a billion-digit integer
// and stall the request).
func tameNumber(s string) bool {
	if len(s) > 64 {
		return false
	}
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return true
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
	return err == nil && exp >= -400 && exp <= 400
}
