package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestTenantIsolation: on random organizations, projects and grants, no
// user ever sees (in any list, page after page) a customer, project,
// invitation, event or user of a customer where they hold no role.
func TestTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewSource(seed))
		ctx := context.Background()
		st := store.New(db)
		now := time.Now().UTC()

		const nCustomers, nProjects, nUsers = 6, 3, 14
		type cust struct {
			id   int64
			uuid string
		}
		var customers []cust
		projectCustomer := map[string]string{} // project uuid -> customer uuid
		var projects []struct {
			id, customer int64
			uuid         string
		}
		for i := 0; i < nCustomers; i++ {
			u := models.NewUUID()
			require.NoError(t, db.Table("customers").Create(map[string]any{"uuid": u, "name": fmt.Sprintf("org %d", i), "accounting_start_date": now, "created": now, "modified": now}).Error)
			var id int64
			require.NoError(t, db.Raw("SELECT id FROM customers WHERE uuid = ?", u).Scan(&id).Error)
			customers = append(customers, cust{id, u.String()})
			for j := 0; j < nProjects; j++ {
				pu := models.NewUUID()
				require.NoError(t, db.Table("projects").Create(map[string]any{"uuid": pu, "name": fmt.Sprintf("p %d-%d", i, j), "customer_id": id, "created": now, "modified": now}).Error)
				var pid int64
				require.NoError(t, db.Raw("SELECT id FROM projects WHERE uuid = ?", pu).Scan(&pid).Error)
				projects = append(projects, struct {
					id, customer int64
					uuid         string
				}{pid, id, pu.String()})
				projectCustomer[pu.String()] = u.String()
			}
		}
		roles := map[string]*models.Role{}
		for _, n := range []string{models.RoleCustomerOwner, models.RoleProjectAdmin, models.RoleProjectManager, models.RoleProjectMember} {
			r, err := st.RoleByName(ctx, n)
			require.NoError(t, err)
			roles[n] = r
		}
		type person struct {
			user  *models.User
			token string
			orgs  map[string]bool // customer uuids where the user holds a role (directly or in a project)
		}
		var people []*person
		for i := 0; i < nUsers; i++ {
			u := &models.User{Username: fmt.Sprintf("user%d", i), IsActive: true}
			require.NoError(t, st.CreateUser(ctx, u, ""))
			tok, err := st.EnsureToken(ctx, u.ID)
			require.NoError(t, err)
			p := &person{user: u, token: tok.Key, orgs: map[string]bool{}}
			for k := rng.Intn(3); k > 0; k-- {
				if rng.Intn(2) == 0 {
					c := customers[rng.Intn(len(customers))]
					if _, err := st.GrantRole(ctx, store.Grant{User: u, Role: roles[models.RoleCustomerOwner], Scope: models.Scope{Type: models.ScopeCustomer, ID: c.id}, CustomerID: c.id, EventScopes: []models.Scope{{Type: models.ScopeCustomer, ID: c.id}}}); err == nil {
						p.orgs[c.uuid] = true
					}
				} else {
					pr := projects[rng.Intn(len(projects))]
					role := []string{models.RoleProjectAdmin, models.RoleProjectManager, models.RoleProjectMember}[rng.Intn(3)]
					if _, err := st.GrantRole(ctx, store.Grant{User: u, Role: roles[role], Scope: models.Scope{Type: models.ScopeProject, ID: pr.id}, CustomerID: pr.customer,
						EventScopes: []models.Scope{{Type: models.ScopeProject, ID: pr.id}, {Type: models.ScopeCustomer, ID: pr.customer}}}); err == nil {
						p.orgs[projectCustomer[pr.uuid]] = true
					}
				}
			}
			people = append(people, p)
		}
		// Events on every project, and invitations in every customer.
		for _, pr := range projects {
			require.NoError(t, st.EmitEvent(ctx, &models.Event{EventType: "project_update_succeeded", Message: "changed",
				Scopes: []models.Scope{{Type: models.ScopeProject, ID: pr.id}, {Type: models.ScopeCustomer, ID: pr.customer}}}))
			require.NoError(t, db.Table("invitations").Create(map[string]any{"uuid": models.NewUUID(), "customer_id": pr.customer, "scope_type": "project",
				"scope_id": pr.id, "role_id": roles[models.RoleProjectMember].ID, "state": "pending", "email": "x@example.com", "created": now, "modified": now}).Error)
		}

		srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
		require.NoError(t, err)
		all := func(p *person, path string) []map[string]any {
			var out []map[string]any
			for page := 1; ; page++ {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("%s%spage=%d&page_size=7", path, sep, page), nil)
				req.Header.Set("Authorization", "Token "+p.token)
				w := httptest.NewRecorder()
				srv.Handler().ServeHTTP(w, req)
				if w.Code == http.StatusNotFound && page > 1 {
					return out
				}
				require.Equal(t, 200, w.Code, "%s: %s", path, w.Body.String())
				var items []map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &items))
				out = append(out, items...)
				if len(items) < 7 {
					return out
				}
			}
		}
		seen := 0
		for _, p := range people {
			seen += len(all(p, "/api/projects/"))
			for _, c := range all(p, "/api/customers/") {
				require.True(t, p.orgs[c["uuid"].(string)], "%s sees customer %v", p.user.Username, c["name"])
			}
			for _, pr := range all(p, "/api/projects/") {
				require.True(t, p.orgs[pr["customer_uuid"].(string)], "%s sees project %v", p.user.Username, pr["name"])
			}
			for _, inv := range all(p, "/api/user-invitations/") {
				require.True(t, p.orgs[inv["customer_uuid"].(string)], "%s sees an invitation of customer %v", p.user.Username, inv["customer_name"])
			}
			for _, c := range customers {
				evs := all(p, "/api/events/?scope=http://x/api/customers/"+c.uuid+"/")
				if !p.orgs[c.uuid] {
					require.Empty(t, evs, "%s sees events of customer %s", p.user.Username, c.uuid)
				}
			}
			for _, u := range all(p, "/api/users/") {
				if u["uuid"] == p.user.UUID.String() {
					continue
				}
				var other *person
				for _, q := range people {
					if q.user.UUID.String() == u["uuid"] {
						other = q
					}
				}
				require.NotNil(t, other, "%s sees an unknown user %v", p.user.Username, u["username"])
				shared := false
				for org := range other.orgs {
					shared = shared || p.orgs[org]
				}
				require.True(t, shared, "%s sees user %s with no organization in common", p.user.Username, other.user.Username)
			}
		}
		require.Positive(t, seen, "the random grants let someone see something (else the test proves nothing)")
	})
}
