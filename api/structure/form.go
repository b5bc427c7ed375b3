package structure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// DRF's field messages.
const (
	msgRequired  = "This field is required."
	msgNull      = "This field may not be null."
	msgBlank     = "This field may not be blank."
	msgString    = "Not a valid string."
	msgBool      = "Must be a valid boolean."
	msgInteger   = "A valid integer is required."
	msgNumber    = "A valid number is required."
	msgDate      = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	msgDatetime  = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
	msgEmail     = "Enter a valid email address."
	msgURL       = "Enter a valid URL."
	msgUUID      = "Must be a valid UUID."
	msgSlug      = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
	msgList      = `Expected a list of items but got type "%s".`
	maxBodyBytes = 1 << 20
)

// form is a JSON request body read field by field, as a DRF serializer does:
// unknown keys are ignored, each known key is type-checked on its own and
// every problem is collected as a field → messages error.
type form struct {
	raw  map[string]json.RawMessage
	errs map[string][]string
}

// readForm reads the request body as a JSON object. An empty body is an
// empty object; anything but an object is a 400.
func readForm(c *gin.Context) (*form, error) {
	f := &form{raw: map[string]json.RawMessage{}, errs: map[string][]string{}}
	if c.Request.Body == nil {
		return f, nil
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBodyBytes+1))
	if err != nil {
		return nil, models.Errorf(models.CodeInvalid, "Could not read the request body.")
	}
	if len(b) > maxBodyBytes {
		return nil, models.Errorf(models.CodeInvalid, "Request body is too large.")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return f, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, models.Errorf(models.CodeInvalid, "JSON parse error - %s", err.Error())
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, models.Errorf(models.CodeInvalid, "Invalid data. Expected a dictionary, but got %s.", jsonKind(v))
	}
	if err := json.Unmarshal(b, &f.raw); err != nil {
		return nil, models.Internal(err)
	}
	return f, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case float64:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "dict"
}

func (f *form) has(k string) bool { _, ok := f.raw[k]; return ok }

func (f *form) isNull(k string) bool { return string(f.raw[k]) == "null" }

func (f *form) fail(k, msg string) { f.errs[k] = append(f.errs[k], msg) }

func (f *form) failed(k string) bool { return len(f.errs[k]) > 0 }

// err returns the collected field errors, nil when there are none.
func (f *form) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	e := models.Errorf(models.CodeInvalid, "Invalid input.")
	e.Fields = f.errs
	return e
}

// text reads a JSON string (or number, which DRF's CharField accepts) without
// validation; ok is false when absent, null or of the wrong type (the
// error is recorded unless the key is absent).
func (f *form) text(k string) (string, bool) {
	raw, present := f.raw[k]
	if !present {
		return "", false
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		f.fail(k, msgString)
		return "", false
	}
	switch x := v.(type) {
	case nil:
		f.fail(k, msgNull)
		return "", false
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	}
	f.fail(k, msgString)
	return "", false
}

// str reads a CharField: trimmed, with a maximum length (0: none), blank
// allowed or not. ok is false when absent or invalid.
func (f *form) str(k string, maxLen int, allowBlank bool) (string, bool) {
	v, ok := f.text(k)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	if strings.ContainsRune(v, 0) {
		f.fail(k, "Null characters are not allowed.")
		return "", false
	}
	if v == "" && !allowBlank {
		f.fail(k, msgBlank)
		return "", false
	}
	if maxLen > 0 && utf8.RuneCountInString(v) > maxLen {
		f.fail(k, fmt.Sprintf("Ensure this field has no more than %d characters.", maxLen))
		return "", false
	}
	return v, true
}

// nullableStr is str for a field that may be null: null gives ("", true, true).
func (f *form) nullableStr(k string, maxLen int, allowBlank bool) (v string, isNull, ok bool) {
	if f.has(k) && f.isNull(k) {
		return "", true, true
	}
	v, ok = f.str(k, maxLen, allowBlank)
	return v, false, ok
}

// requireStr is str for a required field.
func (f *form) requireStr(k string, maxLen int) (string, bool) {
	if !f.has(k) {
		f.fail(k, msgRequired)
		return "", false
	}
	return f.str(k, maxLen, false)
}

// boolean reads a BooleanField (true/false, 1/0 and their string forms).
func (f *form) boolean(k string) (bool, bool) {
	raw, present := f.raw[k]
	if !present {
		return false, false
	}
	switch strings.ToLower(strings.Trim(string(raw), `"`)) {
	case "true", "1", "yes", "on", "y", "t":
		return true, true
	case "false", "0", "no", "off", "n", "f":
		return false, true
	case "null":
		f.fail(k, msgNull)
		return false, false
	}
	f.fail(k, msgBool)
	return false, false
}

// number reads a JSON number or numeric string as its decimal text.
func (f *form) number(k string) (string, bool) {
	raw := f.raw[k]
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

// integer reads an IntegerField within [lo, hi]; null is allowed when
// nullable (returning nil, true).
func (f *form) integer(k string, lo, hi int64, nullable bool) (*int64, bool) {
	if !f.has(k) {
		return nil, false
	}
	if f.isNull(k) {
		if nullable {
			return nil, true
		}
		f.fail(k, msgNull)
		return nil, false
	}
	s, ok := f.number(k)
	if !ok {
		f.fail(k, msgInteger)
		return nil, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d, derr := decimal.NewFromString(s)
		if derr != nil || !d.IsInteger() || !d.BigInt().IsInt64() {
			f.fail(k, msgInteger)
			return nil, false
		}
		n = d.IntPart()
	}
	if n < lo {
		f.fail(k, fmt.Sprintf("Ensure this value is greater than or equal to %d.", lo))
		return nil, false
	}
	if n > hi {
		f.fail(k, fmt.Sprintf("Ensure this value is less than or equal to %d.", hi))
		return nil, false
	}
	return &n, true
}

// float reads a FloatField; null is allowed when nullable.
func (f *form) float(k string, nullable bool) (*float64, bool) {
	if !f.has(k) {
		return nil, false
	}
	if f.isNull(k) {
		if nullable {
			return nil, true
		}
		f.fail(k, msgNull)
		return nil, false
	}
	s, ok := f.number(k)
	if !ok {
		f.fail(k, msgNumber)
		return nil, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		f.fail(k, msgNumber)
		return nil, false
	}
	return &v, true
}

// decimalField reads a DecimalField with Django's digit limits and bounds.
func (f *form) decimalField(k string, maxDigits, places int32, lo, hi decimal.Decimal) (decimal.Decimal, bool) {
	if !f.has(k) {
		return decimal.Zero, false
	}
	if f.isNull(k) {
		f.fail(k, msgNull)
		return decimal.Zero, false
	}
	s, ok := f.number(k)
	if !ok {
		f.fail(k, msgNumber)
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil || len(s) > 64 {
		f.fail(k, msgNumber)
		return decimal.Zero, false
	}
	if -d.Exponent() > places && !d.Equal(d.Round(places)) {
		f.fail(k, fmt.Sprintf("Ensure that there are no more than %d decimal places.", places))
		return decimal.Zero, false
	}
	if digits := int32(len(d.Truncate(0).Abs().String())); digits > maxDigits-places && !d.Truncate(0).IsZero() {
		f.fail(k, fmt.Sprintf("Ensure that there are no more than %d digits before the decimal point.", maxDigits-places))
		return decimal.Zero, false
	}
	if d.LessThan(lo) {
		f.fail(k, fmt.Sprintf("Ensure this value is greater than or equal to %s.", lo.String()))
		return decimal.Zero, false
	}
	if d.GreaterThan(hi) {
		f.fail(k, fmt.Sprintf("Ensure this value is less than or equal to %s.", hi.String()))
		return decimal.Zero, false
	}
	return d, true
}

// date reads a DateField (YYYY-MM-DD); null is allowed when nullable.
func (f *form) date(k string, nullable bool) (*time.Time, bool) {
	if !f.has(k) {
		return nil, false
	}
	if f.isNull(k) {
		if nullable {
			return nil, true
		}
		f.fail(k, msgNull)
		return nil, false
	}
	s, ok := f.text(k)
	if !ok {
		delete(f.errs, k)
		f.fail(k, msgDate)
		return nil, false
	}
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		f.fail(k, msgDate)
		return nil, false
	}
	return &t, true
}

// datetime reads a DateTimeField: RFC 3339, or ISO 8601 without zone (UTC),
// and, when dateOnly is set, a bare YYYY-MM-DD (midnight UTC). Null is
// allowed when nullable.
func (f *form) datetime(k string, nullable, dateOnly bool) (*time.Time, bool) {
	if !f.has(k) {
		return nil, false
	}
	if f.isNull(k) {
		if nullable {
			return nil, true
		}
		f.fail(k, msgNull)
		return nil, false
	}
	s, ok := f.text(k)
	if !ok {
		delete(f.errs, k)
		f.fail(k, msgDatetime)
		return nil, false
	}
	t, ok := parseDatetime(strings.TrimSpace(s), dateOnly)
	if !ok {
		f.fail(k, msgDatetime)
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

func parseDatetime(s string, dateOnly bool) (time.Time, bool) {
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

// choice reads a ChoiceField over choices (blank allowed when allowBlank).
func (f *form) choice(k string, choices map[string]bool, allowBlank bool) (string, bool) {
	v, ok := f.text(k)
	if !ok {
		return "", false
	}
	if v == "" && allowBlank {
		return "", true
	}
	if !choices[v] {
		f.fail(k, fmt.Sprintf("%q is not a valid choice.", v))
		return "", false
	}
	return v, true
}

// uuid reads a UUIDField.
func (f *form) uuid(k string) (models.UUID, bool) {
	v, ok := f.text(k)
	if !ok {
		return models.NilUUID, false
	}
	id, err := models.ParseUUID(strings.TrimSpace(v))
	if err != nil {
		f.fail(k, msgUUID)
		return models.NilUUID, false
	}
	return id, true
}

var (
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	slugRe  = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)
)

// email reads an EmailField (blank allowed).
func (f *form) email(k string, maxLen int) (string, bool) {
	v, ok := f.str(k, maxLen, true)
	if !ok {
		return "", false
	}
	if v != "" && !emailRe.MatchString(v) {
		f.fail(k, msgEmail)
		return "", false
	}
	return v, true
}

// url reads a URLField (blank allowed): http(s) or ftp(s) with a host.
func (f *form) url(k string, maxLen int) (string, bool) {
	v, ok := f.str(k, maxLen, true)
	if !ok {
		return "", false
	}
	if v == "" {
		return "", true
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || strings.ContainsAny(v, " \t") {
		f.fail(k, msgURL)
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp", "ftps":
		return v, true
	}
	f.fail(k, msgURL)
	return "", false
}

// slug reads a SlugField.
func (f *form) slug(k string, maxLen int) (string, bool) {
	v, ok := f.str(k, maxLen, false)
	if !ok {
		return "", false
	}
	if !slugRe.MatchString(v) {
		f.fail(k, msgSlug)
		return "", false
	}
	return v, true
}

// quotaLimits reads our `quotas` field: [{"name": …, "limit": …}], names
// from allowed, limits -1 (unlimited) or more.
func (f *form) quotaLimits(k string, allowed []string) (map[string]int64, bool) {
	raw, present := f.raw[k]
	if !present {
		return nil, false
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		var v any
		_ = json.Unmarshal(raw, &v)
		f.fail(k, fmt.Sprintf(msgList, jsonKind(v)))
		return nil, false
	}
	known := map[string]bool{}
	for _, n := range allowed {
		known[n] = true
	}
	out := map[string]int64{}
	for _, it := range items {
		sub := &form{raw: it, errs: map[string][]string{}}
		name, okName := sub.requireStr("name", 150)
		if !sub.has("limit") {
			sub.fail("limit", msgRequired)
		}
		limit, okLimit := sub.integer("limit", -1, math.MaxInt64, false)
		if okName && !known[name] {
			f.fail(k, fmt.Sprintf("Unknown quota %q; valid names are %s.", name, strings.Join(allowed, ", ")))
			continue
		}
		if !okName || !okLimit {
			for fk, msgs := range sub.errs {
				for _, m := range msgs {
					f.fail(k, fk+": "+m)
				}
			}
			continue
		}
		out[name] = *limit
	}
	if f.failed(k) {
		return nil, false
	}
	return out, true
}

// ref reads a hyperlinked reference (object URL or bare UUID) to an object
// of collection. A null is the zero UUID when nullable.
func (f *form) ref(k, collection string, nullable, required bool) (models.UUID, bool) {
	if !f.has(k) {
		if required {
			f.fail(k, msgRequired)
		}
		return models.NilUUID, false
	}
	if f.isNull(k) {
		if nullable {
			return models.NilUUID, true
		}
		f.fail(k, msgNull)
		return models.NilUUID, false
	}
	v, ok := f.text(k)
	if !ok {
		return models.NilUUID, false
	}
	id, err := rest.ParseRef(k, v, collection)
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && len(e.Fields[k]) > 0 {
			for _, msg := range e.Fields[k] {
				f.fail(k, msg)
			}
		} else {
			f.fail(k, rest.MsgNoMatch)
		}
		return models.NilUUID, false
	}
	return id, true
}
