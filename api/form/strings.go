package form

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// Char says how a string field is read. Its zero value is DRF's CharField
// with its defaults: optional, numbers taken as their text, surrounding
// whitespace trimmed, blank and null refused, NUL characters refused, no
// length limit.
type Char struct {
	// Max is the maximum length in characters (runes); 0 is no limit.
	Max int
	// Required makes an absent key "This field is required.".
	Required bool
	// AllowBlank takes "" (after trimming) as a value.
	AllowBlank bool
	// KeepSpace returns the value as sent (DRF's trim_whitespace=False);
	// whether it is blank is still judged on the trimmed value, and Max
	// counts the value returned.
	KeepSpace bool
	// StringsOnly refuses JSON numbers ("Not a valid string.").
	StringsOnly bool
	// AllowNUL skips DRF's check for NUL characters.
	AllowNUL bool
}

// read validates one JSON value; msg is the error ("" when valid).
func (o Char) read(raw json.RawMessage) (v, msg string) {
	v, msg = scalarText(raw, o.StringsOnly)
	if msg != "" {
		return "", msg
	}
	trimmed := strings.TrimSpace(v)
	if !o.KeepSpace {
		v = trimmed
	}
	switch {
	case !o.AllowNUL && strings.ContainsRune(v, 0):
		return "", MsgNullChars
	case trimmed == "" && !o.AllowBlank:
		return "", MsgBlank
	case o.Max > 0 && utf8.RuneCountInString(v) > o.Max:
		return "", fmt.Sprintf(MsgMaxLength, o.Max)
	}
	return v, ""
}

// scalarText is a JSON string, or a JSON number's text (unless stringsOnly),
// as sent; msg is the error for anything else.
func scalarText(raw json.RawMessage, stringsOnly bool) (v, msg string) {
	if isNull(raw) {
		return "", MsgNull
	}
	switch t := decode(raw).(type) {
	case string:
		return t, ""
	case json.Number:
		if !stringsOnly {
			return t.String(), ""
		}
	}
	return "", MsgString
}

// Char reads a string field as o says.
func (f *Form) Char(k string, o Char) (string, bool) {
	raw, ok := f.raw[k]
	if !ok {
		if o.Required {
			f.Fail(k, MsgRequired)
		}
		return "", false
	}
	v, msg := o.read(raw)
	if msg != "" {
		f.Fail(k, msg)
		return "", false
	}
	return v, true
}

// Text reads a JSON string, or a number as its text, as sent: no trimming
// and no other check. Null and other types are errors.
func (f *Form) Text(k string) (string, bool) {
	raw, ok := f.raw[k]
	if !ok {
		return "", false
	}
	v, msg := scalarText(raw, false)
	if msg != "" {
		f.Fail(k, msg)
		return "", false
	}
	return v, true
}

// Str reads an optional CharField: trimmed, at most maxLen characters (0:
// no limit), blank allowed or not.
func (f *Form) Str(k string, maxLen int, allowBlank bool) (string, bool) {
	return f.Char(k, Char{Max: maxLen, AllowBlank: allowBlank})
}

// RequireStr reads a required, non-blank CharField.
func (f *Form) RequireStr(k string, maxLen int) (string, bool) {
	return f.Char(k, Char{Max: maxLen, Required: true})
}

// NullableStr is Str for a field that may be null: null gives
// ("", true, true).
func (f *Form) NullableStr(k string, maxLen int, allowBlank bool) (v string, isNull, ok bool) {
	if f.Has(k) && f.IsNull(k) {
		return "", true, true
	}
	v, ok = f.Str(k, maxLen, allowBlank)
	return v, false, ok
}

// Choice reads a ChoiceField: the value (a string, or a number's text) as
// sent must be one of choices; "" is taken when allowBlank.
func (f *Form) Choice(k string, choices map[string]bool, allowBlank bool) (string, bool) {
	v, ok := f.Text(k)
	if !ok {
		return "", false
	}
	if v == "" && allowBlank {
		return "", true
	}
	if !choices[v] {
		f.Fail(k, fmt.Sprintf(MsgChoice, v))
		return "", false
	}
	return v, true
}

// UUID reads a UUIDField (32 hex digits, dashed or not).
func (f *Form) UUID(k string) (models.UUID, bool) {
	v, ok := f.Text(k)
	if !ok {
		return models.NilUUID, false
	}
	id, err := models.ParseUUID(strings.TrimSpace(v))
	if err != nil {
		f.Fail(k, MsgUUID)
		return models.NilUUID, false
	}
	return id, true
}

var (
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	slugRe  = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)
)

// IsSlug reports whether s is a slug: ASCII letters, digits, underscores and
// hyphens, at least one.
func IsSlug(s string) bool { return slugRe.MatchString(s) }

// Email reads an EmailField (blank allowed): something@domain.tld.
func (f *Form) Email(k string, maxLen int) (string, bool) {
	v, ok := f.Str(k, maxLen, true)
	if !ok {
		return "", false
	}
	if v != "" && !emailRe.MatchString(v) {
		f.Fail(k, MsgEmail)
		return "", false
	}
	return v, true
}

// URL reads a URLField (blank allowed): http(s) or ftp(s) with a host.
func (f *Form) URL(k string, maxLen int) (string, bool) {
	v, ok := f.Str(k, maxLen, true)
	if !ok {
		return "", false
	}
	if v == "" {
		return "", true
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || strings.ContainsAny(v, " \t") {
		f.Fail(k, MsgURL)
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp", "ftps":
		return v, true
	}
	f.Fail(k, MsgURL)
	return "", false
}

// Slug reads a SlugField: trimmed, not blank, and IsSlug.
func (f *Form) Slug(k string, maxLen int) (string, bool) {
	v, ok := f.Str(k, maxLen, false)
	if !ok {
		return "", false
	}
	if !IsSlug(v) {
		f.Fail(k, MsgSlug)
		return "", false
	}
	return v, true
}

// Ref reads a hyperlinked reference to an object of collection (its API URL
// or its bare UUID; see rest.ParseRef for the messages). Absent is "This
// field is required." when required; null is the zero UUID when nullable.
func (f *Form) Ref(k, collection string, nullable, required bool) (models.UUID, bool) {
	if !f.Has(k) {
		if required {
			f.Fail(k, MsgRequired)
		}
		return models.NilUUID, false
	}
	if f.IsNull(k) {
		if nullable {
			return models.NilUUID, true
		}
		f.Fail(k, MsgNull)
		return models.NilUUID, false
	}
	v, ok := f.Text(k)
	if !ok {
		return models.NilUUID, false
	}
	id, err := rest.ParseRef(k, v, collection)
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && len(e.Fields[k]) > 0 {
			for _, msg := range e.Fields[k] {
				f.Fail(k, msg)
			}
		} else {
			f.Fail(k, rest.MsgNoMatch)
		}
		return models.NilUUID, false
	}
	return id, true
}

// StrList reads a ListField of strings, each read as item says (item's
// Required is not used; a null item is "Not a valid string."). Absent is
// "This field is required." when required; null and values that are not a
// list are errors. The first bad item's message is recorded on k and the
// list is refused. An empty list gives an empty, non-nil slice.
func (f *Form) StrList(k string, required bool, item Char) ([]string, bool) {
	raw, ok := f.raw[k]
	if !ok {
		if required {
			f.Fail(k, MsgRequired)
		}
		return nil, false
	}
	if isNull(raw) {
		f.Fail(k, MsgNull)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		f.Fail(k, fmt.Sprintf(MsgNotAList, TypeName(raw)))
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if isNull(it) {
			f.Fail(k, MsgString)
			return nil, false
		}
		v, msg := item.read(it)
		if msg != "" {
			f.Fail(k, msg)
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// ObjList reads a list of JSON objects, each as a Form of its own (whose
// errors are its own: the caller reports them). Absent is "This field is
// required." when required. A null list is an empty list and a null item
// an empty object, as the modules have always taken them; anything else
// that is not a list of objects is `Expected a list of items but got type
// "…".`, naming the value's type (a list with other items is "list").
func (f *Form) ObjList(k string, required bool) ([]*Form, bool) {
	raw, ok := f.raw[k]
	if !ok {
		if required {
			f.Fail(k, MsgRequired)
		}
		return nil, false
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		f.Fail(k, fmt.Sprintf(MsgNotAList, TypeName(raw)))
		return nil, false
	}
	out := make([]*Form, len(items))
	for i, it := range items {
		out[i] = newForm(it)
	}
	return out, true
}
