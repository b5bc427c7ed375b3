package permissions_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api/permissions"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// invite creates an invitation through the API and returns it.
func (f *fx) invite(user string, sc scopeRef, role, email string) permissions.Invitation {
	f.t.Helper()
	w := f.call(user, "POST", "/api/user-invitations/", map[string]any{"scope": sc.url(), "role": role, "email": email})
	require.Equal(f.t, http.StatusCreated, w.Code, w.Body.String())
	return decode[permissions.Invitation](f.t, w)
}

func (f *fx) invitation(id models.UUID) *store.Invitation {
	f.t.Helper()
	inv, err := f.st.InvitationByUUID(context.Background(), id)
	require.NoError(f.t, err)
	return inv
}

// TestCreateInvitationPermissionMatrix: who may invite to a customer and
// to a project. A scope the caller cannot see does not exist for them
// (400 on the scope field); a visible scope without X.CREATE_PERMISSION on
// it or its customer is 403.
func TestCreateInvitationPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		cases := []struct {
			user            string
			project, custom int
		}{
			{"anonymous", 401, 401},
			{"plain", 400, 400},
			{"member", 403, 403},
			{"padmin", 403, 403},
			{"pmanager", 201, 403},
			// A customer's team is staff's (CUSTOMER.CREATE_PERMISSION is no default role's): owners invite to projects only.
			{"owner", 201, 403},
			{"owner2", 400, 400},
			{"support", 403, 403},
			{"staff", 201, 201},
		}
		adminUUID := f.role(models.RoleProjectAdmin).UUID.String()
		for _, c := range cases {
			t.Run(c.user, func(t *testing.T) {
				w := f.call(c.user, "POST", "/api/user-invitations/", map[string]any{"scope": f.p1.url(), "role": adminUUID, "email": "new-" + c.user + "@example.com"})
				require.Equal(t, c.project, w.Code, "project: %s", w.Body.String())
				w = f.call(c.user, "POST", "/api/user-invitations/", map[string]any{"scope": f.c1.url(), "role": models.RoleCustomerOwner, "email": "new-" + c.user + "@example.com"})
				require.Equal(t, c.custom, w.Code, "customer: %s", w.Body.String())
				if c.custom == 400 {
					require.JSONEq(t, `{"scope":["Invalid hyperlink - Object does not exist."]}`, w.Body.String())
				}
			})
		}
	})
}

func TestCreateInvitationShapeAndValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		admin := f.role(models.RoleProjectAdmin)
		w := f.call("owner", "POST", "/api/user-invitations/", map[string]any{"scope": f.p1.url(), "role": admin.UUID.String(),
			"email": "alice@example.com", "full_name": "Alice A", "extra_invitation_text": "Welcome", "unknown": 1})
		require.Equal(t, 201, w.Code, w.Body.String())
		inv := decode[permissions.Invitation](t, w)
		require.Equal(t, "http://example.com/api/user-invitations/"+inv.UUID.String()+"/", inv.URL)
		require.Equal(t, "pending", inv.State)
		require.Equal(t, "OK", inv.ExecutionState)
		require.Equal(t, f.p1.UUID, inv.ScopeUUID)
		require.Equal(t, "Project One", inv.ScopeName)
		require.Equal(t, "About Project One", inv.ScopeDescription)
		require.Equal(t, "project", *inv.ScopeType)
		require.Equal(t, f.c1.UUID, inv.CustomerUUID)
		require.Equal(t, "Org One", inv.CustomerName)
		require.Equal(t, admin.UUID, inv.Role)
		require.Equal(t, models.RoleProjectAdmin, inv.RoleName)
		require.Equal(t, "Project administrator", inv.RoleDescription)
		require.Equal(t, "owner", inv.CreatedByUsername)
		require.Equal(t, "Owner Tester", inv.CreatedByFullName)
		require.Equal(t, "Alice A", inv.FullName)
		require.Equal(t, "Welcome", inv.ExtraInvitationText)
		require.True(t, inv.Created.Equal(f.clock()))
		require.True(t, inv.Expires.Equal(f.clock().Add(7*24*time.Hour)))
		require.Len(t, f.events("invitation_created", f.p1.Scope), 1)
		require.Len(t, f.events("invitation_created", f.c1.Scope), 1)
		require.Contains(t, f.logs.String(), "invitation sent")
		require.Contains(t, f.logs.String(), inv.UUID.String())

		// A project that has not started yet: the invitation waits.
		w = f.call("owner", "POST", "/api/user-invitations/", map[string]any{"scope": f.future.UUID.String(), "role": models.RoleProjectMember, "email": "later@example.com"})
		require.Equal(t, 201, w.Code, w.Body.String())
		require.Equal(t, "project", decode[permissions.Invitation](t, w).State)

		cases := []struct {
			name string
			body any
			want string
		}{
			{"nothing", map[string]any{}, `{"email":["This field is required."],"role":["This field is required."],"scope":["This field is required."]}`},
			{"bad email", map[string]any{"scope": f.p1.url(), "role": models.RoleProjectAdmin, "email": "nope"}, `{"email":["Enter a valid email address."]}`},
			{"role of another scope type", map[string]any{"scope": f.c1.url(), "role": models.RoleProjectAdmin, "email": "a@example.com"}, `{"non_field_errors":["Role and scope should belong to the same content type."]}`},
			{"inactive role", map[string]any{"scope": f.c1.url(), "role": models.RoleCustomerManager, "email": "a@example.com"}, `{"role":["Object with uuid=` + f.role(models.RoleCustomerManager).UUID.String() + ` does not exist."]}`},
			{"unknown role", map[string]any{"scope": f.c1.url(), "role": "NO.SUCH", "email": "a@example.com"}, `{"role":["Object with uuid=NO.SUCH does not exist."]}`},
			{"unknown scope", map[string]any{"scope": "http://example.com/api/projects/" + models.NewUUID().String() + "/", "role": models.RoleProjectAdmin, "email": "a@example.com"}, `{"scope":["Invalid hyperlink - Object does not exist."]}`},
			{"scope of another collection", map[string]any{"scope": "http://example.com/api/users/" + models.NewUUID().String() + "/", "role": models.RoleProjectAdmin, "email": "a@example.com"}, `{"scope":["Invalid hyperlink - Incorrect URL match."]}`},
			{"text too long", map[string]any{"scope": f.p1.url(), "role": models.RoleProjectAdmin, "email": "a@example.com", "extra_invitation_text": strings.Repeat("x", 251)}, `{"extra_invitation_text":["Ensure this field has no more than 250 characters."]}`},
			{"email of the wrong type", map[string]any{"scope": f.p1.url(), "role": models.RoleProjectAdmin, "email": 7}, `{"email":["Not a valid string."]}`},
			{"broken JSON", `{"scope":`, ``},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.call("staff", "POST", "/api/user-invitations/", c.body)
				require.Equal(t, 400, w.Code, w.Body.String())
				if c.want != "" {
					require.JSONEq(t, c.want, w.Body.String())
				}
			})
		}
		require.NoError(t, db.Exec(`UPDATE customers SET blocked = ? WHERE id = ?`, true, f.c1.ID).Error)
		w = f.call("owner", "POST", "/api/user-invitations/", map[string]any{"scope": f.p1.url(), "role": models.RoleProjectAdmin, "email": "a@example.com"})
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["Blocked/Archived organization is not available."]}`, w.Body.String())
	})
}

// TestAcceptInvitation: the invitee checks (anonymously), reads the
// details, accepts, and holds the role at once; a second accept is refused.
func TestAcceptInvitation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		inv := f.invite("pmanager", f.p1, models.RoleProjectAdmin, "Invitee.Work@Example.com")
		base := "/api/user-invitations/" + inv.UUID.String()
		quota := func() int64 {
			qs, err := f.st.Quotas(context.Background(), f.c1.Scope)
			require.NoError(t, err)
			for _, q := range qs {
				if q.Name == models.QuotaUserCount {
					return q.Usage
				}
			}
			return -1
		}
		usersBefore := quota()

		w := f.call("anonymous", "POST", base+"/check/", nil)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"email":"Invitee.Work@Example.com","civil_number_required":false}`, w.Body.String())
		require.Equal(t, 401, f.call("anonymous", "GET", base+"/details/", nil).Code)
		w = f.call("invitee", "GET", base+"/details/", nil)
		require.Equal(t, 200, w.Code, w.Body.String())
		d := decode[permissions.VisibleInvitationDetails](t, w)
		require.Equal(t, "Project One", d.ScopeName)
		require.Equal(t, models.RoleProjectAdmin, d.RoleName)
		require.Equal(t, "pending", d.State)
		require.Equal(t, 404, f.call("invitee", "GET", base+"/", nil).Code, "the invitee does not manage the project")

		require.False(t, f.has("invitee", "ORDER.APPROVE_PRIVATE", f.p1.Scope))
		require.Equal(t, 401, f.call("anonymous", "POST", base+"/accept/", nil).Code)
		w = f.call("invitee", "POST", base+"/accept/", map[string]any{"replace_email": true})
		require.Equal(t, 200, w.Code, w.Body.String())
		require.JSONEq(t, `{"detail":"Invitation has been successfully accepted."}`, w.Body.String())
		require.True(t, f.has("invitee", "ORDER.APPROVE_PRIVATE", f.p1.Scope), "the role is held at once")
		require.Equal(t, usersBefore+1, quota())
		stored := f.invitation(inv.UUID)
		require.Equal(t, store.InvitationAccepted, stored.State)
		require.Equal(t, f.users["invitee"].ID, *stored.AcceptedByID)
		require.Len(t, f.events("invitation_accepted", f.c1.Scope), 1)
		require.Len(t, f.events("invitation_accepted", models.Scope{Type: models.ScopeUser, ID: f.users["invitee"].ID}), 1)
		require.Len(t, f.events("role_granted", f.p1.Scope), 1+countTeamIn("p1"))
		u, err := f.st.UserByUUID(context.Background(), f.users["invitee"].UUID)
		require.NoError(t, err)
		require.Equal(t, "Invitee.Work@Example.com", u.Email, "replace_email")

		w = f.call("invitee", "POST", base+"/accept/", nil)
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["Only pending invitation can be accepted."]}`, w.Body.String())
		require.Equal(t, 404, f.call("anonymous", "POST", base+"/check/", nil).Code)
		require.Equal(t, 404, f.call("invitee", "POST", "/api/user-invitations/"+models.NewUUID().String()+"/accept/", nil).Code)

		// Someone who already holds the role cannot take it again.
		again := f.invite("owner", f.p1, models.RoleProjectAdmin, "padmin@example.com")
		w = f.call("padmin", "POST", "/api/user-invitations/"+again.UUID.String()+"/accept/", nil)
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["User already has role within this scope."]}`, w.Body.String())
		require.Equal(t, store.InvitationPending, f.invitation(again.UUID).State, "a refused accept changes nothing")

		// A civil number must match.
		w = f.call("staff", "POST", "/api/user-invitations/", map[string]any{"scope": f.c1.url(), "role": models.RoleCustomerOwner,
			"email": "civil@example.com", "civil_number": "EE123"})
		require.Equal(t, 201, w.Code)
		civil := decode[permissions.Invitation](t, w)
		w = f.call("anonymous", "POST", "/api/user-invitations/"+civil.UUID.String()+"/check/", nil)
		require.JSONEq(t, `{"email":"civil@example.com","civil_number_required":true}`, w.Body.String())
		require.Equal(t, 404, f.call("plain", "GET", "/api/user-invitations/"+civil.UUID.String()+"/details/", nil).Code)
		w = f.call("plain", "POST", "/api/user-invitations/"+civil.UUID.String()+"/accept/", nil)
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["User has an invalid civil number."]}`, w.Body.String())
		require.NoError(t, db.Exec(`UPDATE users SET civil_number = ? WHERE id = ?`, "EE123", f.users["plain"].ID).Error)
		require.Equal(t, 200, f.call("plain", "GET", "/api/user-invitations/"+civil.UUID.String()+"/details/", nil).Code)
		require.Equal(t, 200, f.call("plain", "POST", "/api/user-invitations/"+civil.UUID.String()+"/accept/", nil).Code)
		require.True(t, f.has("plain", models.PermCustomerUpdate, f.c1.Scope), "plain is an owner of c1 now")
	})
}

func countTeamIn(scope string) int {
	n := 0
	for _, m := range team {
		if m.scope == scope {
			n++
		}
	}
	return n
}

// TestInvitationActions: cancel, resend, update, delete — who may, and
// from which states.
func TestInvitationActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		inv := f.invite("owner", f.p1, models.RoleProjectMember, "bob@example.com")
		base := "/api/user-invitations/" + inv.UUID.String()

		for user, want := range map[string]int{"anonymous": 401, "plain": 404, "member": 404, "owner2": 404, "support": 403} {
			require.Equal(t, want, f.call(user, "POST", base+"/cancel/", nil).Code, user)
			require.Equal(t, want, f.call(user, "POST", base+"/send/", nil).Code, user)
			require.Equal(t, want, f.call(user, "PATCH", base+"/", map[string]any{"email": "x@example.com"}).Code, user)
			require.Equal(t, want, f.call(user, "DELETE", base+"/", nil).Code, user)
		}
		require.Equal(t, store.InvitationPending, f.invitation(inv.UUID).State)

		w := f.call("pmanager", "PATCH", base+"/", map[string]any{"role": models.RoleProjectAdmin})
		require.Equal(t, 200, w.Code, w.Body.String())
		require.JSONEq(t, fmt.Sprintf(`{"email":"bob@example.com","role":%q}`, f.role(models.RoleProjectAdmin).UUID), w.Body.String())
		w = f.call("pmanager", "PUT", base+"/", map[string]any{"role": models.RoleCustomerOwner, "email": "bob2@example.com"})
		require.Equal(t, 400, w.Code)
		require.Equal(t, 400, f.call("pmanager", "PUT", base+"/", map[string]any{"role": models.RoleProjectAdmin}).Code, "PUT needs the email")

		w = f.call("pmanager", "POST", base+"/send/", nil)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"detail":"Invitation sending has been successfully scheduled."}`, w.Body.String())

		w = f.call("pmanager", "POST", base+"/cancel/", nil)
		require.Equal(t, 200, w.Code, w.Body.String())
		require.JSONEq(t, `{"detail":"Invitation has been successfully canceled."}`, w.Body.String())
		require.Equal(t, store.InvitationCanceled, f.invitation(inv.UUID).State)
		require.Len(t, f.events("invitation_canceled", f.c1.Scope), 1)
		w = f.call("pmanager", "POST", base+"/cancel/", nil)
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["Only pending or planned invitations can be canceled."]}`, w.Body.String())
		require.Equal(t, 404, f.call("anonymous", "POST", base+"/check/", nil).Code)
		require.Equal(t, 400, f.call("invitee", "POST", base+"/accept/", nil).Code)
		require.Equal(t, 400, f.call("pmanager", "PATCH", base+"/", map[string]any{"email": "x@example.com"}).Code)

		// Resending a canceled invitation makes it pending with a new lifetime.
		f.advance(3 * 24 * time.Hour)
		require.Equal(t, 200, f.call("owner", "POST", base+"/send/", nil).Code)
		got := f.invitation(inv.UUID)
		require.Equal(t, store.InvitationPending, got.State)
		require.True(t, got.Created.Equal(f.clock()))
		require.Equal(t, 200, f.call("anonymous", "POST", base+"/check/", nil).Code)

		// delete/ is staff only; DELETE is for team managers.
		require.Equal(t, 403, f.call("owner", "POST", base+"/delete/", nil).Code)
		w = f.call("staff", "POST", base+"/delete/", nil)
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"detail":"Invitation has been successfully deleted."}`, w.Body.String())
		require.Equal(t, 404, f.call("staff", "GET", base+"/", nil).Code)
		other := f.invite("owner", f.p1, models.RoleProjectAdmin, "carol@example.com")
		require.Equal(t, 204, f.call("owner", "DELETE", "/api/user-invitations/"+other.UUID.String()+"/", nil).Code)
		require.Equal(t, 404, f.call("owner", "GET", "/api/user-invitations/"+other.UUID.String()+"/", nil).Code)
	})
}

// TestInvitationListVisibility: staff and support see every invitation;
// others those of the scopes whose team they manage.
func TestInvitationListVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		byName := map[string]permissions.Invitation{
			"c1": f.invite("staff", f.c1, models.RoleCustomerOwner, "a@example.com"),
			"p1": f.invite("staff", f.p1, models.RoleProjectMember, "b@example.com"),
			"c2": f.invite("staff", f.c2, models.RoleCustomerOwner, "c@example.com"),
			"p2": f.invite("staff", f.p2, models.RoleProjectAdmin, "d@example.com"),
		}
		all := []string{"c1", "c2", "p1", "p2"}
		want := map[string][]string{
			"plain": nil, "member": nil, "padmin": nil, "pmanager": {"p1"}, "owner": {"p1"},
			"owner2": {"p2"}, "support": all, "staff": all,
		}
		names := func(w []permissions.Invitation) []string {
			var out []string
			for _, inv := range w {
				for n, x := range byName {
					if x.UUID == inv.UUID {
						out = append(out, n)
					}
				}
			}
			sort.Strings(out)
			return out
		}
		require.Equal(t, 401, f.call("anonymous", "GET", "/api/user-invitations/", nil).Code)
		for user, exp := range want {
			t.Run(user, func(t *testing.T) {
				w := f.call(user, "GET", "/api/user-invitations/", nil)
				require.Equal(t, 200, w.Code)
				require.Equal(t, exp, names(decode[[]permissions.Invitation](t, w)))
				require.Equal(t, fmt.Sprint(len(exp)), w.Header().Get("X-Result-Count"))
				for n, inv := range byName {
					visible := false
					for _, e := range exp {
						visible = visible || e == n
					}
					code := f.call(user, "GET", "/api/user-invitations/"+inv.UUID.String()+"/", nil).Code
					if visible {
						require.Equal(t, 200, code, n)
					} else {
						require.Equal(t, 404, code, n)
					}
				}
			})
		}

		require.Equal(t, 200, f.call("staff", "POST", "/api/user-invitations/"+byName["p2"].UUID.String()+"/cancel/", nil).Code)
		filters := []struct {
			query string
			want  []string
		}{
			{"state=pending", []string{"c1", "c2", "p1"}},
			{"state=canceled&state=accepted", []string{"p2"}},
			{"role_name=CUSTOMER.OWNER", []string{"c1", "c2"}},
			{"role_uuid=" + f.role(models.RoleProjectAdmin).UUID.String(), []string{"p2"}},
			{"customer_uuid=" + f.c1.UUID.String(), []string{"c1", "p1"}},
			{"project_uuid=" + f.p1.UUID.String(), []string{"p1"}},
			{"scope_type=customer", []string{"c1", "c2"}},
			{"scope=" + f.p2.url(), []string{"p2"}},
			{"scope=http://example.com/api/projects/" + models.NewUUID().String() + "/", nil},
			{"email=EXAMPLE.com&email=b@", []string{"p1"}},
			{"email_exact=C@EXAMPLE.COM", []string{"c2"}},
			{"scope_name=two", []string{"c2", "p2"}},
			{"scope_description=about%20org", []string{"c1", "c2"}},
		}
		for _, c := range filters {
			t.Run(c.query, func(t *testing.T) {
				w := f.call("support", "GET", "/api/user-invitations/?"+c.query, nil)
				require.Equal(t, 200, w.Code, w.Body.String())
				require.Equal(t, c.want, names(decode[[]permissions.Invitation](t, w)))
			})
		}
		require.Equal(t, 400, f.call("staff", "GET", "/api/user-invitations/?state=lost", nil).Code)
		require.Equal(t, 400, f.call("staff", "GET", "/api/user-invitations/?customer_uuid=zz", nil).Code)
		w := f.call("staff", "GET", "/api/user-invitations/?o=email", nil)
		got := decode[[]permissions.Invitation](t, w)
		require.Equal(t, "a@example.com", got[0].Email)
		w = f.call("staff", "HEAD", "/api/user-invitations/?scope_type=project", nil)
		require.Equal(t, "2", w.Header().Get("X-Result-Count"))
	})
}

// TestInvitationExpiry: a week after creation an invitation can no longer
// be accepted or checked, and the expiry job marks it expired; resending
// revives it.
func TestInvitationExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		inv := f.invite("staff", f.c1, models.RoleCustomerOwner, "late@example.com")
		base := "/api/user-invitations/" + inv.UUID.String()
		f.advance(7*24*time.Hour + time.Second)
		require.Equal(t, 404, f.call("anonymous", "POST", base+"/check/", nil).Code)
		w := f.call("invitee", "POST", base+"/accept/", nil)
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["Invitation has expired."]}`, w.Body.String())

		res, err := (&activities.Expiry{Store: f.st}).ExpireInvitations(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, res.Expired)
		require.Equal(t, store.InvitationExpired, f.invitation(inv.UUID).State)
		require.Len(t, f.events("invitation_expired", f.c1.Scope), 1)
		w = f.call("staff", "GET", "/api/user-invitations/?state=expired", nil)
		require.Equal(t, "1", w.Header().Get("X-Result-Count"))

		require.Equal(t, 200, f.call("staff", "POST", base+"/send/", nil).Code)
		require.Equal(t, 200, f.call("invitee", "POST", base+"/accept/", nil).Code)
		require.True(t, f.has("invitee", models.PermCustomerUpdate, f.c1.Scope))
	})
}

// TestRequestedInvitations: with ONLY_STAFF_CAN_INVITE_USERS a team
// manager's invitation waits for staff to approve or reject it.
func TestRequestedInvitations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, true)
		a := f.invite("owner", f.p1, models.RoleProjectMember, "a@example.com")
		b := f.invite("owner", f.p1, models.RoleProjectMember, "b@example.com")
		require.Equal(t, "requested", a.State)
		require.Equal(t, "Scheduled", a.ExecutionState)
		require.Equal(t, "pending", f.invite("staff", f.p1, models.RoleProjectMember, "c@example.com").State)
		require.Equal(t, 400, f.call("invitee", "POST", "/api/user-invitations/"+a.UUID.String()+"/accept/", nil).Code)
		require.Equal(t, 404, f.call("anonymous", "POST", "/api/user-invitations/"+a.UUID.String()+"/check/", nil).Code)

		for user, want := range map[string]int{"anonymous": 401, "owner": 403, "support": 403} {
			require.Equal(t, want, f.call(user, "POST", "/api/user-invitations/approve/", map[string]any{"token": a.UUID.String()}).Code, user)
			require.Equal(t, want, f.call(user, "POST", "/api/user-invitations/reject/", map[string]any{"token": a.UUID.String()}).Code, user)
		}
		w := f.call("staff", "POST", "/api/user-invitations/approve/", map[string]any{})
		require.Equal(t, 400, w.Code)
		require.JSONEq(t, `{"non_field_errors":["token is required parameter"]}`, w.Body.String())
		w = f.call("staff", "POST", "/api/user-invitations/approve/", map[string]any{"token": models.NewUUID().String()})
		require.JSONEq(t, `{"token":["Invalid token."]}`, w.Body.String())

		f.advance(time.Hour)
		w = f.call("staff", "POST", "/api/user-invitations/approve/", map[string]any{"token": a.UUID.String()})
		require.Equal(t, 200, w.Code, w.Body.String())
		require.JSONEq(t, `{"detail":"Invitation has been approved."}`, w.Body.String())
		got := f.invitation(a.UUID)
		require.Equal(t, store.InvitationPending, got.State)
		require.Equal(t, f.users["staff"].ID, *got.ApprovedByID)
		require.True(t, got.Created.Equal(f.clock()), "the lifetime starts at approval")
		require.Equal(t, 400, f.call("staff", "POST", "/api/user-invitations/approve/", map[string]any{"token": a.UUID.String()}).Code)

		w = f.call("staff", "POST", "/api/user-invitations/reject/", map[string]any{"token": b.UUID.String()})
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"detail":"Invitation has been rejected."}`, w.Body.String())
		require.Equal(t, store.InvitationRejected, f.invitation(b.UUID).State)
		require.Len(t, f.events("invitation_approved", f.p1.Scope), 1)
		require.Len(t, f.events("invitation_rejected", f.c1.Scope), 1)

		require.Equal(t, 200, f.call("invitee", "POST", "/api/user-invitations/"+a.UUID.String()+"/accept/", nil).Code)
	})
}

func TestCheckDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db, false)
		inv := f.invite("owner", f.p1, models.RoleProjectMember, "dup@example.com")
		member := f.role(models.RoleProjectMember).UUID.String()
		body := map[string]any{"scope": f.p1.url(), "invitations": []map[string]any{
			{"email": "DUP@example.com", "role": member}, {"email": "new@example.com", "role": member},
		}}
		w := f.call("pmanager", "POST", "/api/user-invitations/check-duplicates/", body)
		require.Equal(t, 200, w.Code, w.Body.String())
		require.JSONEq(t, fmt.Sprintf(`{"duplicates":[{"email":"DUP@example.com","role":%q,"existing_invitation_uuid":%q}]}`, member, inv.UUID), w.Body.String())
		require.Equal(t, 403, f.call("member", "POST", "/api/user-invitations/check-duplicates/", body).Code)
		require.Equal(t, 400, f.call("owner2", "POST", "/api/user-invitations/check-duplicates/", body).Code)
	})
}
