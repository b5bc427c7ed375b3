package app_test

// Issue 20: no role may do more here than in Waldur. Each case below was
// reproduced through the HTTP API before the fix (the role table and the
// checks let the caller through) and is refused now, as Waldur's default
// roles and the operations' x-permissions say.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// addCaller creates a user with a token in w and, when role is set, grants
// it on scope (enabling the role first when it ships inactive).
func addCaller(t testing.TB, w *world, name, role string, scope models.Scope, customerID int64) {
	t.Helper()
	ctx := context.Background()
	st := store.New(w.db)
	lifetime := 86400
	u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, TokenLifetime: &lifetime}
	require.NoError(t, st.CreateUser(ctx, u, "Secret-pass-1"))
	tok, err := st.EnsureToken(ctx, u.ID)
	require.NoError(t, err)
	w.tokens[name] = tok.Key
	if role == "" {
		return
	}
	r, err := st.RoleByName(ctx, role)
	require.NoError(t, err)
	if !r.IsActive {
		require.NoError(t, w.db.Exec("UPDATE roles SET is_active = ? WHERE id = ?", true, r.ID).Error)
		r.IsActive = true
	}
	_, err = st.GrantRole(ctx, store.Grant{User: u, Role: r, Scope: scope, CustomerID: customerID, EventScopes: []models.Scope{scope}})
	require.NoError(t, err)
}

func idOf(t testing.TB, db *gorm.DB, table, uuid string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", uuid).Scan(&id).Error)
	require.NotZero(t, id, "%s %s", table, uuid)
	return id
}

// seedWaldurCallers adds to the matrix world: "offmgr", OFFERING.MANAGER of
// C1's Basic offering and of its cluster; "custmgr", CUSTOMER.MANAGER of C1;
// "custsupport", CUSTOMER.SUPPORT of C1; "stater", holder of a custom role
// with RESOURCE.SET_STATE alone on C1.
func seedWaldurCallers(t testing.TB, w *world) {
	t.Helper()
	c1 := idOf(t, w.db, "customers", w.ids["{customer}"])
	cs := models.Scope{Type: models.ScopeCustomer, ID: c1}
	addCaller(t, w, "offmgr", models.RoleOfferingManager, models.Scope{Type: models.ScopeOffering, ID: idOf(t, w.db, "offerings", w.ids["{offering}"])}, c1)
	st := store.New(w.db)
	r, err := st.RoleByName(context.Background(), models.RoleOfferingManager)
	require.NoError(t, err)
	var offmgr models.User
	require.NoError(t, w.db.Table("users").Where("username = ?", "offmgr").Take(&offmgr).Error)
	hpc := models.Scope{Type: models.ScopeOffering, ID: idOf(t, w.db, "offerings", w.ids["{hpc}"])}
	_, err = st.GrantRole(context.Background(), store.Grant{User: &offmgr, Role: r, Scope: hpc, CustomerID: c1, EventScopes: []models.Scope{hpc}})
	require.NoError(t, err)
	addCaller(t, w, "custmgr", models.RoleCustomerManager, cs, c1)
	addCaller(t, w, "custsupport", models.RoleCustomerSupport, cs, c1)
	_, err = st.CreateRole(context.Background(), store.RoleInput{Name: "TEST.SET_STATE", ContentType: models.ScopeCustomer,
		Permissions: []models.Permission{"RESOURCE.SET_STATE"}})
	require.NoError(t, err)
	addCaller(t, w, "stater", "TEST.SET_STATE", cs, c1)
}

func TestRolesAsWaldur(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name, user, method, path, body string
		want                           int
	}{
		// 1. An offering manager is not the provider's owner: no plans, no offering users.
		{"offering manager creates a plan", "offmgr", "POST", "/api/marketplace-plans/", `{"offering":"{offering}","name":"Weekly","unit":"month","unit_price":"100"}`, 403},
		{"offering manager changes a plan", "offmgr", "PATCH", "/api/marketplace-plans/{plan}/", `{"name":"Hourly+"}`, 403},
		{"offering manager changes prices", "offmgr", "POST", "/api/marketplace-plans/{plan}/update_prices/", `{"prices":{"hours":"2.5"}}`, 403},
		{"offering manager archives a plan", "offmgr", "POST", "/api/marketplace-plans/{plan2}/archive/", "", 403},
		{"offering manager creates an offering user", "offmgr", "POST", "/api/marketplace-offering-users/", `{"offering":"{hpc}","user":"{user:newbie}"}`, 403},
		{"offering manager changes an offering user", "offmgr", "PATCH", "/api/marketplace-offering-users/{offering-user}/", `{"username":"t1"}`, 403},
		{"offering manager deletes an offering user", "offmgr", "DELETE", "/api/marketplace-offering-users/{offering-user}/", "", 403},
		// ...but keeps what Waldur's role has on its offering.
		{"offering manager updates the description", "offmgr", "POST", "/api/marketplace-provider-offerings/{offering}/update_description/", `{"category":"{category-used}"}`, 200},
		{"offering manager reports usage", "offmgr", "POST", "/api/marketplace-component-usages/set_usage/", `{"resource":"{resource}","usages":[{"type":"hours","amount":"1.5"}]}`, 201},
		// 2. No bypass by role name: order and resource states, site-agent objects.
		{"offering manager marks an order done", "offmgr", "POST", "/api/marketplace-orders/{order}/set_state_done/", "", 403},
		{"offering manager marks an order erred", "offmgr", "POST", "/api/marketplace-orders/{order}/set_state_erred/", "", 403},
		{"offering manager sets a resource OK", "offmgr", "POST", "/api/marketplace-provider-resources/{resource}/set_as_ok/", "", 403},
		{"offering manager sets a resource erred", "offmgr", "POST", "/api/marketplace-provider-resources/{resource}/set_as_erred/", "", 403},
		{"offering manager registers an agent service", "offmgr", "POST", "/api/marketplace-site-agent-identities/{agent}/register_service/", `{"name":"report","mode":"report"}`, 403},
		{"offering manager deletes an agent processor", "offmgr", "DELETE", "/api/marketplace-site-agent-processors/{agent-processor}/", "", 403},
		// 3. A customer's team is staff's.
		{"owner makes another user owner", "owner", "POST", "/api/customers/{customer}/add_user/", `{"user":"{user:newbie}","role":"CUSTOMER.OWNER"}`, 403},
		{"owner removes a co-owner", "owner", "POST", "/api/customers/{customer}/delete_user/", `{"user":"{user:victim}","role":"CUSTOMER.OWNER"}`, 403},
		{"owner invites a customer owner", "owner", "POST", "/api/user-invitations/", `{"scope":"http://x/api/customers/{customer}/","role":"{role:CUSTOMER.OWNER}","email":"someone@example.com"}`, 403},
		// 4. Registering a service provider is staff's.
		{"owner registers a service provider", "owner", "POST", "/api/marketplace-service-providers/", `{"customer":"{customer2}"}`, 403},
		// 5. A service provider manager does not report usage.
		{"customer manager reports usage", "custmgr", "POST", "/api/marketplace-component-usages/set_usage/", `{"resource":"{resource}","usages":[{"type":"hours","amount":"1.5"}]}`, 403},
		// 6. Provider SSH keys need SERVICE_PROVIDER.LIST_KEYS.
		{"customer support lists provider keys", "custsupport", "GET", "/api/marketplace-service-providers/{service-provider}/keys/", "", 403},
		{"owner lists provider keys", "owner", "GET", "/api/marketplace-service-providers/{service-provider}/keys/", "", 200},
		// 7. Import into a shared offering is staff's.
		{"owner imports into a shared offering", "owner", "POST", "/api/marketplace-provider-offerings/{offering}/import_resource/", `{"backend_id":"x","project":"{project}"}`, 403},
		{"owner lists importable resources of a shared offering", "owner", "GET", "/api/marketplace-provider-offerings/{offering}/importable_resources/", "", 403},
		// 8. RESOURCE.SET_STATE is what set_as_ok, set_as_erred and set_limits check.
		{"RESOURCE.SET_STATE sets a resource OK", "stater", "POST", "/api/marketplace-provider-resources/{resource}/set_as_ok/", "", 200},
		{"RESOURCE.SET_STATE sets provider limits", "stater", "POST", "/api/marketplace-provider-resources/{resource}/set_limits/", `{"limits":{}}`, 200},
		{"RESOURCE.SET_STATE sets a resource erred", "stater", "POST", "/api/marketplace-provider-resources/{resource}/set_as_erred/", "", 200},
		// 9. An event by UUID without ?scope is staff's and support's.
		{"member fetches an event without scope", "member", "GET", "/api/events/{event}/", "", 404},
		{"member fetches an event of its project", "member", "GET", "/api/events/{event}/?scope=http://x/api/projects/{project}/", "", 200},
		// 10. The overview of an active offering is staff's.
		{"owner updates an active offering's overview", "owner", "POST", "/api/marketplace-provider-offerings/{offering}/update_overview/", `{"name":"Consulting","description":"d"}`, 403},
		{"staff updates an active offering's overview", "staff", "POST", "/api/marketplace-provider-offerings/{offering}/update_overview/", `{"name":"Consulting","description":"d"}`, 200},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := seedWorldOn(t, db)
		seedWaldurCallers(t, w)
		role, err := store.New(db).RoleByName(context.Background(), models.RoleCustomerOwner)
		require.NoError(t, err)
		w.ids["{role:CUSTOMER.OWNER}"] = role.UUID.String()
		srv, err := app.NewAPI(db, nil, quiet, "default")
		require.NoError(t, err)
		// One database per dialect: the cases are ordered so that none
		// changes what a later one reads.
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body io.Reader
				if c.body != "" {
					body = bytes.NewBufferString(w.expand(c.body))
				}
				req := httptest.NewRequest(c.method, w.expand(c.path), body)
				if c.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Token "+w.tokens[c.user])
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				require.Equal(t, c.want, rec.Code, "%s %s as %s: %s", c.method, req.URL.String(), c.user, rec.Body.String())
			})
		}
	})
}
