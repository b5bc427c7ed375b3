// Package form reads a JSON request body field by field, the way a Django
// REST framework serializer does: unknown keys are ignored, each known key
// is type-checked on its own, and every problem is collected as a
// field → [messages] error with DRF's wording, returned at once by Err.
//
// An accessor returns the value and ok. ok is false when the key is absent
// (nothing is recorded, unless the accessor is told the field is required)
// and when the value is invalid (the message is recorded on the key). The
// nullable accessors report a JSON null as ok with a nil (or zero) value.
//
//	f, err := form.Read(c)
//	if err != nil {
//		return err
//	}
//	name, _ := f.RequireStr("name", 150)
//	limit, _ := f.Int("limit", -1, math.MaxInt64, true)
//	if err := f.Err(); err != nil {
//		return err // 400 {"name": ["This field is required."], …}
//	}
package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// DRF's field messages. The ones with a verb take the limit or the value.
const (
	MsgRequired  = "This field is required."
	MsgNull      = "This field may not be null."
	MsgBlank     = "This field may not be blank."
	MsgString    = "Not a valid string."
	MsgNullChars = "Null characters are not allowed."
	MsgMaxLength = "Ensure this field has no more than %d characters."
	MsgBool      = "Must be a valid boolean."
	MsgInteger   = "A valid integer is required."
	MsgNumber    = "A valid number is required."
	MsgMinValue  = "Ensure this value is greater than or equal to %s."
	MsgMaxValue  = "Ensure this value is less than or equal to %s."
	MsgDate      = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	MsgDatetime  = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
	MsgChoice    = "%q is not a valid choice."
	MsgEmail     = "Enter a valid email address."
	MsgURL       = "Enter a valid URL."
	MsgUUID      = "Must be a valid UUID."
	MsgSlug      = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
	MsgNotAList  = `Expected a list of items but got type "%s".`
	MsgNotAnObj  = "Invalid data. Expected a dictionary, but got %s."
)

// MaxBody bounds a request body (1 MiB); the API answers 413 to a larger
// one before any handler reads it.
const MaxBody = 1 << 20

// What went wrong with a body Read could not take. The error Read returns
// is a *models.Error (a 400 with DRF's message; a 413 for ErrTooLarge) that wraps one of these, so
// a module that answers some of them differently can tell them apart with
// errors.Is.
var (
	ErrUnreadable = errors.New("form: the request body could not be read")
	ErrTooLarge   = errors.New("form: the request body is larger than MaxBody")
	ErrSyntax     = errors.New("form: the request body is not JSON")
	ErrNotObject  = errors.New("form: the request body is not a JSON object")
)

// Form is a JSON object read from a request body, with the field errors
// found so far. Its zero value is not usable: get one from Read.
type Form struct {
	raw  map[string]json.RawMessage
	errs map[string][]string
}

func newForm(raw map[string]json.RawMessage) *Form {
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	return &Form{raw: raw, errs: map[string][]string{}}
}

// Read reads the request body as a JSON object. An empty (or all blank) body
// is an empty object. Anything else is an error wrapping ErrUnreadable,
// ErrTooLarge (over MaxBody), ErrSyntax ("JSON parse error - …") or
// ErrNotObject ("Invalid data. Expected a dictionary, but got list.", the
// type named as Python would).
func Read(c *gin.Context) (*Form, error) {
	if c.Request.Body == nil {
		return newForm(nil), nil
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBody+1))
	var over *http.MaxBytesError
	if errors.As(err, &over) {
		return nil, &models.Error{Code: models.CodeTooLarge, Message: "Request body is too large.", Err: ErrTooLarge}
	}
	if err != nil {
		return nil, bodyError(ErrUnreadable, "Could not read the request body.")
	}
	if len(b) > MaxBody {
		return nil, &models.Error{Code: models.CodeTooLarge, Message: "Request body is too large.", Err: ErrTooLarge}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return newForm(nil), nil
	}
	var raw map[string]json.RawMessage
	err = json.Unmarshal(b, &raw)
	if err == nil && raw != nil {
		return newForm(raw), nil
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return nil, bodyError(ErrSyntax, "JSON parse error - "+strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil, bodyError(ErrNotObject, fmt.Sprintf(MsgNotAnObj, TypeName(b)))
}

func bodyError(kind error, msg string) error {
	return &models.Error{Code: models.CodeInvalid, Message: msg, Err: kind}
}

// TypeName is Python's type(x).__name__ for the valid JSON value raw, as DRF
// names a value of the wrong type in its messages.
func TypeName(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "NoneType"
	}
	switch raw[0] {
	case '{':
		return "dict"
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "float"
	}
	return "int"
}

// Has reports whether the key is in the body (null included).
func (f *Form) Has(k string) bool { _, ok := f.raw[k]; return ok }

// IsNull reports whether the key is in the body with a null value.
func (f *Form) IsNull(k string) bool { return isNull(f.raw[k]) }

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// decode is the JSON value raw (valid JSON, as Read took it) with numbers
// kept as json.Number: nil, bool, string, json.Number, []any or
// map[string]any.
func decode(raw json.RawMessage) any {
	var x any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return nil
	}
	return x
}

// Raw is the key's JSON value as sent, for a field no accessor reads.
func (f *Form) Raw(k string) (json.RawMessage, bool) { raw, ok := f.raw[k]; return raw, ok }

// Fail records msg as an error of the field k.
func (f *Form) Fail(k, msg string) { f.errs[k] = append(f.errs[k], msg) }

// Require records "This field is required." for each key that is absent
// and reports whether all were present.
func (f *Form) Require(keys ...string) bool {
	all := true
	for _, k := range keys {
		if !f.Has(k) {
			f.Fail(k, MsgRequired)
			all = false
		}
	}
	return all
}

// Failed reports whether an error was recorded on k.
func (f *Form) Failed(k string) bool { return len(f.errs[k]) > 0 }

// Errors is the field → messages recorded so far (not a copy).
func (f *Form) Errors() map[string][]string { return f.errs }

// Err is the recorded errors as a 400 *models.Error with Fields (rendered
// as {"field": ["message", …]}), nil when there are none.
func (f *Form) Err() error {
	if len(f.errs) == 0 {
		return nil
	}
	e := models.Errorf(models.CodeInvalid, "Invalid input.")
	e.Fields = f.errs
	return e
}
