package app_test

// The world of several API tests (orders, fuzzing, TestRolesAsWaldur):
// one customer that is both consumer and provider, with a user for each
// kind of caller. The RBAC matrix has its own world (matrix_test.go), where
// provider and consumer are different customers.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// The users of the world, by their roles.
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
	mk := newRowMaker(t, db)
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
	seedPluginRows(mk, w.ids, off, res, p1, now)
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
