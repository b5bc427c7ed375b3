package structure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/structure"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func TestCustomerTeam(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		cu := w.customer
		base := customerPath(cu)
		target := e.users["target"]
		require.Equal(t, models.Quota{Name: "nc_user_count", Usage: 4, Limit: -1}, e.quota(cu.Scope(), "nc_user_count"))

		// A customer's team is staff's: CUSTOMER.CREATE_PERMISSION is no default role's, the owner's neither.
		require.Equal(t, 403, e.do("POST", base+"add_user/", "owner", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER"}).Code)
		var exp structure.UserRoleExpirationTime
		e.ok(201, "POST", base+"add_user/", "staff", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER",
			"expiration_time": "2027-01-01"}, &exp)
		require.Equal(t, "2027-01-01T00:00:00Z", exp.ExpirationTime.Format("2006-01-02T15:04:05Z07:00"))
		require.Equal(t, models.Quota{Name: "nc_user_count", Usage: 5, Limit: -1}, e.quota(cu.Scope(), "nc_user_count"))
		require.Contains(t, e.events(models.Scope{Type: models.ScopeUser, ID: target.ID}), "role_granted")

		var team []structure.UserRoleDetails
		e.ok(200, "GET", base+"list_users/", "member", nil, &team)
		require.Len(t, team, 2, "the customer's own grants: owner and target")
		require.Equal(t, "owner", team[0].UserUsername)
		require.Equal(t, "target", team[1].UserUsername)
		require.Equal(t, "Target Person", team[1].UserFullName)
		require.Equal(t, "target@example.com", team[1].UserEmail)
		require.Equal(t, "CUSTOMER.OWNER", team[1].RoleName)
		require.Equal(t, e.role("CUSTOMER.OWNER").UUID, team[1].RoleUUID)
		require.Equal(t, "Staff Person", *team[1].CreatedByFullName)
		require.Equal(t, e.users["staff"].UUID, *team[1].CreatedByUUID)
		require.NotNil(t, team[1].ExpirationTime)

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"role=CUSTOMER.OWNER", []string{"owner", "target"}},
			{"role=" + e.role("CUSTOMER.OWNER").UUID.String(), []string{"owner", "target"}},
			{"role=PROJECT.ADMIN", nil},
			{"user=" + target.UUID.String(), []string{"target"}},
			{"search_string=TARG", []string{"target"}},
			{"search_string=owner@", []string{"owner"}},
			{"username=owner", []string{"owner"}},
			{"full_name=target+per", []string{"target"}},
			{"o=-username", []string{"target", "owner"}},
			{"o=expiration_time&o=username", []string{"target", "owner"}}, // NULLs last ascending, as PostgreSQL
			{"o=-expiration_time", []string{"owner", "target"}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				var got []structure.UserRoleDetails
				e.ok(200, "GET", base+"list_users/?"+tc.query, "owner", nil, &got)
				var names []string
				for _, g := range got {
					names = append(names, g.UserUsername)
				}
				require.Equal(t, tc.want, names)
			})
		}
		r := e.do("GET", base+"list_users/?user=nope", "owner", nil)
		require.Equal(t, 400, r.Code)
		r = e.do("HEAD", base+"list_users/", "owner", nil)
		require.Equal(t, "2", r.Header().Get("X-Result-Count"))

		require.Equal(t, 403, e.do("POST", base+"update_user/", "owner", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER",
			"expiration_time": nil}).Code)
		e.ok(200, "POST", base+"update_user/", "staff", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER",
			"expiration_time": "2027-03-01T10:00:00+02:00"}, &exp)
		require.Equal(t, "2027-03-01T08:00:00Z", exp.ExpirationTime.Format("2006-01-02T15:04:05Z07:00"))
		w2 := e.ok(200, "POST", base+"update_user/", "staff", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER",
			"expiration_time": nil}, nil)
		require.JSONEq(t, `{"expiration_time": null}`, w2.Body.String())
		require.Contains(t, e.events(cu.Scope()), "role_updated")

		require.Equal(t, 403, e.do("POST", base+"delete_user/", "owner", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER"}).Code,
			"an owner does not remove a co-owner")
		e.ok(200, "POST", base+"delete_user/", "staff", map[string]any{"user": target.UUID.String(), "role": "CUSTOMER.OWNER"}, nil)
		e.ok(200, "GET", base+"list_users/", "owner", nil, &team)
		require.Len(t, team, 1)
		require.Equal(t, models.Quota{Name: "nc_user_count", Usage: 4, Limit: -1}, e.quota(cu.Scope(), "nc_user_count"))
		var kept int64
		require.NoError(t, db.Table("user_roles").Where("user_id = ? AND is_active = ?", target.ID, false).Count(&kept).Error)
		require.EqualValues(t, 1, kept, "the revoked grant is history")
		require.Contains(t, e.events(cu.Scope()), "role_revoked")

		// Nor their own customer role.
		require.Equal(t, 403, e.do("POST", base+"update_user/", "owner", map[string]any{"user": e.users["owner"].UUID.String(), "role": "CUSTOMER.OWNER",
			"expiration_time": "2030-01-01"}).Code)
	})
}

func TestTeamValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		target := e.users["target"].UUID.String()
		pp, cp := projectPath(w.project), customerPath(w.customer)
		e.ok(201, "POST", pp+"add_user/", "manager", map[string]any{"user": target, "role": "PROJECT.MEMBER"}, nil)
		cases := []struct {
			name, user, path string
			body             any
			want             map[string][]string
		}{
			{"empty body", "manager", pp + "add_user/", map[string]any{},
				map[string][]string{"role": {"This field is required."}, "user": {"This field is required."}}},
			{"unknown role", "manager", pp + "add_user/", map[string]any{"user": target, "role": "PROJECT.KING"},
				map[string][]string{"role": {"Role is not found."}}},
			{"unknown role uuid", "manager", pp + "add_user/", map[string]any{"user": target, "role": models.NewUUID().String()},
				map[string][]string{"role": {"Role is not found."}}},
			{"bad user", "manager", pp + "add_user/", map[string]any{"user": "nope", "role": "PROJECT.ADMIN"},
				map[string][]string{"user": {"Must be a valid UUID."}}},
			{"unknown user", "manager", pp + "add_user/", map[string]any{"user": models.NewUUID().String(), "role": "PROJECT.ADMIN"},
				map[string][]string{"user": {"User is not found."}}},
			{"past expiration", "manager", pp + "add_user/", map[string]any{"user": target, "role": "PROJECT.ADMIN", "expiration_time": "2026-11-27T11:00:00Z"},
				map[string][]string{"expiration_time": {"Expiration time should be greater than current time."}}},
			{"bad expiration", "manager", pp + "add_user/", map[string]any{"user": target, "role": "PROJECT.ADMIN", "expiration_time": "next week"},
				map[string][]string{"expiration_time": {"Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."}}},
			{"customer role on a project", "manager", pp + "add_user/", map[string]any{"user": target, "role": "CUSTOMER.OWNER"},
				map[string][]string{"non_field_errors": {"Role is not valid for this scope."}}},
			{"inactive role", "staff", cp + "add_user/", map[string]any{"user": target, "role": "CUSTOMER.MANAGER"},
				map[string][]string{"non_field_errors": {"Role is not active."}}},
			{"duplicate", "manager", pp + "add_user/", map[string]any{"user": target, "role": "PROJECT.MEMBER"},
				map[string][]string{"non_field_errors": {"User has already the same role in this scope."}}},
			{"own role via the project", "manager", pp + "add_user/", map[string]any{"user": e.users["manager"].UUID.String(), "role": "PROJECT.ADMIN"},
				map[string][]string{"non_field_errors": {"User can not manage own role."}}},
			{"own role removal via the project", "manager", pp + "delete_user/", map[string]any{"user": e.users["manager"].UUID.String(), "role": "PROJECT.MANAGER"},
				map[string][]string{"non_field_errors": {"User can not manage own role."}}},
			{"update a grant that does not exist", "manager", pp + "update_user/", map[string]any{"user": target, "role": "PROJECT.ADMIN", "expiration_time": nil},
				map[string][]string{"non_field_errors": {"User does not have this role in this scope."}}},
			{"delete a grant that does not exist", "staff", cp + "delete_user/", map[string]any{"user": target, "role": "CUSTOMER.OWNER"},
				map[string][]string{"non_field_errors": {"User does not have this role in this scope."}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("POST", tc.path, tc.user, tc.body)
				require.Equal(t, 400, r.Code, r.Body.String())
				require.Equal(t, tc.want, fieldErrors(t, r))
			})
		}
		// The owner's permission comes from the customer, so they may add themselves to a project.
		e.ok(201, "POST", pp+"add_user/", "owner", map[string]any{"user": e.users["owner"].UUID.String(), "role": "PROJECT.ADMIN"}, nil)
		var team []structure.UserRoleDetails
		e.ok(200, "GET", pp+"list_users/?o=username", "member", nil, &team)
		var names []string
		for _, m := range team {
			names = append(names, m.UserUsername+":"+m.RoleName)
		}
		require.Equal(t, []string{"admin:PROJECT.ADMIN", "manager:PROJECT.MANAGER", "member:PROJECT.MEMBER",
			"owner:PROJECT.ADMIN", "target:PROJECT.MEMBER"}, names)
	})
}

// An offering's team: the customer's owner (OFFERING.*_PERMISSION through
// CUSTOMER.OWNER) grants OFFERING.MANAGER; the manager cannot grant, and
// whoever does not see the offering as a provider gets 404.
func TestOfferingTeam(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		w := e.world()
		cat := store.Category{UUID: models.NewUUID(), Title: "HPC", Created: e.now, Modified: e.now}
		require.NoError(t, db.Create(&cat).Error)
		off := &store.NewOffering{Offering: store.Offering{CustomerID: w.customer.ID, CategoryID: cat.ID, Name: "Cluster",
			Type: "Marketplace.Basic", State: models.OfferingActive}}
		require.NoError(t, e.st.CreateOffering(e.ctx(), off))
		base := "/api/marketplace-provider-offerings/" + off.Offering.UUID.String() + "/"
		target := e.users["target"]
		grant := map[string]any{"user": target.UUID.String(), "role": models.RoleOfferingManager}

		require.Equal(t, 404, e.do("GET", base+"list_users/", "plain", nil).Code, "not the offering's provider")
		require.Equal(t, 404, e.do("POST", base+"add_user/", "plain", grant).Code)
		r := e.do("POST", base+"add_user/", "owner", map[string]any{"user": target.UUID.String(), "role": models.RoleProjectMember})
		require.Equal(t, 400, r.Code)
		require.Equal(t, map[string][]string{"non_field_errors": {structure.MsgRoleWrongScope}}, fieldErrors(t, r))

		var exp structure.UserRoleExpirationTime
		e.ok(201, "POST", base+"add_user/", "owner", grant, &exp)
		require.Nil(t, exp.ExpirationTime)
		require.Contains(t, e.events(off.Offering.Scope()), "role_granted")
		var team []structure.UserRoleDetails
		e.ok(200, "GET", base+"list_users/", "target", nil, &team)
		require.Len(t, team, 1)
		require.Equal(t, "target", team[0].UserUsername)
		require.Equal(t, models.RoleOfferingManager, team[0].RoleName)
		require.Equal(t, 400, e.do("POST", base+"add_user/", "owner", grant).Code, "held already")

		// The manager holds no OFFERING.*_PERMISSION: it sees the team, changes nothing.
		require.Equal(t, 403, e.do("POST", base+"add_user/", "target", map[string]any{"user": e.users["plain"].UUID.String(),
			"role": models.RoleOfferingManager}).Code)
		require.Equal(t, 403, e.do("POST", base+"delete_user/", "target", grant).Code)

		e.ok(200, "POST", base+"update_user/", "owner", map[string]any{"user": target.UUID.String(), "role": models.RoleOfferingManager,
			"expiration_time": "2027-01-01T00:00:00Z"}, &exp)
		require.Equal(t, "2027-01-01T00:00:00Z", exp.ExpirationTime.Format(time.RFC3339))
		e.ok(200, "POST", base+"delete_user/", "owner", grant, nil)
		require.Equal(t, 404, e.do("GET", base+"list_users/", "target", nil).Code, "the revoked manager no longer sees the offering")
		e.ok(200, "GET", base+"list_users/", "owner", nil, &team)
		require.Empty(t, team)
		r = e.do("POST", base+"delete_user/", "owner", grant)
		require.Equal(t, 400, r.Code)
		require.Equal(t, map[string][]string{"non_field_errors": {structure.MsgNoSuchGrant}}, fieldErrors(t, r))
	})
}
