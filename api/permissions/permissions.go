// Package permissions is the API of roles and invitations: /api/roles/
// (the role → permission mapping, changed by staff) and
// /api/user-invitations/ (inviting people by email to take a role on a
// customer or a project), in Waldur's wire format.
//
// Status codes where Waldur's OpenAPI file is silent follow Waldur's code:
// wrong-state invitation actions and can_destroy_role refusals are 400
// validation errors; a scope the caller cannot see is a 400 "object does
// not exist" on the scope field; a visible scope or invitation the caller
// may not manage is 403.
package permissions

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the module needs.
type Deps struct {
	Store *store.Store
	RBAC  *rbac.Checker
	// Now is the clock (tests move it); UTC now when nil.
	Now func() time.Time
	// Logger receives the invitation "sent" lines (no mail transport yet).
	Logger *slog.Logger
	// OnlyStaffCanInvite is Waldur's ONLY_STAFF_CAN_INVITE_USERS: an
	// invitation created by a non-staff user waits for staff approval.
	OnlyStaffCanInvite bool
}

// Module serves /api/roles/ and /api/user-invitations/.
type Module struct {
	d Deps
}

// New returns the module.
func New(d Deps) *Module {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Module{d: d}
}

// Routes registers the routes (every list route with GET and HEAD).
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	h := api.H
	r := a.Group("/roles")
	r.GET("/", h(m.listRoles))
	r.HEAD("/", h(m.listRoles))
	r.POST("/", api.RequireStaff, h(m.createRole))
	r.GET("/:uuid/", h(m.retrieveRole))
	r.HEAD("/:uuid/", h(m.retrieveRole))
	r.PUT("/:uuid/", api.RequireStaff, h(m.replaceRole))
	r.PATCH("/:uuid/", api.RequireStaff, h(m.patchRole))
	r.DELETE("/:uuid/", api.RequireStaff, h(m.destroyRole))
	r.POST("/:uuid/enable/", api.RequireStaff, h(m.enableRole))
	r.POST("/:uuid/disable/", api.RequireStaff, h(m.disableRole))
	r.PUT("/:uuid/update_descriptions/", api.RequireStaff, h(m.updateRoleDescriptions))

	i := a.Group("/user-invitations")
	i.GET("/", api.RequireUser, h(m.listInvitations))
	i.HEAD("/", api.RequireUser, h(m.listInvitations))
	i.POST("/", api.RequireUser, h(m.createInvitation))
	i.POST("/approve/", api.RequireStaff, h(m.approveInvitation))
	i.POST("/reject/", api.RequireStaff, h(m.rejectInvitation))
	i.POST("/check-duplicates/", api.RequireUser, h(m.checkDuplicates))
	i.GET("/:uuid/", api.RequireUser, h(m.retrieveInvitation))
	i.HEAD("/:uuid/", api.RequireUser, h(m.retrieveInvitation))
	i.PUT("/:uuid/", api.RequireUser, h(m.updateInvitation))
	i.PATCH("/:uuid/", api.RequireUser, h(m.updateInvitation))
	i.DELETE("/:uuid/", api.RequireUser, h(m.destroyInvitation))
	i.POST("/:uuid/send/", api.RequireUser, h(m.sendInvitation))
	i.POST("/:uuid/cancel/", api.RequireUser, h(m.cancelInvitation))
	i.POST("/:uuid/delete/", api.RequireStaff, h(m.deleteInvitation))
	i.POST("/:uuid/accept/", api.RequireUser, h(m.acceptInvitation))
	i.POST("/:uuid/check/", h(m.checkInvitation))
	i.GET("/:uuid/details/", api.RequireUser, h(m.invitationDetails))
}

// Detail is the {"detail": …} body of Waldur's actions.
type Detail struct {
	Detail string `json:"detail"`
}

// notFoundAs turns a store not_found error into DRF's "Not found.".
func notFoundAs(err error) error {
	if models.IsCode(err, models.CodeNotFound) {
		return api.NotFound("")
	}
	return err
}

// str reads a string field as this module always has: a JSON string only
// (numbers are refused), kept as sent (not trimmed), blank only when not
// required, NUL characters not refused.
func str(f *form.Form, k string, maxLen int, required bool) (string, bool) {
	return f.Char(k, form.Char{Max: maxLen, Required: required, AllowBlank: !required, KeepSpace: true, StringsOnly: true})
}

// scopeVisible reports whether the caller sees the scope (rbac's SQL
// visibility: staff and support see all, others where they hold a role).
func (m *Module) scopeVisible(c *gin.Context, sc *store.RoleScope) (bool, error) {
	return m.d.Store.RoleScopeVisible(c.Request.Context(), sc, m.d.Now())
}

// canManageTeam is Waldur's can_manage_invitation_with: staff, or the
// scope type's CREATE_PERMISSION on the scope or on its customer.
func (m *Module) canManageTeam(c *gin.Context, u *models.User, sc *store.RoleScope) (bool, error) {
	if u == nil {
		return false, nil
	}
	if u.IsStaff {
		return true, nil
	}
	perm, ok := models.CreatePermissionFor[sc.Scope.Type]
	if !ok {
		return false, nil
	}
	scopes := []models.Scope{sc.Scope}
	if sc.CustomerID != 0 && sc.Scope.Type != models.ScopeCustomer {
		scopes = append(scopes, models.Scope{Type: models.ScopeCustomer, ID: sc.CustomerID})
	}
	ok, err := m.d.RBAC.Has(c.Request.Context(), u, perm, scopes...)
	if err != nil {
		return false, models.Internal(err)
	}
	return ok, nil
}
