package structure

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Waldur's team-management messages.
const (
	MsgTerminatedProject = "Cannot manage team members for terminated projects."
	MsgCustomerNA        = "Customer is not available."
	MsgOwnRole           = "User can not manage own role."
	MsgRoleExists        = "User has already the same role in this scope."
	MsgRoleWrongScope    = "Role is not valid for this scope."
	MsgRoleInactive      = "Role is not active."
	MsgRoleNotFound      = "Role is not found."
	MsgUserNotFound      = "User is not found."
	MsgNoSuchGrant       = "User does not have this role in this scope."
	MsgExpirationPast    = "Expiration time should be greater than current time."
)

// teamScope is the customer or project whose team is managed.
type teamScope struct {
	scope    models.Scope
	customer *models.Customer
	name     string
	removed  bool
}

type scopeLoader func(c *gin.Context) (*teamScope, error)

func (m *Module) customerScope(c *gin.Context) (*teamScope, error) {
	cu, err := m.visibleCustomer(c)
	if err != nil {
		return nil, err
	}
	return &teamScope{scope: cu.Scope(), customer: cu, name: cu.Name}, nil
}

func (m *Module) projectScope(c *gin.Context) (*teamScope, error) {
	p, cu, err := m.visibleProject(c)
	if err != nil {
		return nil, err
	}
	return &teamScope{scope: p.Scope(), customer: cu, name: p.Name, removed: p.IsRemoved}, nil
}

// offeringScope is the offering of a provider-offerings path, if the caller
// sees it as a provider (else 404), with the provider's customer.
func (m *Module) offeringScope(c *gin.Context) (*teamScope, error) {
	id, err := api.PathUUID(c, "Offering")
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	o, err := m.st.VisibleProviderOffering(ctx, id)
	if err != nil {
		return nil, err
	}
	cu, err := m.st.CustomerByID(ctx, o.CustomerID)
	if err != nil {
		return nil, err
	}
	return &teamScope{scope: o.Scope(), customer: cu, name: o.Name}, nil
}

// eventScopes feeds role events to the scope and its customer.
func (ts *teamScope) eventScopes() []models.Scope {
	return []models.Scope{ts.scope, ts.customer.Scope()}
}

// UserRoleDetails is Waldur's UserRoleDetails: one grant in force on the
// scope. user_image and the created_by fields are left out when empty.
type UserRoleDetails struct {
	UUID              models.UUID  `json:"uuid" swaggertype:"string"`
	Created           time.Time    `json:"created"`
	ExpirationTime    *time.Time   `json:"expiration_time"`
	RoleName          string       `json:"role_name"`
	RoleUUID          models.UUID  `json:"role_uuid" swaggertype:"string"`
	UserEmail         string       `json:"user_email"`
	UserFullName      string       `json:"user_full_name"`
	UserUsername      string       `json:"user_username"`
	UserUUID          models.UUID  `json:"user_uuid" swaggertype:"string"`
	UserImage         *string      `json:"user_image,omitempty"`
	CreatedByFullName *string      `json:"created_by_full_name,omitempty"`
	CreatedByUUID     *models.UUID `json:"created_by_uuid,omitempty" swaggertype:"string"`
}

// UserRoleExpirationTime is the answer of add_user and update_user.
type UserRoleExpirationTime struct {
	ExpirationTime *time.Time `json:"expiration_time"`
}

// userField is a user-column subquery for ordering grants.
func userField(expr string) string {
	return "(SELECT " + expr + " FROM users WHERE users.id = user_roles.user_id)"
}

var teamSpec = rest.ListSpec{
	Ordering: map[string]string{
		"username":        userField("users.username"),
		"full_name":       userField("users.first_name || ' ' || users.last_name"),
		"email":           userField("users.email"),
		"expiration_time": nullsLast("user_roles.expiration_time", farFuture),
		"created":         "user_roles.created",
		"role":            "(SELECT roles.name FROM roles WHERE roles.id = user_roles.role_id)",
	},
	DefaultOrdering: []string{"created"},
	TieBreaker:      "user_roles.id",
}

// listUsers godoc
//
//	@Summary		List users and their roles in a scope
//	@Description	The grants in force on the customer or project (anyone who can see it). Filters: role (name or UUID, repeatable), user (UUID), search_string (first or last name, email, username contain), username, full_name; o= username, full_name, email, expiration_time, created, role. Also served on /api/projects/{uuid}/list_users/ and /api/marketplace-provider-offerings/{uuid}/list_users/ (an offering the caller sees as a provider).
//	@Tags			customers
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid			path		string	true	"Customer UUID"
//	@Param			role			query		string	false	"Role name or UUID"
//	@Param			user			query		string	false	"User UUID"
//	@Param			search_string	query		string	false	"Search"
//	@Success		200				{array}		UserRoleDetails
//	@Failure		404				{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/list_users/ [get]
//	@Router			/api/projects/{uuid}/list_users/ [get]
//	@Router			/api/marketplace-provider-offerings/{uuid}/list_users/ [get]
func (m *Module) listUsers(load scopeLoader) api.Handler {
	return func(c *gin.Context) error {
		ts, err := load(c)
		if err != nil {
			return err
		}
		var f store.TeamFilter
		for _, v := range rest.Values(c, "role") {
			if id, err := models.ParseUUID(v); err == nil {
				f.RoleUUIDs = append(f.RoleUUIDs, id)
			} else {
				f.RoleNames = append(f.RoleNames, v)
			}
		}
		if v := rest.Last(c, "user"); v != "" {
			id, err := models.ParseUUID(v)
			if err != nil {
				return models.FieldError("user", "Enter a valid UUID.")
			}
			f.UserUUID = &id
		}
		f.Username, f.FullName, f.Search = rest.Last(c, "username"), rest.Last(c, "full_name"), rest.Last(c, "search_string")
		q := m.st.TeamQuery(c.Request.Context(), ts.scope, f, m.now())
		return rest.ListBatch(c, q, teamSpec, func(rows []models.UserRole) ([]UserRoleDetails, error) {
			return m.renderGrants(c, rows)
		})
	}
}

// renderGrants renders a page of grants with their users, roles and creators.
func (m *Module) renderGrants(c *gin.Context, rows []models.UserRole) ([]UserRoleDetails, error) {
	users, roles, err := m.st.TeamRelations(c.Request.Context(), rows)
	if err != nil {
		return nil, err
	}
	out := make([]UserRoleDetails, 0, len(rows))
	for _, r := range rows {
		u := users[r.UserID]
		if u == nil {
			continue
		}
		ro := roles[r.RoleID]
		d := UserRoleDetails{UUID: r.UUID, Created: r.Created.UTC(), ExpirationTime: utc(r.ExpirationTime),
			RoleName: ro.Name, RoleUUID: ro.UUID, UserEmail: u.Email, UserFullName: api.FullName(u),
			UserUsername: u.Username, UserUUID: u.UUID}
		if r.CreatedByID != nil {
			if cb := users[*r.CreatedByID]; cb != nil {
				name, id := api.FullName(cb), cb.UUID
				d.CreatedByFullName, d.CreatedByUUID = &name, &id
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// roleRequest is a parsed add_user / update_user / delete_user body.
type roleRequest struct {
	user       *models.User
	role       *models.Role
	expiration *time.Time
}

// readRoleRequest parses and resolves {user, role, expiration_time} with
// Waldur's UserRoleMutateSerializer field validation.
func (m *Module) readRoleRequest(c *gin.Context) (*roleRequest, error) {
	f, err := form.Read(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	req := &roleRequest{}
	if v, ok := f.RequireStr("role", 0); ok {
		var role *models.Role
		var err error
		if id, perr := models.ParseUUID(v); perr == nil {
			role, err = m.st.RoleByUUID(ctx, id)
		} else {
			role, err = m.st.RoleByName(ctx, v)
		}
		switch {
		case models.IsCode(err, models.CodeNotFound):
			f.Fail("role", MsgRoleNotFound)
		case err != nil:
			return nil, err
		default:
			req.role = role
		}
	}
	if !f.Has("user") {
		f.Fail("user", form.MsgRequired)
	} else if f.IsNull("user") {
		f.Fail("user", form.MsgNull)
	} else if id, ok := f.UUID("user"); ok {
		u, err := m.st.UserByUUID(ctx, id)
		switch {
		case models.IsCode(err, models.CodeNotFound):
			f.Fail("user", MsgUserNotFound)
		case err != nil:
			return nil, err
		default:
			req.user = u
		}
	}
	if v, ok := f.Datetime("expiration_time", true, true); ok && v != nil {
		if v.Before(m.now()) {
			f.Fail("expiration_time", MsgExpirationPast)
		} else {
			req.expiration = v
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return req, nil
}

// authorizeTeamChange applies Waldur's UserRoleMutateSerializer.validate:
// the customer must be active; the caller needs perm on the customer, or
// on the scope itself, in which case they cannot change their own role.
func (m *Module) authorizeTeamChange(c *gin.Context, ts *teamScope, perms map[models.ScopeType]models.Permission, target *models.User) error {
	if ts.removed {
		return models.Errorf(models.CodeInvalid, MsgTerminatedProject)
	}
	if ts.customer.Blocked || ts.customer.Archived {
		return models.Errorf(models.CodeInvalid, MsgCustomerNA)
	}
	ctx, u := c.Request.Context(), api.CurrentUser(c)
	perm := perms[ts.scope.Type]
	ok, err := m.rbac.Has(ctx, u, perm, ts.customer.Scope())
	if err != nil {
		return models.Internal(err)
	}
	if ok {
		return nil
	}
	if err := m.rbac.Require(ctx, u, perm, ts.scope); err != nil {
		return err
	}
	if target.ID == u.ID && ts.scope.Type != models.ScopeCustomer {
		return models.Errorf(models.CodeInvalid, MsgOwnRole)
	}
	return nil
}

func (m *Module) grant(c *gin.Context, ts *teamScope, req *roleRequest) store.Grant {
	return store.Grant{User: req.user, Role: req.role, Scope: ts.scope, CustomerID: ts.customer.ID,
		ExpirationTime: req.expiration, CreatedBy: api.CurrentUser(c), EventScopes: ts.eventScopes(), ScopeName: ts.name}
}

// addUser godoc
//
//	@Summary		Grant a role to a user
//	@Description	Body {user: UUID, role: name or UUID, expiration_time?}. Needs CUSTOMER.CREATE_PERMISSION (PROJECT.CREATE_PERMISSION for a project, OFFERING.CREATE_PERMISSION for an offering) on the customer, or on the scope itself (then not for one's own role). The role must be active and of the scope's type, the user must not hold it already, the customer must not be blocked or archived. Emits role_granted; keeps nc_user_count. Also served on /api/projects/{uuid}/add_user/.
//	@Tags			customers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Customer UUID"
//	@Param			body	body		object	true	"UserRoleCreateRequest"
//	@Success		201		{object}	UserRoleExpirationTime
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/add_user/ [post]
//	@Router			/api/projects/{uuid}/add_user/ [post]
//	@Router			/api/marketplace-provider-offerings/{uuid}/add_user/ [post]
func (m *Module) addUser(load scopeLoader) api.Handler {
	return func(c *gin.Context) error {
		ts, err := load(c)
		if err != nil {
			return err
		}
		if ts.removed {
			return models.Errorf(models.CodeInvalid, MsgTerminatedProject)
		}
		req, err := m.readRoleRequest(c)
		if err != nil {
			return err
		}
		if err := m.authorizeTeamChange(c, ts, models.CreatePermissionFor, req.user); err != nil {
			return err
		}
		ctx := c.Request.Context()
		if _, err := m.st.ActiveUserRole(ctx, req.user.ID, req.role.ID, ts.scope); err == nil {
			return models.Errorf(models.CodeInvalid, MsgRoleExists)
		} else if !models.IsCode(err, models.CodeNotFound) {
			return err
		}
		if req.role.ContentType != ts.scope.Type {
			return models.Errorf(models.CodeInvalid, MsgRoleWrongScope)
		}
		if !req.role.IsActive {
			return models.Errorf(models.CodeInvalid, MsgRoleInactive)
		}
		ur, err := m.st.GrantRole(ctx, m.grant(c, ts, req))
		if err != nil {
			return err
		}
		return rest.Render(c, http.StatusCreated, UserRoleExpirationTime{ExpirationTime: utc(ur.ExpirationTime)})
	}
}

// updateUser godoc
//
//	@Summary		Change when a user's role ends
//	@Description	Body {user, role, expiration_time (null: never)}. Needs CUSTOMER.UPDATE_PERMISSION (PROJECT.UPDATE_PERMISSION, OFFERING.UPDATE_PERMISSION) as add_user. Emits role_updated. Also served on /api/projects/{uuid}/update_user/.
//	@Tags			customers
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Customer UUID"
//	@Param			body	body		object	true	"UserRoleUpdateRequest"
//	@Success		200		{object}	UserRoleExpirationTime
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/update_user/ [post]
//	@Router			/api/projects/{uuid}/update_user/ [post]
//	@Router			/api/marketplace-provider-offerings/{uuid}/update_user/ [post]
func (m *Module) updateUser(load scopeLoader) api.Handler {
	return func(c *gin.Context) error {
		ts, err := load(c)
		if err != nil {
			return err
		}
		if ts.removed {
			return models.Errorf(models.CodeInvalid, MsgTerminatedProject)
		}
		req, err := m.readRoleRequest(c)
		if err != nil {
			return err
		}
		if err := m.authorizeTeamChange(c, ts, models.UpdatePermissionFor, req.user); err != nil {
			return err
		}
		ur, err := m.st.UpdateRoleExpiration(c.Request.Context(), m.grant(c, ts, req))
		if models.IsCode(err, models.CodeNotFound) {
			return models.Errorf(models.CodeInvalid, MsgNoSuchGrant)
		}
		if err != nil {
			return err
		}
		return rest.Render(c, http.StatusOK, UserRoleExpirationTime{ExpirationTime: utc(ur.ExpirationTime)})
	}
}

// deleteUser godoc
//
//	@Summary		Revoke a role from a user
//	@Description	Body {user, role}. Needs CUSTOMER.DELETE_PERMISSION (PROJECT.DELETE_PERMISSION, OFFERING.DELETE_PERMISSION) as add_user. The grant is kept as history (is_active false); emits role_revoked. Also served on /api/projects/{uuid}/delete_user/.
//	@Tags			customers
//	@Accept			json
//	@Security		TokenAuth
//	@Param			uuid	path	string	true	"Customer UUID"
//	@Param			body	body	object	true	"UserRoleDeleteRequest"
//	@Success		200
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/delete_user/ [post]
//	@Router			/api/projects/{uuid}/delete_user/ [post]
//	@Router			/api/marketplace-provider-offerings/{uuid}/delete_user/ [post]
func (m *Module) deleteUser(load scopeLoader) api.Handler {
	return func(c *gin.Context) error {
		ts, err := load(c)
		if err != nil {
			return err
		}
		if ts.removed {
			return models.Errorf(models.CodeInvalid, MsgTerminatedProject)
		}
		req, err := m.readRoleRequest(c)
		if err != nil {
			return err
		}
		if err := m.authorizeTeamChange(c, ts, models.DeletePermissionFor, req.user); err != nil {
			return err
		}
		err = m.st.RevokeRole(c.Request.Context(), m.grant(c, ts, req))
		if models.IsCode(err, models.CodeNotFound) {
			return models.Errorf(models.CodeInvalid, MsgNoSuchGrant)
		}
		if err != nil {
			return err
		}
		c.Status(http.StatusOK)
		return nil
	}
}
