package permissions

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// form is a JSON object request body read field by field, collecting
// DRF-style messages (field → [messages]) for the fields that are wrong.
// Unknown fields are ignored.
type form struct {
	raw  map[string]json.RawMessage
	errs map[string][]string
}

// readForm parses the body as a JSON object; an empty body is {}.
func readForm(c *gin.Context) (*form, error) {
	f := &form{raw: map[string]json.RawMessage{}, errs: map[string][]string{}}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, models.Errorf(models.CodeInvalid, "Request body is too large.")
		}
		return nil, models.Errorf(models.CodeInvalid, "Could not read the request body.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(body, &f.raw); err != nil || f.raw == nil {
		var probe any
		if json.Unmarshal(body, &probe) == nil {
			return nil, models.FieldError("non_field_errors", "Invalid data. Expected a dictionary, but got "+jsonKind(probe)+".")
		}
		return nil, models.Errorf(models.CodeInvalid, "JSON parse error - %s", parseErrorText(err))
	}
	return f, nil
}

func parseErrorText(err error) string {
	if err == nil {
		return "invalid JSON"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64:
		return "int"
	}
	return "dict"
}

func (f *form) has(k string) bool { _, ok := f.raw[k]; return ok }

func (f *form) isNull(k string) bool { return string(bytes.TrimSpace(f.raw[k])) == "null" }

func (f *form) fail(k, msg string) { f.errs[k] = append(f.errs[k], msg) }

// err returns the collected field errors, or nil.
func (f *form) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	e := &models.Error{Code: models.CodeInvalid, Message: "Invalid input.", Fields: f.errs}
	for _, ms := range f.errs {
		e.Message = ms[0]
		break
	}
	return e
}

// str reads an optional string field (absent: "", false). Numbers and
// booleans are refused as DRF's CharField does not coerce them here.
func (f *form) str(k string, maxLen int, required bool) (string, bool) {
	if !f.has(k) {
		if required {
			f.fail(k, "This field is required.")
		}
		return "", false
	}
	if f.isNull(k) {
		f.fail(k, "This field may not be null.")
		return "", false
	}
	var s string
	if err := json.Unmarshal(f.raw[k], &s); err != nil {
		f.fail(k, "Not a valid string.")
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		f.fail(k, "This field may not be blank.")
		return "", false
	}
	if maxLen > 0 && len([]rune(s)) > maxLen {
		f.fail(k, "Ensure this field has no more than "+strconv.Itoa(maxLen)+" characters.")
		return "", false
	}
	return s, true
}

// boolean reads an optional boolean field (DRF accepts true/false, 1/0, "true"/"false").
func (f *form) boolean(k string) (*bool, bool) {
	if !f.has(k) || f.isNull(k) {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(f.raw[k], &v); err != nil {
		f.fail(k, "Must be a valid boolean.")
		return nil, false
	}
	var b bool
	switch x := v.(type) {
	case bool:
		b = x
	case float64:
		if x != 0 && x != 1 {
			f.fail(k, "Must be a valid boolean.")
			return nil, false
		}
		b = x == 1
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "yes", "on":
			b = true
		case "false", "0", "no", "off":
		default:
			f.fail(k, "Must be a valid boolean.")
			return nil, false
		}
	default:
		f.fail(k, "Must be a valid boolean.")
		return nil, false
	}
	return &b, true
}

// strList reads a list of strings (absent: nil, false).
func (f *form) strList(k string, required bool) ([]string, bool) {
	if !f.has(k) {
		if required {
			f.fail(k, "This field is required.")
		}
		return nil, false
	}
	if f.isNull(k) {
		f.fail(k, "This field may not be null.")
		return nil, false
	}
	var out []string
	if err := json.Unmarshal(f.raw[k], &out); err != nil {
		f.fail(k, `Expected a list of items but got type "`+rawKind(f.raw[k])+`".`)
		return nil, false
	}
	if out == nil {
		out = []string{}
	}
	return out, true
}

// objList reads a list of objects (absent: nil, false).
func (f *form) objList(k string, required bool) ([]*form, bool) {
	if !f.has(k) {
		if required {
			f.fail(k, "This field is required.")
		}
		return nil, false
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(f.raw[k], &items); err != nil {
		f.fail(k, `Expected a list of items but got type "`+rawKind(f.raw[k])+`".`)
		return nil, false
	}
	out := make([]*form, len(items))
	for i, it := range items {
		if it == nil {
			it = map[string]json.RawMessage{}
		}
		out[i] = &form{raw: it, errs: map[string][]string{}}
	}
	return out, true
}

func rawKind(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "str"
	}
	return jsonKind(v)
}
