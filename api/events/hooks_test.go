package events_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	return m
}

func TestWebHookCreateAndRender(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		w := f.do(t, http.MethodPost, "/api/hooks-web/", "owner", map[string]any{
			"event_types":     []string{"customer_update_succeeded"},
			"event_groups":    []string{"projects"},
			"destination_url": "https://example.com/hook",
		})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		h := decode(t, w)
		id := h["uuid"].(string)
		require.Len(t, id, 32)
		require.Equal(t, "http://example.com/api/hooks-web/"+id+"/", h["url"])
		require.Equal(t, true, h["is_active"])
		require.Equal(t, "webhook", h["hook_type"])
		require.Equal(t, "json", h["content_type"])
		require.Equal(t, "https://example.com/hook", h["destination_url"])
		require.Equal(t, f.users["owner"].UUID.String(), h["author_uuid"])
		require.Equal(t, "owner", h["author_username"])
		require.Equal(t, "Olga Owner", h["author_fullname"])
		require.Equal(t, "olga@example.com", h["author_email"])
		require.Equal(t, []any{"projects"}, h["event_groups"])
		// Groups are expanded into the types, as Waldur saves them.
		require.Equal(t, []any{"customer_update_succeeded", "project_creation_succeeded", "project_deletion_succeeded",
			"project_deletion_triggered", "project_update_succeeded"}, h["event_types"])
		require.NotEmpty(t, h["created"])
		require.NotEmpty(t, h["modified"])

		w = f.do(t, http.MethodGet, "/api/hooks-web/"+id+"/", "owner", nil)
		require.Equal(t, 200, w.Code)
		require.Equal(t, h, decode(t, w))

		w = f.do(t, http.MethodPost, "/api/hooks-email/", "member", map[string]any{"event_types": []string{}, "email": "m@example.com", "is_active": false})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		e := decode(t, w)
		require.Equal(t, "email", e["hook_type"])
		require.Equal(t, "m@example.com", e["email"])
		require.Equal(t, false, e["is_active"])
		require.Equal(t, []any{}, e["event_types"])
		require.NotContains(t, e, "destination_url")

		form := f.do(t, http.MethodPost, "/api/hooks-web/", "member", map[string]any{"event_groups": []string{"users"},
			"destination_url": "http://hooks.example.org:8080/in?x=1", "content_type": "form"})
		require.Equal(t, http.StatusCreated, form.Code, form.Body.String())
		require.Equal(t, "form", decode(t, form)["content_type"])
	})
}

func TestHookValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		long := "https://example.com/" + strings.Repeat("a", 190)
		cases := []struct {
			name  string
			path  string
			body  any
			field string
			msg   string
		}{
			{"missing destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}}, "destination_url", "This field is required."},
			{"blank destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": ""}, "destination_url", "This field may not be blank."},
			{"null destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": nil}, "destination_url", "This field may not be null."},
			{"destination_url not a string", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": 5}, "destination_url", "Not a valid string."},
			{"ftp destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "ftp://example.com/x"}, "destination_url", "Enter a valid URL."},
			{"relative destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "/hook"}, "destination_url", "Enter a valid URL."},
			{"destination_url with spaces", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "http://exa mple.com/"}, "destination_url", "Enter a valid URL."},
			{"too long destination_url", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": long}, "destination_url", "Ensure this field has no more than 200 characters."},
			{"bad content_type", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "http://x.example/", "content_type": "xml"}, "content_type", `"xml" is not a valid choice.`},
			{"unknown event type", "/api/hooks-web/", map[string]any{"event_types": []string{"nope"}, "destination_url": "http://x.example/"}, "event_types", `"nope" is not a valid choice.`},
			{"event_types not a list", "/api/hooks-web/", map[string]any{"event_types": "role_granted", "destination_url": "http://x.example/"}, "event_types", `Expected a list of items but got type "str".`},
			{"event type not a string", "/api/hooks-web/", map[string]any{"event_types": []any{1}, "destination_url": "http://x.example/"}, "event_types", `"1" is not a valid choice.`},
			{"unknown group", "/api/hooks-web/", map[string]any{"event_groups": []string{"nope"}, "destination_url": "http://x.example/"}, "event_groups", `"nope" is not a valid choice.`},
			{"is_active not a boolean", "/api/hooks-web/", map[string]any{"event_types": []string{}, "destination_url": "http://x.example/", "is_active": "maybe"}, "is_active", "Must be a valid boolean."},
			{"neither types nor groups", "/api/hooks-web/", map[string]any{"destination_url": "http://x.example/"}, "non_field_errors", "Please specify list of event_types or event_groups."},
			{"missing email", "/api/hooks-email/", map[string]any{"event_types": []string{"role_granted"}}, "email", "This field is required."},
			{"bad email", "/api/hooks-email/", map[string]any{"event_types": []string{"role_granted"}, "email": "not-an-email"}, "email", "Enter a valid email address."},
			{"email with a name", "/api/hooks-email/", map[string]any{"event_types": []string{"role_granted"}, "email": "Bob <bob@example.com>"}, "email", "Enter a valid email address."},
			{"email without a dotted domain", "/api/hooks-email/", map[string]any{"event_types": []string{"role_granted"}, "email": "bob@example"}, "email", "Enter a valid email address."},
			{"body is a list", "/api/hooks-web/", "[1]", "non_field_errors", "Invalid data. Expected a dictionary, but got list."},
			{"body is not JSON", "/api/hooks-web/", "{", "non_field_errors", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.do(t, http.MethodPost, c.path, "owner", c.body)
				require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
				var errs map[string][]string
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &errs), w.Body.String())
				require.Contains(t, errs, c.field)
				if c.msg != "" {
					require.Equal(t, []string{c.msg}, errs[c.field])
				}
			})
		}
		var n int64
		require.NoError(t, db.Table("hooks").Count(&n).Error)
		require.Zero(t, n, "nothing was stored")
	})
}

func TestHookPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		create := func(user, path string, body map[string]any) string {
			w := f.do(t, http.MethodPost, path, user, body)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			return decode(t, w)["uuid"].(string)
		}
		web := create("owner", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "https://a.example/"})
		email := create("owner", "/api/hooks-email/", map[string]any{"event_groups": []string{"customers"}, "email": "o@example.com"})
		create("member", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "https://m.example/"})
		webPath, emailPath := "/api/hooks-web/"+web+"/", "/api/hooks-email/"+email+"/"

		cases := []struct {
			name   string
			method string
			path   string
			user   string
			body   any
			status int
		}{
			{"anonymous list", http.MethodGet, "/api/hooks-web/", "", nil, 401},
			{"anonymous create", http.MethodPost, "/api/hooks-web/", "", map[string]any{"event_types": []string{}, "destination_url": "https://x.example/"}, 401},
			{"anonymous summary", http.MethodGet, "/api/hooks/", "", nil, 401},
			{"owner gets", http.MethodGet, webPath, "owner", nil, 200},
			{"another user gets", http.MethodGet, webPath, "member", nil, 404},
			{"another user patches", http.MethodPatch, webPath, "member", map[string]any{"is_active": false}, 404},
			{"another user deletes", http.MethodDelete, webPath, "member", nil, 404},
			{"support gets", http.MethodGet, webPath, "support", nil, 200},
			{"support patches", http.MethodPatch, webPath, "support", map[string]any{"is_active": false}, 403},
			{"support deletes", http.MethodDelete, emailPath, "support", nil, 403},
			{"staff gets", http.MethodGet, emailPath, "staff", nil, 200},
			{"wrong collection", http.MethodGet, "/api/hooks-email/" + web + "/", "owner", nil, 404},
			{"bad uuid", http.MethodGet, "/api/hooks-web/xyz/", "owner", nil, 404},
			{"owner patches", http.MethodPatch, webPath, "owner", map[string]any{"content_type": "form"}, 200},
			{"owner puts without destination_url", http.MethodPut, webPath, "owner", map[string]any{"is_active": false}, 400},
			{"owner puts", http.MethodPut, webPath, "owner", map[string]any{"destination_url": "https://b.example/", "is_active": false}, 200},
			{"owner patches invalid", http.MethodPatch, emailPath, "owner", map[string]any{"email": "nope"}, 400},
			{"staff patches", http.MethodPatch, emailPath, "staff", map[string]any{"event_groups": []string{"users"}}, 200},
			{"owner deletes", http.MethodDelete, emailPath, "owner", nil, 204},
			{"deleted is gone", http.MethodGet, emailPath, "owner", nil, 404},
			{"staff deletes others'", http.MethodDelete, webPath, "staff", nil, 204},
		}
		for _, c := range cases {
			w := f.do(t, c.method, c.path, c.user, c.body)
			require.Equal(t, c.status, w.Code, "%s: %s", c.name, w.Body.String())
		}
	})
}

func TestHookUpdateSemantics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		w := f.do(t, http.MethodPost, "/api/hooks-web/", "owner", map[string]any{"event_types": []string{"role_granted"},
			"destination_url": "https://a.example/", "content_type": "form"})
		require.Equal(t, 201, w.Code)
		path := "/api/hooks-web/" + decode(t, w)["uuid"].(string) + "/"

		w = f.do(t, http.MethodPatch, path, "owner", map[string]any{"is_active": false})
		require.Equal(t, 200, w.Code)
		h := decode(t, w)
		require.Equal(t, false, h["is_active"])
		require.Equal(t, "form", h["content_type"], "PATCH keeps the fields not given")
		require.Equal(t, []any{"role_granted"}, h["event_types"])

		w = f.do(t, http.MethodPatch, path, "owner", map[string]any{"event_groups": []string{"ssh"}})
		h = decode(t, w)
		require.Equal(t, []any{"ssh_key_creation_succeeded", "ssh_key_deletion_succeeded"}, h["event_types"],
			"new groups replace the types with their expansion plus the types given")
		require.Equal(t, []any{"ssh"}, h["event_groups"])

		w = f.do(t, http.MethodPut, path, "owner", map[string]any{"destination_url": "https://c.example/"})
		h = decode(t, w)
		require.Equal(t, "https://c.example/", h["destination_url"])
		require.Equal(t, "form", h["content_type"], "PUT keeps optional fields not given, as DRF")
	})
}

func TestHookLists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		f := newFixture(t, db)
		post := func(user, path string, body map[string]any) {
			w := f.do(t, http.MethodPost, path, user, body)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		}
		post("owner", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "https://a.example/"})
		post("owner", "/api/hooks-email/", map[string]any{"event_types": []string{"role_granted"}, "email": "o@example.com", "is_active": false})
		post("member", "/api/hooks-web/", map[string]any{"event_types": []string{"role_granted"}, "destination_url": "https://m.example/", "content_type": "form"})

		list := func(path, user string) []map[string]any {
			w := f.do(t, http.MethodGet, path, user, nil)
			require.Equal(t, 200, w.Code, w.Body.String())
			var out []map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
			require.Equal(t, len(out), atoi(t, w.Header().Get("X-Result-Count")))
			return out
		}
		types := func(hs []map[string]any) []string {
			out := []string{}
			for _, h := range hs {
				out = append(out, h["hook_type"].(string)+":"+h["author_username"].(string))
			}
			return out
		}
		cases := []struct {
			path, user string
			want       []string
		}{
			{"/api/hooks/", "owner", []string{"email:owner", "webhook:owner"}},
			{"/api/hooks/", "member", []string{"webhook:member"}},
			{"/api/hooks/", "outsider", []string{}},
			{"/api/hooks/", "staff", []string{"webhook:member", "email:owner", "webhook:owner"}},
			{"/api/hooks/", "support", []string{"webhook:member", "email:owner", "webhook:owner"}},
			{"/api/hooks/?is_active=false", "staff", []string{"email:owner"}},
			{"/api/hooks/?author_uuid=" + f.users["member"].UUID.String(), "staff", []string{"webhook:member"}},
			{"/api/hooks-web/", "staff", []string{"webhook:member", "webhook:owner"}},
			{"/api/hooks-web/?content_type=form", "staff", []string{"webhook:member"}},
			{"/api/hooks-web/?destination_url=https://a.example/", "staff", []string{"webhook:owner"}},
			{"/api/hooks-web/?query=OLGA", "staff", []string{"webhook:owner"}},
			{"/api/hooks-web/?author_fullname=ga%20ow", "staff", []string{"webhook:owner"}},
			{"/api/hooks-email/", "owner", []string{"email:owner"}},
			{"/api/hooks-email/?email=o@example.com", "staff", []string{"email:owner"}},
			{"/api/hooks-email/", "member", []string{}},
		}
		for _, c := range cases {
			require.Equal(t, c.want, types(list(c.path, c.user)), "%s as %s", c.path, c.user)
		}
		all := list("/api/hooks/", "staff")
		for _, h := range all {
			if h["hook_type"] == "email" {
				require.Contains(t, h, "email")
				require.NotContains(t, h, "destination_url")
			} else {
				require.Contains(t, h, "destination_url")
				require.Contains(t, h, "content_type")
			}
		}
		require.Equal(t, 400, f.do(t, http.MethodGet, "/api/hooks-web/?content_type=xml", "staff", nil).Code)
		require.Equal(t, 400, f.do(t, http.MethodGet, "/api/hooks/?is_active=maybe", "staff", nil).Code)
		w := f.do(t, http.MethodHead, "/api/hooks/", "staff", nil)
		require.Equal(t, 200, w.Code)
		require.Equal(t, "3", w.Header().Get("X-Result-Count"))
		require.Empty(t, w.Body.String())
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, r := range s {
		require.True(t, r >= '0' && r <= '9', s)
		n = n*10 + int(r-'0')
	}
	return n
}
