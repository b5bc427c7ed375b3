package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

const (
	benchCustomers   = 1000
	benchPerCustomer = 100 // 100k projects
	benchUserRoles   = 10  // the user owns 10 customers: 1,000 visible projects
)

// seedExprs are the SQL a seed needs in the dialect: a random 32-hex UUID
// (for a row of series i) and a series of n rows "g(i)".
func seedExprs(kind config.DatabaseKind) (randUUID string, series func(n int) string) {
	if kind == config.SQLite {
		return "lower(hex(randomblob(16)))", func(n int) string {
			return fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s) AS g", n)
		}
	}
	return "md5(random()::text || i::text)", func(n int) string { return fmt.Sprintf("generate_series(1, %d) AS g(i)", n) }
}

// seedProjects fills db with benchCustomers × benchPerCustomer projects (and
// their quota rows) in SQL, and returns a user who owns benchUserRoles customers.
func seedProjects(b *testing.B, db *gorm.DB, kind config.DatabaseKind) (*models.User, string) {
	ctx := context.Background()
	st := store.New(db)
	u := &models.User{Username: "bench", IsActive: true}
	if err := st.CreateUser(ctx, u, ""); err != nil {
		b.Fatal(err)
	}
	tok, err := st.EnsureToken(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	randUUID, series := seedExprs(kind)
	now := time.Now().UTC()
	stmts := []string{
		fmt.Sprintf(`INSERT INTO customers (uuid, name, accounting_start_date, created, modified)
			SELECT %s, 'customer ' || i, ?, ?, ? FROM %s`, randUUID, series(benchCustomers)),
		fmt.Sprintf(`INSERT INTO projects (uuid, customer_id, name, created, modified)
			SELECT %s, c.id, 'project ' || c.id || '-' || g.i, ?, ? FROM customers c CROSS JOIN %s`, randUUID, series(benchPerCustomer)),
		`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) SELECT 'project', id, 'nc_resource_count', -1, 0 FROM projects`,
		`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) SELECT 'customer', id, 'nc_project_count', -1, 100 FROM customers`,
	}
	args := [][]any{{now, now, now}, {now, now}, nil, nil}
	for i, s := range stmts {
		if err := db.Exec(s, args[i]...).Error; err != nil {
			b.Fatalf("%v\n%s", err, s)
		}
	}
	var customerIDs []int64
	if err := db.Table("customers").Order("id").Limit(benchUserRoles).Pluck("id", &customerIDs).Error; err != nil {
		b.Fatal(err)
	}
	owner, err := st.RoleByName(ctx, models.RoleCustomerOwner)
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range customerIDs {
		if _, err := st.GrantRole(ctx, store.Grant{User: u, Role: owner, Scope: models.Scope{Type: models.ScopeCustomer, ID: id}, CustomerID: id}); err != nil {
			b.Fatal(err)
		}
	}
	db.Exec("ANALYZE")
	return u, tok.Key
}

// rawQueries are the statements of the projects list's answer for this
// user, written by hand: the baseline of the comparison. The same work as
// the API: the caller's role scopes, the count, one page of the projects
// with every column the answer renders (their customer's too), and the
// page's quotas and this month's invoice items (billing_price_estimate).
// Project types and end-date requesters are not read: no seeded project
// has one, and the API does not read them then either.
func rawQueries(db *gorm.DB, userID int64) func() error {
	// The same statements the API runs: the visible customer and project ids
	// of the user (one indexed query), then count and page with them inlined.
	const roles = `SELECT scope_type, scope_id FROM user_roles WHERE user_id = ? AND is_active = ? AND (expiration_time IS NULL OR expiration_time > ?)`
	sqlDB, _ := db.DB()
	return func() error {
		now := time.Now().UTC()
		rr, err := sqlDB.Query(rebind(db, roles), userID, true, now)
		if err != nil {
			return err
		}
		cs, ps := []string{"0"}, []string{"0"}
		for rr.Next() {
			var t string
			var id int64
			if err := rr.Scan(&t, &id); err != nil {
				return err
			}
			if t == "customer" {
				cs = append(cs, fmt.Sprint(id))
			} else {
				ps = append(ps, fmt.Sprint(id))
			}
		}
		rr.Close()
		visible := "projects.is_removed = ? AND (projects.customer_id IN (" + strings.Join(cs, ",") + ") OR projects.id IN (" + strings.Join(ps, ",") + "))"
		var n int64
		if err := sqlDB.QueryRow(rebind(db, `SELECT COUNT(*) FROM projects WHERE `+visible), false).Scan(&n); err != nil {
			return err
		}
		rows, err := sqlDB.Query(rebind(db, `SELECT projects.id, projects.uuid, projects.name, projects.slug, projects.description,
			projects.backend_id, projects.start_date, projects.end_date, projects.end_date_requested_by_id, projects.oecd_fos_2007_code,
			projects.is_industry, projects.is_removed, projects.created, projects.type_id, projects.customer_id,
			customers.uuid, customers.name, customers.slug, customers.native_name, customers.abbreviation
			FROM projects JOIN customers ON customers.id = projects.customer_id WHERE `+visible+` ORDER BY projects.name, projects.id LIMIT 50`), false)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id, cid int64
			var typeID, requester sql.NullInt64
			var start, end sql.NullTime
			var created time.Time
			var industry, removed bool
			var pu, pn, ps, pd, pb, oecd, cu, cn, csl, cnn, ca string
			if err := rows.Scan(&id, &pu, &pn, &ps, &pd, &pb, &start, &end, &requester, &oecd, &industry, &removed, &created, &typeID, &cid,
				&cu, &cn, &csl, &cnn, &ca); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, fmt.Sprint(id))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		in := strings.Join(append(ids, "0"), ",")
		qr, err := sqlDB.Query(rebind(db, `SELECT scope_id, name, "limit", usage FROM quotas WHERE scope_type = ? AND scope_id IN (`+in+`) ORDER BY scope_id, name`), "project")
		if err != nil {
			return err
		}
		for qr.Next() {
			var id, limit, usage int64
			var name string
			if err := qr.Scan(&id, &name, &limit, &usage); err != nil {
				qr.Close()
				return err
			}
		}
		qr.Close()
		if err := qr.Err(); err != nil {
			return err
		}
		ir, err := sqlDB.Query(rebind(db, `SELECT ii.project_id, ii.kind, ii.unit, ii.start, ii."end", ii.unit_price, ii.quantity, ii.price, inv.tax_percent
			FROM invoice_items ii JOIN invoices inv ON inv.id = ii.invoice_id WHERE inv.year = ? AND inv.month = ? AND ii.project_id IN (`+in+`)`),
			now.Year(), int(now.Month()))
		if err != nil {
			return err
		}
		defer ir.Close()
		for ir.Next() {
			vs := make([]any, 9)
			for i := range vs {
				vs[i] = new(any)
			}
			if err := ir.Scan(vs...); err != nil {
				return err
			}
		}
		return ir.Err()
	}
}

// rebind turns ? placeholders into $n for PostgreSQL.
func rebind(db *gorm.DB, q string) string {
	if db.Dialector.Name() != "postgres" {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, []byte(fmt.Sprintf("$%d", n))...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// compareWithRaw times get (one API call) and raw (the hand-written SQL of
// the same answer) alternately b.N times after 20 warm-up rounds, and
// reports the p50 and p99 of each and the p99 ratio.
func compareWithRaw(b *testing.B, get func(), raw func() error) {
	for i := 0; i < 20; i++ { // warm caches and the query planner
		get()
		if err := raw(); err != nil {
			b.Fatal(err)
		}
	}
	var api, sql []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		get()
		api = append(api, time.Since(t0))
		t0 = time.Now()
		if err := raw(); err != nil {
			b.Fatal(err)
		}
		sql = append(sql, time.Since(t0))
	}
	b.StopTimer()
	a50, a99 := percentiles(api)
	s50, s99 := percentiles(sql)
	b.ReportMetric(float64(a50.Microseconds())/1000, "api-p50-ms")
	b.ReportMetric(float64(a99.Microseconds())/1000, "api-p99-ms")
	b.ReportMetric(float64(s50.Microseconds())/1000, "sql-p50-ms")
	b.ReportMetric(float64(s99.Microseconds())/1000, "sql-p99-ms")
	b.ReportMetric(float64(a99)/float64(s99), "p99-ratio")
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[(len(ds)*99)/100]
}

// BenchmarkProjectsList measures GET /api/projects/?page_size=50 for a
// non-staff user owning 10 of 1,000 customers (100k projects), next to the
// hand-written SQL of the same answer (count, page, the page's quotas and
// invoice items: rawQueries), in the same run.
func BenchmarkProjectsList(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			db := dbtest.Migrated(b, kind)
			u, token := seedProjects(b, db, kind)
			srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			get := func() {
				req := httptest.NewRequest(http.MethodGet, "/api/projects/?page_size=50", nil)
				req.Header.Set("Authorization", "Token "+token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 || w.Header().Get("X-Result-Count") != fmt.Sprint(benchUserRoles*benchPerCustomer) {
					b.Fatalf("status %d, count %q: %s", w.Code, w.Header().Get("X-Result-Count"), w.Body.String())
				}
			}
			compareWithRaw(b, get, rawQueries(db, u.ID))
		})
	}
}
