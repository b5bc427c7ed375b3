package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// createEndpoints are the POST endpoints that create objects; the fuzzer
// sends each arbitrary bodies, as staff and as a customer owner.
var createEndpoints = []struct{ path, seed string }{
	{"/api/customers/", `{"name":"Org","abbreviation":"O","email":"a@b.c","latitude":1.5,"country":"EE","default_tax_percent":"20"}`},
	{"/api/projects/", `{"name":"P","customer":"{customer}","start_date":"2030-01-01","end_date":"2031-01-01","oecd_fos_2007_code":"1.1"}`},
	{"/api/project-types/", `{"name":"Type","description":"d"}`},
	{"/api/users/", `{"username":"u1","email":"u1@example.com","token_lifetime":3600,"is_staff":false,"agree_with_policy":true}`},
	{"/api/keys/", `{"name":"k","public_key":"{pubkey}"}`},
	{"/api/roles/", `{"name":"X.Y","content_type":"project","permissions":["PROJECT.UPDATE"],"is_active":true}`},
	{"/api/user-invitations/", `{"scope":"http://h/api/projects/{project}/","role":"{role:PROJECT.MEMBER}","email":"i@example.com","full_name":"I"}`},
	{"/api/hooks-web/", `{"event_types":["role_granted"],"event_groups":["projects"],"destination_url":"https://example.com/x","content_type":"form"}`},
	{"/api/hooks-email/", `{"event_types":["role_granted"],"email":"h@example.com"}`},
	{"/api/customers/{customer}/add_user/", `{"user":"{user:newbie}","role":"CUSTOMER.OWNER","expiration_time":"2099-01-01T00:00:00Z"}`},
	{"/api/projects/{project}/add_user/", `{"user":"{user:newbie}","role":"PROJECT.ADMIN"}`},
	{"/api-auth/password/", `{"username":"owner","password":"wrong"}`},
}

// FuzzCreateEndpoints: whatever the body, a create endpoint answers with a
// client error or success — never a 5xx, never a panic (recovery would turn
// a panic into a 500, which fails the target too).
func FuzzCreateEndpoints(f *testing.F) {
	for i, e := range createEndpoints {
		f.Add(uint8(i), []byte(e.seed))
		f.Add(uint8(i)|0x80, []byte(e.seed))
		f.Add(uint8(i), []byte(`{"name":null,"customer":12,"permissions":"x","event_types":[1],"user":{}}`))
		f.Add(uint8(i), []byte(`[]`))
	}
	w := seedWorld(f)
	srv, err := app.NewAPI(w.fresh(f), nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e := createEndpoints[int(which&0x7f)%len(createEndpoints)]
		who := "staff"
		if which&0x80 != 0 {
			who = "owner"
		}
		req := httptest.NewRequest(http.MethodPost, w.expand(e.path), bytes.NewReader([]byte(w.expand(string(body)))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+w.tokens[who])
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s as %s with %q → %d: %s", e.path, who, body, rec.Code, rec.Body.String())
		}
	})
}

// TestCreateEndpointsRefuseNULOnBothDatabases: PostgreSQL rejects NUL in
// text, so every string field holding one must be a 400, not a 500, on
// both dialects (the fuzz target runs on SQLite only).
func TestCreateEndpointsRefuseNULOnBothDatabases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedWorldOn(t, db)
		srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
		require.NoError(t, err)
		for _, e := range createEndpoints {
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(w.expand(e.seed)), &body))
			for k, v := range body {
				sv, ok := v.(string)
				if !ok {
					continue
				}
				mutated := map[string]any{}
				for k2, v2 := range body {
					mutated[k2] = v2
				}
				mutated[k] = sv + "\x00x"
				raw, _ := json.Marshal(mutated)
				req := httptest.NewRequest(http.MethodPost, w.expand(e.path), bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+w.tokens["staff"])
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				require.Less(t, rec.Code, 500, "POST %s with NUL in %s: %s", e.path, k, rec.Body.String())
			}
		}
	})
}
