package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/models"
)

// DRF's field messages.
const (
	msgRequired = "This field is required."
	msgNull     = "This field may not be null."
	msgBlank    = "This field may not be blank."
	msgString   = "Not a valid string."
	msgBool     = "Must be a valid boolean."
	msgInt      = "A valid integer is required."
	msgEmail    = "Enter a valid email address."
	msgDate     = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	maxBody     = 1 << 20
)

// form is a JSON object request body read field by field with DRF's
// coercions and messages; errors accumulate per field and are returned
// together by err. Unknown fields are ignored.
type form struct {
	raw  map[string]json.RawMessage
	errs map[string][]string
}

// readForm parses the body as a JSON object (an empty body is an empty
// object). A malformed body is answered here, as DRF's ParseError
// ({"detail": "JSON parse error - …"}), and ok is false.
func readForm(c *gin.Context) (f *form, ok bool) {
	f = &form{raw: map[string]json.RawMessage{}, errs: map[string][]string{}}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if err != nil {
		api.WriteError(c, models.Errorf(models.CodeInvalid, "Could not read the request body."))
		return nil, false
	}
	if len(b) > maxBody {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, api.ErrorBody{Detail: "Request body is too large."})
		return nil, false
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return f, true
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, api.ErrorBody{Detail: "JSON parse error - " + err.Error()})
		return nil, false
	}
	if _, isObj := v.(map[string]any); !isObj {
		api.WriteError(c, models.Errorf(models.CodeInvalid, "Invalid data. Expected a dictionary, but got %s.", jsonKind(v)))
		return nil, false
	}
	if err := json.Unmarshal(b, &f.raw); err != nil {
		api.WriteError(c, models.Internal(err))
		return nil, false
	}
	return f, true
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64:
		return "int"
	case nil:
		return "NoneType"
	}
	return "value"
}

func (f *form) fail(k, msg string) { f.errs[k] = append(f.errs[k], msg) }

// err is the accumulated field errors (400), nil when there are none.
func (f *form) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	e := models.Errorf(models.CodeInvalid, "Invalid input.")
	e.Fields = f.errs
	return e
}

func (f *form) has(k string) bool { _, ok := f.raw[k]; return ok }

func isNull(r json.RawMessage) bool { return string(bytes.TrimSpace(r)) == "null" }

// scalar decodes a JSON scalar; composite values give ok=false.
func scalar(r json.RawMessage) (v any, ok bool) {
	d := json.NewDecoder(bytes.NewReader(r))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil, false
	}
	return v, true
}

// str reads a CharField: numbers are accepted as their text, surrounding
// whitespace is trimmed; null, blank (unless allowed), over-long values and
// other types are field errors. present is false when the key is absent.
func (f *form) str(k string, maxLen int, allowBlank bool) (val string, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return "", false
	}
	if isNull(r) {
		f.fail(k, msgNull)
		return "", false
	}
	v, ok := scalar(r)
	switch t := v.(type) {
	case string:
		val = strings.TrimSpace(t)
	case json.Number:
		val = t.String()
	default:
		ok = false
	}
	if !ok {
		f.fail(k, msgString)
		return "", false
	}
	if val == "" && !allowBlank {
		f.fail(k, msgBlank)
		return "", false
	}
	if maxLen > 0 && utf8.RuneCountInString(val) > maxLen {
		f.fail(k, fmt.Sprintf("Ensure this field has no more than %d characters.", maxLen))
		return "", false
	}
	return val, true
}

// boolean reads a BooleanField (true/false, "true"/"false", 1/0 and DRF's other spellings).
func (f *form) boolean(k string) (val, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return false, false
	}
	if isNull(r) {
		f.fail(k, msgNull)
		return false, false
	}
	v, _ := scalar(r)
	switch t := v.(type) {
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
	f.fail(k, msgBool)
	return false, false
}

// integer parses an IntegerField value (a JSON number or a numeric string).
func integer(r json.RawMessage) (int64, bool) {
	v, _ := scalar(r)
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	// DRF accepts integral floats such as 60.0.
	if x, err := strconv.ParseFloat(s, 64); err == nil && x == float64(int64(x)) {
		return int64(x), true
	}
	return 0, false
}

// nullInt reads a nullable IntegerField bounded by lo..hi.
func (f *form) nullInt(k string, lo, hi int64) (val *int, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return nil, false
	}
	if isNull(r) {
		return nil, true
	}
	n, ok := integer(r)
	switch {
	case !ok:
		f.fail(k, msgInt)
	case n < lo:
		f.fail(k, fmt.Sprintf("Ensure this value is greater than or equal to %d.", lo))
	case n > hi:
		f.fail(k, fmt.Sprintf("Ensure this value is less than or equal to %d.", hi))
	default:
		v := int(n)
		return &v, true
	}
	return nil, false
}

// nullChoice reads a nullable integer choice.
func (f *form) nullChoice(k string, choices ...int) (val *int, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return nil, false
	}
	if isNull(r) {
		return nil, true
	}
	n, ok := integer(r)
	if ok {
		for _, c := range choices {
			if int64(c) == n {
				v := c
				return &v, true
			}
		}
	}
	f.fail(k, fmt.Sprintf("%q is not a valid choice.", strings.Trim(string(bytes.TrimSpace(r)), `"`)))
	return nil, false
}

// nullDate reads a nullable DateField (YYYY-MM-DD).
func (f *form) nullDate(k string) (val *time.Time, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return nil, false
	}
	if isNull(r) {
		return nil, true
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		if d, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil {
			return &d, true
		}
	}
	f.fail(k, msgDate)
	return nil, false
}

// strList reads a ListField of CharFields.
func (f *form) strList(k string, maxItemLen int) (val []string, present bool) {
	r, ok := f.raw[k]
	if !ok {
		return nil, false
	}
	if isNull(r) {
		f.fail(k, msgNull)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r, &items); err != nil {
		v, _ := scalar(r)
		f.fail(k, fmt.Sprintf("Expected a list of items but got type %q.", jsonKind(v)))
		return nil, false
	}
	val = make([]string, 0, len(items))
	for _, it := range items {
		v, ok := scalar(it)
		var s string
		switch t := v.(type) {
		case string:
			s = strings.TrimSpace(t)
		case json.Number:
			s = t.String()
		default:
			ok = false
		}
		if !ok || isNull(it) {
			f.fail(k, msgString)
			return nil, false
		}
		if s == "" {
			f.fail(k, msgBlank)
			return nil, false
		}
		if maxItemLen > 0 && utf8.RuneCountInString(s) > maxItemLen {
			f.fail(k, fmt.Sprintf("Ensure this field has no more than %d characters.", maxItemLen))
			return nil, false
		}
		val = append(val, s)
	}
	return val, true
}

// emailRe is a pragmatic form of Django's EmailValidator.
var emailRe = regexp.MustCompile(`^[^@\s]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$|^[^@\s]+@localhost$`)

func validEmail(s string) bool { return len(s) <= 320 && emailRe.MatchString(s) }
