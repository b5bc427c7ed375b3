package permissions_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/permissions"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func (f *fx) customRole(name string) *models.Role {
	f.t.Helper()
	r, err := f.st.CreateRole(context.Background(), store.RoleInput{Name: name, Description: "Custom " + name,
		ContentType: models.ScopeProject, Permissions: []models.Permission{"PROJECT.LIST"}})
	require.NoError(f.t, err)
	return r
}

// TestRolesPermissionMatrix: every /api/roles/ route for every kind of
// caller. Reads are open to anyone (Waldur's IsAdminOrReadOnly), changes
// are staff only.
func TestRolesPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		write := func(staff int) map[string]int {
			m := map[string]int{"anonymous": 401, "staff": staff}
			for _, u := range callers {
				if _, ok := m[u]; !ok {
					m[u] = 403
				}
			}
			return m
		}
		read := map[string]int{}
		for _, u := range callers {
			read[u] = 200
		}
		routes := []struct {
			name   string
			method string
			path   string // %s: a fresh custom role's UUID
			body   func(user string) any
			want   map[string]int
		}{
			{"list", "GET", "/api/roles/", nil, read},
			{"count", "HEAD", "/api/roles/", nil, read},
			{"retrieve", "GET", "/api/roles/%s/", nil, read},
			{"create", "POST", "/api/roles/", func(u string) any {
				return map[string]any{"name": "PROJECT.NEW_" + u, "content_type": "project", "permissions": []string{"PROJECT.LIST"}}
			}, write(201)},
			{"update", "PUT", "/api/roles/%s/", func(u string) any {
				return map[string]any{"name": "PROJECT.PUT_" + u, "description": "d", "content_type": "project", "permissions": []string{}}
			}, write(200)},
			{"partial update", "PATCH", "/api/roles/%s/", func(string) any { return map[string]any{"description": "new"} }, write(200)},
			{"enable", "POST", "/api/roles/%s/enable/", nil, write(200)},
			{"disable", "POST", "/api/roles/%s/disable/", nil, write(200)},
			{"update descriptions", "PUT", "/api/roles/%s/update_descriptions/", func(string) any { return map[string]any{"description": "x"} }, write(200)},
			{"destroy", "DELETE", "/api/roles/%s/", nil, write(204)},
		}
		n := 0
		for _, r := range routes {
			for _, u := range callers {
				t.Run(r.name+"/"+u, func(t *testing.T) {
					n++
					role := f.customRole("PROJECT.CUSTOM_" + strconv.Itoa(n))
					path := strings.ReplaceAll(r.path, "%s", role.UUID.String())
					var body any
					if r.body != nil {
						body = r.body(u)
					}
					w := f.call(u, r.method, path, body)
					require.Equal(t, r.want[u], w.Code, w.Body.String())
				})
			}
		}
	})
}

func TestRoleShapesAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		w := f.call("staff", "GET", "/api/roles/?page_size=50", nil)
		require.Equal(t, 200, w.Code)
		roles := decode[[]permissions.RoleDetails](t, w)
		require.Len(t, roles, 7)
		require.Equal(t, "7", w.Header().Get("X-Result-Count"))
		byName := map[string]permissions.RoleDetails{}
		for i, r := range roles {
			byName[r.Name] = r
			if i > 0 {
				require.Less(t, roles[i-1].Name, r.Name, "ordered by name")
			}
		}
		owner := byName[models.RoleCustomerOwner]
		require.True(t, owner.IsSystemRole)
		require.Equal(t, "customer", owner.ContentType)
		require.Contains(t, owner.Permissions, "CUSTOMER.UPDATE")
		require.NotContains(t, owner.Permissions, "CUSTOMER.CREATE_PERMISSION", "a customer's team is staff's, as in Waldur")
		require.NotNil(t, owner.UsersCount)
		require.Equal(t, int64(2), *owner.UsersCount, "owner and owner2")
		require.False(t, byName[models.RoleCustomerManager].IsActive)

		// users_count is for staff and support only.
		w = f.call("plain", "GET", "/api/roles/", nil)
		require.NotContains(t, w.Body.String(), "users_count")
		w = f.call("support", "GET", "/api/roles/", nil)
		require.Contains(t, w.Body.String(), "users_count")

		cases := []struct {
			query string
			want  []string
		}{
			{"name=project.", []string{models.RoleProjectAdmin, models.RoleProjectManager, models.RoleProjectMember}},
			{"name=owner", []string{models.RoleCustomerOwner}},
			{"description=organization", []string{models.RoleCustomerOwner, models.RoleCustomerSupport}},
			{"description=service+provider", []string{models.RoleCustomerManager}},
			{"is_active=false", []string{models.RoleCustomerManager, models.RoleCustomerSupport}},
			{"content_type=offering&content_type=customer&is_active=true", []string{models.RoleCustomerOwner, models.RoleOfferingManager}},
			{"name=%25", nil},
			{"o=-name&name=project", []string{models.RoleProjectMember, models.RoleProjectManager, models.RoleProjectAdmin}},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				w := f.call("plain", "GET", "/api/roles/?"+c.query, nil)
				require.Equal(t, 200, w.Code)
				var names []string
				for _, r := range decode[[]permissions.RoleDetails](t, w) {
					names = append(names, r.Name)
				}
				require.Equal(t, c.want, names)
			})
		}
		require.Equal(t, 400, f.call("plain", "GET", "/api/roles/?is_active=maybe", nil).Code)
		w = f.call("anonymous", "HEAD", "/api/roles/?is_active=false", nil)
		require.Equal(t, 200, w.Code)
		require.Equal(t, "2", w.Header().Get("X-Result-Count"))
		require.Empty(t, w.Body.String())
		require.Equal(t, 404, f.call("plain", "GET", "/api/roles/"+models.NewUUID().String()+"/", nil).Code)
		require.Equal(t, 404, f.call("plain", "GET", "/api/roles/not-a-uuid/", nil).Code)
	})
}

func TestRoleValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		owner := f.role(models.RoleCustomerOwner)
		custom := f.customRole("PROJECT.REVIEWER")
		f.grant("plain", "PROJECT.REVIEWER", f.p1)
		cases := []struct {
			name   string
			method string
			path   string
			body   any
			want   string
		}{
			{"missing fields", "POST", "/api/roles/", map[string]any{}, `{"content_type":["This field is required."],"name":["This field is required."],"permissions":["This field is required."]}`},
			{"unknown permission", "POST", "/api/roles/", map[string]any{"name": "X", "content_type": "project", "permissions": []string{"PROJECT.FLY"}}, `{"permissions":["Invalid permissions PROJECT.FLY"]}`},
			{"permissions not a list", "POST", "/api/roles/", map[string]any{"name": "X", "content_type": "project", "permissions": "PROJECT.LIST"}, `{"permissions":["Expected a list of items but got type \"str\"."]}`},
			{"bad content type", "POST", "/api/roles/", map[string]any{"name": "X", "content_type": "planet", "permissions": []string{}}, `{"content_type":["Invalid content type."]}`},
			{"name taken", "POST", "/api/roles/", map[string]any{"name": models.RoleProjectAdmin, "content_type": "project", "permissions": []string{}}, `{"non_field_errors":["Name should be unique."]}`},
			{"name too long", "POST", "/api/roles/", map[string]any{"name": strings.Repeat("x", 151), "content_type": "project", "permissions": []string{}}, `{"name":["Ensure this field has no more than 150 characters."]}`},
			{"wrong type", "POST", "/api/roles/", map[string]any{"name": 5, "content_type": "project", "permissions": []string{}}, `{"name":["Not a valid string."]}`},
			{"not an object", "POST", "/api/roles/", `[1]`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
			{"rename a system role", "PUT", "/api/roles/" + owner.UUID.String() + "/", map[string]any{"name": "CUSTOMER.BOSS", "content_type": "customer", "permissions": []string{}}, `{"non_field_errors":["Changing name for system role is not possible."]}`},
			{"re-scope a role in use", "PATCH", "/api/roles/" + custom.UUID.String() + "/", map[string]any{"content_type": "customer"}, `{"content_type":["Content type of a role that is still used cannot be changed."]}`},
			{"destroy a system role", "DELETE", "/api/roles/" + owner.UUID.String() + "/", nil, `{"non_field_errors":["Destroying of system role is not available."]}`},
			{"destroy a role in use", "DELETE", "/api/roles/" + custom.UUID.String() + "/", nil, `{"non_field_errors":["Role is still used."]}`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.call("staff", c.method, c.path, c.body)
				require.Equal(t, 400, w.Code, w.Body.String())
				require.JSONEq(t, c.want, w.Body.String())
			})
		}
		require.Equal(t, 404, f.call("staff", "DELETE", "/api/roles/"+models.NewUUID().String()+"/", nil).Code)
	})
}

// TestRoleChangesApplyAtOnce: a permission removed through the API, or a
// disabled role, stops granting at the very next check; enabling or
// restoring grants again.
func TestRoleChangesApplyAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		pm := f.role(models.RoleProjectManager)
		w := f.call("staff", "GET", "/api/roles/"+pm.UUID.String()+"/", nil)
		require.Equal(t, 200, w.Code)
		before := decode[permissions.RoleDetails](t, w)
		require.Contains(t, before.Permissions, "PROJECT.UPDATE")
		require.True(t, f.has("pmanager", models.PermProjectUpdate, f.p1.Scope))

		var without []string
		for _, p := range before.Permissions {
			if p != "PROJECT.UPDATE" {
				without = append(without, p)
			}
		}
		w = f.call("staff", "PUT", "/api/roles/"+pm.UUID.String()+"/", map[string]any{
			"name": pm.Name, "description": pm.Description, "content_type": "project", "permissions": without})
		require.Equal(t, 200, w.Code, w.Body.String())
		after := decode[permissions.RoleDetails](t, w)
		require.NotContains(t, after.Permissions, "PROJECT.UPDATE")
		require.Equal(t, int64(1), *after.UsersCount)
		require.False(t, f.has("pmanager", models.PermProjectUpdate, f.p1.Scope), "the removed permission no longer grants")
		require.True(t, f.has("pmanager", models.PermProjectCreatePermission, f.p1.Scope))

		w = f.call("staff", "POST", "/api/roles/"+pm.UUID.String()+"/disable/", nil)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"detail":"The role PROJECT.MANAGER has been disabled"}`, w.Body.String())
		require.False(t, f.has("pmanager", models.PermProjectCreatePermission, f.p1.Scope), "a disabled role grants nothing")
		w = f.call("staff", "GET", "/api/roles/?is_active=false&name=project.manager", nil)
		require.Equal(t, "1", w.Header().Get("X-Result-Count"))
		require.Equal(t, 200, f.call("staff", "POST", "/api/roles/"+pm.UUID.String()+"/disable/", nil).Code, "disabling twice is fine")

		w = f.call("staff", "POST", "/api/roles/"+pm.UUID.String()+"/enable/", nil)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"detail":"The role PROJECT.MANAGER has been enabled"}`, w.Body.String())
		require.True(t, f.has("pmanager", models.PermProjectCreatePermission, f.p1.Scope))

		w = f.call("staff", "PATCH", "/api/roles/"+pm.UUID.String()+"/", map[string]any{"permissions": before.Permissions, "description": "Runs projects"})
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, "Runs projects", decode[permissions.RoleDetails](t, w).Description)
		require.True(t, f.has("pmanager", models.PermProjectUpdate, f.p1.Scope))

		// A new role grants what it says once granted; destroy after revoke.
		w = f.call("staff", "POST", "/api/roles/", map[string]any{"name": "PROJECT.UPDATER", "content_type": "project",
			"permissions": []string{"PROJECT.UPDATE"}, "description": "Updates"})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		created := decode[permissions.RoleDetails](t, w)
		require.False(t, created.IsSystemRole)
		require.True(t, created.IsActive)
		require.Equal(t, int64(0), *created.UsersCount)
		f.grant("member", "PROJECT.UPDATER", f.p1)
		require.True(t, f.has("member", models.PermProjectUpdate, f.p1.Scope))
		w = f.call("staff", "DELETE", "/api/roles/"+created.UUID.String()+"/", nil)
		require.Equal(t, 400, w.Code)
		ctx := context.Background()
		role := f.role("PROJECT.UPDATER")
		require.NoError(t, f.st.RevokeRole(ctx, store.Grant{User: f.users["member"], Role: role, Scope: f.p1.Scope, CustomerID: f.c1.ID, ScopeName: "p1"}))
		require.Equal(t, 204, f.call("staff", "DELETE", "/api/roles/"+created.UUID.String()+"/", nil).Code)
		require.Equal(t, 404, f.call("staff", "GET", "/api/roles/"+created.UUID.String()+"/", nil).Code)
	})
}

// TestRoleDescriptionsByLanguage: a role's description in Waldur's
// languages (description_<lang>): English is the description itself, the
// others are null until given, set by create, PATCH and
// update_descriptions, removed by null, and kept across other changes.
func TestRoleDescriptionsByLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		w := f.call("staff", "POST", "/api/roles/", map[string]any{"name": "PROJECT.REVIEWER", "content_type": "project",
			"permissions": []string{}, "description": "Reviews", "description_et": "Hindab"})
		require.Equal(t, 201, w.Code, w.Body.String())
		var got map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, "Reviews", got["description_en"], "English is the description")
		require.Equal(t, "Hindab", got["description_et"])
		for _, lang := range models.DescriptionLanguages[2:] {
			require.Contains(t, got, "description_"+lang)
			require.Nil(t, got["description_"+lang], lang)
		}
		uuid := got["uuid"].(string)

		w = f.call("staff", "PUT", "/api/roles/"+uuid+"/update_descriptions/", map[string]any{
			"description_en": "New English description", "description_de": "Prüft", "description_et": nil})
		require.Equal(t, 200, w.Code, w.Body.String())
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, "New English description", got["description"])
		require.Equal(t, "New English description", got["description_en"])
		require.Equal(t, "Prüft", got["description_de"])
		require.Nil(t, got["description_et"], "null removes a language")

		w = f.call("staff", "PATCH", "/api/roles/"+uuid+"/", map[string]any{"is_active": false, "description_fr": "Examine"})
		require.Equal(t, 200, w.Code, w.Body.String())
		w = f.call("plain", "GET", "/api/roles/"+uuid+"/", nil)
		require.Equal(t, 200, w.Code)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, "Prüft", got["description_de"], "kept across other changes")
		require.Equal(t, "Examine", got["description_fr"])
		require.Equal(t, false, got["is_active"])

		w = f.call("staff", "PATCH", "/api/roles/"+uuid+"/", map[string]any{"description_cs": strings.Repeat("x", 4097)})
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"description_cs":["Ensure this field has no more than 4096 characters."]}`, w.Body.String())
		w = f.call("plain", "GET", "/api/roles/"+uuid+"/", nil)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Nil(t, got["description_cs"], "a refused change changes nothing")

		// A system role seeded without translations answers null for them.
		w = f.call("plain", "GET", "/api/roles/"+f.role(models.RoleCustomerOwner).UUID.String()+"/", nil)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, got["description"], got["description_en"])
		require.Nil(t, got["description_de"])
	})
}
