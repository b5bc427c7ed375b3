package app_test

// The RBAC matrix's world: a consumer customer (C1, project P1) that uses
// an offering of a provider customer (PROV), and one user for each kind of
// caller. Seeded once per database; every case runs in a transaction that
// is rolled back, so no case sees another's change.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// A grant of the matrix world: a role on one of its scopes.
type mgrant struct {
	role    string
	scope   string // C1, C2, PROV, P1, O, HPC
	expired bool   // its expiration time has passed (the grant is still is_active)
}

// A caller of the matrix: a user with its grants (none for anonymous and plain).
type mcaller struct {
	name           string
	anonymous      bool
	staff, support bool
	grants         []mgrant
	description    string
}

// disabledRole is a customer role with CUSTOMER.OWNER's permissions,
// granted and then disabled (POST /api/roles/<uuid>/disable/ does the same).
const disabledRole = "MATRIX.DISABLED"

// matrixCallers are the callers of every matrix row, in order.
var matrixCallers = []mcaller{
	{name: "anonymous", anonymous: true, description: "no credentials"},
	{name: "plain", description: "a user without roles"},
	{name: "staff", staff: true, description: "staff"},
	{name: "support", support: true, description: "global support"},
	{name: "c-owner", grants: []mgrant{{role: models.RoleCustomerOwner, scope: "C1"}, {role: models.RoleCustomerOwner, scope: "C2"}},
		description: "CUSTOMER.OWNER of the consumer (and of C2, not a provider)"},
	{name: "c-manager", grants: []mgrant{{role: models.RoleCustomerManager, scope: "C1"}}, description: "CUSTOMER.MANAGER of the consumer"},
	{name: "c-support", grants: []mgrant{{role: models.RoleCustomerSupport, scope: "C1"}}, description: "CUSTOMER.SUPPORT of the consumer"},
	{name: "p-admin", grants: []mgrant{{role: models.RoleProjectAdmin, scope: "P1"}}, description: "PROJECT.ADMIN of the consumer's project"},
	{name: "p-manager", grants: []mgrant{{role: models.RoleProjectManager, scope: "P1"}}, description: "PROJECT.MANAGER of the consumer's project"},
	{name: "p-member", grants: []mgrant{{role: models.RoleProjectMember, scope: "P1"}}, description: "PROJECT.MEMBER of the consumer's project"},
	{name: "o-manager", grants: []mgrant{{role: models.RoleOfferingManager, scope: "O"}, {role: models.RoleOfferingManager, scope: "HPC"}},
		description: "OFFERING.MANAGER of the provider's offerings"},
	{name: "prov-owner", grants: []mgrant{{role: models.RoleCustomerOwner, scope: "PROV"}}, description: "CUSTOMER.OWNER of the provider"},
	{name: "expired", grants: []mgrant{{role: models.RoleCustomerOwner, scope: "C1", expired: true}}, description: "an expired CUSTOMER.OWNER grant on the consumer"},
	{name: "disabled", grants: []mgrant{{role: disabledRole, scope: "C1"}}, description: "a grant of a disabled role (CUSTOMER.OWNER's permissions) on the consumer"},
}

// mworld is the seeded matrix database.
type mworld struct {
	db     *gorm.DB
	tokens map[string]string // caller -> token
	ids    map[string]string // placeholder -> value in paths and bodies
}

func (w *mworld) expand(s string) string {
	for k, v := range w.ids {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// rolePermissions is the role table the expectations are derived from:
// rbac.DefaultRoles (permissions and whether the role is active), and the
// disabled role.
func rolePermissions() map[string]struct {
	active bool
	perms  map[models.Permission]bool
} {
	out := map[string]struct {
		active bool
		perms  map[models.Permission]bool
	}{}
	for _, r := range rbac.DefaultRoles {
		ps := map[models.Permission]bool{}
		for _, p := range r.Permissions {
			ps[p] = true
		}
		out[r.Name] = struct {
			active bool
			perms  map[models.Permission]bool
		}{r.IsActive, ps}
		if r.Name == models.RoleCustomerOwner {
			out[disabledRole] = struct {
				active bool
				perms  map[models.Permission]bool
			}{false, ps}
		}
	}
	return out
}

func ownerPermissions() []models.Permission {
	for _, r := range rbac.DefaultRoles {
		if r.Name == models.RoleCustomerOwner {
			return r.Permissions
		}
	}
	return nil
}

// seedMatrix fills db with the matrix world.
func seedMatrix(t testing.TB, db *gorm.DB) *mworld {
	ctx := context.Background()
	st := store.New(db)
	w := &mworld{db: db, tokens: map[string]string{}, ids: map[string]string{}}
	now := time.Now().UTC()
	mk := newRowMaker(t, db)

	users := map[string]*models.User{}
	lifetime := 86400
	names := []string{"target", "newbie", "victim"}
	for _, c := range matrixCallers {
		if !c.anonymous {
			names = append(names, c.name)
		}
	}
	for _, n := range names {
		var staff, support bool
		for _, c := range matrixCallers {
			if c.name == n {
				staff, support = c.staff, c.support
			}
		}
		u := &models.User{Username: n, Email: n + "@example.com", IsActive: true, IsStaff: staff, IsSupport: support, TokenLifetime: &lifetime}
		require.NoError(t, st.CreateUser(ctx, u, "Secret-pass-1"))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[n] = u
		w.tokens[n] = tok.Key
		w.ids["{user:"+n+"}"] = u.UUID.String()
	}

	// The consumer C1 with project P1; the provider PROV; C2, a customer of c-owner that is no provider.
	scopes := map[string]models.Scope{}
	customerOf := map[string]int64{}
	customer := func(name, key string) int64 {
		id, u := mk("customers", map[string]any{"name": name, "accounting_start_date": now, "created": now, "modified": now})
		require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: id}))
		scopes[name] = models.Scope{Type: models.ScopeCustomer, ID: id}
		customerOf[name] = id
		w.ids[key] = u.String()
		return id
	}
	c1 := customer("C1", "{customer}")
	prov := customer("PROV", "{provider}")
	customer("C2", "{customer2}")
	p1, p1u := mk("projects", map[string]any{"name": "P1", "customer_id": c1, "created": now, "modified": now})
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: p1}))
	scopes["P1"], customerOf["P1"] = models.Scope{Type: models.ScopeProject, ID: p1}, c1
	_, ptu := mk("project_types", map[string]any{"name": "Research"})
	w.ids["{project}"], w.ids["{ptype}"] = p1u.String(), ptu.String()

	// The provider's catalog: a shared, Active Basic offering O with two
	// plans and a usage component, and a Slurm offering HPC.
	_, spu := mk("service_providers", map[string]any{"customer_id": prov, "created": now, "modified": now})
	cat, catu := mk("categories", map[string]any{"title": "Services", "created": now, "modified": now})
	off, offu := mk("offerings", map[string]any{"name": "Consulting", "customer_id": prov, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "shared": true, "billable": true, "plugin_options": `{}`, "created": now, "modified": now})
	hpc, hpcu := mk("offerings", map[string]any{"name": "Cluster", "customer_id": prov, "category_id": cat, "type": models.OfferingSlurm,
		"state": models.OfferingActive, "plugin_options": `{"service_provider_can_create_offering_user":true}`, "created": now, "modified": now})
	scopes["O"], scopes["HPC"] = models.Scope{Type: models.ScopeOffering, ID: off}, models.Scope{Type: models.ScopeOffering, ID: hpc}
	customerOf["O"], customerOf["HPC"] = prov, prov
	plan, planu := mk("plans", map[string]any{"name": "Hourly", "offering_id": off, "unit": "hour", "unit_price": "10", "created": now, "modified": now})
	_, plan2u := mk("plans", map[string]any{"name": "Daily", "offering_id": off, "unit": "day", "unit_price": "70", "created": now, "modified": now})
	comp, compu := mk("offering_components", map[string]any{"offering_id": off, "type": "hours", "name": "Hours", "billing_type": "usage", "measured_unit": "h"})
	cg, cgu := mk("category_groups", map[string]any{"title": "Group"})
	_, cat2u := mk("categories", map[string]any{"title": "Empty", "group_id": cg, "created": now, "modified": now})
	w.ids["{service-provider}"], w.ids["{offering}"], w.ids["{hpc}"] = spu.String(), offu.String(), hpcu.String()
	w.ids["{plan}"], w.ids["{plan2}"], w.ids["{component}"] = planu.String(), plan2u.String(), compu.String()
	w.ids["{cgroup}"], w.ids["{category}"], w.ids["{category-used}"] = cgu.String(), cat2u.String(), catu.String()

	// P1 uses O: r1 is OK (its create order done); r2's create order waits for the provider.
	res, resu := mk("resources", map[string]any{"name": "r1", "project_id": p1, "offering_id": off, "plan_id": plan, "state": models.ResourceOK,
		"attributes": `{}`, "limits": `{}`, "created": now, "modified": now})
	_, _ = mk("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderDone, "resource_id": res, "offering_id": off, "project_id": p1,
		"plan_id": plan, "created_by_id": users["c-owner"].ID, "workflow_started": true, "created": now, "modified": now, "completed_at": now})
	res2, _ := mk("resources", map[string]any{"name": "r2", "project_id": p1, "offering_id": off, "plan_id": plan, "state": models.ResourceCreating,
		"attributes": `{}`, "limits": `{}`, "created": now, "modified": now})
	_, ordu := mk("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderPendingProvider, "resource_id": res2, "offering_id": off,
		"project_id": p1, "plan_id": plan, "created_by_id": users["c-owner"].ID, "workflow_started": true, "created": now, "modified": now})
	w.ids["{resource}"], w.ids["{order}"] = resu.String(), ordu.String()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	cu, cuu := mk("component_usages", map[string]any{"resource_id": res, "component_id": comp, "usage": "2", "date": now,
		"billing_period": month.Format("2006-01-02"), "created": now, "modified": now})
	_, uuu := mk("component_user_usages", map[string]any{"component_usage_id": cu, "username": "alice", "usage": "1", "created": now, "modified": now})
	w.ids["{usage}"], w.ids["{user-usage}"] = cuu.String(), uuu.String()

	// AWS pull rows of O, with r1's instance; an OpenStack tenant of P1 (imported) on O.
	seedPluginRows(mk, w.ids, off, res, p1, now)

	// Billing of the consumer: C1's invoice of this month with r1's item; C1's credit and P1's share of it.
	inv, invu := mk("invoices", map[string]any{"customer_id": c1, "year": now.Year(), "month": int(now.Month()), "state": "pending",
		"total_price": "10", "created": now, "modified": now})
	_, itemu := mk("invoice_items", map[string]any{"invoice_id": inv, "resource_id": res, "offering_id": off, "project_id": p1,
		"project_name": "P1", "project_uuid": p1u.String(), "kind": "plan", "name": "r1 / Hourly", "details": `{"offering_component_name":"Hours","offering_component_type":"hours"}`,
		"start": month, "end": month.AddDate(0, 1, 0).Add(-time.Microsecond), "unit": "hour", "unit_price": "10", "quantity": "1", "price": "10",
		"created": now, "modified": now})
	_, ccu := mk("customer_credits", map[string]any{"customer_id": c1, "value": "1000", "created": now, "modified": now})
	_, pcu := mk("project_credits", map[string]any{"project_id": p1, "value": "10", "created": now, "modified": now})
	w.ids["{invoice}"], w.ids["{invoice-item}"], w.ids["{customer-credit}"], w.ids["{project-credit}"] = invu.String(), itemu.String(), ccu.String(), pcu.String()

	// The site agent's side of HPC: target's account being created; an agent identity with a service and a processor.
	_, ouu := mk("offering_users", map[string]any{"offering_id": hpc, "user_id": users["target"].ID, "username": "", "state": "Creating",
		"created": now, "modified": now})
	ident, identu := mk("agent_identities", map[string]any{"offering_id": hpc, "name": "agent-1", "last_restarted": now, "created": now, "modified": now})
	svc, svcu := mk("agent_services", map[string]any{"identity_id": ident, "name": "order_process", "mode": "order_process", "state": 1,
		"created": now, "modified": now})
	_, procu := mk("agent_processors", map[string]any{"service_id": svc, "name": "OfferingOrderProcessor", "backend_type": "slurm",
		"created": now, "modified": now})
	w.ids["{offering-user}"], w.ids["{agent}"], w.ids["{agent-service}"], w.ids["{agent-processor}"] = ouu.String(), identu.String(), svcu.String(), procu.String()
	// HPC's SLURM partition "batch", which the agent changes and removes.
	_, partu := mk("offering_partitions", map[string]any{"offering_id": hpc, "partition_name": "batch", "created": now, "modified": now})
	w.ids["{partition}"] = partu.String()

	// The grants: the callers', plus target (PROJECT.MEMBER of P1) and victim (CUSTOMER.OWNER of C1), the objects of team changes.
	_, err := st.CreateRole(ctx, store.RoleInput{Name: disabledRole, ContentType: models.ScopeCustomer, Permissions: ownerPermissions()})
	require.NoError(t, err)
	grant := func(user string, g mgrant) {
		r, err := st.RoleByName(ctx, g.role)
		require.NoError(t, err)
		shipped := r.IsActive
		if !shipped { // CUSTOMER.MANAGER and CUSTOMER.SUPPORT ship inactive: granted while enabled, as an operator would
			require.NoError(t, db.Exec("UPDATE roles SET is_active = ? WHERE id = ?", true, r.ID).Error)
			r.IsActive = true
		}
		s := scopes[g.scope]
		in := store.Grant{User: users[user], Role: r, Scope: s, CustomerID: customerOf[g.scope], EventScopes: []models.Scope{s}}
		if g.expired {
			later := now.Add(time.Hour)
			in.ExpirationTime = &later
		}
		ur, err := st.GrantRole(ctx, in)
		require.NoError(t, err)
		if g.expired {
			require.NoError(t, db.Exec("UPDATE user_roles SET expiration_time = ? WHERE uuid = ?", now.Add(-time.Hour), ur.UUID).Error)
		}
		if !shipped {
			require.NoError(t, db.Exec("UPDATE roles SET is_active = ?, modified = ? WHERE id = ?", false, time.Now().UTC(), r.ID).Error)
		}
	}
	for _, c := range matrixCallers {
		for _, g := range c.grants {
			grant(c.name, g)
		}
	}
	grant("target", mgrant{role: models.RoleProjectMember, scope: "P1"})
	grant("victim", mgrant{role: models.RoleCustomerOwner, scope: "C1"})
	// The disabled role is disabled after its grant.
	require.NoError(t, db.Exec("UPDATE roles SET is_active = ?, modified = ? WHERE name = ?", false, time.Now().UTC(), disabledRole).Error)
	for _, r := range []string{models.RoleProjectMember, models.RoleProjectAdmin, models.RoleCustomerOwner} {
		role, err := st.RoleByName(ctx, r)
		require.NoError(t, err)
		w.ids["{role:"+r+"}"] = role.UUID.String()
	}
	_, cru := mk("roles", map[string]any{"name": "TEST.CUSTOM", "content_type": "project", "is_active": true, "modified": now})
	w.ids["{role}"] = cru.String()

	// c-owner's SSH key and hooks; an event fed to P1 and C1; invitations to P1.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	w.ids["{pubkey}"] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	_, ku := mk("ssh_keys", map[string]any{"user_id": users["c-owner"].ID, "name": "laptop", "public_key": "ssh-ed25519 AAAA owner", "fingerprint_sha256": "x", "created": now})
	w.ids["{key}"] = ku.String()
	_, hw := mk("hooks", map[string]any{"user_id": users["c-owner"].ID, "hook_type": "webhook", "event_types": `["role_granted"]`, "event_groups": `[]`, "destination_url": "https://example.com/h", "content_type": "json", "is_active": true, "created": now, "modified": now})
	_, he := mk("hooks", map[string]any{"user_id": users["c-owner"].ID, "hook_type": "email", "event_types": `["role_granted"]`, "event_groups": `[]`, "email": "c-owner@example.com", "is_active": true, "created": now, "modified": now})
	w.ids["{hook-web}"], w.ids["{hook-email}"] = hw.String(), he.String()
	ev := &models.Event{EventType: "project_update_succeeded", Message: "P1 changed", Scopes: []models.Scope{scopes["P1"], scopes["C1"]}}
	require.NoError(t, st.EmitEvent(ctx, ev))
	w.ids["{event}"] = ev.UUID.String()
	admin, err := st.RoleByName(ctx, models.RoleProjectAdmin)
	require.NoError(t, err)
	invitation := func(state string) models.UUID {
		_, id := mk("invitations", map[string]any{"created_by_id": users["c-owner"].ID, "customer_id": c1, "scope_type": "project", "scope_id": p1,
			"role_id": admin.ID, "state": state, "email": "newbie@example.com", "created": now, "modified": now})
		return id
	}
	w.ids["{invitation}"] = invitation("pending").String()
	w.ids["{invitation-requested}"] = invitation("requested").String()
	// An OIDC identity provider (api/oidc), named by its slug.
	require.NoError(t, db.Table("oidc_identity_providers").Create(map[string]any{"provider": "keycloak", "label": "Keycloak",
		"is_active": true, "client_id": "waldur", "client_secret": "secret-0123456789", "discovery_url": "https://sso.example.org",
		"attribute_mapping": `{}`, "protected_fields": `[]`, "allowed_redirects": `[]`, "created": now, "modified": now}).Error)
	return w
}
