package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waldur-go/waldur/internal/metrics"
)

// TestDashboardUsesExportedMetrics: every waldur_* series the Grafana
// dashboard (docker/grafana/waldur-dashboard.json) queries is one the API
// exports, so a renamed metric cannot leave an empty panel behind.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../docker/grafana/waldur-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	exported := map[string]bool{
		// api.Metrics and the read replicas' Router (internal/database).
		"waldur_http_requests_total": true, "waldur_http_request_duration_seconds_bucket": true,
		"waldur_db_reads_total": true, "waldur_db_replica_up": true, "waldur_db_replica_staleness_seconds": true,
	}
	ch := make(chan *prometheus.Desc, 64)
	metrics.New(metrics.Options{}).Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		exported[fq.FindStringSubmatch(d.String())[1]] = true
	}
	name := regexp.MustCompile(`\bwaldur_[a-z_]+`)
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			for _, m := range name.FindAllString(tg.Expr, -1) {
				if !exported[m] {
					t.Errorf("panel %q queries %s, which nothing exports", p.Title, m)
				}
			}
		}
	}
	if dash.UID == "" || queries < 20 {
		t.Errorf("uid %q, %d queries", dash.UID, queries)
	}
}
