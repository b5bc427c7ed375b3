package catalog_test

import (
	"encoding/json"
	"testing"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// FuzzCreateOffering sends arbitrary create bodies: never a 5xx, and a 201
// only with a body that decodes.
func FuzzCreateOffering(f *testing.F) {
	db := dbtest.Migrated(f, config.SQLite)
	e := newEnv(f, db, config.SQLite)
	e.registerProvider()
	good, _ := json.Marshal(e.offeringBody("Seed"))
	for _, s := range []string{string(good), `{}`, `[]`, `null`, `{"name":1}`, `{"components":[{"type":"a","billing_type":"x"}]}`,
		`{"plans":[{"prices":{"cpu":"NaN"}}]}`, `{"options":{"order":[1],"options":[]}}`, `{"plans":"x","components":{}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		w := e.do("POST", "/api/marketplace-provider-offerings/", "owner", body)
		if w.Code >= 500 {
			t.Fatalf("%d for %q: %s", w.Code, body, w.Body.String())
		}
		if w.Code == 201 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON for %q", body)
		}
	})
}
