package structure_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

func TestCustomerLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		var created structure.Customer
		e.ok(201, "POST", "/api/customers/", "staff", map[string]any{
			"name": " Ministry of Science ", "native_name": "Teadusministeerium", "abbreviation": "MoS",
			"contact_details": "Tallinn", "email": "info@mos.example", "homepage": "https://mos.example/",
			"country": "EE", "latitude": 59.43, "default_tax_percent": "20.5", "registration_code": "R-1",
			"agreement_number": "A-7", "sponsor_number": 12, "access_subnets": "10.0.0.0/8, 2001:db8::/32",
			"unknown_field": "ignored",
		}, &created)
		require.Equal(t, "Ministry of Science", created.Name, "trimmed")
		require.Equal(t, "MoS", created.DisplayName, "the abbreviation when there is one")
		require.Equal(t, "Estonia", created.CountryName)
		require.Equal(t, "20.50", created.DefaultTaxPercent)
		require.Equal(t, "ministry-1", created.Slug)
		require.Equal(t, "http://example.com/api/customers/"+created.UUID.String()+"/", created.URL)
		require.Equal(t, e.now, created.Created)
		require.Equal(t, e.now, created.AccountingStartDate)
		require.Equal(t, []models.Quota{{Name: "nc_project_count", Limit: -1}, {Name: "nc_resource_count", Limit: -1},
			{Name: "nc_user_count", Limit: -1}}, created.Quotas)
		require.Equal(t, structure.PriceEstimate{Total: "0", Current: "0", Tax: "0", TaxCurrent: "0"}, created.BillingPriceEstimate)
		require.Zero(t, created.ProjectsCount)

		cu, err := e.st.CustomerByUUID(e.ctx(), created.UUID)
		require.NoError(t, err)
		require.Equal(t, []string{"customer_creation_succeeded"}, e.events(cu.Scope()))
		e.grant("owner", models.RoleCustomerOwner, cu.Scope(), cu.ID)

		// Owner updates; staff-only fields are ignored for them.
		var upd structure.Customer
		e.ok(200, "PATCH", customerPath(cu), "owner", map[string]any{"abbreviation": "", "domain": "ignored.example",
			"blocked": true, "slug": "mine", "phone_number": "+372 5555"}, &upd)
		require.Equal(t, "Ministry of Science", upd.DisplayName)
		require.Equal(t, "", upd.Domain)
		require.False(t, upd.Blocked)
		require.Equal(t, "ministry-1", upd.Slug)
		require.Equal(t, "+372 5555", upd.PhoneNumber)
		require.Equal(t, int64(1), upd.UsersCount)
		// PUT needs the name; PATCH does not.
		w := e.do("PUT", customerPath(cu), "owner", map[string]any{"abbreviation": "X"})
		require.Equal(t, 400, w.Code)
		require.Equal(t, map[string][]string{"name": {"This field is required."}}, fieldErrors(t, w))
		e.ok(200, "PUT", customerPath(cu), "owner", map[string]any{"name": "Renamed"}, &upd)
		require.Equal(t, "Renamed", upd.Name)
		require.Equal(t, "+372 5555", upd.PhoneNumber, "PUT keeps fields it does not name, as DRF")
		// Staff changes staff-only fields.
		e.ok(200, "PATCH", customerPath(cu), "staff", map[string]any{"domain": "mos.example", "slug": "mos", "sponsor_number": nil}, &upd)
		require.Equal(t, "mos.example", upd.Domain)
		require.Equal(t, "mos", upd.Slug)
		require.Nil(t, upd.SponsorNumber)
		require.Equal(t, []string{"customer_creation_succeeded", "role_granted", "customer_update_succeeded",
			"customer_update_succeeded", "customer_update_succeeded"}, e.events(cu.Scope()))

		// HEAD and ?field=.
		w = e.do("HEAD", customerPath(cu), "owner", nil)
		require.Equal(t, 200, w.Code)
		require.Empty(t, w.Body.String())
		w = e.do("GET", customerPath(cu)+"?field=name&field=uuid", "owner", nil)
		require.JSONEq(t, `{"name":"Renamed","uuid":"`+cu.UUID.String()+`"}`, w.Body.String())
	})
}

func TestCustomerValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		cases := []struct {
			name string
			body any
			want map[string][]string
		}{
			{"missing name", map[string]any{}, map[string][]string{"name": {"This field is required."}}},
			{"blank name", map[string]any{"name": "   "}, map[string][]string{"name": {"This field may not be blank."}}},
			{"null name", map[string]any{"name": nil}, map[string][]string{"name": {"This field may not be null."}}},
			{"long name", map[string]any{"name": strings.Repeat("x", 151)}, map[string][]string{"name": {"Ensure this field has no more than 150 characters."}}},
			{"name not a string", map[string]any{"name": []int{1}}, map[string][]string{"name": {"Not a valid string."}}},
			{"bad email", map[string]any{"name": "x", "email": "nope"}, map[string][]string{"email": {"Enter a valid email address."}}},
			{"bad homepage", map[string]any{"name": "x", "homepage": "mos.example"}, map[string][]string{"homepage": {"Enter a valid URL."}}},
			{"bad country", map[string]any{"name": "x", "country": "XX"}, map[string][]string{"country": {`"XX" is not a valid choice.`}}},
			{"latitude string", map[string]any{"name": "x", "latitude": "north"}, map[string][]string{"latitude": {"A valid number is required."}}},
			{"tax too high", map[string]any{"name": "x", "default_tax_percent": 250}, map[string][]string{"default_tax_percent": {"Ensure this value is less than or equal to 200."}}},
			{"tax precision", map[string]any{"name": "x", "default_tax_percent": "1.234"}, map[string][]string{"default_tax_percent": {"Ensure that there are no more than 2 decimal places."}}},
			{"negative sponsor", map[string]any{"name": "x", "sponsor_number": -1}, map[string][]string{"sponsor_number": {"Ensure this value is greater than or equal to 0."}}},
			{"fractional sponsor", map[string]any{"name": "x", "sponsor_number": 1.5}, map[string][]string{"sponsor_number": {"A valid integer is required."}}},
			{"bad blocked", map[string]any{"name": "x", "blocked": "maybe"}, map[string][]string{"blocked": {"Must be a valid boolean."}}},
			{"bad date", map[string]any{"name": "x", "accounting_start_date": "yesterday"}, map[string][]string{"accounting_start_date": {"Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."}}},
			{"bad subnet", map[string]any{"name": "x", "access_subnets": "10.0.0.0/8,banana"}, map[string][]string{"access_subnets": {"Enter a valid IPv4 or IPv6 network: banana."}}},
			{"bad slug", map[string]any{"name": "x", "slug": "a b"}, map[string][]string{"slug": {"Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."}}},
			{"two errors", map[string]any{"name": "", "email": "x"}, map[string][]string{"name": {"This field may not be blank."}, "email": {"Enter a valid email address."}}},
			{"a list", `[1, 2]`, map[string][]string{"non_field_errors": {"Invalid data. Expected a dictionary, but got list."}}},
			{"quotas on create", map[string]any{"name": "x", "quotas": []any{}}, map[string][]string{"quotas": {"Quota limits are set with PATCH once the organization exists."}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := e.do("POST", "/api/customers/", "staff", tc.body)
				require.Equal(t, 400, w.Code, w.Body.String())
				require.Equal(t, tc.want, fieldErrors(t, w))
			})
		}
		w := e.do("POST", "/api/customers/", "staff", `{"name": `)
		require.Equal(t, 400, w.Code)
		require.Contains(t, fieldErrors(t, w)["non_field_errors"][0], "JSON parse error")
		var n int64
		require.NoError(t, db.Table("customers").Count(&n).Error)
		require.Zero(t, n, "no invalid request created anything")
	})
}

func TestCustomerDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		t.Run("all projects soft-deleted: owner deletes, projects go too", func(t *testing.T) {
			w := e.world()
			e.ok(204, "DELETE", projectPath(w.project), "owner", nil, nil)
			e.ok(204, "DELETE", customerPath(w.customer), "owner", nil, nil)
			var n int64
			require.NoError(t, db.Table("projects").Where("customer_id = ?", w.customer.ID).Count(&n).Error)
			require.Zero(t, n)
			require.NoError(t, db.Table("quotas").Where("scope_type = ? AND scope_id = ?", models.ScopeCustomer, w.customer.ID).Count(&n).Error)
			require.Zero(t, n)
			require.NoError(t, db.Table("user_roles").Where("scope_type = ? AND scope_id = ?", models.ScopeCustomer, w.customer.ID).Count(&n).Error)
			require.EqualValues(t, 1, n, "the owner's grant is kept as history")
			require.NoError(t, db.Table("user_roles").Where("scope_type = ? AND scope_id = ? AND is_active = ?", models.ScopeCustomer, w.customer.ID, true).Count(&n).Error)
			require.Zero(t, n)
			evs := e.events(w.customer.Scope())
			require.Equal(t, "customer_deletion_succeeded", evs[len(evs)-1])
			e.ok(404, "GET", customerPath(w.customer), "staff", nil, nil)
		})
		t.Run("live projects: the owner gets 409, staff cascade", func(t *testing.T) {
			w := e.world()
			r := e.do("DELETE", customerPath(w.customer), "owner", nil)
			require.Equal(t, 409, r.Code)
			require.Equal(t, "Cannot delete organization with existing projects", detail(t, r))
			e.ok(204, "DELETE", customerPath(w.customer), "staff", nil, nil)
			e.ok(404, "GET", projectPath(w.project), "staff", nil, nil)
		})
		t.Run("blocked customer refuses deletion, even by staff", func(t *testing.T) {
			cu := e.newCustomer("Blocked", func(c *models.Customer) { c.Blocked = true })
			r := e.do("DELETE", customerPath(cu), "staff", nil)
			require.Equal(t, 400, r.Code)
			require.Equal(t, []string{"Blocked/Archived organization is not available."}, fieldErrors(t, r)["non_field_errors"])
		})
	})
}

func TestBlockedCustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		for _, flag := range []string{"blocked", "archived"} {
			t.Run(flag, func(t *testing.T) {
				w := e.world()
				e.ok(200, "PATCH", customerPath(w.customer), "staff", map[string]any{flag: true}, nil)
				for _, tc := range []struct {
					name, method, path, user string
					body                     any
					msg                      string
				}{
					{"owner renames", "PATCH", customerPath(w.customer), "owner", map[string]any{"name": "x"}, "Blocked/Archived organization is not available."},
					{"staff renames", "PATCH", customerPath(w.customer), "staff", map[string]any{"name": "x"}, "Blocked/Archived organization is not available."},
					{"project create", "POST", "/api/projects/", "owner", map[string]any{"name": "p", "customer": w.customer.UUID.String()}, "Blocked/Archived organization is not available."},
					{"project update", "PATCH", projectPath(w.project), "manager", map[string]any{"name": "p"}, "Blocked/Archived organization is not available."},
					{"project delete", "DELETE", projectPath(w.project), "owner", nil, "Blocked/Archived organization is not available."},
					{"add user", "POST", customerPath(w.customer) + "add_user/", "owner", map[string]any{"user": e.users["target"].UUID.String(), "role": "CUSTOMER.OWNER"}, "Customer is not available."},
					{"project add user", "POST", projectPath(w.project) + "add_user/", "staff", map[string]any{"user": e.users["target"].UUID.String(), "role": "PROJECT.MEMBER"}, "Customer is not available."},
				} {
					t.Run(tc.name, func(t *testing.T) {
						r := e.do(tc.method, tc.path, tc.user, tc.body)
						require.Equal(t, 400, r.Code, r.Body.String())
						require.Equal(t, []string{tc.msg}, fieldErrors(t, r)["non_field_errors"])
					})
				}
				// Reading still works; staff lift the flag and changes pass again.
				e.ok(200, "GET", customerPath(w.customer), "owner", nil, nil)
				e.ok(200, "PATCH", customerPath(w.customer), "staff", map[string]any{flag: false, "name": "Back"}, nil)
				e.ok(200, "PATCH", customerPath(w.customer), "owner", map[string]any{"name": "Again"}, nil)
			})
		}
	})
}

func TestCustomerFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		alpha := e.newCustomer("Alpha Labs", func(c *models.Customer) {
			c.NativeName, c.Abbreviation, c.RegistrationCode, c.BackendID, c.ContactDetails = "Alfa", "AL", "R1", "b-1", "Tartu 1"
		})
		beta := e.newCustomer("Beta 100% Corp", func(c *models.Customer) { c.Abbreviation, c.Archived, c.Domain = "BC", true, "beta.example" })
		gamma := e.newCustomer("gamma_labs", func(c *models.Customer) { c.AgreementNumber = "AG-9" })
		e.grant("owner", models.RoleCustomerOwner, alpha.Scope(), alpha.ID)
		p := e.newProject(gamma, "Gamma project")
		e.grant("member", models.RoleProjectMember, p.Scope(), gamma.ID)

		list := func(user, query string) []string {
			t.Helper()
			w := e.ok(200, "GET", "/api/customers/?"+query, user, nil, nil)
			return uuids(t, w)
		}
		a, b, g := alpha.UUID.String(), beta.UUID.String(), gamma.UUID.String()
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{a, b, g}},
			{"name=LABS", []string{a, g}},
			{"name=100%25", []string{b}},
			{"name=a_l", []string{g}}, // "_" is literal: "Alpha Labs" does not match
			{"name_exact=gamma_labs", []string{g}},
			{"name_exact=gamma", nil},
			{"native_name=alf", []string{a}},
			{"abbreviation=b", []string{b}},
			{"contact_details=tartu", []string{a}},
			{"registration_code=R1", []string{a}},
			{"agreement_number=AG-9", []string{g}},
			{"backend_id=b-1", []string{a}},
			{"archived=true", []string{b}},
			{"archived=false", []string{a, g}},
			{"query=alfa", []string{a}},
			{"query=beta.example", []string{b}},
			{"query=" + g, []string{g}},
			{"query=ag-9", []string{g}},
			{"o=-name", []string{g, b, a}},
			{"o=abbreviation", []string{g, a, b}},
			{"user_uuid=" + e.users["owner"].UUID.String(), []string{a}},
			{"user_uuid=" + e.users["member"].UUID.String(), []string{g}},
			{"user_uuid=nope", nil},
			{"owned_by_current_user=true", nil},
		}
		for _, tc := range cases {
			t.Run("staff "+tc.query, func(t *testing.T) {
				require.Equal(t, tc.want, nilIfEmpty(list("staff", tc.query)))
			})
		}
		require.Equal(t, []string{a}, list("owner", ""))
		require.Equal(t, []string{a}, list("owner", "owned_by_current_user=true"))
		require.Equal(t, []string{a}, list("owner", "current_user_has_project_create_permission=true"))
		require.Equal(t, []string{g}, list("member", ""))
		require.Nil(t, nilIfEmpty(list("member", "current_user_has_project_create_permission=true")))
		require.Nil(t, nilIfEmpty(list("plain", "")))
		require.Equal(t, []string{a, b, g}, list("support", ""))
		w := e.do("GET", "/api/customers/?archived=perhaps", "staff", nil)
		require.Equal(t, 400, w.Code)

		// Counts as the caller sees them: the member sees only their project.
		var got []structure.Customer
		e.ok(200, "GET", "/api/customers/?name=gamma", "member", nil, &got)
		require.EqualValues(t, 1, got[0].ProjectsCount)
		require.EqualValues(t, 1, got[0].UsersCount)
		hidden := e.newProject(gamma, "Hidden")
		e.grant("admin", models.RoleProjectAdmin, hidden.Scope(), gamma.ID)
		e.ok(200, "GET", "/api/customers/?name=gamma", "member", nil, &got)
		require.EqualValues(t, 1, got[0].ProjectsCount)
		require.EqualValues(t, 1, got[0].UsersCount)
		e.ok(200, "GET", "/api/customers/?name=gamma", "staff", nil, &got)
		require.EqualValues(t, 2, got[0].ProjectsCount)
		require.EqualValues(t, 2, got[0].UsersCount)

		// Pagination headers.
		w = e.ok(200, "GET", "/api/customers/?page_size=2", "staff", nil, nil)
		require.Equal(t, "3", w.Header().Get("X-Result-Count"))
		require.Contains(t, w.Header().Get("Link"), `rel="next"`)
		w = e.do("HEAD", "/api/customers/", "staff", nil)
		require.Equal(t, 200, w.Code)
		require.Equal(t, "3", w.Header().Get("X-Result-Count"))
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestCustomerQuotaLimits: staff set limits with PATCH (ours); others cannot.
func TestCustomerQuotaLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		r := e.do("PATCH", customerPath(w.customer), "owner", map[string]any{"quotas": []any{map[string]any{"name": "nc_project_count", "limit": 5}}})
		require.Equal(t, 403, r.Code)
		for _, tc := range []struct {
			body any
			want string
		}{
			{[]any{map[string]any{"name": "nc_cpu", "limit": 5}}, `Unknown quota "nc_cpu"; valid names are nc_project_count, nc_user_count, nc_resource_count.`},
			{[]any{map[string]any{"name": "nc_project_count", "limit": -2}}, "limit: Ensure this value is greater than or equal to -1."},
			{[]any{map[string]any{"name": "nc_project_count"}}, "limit: This field is required."},
			{"lots", `Expected a list of items but got type "str".`},
		} {
			r = e.do("PATCH", customerPath(w.customer), "staff", map[string]any{"quotas": tc.body})
			require.Equal(t, 400, r.Code)
			require.Equal(t, map[string][]string{"quotas": {tc.want}}, fieldErrors(t, r))
		}
		var got structure.Customer
		e.ok(200, "PATCH", customerPath(w.customer), "staff", map[string]any{"quotas": []any{
			map[string]any{"name": "nc_project_count", "limit": 1}, map[string]any{"name": "nc_user_count", "limit": "10"}}}, &got)
		require.Equal(t, []models.Quota{{Name: "nc_project_count", Usage: 1, Limit: 1}, {Name: "nc_resource_count", Limit: -1},
			{Name: "nc_user_count", Usage: 4, Limit: 10}}, got.Quotas)

		r = e.do("POST", "/api/projects/", "owner", map[string]any{"name": "second", "customer": w.customer.UUID.String()})
		require.Equal(t, 400, r.Code)
		msg := fieldErrors(t, r)["non_field_errors"]
		require.Len(t, msg, 1)
		require.True(t, strings.HasPrefix(msg[0], "One or more quotas were exceeded: nc_project_count quota limit: 1, requires 2"), msg[0])
		require.Equal(t, models.Quota{Name: "nc_project_count", Usage: 1, Limit: 1}, e.quota(w.customer.Scope(), "nc_project_count"))
		var n int64
		require.NoError(t, db.Table("projects").Where("customer_id = ?", w.customer.ID).Count(&n).Error)
		require.EqualValues(t, 1, n, "the refused project was rolled back")
		// Unlimited again.
		e.ok(200, "PATCH", customerPath(w.customer), "staff", map[string]any{"quotas": []any{map[string]any{"name": "nc_project_count", "limit": -1}}}, nil)
		e.ok(201, "POST", "/api/projects/", "owner", map[string]any{"name": "second", "customer": w.customer.UUID.String()}, nil)
		raw, _ := json.Marshal(e.quota(w.customer.Scope(), "nc_project_count"))
		require.JSONEq(t, `{"name":"nc_project_count","usage":2,"limit":-1}`, string(raw))
	})
}
