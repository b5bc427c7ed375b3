package form_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func ctx(body io.Reader) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/", body)
	return c
}

func read(t *testing.T, body string) *form.Form {
	t.Helper()
	f, err := form.Read(ctx(strings.NewReader(body)))
	require.NoError(t, err, body)
	return f
}

func TestReadObjects(t *testing.T) {
	for _, body := range []string{"", "  \n\t ", "{}", ` { "a" : 1 , "n": null } `} {
		f := read(t, body)
		require.Equal(t, strings.Contains(body, `"a"`), f.Has("a"), body)
		require.Equal(t, strings.Contains(body, `"n"`), f.IsNull("n"), body)
		require.False(t, f.Has("b"), body)
		require.NoError(t, f.Err(), body)
	}

	t.Run("no body", func(t *testing.T) {
		c := ctx(nil)
		c.Request.Body = nil
		f, err := form.Read(c)
		require.NoError(t, err)
		require.False(t, f.Has("a"))
	})

	t.Run("a body of exactly MaxBody bytes", func(t *testing.T) {
		body := `{"a":"` + strings.Repeat("x", form.MaxBody-8) + `"}`
		require.Len(t, body, form.MaxBody)
		v, ok := read(t, body).Text("a")
		require.True(t, ok)
		require.Len(t, v, form.MaxBody-8)
	})

	t.Run("numbers too large for a float64 are read by the field", func(t *testing.T) {
		f := read(t, `{"a": 1e400, "b": 2}`)
		_, ok := f.Float("a", false)
		require.False(t, ok)
		require.Equal(t, map[string][]string{"a": {form.MsgNumber}}, f.Errors())
	})
}

func TestReadRefusals(t *testing.T) {
	cases := []struct {
		name string
		body io.Reader
		kind error
		msg  string
	}{
		{"list", strings.NewReader(`[{"a": 1}]`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got list."},
		{"string", strings.NewReader(`"x"`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got str."},
		{"integer", strings.NewReader(` 12 `), form.ErrNotObject, "Invalid data. Expected a dictionary, but got int."},
		{"float", strings.NewReader(`1.5`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got float."},
		{"exponent", strings.NewReader(`1e400`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got float."},
		{"boolean", strings.NewReader(`false`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got bool."},
		{"null", strings.NewReader(`null`), form.ErrNotObject, "Invalid data. Expected a dictionary, but got NoneType."},
		{"unterminated", strings.NewReader(`{"a": `), form.ErrSyntax, "JSON parse error - unexpected end of JSON input"},
		{"trailing data", strings.NewReader(`{}x`), form.ErrSyntax, "JSON parse error - invalid character 'x' after top-level value"},
		{"two objects", strings.NewReader(`{}{}`), form.ErrSyntax, "JSON parse error - invalid character '{' after top-level value"},
		{"not JSON", strings.NewReader(`name=x`), form.ErrSyntax, "JSON parse error - invalid character 'a' in literal null (expecting 'u')"},
		{"too large", strings.NewReader(`{"a":"` + strings.Repeat("x", form.MaxBody) + `"}`), form.ErrTooLarge, "Request body is too large."},
		{"unreadable", iotest.ErrReader(errors.New("reset")), form.ErrUnreadable, "Could not read the request body."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := form.Read(ctx(tc.body))
			require.Nil(t, f)
			require.ErrorIs(t, err, tc.kind)
			var e *models.Error
			require.ErrorAs(t, err, &e)
			code := models.CodeInvalid
			if tc.kind == form.ErrTooLarge {
				code = models.CodeTooLarge // 413, whoever reads the body
			}
			require.Equal(t, code, e.Code)
			require.Equal(t, tc.msg, e.Message)
			require.Empty(t, e.Fields)
		})
	}
}

func TestErrorsAndHelpers(t *testing.T) {
	f := read(t, `{"a": 1, "n": null, "s": "x"}`)
	require.NoError(t, f.Err())
	raw, ok := f.Raw("a")
	require.True(t, ok)
	require.JSONEq(t, `1`, string(raw))
	_, ok = f.Raw("z")
	require.False(t, ok)
	require.True(t, f.IsNull("n"))
	require.False(t, f.IsNull("a"))
	require.False(t, f.IsNull("z"))

	require.False(t, f.Require("a", "z", "n", "y"))
	require.True(t, f.Require("a", "s"))
	f.Fail("a", "one")
	f.Fail("a", "two")
	require.True(t, f.Failed("a"))
	require.False(t, f.Failed("s"))
	want := map[string][]string{"a": {"one", "two"}, "y": {form.MsgRequired}, "z": {form.MsgRequired}}
	require.Equal(t, want, f.Errors())
	var e *models.Error
	require.ErrorAs(t, f.Err(), &e)
	require.Equal(t, models.CodeInvalid, e.Code)
	require.Equal(t, want, e.Fields)
}

// field is one accessor call on {"k": value} (value "" is a body without k).
type field struct {
	value string
	want  any    // the value read (pointers dereferenced; nil for a nil pointer)
	ok    bool   // the accessor's ok
	msg   string // the one message recorded on k, "" for none
}

func run(t *testing.T, name string, get func(f *form.Form) (any, bool), cases []field) {
	t.Helper()
	for _, tc := range cases {
		body := `{"other": 1}`
		if tc.value != "" {
			body = `{"other": 1, "k": ` + tc.value + `}`
		}
		f := read(t, body)
		v, ok := get(f)
		label := name + " " + tc.value
		require.Equal(t, tc.want, v, label)
		require.Equal(t, tc.ok, ok, label)
		if tc.msg == "" {
			require.Empty(t, f.Errors(), label)
			require.NoError(t, f.Err(), label)
		} else {
			require.Equal(t, map[string][]string{"k": {tc.msg}}, f.Errors(), label)
		}
	}
}

func deref[T any](p *T, ok bool) (any, bool) {
	if p == nil {
		return nil, ok
	}
	return *p, ok
}

func str(v string, ok bool) (any, bool) { return v, ok }

func TestStrings(t *testing.T) {
	maxLen := func(n int) string { return fmt.Sprintf(form.MsgMaxLength, n) }
	run(t, "Str(3, no blank)", func(f *form.Form) (any, bool) { return str(f.Str("k", 3, false)) }, []field{
		{"", "", false, ""},
		{`"abc"`, "abc", true, ""},
		{`"  ab  "`, "ab", true, ""},
		{`"  abc  "`, "abc", true, ""},
		{`"ééé"`, "ééé", true, ""},
		{`"abcd"`, "", false, maxLen(3)},
		{`12`, "12", true, ""},
		{`1.5`, "1.5", true, ""},
		{`1234`, "", false, maxLen(3)},
		{`""`, "", false, form.MsgBlank},
		{`"  \t "`, "", false, form.MsgBlank},
		{`null`, "", false, form.MsgNull},
		{`true`, "", false, form.MsgString},
		{`["a"]`, "", false, form.MsgString},
		{`{"a": "b"}`, "", false, form.MsgString},
		{`"a\u0000b"`, "", false, form.MsgNullChars},
	})
	run(t, "Str(0, blank)", func(f *form.Form) (any, bool) { return str(f.Str("k", 0, true)) }, []field{
		{`""`, "", true, ""},
		{`"   "`, "", true, ""},
		{`"` + strings.Repeat("x", 5000) + `"`, strings.Repeat("x", 5000), true, ""},
	})
	run(t, "RequireStr", func(f *form.Form) (any, bool) { return str(f.RequireStr("k", 5)) }, []field{
		{"", "", false, form.MsgRequired},
		{`" a "`, "a", true, ""},
		{`""`, "", false, form.MsgBlank},
		{`null`, "", false, form.MsgNull},
	})
	run(t, "NullableStr", func(f *form.Form) (any, bool) {
		v, isNull, ok := f.NullableStr("k", 3, false)
		return []any{v, isNull}, ok
	}, []field{
		{"", []any{"", false}, false, ""},
		{`null`, []any{"", true}, true, ""},
		{`" x "`, []any{"x", false}, true, ""},
		{`""`, []any{"", false}, false, form.MsgBlank},
		{`[]`, []any{"", false}, false, form.MsgString},
	})
	run(t, "Text", func(f *form.Form) (any, bool) { return str(f.Text("k")) }, []field{
		{"", "", false, ""},
		{`"  a b  "`, "  a b  ", true, ""},
		{`""`, "", true, ""},
		{`-0.50`, "-0.50", true, ""},
		{`null`, "", false, form.MsgNull},
		{`false`, "", false, form.MsgString},
		{`{}`, "", false, form.MsgString},
	})
	loose := form.Char{Max: 3, Required: true, AllowBlank: true, KeepSpace: true, StringsOnly: true, AllowNUL: true}
	run(t, "Char(loose)", func(f *form.Form) (any, bool) { return str(f.Char("k", loose)) }, []field{
		{"", "", false, form.MsgRequired},
		{`" a "`, " a ", true, ""},
		{`" ab "`, "", false, maxLen(3)},
		{`"   "`, "   ", true, ""},
		{`"a\u0000"`, "a\x00", true, ""},
		{`7`, "", false, form.MsgString},
		{`null`, "", false, form.MsgNull},
	})
	run(t, "Char(KeepSpace, no blank)", func(f *form.Form) (any, bool) { return str(f.Char("k", form.Char{KeepSpace: true})) }, []field{
		{`"  "`, "", false, form.MsgBlank},
		{`" x"`, " x", true, ""},
	})
	run(t, "Choice", func(f *form.Form) (any, bool) {
		return str(f.Choice("k", map[string]bool{"EE": true, "1.1": true}, false))
	}, []field{
		{"", "", false, ""},
		{`"EE"`, "EE", true, ""},
		{`1.1`, "1.1", true, ""},
		{`"ee"`, "", false, `"ee" is not a valid choice.`},
		{`" EE"`, "", false, `" EE" is not a valid choice.`},
		{`""`, "", false, `"" is not a valid choice.`},
		{`null`, "", false, form.MsgNull},
		{`["EE"]`, "", false, form.MsgString},
	})
	run(t, "Choice(blank)", func(f *form.Form) (any, bool) { return str(f.Choice("k", map[string]bool{"EE": true}, true)) }, []field{
		{`""`, "", true, ""},
	})
	run(t, "Email", func(f *form.Form) (any, bool) { return str(f.Email("k", 20)) }, []field{
		{`" a@b.co "`, "a@b.co", true, ""},
		{`""`, "", true, ""},
		{`"nope"`, "", false, form.MsgEmail},
		{`"a@b"`, "", false, form.MsgEmail},
		{`"Bob <b@x.co>"`, "", false, form.MsgEmail},
		{`"abcdefghij@example.com"`, "", false, maxLen(20)},
		{`5`, "", false, form.MsgEmail},
		{`null`, "", false, form.MsgNull},
	})
	run(t, "URL", func(f *form.Form) (any, bool) { return str(f.URL("k", 0)) }, []field{
		{`"https://x.example/a?b=c"`, "https://x.example/a?b=c", true, ""},
		{`"FTP://x.example/"`, "FTP://x.example/", true, ""},
		{`""`, "", true, ""},
		{`"x.example"`, "", false, form.MsgURL},
		{`"/relative"`, "", false, form.MsgURL},
		{`"javascript:alert(1)"`, "", false, form.MsgURL},
		{`"mailto:a@b.co"`, "", false, form.MsgURL},
		{`"ssh://x.example/"`, "", false, form.MsgURL},
		{`"http://exa mple.com/"`, "", false, form.MsgURL},
		{`true`, "", false, form.MsgString},
	})
	run(t, "Slug", func(f *form.Form) (any, bool) { return str(f.Slug("k", 5)) }, []field{
		{`"a-b_1"`, "a-b_1", true, ""},
		{`" ab "`, "ab", true, ""},
		{`"a b"`, "", false, form.MsgSlug},
		{`"é"`, "", false, form.MsgSlug},
		{`""`, "", false, form.MsgBlank},
		{`"abcdef"`, "", false, maxLen(5)},
	})
	require.True(t, form.IsSlug("A-z_09"))
	require.False(t, form.IsSlug(""))
	require.False(t, form.IsSlug("a.b"))
}

func TestRefs(t *testing.T) {
	id := models.NewUUID()
	uuid := func(v models.UUID, ok bool) (any, bool) { return v, ok }
	run(t, "UUID", func(f *form.Form) (any, bool) { return uuid(f.UUID("k")) }, []field{
		{"", models.NilUUID, false, ""},
		{`"` + id.String() + `"`, id, true, ""},
		{`" ` + id.Dashed() + ` "`, id, true, ""},
		{`"zz"`, models.NilUUID, false, form.MsgUUID},
		{`5`, models.NilUUID, false, form.MsgUUID},
		{`null`, models.NilUUID, false, form.MsgNull},
		{`{}`, models.NilUUID, false, form.MsgString},
	})
	run(t, "Ref(customers, not nullable, required)", func(f *form.Form) (any, bool) {
		return uuid(f.Ref("k", "customers", false, true))
	}, []field{
		{"", models.NilUUID, false, form.MsgRequired},
		{`"` + id.String() + `"`, id, true, ""},
		{`"http://h/api/customers/` + id.Dashed() + `/"`, id, true, ""},
		{`"http://h/api/projects/` + id.String() + `/"`, models.NilUUID, false, "Invalid hyperlink - Incorrect URL match."},
		{`"http://h/api/customers/zz/"`, models.NilUUID, false, "Invalid hyperlink - Object does not exist."},
		{`"nope"`, models.NilUUID, false, "Invalid hyperlink - No URL match."},
		{`""`, models.NilUUID, false, form.MsgNull},
		{`null`, models.NilUUID, false, form.MsgNull},
		{`[]`, models.NilUUID, false, form.MsgString},
	})
	run(t, "Ref(nullable, optional)", func(f *form.Form) (any, bool) { return uuid(f.Ref("k", "customers", true, false)) }, []field{
		{"", models.NilUUID, false, ""},
		{`null`, models.NilUUID, true, ""},
	})
}

func TestBooleans(t *testing.T) {
	run(t, "Bool", func(f *form.Form) (any, bool) { return f.Bool("k") }, []field{
		{"", false, false, ""},
		{`true`, true, true, ""},
		{`false`, false, true, ""},
		{`1`, true, true, ""},
		{`0`, false, true, ""},
		{`"True"`, true, true, ""},
		{`" yes "`, true, true, ""},
		{`"on"`, true, true, ""},
		{`"t"`, true, true, ""},
		{`"Y"`, true, true, ""},
		{`"1"`, true, true, ""},
		{`"FALSE"`, false, true, ""},
		{`"off"`, false, true, ""},
		{`"n"`, false, true, ""},
		{`"0"`, false, true, ""},
		{`2`, false, false, form.MsgBool},
		{`1.0`, false, false, form.MsgBool},
		{`"maybe"`, false, false, form.MsgBool},
		{`""`, false, false, form.MsgBool},
		{`"null"`, false, false, form.MsgBool},
		{`[]`, false, false, form.MsgBool},
		{`{}`, false, false, form.MsgBool},
		{`null`, false, false, form.MsgNull},
	})
	run(t, "NullBool", func(f *form.Form) (any, bool) { return deref(f.NullBool("k")) }, []field{
		{"", nil, false, ""},
		{`null`, nil, true, ""},
		{`"yes"`, true, true, ""},
		{`false`, false, true, ""},
		{`"x"`, nil, false, form.MsgBool},
	})
}

func TestNumbers(t *testing.T) {
	run(t, "Int(-1..100)", func(f *form.Form) (any, bool) { return deref(f.Int("k", -1, 100, false)) }, []field{
		{"", nil, false, ""},
		{`5`, int64(5), true, ""},
		{`-1`, int64(-1), true, ""},
		{`100`, int64(100), true, ""},
		{`"42"`, int64(42), true, ""},
		{`" 42 "`, int64(42), true, ""},
		{`60.0`, int64(60), true, ""},
		{`6e1`, int64(60), true, ""},
		{`-2`, nil, false, "Ensure this value is greater than or equal to -1."},
		{`101`, nil, false, "Ensure this value is less than or equal to 100."},
		{`1.5`, nil, false, form.MsgInteger},
		{`"x"`, nil, false, form.MsgInteger},
		{`""`, nil, false, form.MsgInteger},
		{`"0x1p6"`, nil, false, form.MsgInteger},
		{`9223372036854775808`, nil, false, form.MsgInteger},
		{`1e400`, nil, false, form.MsgInteger},
		{`true`, nil, false, form.MsgInteger},
		{`[1]`, nil, false, form.MsgInteger},
		{`null`, nil, false, form.MsgNull},
	})
	run(t, "Int(nullable)", func(f *form.Form) (any, bool) { return deref(f.Int("k", 0, 10, true)) }, []field{
		{`null`, nil, true, ""},
		{`3`, int64(3), true, ""},
	})
	run(t, "IntChoice", func(f *form.Form) (any, bool) { return deref(f.IntChoice("k", true, 0, 1, 2, 9)) }, []field{
		{"", nil, false, ""},
		{`null`, nil, true, ""},
		{`9`, 9, true, ""},
		{`"2"`, 2, true, ""},
		{`1.0`, 1, true, ""},
		{`5`, nil, false, `"5" is not a valid choice.`},
		{`"male"`, nil, false, `"male" is not a valid choice.`},
		{`[1]`, nil, false, `"[1]" is not a valid choice.`},
	})
	run(t, "IntChoice(not nullable)", func(f *form.Form) (any, bool) { return deref(f.IntChoice("k", false, 1)) }, []field{
		{`null`, nil, false, form.MsgNull},
	})
	run(t, "Float", func(f *form.Form) (any, bool) { return deref(f.Float("k", true)) }, []field{
		{"", nil, false, ""},
		{`null`, nil, true, ""},
		{`1.5`, 1.5, true, ""},
		{`-3`, -3.0, true, ""},
		{`" 2.5 "`, 2.5, true, ""},
		{`"north"`, nil, false, form.MsgNumber},
		{`"NaN"`, nil, false, form.MsgNumber},
		{`1e400`, nil, false, form.MsgNumber},
		{`false`, nil, false, form.MsgNumber},
	})
	run(t, "Float(not nullable)", func(f *form.Form) (any, bool) { return deref(f.Float("k", false)) }, []field{
		{`null`, nil, false, form.MsgNull},
	})
	dec := func(f *form.Form) (any, bool) {
		d, ok := f.Decimal("k", 5, 2, decimalOf("0"), decimalOf("200"))
		return d.String(), ok
	}
	run(t, "Decimal(5,2, 0..200)", dec, []field{
		{"", "0", false, ""},
		{`"20.00"`, "20", true, ""},
		{`199.99`, "199.99", true, ""},
		{`1.230`, "1.23", true, ""},
		{`0`, "0", true, ""},
		{`"1.234"`, "0", false, "Ensure that there are no more than 2 decimal places."},
		{`1000`, "0", false, "Ensure that there are no more than 3 digits before the decimal point."},
		{`250`, "0", false, "Ensure this value is less than or equal to 200."},
		{`-1`, "0", false, "Ensure this value is greater than or equal to 0."},
		{`"abc"`, "0", false, form.MsgNumber},
		{`[]`, "0", false, form.MsgNumber},
		{`null`, "0", false, form.MsgNull},
	})
}

func TestDates(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return d
	}
	run(t, "Date", func(f *form.Form) (any, bool) { return deref(f.Date("k", false)) }, []field{
		{"", nil, false, ""},
		{`"2026-02-28"`, day("2026-02-28T00:00:00Z"), true, ""},
		{`" 2026-02-28 "`, day("2026-02-28T00:00:00Z"), true, ""},
		{`"2026-02-30"`, nil, false, form.MsgDate},
		{`"2026-2-3"`, nil, false, form.MsgDate},
		{`"2026-02-28T00:00:00Z"`, nil, false, form.MsgDate},
		{`"soon"`, nil, false, form.MsgDate},
		{`20260228`, nil, false, form.MsgDate},
		{`["2026-02-28"]`, nil, false, form.MsgDate},
		{`null`, nil, false, form.MsgNull},
	})
	run(t, "Date(nullable)", func(f *form.Form) (any, bool) { return deref(f.Date("k", true)) }, []field{
		{`null`, nil, true, ""},
	})
	run(t, "Datetime", func(f *form.Form) (any, bool) { return deref(f.Datetime("k", false, false)) }, []field{
		{"", nil, false, ""},
		{`"2026-02-28T10:20:30Z"`, day("2026-02-28T10:20:30Z"), true, ""},
		{`"2026-02-28T10:20:30.5+02:00"`, day("2026-02-28T08:20:30.5Z"), true, ""},
		{`"2026-02-28 10:20:30"`, day("2026-02-28T10:20:30Z"), true, ""},
		{`"2026-02-28T10:20"`, day("2026-02-28T10:20:00Z"), true, ""},
		{`"2026-02-28"`, nil, false, form.MsgDatetime},
		{`"yesterday"`, nil, false, form.MsgDatetime},
		{`1772274030`, nil, false, form.MsgDatetime},
		{`{}`, nil, false, form.MsgDatetime},
		{`null`, nil, false, form.MsgNull},
	})
	run(t, "Datetime(nullable, dateOnly)", func(f *form.Form) (any, bool) { return deref(f.Datetime("k", true, true)) }, []field{
		{`null`, nil, true, ""},
		{`"2026-02-28"`, day("2026-02-28T00:00:00Z"), true, ""},
	})
	got, ok := form.ParseDatetime("2026-02-28T10:20:30-01:00", false)
	require.True(t, ok)
	require.Equal(t, day("2026-02-28T11:20:30Z"), got)
	require.Equal(t, time.UTC, got.Location())
	_, ok = form.ParseDatetime("2026-02-28", false)
	require.False(t, ok)
}

func TestLists(t *testing.T) {
	list := func(item form.Char, required bool) func(f *form.Form) (any, bool) {
		return func(f *form.Form) (any, bool) {
			v, ok := f.StrList("k", required, item)
			if v == nil {
				return nil, ok
			}
			return v, ok
		}
	}
	run(t, "StrList(max 3)", list(form.Char{Max: 3}, false), []field{
		{"", nil, false, ""},
		{`[]`, []string{}, true, ""},
		{`["a", " bc ", 12]`, []string{"a", "bc", "12"}, true, ""},
		{`["abcd"]`, nil, false, "Ensure this field has no more than 3 characters."},
		{`["a", ""]`, nil, false, form.MsgBlank},
		{`["a", null]`, nil, false, form.MsgString},
		{`[["a"]]`, nil, false, form.MsgString},
		{`[{"a": 1}]`, nil, false, form.MsgString},
		{`"a"`, nil, false, `Expected a list of items but got type "str".`},
		{`{"a": 1}`, nil, false, `Expected a list of items but got type "dict".`},
		{`5`, nil, false, `Expected a list of items but got type "int".`},
		{`5.5`, nil, false, `Expected a list of items but got type "float".`},
		{`true`, nil, false, `Expected a list of items but got type "bool".`},
		{`null`, nil, false, form.MsgNull},
	})
	run(t, "StrList(required, loose items)", list(form.Char{AllowBlank: true, KeepSpace: true, StringsOnly: true}, true), []field{
		{"", nil, false, form.MsgRequired},
		{`[" a ", ""]`, []string{" a ", ""}, true, ""},
		{`["a", 1]`, nil, false, form.MsgString},
	})

	objects := func(f *form.Form) (any, bool) {
		items, ok := f.ObjList("k", true)
		if items == nil {
			return nil, ok
		}
		out := []any{}
		for _, it := range items {
			name, _ := it.RequireStr("name", 0)
			out = append(out, []any{name, it.Errors()})
		}
		return out, ok
	}
	run(t, "ObjList", objects, []field{
		{"", nil, false, form.MsgRequired},
		{`[]`, []any{}, true, ""},
		{`null`, []any{}, true, ""},
		{`[{"name": " a "}, {"name": ""}, {}, null]`, []any{
			[]any{"a", map[string][]string{}},
			[]any{"", map[string][]string{"name": {form.MsgBlank}}},
			[]any{"", map[string][]string{"name": {form.MsgRequired}}},
			[]any{"", map[string][]string{"name": {form.MsgRequired}}},
		}, true, ""},
		{`[{"name": "a"}, 1]`, nil, false, `Expected a list of items but got type "list".`},
		{`{"name": "a"}`, nil, false, `Expected a list of items but got type "dict".`},
		{`"a"`, nil, false, `Expected a list of items but got type "str".`},
		{`1e3`, nil, false, `Expected a list of items but got type "float".`},
	})

	t.Run("nested objects keep their own errors", func(t *testing.T) {
		f := read(t, `{"items": [{"limit": "x", "inner": {"a": 1}}]}`)
		items, ok := f.ObjList("items", false)
		require.True(t, ok)
		require.Len(t, items, 1)
		_, ok = items[0].Int("limit", 0, 10, false)
		require.False(t, ok)
		require.True(t, items[0].Has("inner"))
		_, ok = items[0].Text("inner")
		require.False(t, ok)
		require.Equal(t, map[string][]string{"limit": {form.MsgInteger}, "inner": {form.MsgString}}, items[0].Errors())
		require.Empty(t, f.Errors())
		require.NoError(t, f.Err())
	})
}

func decimalOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// TestHugeExponentsAreRefused: numbers like 1e999999999 are a 400 (before
// this check they expanded into enormous integers and stalled the request).
func TestHugeExponentsAreRefused(t *testing.T) {
	for _, body := range []string{`{"n": 1e999999999}`, `{"n": 1e-999999999}`, `{"n": "1E+999999999"}`, `{"n": 1e401}`} {
		f := read(t, body)
		_, ok := f.Int("n", -1<<62, 1<<62, false)
		require.False(t, ok, body)
		f = read(t, body)
		_, ok = f.Decimal("n", 20, 4, decimal.NewFromInt(-1000), decimal.NewFromInt(1000))
		require.False(t, ok, body)
		require.Error(t, f.Err(), body)
	}
}
