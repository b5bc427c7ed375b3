package app_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/script"
)

// TestOrdersForUnsupportedOfferingTypesAreRefused: an order for an offering
// type no registered provider serves is a 400 at once (its workflow could
// never run), while served types (Basic, Slurm agent-driven) are accepted.
func TestOrdersForUnsupportedOfferingTypesAreRefused(t *testing.T) {
	w := seedWorld(t)
	db := w.fresh(t)
	now := time.Now().UTC()
	var cust, cat int64
	require.NoError(t, db.Raw("SELECT id FROM customers WHERE name = 'C1'").Scan(&cust).Error)
	require.NoError(t, db.Raw("SELECT id FROM categories WHERE title = 'Services'").Scan(&cat).Error)
	offering := func(typ string) string {
		id := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": id, "name": typ, "customer_id": cust, "category_id": cat, "type": typ,
			"state": models.OfferingActive, "shared": true, "created": now, "modified": now}).Error)
		return id.String()
	}
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	require.NoError(t, err)
	post := func(off string) *httptest.ResponseRecorder {
		body := `{"offering":"` + off + `","project":"` + w.ids["{project}"] + `","attributes":{"name":"x"}}`
		req := httptest.NewRequest(http.MethodPost, "/api/marketplace-orders/", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+w.tokens["owner"])
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	rec := post(offering("Nobody.Serves"))
	require.Equal(t, 400, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "is not supported")
	for _, typ := range []string{models.OfferingSlurm, script.OfferingType} {
		rec = post(offering(typ))
		require.Equal(t, 201, rec.Code, "%s: %s", typ, rec.Body.String())
	}
}
