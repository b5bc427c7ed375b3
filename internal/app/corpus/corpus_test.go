package corpus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/preset"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus.json from the current server")

// corpusCallers are the preset's users whose view the corpus records:
// staff (also the organization's owner) and a project member.
var corpusCallers = map[string]string{"staff": "e2e-staff", "member": "e2euser1"}

var (
	corpusTime  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$`)
	corpusUUID  = regexp.MustCompile(`[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`)
	corpusParam = regexp.MustCompile(`:[a-z_]+`)
	corpusToken = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// TestAPICorpus records, on the site agent's E2E preset, the answer of
// every served GET route whose path parameters the preset can fill, as
// staff and as an organization owner, and compares it with
// testdata/corpus.json: a redesign that changes a status, a key or a value
// fails here. Times and UUIDs the server makes itself are normalized
// (UUIDs the preset fixes are kept). After a deliberate change, rerun with
// -update-corpus and review the diff.
func TestAPICorpus(t *testing.T) {
	got := map[string]map[string]any{}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := dbtest.Migrated(t, kind)
			raw, err := os.ReadFile(filepath.Join("..", "..", "preset", "testdata", "preset-slurm-e2e.json"))
			require.NoError(t, err)
			_, err = preset.Load(context.Background(), store.New(db), raw)
			require.NoError(t, err)
			seedCorpus(t, db)
			corpus := recordCorpus(t, db, raw)
			if prev, ok := got["first"]; ok {
				require.Equal(t, prev, corpus, "the corpus is the same on both databases")
			}
			got["first"] = corpus
		})
	}
	corpus := got["first"]
	require.NotEmpty(t, corpus)
	path := filepath.Join("testdata", "corpus.json")
	out, err := json.MarshalIndent(corpus, "", " ")
	require.NoError(t, err)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	dayPath := filepath.Join("testdata", "corpus-recorded-on.txt")
	if *updateCorpus {
		require.NoError(t, os.WriteFile(path, append(out, '\n'), 0o644))
		require.NoError(t, os.WriteFile(dayPath, []byte(today.Format(time.DateOnly)+"\n"), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update-corpus to record it")
	var wantCorpus map[string]any
	require.NoError(t, json.Unmarshal(want, &wantCorpus))
	// Dates relative to today (the last 30 days of order_stats, ...) move
	// with it: a date answered now matches the recorded one, or the
	// recorded one moved by the days since the recording.
	day, err := os.ReadFile(dayPath)
	require.NoError(t, err, "run with -update-corpus to record the corpus and its day")
	recordedOn, err := time.Parse(time.DateOnly, strings.TrimSpace(string(day)))
	require.NoError(t, err, dayPath)
	shift := dayShift{days: int(today.Sub(recordedOn).Hours() / 24),
		months: (today.Year()-recordedOn.Year())*12 + int(today.Month()) - int(recordedOn.Month())}
	var gotCorpus map[string]any
	require.NoError(t, json.Unmarshal(out, &gotCorpus))
	for k := range wantCorpus {
		if _, ok := gotCorpus[k]; !ok {
			t.Errorf("%s: recorded, not answered now", k)
		}
	}
	for k, v := range gotCorpus {
		w, ok := wantCorpus[k]
		if !ok {
			t.Errorf("%s: answered now, not recorded (-update-corpus after review)", k)
			continue
		}
		if !jsonEqual(w, v) && !sameUpToDayShift(w, v, shift) {
			wb, _ := json.Marshal(w)
			vb, _ := json.Marshal(v)
			t.Errorf("%s changed:\nrecorded %s\nnow      %s", k, wb, vb)
		}
	}
}

var corpusDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// dayShift is how far today is from the corpus's recording day.
type dayShift struct{ days, months int }

// moved reports whether now is the date recorded moved with today: by the
// days since the recording, or, for the first or last day of a month (a
// billing period's bounds), by the months since.
func (s dayShift) moved(recorded, now time.Time) bool {
	if recorded.AddDate(0, 0, s.days).Equal(now) {
		return true
	}
	first := time.Date(recorded.Year(), recorded.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch {
	case recorded.Day() == 1:
		return first.AddDate(0, s.months, 0).Equal(now)
	case recorded.AddDate(0, 0, 1).Day() == 1:
		return first.AddDate(0, s.months+1, -1).Equal(now)
	}
	return false
}

// sameUpToDayShift reports whether now equals recorded where every date
// (YYYY-MM-DD) of now is either the recorded date or the recorded date
// moved with today (dayShift.moved).
func sameUpToDayShift(recorded, now any, shift dayShift) bool {
	switch r := recorded.(type) {
	case map[string]any:
		n, ok := now.(map[string]any)
		if !ok || len(n) != len(r) {
			return false
		}
		for k, rv := range r {
			nv, ok := n[k]
			if !ok || !sameUpToDayShift(rv, nv, shift) {
				return false
			}
		}
		return true
	case []any:
		n, ok := now.([]any)
		if !ok || len(n) != len(r) {
			return false
		}
		for i := range r {
			if !sameUpToDayShift(r[i], n[i], shift) {
				return false
			}
		}
		return true
	case string:
		n, ok := now.(string)
		if !ok {
			return false
		}
		if n == r {
			return true
		}
		if !corpusDate.MatchString(r) || !corpusDate.MatchString(n) {
			return false
		}
		rd, err1 := time.Parse(time.DateOnly, r)
		nd, err2 := time.Parse(time.DateOnly, n)
		return err1 == nil && err2 == nil && shift.moved(rd, nd)
	}
	return jsonEqual(recorded, now)
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb)
}

// recordCorpus answers every fillable GET route for every corpus caller.
func recordCorpus(t *testing.T, db *gorm.DB, presetJSON []byte) map[string]any {
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	require.NoError(t, err)
	values := presetParams(t, presetJSON)
	for segment, table := range tableParams {
		var u string
		require.NoError(t, db.Raw("SELECT uuid FROM "+table+" ORDER BY id LIMIT 1").Scan(&u).Error)
		values[segment] = strings.ReplaceAll(u, "-", "")
	}
	known := knownUUIDs(presetJSON)
	for _, u := range []string{corpusResource, corpusOrder, corpusCredit, corpusPCredit, corpusKey, corpusHook} {
		known[u] = true
	}
	st := store.New(db)
	tokens := map[string]string{}
	for who, username := range corpusCallers {
		u, err := st.UserByUsername(context.Background(), username)
		require.NoError(t, err)
		tok, err := st.EnsureToken(context.Background(), u.ID)
		require.NoError(t, err)
		tokens[who] = tok.Key
	}
	out := map[string]any{}
	var skipped []string
	for _, r := range srv.Engine().Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api") || strings.HasPrefix(r.Path, "/api/docs") {
			continue
		}
		path, ok := fillPath(r.Path, values)
		if !ok {
			skipped = append(skipped, r.Path)
			continue
		}
		for who, token := range tokens {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Token "+token)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			var body any
			if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					body = "<invalid json>"
				}
			} else {
				body = fmt.Sprintf("<%s, %d bytes>", strings.Split(rec.Header().Get("Content-Type"), ";")[0], rec.Body.Len())
			}
			out[r.Path+" "+who] = map[string]any{"status": rec.Code, "body": normalize(body, known, map[string]string{})}
		}
	}
	sort.Strings(skipped)
	t.Logf("%d answers recorded; %d GET routes skipped (no preset value for a path parameter): %v", len(out), len(skipped), skipped)
	return out
}

// Fixed UUIDs of what seedCorpus adds to the preset.
const (
	corpusResource = "c0c0000000000000000000000000000a"
	corpusOrder    = "c0c0000000000000000000000000000b"
	corpusCredit   = "c0c0000000000000000000000000000c"
	corpusPCredit  = "c0c0000000000000000000000000000d"
	corpusKey      = "c0c0000000000000000000000000000e"
	corpusHook     = "c0c0000000000000000000000000000f"
)

// seedCorpus adds to the preset what its routes need and it lacks: a
// resource of the first offering made by a done create order on the first
// plan, its invoice for the current month, credits, an SSH key and a web
// hook of the staff user.
func seedCorpus(t *testing.T, db *gorm.DB) {
	ctx := context.Background()
	st := store.New(db)
	var ids struct{ Offering, Plan, Project, Customer, Staff int64 }
	require.NoError(t, db.Raw(`SELECT (SELECT id FROM offerings WHERE uuid = ?) AS offering, (SELECT id FROM plans WHERE uuid = ?) AS plan,
		(SELECT id FROM projects WHERE uuid = ?) AS project, (SELECT id FROM customers WHERE uuid = ?) AS customer,
		(SELECT id FROM users WHERE username = 'e2e-staff') AS staff`,
		"e2ef0000000000000000000000000001", "e2e00000000000000000000000000011", "e2eb0000000000000000000000000001",
		"e2ec0000000000000000000000000001").Scan(&ids).Error)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ins := func(table string, v map[string]any) {
		require.NoError(t, db.Table(table).Create(v).Error, table)
	}
	ins("resources", map[string]any{"uuid": corpusResource, "name": "corpus-allocation", "slug": "corpus-allocation", "project_id": ids.Project,
		"offering_id": ids.Offering, "plan_id": ids.Plan, "state": "OK", "limits": `{"cpu": 10}`, "backend_id": "acc_corpus",
		"created": at, "modified": at})
	var res int64
	require.NoError(t, db.Raw("SELECT id FROM resources WHERE uuid = ?", corpusResource).Scan(&res).Error)
	ins("orders", map[string]any{"uuid": corpusOrder, "type": "Create", "state": "done", "resource_id": res, "offering_id": ids.Offering,
		"project_id": ids.Project, "plan_id": ids.Plan, "limits": `{"cpu": 10}`, "attributes": `{"name": "corpus-allocation"}`,
		"workflow_started": true, "completed_at": at, "created": at, "modified": at, "created_by_id": ids.Staff})
	ins("customer_credits", map[string]any{"uuid": corpusCredit, "customer_id": ids.Customer, "value": "1000", "created": at, "modified": at})
	ins("project_credits", map[string]any{"uuid": corpusPCredit, "project_id": ids.Project, "value": "100", "created": at, "modified": at})
	ins("ssh_keys", map[string]any{"uuid": corpusKey, "user_id": ids.Staff, "name": "laptop",
		"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlq0S0bGpr2XLGm3cBQbqA0W3b2ug9BRmUcD3Dx8ALx corpus", "fingerprint_md5": "x",
		"fingerprint_sha256": "y", "fingerprint_sha512": "z", "type": "ssh-ed25519", "created": at})
	// The preset's prices are 0: give cpu a price so the resource has an invoice item.
	require.NoError(t, db.Exec(`UPDATE plan_components SET price = 0.5 WHERE plan_id = ? AND component_id =
		(SELECT id FROM offering_components WHERE uuid = ?)`, ids.Plan, "e2e10000000000000000000000000001").Error)
	_, err := st.EnsureMonthInvoices(ctx, billing.MonthOf(at))
	require.NoError(t, err)
	_, err = st.RegisterResource(ctx, models.MustParseUUID(corpusResource), billing.MonthOf(at))
	require.NoError(t, err)
}

// tableParams are path parameters filled from the first row of a table.
var tableParams = map[string]string{
	"marketplace-resources": "resources", "marketplace-provider-resources": "resources", "marketplace-orders": "orders",
	"invoices": "invoices", "invoice-items": "invoice_items", "customer-credits": "customer_credits",
	"project-credits": "project_credits", "keys": "ssh_keys", "roles": "roles",
}

// presetParams maps path parameter names to preset values.
func presetParams(t *testing.T, raw []byte) map[string]string {
	var p map[string]any
	require.NoError(t, json.Unmarshal(raw, &p))
	first := func(section string) string {
		items, _ := p[section].([]any)
		if len(items) == 0 {
			return ""
		}
		m, _ := items[0].(map[string]any)
		s, _ := m["uuid"].(string)
		return s
	}
	return map[string]string{
		"customer":         first("customers"),
		"project":          first("projects"),
		"offering":         first("offerings"),
		"plan":             first("plans"),
		"category":         first("categories"),
		"group":            first("category_groups"),
		"service_provider": first("service_providers"),
		"user":             first("users"),
		"offering_user":    first("offering_users"),
		"component":        first("offering_components"),
	}
}

// fillPath fills /api/customers/:uuid/ and the like from the preset; the
// parameter's resource is the path segment before it.
func fillPath(path string, values map[string]string) (string, bool) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, ":") {
			continue
		}
		if i == 0 {
			return "", false
		}
		key, ok := tableParams[segs[i-1]]
		if ok {
			key = segs[i-1]
		} else {
			key = map[string]string{
				"customers": "customer", "projects": "project", "marketplace-public-offerings": "offering",
				"marketplace-provider-offerings": "offering", "marketplace-plans": "plan", "marketplace-categories": "category",
				"marketplace-category-groups": "group", "marketplace-service-providers": "service_provider", "users": "user",
				"marketplace-offering-users": "offering_user",
			}[segs[i-1]]
		}
		v := values[key]
		if v == "" {
			return "", false
		}
		segs[i] = v
	}
	return strings.Join(segs, "/"), !corpusParam.MatchString(strings.Join(segs, "/"))
}

// knownUUIDs are the UUIDs the preset fixes (dashes removed).
func knownUUIDs(raw []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range corpusUUID.FindAllString(string(raw), -1) {
		out[strings.ReplaceAll(m, "-", "")] = true
	}
	return out
}

// normalize replaces times with "<time>" and UUIDs the server made with
// "<uuid N>", numbered by first appearance.
func normalize(v any, known map[string]bool, seen map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(v))
		for _, k := range keys {
			out[k] = normalize(v[k], known, seen)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = normalize(v[i], known, seen)
		}
		return out
	case string:
		if corpusTime.MatchString(v) && len(v) > 10 {
			return "<time>"
		}
		if corpusToken.MatchString(v) {
			return "<token>"
		}
		return corpusUUID.ReplaceAllStringFunc(v, func(u string) string {
			plain := strings.ReplaceAll(u, "-", "")
			if known[plain] {
				return u
			}
			if s, ok := seen[plain]; ok {
				return s
			}
			s := fmt.Sprintf("<uuid %d>", len(seen)+1)
			seen[plain] = s
			return s
		})
	}
	return v
}

func TestDayShift(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Recorded on 2026-12-07, compared on 2027-01-05: 29 days, 1 month.
	s := dayShift{days: 29, months: 1}
	for _, c := range []struct {
		rec, now string
		want     bool
	}{
		{"2026-11-08", "2026-12-07", true},  // a day of a 30-day window
		{"2026-12-01", "2027-01-01", true},  // the current month's first day
		{"2026-12-31", "2027-01-31", true},  // its last day
		{"2026-11-30", "2026-12-31", true},  // last days of months of other lengths
		{"2026-12-01", "2026-12-30", true},  // a window's day that is also a first
		{"2026-07-01", "2026-07-01", false}, // (equal strings match before this)
		{"2026-11-08", "2026-12-08", false},
		{"2026-12-15", "2027-01-15", false}, // not a month bound: days only
	} {
		if got := s.moved(d(c.rec), d(c.now)); got != c.want {
			t.Errorf("moved(%s, %s) = %v, want %v", c.rec, c.now, got, c.want)
		}
	}
}
