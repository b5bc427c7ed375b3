package app_test

// The RBAC matrix: every route of the API × the eight kinds of caller →
// the expected status, from one table. Each case runs on its own copy of
// one seeded database, so a change made by one case (a delete, a grant)
// never leaks into another.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// The callers, in the order of every expectation row.
var personas = []string{"anonymous", "plain", "member", "admin", "manager", "owner", "support", "staff"}

// world is what the seeded database holds: customer C1 with project P1,
// where member/admin/manager hold PROJECT.MEMBER/ADMIN/MANAGER and owner
// holds CUSTOMER.OWNER; plain holds nothing.
type world struct {
	db     *gorm.DB          // the seeded database
	path   string            // the seeded SQLite file
	tokens map[string]string // persona -> token
	ids    map[string]string // placeholder -> value used in paths and bodies
}

func seedWorld(t testing.TB) *world { return seedWorldOn(t, dbtest.Migrated(t, config.SQLite)) }

// seedWorldOn seeds db; on SQLite it also records the file for fresh copies.
func seedWorldOn(t testing.TB, db *gorm.DB) *world {
	ctx := context.Background()
	st := store.New(db)
	w := &world{tokens: map[string]string{}, ids: map[string]string{}}
	users := map[string]*models.User{}
	lifetime := 86400
	for _, p := range append(personas[1:], "target", "newbie", "victim") {
		u := &models.User{Username: p, Email: p + "@example.com", IsActive: true, IsStaff: p == "staff", IsSupport: p == "support", TokenLifetime: &lifetime}
		require.NoError(t, st.CreateUser(ctx, u, "Secret-pass-1"))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[p] = u
		w.tokens[p] = tok.Key
		w.ids["{user:"+p+"}"] = u.UUID.String()
	}
	now := time.Now().UTC()
	mk := func(table string, values map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		values["uuid"] = id
		require.NoError(t, db.Table(table).Create(values).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	c1, c1u := mk("customers", map[string]any{"name": "C1", "accounting_start_date": now, "created": now, "modified": now})
	p1, p1u := mk("projects", map[string]any{"name": "P1", "customer_id": c1, "created": now, "modified": now})
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: c1}))
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: p1}))
	_, ptu := mk("project_types", map[string]any{"name": "Research"})
	w.ids["{customer}"], w.ids["{project}"], w.ids["{ptype}"] = c1u.String(), p1u.String(), ptu.String()

	grant := func(user, role string, s models.Scope) {
		r, err := st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: users[user], Role: r, Scope: s, CustomerID: c1, EventScopes: []models.Scope{s}})
		require.NoError(t, err)
	}
	cs, ps := models.Scope{Type: models.ScopeCustomer, ID: c1}, models.Scope{Type: models.ScopeProject, ID: p1}
	grant("owner", models.RoleCustomerOwner, cs)
	grant("victim", models.RoleCustomerOwner, cs)
	grant("member", models.RoleProjectMember, ps)
	grant("target", models.RoleProjectMember, ps)
	grant("admin", models.RoleProjectAdmin, ps)
	grant("manager", models.RoleProjectManager, ps)
	for _, r := range []string{models.RoleProjectMember, models.RoleProjectAdmin, models.RoleCustomerOwner} {
		role, err := st.RoleByName(ctx, r)
		require.NoError(t, err)
		w.ids["{role:"+r+"}"] = role.UUID.String()
	}
	// A custom role to change and delete.
	_, cru := mk("roles", map[string]any{"name": "TEST.CUSTOM", "content_type": "project", "is_active": true, "modified": now})
	w.ids["{role}"] = cru.String()

	// The owner's SSH key and hooks; an event fed to the project; invitations.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	w.ids["{pubkey}"] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	_, ku := mk("ssh_keys", map[string]any{"user_id": users["owner"].ID, "name": "laptop", "public_key": "ssh-ed25519 AAAA owner", "fingerprint_sha256": "x", "created": now})
	w.ids["{key}"] = ku.String()
	_, hw := mk("hooks", map[string]any{"user_id": users["owner"].ID, "hook_type": "webhook", "event_types": `["role_granted"]`, "event_groups": `[]`, "destination_url": "https://example.com/h", "content_type": "json", "is_active": true, "created": now, "modified": now})
	_, he := mk("hooks", map[string]any{"user_id": users["owner"].ID, "hook_type": "email", "event_types": `["role_granted"]`, "event_groups": `[]`, "email": "owner@example.com", "is_active": true, "created": now, "modified": now})
	w.ids["{hook-web}"], w.ids["{hook-email}"] = hw.String(), he.String()
	ev := &models.Event{EventType: "project_update_succeeded", Message: "P1 changed", Scopes: []models.Scope{ps, cs}}
	require.NoError(t, st.EmitEvent(ctx, ev))
	w.ids["{event}"] = ev.UUID.String()
	// The marketplace: C1 is also a service provider with a Basic offering;
	// P1 holds an OK resource and a resource whose create order waits for the provider.
	_, spu := mk("service_providers", map[string]any{"customer_id": c1, "created": now, "modified": now})
	cat, _ := mk("categories", map[string]any{"title": "Services", "created": now, "modified": now})
	off, offu := mk("offerings", map[string]any{"name": "Consulting", "customer_id": c1, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "shared": true, "billable": true, "plugin_options": `{}`, "created": now, "modified": now})
	plan, planu := mk("plans", map[string]any{"name": "Hourly", "offering_id": off, "unit": "hour", "unit_price": "10", "created": now, "modified": now})
	_, plan2u := mk("plans", map[string]any{"name": "Daily", "offering_id": off, "unit": "day", "unit_price": "70", "created": now, "modified": now})
	res, resu := mk("resources", map[string]any{"name": "r1", "project_id": p1, "offering_id": off, "plan_id": plan, "state": models.ResourceOK,
		"attributes": `{}`, "limits": `{}`, "created": now, "modified": now})
	_, _ = mk("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderDone, "resource_id": res, "offering_id": off, "project_id": p1,
		"plan_id": plan, "created_by_id": users["owner"].ID, "workflow_started": true, "created": now, "modified": now})
	res2, _ := mk("resources", map[string]any{"name": "r2", "project_id": p1, "offering_id": off, "plan_id": plan, "state": models.ResourceCreating,
		"attributes": `{}`, "limits": `{}`, "created": now, "modified": now})
	_, ordu := mk("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderPendingProvider, "resource_id": res2, "offering_id": off,
		"project_id": p1, "plan_id": plan, "created_by_id": users["owner"].ID, "workflow_started": true, "created": now, "modified": now})
	w.ids["{service-provider}"], w.ids["{offering}"], w.ids["{plan}"], w.ids["{plan2}"] = spu.String(), offu.String(), planu.String(), plan2u.String()
	w.ids["{resource}"], w.ids["{order}"] = resu.String(), ordu.String()
	// AWS pull rows of the offering: a catalog, and r1's instance.
	awsRegion, awsRegionU := mk("aws_regions", map[string]any{"offering_id": off, "name": "eu-west-1", "created": now, "modified": now})
	_, awsImageU := mk("aws_images", map[string]any{"offering_id": off, "region_id": awsRegion, "backend_id": "ami-1", "name": "Ubuntu", "created": now, "modified": now})
	_, awsSizeU := mk("aws_sizes", map[string]any{"offering_id": off, "backend_id": "t3.micro", "name": "t3.micro", "created": now, "modified": now})
	_, awsInstU := mk("aws_instances", map[string]any{"offering_id": off, "resource_id": res, "backend_id": "i-1", "name": "r1", "created": now, "modified": now})
	w.ids["{aws-region}"], w.ids["{aws-image}"], w.ids["{aws-size}"], w.ids["{aws-instance}"] = awsRegionU.String(), awsImageU.String(), awsSizeU.String(), awsInstU.String()
	// An OpenStack tenant in P1 (no marketplace resource: imported), with one of everything a pull records.
	osTenant, osTenantU := mk("openstack_tenants", map[string]any{"project_id": p1, "offering_id": off, "name": "t1", "state": "OK", "quotas": `[]`, "created": now, "modified": now})
	osNet, osNetU := mk("openstack_networks", map[string]any{"tenant_id": osTenant, "backend_id": "net-1", "name": "t1-int-net", "created": now, "modified": now})
	osInst, osInstU := mk("openstack_instances", map[string]any{"project_id": p1, "tenant_id": osTenant, "name": "vm", "state": "OK", "created": now, "modified": now})
	w.ids["{os-tenant}"], w.ids["{os-network}"], w.ids["{os-instance}"] = osTenantU.String(), osNetU.String(), osInstU.String()
	for key, row := range map[string]struct {
		table  string
		values map[string]any
	}{
		"{os-volume}":         {"openstack_volumes", map[string]any{"project_id": p1, "tenant_id": osTenant, "instance_id": osInst, "name": "data", "state": "OK", "created": now, "modified": now}},
		"{os-flavor}":         {"openstack_flavors", map[string]any{"tenant_id": osTenant, "backend_id": "1", "name": "m1.tiny"}},
		"{os-image}":          {"openstack_images", map[string]any{"tenant_id": osTenant, "backend_id": "img-1", "name": "cirros"}},
		"{os-volume-type}":    {"openstack_volume_types", map[string]any{"tenant_id": osTenant, "backend_id": "vt-1", "name": "ssd"}},
		"{os-subnet}":         {"openstack_subnets", map[string]any{"tenant_id": osTenant, "network_id": osNet, "backend_id": "sub-1", "name": "t1-sub-net", "cidr": "192.168.42.0/24", "allocation_pools": `[]`, "dns_nameservers": `[]`, "created": now, "modified": now}},
		"{os-security-group}": {"openstack_security_groups", map[string]any{"tenant_id": osTenant, "backend_id": "sg-1", "name": "ssh", "rules": `[]`, "created": now, "modified": now}},
		"{os-floating-ip}":    {"openstack_floating_ips", map[string]any{"tenant_id": osTenant, "backend_id": "fip-1", "address": "172.24.4.10", "created": now, "modified": now}},
	} {
		_, id := mk(row.table, row.values)
		w.ids[key] = id.String()
	}
	_, compu := mk("offering_components", map[string]any{"offering_id": off, "type": "hours", "name": "Hours", "billing_type": "usage", "measured_unit": "h"})
	cg, cgu := mk("category_groups", map[string]any{"title": "Group"})
	_, cat2u := mk("categories", map[string]any{"title": "Empty", "group_id": cg, "created": now, "modified": now})
	c2, c2u := mk("customers", map[string]any{"name": "C2", "accounting_start_date": now, "created": now, "modified": now})
	// The owner also owns C2, a customer that is not a service provider yet.
	ownerRole, err := st.RoleByName(ctx, models.RoleCustomerOwner)
	require.NoError(t, err)
	_, err = st.GrantRole(ctx, store.Grant{User: users["owner"], Role: ownerRole, Scope: models.Scope{Type: models.ScopeCustomer, ID: c2}, CustomerID: c2})
	require.NoError(t, err)
	w.ids["{component}"], w.ids["{cgroup}"], w.ids["{category}"], w.ids["{customer2}"] = compu.String(), cgu.String(), cat2u.String(), c2u.String()
	var compID int64
	require.NoError(t, db.Raw("SELECT id FROM offering_components WHERE uuid = ?", compu).Scan(&compID).Error)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	cu, cuu := mk("component_usages", map[string]any{"resource_id": res, "component_id": compID, "usage": "2", "date": now, "billing_period": month,
		"created": now, "modified": now})
	_, uuu := mk("component_user_usages", map[string]any{"component_usage_id": cu, "username": "alice", "usage": "1", "created": now, "modified": now})
	w.ids["{usage}"], w.ids["{user-usage}"] = cuu.String(), uuu.String()
	var catu string
	require.NoError(t, db.Raw("SELECT uuid FROM categories WHERE id = ?", cat).Scan(&catu).Error)
	w.ids["{category-used}"] = catu
	// Billing: r1's items in C1's invoice of this month, C1's credit and P1's share of it.
	_, err = st.RegisterResource(ctx, resu, billing.MonthOf(now))
	require.NoError(t, err)
	var invu, itemu string
	require.NoError(t, db.Raw("SELECT uuid FROM invoices WHERE customer_id = ?", c1).Scan(&invu).Error)
	require.NoError(t, db.Raw("SELECT uuid FROM invoice_items ORDER BY id LIMIT 1").Scan(&itemu).Error)
	_, ccu := mk("customer_credits", map[string]any{"customer_id": c1, "value": "1000", "created": now, "modified": now})
	_, pcu := mk("project_credits", map[string]any{"project_id": p1, "value": "10", "created": now, "modified": now})
	w.ids["{invoice}"], w.ids["{invoice-item}"], w.ids["{customer-credit}"], w.ids["{project-credit}"] = invu, itemu, ccu.String(), pcu.String()

	admin, err := st.RoleByName(ctx, models.RoleProjectAdmin)
	require.NoError(t, err)
	inv := func(state string) models.UUID {
		_, id := mk("invitations", map[string]any{"created_by_id": users["owner"].ID, "customer_id": c1, "scope_type": "project", "scope_id": p1,
			"role_id": admin.ID, "state": state, "email": "newbie@example.com", "created": now, "modified": now})
		return id
	}
	w.ids["{invitation}"] = inv("pending").String()
	w.ids["{invitation-requested}"] = inv("requested").String()

	// The site agent's side: C1's Slurm offering lets the provider create
	// accounts; target's account is being created; an agent identity with a
	// service and a processor.
	hpc, hpcu := mk("offerings", map[string]any{"name": "Cluster", "customer_id": c1, "category_id": cat, "type": models.OfferingSlurm,
		"state": models.OfferingActive, "plugin_options": `{"service_provider_can_create_offering_user":true}`, "created": now, "modified": now})
	_, ouu := mk("offering_users", map[string]any{"offering_id": hpc, "user_id": users["target"].ID, "username": "", "state": "Creating",
		"created": now, "modified": now})
	ident, identu := mk("agent_identities", map[string]any{"offering_id": hpc, "name": "agent-1", "last_restarted": now, "created": now, "modified": now})
	svc, svcu := mk("agent_services", map[string]any{"identity_id": ident, "name": "order_process", "mode": "order_process", "state": 1,
		"created": now, "modified": now})
	_, procu := mk("agent_processors", map[string]any{"service_id": svc, "name": "OfferingOrderProcessor", "backend_type": "slurm",
		"created": now, "modified": now})
	w.ids["{hpc}"], w.ids["{offering-user}"] = hpcu.String(), ouu.String()
	w.ids["{agent}"], w.ids["{agent-service}"], w.ids["{agent-processor}"] = identu.String(), svcu.String(), procu.String()

	w.db = db
	if db.Dialector.Name() != "sqlite" {
		return w
	}
	sqlDB, err := db.DB()
	require.NoError(t, err)
	_, err = sqlDB.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	require.NoError(t, db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&w.path).Error)
	return w
}

// fresh copies the seeded database for one case.
func (w *world) fresh(t testing.TB) *gorm.DB {
	data, err := os.ReadFile(w.path)
	require.NoError(t, err)
	// Not t.TempDir(): it is named after the subtest, and a "#01" of a
	// repeated route row would end the SQLite file name (a URI fragment).
	dir, err := os.MkdirTemp("", "matrix-case-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := filepath.Join(dir, "case.db")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	db, err := database.OpenDSN(context.Background(), config.SQLite, p, nil)
	require.NoError(t, err)
	t.Cleanup(func() { database.Close(db) })
	return db
}

func (w *world) expand(s string) string {
	for k, v := range w.ids {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// route is one row: the request and the expected status for each persona
// (anonymous, plain, member, admin, manager, owner, support, staff).
type route struct {
	method, pattern, path, body string
	want                        [8]int
}

func r(method, pattern, path, body string, want ...int) route {
	if len(want) == 1 {
		want = []int{want[0], want[0], want[0], want[0], want[0], want[0], want[0], want[0]}
	}
	var w [8]int
	copy(w[:], want)
	return route{method: method, pattern: pattern, path: path, body: body, want: w}
}

// authRead is a list any signed-in user may read.
var authRead = []int{401, 200, 200, 200, 200, 200, 200, 200}

// staffOnly writes: anonymous 401, everyone else but staff 403.
func staffOnly(ok int) []int { return []int{401, 403, 403, 403, 403, 403, 403, ok} }

var table = []route{
	// Meta. No Temporal client in this test, so the health check reports 503 — to everyone, without credentials.
	r("GET", "/health-check/", "/health-check/", "", 503),
	r("GET", "/metrics", "/metrics", "", 200),
	r("GET", "/api/schema/", "/api/schema/", "", 200),
	r("GET", "/api/docs/*any", "/api/docs/index.html", "", 200),
	r("GET", "/api/configuration/", "/api/configuration/", "", 200),
	r("GET", "/api/version/", "/api/version/", "", authRead...), // any signed-in user: the site agent asks first

	// Authentication.
	r("POST", "/api-auth/password/", "/api-auth/password/", `{"username":"target","password":"Secret-pass-1"}`, 200),
	r("POST", "/api-auth/logout/", "/api-auth/logout/", "", 401, 204, 204, 204, 204, 204, 204, 204),

	// Customers.
	r("GET", "/api/customers/", "/api/customers/", "", authRead...),
	r("POST", "/api/customers/", "/api/customers/", `{"name":"New org"}`, staffOnly(201)...),
	r("GET", "/api/customers/:uuid/", "/api/customers/{customer}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("PUT", "/api/customers/:uuid/", "/api/customers/{customer}/", `{"name":"C1 renamed"}`, 401, 404, 403, 403, 403, 200, 403, 200),
	r("PATCH", "/api/customers/:uuid/", "/api/customers/{customer}/", `{"name":"C1 renamed"}`, 401, 404, 403, 403, 403, 200, 403, 200),
	// The customer has a live project: only staff may delete it (cascading).
	r("DELETE", "/api/customers/:uuid/", "/api/customers/{customer}/", "", 401, 404, 403, 403, 403, 409, 403, 204),
	r("GET", "/api/customers/:uuid/list_users/", "/api/customers/{customer}/list_users/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	// A customer's team is staff's: CUSTOMER.*_PERMISSION is no default role's (Waldur).
	r("POST", "/api/customers/:uuid/add_user/", "/api/customers/{customer}/add_user/", `{"user":"{user:newbie}","role":"CUSTOMER.OWNER"}`, 401, 404, 403, 403, 403, 403, 403, 201),
	r("POST", "/api/customers/:uuid/update_user/", "/api/customers/{customer}/update_user/", `{"user":"{user:victim}","role":"CUSTOMER.OWNER","expiration_time":"2099-01-01T00:00:00Z"}`, 401, 404, 403, 403, 403, 403, 403, 200),
	r("POST", "/api/customers/:uuid/delete_user/", "/api/customers/{customer}/delete_user/", `{"user":"{user:victim}","role":"CUSTOMER.OWNER"}`, 401, 404, 403, 403, 403, 403, 403, 200),

	// Projects.
	r("GET", "/api/projects/", "/api/projects/", "", authRead...),
	r("POST", "/api/projects/", "/api/projects/", `{"name":"P2","customer":"{customer}"}`, 401, 400, 403, 403, 403, 201, 403, 201),
	r("GET", "/api/projects/:uuid/", "/api/projects/{project}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("PUT", "/api/projects/:uuid/", "/api/projects/{project}/", `{"name":"P1 renamed","customer":"{customer}"}`, 401, 404, 403, 403, 200, 200, 403, 200),
	r("PATCH", "/api/projects/:uuid/", "/api/projects/{project}/", `{"name":"P1 renamed"}`, 401, 404, 403, 403, 200, 200, 403, 200),
	r("DELETE", "/api/projects/:uuid/", "/api/projects/{project}/", "", 401, 404, 403, 403, 403, 204, 403, 204),
	r("GET", "/api/projects/:uuid/list_users/", "/api/projects/{project}/list_users/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("POST", "/api/projects/:uuid/add_user/", "/api/projects/{project}/add_user/", `{"user":"{user:newbie}","role":"PROJECT.MEMBER"}`, 401, 404, 403, 403, 201, 201, 403, 201),
	r("POST", "/api/projects/:uuid/update_user/", "/api/projects/{project}/update_user/", `{"user":"{user:target}","role":"PROJECT.MEMBER","expiration_time":"2099-01-01T00:00:00Z"}`, 401, 404, 403, 403, 200, 200, 403, 200),
	r("POST", "/api/projects/:uuid/delete_user/", "/api/projects/{project}/delete_user/", `{"user":"{user:target}","role":"PROJECT.MEMBER"}`, 401, 404, 403, 403, 200, 200, 403, 200),

	// Project types: everyone signed in reads; staff writes.
	r("GET", "/api/project-types/", "/api/project-types/", "", authRead...),
	r("GET", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", "", authRead...),
	r("POST", "/api/project-types/", "/api/project-types/", `{"name":"Teaching"}`, staffOnly(201)...),
	r("PUT", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", `{"name":"Teaching"}`, staffOnly(200)...),
	r("PATCH", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", `{"name":"Teaching"}`, staffOnly(200)...),
	r("DELETE", "/api/project-types/:uuid/", "/api/project-types/{ptype}/", "", staffOnly(204)...),

	// Users. "target" is a member of P1: visible to those who share the project or customer.
	r("GET", "/api/users/", "/api/users/", "", authRead...),
	r("GET", "/api/users/me/", "/api/users/me/", "", authRead...),
	r("POST", "/api/users/", "/api/users/", `{"username":"fresh","email":"fresh@example.com","agree_with_policy":true}`, staffOnly(201)...),
	r("GET", "/api/users/:uuid/", "/api/users/{user:target}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("PUT", "/api/users/:uuid/", "/api/users/{user:target}/", `{"first_name":"T","email":"target@example.com","agree_with_policy":true}`, 401, 404, 403, 403, 403, 403, 403, 200),
	r("PATCH", "/api/users/:uuid/", "/api/users/{user:target}/", `{"first_name":"T"}`, 401, 404, 403, 403, 403, 403, 403, 200),
	// Staff-only actions refuse every other caller before looking the user up (as DRF's view permissions do).
	r("DELETE", "/api/users/:uuid/", "/api/users/{user:target}/", "", staffOnly(204)...),
	r("POST", "/api/users/:uuid/change_password/", "/api/users/{user:target}/change_password/", `{"new_password":"Another-pass-2"}`, 401, 404, 403, 403, 403, 403, 403, 200),
	r("POST", "/api/users/:uuid/refresh_token/", "/api/users/{user:target}/refresh_token/", "", staffOnly(200)...),
	r("GET", "/api/users/:uuid/token/", "/api/users/{user:target}/token/", "", staffOnly(200)...),

	// SSH keys: the owner's key.
	r("GET", "/api/keys/", "/api/keys/", "", authRead...),
	r("POST", "/api/keys/", "/api/keys/", `{"name":"new","public_key":"{pubkey}"}`, 401, 201, 201, 201, 201, 201, 201, 201),
	r("GET", "/api/keys/:uuid/", "/api/keys/{key}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("DELETE", "/api/keys/:uuid/", "/api/keys/{key}/", "", 401, 404, 404, 404, 404, 204, 403, 204),

	// Roles: anyone may read (as Waldur); staff change.
	r("GET", "/api/roles/", "/api/roles/", "", 200),
	r("GET", "/api/roles/:uuid/", "/api/roles/{role}/", "", 200),
	r("POST", "/api/roles/", "/api/roles/", `{"name":"TEST.NEW","content_type":"project","permissions":["PROJECT.UPDATE"]}`, staffOnly(201)...),
	r("PUT", "/api/roles/:uuid/", "/api/roles/{role}/", `{"name":"TEST.CUSTOM","content_type":"project","permissions":["PROJECT.UPDATE"]}`, staffOnly(200)...),
	r("PATCH", "/api/roles/:uuid/", "/api/roles/{role}/", `{"description":"changed"}`, staffOnly(200)...),
	r("DELETE", "/api/roles/:uuid/", "/api/roles/{role}/", "", staffOnly(204)...),
	r("POST", "/api/roles/:uuid/enable/", "/api/roles/{role}/enable/", "", staffOnly(200)...),
	r("POST", "/api/roles/:uuid/disable/", "/api/roles/{role}/disable/", "", staffOnly(200)...),
	r("PUT", "/api/roles/:uuid/update_descriptions/", "/api/roles/{role}/update_descriptions/", `{"description":"x"}`, staffOnly(200)...),

	// Invitations to P1 (PROJECT.ADMIN for newbie@example.com), managed by
	// those holding PROJECT.CREATE_PERMISSION on P1 or C1: manager, owner, staff.
	r("GET", "/api/user-invitations/", "/api/user-invitations/", "", authRead...),
	r("POST", "/api/user-invitations/", "/api/user-invitations/", `{"scope":"http://x/api/projects/{project}/","role":"{role:PROJECT.MEMBER}","email":"someone@example.com"}`, 401, 400, 403, 403, 201, 201, 403, 201),
	r("POST", "/api/user-invitations/check-duplicates/", "/api/user-invitations/check-duplicates/", `{"scope":"http://x/api/projects/{project}/","invitations":[{"email":"someone@example.com","role":"{role:PROJECT.MEMBER}"}]}`, 401, 400, 403, 403, 200, 200, 403, 200),
	r("GET", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", "", 401, 404, 404, 404, 200, 200, 200, 200),
	r("PUT", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", `{"extra_invitation_text":"hi","email":"newbie@example.com"}`, 401, 404, 404, 404, 200, 200, 403, 200),
	r("PATCH", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", `{"extra_invitation_text":"hi"}`, 401, 404, 404, 404, 200, 200, 403, 200),
	r("DELETE", "/api/user-invitations/:uuid/", "/api/user-invitations/{invitation}/", "", 401, 404, 404, 404, 204, 204, 403, 204),
	r("POST", "/api/user-invitations/:uuid/send/", "/api/user-invitations/{invitation}/send/", "", 401, 404, 404, 404, 200, 200, 403, 200),
	r("POST", "/api/user-invitations/:uuid/cancel/", "/api/user-invitations/{invitation}/cancel/", "", 401, 404, 404, 404, 200, 200, 403, 200),
	r("POST", "/api/user-invitations/:uuid/delete/", "/api/user-invitations/{invitation}/delete/", "", staffOnly(200)...),
	// Anyone signed in may accept; the admin holds the invited role already.
	r("POST", "/api/user-invitations/:uuid/accept/", "/api/user-invitations/{invitation}/accept/", "", 401, 200, 200, 400, 200, 200, 200, 200),
	r("POST", "/api/user-invitations/:uuid/check/", "/api/user-invitations/{invitation}/check/", "", 200),
	// Public details of a pending invitation: whoever holds its link (UUID) and is signed in.
	r("GET", "/api/user-invitations/:uuid/details/", "/api/user-invitations/{invitation}/details/", "", authRead...),
	r("POST", "/api/user-invitations/approve/", "/api/user-invitations/approve/", `{"token":"{invitation-requested}"}`, staffOnly(200)...),
	r("POST", "/api/user-invitations/reject/", "/api/user-invitations/reject/", `{"token":"{invitation-requested}"}`, staffOnly(200)...),

	// Events: an event fed to P1 and C1.
	r("GET", "/api/events/", "/api/events/", "", authRead...),
	// By UUID: staff and support; others only through a scope they see that the event is fed to.
	r("GET", "/api/events/:id/", "/api/events/{event}/", "", 401, 404, 404, 404, 404, 404, 200, 200),
	r("GET", "/api/events/:id/", "/api/events/{event}/?scope=http://x/api/projects/{project}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/events/count/", "/api/events/count/", "", authRead...),
	r("GET", "/api/events/event_groups/", "/api/events/event_groups/", "", authRead...),
	r("GET", "/api/events/scope_types/", "/api/events/scope_types/", "", authRead...),

	// Usage: readable from either side of the resource; reported by the provider (C1's owner) and staff.
	r("GET", "/api/marketplace-component-usages/", "/api/marketplace-component-usages/", "", authRead...),
	r("GET", "/api/marketplace-component-usages/:uuid/", "/api/marketplace-component-usages/{usage}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("POST", "/api/marketplace-component-usages/set_usage/", "/api/marketplace-component-usages/set_usage/", `{"resource":"{resource}","usages":[{"type":"hours","amount":"1.5"}]}`, 401, 400, 403, 403, 403, 201, 403, 201),
	r("POST", "/api/marketplace-component-usages/:uuid/set_user_usage/", "/api/marketplace-component-usages/{usage}/set_user_usage/", `{"username":"alice","usage":"1"}`, 401, 404, 403, 403, 403, 201, 403, 201),
	r("POST", "/api/marketplace-component-usages/:uuid/set_user_usages/", "/api/marketplace-component-usages/{usage}/set_user_usages/", `{"usages":[{"username":"bob","usage":"1"}]}`, 401, 404, 403, 403, 403, 201, 403, 201),
	r("GET", "/api/marketplace-component-user-usages/", "/api/marketplace-component-user-usages/", "", authRead...),
	r("GET", "/api/marketplace-component-user-usages/:uuid/", "/api/marketplace-component-user-usages/{user-usage}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/component-user-usage-limits/", "/api/component-user-usage-limits/", "", authRead...),

	// Orders, with no Temporal server. The order waits for the provider: a
	// permitted action in a wrong state is 409 at once; a permitted one in the
	// right state reaches the workflow call and gets 503. Permission comes first.
	r("GET", "/api/marketplace-orders/", "/api/marketplace-orders/", "", authRead...),
	r("POST", "/api/marketplace-orders/", "/api/marketplace-orders/", `{"offering":"{offering}","project":"{project}","plan":"{plan}","attributes":{"name":"new"}}`, 401, 400, 201, 201, 201, 201, 403, 201),
	// The preview answers 200 to every user: a refusal is its answer (its body says 400/403 as above).
	r("POST", "/api/marketplace-orders/preview/", "/api/marketplace-orders/preview/", `{"offering":"{offering}","project":"{project}","plan":"{plan}","attributes":{"name":"new"}}`, 401, 200, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/marketplace-orders/:uuid/", "/api/marketplace-orders/{order}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("DELETE", "/api/marketplace-orders/:uuid/", "/api/marketplace-orders/{order}/", "", 401, 404, 403, 503, 503, 503, 403, 503),
	r("POST", "/api/marketplace-orders/:uuid/approve_by_consumer/", "/api/marketplace-orders/{order}/approve_by_consumer/", "", 401, 404, 403, 403, 403, 409, 403, 409),
	r("POST", "/api/marketplace-orders/:uuid/approve_by_provider/", "/api/marketplace-orders/{order}/approve_by_provider/", "", 401, 404, 403, 403, 403, 503, 403, 503),
	r("POST", "/api/marketplace-orders/:uuid/reject_by_consumer/", "/api/marketplace-orders/{order}/reject_by_consumer/", "", 401, 404, 403, 403, 403, 409, 403, 409),
	r("POST", "/api/marketplace-orders/:uuid/reject_by_provider/", "/api/marketplace-orders/{order}/reject_by_provider/", "", 401, 404, 403, 403, 403, 503, 403, 503),
	r("POST", "/api/marketplace-orders/:uuid/cancel/", "/api/marketplace-orders/{order}/cancel/", "", 401, 404, 403, 503, 503, 503, 403, 503),
	r("POST", "/api/marketplace-orders/:uuid/set_state_executing/", "/api/marketplace-orders/{order}/set_state_executing/", "", 401, 404, 403, 403, 403, 400, 403, 400),
	r("POST", "/api/marketplace-orders/:uuid/set_state_done/", "/api/marketplace-orders/{order}/set_state_done/", "", 401, 404, 403, 403, 403, 409, 403, 409),
	r("POST", "/api/marketplace-orders/:uuid/set_state_erred/", "/api/marketplace-orders/{order}/set_state_erred/", "", 401, 404, 403, 403, 403, 400, 403, 400),

	// Resources: the consumer's view and the provider's (C1 is both here).
	r("GET", "/api/marketplace-resources/", "/api/marketplace-resources/", "", authRead...),
	r("GET", "/api/marketplace-resources/:uuid/", "/api/marketplace-resources/{resource}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/marketplace-resources/:uuid/team/", "/api/marketplace-resources/{resource}/team/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/marketplace-resources/:uuid/plan_periods/", "/api/marketplace-resources/{resource}/plan_periods/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("POST", "/api/marketplace-resources/:uuid/terminate/", "/api/marketplace-resources/{resource}/terminate/", "", 401, 404, 403, 200, 200, 200, 403, 200),
	r("POST", "/api/marketplace-resources/:uuid/update_limits/", "/api/marketplace-resources/{resource}/update_limits/", `{"limits":{}}`, 401, 404, 403, 200, 200, 200, 403, 200),
	r("POST", "/api/marketplace-resources/:uuid/switch_plan/", "/api/marketplace-resources/{resource}/switch_plan/", `{"plan":"{plan2}"}`, 401, 404, 403, 200, 200, 200, 403, 200),
	r("GET", "/api/marketplace-provider-resources/", "/api/marketplace-provider-resources/", "", authRead...),
	r("GET", "/api/marketplace-provider-resources/:uuid/", "/api/marketplace-provider-resources/{resource}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/marketplace-provider-resources/:uuid/team/", "/api/marketplace-provider-resources/{resource}/team/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_backend_id/", "/api/marketplace-provider-resources/{resource}/set_backend_id/", `{"backend_id":"b-1"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_backend_metadata/", "/api/marketplace-provider-resources/{resource}/set_backend_metadata/", `{"backend_metadata":{"k":"v"}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_limits/", "/api/marketplace-provider-resources/{resource}/set_limits/", `{"limits":{}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_as_ok/", "/api/marketplace-provider-resources/{resource}/set_as_ok/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_as_erred/", "/api/marketplace-provider-resources/{resource}/set_as_erred/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/refresh_last_sync/", "/api/marketplace-provider-resources/{resource}/refresh_last_sync/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/terminate/", "/api/marketplace-provider-resources/{resource}/terminate/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-resources/:uuid/set_endpoints/", "/api/marketplace-provider-resources/{resource}/set_endpoints/", `{"endpoints":[{"name":"ssh","url":"ssh://login.example"}]}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("GET", "/api/marketplace-provider-resources/:uuid/plan_periods/", "/api/marketplace-provider-resources/{resource}/plan_periods/", "", 401, 404, 404, 404, 404, 200, 200, 200),

	// The catalog. C1 is a service provider with an Active, shared Basic
	// offering; catalog writes other than offerings and plans are staff's.
	r("GET", "/api/marketplace-category-groups/", "/api/marketplace-category-groups/", "", authRead...),
	r("POST", "/api/marketplace-category-groups/", "/api/marketplace-category-groups/", `{"title":"New group"}`, staffOnly(201)...),
	r("GET", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", "", authRead...),
	r("PUT", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", `{"title":"Renamed"}`, staffOnly(200)...),
	r("PATCH", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", `{"title":"Renamed"}`, staffOnly(200)...),
	r("DELETE", "/api/marketplace-category-groups/:uuid/", "/api/marketplace-category-groups/{cgroup}/", "", staffOnly(204)...),
	r("GET", "/api/marketplace-categories/", "/api/marketplace-categories/", "", authRead...),
	r("POST", "/api/marketplace-categories/", "/api/marketplace-categories/", `{"title":"New category"}`, staffOnly(201)...),
	r("GET", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", "", authRead...),
	r("PUT", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", `{"title":"Renamed"}`, staffOnly(200)...),
	r("PATCH", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", `{"title":"Renamed"}`, staffOnly(200)...),
	r("DELETE", "/api/marketplace-categories/:uuid/", "/api/marketplace-categories/{category}/", "", staffOnly(204)...),
	r("GET", "/api/marketplace-service-providers/", "/api/marketplace-service-providers/", "", authRead...),
	// SERVICE_PROVIDER.REGISTER is no default role's: staff registers.
	r("POST", "/api/marketplace-service-providers/", "/api/marketplace-service-providers/", `{"customer":"{customer2}"}`, 401, 400, 400, 400, 400, 403, 403, 201),
	r("GET", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", "", authRead...),
	r("PUT", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", `{"description":"We serve"}`, 401, 403, 403, 403, 403, 200, 403, 200),
	r("PATCH", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", `{"description":"We serve"}`, 401, 403, 403, 403, 403, 200, 403, 200),
	// The provider still has a live offering.
	// SERVICE_PROVIDER.LIST_KEYS on the provider's customer.
	r("GET", "/api/marketplace-service-providers/:uuid/keys/", "/api/marketplace-service-providers/{service-provider}/keys/", "", 401, 403, 403, 403, 403, 200, 403, 200),
	// Waldur's is_owner (CUSTOMER.UPDATE here); the provider still has a live offering.
	r("DELETE", "/api/marketplace-service-providers/:uuid/", "/api/marketplace-service-providers/{service-provider}/", "", 401, 403, 403, 403, 403, 409, 403, 409),
	r("GET", "/api/marketplace-provider-offerings/", "/api/marketplace-provider-offerings/", "", authRead...),
	r("POST", "/api/marketplace-provider-offerings/", "/api/marketplace-provider-offerings/", `{"name":"New","category":"{category-used}","customer":"{customer}","type":"Marketplace.Basic"}`, 401, 403, 403, 403, 403, 201, 403, 201),
	r("GET", "/api/marketplace-provider-offerings/:uuid/", "/api/marketplace-provider-offerings/{offering}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("DELETE", "/api/marketplace-provider-offerings/:uuid/", "/api/marketplace-provider-offerings/{offering}/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-provider-offerings/:uuid/activate/", "/api/marketplace-provider-offerings/{offering}/activate/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-provider-offerings/:uuid/pause/", "/api/marketplace-provider-offerings/{offering}/pause/", `{"paused_reason":"maintenance"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/unpause/", "/api/marketplace-provider-offerings/{offering}/unpause/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-provider-offerings/:uuid/archive/", "/api/marketplace-provider-offerings/{offering}/archive/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/draft/", "/api/marketplace-provider-offerings/{offering}/draft/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/check_unique_backend_id/", "/api/marketplace-provider-offerings/{offering}/check_unique_backend_id/", `{"backend_id":"x"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("GET", "/api/marketplace-provider-offerings/:uuid/list_project_service_accounts/", "/api/marketplace-provider-offerings/{offering}/list_project_service_accounts/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/marketplace-provider-offerings/:uuid/list_course_accounts/", "/api/marketplace-provider-offerings/{offering}/list_course_accounts/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	// Imports read the backend through Temporal: with none (503) past the permission check. The offering
	// is shared: import is staff's.
	r("GET", "/api/marketplace-provider-offerings/:uuid/importable_resources/", "/api/marketplace-provider-offerings/{offering}/importable_resources/", "", 401, 404, 404, 404, 404, 403, 403, 503),
	r("POST", "/api/marketplace-provider-offerings/:uuid/import_resource/", "/api/marketplace-provider-offerings/{offering}/import_resource/", `{"backend_id":"x","project":"{project}"}`, 401, 404, 404, 404, 404, 403, 403, 503),
	r("GET", "/api/marketplace-provider-offerings/:uuid/user-attribute-config/", "/api/marketplace-provider-offerings/{offering}/user-attribute-config/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_description/", "/api/marketplace-provider-offerings/{offering}/update_description/", `{"category":"{category-used}"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	// The offering is Active: its overview is staff's (Waldur's can_update_offering).
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_overview/", "/api/marketplace-provider-offerings/{offering}/update_overview/", `{"name":"Consulting","description":"d"}`, 401, 404, 404, 404, 404, 403, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_options/", "/api/marketplace-provider-offerings/{offering}/update_options/", `{"options":{"order":[],"options":{}}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_resource_options/", "/api/marketplace-provider-offerings/{offering}/update_resource_options/", `{"resource_options":{"order":[],"options":{}}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_integration/", "/api/marketplace-provider-offerings/{offering}/update_integration/", `{"plugin_options":{}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_attributes/", "/api/marketplace-provider-offerings/{offering}/update_attributes/", `{}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/create_offering_component/", "/api/marketplace-provider-offerings/{offering}/create_offering_component/", `{"type":"days","name":"Days","billing_type":"usage","measured_unit":"d"}`, 401, 404, 404, 404, 404, 201, 403, 201),
	r("POST", "/api/marketplace-provider-offerings/:uuid/update_offering_component/", "/api/marketplace-provider-offerings/{offering}/update_offering_component/", `{"uuid":"{component}","type":"hours","name":"Hours of work","billing_type":"usage","measured_unit":"h"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-provider-offerings/:uuid/remove_offering_component/", "/api/marketplace-provider-offerings/{offering}/remove_offering_component/", `{"uuid":"{component}"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("GET", "/api/marketplace-public-offerings/", "/api/marketplace-public-offerings/", "", authRead...),
	r("GET", "/api/marketplace-public-offerings/:uuid/", "/api/marketplace-public-offerings/{offering}/", "", authRead...),
	r("GET", "/api/marketplace-public-offerings/:uuid/plans/", "/api/marketplace-public-offerings/{offering}/plans/", "", authRead...),
	r("GET", "/api/marketplace-public-offerings/:uuid/plans/:plan/", "/api/marketplace-public-offerings/{offering}/plans/{plan}/", "", authRead...),
	r("GET", "/api/marketplace-plans/", "/api/marketplace-plans/", "", authRead...),
	r("GET", "/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", "", authRead...),
	r("POST", "/api/marketplace-plans/", "/api/marketplace-plans/", `{"offering":"{offering}","name":"Weekly","unit":"month","unit_price":"100"}`, 401, 400, 400, 400, 400, 201, 403, 201),
	r("PUT", "/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", `{"name":"Hourly+","unit":"hour","unit_price":"11"}`, 401, 403, 403, 403, 403, 200, 403, 200),
	r("PATCH", "/api/marketplace-plans/:uuid/", "/api/marketplace-plans/{plan}/", `{"name":"Hourly+"}`, 401, 403, 403, 403, 403, 200, 403, 200),
	r("POST", "/api/marketplace-plans/:uuid/archive/", "/api/marketplace-plans/{plan}/archive/", "", 401, 403, 403, 403, 403, 200, 403, 200),
	r("POST", "/api/marketplace-plans/:uuid/update_prices/", "/api/marketplace-plans/{plan}/update_prices/", `{"prices":{"hours":"2.5"}}`, 401, 403, 403, 403, 403, 200, 403, 200),
	r("POST", "/api/marketplace-plans/:uuid/update_quotas/", "/api/marketplace-plans/{plan}/update_quotas/", `{"quotas":{"hours":10}}`, 401, 403, 403, 403, 403, 200, 403, 200),

	// Billing: C1's invoice of this month (pending) with r1's item; C1's credit and P1's share.
	// Invoices, items and customer credits show to C1's roles; project credits to P1's too; changes are staff's.
	r("GET", "/api/invoices/", "/api/invoices/", "", authRead...),
	r("GET", "/api/invoices/:uuid/", "/api/invoices/{invoice}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/invoices/:uuid/items/", "/api/invoices/{invoice}/items/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/invoices/:uuid/stats/", "/api/invoices/{invoice}/stats/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/invoices/:uuid/csv/", "/api/invoices/{invoice}/csv/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("POST", "/api/invoices/:uuid/paid/", "/api/invoices/{invoice}/paid/", `{"date":"2026-01-05"}`, staffOnly(409)...),
	r("POST", "/api/invoices/:uuid/set_backend_id/", "/api/invoices/{invoice}/set_backend_id/", `{"backend_id":"erp-1"}`, staffOnly(200)...),
	r("POST", "/api/invoices/:uuid/set_payment_url/", "/api/invoices/{invoice}/set_payment_url/", `{"payment_url":"https://pay.example.com/1"}`, staffOnly(200)...),
	r("POST", "/api/invoices/:uuid/set_reference_number/", "/api/invoices/{invoice}/set_reference_number/", `{"reference_number":"R-1"}`, staffOnly(200)...),
	r("GET", "/api/invoice-items/", "/api/invoice-items/", "", authRead...),
	r("GET", "/api/invoice-items/total_price/", "/api/invoice-items/total_price/", "", authRead...),
	r("GET", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", `{"quantity":"1"}`, staffOnly(200)...),
	r("PATCH", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", `{"article_code":"A-1"}`, staffOnly(200)...),
	r("DELETE", "/api/invoice-items/:uuid/", "/api/invoice-items/{invoice-item}/", "", staffOnly(204)...),
	r("POST", "/api/invoice-items/:uuid/create_compensation/", "/api/invoice-items/{invoice-item}/create_compensation/", `{"offering_component_name":"Hours"}`, staffOnly(200)...),
	r("POST", "/api/invoice-items/:uuid/migrate_to/", "/api/invoice-items/{invoice-item}/migrate_to/", `{"invoice":"{invoice}"}`, staffOnly(200)...),
	r("GET", "/api/customer-credits/", "/api/customer-credits/", "", authRead...),
	r("POST", "/api/customer-credits/", "/api/customer-credits/", `{"customer":"{customer2}","value":"10"}`, staffOnly(201)...),
	r("GET", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", `{"customer":"{customer}","value":"900"}`, staffOnly(200)...),
	r("PATCH", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", `{"value":"900"}`, staffOnly(200)...),
	r("DELETE", "/api/customer-credits/:uuid/", "/api/customer-credits/{customer-credit}/", "", staffOnly(204)...),
	r("GET", "/api/customer-credits/:uuid/consumptions/", "/api/customer-credits/{customer-credit}/consumptions/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("GET", "/api/project-credits/", "/api/project-credits/", "", authRead...),
	// P1 has its credit already: staff gets the validation error.
	r("POST", "/api/project-credits/", "/api/project-credits/", `{"project":"{project}","value":"5"}`, staffOnly(400)...),
	r("GET", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("PUT", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", `{"project":"{project}","value":"20"}`, staffOnly(200)...),
	r("PATCH", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", `{"value":"20"}`, staffOnly(200)...),
	r("DELETE", "/api/project-credits/:uuid/", "/api/project-credits/{project-credit}/", "", staffOnly(204)...),

	// AWS: the catalog is any signed-in user's to read; r1's instance is seen as r1 is (P1 of C1, an offering of C1).
	r("GET", "/api/aws-regions/", "/api/aws-regions/", "", authRead...),
	r("GET", "/api/aws-regions/:uuid/", "/api/aws-regions/{aws-region}/", "", authRead...),
	r("GET", "/api/aws-images/", "/api/aws-images/", "", authRead...),
	r("GET", "/api/aws-images/:uuid/", "/api/aws-images/{aws-image}/", "", authRead...),
	r("GET", "/api/aws-sizes/", "/api/aws-sizes/", "", authRead...),
	r("GET", "/api/aws-sizes/:uuid/", "/api/aws-sizes/{aws-size}/", "", authRead...),
	r("GET", "/api/aws-instances/", "/api/aws-instances/", "", authRead...),
	r("GET", "/api/aws-instances/:uuid/", "/api/aws-instances/{aws-instance}/", "", 401, 404, 200, 200, 200, 200, 200, 200),

	// Hooks: the owner's.
	r("GET", "/api/hooks/", "/api/hooks/", "", authRead...),
	r("GET", "/api/hooks-web/", "/api/hooks-web/", "", authRead...),
	r("POST", "/api/hooks-web/", "/api/hooks-web/", `{"event_types":["role_granted"],"destination_url":"https://example.com/new"}`, 401, 201, 201, 201, 201, 201, 201, 201),
	r("GET", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", `{"event_types":["role_granted"],"destination_url":"https://example.com/other"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("PATCH", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", `{"is_active":false}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("DELETE", "/api/hooks-web/:uuid/", "/api/hooks-web/{hook-web}/", "", 401, 404, 404, 404, 404, 204, 403, 204),
	r("GET", "/api/hooks-email/", "/api/hooks-email/", "", authRead...),
	r("POST", "/api/hooks-email/", "/api/hooks-email/", `{"event_types":["role_granted"],"email":"me@example.com"}`, 401, 201, 201, 201, 201, 201, 201, 201),
	r("GET", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", `{"event_types":["role_granted"],"email":"other@example.com"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("PATCH", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", `{"is_active":false}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("DELETE", "/api/hooks-email/:uuid/", "/api/hooks-email/{hook-email}/", "", 401, 404, 404, 404, 404, 204, 403, 204),

	// Offering users: target's account on C1's cluster, in state Creating.
	// The provider's side (owner, staff) changes it; project roles do not see it.
	r("GET", "/api/marketplace-offering-users/", "/api/marketplace-offering-users/", "", authRead...),
	r("POST", "/api/marketplace-offering-users/", "/api/marketplace-offering-users/", `{"offering":"{hpc}","user":"{user:newbie}"}`, 401, 403, 403, 403, 403, 201, 403, 201),
	r("GET", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", `{"username":"t1"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("PATCH", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", `{"username":"t1"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("DELETE", "/api/marketplace-offering-users/:uuid/", "/api/marketplace-offering-users/{offering-user}/", "", 401, 404, 404, 404, 404, 204, 403, 204),
	r("POST", "/api/marketplace-offering-users/:uuid/begin_creating/", "/api/marketplace-offering-users/{offering-user}/begin_creating/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-offering-users/:uuid/set_ok/", "/api/marketplace-offering-users/{offering-user}/set_ok/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-offering-users/:uuid/set_pending_additional_validation/", "/api/marketplace-offering-users/{offering-user}/set_pending_additional_validation/", `{"comment":"ID please"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-offering-users/:uuid/set_pending_account_linking/", "/api/marketplace-offering-users/{offering-user}/set_pending_account_linking/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-offering-users/:uuid/set_validation_complete/", "/api/marketplace-offering-users/{offering-user}/set_validation_complete/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-offering-users/:uuid/request_deletion/", "/api/marketplace-offering-users/{offering-user}/request_deletion/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-offering-users/:uuid/set_deleting/", "/api/marketplace-offering-users/{offering-user}/set_deleting/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-offering-users/:uuid/set_deleted/", "/api/marketplace-offering-users/{offering-user}/set_deleted/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-offering-users/:uuid/set_error_creating/", "/api/marketplace-offering-users/{offering-user}/set_error_creating/", "", 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-offering-users/:uuid/set_error_deleting/", "/api/marketplace-offering-users/{offering-user}/set_error_deleting/", "", 401, 404, 404, 404, 404, 409, 403, 409),
	r("POST", "/api/marketplace-offering-users/:uuid/update_restricted/", "/api/marketplace-offering-users/{offering-user}/update_restricted/", `{"is_restricted":true}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("PATCH", "/api/marketplace-offering-users/:uuid/update_comments/", "/api/marketplace-offering-users/{offering-user}/update_comments/", `{"service_provider_comment":"hi"}`, 401, 404, 404, 404, 404, 200, 403, 200),

	// Site agent identities, services and processors of C1's cluster.
	r("GET", "/api/marketplace-site-agent-identities/", "/api/marketplace-site-agent-identities/", "", authRead...),
	r("POST", "/api/marketplace-site-agent-identities/", "/api/marketplace-site-agent-identities/", `{"offering":"{hpc}","name":"agent-2"}`, 401, 403, 403, 403, 403, 201, 403, 201),
	r("GET", "/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("PUT", "/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", `{"offering":"{hpc}","name":"agent-1","version":"0.7.1"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("DELETE", "/api/marketplace-site-agent-identities/:uuid/", "/api/marketplace-site-agent-identities/{agent}/", "", 401, 404, 404, 404, 404, 204, 403, 204),
	r("POST", "/api/marketplace-site-agent-identities/:uuid/register_service/", "/api/marketplace-site-agent-identities/{agent}/register_service/", `{"name":"report","mode":"report"}`, 401, 404, 404, 404, 404, 201, 403, 201),
	r("GET", "/api/marketplace-site-agent-services/", "/api/marketplace-site-agent-services/", "", authRead...),
	r("GET", "/api/marketplace-site-agent-services/:uuid/", "/api/marketplace-site-agent-services/{agent-service}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("DELETE", "/api/marketplace-site-agent-services/:uuid/", "/api/marketplace-site-agent-services/{agent-service}/", "", 401, 404, 404, 404, 404, 204, 403, 204),
	r("POST", "/api/marketplace-site-agent-services/:uuid/register_processor/", "/api/marketplace-site-agent-services/{agent-service}/register_processor/", `{"name":"OfferingOrderProcessor","backend_type":"slurm"}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("POST", "/api/marketplace-site-agent-services/:uuid/set_statistics/", "/api/marketplace-site-agent-services/{agent-service}/set_statistics/", `{"statistics":{"orders":1}}`, 401, 404, 404, 404, 404, 200, 403, 200),
	r("GET", "/api/marketplace-site-agent-processors/", "/api/marketplace-site-agent-processors/", "", authRead...),
	r("GET", "/api/marketplace-site-agent-processors/:uuid/", "/api/marketplace-site-agent-processors/{agent-processor}/", "", 401, 404, 404, 404, 404, 200, 200, 200),
	r("DELETE", "/api/marketplace-site-agent-processors/:uuid/", "/api/marketplace-site-agent-processors/{agent-processor}/", "", 401, 404, 404, 404, 404, 204, 403, 204),

	// OpenStack: read-only; a tenant in P1 and what it holds, seen by P1's and C1's roles.
	r("GET", "/api/openstack-tenants/", "/api/openstack-tenants/", "", authRead...),
	r("GET", "/api/openstack-tenants/:uuid/", "/api/openstack-tenants/{os-tenant}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-instances/", "/api/openstack-instances/", "", authRead...),
	r("GET", "/api/openstack-instances/:uuid/", "/api/openstack-instances/{os-instance}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-volumes/", "/api/openstack-volumes/", "", authRead...),
	r("GET", "/api/openstack-volumes/:uuid/", "/api/openstack-volumes/{os-volume}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-flavors/", "/api/openstack-flavors/", "", authRead...),
	r("GET", "/api/openstack-flavors/:uuid/", "/api/openstack-flavors/{os-flavor}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-images/", "/api/openstack-images/", "", authRead...),
	r("GET", "/api/openstack-images/:uuid/", "/api/openstack-images/{os-image}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-volume-types/", "/api/openstack-volume-types/", "", authRead...),
	r("GET", "/api/openstack-volume-types/:uuid/", "/api/openstack-volume-types/{os-volume-type}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-networks/", "/api/openstack-networks/", "", authRead...),
	r("GET", "/api/openstack-networks/:uuid/", "/api/openstack-networks/{os-network}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-subnets/", "/api/openstack-subnets/", "", authRead...),
	r("GET", "/api/openstack-subnets/:uuid/", "/api/openstack-subnets/{os-subnet}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-security-groups/", "/api/openstack-security-groups/", "", authRead...),
	r("GET", "/api/openstack-security-groups/:uuid/", "/api/openstack-security-groups/{os-security-group}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
	r("GET", "/api/openstack-floating-ips/", "/api/openstack-floating-ips/", "", authRead...),
	r("GET", "/api/openstack-floating-ips/:uuid/", "/api/openstack-floating-ips/{os-floating-ip}/", "", 401, 404, 200, 200, 200, 200, 200, 200),
}

func TestRBACMatrix(t *testing.T) {
	w := seedWorld(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The table covers every route the API registers (HEAD twins aside).
	srv, err := app.NewAPI(w.fresh(t), nil, quiet, "default")
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, rt := range table {
		covered[rt.method+" "+rt.pattern] = true
	}
	for _, ri := range srv.Engine().Routes() {
		if ri.Method == http.MethodHead {
			continue
		}
		require.True(t, covered[ri.Method+" "+ri.Path], "route %s %s is missing from the RBAC matrix", ri.Method, ri.Path)
	}

	for _, rt := range table {
		for i, who := range personas {
			rt, i, who := rt, i, who
			t.Run(fmt.Sprintf("%s %s as %s", rt.method, rt.pattern, who), func(t *testing.T) {
				t.Parallel()
				srv, err := app.NewAPI(w.fresh(t), nil, quiet, "default")
				require.NoError(t, err)
				var body io.Reader
				if rt.body != "" {
					body = bytes.NewBufferString(w.expand(rt.body))
				}
				req := httptest.NewRequest(rt.method, w.expand(rt.path), body)
				if rt.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if who != "anonymous" {
					req.Header.Set("Authorization", "Token "+w.tokens[who])
				}
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				require.Equal(t, rt.want[i], rec.Code, "%s %s as %s: %s", rt.method, req.URL.Path, who, rec.Body.String())
				if rec.Code >= 400 && rec.Code != 503 && req.URL.Path != "/metrics" {
					var v any
					require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "errors are JSON")
				}
			})
		}
	}
}
