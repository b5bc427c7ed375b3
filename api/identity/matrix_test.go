package identity_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

var seq atomic.Int64

// newEd25519Key returns a fresh public key in authorized_keys form.
func newEd25519Key(t testing.TB, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment
}

func newRSAKey(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))), sp
}

// addKey stores a key of user through the API and returns its UUID.
func (f *fx) addKey(user string) string {
	f.t.Helper()
	w := f.do(http.MethodPost, "/api/keys/", map[string]any{"name": fmt.Sprintf("k%d", seq.Add(1)), "public_key": newEd25519Key(f.t, "x")}, f.as(user))
	require.Equal(f.t, http.StatusCreated, w.Code, w.Body.String())
	return f.obj(w)["uuid"].(string)
}

// victim is a fresh user with a token that a destructive case may consume.
func (f *fx) victim() *store.UserProfile {
	return f.addUser(fmt.Sprintf("victim%d", seq.Add(1)), nil)
}

// TestRouteMatrix: every route of the module × {anonymous, plain user,
// other user (no shared customer), owner of the plain user's customer,
// support, staff} → the expected status, from one table.
func TestRouteMatrix(t *testing.T) {
	callers := []string{"anonymous", "user", "other", "owner", "support", "staff"}
	type route struct {
		name   string
		method string
		path   func(f *fx) string
		body   func(f *fx) any
		want   []int // in the order of callers
	}
	fixed := func(p string) func(*fx) string { return func(*fx) string { return p } }
	of := func(suffix string) func(*fx) string {
		return func(f *fx) string { return userPath(f.users["user"], suffix) }
	}
	victim := func(suffix string) func(*fx) string {
		return func(f *fx) string { return userPath(f.victim(), suffix) }
	}
	update := func(*fx) any { return map[string]any{"agree_with_policy": true, "job_title": "Engineer"} }
	routes := []route{
		{"list users", "GET", fixed("/api/users/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"count users", "HEAD", fixed("/api/users/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"create user", "POST", fixed("/api/users/"), func(*fx) any {
			n := seq.Add(1)
			return map[string]any{"username": fmt.Sprintf("new%d", n), "email": fmt.Sprintf("new%d@example.com", n)}
		}, []int{401, 403, 403, 403, 403, 201}},
		{"me", "GET", fixed("/api/users/me/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"me head", "HEAD", fixed("/api/users/me/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"retrieve user", "GET", of(""), nil, []int{401, 200, 404, 200, 200, 200}},
		{"patch user", "PATCH", of(""), update, []int{401, 200, 404, 403, 403, 200}},
		{"put user", "PUT", of(""), update, []int{401, 200, 404, 403, 403, 200}},
		{"delete user", "DELETE", victim(""), nil, []int{401, 403, 403, 403, 403, 204}},
		{"change password", "POST", of("change_password/"), func(*fx) any { return map[string]any{"new_password": "newpass123"} },
			[]int{401, 200, 404, 403, 403, 200}},
		{"get token", "GET", of("token/"), nil, []int{401, 403, 403, 403, 403, 200}},
		{"refresh token", "POST", victim("refresh_token/"), nil, []int{401, 403, 403, 403, 403, 200}},
		{"list keys", "GET", fixed("/api/keys/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"count keys", "HEAD", fixed("/api/keys/"), nil, []int{401, 200, 200, 200, 200, 200}},
		{"create key", "POST", fixed("/api/keys/"), func(f *fx) any {
			return map[string]any{"name": fmt.Sprintf("key%d", seq.Add(1)), "public_key": newEd25519Key(f.t, "me@host")}
		}, []int{401, 201, 201, 201, 201, 201}},
		{"retrieve key", "GET", func(f *fx) string { return "/api/keys/" + f.addKey("user") + "/" }, nil, []int{401, 200, 404, 404, 200, 200}},
		{"delete key", "DELETE", func(f *fx) string { return "/api/keys/" + f.addKey("user") + "/" }, nil, []int{401, 204, 404, 404, 403, 204}},
		{"login", "POST", fixed("/api-auth/password/"), func(*fx) any { return map[string]any{"username": "owner", "password": password} },
			[]int{200, 200, 200, 200, 200, 200}},
		{"logout", "POST", func(f *fx) string { return "/api-auth/logout/" }, nil, []int{401, 204, 204, 204, 204, 204}},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		for _, r := range routes {
			for i, caller := range callers {
				t.Run(r.name+"/"+caller, func(t *testing.T) {
					f.t = t
					// Logout consumes the caller's token, a password change by
					// someone else the user's: every case has one.
					if caller != "anonymous" {
						tok, err := f.st.EnsureToken(t.Context(), f.users[caller].ID)
						require.NoError(t, err)
						f.tokens[caller] = tok.Key
					}
					var body any
					if r.body != nil {
						body = r.body(f)
					}
					w := f.do(r.method, r.path(f), body, f.as(caller))
					require.Equal(t, r.want[i], w.Code, "%s %s as %s: %s", r.method, r.name, caller, w.Body.String())
				})
			}
		}
	})
}

// TestUserVisibilityThroughAPI: the list shows exactly what the visibility
// rule allows, with the administrative fields only for staff and support
// and the token only for its owner.
func TestUserVisibilityThroughAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		f.addUser("retired", func(p *store.UserProfile) { p.IsActive = false })
		f.grant("retired", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: f.p1}, f.c1)
		names := func(caller string, query string) []string {
			w := f.do("GET", "/api/users/?page_size=100"+query, nil, f.as(caller))
			require.Equal(t, 200, w.Code, w.Body.String())
			var list []map[string]any
			f.json(w, &list)
			out := []string{}
			for _, u := range list {
				out = append(out, u["username"].(string))
			}
			return out
		}
		require.Equal(t, []string{"owner", "user"}, names("user", ""), "members see their customer's owner, not other customers")
		require.Equal(t, []string{"owner", "user"}, names("owner", ""), "inactive users are hidden from non-staff")
		require.Equal(t, []string{"other"}, names("other", ""))
		require.Equal(t, []string{"other", "owner", "retired", "staff", "support", "user"}, names("support", ""))
		require.Equal(t, []string{"user", "support", "staff", "retired", "owner", "other"}, names("staff", "&o=-username"))
		require.Equal(t, []string{"user", "support", "staff", "retired", "owner", "other"}, names("staff", "&o=-full_name"))
		require.Equal(t, []string{"owner", "retired", "user"}, names("staff", "&customer_uuid="+f.c1UUID.String()))
		require.Equal(t, []string{"retired", "user"}, names("staff", "&project_uuid="+f.p1UUID.String()))
		require.Equal(t, []string{"user"}, names("owner", "&username=user"))
		require.Equal(t, []string{"staff"}, names("staff", "&is_staff=true"))
		require.Equal(t, []string{"retired"}, names("staff", "&is_active=false"))
		require.Equal(t, []string{"support"}, names("staff", "&full_name=firstsupp"))
		require.Equal(t, []string{"other"}, names("staff", "&query=OTHER@EXAMPLE"))
		require.Equal(t, []string{"other"}, names("staff", "&email=other@"))
		require.Equal(t, []string{"owner"}, names("staff", "&user_keyword=firstowner"))
		require.Equal(t, 400, f.do("GET", "/api/users/?customer_uuid=nope", nil, f.as("staff")).Code)
		require.Equal(t, 400, f.do("GET", "/api/users/?is_staff=maybe", nil, f.as("staff")).Code)
		w := f.do("HEAD", "/api/users/", nil, f.as("user"))
		require.Equal(t, "2", w.Header().Get("X-Result-Count"))

		// Field visibility.
		list := func(caller string) map[string]map[string]any {
			w := f.do("GET", "/api/users/", nil, f.as(caller))
			var l []map[string]any
			f.json(w, &l)
			out := map[string]map[string]any{}
			for _, u := range l {
				out[u["username"].(string)] = u
			}
			return out
		}
		asUser := list("user")
		require.Equal(t, f.tokens["user"], asUser["user"]["token"], "own token")
		require.NotContains(t, asUser["owner"], "token")
		require.NotContains(t, asUser["owner"], "token_lifetime")
		require.NotContains(t, asUser["owner"], "is_staff")
		require.NotContains(t, asUser["user"], "is_staff")
		require.Contains(t, asUser["user"], "has_active_session")
		require.NotContains(t, asUser["owner"], "has_active_session")
		asSupport := list("support")
		require.Equal(t, false, asSupport["user"]["is_staff"])
		require.NotContains(t, asSupport["user"], "token")
		asStaff := list("staff")
		require.NotContains(t, asStaff["user"], "token", "not even staff see another user's token")
		require.EqualValues(t, 3600, asStaff["user"]["token_lifetime"])
		require.NotNil(t, asStaff["user"]["token_expires_at"])
		perms := asStaff["owner"]["permissions"].([]any)
		require.Len(t, perms, 1)
		p := perms[0].(map[string]any)
		require.Equal(t, models.RoleCustomerOwner, p["role_name"])
		require.Equal(t, "customer", p["scope_type"])
		require.Equal(t, f.c1UUID.String(), p["scope_uuid"])
		require.Equal(t, "Org One", p["customer_name"])
		up := asStaff["user"]["permissions"].([]any)[0].(map[string]any)
		require.Equal(t, "project", up["scope_type"])
		require.Equal(t, "Project One", up["scope_name"])
		require.Equal(t, f.c1UUID.String(), up["customer_uuid"])
		require.Equal(t, "Firstuser Last", up["user_name"])
	})
}
