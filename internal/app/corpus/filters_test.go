package corpus_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/preset"
	"github.com/waldur-go/waldur/models/store"
)

var updateFilters = flag.Bool("update-filters", false, "rewrite docs/filters.md from the served routes and Waldur's OpenAPI file")

// notFilters are the query parameters of lists that select no rows:
// pagination, ordering and field selection (tested elsewhere).
var notFilters = map[string]bool{"page": true, "page_size": true, "o": true, "field": true, "format": true}

// filterStatus is what a declared parameter does on a served list.
type filterStatus string

const (
	honoured filterStatus = "honoured" // a value that matches nothing changes the answer (fewer rows, or 400)
	ignored  filterStatus = "ignored"  // the answer is the same with it: listed in filters-ignored.txt with a reason
	unprobed filterStatus = "unprobed" // the list is empty in the probe's world: nothing to narrow
)

// TestDeclaredFilters asks every served list, on the E2E preset world, for
// each query parameter Waldur's OpenAPI file declares on it, with a value
// that matches nothing: an honoured filter answers fewer rows or a 400, an
// ignored one the whole list. docs/filters.md is the table of every served
// list × declared parameter with its status (regenerated with
// -update-filters); a parameter found ignored must be listed with a reason
// in testdata/filters-ignored.txt, or the test fails — and so does a
// listed one that became honoured (the list is kept honest).
func TestDeclaredFilters(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	raw, err := os.ReadFile(filepath.Join("..", "..", "preset", "testdata", "preset-slurm-e2e.json"))
	require.NoError(t, err)
	_, err = preset.Load(context.Background(), store.New(db), raw)
	require.NoError(t, err)
	seedCorpus(t, db)
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	require.NoError(t, err)
	u, err := store.New(db).UserByUsername(context.Background(), "e2e-staff")
	require.NoError(t, err)
	tok, err := store.New(db).EnsureToken(context.Background(), u.ID)
	require.NoError(t, err)
	get := func(path string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Token "+tok.Key)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}

	reasons := readListed(t, "filters-ignored.txt", true)
	type row struct {
		path, param string
		status      filterStatus
	}
	var rows []row
	paths := map[string]bool{}
	for _, r := range srv.Engine().Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/") || strings.Contains(r.Path, ":") || paths[r.Path] {
			continue
		}
		paths[r.Path] = true
		params, found, err := apitest.QueryParams(http.MethodGet, r.Path)
		require.NoError(t, err)
		if !found {
			continue
		}
		baseCode, base := get(r.Path)
		empty := baseCode != http.StatusOK || strings.TrimSpace(base) == "[]"
		for _, p := range params {
			if notFilters[p.Name] {
				continue
			}
			st := unprobed
			if !empty {
				st = ignored
				for _, v := range probeValues(p) {
					code, body := get(r.Path + "?" + url.Values{p.Name: {v}}.Encode())
					if code == http.StatusBadRequest || (code == http.StatusOK && body != base) {
						st = honoured
						break
					}
				}
			}
			rows = append(rows, row{r.Path, p.Name, st})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].path != rows[j].path {
			return rows[i].path < rows[j].path
		}
		return rows[i].param < rows[j].param
	})

	var b strings.Builder
	counts := map[filterStatus]int{}
	for _, r := range rows {
		counts[r.status]++
	}
	fmt.Fprintf(&b, "# Filters of the served lists\n\n")
	fmt.Fprintf(&b, "Every query parameter Waldur's OpenAPI file (8.0.5) declares on a list this server serves, and what it does\n")
	fmt.Fprintf(&b, "here, found by `TestDeclaredFilters` (`internal/app/corpus`): on the E2E preset world, a value that matches\n")
	fmt.Fprintf(&b, "nothing is sent; **honoured** — the answer changes (fewer rows, or a 400 for a malformed value); **ignored** —\n")
	fmt.Fprintf(&b, "the whole list comes back (each with its reason, from `internal/app/corpus/testdata/filters-ignored.txt`);\n")
	fmt.Fprintf(&b, "**unprobed** — the list is empty in that world, so nothing could narrow it. Pagination, ordering and `field`\n")
	fmt.Fprintf(&b, "are left out. Regenerate with `go test ./internal/app/corpus/ -run TestDeclaredFilters -update-filters`.\n\n")
	fmt.Fprintf(&b, "%d parameters: %d honoured, %d ignored, %d unprobed.\n\n", len(rows), counts[honoured], counts[ignored], counts[unprobed])
	fmt.Fprintf(&b, "| list | parameter | status |\n|---|---|---|\n")
	var missing []string
	seen := map[string]bool{}
	for _, r := range rows {
		key := r.path + " " + r.param
		seen[key] = true
		cell := string(r.status)
		if r.status == ignored {
			reason, ok := reasons[key]
			if !ok {
				missing = append(missing, key)
			}
			cell += ": " + reason
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", r.path, r.param, cell)
	}
	var stale []string
	for key := range reasons {
		var st filterStatus
		for _, r := range rows {
			if r.path+" "+r.param == key {
				st = r.status
			}
		}
		if !seen[key] || st != ignored {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	doc := filepath.Join("..", "..", "..", "docs", "filters.md")
	if *updateFilters {
		require.NoError(t, os.WriteFile(doc, []byte(b.String()), 0o644))
	}
	require.Empty(t, missing, "declared filters these lists ignore without a reason: implement them, or list each in testdata/filters-ignored.txt with why")
	require.Empty(t, stale, "listed as ignored but honoured now (or gone): remove them from testdata/filters-ignored.txt")
	committed, err := os.ReadFile(doc)
	require.NoError(t, err, "run with -update-filters")
	require.Equal(t, string(committed), b.String(), "docs/filters.md is stale: run with -update-filters")
}

// probeValues are values of p that match nothing in the probe's world.
func probeValues(p apitest.QueryParam) []string {
	switch {
	case p.Format == "uuid":
		return []string{"0badc0de0badc0de0badc0de0badc0de"}
	case p.Format == "uri":
		return []string{"http://example.com/api/nothing/0badc0de0badc0de0badc0de0badc0de/"}
	case p.Format == "date" || p.Format == "date-time":
		return []string{"1970-01-02", "2999-12-31"}
	case len(p.Enum) > 0:
		return p.Enum
	case p.Type == "boolean":
		return []string{"true", "false"}
	case p.Type == "integer" || p.Type == "number":
		return []string{"987654321", "-1"}
	}
	return []string{"zz-matches-nothing-zz"}
}

// readListed reads a testdata list of "key: reason" lines (the key is
// words separated by single spaces; the reason may be required); # comments
// and blank lines are skipped. A missing file is an empty list.
func readListed(t *testing.T, name string, needReason bool) map[string]string {
	f, err := os.Open(filepath.Join("testdata", name))
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, ok := strings.Cut(line, ": ")
		require.True(t, ok || !needReason, "%s: %q is not \"key: reason\"", name, line)
		out[strings.Join(strings.Fields(key), " ")] = strings.TrimSpace(reason)
	}
	require.NoError(t, sc.Err())
	return out
}
