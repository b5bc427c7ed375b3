package stats_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// The fixed data set of the golden tests (testdata/golden.json holds the
// figures computed by hand from it). The clock is now: 2026-03-15 12:00 UTC.
//
// Organizations: Alpha (projects Alpha one, Alpha two, Alpha removed
// [removed]), Beta (Beta one), Gamma (Gamma one), Provider (the service
// provider's, no projects). Offerings of Provider: HPC (EE, Active; usage
// components cpu and ram), VMs (FI, Paused; limit component cores),
// Storage (no country, Draft; fixed component storage).
//
//	resource  project     offering  state       limits               created
//	r1        Alpha one   HPC       OK          cpu 100, ram 50      2026-01-10 10:00
//	r2        Alpha two   HPC       OK          cpu 20               2026-03-02 09:00
//	r3        Beta one    HPC       Erred       cpu 5                2026-03-05 08:00
//	r4        Beta one    VMs       Updating    cores 8              2026-02-20 12:00
//	r5        Alpha one   VMs       Terminated  cores 4              2025-12-01 00:00
//	r6        Alpha one   Storage   Creating    (none)               2026-03-15 11:30
//	r7        Gamma one   Storage   OK          storage 10           2026-03-10 10:00
var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// UUIDs of the data set.
const (
	alpha    = "a1000000000000000000000000000000"
	beta     = "a2000000000000000000000000000000"
	gamma    = "a3000000000000000000000000000000"
	provider = "a4000000000000000000000000000000"
	p1       = "b1000000000000000000000000000000"
	p2       = "b2000000000000000000000000000000"
	p3       = "b3000000000000000000000000000000"
	p4       = "b4000000000000000000000000000000"
	p5       = "b5000000000000000000000000000000"
	sp1      = "c1000000000000000000000000000000"
	hpc      = "f1000000000000000000000000000000"
	vms      = "f2000000000000000000000000000000"
	storage  = "f3000000000000000000000000000000"
)

// The users, by token: staff, support, Alpha's owner, Beta's manager
// (a project member of Alpha one too), Provider's owner, a user with no
// role. Alpha's owner and Beta's manager are Researchers of Uni, Provider's
// owner of Lab, registered by saml2 from eduteams; the others registered by
// default. Affiliations: Alpha's owner staff and member, Beta's manager member.
var tokens = map[string]int64{"staff": 1, "support": 2, "alpha-owner": 3, "beta-manager": 4, "provider-owner": 5, "plain": 6}

// token is the 40-character API token of a user of the data set.
func token(name string) string {
	t := name
	for len(t) < 40 {
		t += "0"
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// seed writes the data set.
func seed(t testing.TB, db *gorm.DB) {
	t.Helper()
	ex := func(sql string, args ...any) {
		t.Helper()
		require.NoError(t, db.Exec(sql, args...).Error, sql)
	}
	created := at("2025-01-01 00:00")
	users := []struct {
		id             int64
		name           string
		staff, support bool
	}{{1, "staff", true, false}, {2, "support", false, true}, {3, "alpha-owner", false, false},
		{4, "beta-manager", false, false}, {5, "provider-owner", false, false}, {6, "plain", false, false}}
	profile := map[int64][4]string{3: {"default", "Researcher", "Uni", ""}, 4: {"default", "Researcher", "Uni", ""}, 5: {"saml2", "", "Lab", "eduteams"}}
	affiliations := map[int64]*string{3: ptr(`["staff", "member"]`), 4: ptr(`["member"]`)}
	for _, u := range users {
		pr, ok := profile[u.id]
		if !ok {
			pr = [4]string{"default", "", "", ""}
		}
		ex(`INSERT INTO users (id, uuid, username, is_staff, is_support, is_active, registration_method, job_title, organization,
				identity_source, affiliations, date_joined, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.id, id32("e"+string(rune('0'+u.id))), u.name, u.staff, u.support, true, pr[0], pr[1], pr[2], pr[3], affiliations[u.id], created, created)
		ex(`INSERT INTO tokens (key, user_id, created) VALUES (?, ?, ?)`, token(u.name), u.id, now)
	}
	customers := []struct {
		id                 int64
		uuid, name, abbrev string
	}{{1, alpha, "Alpha", "ALP"}, {2, beta, "Beta", "BET"}, {3, gamma, "Gamma", "GAM"}, {4, provider, "Provider", "PRV"}}
	for _, c := range customers {
		ex(`INSERT INTO customers (id, uuid, name, slug, abbreviation, accounting_start_date, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.id, c.uuid, c.name, strings.ToLower(c.name), c.abbrev, created, created, created)
	}
	projects := []struct {
		id, customer int64
		uuid, name   string
		removed      bool
	}{{1, 1, p1, "Alpha one", false}, {2, 1, p2, "Alpha two", false}, {3, 2, p3, "Beta one", false},
		{4, 1, p4, "Alpha removed", true}, {5, 3, p5, "Gamma one", false}}
	for _, p := range projects {
		ex(`INSERT INTO projects (id, uuid, customer_id, name, slug, is_removed, is_industry, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.id, p.uuid, p.customer, p.name, strings.ReplaceAll(strings.ToLower(p.name), " ", "-"), p.removed,
			p.id == 3, created, created) // Beta one is an industry project
	}
	role := func(user int64, name, scope string, scopeID int64, active bool, expires *time.Time) {
		ex(`INSERT INTO user_roles (uuid, user_id, role_id, scope_type, scope_id, created, modified, expiration_time, is_active)
			VALUES (?, ?, (SELECT id FROM roles WHERE name = ?), ?, ?, ?, ?, ?, ?)`,
			randomHex(user, scope, scopeID), user, name, scope, scopeID, created, created, expires, active)
	}
	expired := at("2026-03-01 00:00")
	role(3, "CUSTOMER.OWNER", "customer", 1, true, nil)
	role(6, "CUSTOMER.OWNER", "customer", 1, true, &expired) // expired: not a member
	role(4, "CUSTOMER.MANAGER", "customer", 2, true, nil)
	role(3, "CUSTOMER.OWNER", "customer", 2, false, nil) // inactive
	role(4, "PROJECT.MEMBER", "project", 1, true, nil)   // a project role: not an organization member
	role(5, "CUSTOMER.OWNER", "customer", 4, true, nil)

	ex(`INSERT INTO service_providers (id, uuid, customer_id, created, modified) VALUES (1, ?, 4, ?, ?)`, sp1, created, created)
	ex(`INSERT INTO categories (id, uuid, title, created, modified) VALUES (1, 'd1000000000000000000000000000000', 'Compute', ?, ?)`, created, created)
	offerings := []struct {
		id                              int64
		uuid, name, typ, state, country string
	}{{1, hpc, "HPC", "Marketplace.Slurm", "Active", "EE"}, {2, vms, "VMs", "OpenStack.Instance", "Paused", "FI"},
		{3, storage, "Storage", "Marketplace.Basic", "Draft", ""}}
	for _, o := range offerings {
		ex(`INSERT INTO offerings (id, uuid, customer_id, category_id, name, type, state, country, created, modified)
			VALUES (?, ?, 4, 1, ?, ?, ?, ?, ?, ?)`, o.id, o.uuid, o.name, o.typ, o.state, o.country, created, created)
	}
	components := []struct {
		id, offering             int64
		typ, name, unit, billing string
	}{{1, 1, "cpu", "CPU", "hours", "usage"}, {2, 1, "ram", "RAM", "GB", "usage"}, {3, 2, "cores", "Cores", "", "limit"},
		{4, 3, "storage", "Storage", "GB", "fixed"}}
	for _, c := range components {
		ex(`INSERT INTO offering_components (id, uuid, offering_id, type, name, measured_unit, billing_type) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.id, randomHex(c.id, "component", c.offering), c.offering, c.typ, c.name, c.unit, c.billing)
	}
	resources := []struct {
		id, project, offering int64
		name, state           string
		limits                *string
		created               string
	}{
		{1, 1, 1, "hpc-1", "OK", ptr(`{"cpu": 100, "ram": 50}`), "2026-01-10 10:00"},
		{2, 2, 1, "hpc-2", "OK", ptr(`{"cpu": 20}`), "2026-03-02 09:00"},
		{3, 3, 1, "hpc-3", "Erred", ptr(`{"cpu": 5}`), "2026-03-05 08:00"},
		{4, 3, 2, "vm-4", "Updating", ptr(`{"cores": 8}`), "2026-02-20 12:00"},
		{5, 1, 2, "vm-5", "Terminated", ptr(`{"cores": 4}`), "2025-12-01 00:00"},
		{6, 1, 3, "disk-6", "Creating", nil, "2026-03-15 11:30"},
		{7, 5, 3, "disk-7", "OK", ptr(`{"storage": 10}`), "2026-03-10 10:00"},
	}
	for _, r := range resources {
		ex(`INSERT INTO resources (id, uuid, project_id, offering_id, name, state, limits, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, id32("9"+string(rune('0'+r.id))), r.project, r.offering, r.name, r.state, r.limits, at(r.created), at(r.created))
	}
	usages := []struct {
		id, resource, component int64
		usage                   float64
		date, period            string
	}{
		{1, 1, 1, 10.5, "2026-03-10 10:00", "2026-03-01"},
		{2, 1, 2, 4, "2026-03-10 10:00", "2026-03-01"},
		{3, 1, 1, 30, "2026-02-20 10:00", "2026-02-01"},
		{4, 2, 1, 2.25, "2026-03-12 10:00", "2026-03-01"},
		{5, 3, 1, 7, "2026-02-15 00:00", "2026-02-01"},
		{6, 1, 1, 1, "2025-03-10 00:00", "2025-03-01"}, // before the per-month window
	}
	for _, u := range usages {
		ex(`INSERT INTO component_usages (id, uuid, resource_id, component_id, usage, date, billing_period, created, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.id, randomHex(u.id, "usage", u.resource), u.resource, u.component, u.usage,
			at(u.date), u.period, at(u.date), at(u.date))
	}
	quotas := []struct {
		resource, component int64
		limit               int64
		usage               float64
	}{{1, 1, 100, 10.5}, {1, 2, 50, 4}, {2, 1, 20, 2.25}, {4, 3, 8, 8}}
	for _, q := range quotas {
		ex(`INSERT INTO component_quotas (resource_id, component_id, "limit", usage) VALUES (?, ?, ?, ?)`, q.resource, q.component, q.limit, q.usage)
	}
	orders := []struct {
		id, resource, offering, project int64
		typ, state                      string
		cost                            *float64
		created                         string
		reviewed, completed             *time.Time
	}{
		{1, 1, 1, 1, "Create", "done", fptr(10), "2026-01-10 10:00", nil, tptr("2026-01-10 10:30")},
		{2, 2, 1, 2, "Create", "done", fptr(20), "2026-03-02 09:00", tptr("2026-03-02 09:10"), tptr("2026-03-02 09:30")},
		{3, 3, 1, 3, "Create", "erred", fptr(5), "2026-03-05 08:00", nil, tptr("2026-03-05 08:20")},
		{4, 4, 2, 3, "Update", "executing", fptr(3.5), "2026-03-14 10:00", nil, nil},
		{5, 5, 2, 1, "Terminate", "done", fptr(2), "2026-03-14 11:00", nil, tptr("2026-03-14 11:05")},
		{6, 6, 3, 1, "Create", "pending-provider", fptr(7), "2026-03-15 11:30", nil, nil},
		{7, 2, 1, 2, "Update", "rejected", fptr(1.5), "2026-03-14 15:00", nil, nil},
	}
	for _, o := range orders {
		ex(`INSERT INTO orders (id, uuid, type, state, resource_id, offering_id, project_id, cost, provider_reviewed_at, completed_at, created, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, o.id, randomHex(o.id, "order", o.resource), o.typ, o.state, o.resource, o.offering,
			o.project, o.cost, o.reviewed, o.completed, at(o.created), at(o.created))
	}
	invoices := []struct {
		id, customer, year, month int64
	}{{1, 1, 2026, 3}, {2, 2, 2026, 3}, {3, 1, 2026, 2}}
	for _, i := range invoices {
		ex(`INSERT INTO invoices (id, uuid, customer_id, year, month, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			i.id, randomHex(i.id, "invoice", i.customer), i.customer, i.year, i.month, created, created)
	}
	items := []struct {
		id, invoice, resource, offering, project int64
		price                                    float64
		key                                      string
	}{
		{1, 1, 1, 1, 1, 100.25, "r1"}, {2, 1, 2, 1, 2, 40, "r2"}, {3, 2, 4, 2, 3, 60.5, "r4"}, {4, 2, 3, 1, 3, 15, "r3"},
		{5, 3, 1, 1, 1, 90, "r1"}, {6, 1, 1, 1, 1, 999, "deleted:r1"}, {7, 1, 5, 2, 1, 12, "r5"},
	}
	for _, i := range items {
		ex(`INSERT INTO invoice_items (id, uuid, invoice_id, resource_id, offering_id, project_id, item_key, kind, start, "end", unit, price, created, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'plan', ?, ?, 'month', ?, ?, ?)`, i.id, randomHex(i.id, "item", i.invoice), i.invoice, i.resource,
			i.offering, i.project, i.key, created, created, i.price, created, created)
	}
	scopeQuotas := []struct {
		scope string
		id    int64
		name  string
		usage int64
	}{{"customer", 1, "nc_project_count", 5}, {"customer", 1, "nc_resource_count", 3}, {"customer", 2, "nc_project_count", 1},
		{"project", 1, "nc_resource_count", 2}, {"project", 2, "nc_resource_count", 1}, {"project", 3, "nc_resource_count", 2}}
	for _, q := range scopeQuotas {
		ex(`INSERT INTO quotas (scope_type, scope_id, name, "limit", usage) VALUES (?, ?, ?, -1, ?)`, q.scope, q.id, q.name, q.usage)
	}
	// The history before now: Alpha's project count 1 from 03-01, 2 from
	// 03-10; its resource count 2 from 02-25, 3 from 03-12.
	history := []struct {
		name, date string
		usage      int64
	}{{"nc_project_count", "2026-03-01", 1}, {"nc_project_count", "2026-03-10", 2},
		{"nc_resource_count", "2026-02-25", 2}, {"nc_resource_count", "2026-03-12", 3}}
	for _, h := range history {
		ex(`INSERT INTO daily_quotas (scope_type, scope_id, name, date, usage) VALUES ('customer', 1, ?, `+dateParam(db)+`, ?)`, h.name, h.date, h.usage)
	}
}

// id32 pads prefix with zeros to a 32-hex-digit uuid.
func id32(prefix string) string {
	for len(prefix) < 32 {
		prefix += "0"
	}
	return prefix
}

func dateParam(db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return "CAST(? AS DATE)"
	}
	return "?"
}

func ptr(s string) *string     { return &s }
func fptr(f float64) *float64  { return &f }
func tptr(s string) *time.Time { t := at(s); return &t }

// randomHex is a stable 32-hex-digit uuid for a row of the data set.
func randomHex(id int64, kind string, other int64) string {
	h := uint64(14695981039346656037)
	for _, b := range []byte(kind) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	h = (h ^ uint64(id)) * 1099511628211
	h = (h ^ uint64(other)) * 1099511628211
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i := range out {
		out[i] = hex[(h>>(uint(i%16)*4))&15]
		if i == 15 {
			h = h*31 + 7
		}
	}
	return string(out)
}
