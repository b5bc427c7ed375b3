package structure_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

func TestProjectLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		cu := w.customer
		ptype := &models.ProjectType{Name: "Research", Description: "Science"}
		require.NoError(t, e.st.CreateProjectType(context.Background(), ptype))

		// Create by URL and by bare UUID.
		var p structure.Project
		e.ok(201, "POST", "/api/projects/", "owner", map[string]any{
			"name": "Genomics", "customer": "https://elsewhere.example/api/customers/" + cu.UUID.String() + "/",
			"description": "  DNA  ", "type": "/api/project-types/" + ptype.UUID.String() + "/",
			"oecd_fos_2007_code": "1.6", "is_industry": true, "backend_id": "g-1",
			"start_date": "2026-12-01", "end_date": "2027-06-30",
		}, &p)
		require.Equal(t, "Genomics", p.Name)
		require.Equal(t, "DNA", p.Description)
		require.Equal(t, "http://example.com/api/customers/"+cu.UUID.String()+"/", p.Customer)
		require.Equal(t, cu.UUID, p.CustomerUUID)
		require.Equal(t, cu.Name, p.CustomerName)
		require.Equal(t, "Research", *p.TypeName)
		require.Equal(t, ptype.UUID.String(), *p.TypeUUID)
		require.Equal(t, "1.6", *p.OECDFOS2007Code)
		require.Equal(t, "Biological sciences", p.OECDFOS2007Label)
		require.Equal(t, "2026-12-01", *p.StartDate)
		require.Equal(t, "2027-06-30", *p.EndDate)
		require.Equal(t, "http://example.com/api/users/"+e.users["owner"].UUID.String()+"/", *p.EndDateRequestedBy)
		require.Equal(t, []models.Quota{{Name: "nc_resource_count", Limit: -1}}, p.Quotas)
		require.Equal(t, "genomics-1", p.Slug)
		require.False(t, p.IsRemoved)
		require.Equal(t, models.Quota{Name: "nc_project_count", Usage: 2, Limit: -1}, e.quota(cu.Scope(), "nc_project_count"))

		var second structure.Project
		e.ok(201, "POST", "/api/projects/", "staff", map[string]any{"name": "Second", "customer": cu.UUID.Dashed()}, &second)
		require.Nil(t, second.Type)
		require.Nil(t, second.StartDate)
		require.Nil(t, second.OECDFOS2007Code)
		require.Equal(t, "", second.OECDFOS2007Label)

		proj, err := e.st.ProjectByUUID(context.Background(), p.UUID)
		require.NoError(t, err)
		require.Equal(t, []string{"project_creation_succeeded"}, e.events(proj.Scope()))
		require.Contains(t, e.events(cu.Scope()), "project_creation_succeeded")

		// Update by the manager of the project; customer is read-only.
		e.grant("manager", models.RoleProjectManager, proj.Scope(), cu.ID)
		other := e.newCustomer("Other")
		e.ok(200, "PATCH", projectPath(proj), "manager", map[string]any{"name": "Genomics II", "customer": other.UUID.String(),
			"type": nil, "oecd_fos_2007_code": ""}, &p)
		require.Equal(t, "Genomics II", p.Name)
		require.Equal(t, cu.UUID, p.CustomerUUID)
		require.Nil(t, p.Type)
		require.Nil(t, p.OECDFOS2007Code)
		// Setting end_date needs PROJECT.DELETE on the customer.
		r := e.do("PATCH", projectPath(proj), "manager", map[string]any{"end_date": "2027-01-01"})
		require.Equal(t, 403, r.Code, r.Body.String())
		e.ok(200, "PATCH", projectPath(proj), "manager", map[string]any{"end_date": nil}, &p)
		require.Nil(t, p.EndDate)
		require.Equal(t, []string{"project_creation_succeeded", "role_granted", "project_update_succeeded",
			"project_update_succeeded"}, e.events(proj.Scope()))

		// Soft delete by the owner.
		e.grant("member", models.RoleProjectMember, proj.Scope(), cu.ID)
		e.ok(204, "DELETE", projectPath(proj), "owner", nil, nil)
		require.Equal(t, models.Quota{Name: "nc_project_count", Usage: 2, Limit: -1}, e.quota(cu.Scope(), "nc_project_count"))
		evs := e.events(proj.Scope())
		require.Equal(t, []string{"role_revoked", "role_revoked", "project_deletion_succeeded"}, evs[len(evs)-3:])
		var active int64
		require.NoError(t, db.Table("user_roles").Where("scope_type = ? AND scope_id = ? AND is_active = ?", models.ScopeProject, proj.ID, true).Count(&active).Error)
		require.Zero(t, active)
		var history int64
		require.NoError(t, db.Table("user_roles").Where("scope_type = ? AND scope_id = ?", models.ScopeProject, proj.ID).Count(&history).Error)
		require.EqualValues(t, 2, history, "revoked grants stay as history")

		// Hidden from lists, reachable by UUID for the customer's owner, gone for the former member.
		lst := e.ok(200, "GET", "/api/projects/?customer="+cu.UUID.String(), "owner", nil, nil)
		require.NotContains(t, uuids(t, lst), proj.UUID.String())
		lst = e.ok(200, "GET", "/api/projects/?include_terminated=true&customer="+cu.UUID.String(), "owner", nil, nil)
		require.Contains(t, uuids(t, lst), proj.UUID.String())
		lst = e.ok(200, "GET", "/api/projects/?is_removed=true", "staff", nil, nil)
		require.Equal(t, []string{proj.UUID.String()}, uuids(t, lst))
		e.ok(200, "GET", projectPath(proj), "owner", nil, &p)
		require.True(t, p.IsRemoved)
		e.ok(404, "GET", projectPath(proj), "member", nil, nil)
		e.ok(404, "DELETE", projectPath(proj), "owner", nil, nil)
		e.ok(404, "PATCH", projectPath(proj), "staff", map[string]any{"name": "zombie"}, nil)
		r = e.do("POST", projectPath(proj)+"add_user/", "staff", map[string]any{"user": e.users["target"].UUID.String(), "role": "PROJECT.MEMBER"})
		require.Equal(t, 400, r.Code)
		require.Equal(t, []string{"Cannot manage team members for terminated projects."}, fieldErrors(t, r)["non_field_errors"])
		require.Equal(t, models.Quota{Name: "nc_project_count", Usage: 2, Limit: -1}, e.quota(cu.Scope(), "nc_project_count"),
			"the world's project and Second remain")
	})
}

func TestProjectValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		hidden := e.newCustomer("Hidden")
		cid := w.customer.UUID.String()
		cases := []struct {
			name string
			body any
			want map[string][]string
		}{
			{"nothing", map[string]any{}, map[string][]string{"name": {"This field is required."}, "customer": {"This field is required."}}},
			{"null customer", map[string]any{"name": "p", "customer": nil}, map[string][]string{"customer": {"This field may not be null."}}},
			{"empty customer", map[string]any{"name": "p", "customer": ""}, map[string][]string{"customer": {"This field may not be null."}}},
			{"garbage customer", map[string]any{"name": "p", "customer": "nope"}, map[string][]string{"customer": {"Invalid hyperlink - No URL match."}}},
			{"project URL as customer", map[string]any{"name": "p", "customer": "http://x/api/projects/" + cid + "/"}, map[string][]string{"customer": {"Invalid hyperlink - Incorrect URL match."}}},
			{"unknown customer", map[string]any{"name": "p", "customer": models.NewUUID().String()}, map[string][]string{"customer": {"Invalid hyperlink - Object does not exist."}}},
			{"invisible customer", map[string]any{"name": "p", "customer": hidden.UUID.String()}, map[string][]string{"customer": {"Invalid hyperlink - Object does not exist."}}},
			{"long name", map[string]any{"name": strings.Repeat("é", 501), "customer": cid}, map[string][]string{"name": {"Ensure this field has no more than 500 characters."}}},
			{"NUL in name", map[string]any{"name": "a\x00b", "customer": cid}, map[string][]string{"name": {"Null characters are not allowed."}}},
			{"past start", map[string]any{"name": "p", "customer": cid, "start_date": "2026-11-26"}, map[string][]string{"start_date": {"Cannot be earlier than the current date."}}},
			{"past end", map[string]any{"name": "p", "customer": cid, "end_date": "2020-01-01"}, map[string][]string{"end_date": {"Cannot be earlier than the current date."}}},
			{"bad date", map[string]any{"name": "p", "customer": cid, "start_date": "soon"}, map[string][]string{"start_date": {"Date has wrong format. Use one of these formats instead: YYYY-MM-DD."}}},
			{"date as number", map[string]any{"name": "p", "customer": cid, "start_date": 20270101}, map[string][]string{"start_date": {"Date has wrong format. Use one of these formats instead: YYYY-MM-DD."}}},
			{"bad oecd", map[string]any{"name": "p", "customer": cid, "oecd_fos_2007_code": "9.9"}, map[string][]string{"oecd_fos_2007_code": {`"9.9" is not a valid choice.`}}},
			{"bad type", map[string]any{"name": "p", "customer": cid, "type": models.NewUUID().String()}, map[string][]string{"type": {"Invalid hyperlink - Object does not exist."}}},
			{"bad industry", map[string]any{"name": "p", "customer": cid, "is_industry": []any{}}, map[string][]string{"is_industry": {"Must be a valid boolean."}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("POST", "/api/projects/", "owner", tc.body)
				require.Equal(t, 400, r.Code, r.Body.String())
				require.Equal(t, tc.want, fieldErrors(t, r))
			})
		}
		// Today is fine; a manager may not set an end date on create (PROJECT.DELETE on the customer).
		e.ok(201, "POST", "/api/projects/", "owner", map[string]any{"name": "p", "customer": cid, "start_date": "2026-11-27"}, nil)
		r := e.do("POST", "/api/projects/", "manager", map[string]any{"name": "p", "customer": cid, "end_date": "2027-01-01"})
		require.Equal(t, 403, r.Code)
	})
}

// TestProjectWithActiveResources: a project holding a resource that is not
// terminated cannot be deleted — 409, as Waldur answers — and stays; once
// its resources are terminated it can.
func TestProjectWithActiveResources(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		now := time.Now().UTC()
		ins := func(table string, v map[string]any) int64 {
			v["uuid"] = models.NewUUID()
			require.NoError(t, db.Table(table).Create(v).Error)
			var id int64
			require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", v["uuid"]).Scan(&id).Error)
			return id
		}
		cat := ins("categories", map[string]any{"title": "VMs", "created": now, "modified": now})
		off := ins("offerings", map[string]any{"name": "Cloud", "customer_id": w.customer.ID, "category_id": cat,
			"type": models.OfferingBasic, "state": models.OfferingActive, "created": now, "modified": now})
		res := ins("resources", map[string]any{"name": "vm", "project_id": w.project.ID, "offering_id": off,
			"state": models.ResourceOK, "limits": "{}", "created": now, "modified": now})
		r := e.do("DELETE", projectPath(w.project), "owner", nil)
		require.Equal(t, 409, r.Code, r.Body.String())
		require.JSONEq(t, `{"detail":"`+structure.MsgProjectHasResources+`"}`, r.Body.String())
		require.Equal(t, "Project contains active resources. Please remove them before deleting project.", structure.MsgProjectHasResources)
		e.ok(200, "GET", projectPath(w.project), "owner", nil, nil)
		for _, st := range []models.ResourceState{models.ResourceErred, models.ResourceCreating} {
			require.NoError(t, db.Table("resources").Where("id = ?", res).Update("state", st).Error)
			require.Equal(t, 409, e.do("DELETE", projectPath(w.project), "owner", nil).Code, "a resource %s", st)
		}
		require.NoError(t, db.Table("resources").Where("id = ?", res).Update("state", models.ResourceTerminated).Error)
		e.ok(204, "DELETE", projectPath(w.project), "owner", nil, nil)
	})
}

func TestProjectFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		acme := e.newCustomer("Acme", func(c *models.Customer) { c.NativeName, c.Abbreviation = "Akme", "AC" })
		zeta := e.newCustomer("Zeta", func(c *models.Customer) { c.Abbreviation = "ZT" })
		mk := func(cu *models.Customer, name string, mutate func(*models.Project)) *models.Project {
			p := &models.Project{Name: name}
			if mutate != nil {
				mutate(p)
			}
			require.NoError(t, e.st.CreateProject(e.ctx(), p, cu))
			return p
		}
		e.now = e.now.Add(-48 * 3600e9)
		old := mk(acme, "Old storage", func(p *models.Project) { p.BackendID, p.Description = "b-9", "Cold data" })
		e.now = e.now.Add(48 * 3600e9)
		hpc := mk(acme, "HPC", func(p *models.Project) {
			end := e.now.AddDate(1, 0, 0).Truncate(24 * time.Hour)
			p.Slug, p.EndDate = "hpc-x", &end
		})
		web := mk(zeta, "Web", nil)
		gone := mk(zeta, "Gone", nil)
		require.NoError(t, e.st.DeleteProject(e.ctx(), gone, zeta))
		e.grant("owner", models.RoleCustomerOwner, acme.Scope(), acme.ID)
		e.grant("manager", models.RoleProjectManager, web.Scope(), zeta.ID)
		e.grant("admin", models.RoleProjectAdmin, web.Scope(), zeta.ID)

		o, h, wb := old.UUID.String(), hpc.UUID.String(), web.UUID.String()
		cases := []struct {
			user, query string
			want        []string
		}{
			{"staff", "", []string{h, o, wb}},
			{"staff", "name=o", []string{o}},
			{"staff", "name_exact=HPC", []string{h}},
			{"staff", "slug=hpc-x", []string{h}},
			{"staff", "description=COLD", []string{o}},
			{"staff", "backend_id=b-9", []string{o}},
			{"staff", "customer=" + acme.UUID.String(), []string{h, o}},
			{"staff", "customer=" + acme.UUID.String() + "," + zeta.UUID.String(), []string{h, o, wb}},
			{"staff", "customer=" + zeta.UUID.String() + "&customer=" + acme.UUID.String(), []string{h, o, wb}},
			{"staff", "customer_uuid=" + zeta.UUID.String(), []string{wb}},
			{"staff", "customer_name=cm", []string{h, o}},
			{"staff", "customer_native_name=akm", []string{h, o}},
			{"staff", "customer_abbreviation=zt", []string{wb}},
			{"staff", "query=we", []string{wb}},
			{"staff", "query=" + o, []string{o}},
			{"staff", "created=2026-11-26", []string{h, wb}},
			{"staff", "o=-name", []string{wb, o, h}},
			{"staff", "o=-customer_name,name", []string{wb, h, o}},
			{"staff", "o=created", []string{o, h, wb}},
			{"staff", "o=end_date", []string{h, o, wb}},  // NULLs last ascending, as PostgreSQL
			{"staff", "o=-end_date", []string{o, wb, h}}, // and first descending
			{"staff", "conceal_finished_projects=true", []string{h, o, wb}},
			{"staff", "user_uuid=" + e.users["manager"].UUID.String(), []string{wb}},
			{"staff", "can_manage=true", nil},
			{"owner", "", []string{h, o}},
			{"owner", "can_manage=true", []string{h, o}},
			{"manager", "can_manage=true", []string{wb}},
			{"admin", "can_manage=true", nil},
			{"admin", "can_admin=true", []string{wb}},
			{"plain", "", nil},
			{"support", "", []string{h, o, wb}},
		}
		for _, tc := range cases {
			t.Run(tc.user+" "+tc.query, func(t *testing.T) {
				r := e.ok(200, "GET", "/api/projects/?"+tc.query, tc.user, nil, nil)
				require.Equal(t, tc.want, nilIfEmpty(uuids(t, r)))
			})
		}
		r := e.do("GET", "/api/projects/?customer=nope", "staff", nil)
		require.Equal(t, 400, r.Code)
		require.Equal(t, map[string][]string{"customer": {"Enter a valid UUID."}}, fieldErrors(t, r))
		r = e.do("GET", "/api/projects/?can_admin=maybe", "staff", nil)
		require.Equal(t, 400, r.Code)
	})
}

// TestParallelProjectCreation: 200 concurrent creations against
// nc_project_count = 20 create exactly 20 projects.
func TestParallelProjectCreation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		cu := e.newCustomer("Busy")
		e.grant("owner", models.RoleCustomerOwner, cu.Scope(), cu.ID)
		e.ok(200, "PATCH", customerPath(cu), "staff", map[string]any{"quotas": []any{map[string]any{"name": "nc_project_count", "limit": 20}}}, nil)
		var created, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do("POST", "/api/projects/", "owner", map[string]any{"name": "p", "customer": cu.UUID.String()})
				switch r.Code {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusBadRequest:
					refused.Add(1)
				default:
					t.Errorf("unexpected %d: %s", r.Code, r.Body.String())
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 20, created.Load())
		require.EqualValues(t, 180, refused.Load())
		var n int64
		require.NoError(t, db.Table("projects").Where("customer_id = ?", cu.ID).Count(&n).Error)
		require.EqualValues(t, 20, n)
		require.Equal(t, models.Quota{Name: "nc_project_count", Usage: 20, Limit: 20}, e.quota(cu.Scope(), "nc_project_count"))
		var evs int64
		require.NoError(t, db.Table("events").Where("event_type = ?", "project_creation_succeeded").Count(&evs).Error)
		require.EqualValues(t, 20, evs, "refused creations left no event")
	})
}

func TestProjectTypes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		var a, b structure.ProjectType
		e.ok(201, "POST", "/api/project-types/", "staff", map[string]any{"name": "Teaching", "description": "Courses"}, &a)
		e.ok(201, "POST", "/api/project-types/", "staff", map[string]any{"name": "Research"}, &b)
		require.Equal(t, "http://example.com/api/project-types/"+a.UUID.String()+"/", a.URL)
		r := e.do("POST", "/api/project-types/", "owner", map[string]any{"name": "Mine"})
		require.Equal(t, 403, r.Code)
		r = e.do("POST", "/api/project-types/", "staff", map[string]any{"description": "no name"})
		require.Equal(t, map[string][]string{"name": {"This field is required."}}, fieldErrors(t, r))

		lst := e.ok(200, "GET", "/api/project-types/", "plain", nil, nil)
		require.Equal(t, []string{b.UUID.String(), a.UUID.String()}, uuids(t, lst))
		lst = e.ok(200, "GET", "/api/project-types/?name=EACH", "plain", nil, nil)
		require.Equal(t, []string{a.UUID.String()}, uuids(t, lst))
		lst = e.ok(200, "GET", "/api/project-types/?name_exact=Research", "plain", nil, nil)
		require.Equal(t, []string{b.UUID.String()}, uuids(t, lst))
		e.ok(200, "GET", "/api/project-types/"+a.UUID.String()+"/", "member", nil, nil)
		e.ok(404, "GET", "/api/project-types/"+models.NewUUID().String()+"/", "member", nil, nil)
		e.ok(404, "GET", "/api/project-types/zzz/", "member", nil, nil)

		var upd structure.ProjectType
		e.ok(200, "PATCH", "/api/project-types/"+a.UUID.String()+"/", "staff", map[string]any{"description": "Lessons"}, &upd)
		require.Equal(t, "Teaching", upd.Name)
		require.Equal(t, "Lessons", upd.Description)

		// Deleting a type leaves its projects without one.
		w := e.world()
		e.ok(200, "PATCH", projectPath(w.project), "owner", map[string]any{"type": a.URL}, nil)
		e.ok(204, "DELETE", "/api/project-types/"+a.UUID.String()+"/", "staff", nil, nil)
		var p structure.Project
		e.ok(200, "GET", projectPath(w.project), "owner", nil, &p)
		require.Nil(t, p.Type)
	})
}
