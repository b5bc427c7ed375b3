package structure_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// fuzzCreate posts arbitrary bodies to a create endpoint: the answer is a
// 2xx or a 4xx, never a 5xx (and never a panic). The seed corpus is in
// testdata/fuzz; run longer with go test -fuzz=FuzzCreateProject ./api/structure/.
func fuzzCreate(f *testing.F, user string, setup func(e *env, w *world) (path string, seeds []string)) {
	e := newEnv(f, dbtest.Migrated(f, config.SQLite), config.SQLite)
	w := e.world()
	path, seeds := setup(e, w)
	for _, s := range seeds {
		f.Add(strings.ReplaceAll(s, "{customer}", w.customer.UUID.String()))
	}
	h, tok := e.srv.Handler(), e.toks[user]
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Token "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}

func FuzzCreateCustomer(f *testing.F) {
	fuzzCreate(f, "staff", func(*env, *world) (string, []string) {
		return "/api/customers/", []string{
			`{"name": "Acme", "abbreviation": "AC", "country": "EE", "default_tax_percent": "20.00", "latitude": 1.5}`,
			`{"name": "x", "sponsor_number": 99999999999999999999, "accounting_start_date": "2026-01-01T00:00:00Z"}`,
			`{"name": "x", "blocked": "true", "access_subnets": "10.0.0.0/8", "homepage": "http://x.example/"}`,
			`{"name": "\u0000"}`, `[]`, `{`, ``, `null`,
		}
	})
}

func FuzzCreateProject(f *testing.F) {
	fuzzCreate(f, "owner", func(*env, *world) (string, []string) {
		return "/api/projects/", []string{
			`{"name": "P", "customer": "{customer}"}`,
			`{"name": "P", "customer": "http://h/api/customers/{customer}/", "start_date": "2030-01-01", "end_date": "2031-01-01", "oecd_fos_2007_code": "1.1"}`,
			`{"name": "P", "customer": "{customer}", "type": null, "is_industry": 1, "description": "` + strings.Repeat("d", 100) + `"}`,
			`{"name": 7, "customer": ["{customer}"]}`, `{"customer": {}}`, `"text"`,
		}
	})
}

func FuzzAddUser(f *testing.F) {
	fuzzCreate(f, "owner", func(e *env, w *world) (string, []string) {
		target := e.users["target"].UUID.String()
		return projectPath(w.project) + "add_user/", []string{
			`{"user": "` + target + `", "role": "PROJECT.MEMBER"}`,
			`{"user": "` + target + `", "role": "PROJECT.ADMIN", "expiration_time": "2030-01-01"}`,
			`{"user": "` + models.NewUUID().Dashed() + `", "role": "` + models.NewUUID().String() + `"}`,
			`{"user": null, "role": 5, "expiration_time": []}`,
		}
	})
}
