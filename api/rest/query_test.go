package rest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

func TestValues(t *testing.T) {
	cases := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"other=x", nil},
		{"state=", nil},
		{"state=+&state=", nil},
		{"state=OK", []string{"OK"}},
		{"state=OK&state=Erred", []string{"OK", "Erred"}},
		{"state=+OK+&state=&state=Erred&other=x&state=OK", []string{"OK", "Erred", "OK"}},
		{"state=a,b", []string{"a,b"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, "/x?"+tc.query, nil)
			require.Equal(t, tc.want, Values(c, "state"))
		})
	}
}

func TestUUIDs(t *testing.T) {
	a := models.MustParseUUID("0123456789abcdef0123456789abcdef")
	b := models.MustParseUUID("fedcba98-7654-3210-fedc-ba9876543210")
	cases := []struct {
		name  string
		query string
		want  []models.UUID
		bad   bool
	}{
		{name: "absent", query: "", want: nil},
		{name: "empty", query: "uuid=", want: nil},
		{name: "hex", query: "uuid=" + a.String(), want: []models.UUID{a}},
		{name: "dashed", query: "uuid=" + b.Dashed(), want: []models.UUID{b}},
		{name: "upper case", query: "uuid=0123456789ABCDEF0123456789ABCDEF", want: []models.UUID{a}},
		{name: "repeated", query: "uuid=" + a.String() + "&uuid=" + b.Dashed(), want: []models.UUID{a, b}},
		{name: "garbage", query: "uuid=nope", bad: true},
		{name: "one bad of two", query: "uuid=" + a.String() + "&uuid=0123", bad: true},
		{name: "too long", query: "uuid=" + a.String() + "00", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, "/x?"+tc.query, nil)
			got, err := UUIDs(c, "uuid")
			if tc.bad {
				requireFieldError(t, err, "uuid", "Enter a valid UUID.")
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestBool(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		query string
		want  *bool
		bad   bool
	}{
		{query: "", want: nil},
		{query: "flag=", want: nil},
		{query: "flag=true", want: &yes},
		{query: "flag=True", want: &yes},
		{query: "flag=1", want: &yes},
		{query: "flag=false", want: &no},
		{query: "flag=False", want: &no},
		{query: "flag=0", want: &no},
		{query: "flag=+true+", want: &yes},
		{query: "flag=true&flag=false", want: &no},
		{query: "flag=yes", bad: true},
		{query: "flag=TRUE", bad: true},
		{query: "flag=2", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, "/x?"+tc.query, nil)
			got, err := Bool(c, "flag")
			if tc.bad {
				requireFieldError(t, err, "flag", "Must be a valid boolean.")
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPage(t *testing.T) {
	cases := []struct {
		query        string
		number, size int
		invalid      bool
	}{
		{query: "", number: 1, size: 10},
		{query: "page=3", number: 3, size: 10},
		{query: "page=+4+", number: 4, size: 10},
		{query: "page_size=25", number: 1, size: 25},
		{query: "page_size=300", number: 1, size: 300},
		{query: "page_size=301", number: 1, size: 300},
		{query: "page_size=99999999999999999999", number: 1, size: 10},
		{query: "page_size=0", number: 1, size: 10},
		{query: "page_size=-5", number: 1, size: 10},
		{query: "page_size=ten", number: 1, size: 10},
		{query: "page_size=2.5", number: 1, size: 10},
		{query: "page=0", invalid: true},
		{query: "page=-2", invalid: true},
		{query: "page=two", invalid: true},
		{query: "page=last", invalid: true},
		{query: "page=99999999999999999999", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, "/x?"+tc.query, nil)
			number, size, err := Page(c)
			if tc.invalid {
				require.Error(t, err)
				require.True(t, models.IsCode(err, models.CodeNotFound), err)
				require.Equal(t, "Invalid page.", err.(*models.Error).Message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.number, number)
			require.Equal(t, tc.size, size)
		})
	}
}

func TestOrderBy(t *testing.T) {
	spec := ListSpec{Ordering: map[string]string{"name": "p.name", "created": "p.created"}}
	cases := []struct {
		query string
		spec  ListSpec
		want  []string
	}{
		{query: "", spec: spec, want: []string{"id"}},
		{query: "o=-name", spec: spec, want: []string{"p.name DESC", "id"}},
		{query: "o=name", spec: ListSpec{Ordering: spec.Ordering, DefaultOrdering: []string{"-created"}, TieBreaker: "p.id"}, want: []string{"p.name", "p.id"}},
		{query: "o=nope", spec: ListSpec{Ordering: spec.Ordering, DefaultOrdering: []string{"-created", "name"}, TieBreaker: "p.id"}, want: []string{"p.created DESC", "p.name", "p.id"}},
		{query: "", spec: ListSpec{Ordering: map[string]string{"id": "p.id"}, DefaultOrdering: []string{"-id"}, TieBreaker: "p.id"}, want: []string{"p.id DESC"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, "/x?"+tc.query, nil)
			require.Equal(t, tc.want, OrderBy(c, tc.spec))
		})
	}
}

// requireFieldError checks err is a 400 with exactly message on field.
func requireFieldError(t *testing.T, err error, field, message string) {
	t.Helper()
	require.Error(t, err)
	e, ok := err.(*models.Error)
	require.True(t, ok, "%T is not *models.Error", err)
	require.Equal(t, models.CodeInvalid, e.Code)
	require.Equal(t, map[string][]string{field: {message}}, e.Fields)
}
