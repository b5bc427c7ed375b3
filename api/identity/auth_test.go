package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// loginResult is the answer to one of parallelLogins.
type loginResult struct {
	code       int
	detail     string
	retryAfter string
}

// parallelLogins sends one login per password for username from addr, all
// at once, and delivers each answer on the channel as it comes.
func (f *fx) parallelLogins(username, addr string, passwords []string) <-chan loginResult {
	f.validate = false // the OpenAPI validator is not for concurrent use
	out := make(chan loginResult, len(passwords))
	start := make(chan struct{})
	for _, pw := range passwords {
		go func() {
			<-start
			raw, _ := json.Marshal(map[string]string{"username": username, "password": pw})
			req := httptest.NewRequest(http.MethodPost, "/api-auth/password/", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = addr
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, req)
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			detail, _ := body["detail"].(string)
			out <- loginResult{code: w.Code, detail: detail, retryAfter: w.Header().Get("Retry-After")}
		}()
	}
	close(start)
	return out
}

// evaluated reports whether a login answer comes from comparing the
// password (a success or a wrong password, not a lockout or a 429).
func (r loginResult) evaluated() bool {
	return r.code == 200 || (r.code == 401 && r.detail == "Invalid username/password.")
}

// TestLoginLockoutParallel: 40 parallel wrong passwords for one username
// from one address get exactly 4 compared (the limit); the other 36 are
// locked out, and so is the right password afterwards.
func TestLoginLockoutParallel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		f.st.Hasher = store.NewHasher(40, time.Minute) // no 429 here: the lockout alone decides
		const addr = "203.0.113.40:1"
		pws := make([]string, 40)
		for i := range pws {
			pws[i] = fmt.Sprintf("wrong-pass%d", i)
		}
		res := f.parallelLogins("user", addr, pws)
		evaluated, locked := 0, 0
		for range pws {
			r := <-res
			switch {
			case r.evaluated():
				evaluated++
			case r.code == 401 && r.detail == "Username is locked out. Try in 10 minutes.":
				locked++
			default:
				t.Fatalf("unexpected answer %+v", r)
			}
		}
		require.Equal(t, store.LoginFailureLimit, evaluated)
		require.Equal(t, 40-store.LoginFailureLimit, locked)
		require.Len(t, f.events("auth_login_failed_with_username"), store.LoginFailureLimit)
		code, body := f.login("user", password, addr)
		require.Equal(t, 401, code)
		require.Equal(t, "Username is locked out. Try in 10 minutes.", body["detail"])
	})
}

// TestLoginLockoutParallelRightPassword is the reproducer: 40 parallel
// attempts, the right password among them, while every hashing slot is
// taken (so no comparison ends, and no success clears the count, before
// every attempt has been counted). At most 4 passwords are compared.
func TestLoginLockoutParallelRightPassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		h := store.NewHasher(store.LoginFailureLimit, time.Minute)
		f.st.Hasher = h
		var held []func()
		for i := 0; i < store.LoginFailureLimit; i++ {
			release, err := h.Acquire(context.Background())
			require.NoError(t, err)
			held = append(held, release)
		}
		pws := make([]string, 40)
		for i := range pws {
			pws[i] = fmt.Sprintf("wrong-pass%d", i)
		}
		pws[23] = password
		res := f.parallelLogins("user", "203.0.113.41:1", pws)
		var got []loginResult
		deadline := time.After(30 * time.Second) // a failure bound, not a wait
		for len(got) < 40-store.LoginFailureLimit {
			select {
			case r := <-res:
				got = append(got, r)
			case <-deadline:
				t.Fatalf("only %d of 40 attempts answered while the hashing slots were held: more than %d wait to compare a password",
					len(got), store.LoginFailureLimit)
			}
		}
		for _, release := range held {
			release()
		}
		for len(got) < 40 {
			got = append(got, <-res)
		}
		evaluated, ok := 0, 0
		for _, r := range got {
			if r.evaluated() {
				evaluated++
			}
			if r.code == 200 {
				ok++
			}
		}
		require.LessOrEqual(t, evaluated, store.LoginFailureLimit, "%+v", got)
		require.LessOrEqual(t, ok, 1)
	})
}

// TestLoginThrottled: when every hashing slot is busy a login is answered
// at once with 429 and Retry-After, and the attempt does not count toward
// the lockout.
func TestLoginThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		h := store.NewHasher(1, 0)
		f.st.Hasher = h
		release, err := h.Acquire(context.Background())
		require.NoError(t, err)
		const addr = "203.0.113.42:1"
		for i := 0; i < 2*store.LoginFailureLimit; i++ {
			w := f.do(http.MethodPost, "/api-auth/password/", map[string]any{"username": "user", "password": "wrong-pass1"}, map[string]string{"RemoteAddr": addr})
			require.Equal(t, http.StatusTooManyRequests, w.Code)
			require.Equal(t, "1", w.Header().Get("Retry-After"))
		}
		release()
		code, _ := f.login("user", password, addr)
		require.Equal(t, 200, code, "the refused attempts did not count")
	})
}
