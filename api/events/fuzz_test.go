package events_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// FuzzHookCreate posts arbitrary bodies to the hook create endpoints: the
// answer is a 201 or a 400, never a 5xx or a panic. Seeds are in
// testdata/fuzz/FuzzHookCreate.
func FuzzHookCreate(f *testing.F) {
	fx := newFixture(f, dbtest.Migrated(f, config.SQLite))
	for _, s := range []string{
		`{"event_types":["role_granted"],"destination_url":"https://example.com/"}`,
		`{"event_groups":["users"],"email":"a@example.com","is_active":"false"}`,
		`{"event_types":"x","destination_url":5,"content_type":null}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add(true, s)
		f.Add(false, s)
	}
	f.Fuzz(func(t *testing.T, web bool, body string) {
		path := "/api/hooks-email/"
		if web {
			path = "/api/hooks-web/"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+fx.tokens["owner"])
		w := httptest.NewRecorder()
		fx.srv.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusCreated && w.Code != http.StatusBadRequest {
			t.Fatalf("POST %s %q → %d %s", path, body, w.Code, w.Body.String())
		}
	})
}
