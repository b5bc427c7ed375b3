package identity_test

import (
	"testing"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// FuzzCreateBodies sends arbitrary JSON bodies to the create endpoints of
// the module (users, keys, login, password change) as staff: whatever the
// body, the answer is never a 5xx and nothing panics.
func FuzzCreateBodies(fz *testing.F) {
	seeds := []struct {
		route int
		body  string
	}{
		{0, `{"username": "fz", "email": "fz@example.com", "token_lifetime": 60, "gender": 9, "birth_date": "2000-01-01"}`},
		{0, `{"username": "FZ", "email": 5, "is_staff": "1", "nationalities": [1, null], "token_lifetime": 1e40}`},
		{0, `{"username": "", "email": null, "password": "x", "slug": "a b", "gender": "2"}`},
		{1, `{"name": "k", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl k"}`},
		{1, `{"public_key": "ssh-rsa AAAA", "name": ["x"]}`},
		{2, `{"username": "user", "password": "wrong"}`},
		{2, `[]`},
		{3, `{"new_password": 12345678}`},
		{3, `{"new_password": "abc\u0000def1"}`},
		{0, `{"username": "a", "email": "a@b.co", "token_lifetime": "9999999999999"}`},
		{1, `not json`},
	}
	for _, s := range seeds {
		fz.Add(s.route, []byte(s.body))
	}
	f := newFx(fz, dbtest.Migrated(fz, config.SQLite))
	paths := []string{"/api/users/", "/api/keys/", "/api-auth/password/", userPath(f.users["user"], "change_password/")}
	fz.Fuzz(func(t *testing.T, route int, body []byte) {
		f.t = t
		if route < 0 {
			route = -route
		}
		w := f.do("POST", paths[route%len(paths)], string(body), f.as("staff"))
		if w.Code >= 500 {
			t.Fatalf("POST %s %q → %d: %s", paths[route%len(paths)], body, w.Code, w.Body.String())
		}
	})
}
