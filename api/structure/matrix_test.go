package structure_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// callers are the columns of the matrix.
var callers = []string{"anonymous", "plain", "member", "admin", "manager", "owner", "support", "staff"}

// expect builds a row from statuses in the order of callers.
func expect(codes ...int) map[string]int {
	if len(codes) != len(callers) {
		panic("one status per caller")
	}
	out := map[string]int{}
	for i, c := range callers {
		out[c] = codes[i]
	}
	return out
}

// TestPermissionMatrix: every route × every kind of caller → the status,
// from one table. Each cell runs in a fresh world (a customer with a
// project where owner, admin, manager and member hold their roles; target
// holds CUSTOMER.OWNER and PROJECT.MEMBER for the update/delete actions).
func TestPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		type fixture struct {
			*world
			ptype *models.ProjectType
		}
		target := func(role string) func(f fixture) any {
			return func(f fixture) any {
				return map[string]any{"user": e.users["target"].UUID.String(), "role": role, "expiration_time": "2030-01-01"}
			}
		}
		rows := []struct {
			name   string
			method string
			path   func(f fixture) string
			body   func(f fixture) any
			want   map[string]int
		}{
			//                                                               anon plain member admin manager owner support staff
			{"list customers", "GET", func(fixture) string { return "/api/customers/" }, nil, expect(401, 200, 200, 200, 200, 200, 200, 200)},
			{"head customers", "HEAD", func(fixture) string { return "/api/customers/" }, nil, expect(401, 200, 200, 200, 200, 200, 200, 200)},
			{"retrieve customer", "GET", func(f fixture) string { return customerPath(f.customer) }, nil, expect(401, 404, 200, 200, 200, 200, 200, 200)},
			{"create customer", "POST", func(fixture) string { return "/api/customers/" }, func(fixture) any { return map[string]any{"name": "New"} },
				expect(401, 403, 403, 403, 403, 403, 403, 201)},
			{"update customer", "PATCH", func(f fixture) string { return customerPath(f.customer) }, func(fixture) any { return map[string]any{"name": "N"} },
				expect(401, 404, 403, 403, 403, 200, 403, 200)},
			{"replace customer", "PUT", func(f fixture) string { return customerPath(f.customer) }, func(fixture) any { return map[string]any{"name": "N"} },
				expect(401, 404, 403, 403, 403, 200, 403, 200)},
			{"delete customer with a project", "DELETE", func(f fixture) string { return customerPath(f.customer) }, nil,
				expect(401, 404, 403, 403, 403, 409, 403, 204)},
			{"customer team", "GET", func(f fixture) string { return customerPath(f.customer) + "list_users/" }, nil,
				expect(401, 404, 200, 200, 200, 200, 200, 200)},
			{"customer add_user", "POST", func(f fixture) string { return customerPath(f.customer) + "add_user/" },
				func(fixture) any {
					return map[string]any{"user": e.users["plain"].UUID.String(), "role": "CUSTOMER.OWNER"}
				},
				// A customer's team is staff's (CUSTOMER.*_PERMISSION is no default role's).
				expect(401, 404, 403, 403, 403, 403, 403, 201)},
			{"customer update_user", "POST", func(f fixture) string { return customerPath(f.customer) + "update_user/" },
				target("CUSTOMER.OWNER"), expect(401, 404, 403, 403, 403, 403, 403, 200)},
			{"customer delete_user", "POST", func(f fixture) string { return customerPath(f.customer) + "delete_user/" },
				target("CUSTOMER.OWNER"), expect(401, 404, 403, 403, 403, 403, 403, 200)},
			{"list projects", "GET", func(fixture) string { return "/api/projects/" }, nil, expect(401, 200, 200, 200, 200, 200, 200, 200)},
			{"retrieve project", "GET", func(f fixture) string { return projectPath(f.project) }, nil, expect(401, 404, 200, 200, 200, 200, 200, 200)},
			{"create project", "POST", func(fixture) string { return "/api/projects/" },
				func(f fixture) any { return map[string]any{"name": "New", "customer": f.customer.UUID.String()} },
				expect(401, 400, 403, 403, 403, 201, 403, 201)},
			{"update project", "PATCH", func(f fixture) string { return projectPath(f.project) }, func(fixture) any { return map[string]any{"name": "N"} },
				expect(401, 404, 403, 403, 200, 200, 403, 200)},
			{"replace project", "PUT", func(f fixture) string { return projectPath(f.project) }, func(fixture) any { return map[string]any{"name": "N"} },
				expect(401, 404, 403, 403, 200, 200, 403, 200)},
			{"delete project", "DELETE", func(f fixture) string { return projectPath(f.project) }, nil,
				expect(401, 404, 403, 403, 403, 204, 403, 204)},
			{"project team", "GET", func(f fixture) string { return projectPath(f.project) + "list_users/" }, nil,
				expect(401, 404, 200, 200, 200, 200, 200, 200)},
			{"project add_user", "POST", func(f fixture) string { return projectPath(f.project) + "add_user/" },
				func(fixture) any {
					return map[string]any{"user": e.users["plain"].UUID.String(), "role": "PROJECT.ADMIN"}
				},
				expect(401, 404, 403, 403, 201, 201, 403, 201)},
			{"project update_user", "POST", func(f fixture) string { return projectPath(f.project) + "update_user/" },
				target("PROJECT.MEMBER"), expect(401, 404, 403, 403, 200, 200, 403, 200)},
			{"project delete_user", "POST", func(f fixture) string { return projectPath(f.project) + "delete_user/" },
				target("PROJECT.MEMBER"), expect(401, 404, 403, 403, 200, 200, 403, 200)},
			{"list project types", "GET", func(fixture) string { return "/api/project-types/" }, nil, expect(401, 200, 200, 200, 200, 200, 200, 200)},
			{"retrieve project type", "GET", func(f fixture) string { return "/api/project-types/" + f.ptype.UUID.String() + "/" }, nil,
				expect(401, 200, 200, 200, 200, 200, 200, 200)},
			{"create project type", "POST", func(fixture) string { return "/api/project-types/" }, func(fixture) any { return map[string]any{"name": "T"} },
				expect(401, 403, 403, 403, 403, 403, 403, 201)},
			{"update project type", "PATCH", func(f fixture) string { return "/api/project-types/" + f.ptype.UUID.String() + "/" },
				func(fixture) any { return map[string]any{"name": "T2"} }, expect(401, 403, 403, 403, 403, 403, 403, 200)},
			{"delete project type", "DELETE", func(f fixture) string { return "/api/project-types/" + f.ptype.UUID.String() + "/" }, nil,
				expect(401, 403, 403, 403, 403, 403, 403, 204)},
		}
		for _, row := range rows {
			for _, who := range callers {
				t.Run(row.name+"/"+who, func(t *testing.T) {
					w := e.world()
					e.grant("target", models.RoleCustomerOwner, w.customer.Scope(), w.customer.ID)
					e.grant("target", models.RoleProjectMember, w.project.Scope(), w.customer.ID)
					pt := &models.ProjectType{Name: "Type"}
					require.NoError(t, e.st.CreateProjectType(context.Background(), pt))
					f := fixture{world: w, ptype: pt}
					var body any
					if row.body != nil {
						body = row.body(f)
					}
					e.ok(row.want[who], row.method, row.path(f), who, body, nil)
				})
			}
		}
	})
}

// TestTenantIsolation: on random data, no user ever sees a customer or
// project of a customer where they hold no role (directly or through one of
// its projects), in lists or by UUID.
func TestTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		rng := rand.New(rand.NewSource(42))
		ctx := context.Background()
		var users []*models.User
		for i := 0; i < 6; i++ {
			u := &models.User{Username: fmt.Sprintf("u%d", i), IsActive: true}
			require.NoError(t, e.st.CreateUser(ctx, u, ""))
			tok, err := e.st.EnsureToken(ctx, u.ID)
			require.NoError(t, err)
			e.users[u.Username], e.toks[u.Username] = u, tok.Key
			users = append(users, u)
		}
		type cust struct {
			c        *models.Customer
			projects []*models.Project
		}
		var all []cust
		custRoles := []string{models.RoleCustomerOwner}
		projRoles := []string{models.RoleProjectAdmin, models.RoleProjectManager, models.RoleProjectMember}
		// seesCustomer[user][customer id], seesProject[user][project id]: the expected visibility.
		seesCustomer, seesProject := map[string]map[int64]bool{}, map[string]map[int64]bool{}
		for _, u := range users {
			seesCustomer[u.Username], seesProject[u.Username] = map[int64]bool{}, map[int64]bool{}
		}
		for i := 0; i < 8; i++ {
			cu := e.newCustomer(fmt.Sprintf("C%d", i))
			entry := cust{c: cu}
			for j := 0; j < 1+rng.Intn(3); j++ {
				entry.projects = append(entry.projects, e.newProject(cu, fmt.Sprintf("C%d-P%d", i, j)))
			}
			all = append(all, entry)
			for _, u := range users {
				switch rng.Intn(4) {
				case 0: // a customer role: the customer and all its projects
					e.grant(u.Username, custRoles[0], cu.Scope(), cu.ID)
					seesCustomer[u.Username][cu.ID] = true
					for _, p := range entry.projects {
						seesProject[u.Username][p.ID] = true
					}
				case 1: // a role in one project: the customer and that project
					p := entry.projects[rng.Intn(len(entry.projects))]
					e.grant(u.Username, projRoles[rng.Intn(len(projRoles))], p.Scope(), cu.ID)
					seesCustomer[u.Username][cu.ID] = true
					seesProject[u.Username][p.ID] = true
				}
			}
		}
		for _, u := range users {
			var wantC, wantP []string
			for _, c := range all {
				if seesCustomer[u.Username][c.c.ID] {
					wantC = append(wantC, c.c.UUID.String())
				}
				for _, p := range c.projects {
					if seesProject[u.Username][p.ID] {
						wantP = append(wantP, p.UUID.String())
					}
				}
			}
			gotC := uuids(t, e.ok(200, "GET", "/api/customers/?page_size=300", u.Username, nil, nil))
			gotP := uuids(t, e.ok(200, "GET", "/api/projects/?page_size=300", u.Username, nil, nil))
			slices.Sort(wantC)
			slices.Sort(wantP)
			slices.Sort(gotC)
			slices.Sort(gotP)
			require.Equal(t, nilIfEmpty(wantC), nilIfEmpty(gotC), u.Username)
			require.Equal(t, nilIfEmpty(wantP), nilIfEmpty(gotP), u.Username)
			for _, c := range all {
				want := 404
				if seesCustomer[u.Username][c.c.ID] {
					want = 200
				}
				require.Equal(t, want, e.do("GET", customerPath(c.c), u.Username, nil).Code)
				require.Equal(t, want, e.do("GET", customerPath(c.c)+"list_users/", u.Username, nil).Code)
				for _, p := range c.projects {
					want := 404
					if seesProject[u.Username][p.ID] {
						want = 200
					}
					require.Equal(t, want, e.do("GET", projectPath(p), u.Username, nil).Code)
				}
			}
		}
	})
}
