package identity_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func (f *fx) login(user, pw, addr string) (int, map[string]any) {
	f.t.Helper()
	w := f.do(http.MethodPost, "/api-auth/password/", map[string]any{"username": user, "password": pw}, map[string]string{"RemoteAddr": addr})
	return w.Code, f.obj(w)
}

// TestLoginAndLockout: the right password gives the user's one token;
// after 4 failures for a username from one address even the right password
// is refused (401, Waldur's message) until 10 minutes after the last
// failure; a success clears the count; another address is not affected.
func TestLoginAndLockout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		const addr = "203.0.113.7:4242"
		code, body := f.login("user", password, addr)
		require.Equal(t, 200, code)
		require.Equal(t, f.tokens["user"], body["token"], "the existing token is returned")

		for i := 0; i < 4; i++ {
			f.now = f.now.Add(time.Minute)
			code, body = f.login("user", "wrong-pass1", addr)
			require.Equal(t, 401, code)
			require.Equal(t, "Invalid username/password.", body["detail"])
		}
		last := f.now
		code, body = f.login("user", password, addr)
		require.Equal(t, 401, code, "locked out even with the right password")
		require.Equal(t, "Username is locked out. Try in 10 minutes.", body["detail"])
		code, _ = f.login("user", password, "198.51.100.1:1")
		require.Equal(t, 200, code, "another address is not locked")
		code, _ = f.login("owner", password, addr)
		require.Equal(t, 200, code, "another username is not locked")

		f.now = last.Add(10*time.Minute - time.Second)
		code, _ = f.login("user", password, addr)
		require.Equal(t, 401, code)
		f.now = last.Add(10*time.Minute + time.Second)
		code, _ = f.login("user", password, addr)
		require.Equal(t, 200, code, "free 10 minutes after the last failure")

		// A success clears the failures: three more do not lock.
		for i := 0; i < 3; i++ {
			code, _ = f.login("user", "wrong-pass1", addr)
			require.Equal(t, 401, code)
		}
		code, _ = f.login("user", password, addr)
		require.Equal(t, 200, code)
		for i := 0; i < 3; i++ {
			code, _ = f.login("user", "wrong-pass1", addr)
			require.Equal(t, 401, code)
		}
		code, _ = f.login("user", password, addr)
		require.Equal(t, 200, code, "only 3 failures since the last success")

		// Unknown users fail the same way and are counted too.
		code, body = f.login("nobody", password, addr)
		require.Equal(t, 401, code)
		require.Equal(t, "Invalid username/password.", body["detail"])

		failed := f.events("auth_login_failed_with_username")
		require.Len(t, failed, 11)
		require.Equal(t, "user", failed[0].Context["username"])
		require.Equal(t, []models.Scope{{Type: models.ScopeUser, ID: f.users["user"].ID}}, failed[0].Feeds)
		require.Empty(t, failed[10].Feeds, "an unknown username has no user to feed")
		ok := f.events("auth_logged_in_with_username")
		require.Len(t, ok, 6)
		require.Equal(t, f.users["user"].UUID.String(), ok[0].Context["user_uuid"])
		require.Equal(t, "203.0.113.7", ok[0].Context["ip_address"])
	})
}

// TestLoginValidation: missing fields are 400 field errors, malformed JSON
// a 400 detail, inactive users cannot log in.
func TestLoginValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		w := f.do("POST", "/api-auth/password/", map[string]any{}, nil)
		require.Equal(t, 400, w.Code)
		require.Equal(t, map[string]any{"username": []any{"This field is required."}, "password": []any{"This field is required."}}, f.obj(w))
		w = f.do("POST", "/api-auth/password/", map[string]any{"username": "", "password": 5}, nil)
		require.Equal(t, 400, w.Code)
		require.Equal(t, []any{"This field may not be blank."}, f.obj(w)["username"])
		w = f.do("POST", "/api-auth/password/", `{"username": `, nil)
		require.Equal(t, 400, w.Code)
		require.Contains(t, f.obj(w)["detail"], "JSON parse error")
		w = f.do("POST", "/api-auth/password/", `["user"]`, nil)
		require.Equal(t, 400, w.Code)
		require.Equal(t, []any{"Invalid data. Expected a dictionary, but got list."}, f.obj(w)["non_field_errors"])

		f.addUser("gone", func(p *store.UserProfile) { p.IsActive = false })
		code, body := f.login("gone", password, "192.0.2.9:1")
		require.Equal(t, 401, code)
		require.Equal(t, "User account is disabled.", body["detail"])
	})
}

// TestLoginRenewsToken: a login restarts the token's lifetime; an expired
// token is replaced by a new key; the sliding lifetime of requests holds.
func TestLoginRenewsToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		me := func() int { return f.do("GET", "/api/users/me/", nil, f.as("user")).Code }
		f.now = f.now.Add(50 * time.Minute)
		require.Equal(t, 200, me(), "inside the lifetime")
		f.now = f.now.Add(50 * time.Minute)
		require.Equal(t, 200, me(), "the previous request restarted the lifetime")
		f.now = f.now.Add(61 * time.Minute)
		require.Equal(t, 401, me(), "an hour without requests: expired")
		code, body := f.login("user", password, "192.0.2.1:1")
		require.Equal(t, 200, code)
		require.NotEqual(t, f.tokens["user"], body["token"], "the expired token is replaced")
		f.tokens["user"] = body["token"].(string)
		require.Equal(t, 200, me())
	})
}

// TestLogout: the token is deleted and gives 401 afterwards; a new login
// issues a new one.
func TestLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		require.Equal(t, 200, f.do("GET", "/api/users/me/", nil, f.as("user")).Code)
		require.Equal(t, http.StatusNoContent, f.do("POST", "/api-auth/logout/", nil, f.as("user")).Code)
		w := f.do("GET", "/api/users/me/", nil, f.as("user"))
		require.Equal(t, 401, w.Code)
		require.Equal(t, "Invalid token.", f.obj(w)["detail"])
		ev := f.events("auth_logged_out")
		require.Len(t, ev, 1)
		require.Equal(t, "user", ev[0].Context["user_username"])
		require.Equal(t, []models.Scope{{Type: models.ScopeUser, ID: f.users["user"].ID}}, ev[0].Feeds)
		code, body := f.login("user", password, "192.0.2.1:1")
		require.Equal(t, 200, code)
		require.NotEqual(t, f.tokens["user"], body["token"])
	})
}
