package permissions

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Invitation is an invitation as Waldur renders it.
type Invitation struct {
	ScopeUUID           models.UUID `json:"scope_uuid" swaggertype:"string"`
	ScopeName           string      `json:"scope_name"`
	ScopeDescription    string      `json:"scope_description"`
	ScopeType           *string     `json:"scope_type" enums:"customer,project,offering"`
	CustomerUUID        models.UUID `json:"customer_uuid" swaggertype:"string"`
	CustomerName        string      `json:"customer_name"`
	RoleName            string      `json:"role_name"`
	RoleDescription     string      `json:"role_description"`
	CreatedByFullName   string      `json:"created_by_full_name"`
	CreatedByUsername   string      `json:"created_by_username"`
	CreatedByImage      string      `json:"created_by_image"`
	URL                 string      `json:"url"`
	UUID                models.UUID `json:"uuid" swaggertype:"string"`
	Role                models.UUID `json:"role" swaggertype:"string"`
	Created             time.Time   `json:"created"`
	Expires             time.Time   `json:"expires"`
	FullName            string      `json:"full_name"`
	NativeName          string      `json:"native_name"`
	PhoneNumber         string      `json:"phone_number"`
	Organization        string      `json:"organization"`
	JobTitle            string      `json:"job_title"`
	Email               string      `json:"email"`
	CivilNumber         string      `json:"civil_number"`
	State               string      `json:"state" enums:"project,requested,rejected,pending,accepted,canceled,expired"`
	ErrorMessage        string      `json:"error_message"`
	ExtraInvitationText string      `json:"extra_invitation_text"`
	ExecutionState      string      `json:"execution_state" enums:"Scheduled,Processing,OK,Erred"`
}

// InvitationRequest is the body of create.
type InvitationRequest struct {
	Scope               string `json:"scope" example:"https://waldur.example.com/api/projects/6ba7b8109dad11d180b400c04fd430c8/"`
	Role                string `json:"role" example:"d8c2d5852d434937985392d24249b6d3"`
	Email               string `json:"email" example:"alice@example.com"`
	FullName            string `json:"full_name"`
	NativeName          string `json:"native_name"`
	PhoneNumber         string `json:"phone_number"`
	Organization        string `json:"organization"`
	JobTitle            string `json:"job_title"`
	CivilNumber         string `json:"civil_number"`
	ExtraInvitationText string `json:"extra_invitation_text"`
}

// InvitationUpdate is the body and answer of update (PUT/PATCH).
type InvitationUpdate struct {
	Email string      `json:"email"`
	Role  models.UUID `json:"role" swaggertype:"string"`
}

// VisibleInvitationDetails is what details shows to the invitee.
type VisibleInvitationDetails struct {
	ScopeUUID         models.UUID `json:"scope_uuid" swaggertype:"string"`
	ScopeName         string      `json:"scope_name"`
	ScopeDescription  string      `json:"scope_description"`
	ScopeType         *string     `json:"scope_type"`
	CustomerUUID      models.UUID `json:"customer_uuid" swaggertype:"string"`
	CustomerName      string      `json:"customer_name"`
	RoleName          string      `json:"role_name"`
	RoleDescription   string      `json:"role_description"`
	CreatedByFullName string      `json:"created_by_full_name"`
	CreatedByUsername string      `json:"created_by_username"`
	CreatedByImage    string      `json:"created_by_image"`
	Email             string      `json:"email"`
	ErrorMessage      string      `json:"error_message"`
	ExecutionState    string      `json:"execution_state"`
	State             string      `json:"state"`
}

// InvitationCheck is the answer of check.
type InvitationCheck struct {
	Email               string `json:"email"`
	CivilNumberRequired bool   `json:"civil_number_required"`
}

// TokenRequest is the body of approve and reject. Waldur signs a token
// naming the staff user and the invitation; here the token is the
// invitation's UUID and the caller must be staff.
type TokenRequest struct {
	Token string `json:"token" example:"6ba7b8109dad11d180b400c04fd430c8"`
}

// AcceptInvitationRequest is the optional body of accept.
type AcceptInvitationRequest struct {
	ReplaceEmail bool `json:"replace_email"`
}

// InvitationDuplicateCheckRequest is the body of check-duplicates.
type InvitationDuplicateCheckRequest struct {
	Scope       string                         `json:"scope"`
	Invitations []InvitationDuplicateCheckItem `json:"invitations"`
}

// InvitationDuplicateCheckItem is one email and role to check.
type InvitationDuplicateCheckItem struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// InvitationDuplicate is a pending invitation that already exists.
type InvitationDuplicate struct {
	Email                  string       `json:"email"`
	Role                   models.UUID  `json:"role" swaggertype:"string"`
	ExistingInvitationUUID *models.UUID `json:"existing_invitation_uuid" swaggertype:"string"`
}

// InvitationDuplicateCheckResponse is the answer of check-duplicates.
type InvitationDuplicateCheckResponse struct {
	Duplicates []InvitationDuplicate `json:"duplicates"`
}

func scopeTypeOf(v *store.InvitationView) *string {
	t := string(v.Scope.Scope.Type)
	return &t
}

func (m *Module) renderInvitation(c *gin.Context, v *store.InvitationView) Invitation {
	inv := v.Invitation
	out := Invitation{
		ScopeUUID: v.Scope.UUID, ScopeName: v.Scope.Name, ScopeDescription: v.Scope.Description, ScopeType: scopeTypeOf(v),
		CustomerUUID: v.Scope.CustomerUUID, CustomerName: v.Scope.CustomerName,
		RoleName: v.Role.Name, RoleDescription: v.Role.Description, Role: v.Role.UUID,
		URL: rest.URL(c, "user-invitations", inv.UUID), UUID: inv.UUID,
		Created: inv.Created.UTC(), Expires: inv.Expires().UTC(),
		FullName: inv.FullName, NativeName: inv.NativeName, PhoneNumber: inv.PhoneNumber, Organization: inv.Organization,
		JobTitle: inv.JobTitle, Email: inv.Email, CivilNumber: inv.CivilNumber, State: string(inv.State),
		ErrorMessage: inv.ErrorMessage, ExtraInvitationText: inv.ExtraInvitationText, ExecutionState: inv.ExecutionState,
	}
	if v.CreatedBy != nil {
		out.CreatedByFullName, out.CreatedByUsername = api.FullName(v.CreatedBy), v.CreatedBy.Username
	}
	return out
}

func (m *Module) renderInvitations(c *gin.Context, invs []store.Invitation) ([]Invitation, error) {
	views, err := m.d.Store.InvitationViews(c.Request.Context(), invs)
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, len(views))
	for i := range views {
		out[i] = m.renderInvitation(c, &views[i])
	}
	return out, nil
}

func (m *Module) writeInvitation(c *gin.Context, status int, inv *store.Invitation) error {
	out, err := m.renderInvitations(c, []store.Invitation{*inv})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

var invitationListSpec = rest.ListSpec{
	Ordering: map[string]string{
		"email": "invitations.email", "state": "invitations.state",
		"created_by": "invitations.created_by_id", "created": "invitations.created",
	},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "invitations.id",
}

func lastValue(c *gin.Context, key string) string {
	vs := rest.Values(c, key)
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// scopeRefTypes parses a customer or project reference: a URL names its
// type, a bare UUID may be either. Errors are 400s on field with DRF's
// hyperlink messages.
func scopeRefTypes(field, value string) ([]models.ScopeType, models.UUID, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, models.NilUUID, models.FieldError(field, rest.MsgNull)
	}
	if !strings.Contains(value, "/") {
		id, err := models.ParseUUID(value)
		if err != nil {
			return nil, models.NilUUID, models.FieldError(field, rest.MsgNoMatch)
		}
		return []models.ScopeType{models.ScopeCustomer, models.ScopeProject}, id, nil
	}
	u, err := url.Parse(value)
	if err != nil {
		return nil, models.NilUUID, models.FieldError(field, rest.MsgNoMatch)
	}
	for _, x := range []struct {
		t          models.ScopeType
		collection string
	}{{models.ScopeCustomer, "customers"}, {models.ScopeProject, "projects"}} {
		if strings.HasPrefix(u.Path, "/api/"+x.collection+"/") {
			id, err := rest.ParseRef(field, value, x.collection)
			return []models.ScopeType{x.t}, id, err
		}
	}
	if strings.HasPrefix(u.Path, "/api/") {
		return nil, models.NilUUID, models.FieldError(field, rest.MsgIncorrectURL)
	}
	return nil, models.NilUUID, models.FieldError(field, rest.MsgNoMatch)
}

// parseScopeRef resolves a customer or project reference to its scope;
// nil (no error) when no such object exists.
func (m *Module) parseScopeRef(c *gin.Context, field, value string) (*store.RoleScope, error) {
	types, id, err := scopeRefTypes(field, value)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		sc, err := m.d.Store.ResolveRoleScopeUUID(c.Request.Context(), t, id)
		if err == nil {
			return sc, nil
		}
		if !models.IsCode(err, models.CodeNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// visibleScopeRef is parseScopeRef limited to scopes the caller can see:
// anything else does not exist for them.
func (m *Module) visibleScopeRef(c *gin.Context, field, value string) (*store.RoleScope, error) {
	sc, err := m.parseScopeRef(c, field, value)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, models.FieldError(field, rest.MsgDoesNotExist)
	}
	ok, err := m.scopeVisible(c, sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.FieldError(field, rest.MsgDoesNotExist)
	}
	return sc, nil
}

// roleRef finds a role by UUID (Waldur's field) or by name.
func (m *Module) roleRef(c *gin.Context, field, value string) (*models.Role, error) {
	ctx := c.Request.Context()
	var r *models.Role
	var err error
	if id, perr := models.ParseUUID(value); perr == nil {
		r, err = m.d.Store.RoleByUUID(ctx, id)
	} else {
		r, err = m.d.Store.RoleByName(ctx, value)
	}
	if models.IsCode(err, models.CodeNotFound) {
		return nil, models.FieldError(field, fmt.Sprintf("Object with uuid=%s does not exist.", value))
	}
	return r, err
}

// listInvitations godoc
//
//	@Summary		List user invitations
//	@Description	Staff and support see every invitation; others the invitations of the customers and projects whose team they may manage (X.CREATE_PERMISSION on the scope or its customer).
//	@Tags			user-invitations
//	@Produce		json
//	@Security		TokenAuth
//	@Param			state				query	[]string	false	"State (repeatable)"	collectionFormat(multi)
//	@Param			email				query	string		false	"Email contains"
//	@Param			email_exact			query	string		false	"Email (case-insensitive)"
//	@Param			civil_number		query	string		false	"Civil number"
//	@Param			role_name			query	string		false	"Role name"
//	@Param			role_uuid			query	string		false	"Role UUID"
//	@Param			customer_uuid		query	string		false	"Customer UUID"
//	@Param			project_uuid		query	string		false	"Project UUID"
//	@Param			scope				query	string		false	"Scope URL"
//	@Param			scope_type			query	string		false	"customer or project"
//	@Param			scope_name			query	string		false	"Scope name contains"
//	@Param			scope_description	query	string		false	"Scope description contains"
//	@Param			o					query	string		false	"Ordering: email, state, created_by, created"
//	@Success		200	{array}		Invitation
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/user-invitations/ [get]
func (m *Module) listInvitations(c *gin.Context) error {
	f := store.InvitationFilter{
		Email: lastValue(c, "email"), EmailExact: lastValue(c, "email_exact"), CivilNumber: lastValue(c, "civil_number"),
		RoleName: lastValue(c, "role_name"), ScopeName: lastValue(c, "scope_name"), ScopeDescription: lastValue(c, "scope_description"),
	}
	valid := map[string]bool{}
	for _, s := range store.InvitationStates {
		valid[string(s)] = true
	}
	for _, v := range rest.Values(c, "state") {
		if !valid[v] {
			return models.FieldError("state", fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", v))
		}
		f.States = append(f.States, store.InvitationState(v))
	}
	var err error
	if f.RoleUUIDs, err = rest.UUIDs(c, "role_uuid"); err != nil {
		return err
	}
	if f.CustomerUUIDs, err = rest.UUIDs(c, "customer_uuid"); err != nil {
		return err
	}
	if f.ProjectUUIDs, err = rest.UUIDs(c, "project_uuid"); err != nil {
		return err
	}
	f.ScopeType = models.ScopeType(lastValue(c, "scope_type"))
	if ref := lastValue(c, "scope"); ref != "" {
		sc, err := m.parseScopeRef(c, "scope", ref)
		if err != nil {
			return err
		}
		if sc == nil {
			f.Nothing = true
		} else {
			f.Scope = &sc.Scope
		}
	}
	return rest.ListBatch(c, m.d.Store.InvitationsQuery(c.Request.Context(), f), invitationListSpec, func(rows []store.Invitation) ([]Invitation, error) {
		return m.renderInvitations(c, rows)
	})
}

// retrieveInvitation godoc
//
//	@Summary	Retrieve user invitation
//	@Tags		user-invitations
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Invitation UUID"
//	@Success	200		{object}	Invitation
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/user-invitations/{uuid}/ [get]
func (m *Module) retrieveInvitation(c *gin.Context) error {
	inv, err := m.visibleInvitation(c)
	if err != nil {
		return err
	}
	return m.writeInvitation(c, http.StatusOK, inv)
}

func (m *Module) visibleInvitation(c *gin.Context) (*store.Invitation, error) {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return nil, err
	}
	inv, err := m.d.Store.VisibleInvitation(c.Request.Context(), id)
	if err != nil {
		return nil, notFoundAs(err)
	}
	return inv, nil
}

// managedInvitation is an invitation the caller sees and may manage
// (404 when invisible, 403 for support, who see but do not change).
func (m *Module) managedInvitation(c *gin.Context) (*store.Invitation, *store.RoleScope, error) {
	inv, err := m.visibleInvitation(c)
	if err != nil {
		return nil, nil, err
	}
	sc, err := m.d.Store.ResolveRoleScope(c.Request.Context(), inv.Scope())
	if err != nil {
		return nil, nil, err
	}
	ok, err := m.canManageTeam(c, api.CurrentUser(c), sc)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, api.Forbidden()
	}
	return inv, sc, nil
}

// createInvitation godoc
//
//	@Summary		Create user invitation
//	@Description	Staff, or a user with X.CREATE_PERMISSION on the customer or project (or on the project's customer). The role (UUID or name) must be active and of the scope's type. An invitation to a project that has not started waits in state "project"; with ONLY_STAFF_CAN_INVITE_USERS a non-staff invitation waits in "requested". Expires 7 days after creation.
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		InvitationRequest	true	"The invitation"
//	@Success		201		{object}	Invitation
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/user-invitations/ [post]
func (m *Module) createInvitation(c *gin.Context) error {
	u := api.CurrentUser(c)
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	scopeRef, _ := str(f, "scope", 0, true)
	roleRef, _ := str(f, "role", 0, true)
	email, _ := str(f, "email", 0, true)
	in := store.NewInvitation{Email: email, CreatedBy: u, Requested: m.d.OnlyStaffCanInvite && !u.IsStaff}
	for _, x := range []struct {
		k string
		p *string
	}{
		{"full_name", &in.FullName}, {"native_name", &in.NativeName}, {"phone_number", &in.PhoneNumber},
		{"organization", &in.Organization}, {"job_title", &in.JobTitle}, {"civil_number", &in.CivilNumber},
		{"extra_invitation_text", &in.ExtraInvitationText},
	} {
		if v, ok := str(f, x.k, 0, false); ok {
			*x.p = v
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if in.Scope, err = m.visibleScopeRef(c, "scope", scopeRef); err != nil {
		return err
	}
	if in.Role, err = m.roleRef(c, "role", roleRef); err != nil {
		return err
	}
	ok, err := m.canManageTeam(c, u, in.Scope)
	if err != nil {
		return err
	}
	if !ok {
		return api.Forbidden()
	}
	inv, err := m.d.Store.CreateInvitation(c.Request.Context(), in)
	if err != nil {
		return err
	}
	m.logSent(c, inv)
	return m.writeInvitation(c, http.StatusCreated, inv)
}

// logSent records the delivery of a pending invitation. There is no mail
// transport yet: the line (with the link's UUID) is what an operator has.
func (m *Module) logSent(c *gin.Context, inv *store.Invitation) {
	if inv.State != store.InvitationPending {
		return
	}
	sender := ""
	if u := api.CurrentUser(c); u != nil {
		sender = u.Username
	}
	m.d.Logger.InfoContext(c.Request.Context(), "invitation sent", "invitation_uuid", inv.UUID.String(),
		"email", inv.Email, "sender", sender, "expires", inv.Expires().Format(time.RFC3339))
}

// updateInvitation godoc
//
//	@Summary		Update user invitation
//	@Description	Changes the email and the role (same scope type) of a pending invitation. PATCH may omit email.
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string				true	"Invitation UUID"
//	@Param			body	body		InvitationUpdate	true	"email and role"
//	@Success		200		{object}	InvitationUpdate
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/ [put]
//	@Router			/api/user-invitations/{uuid}/ [patch]
func (m *Module) updateInvitation(c *gin.Context) error {
	inv, _, err := m.managedInvitation(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	email, ok := str(f, "email", 0, c.Request.Method == http.MethodPut)
	if !ok {
		email = inv.Email
	}
	roleRef, hasRole := str(f, "role", 0, false)
	if err := f.Err(); err != nil {
		return err
	}
	var role *models.Role
	if hasRole {
		if role, err = m.roleRef(c, "role", roleRef); err != nil {
			return err
		}
	}
	out, err := m.d.Store.UpdateInvitation(c.Request.Context(), inv, email, role)
	if err != nil {
		return err
	}
	r, err := m.d.Store.RoleByID(c.Request.Context(), out.RoleID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, InvitationUpdate{Email: out.Email, Role: r.UUID})
}

// destroyInvitation godoc
//
//	@Summary	Delete user invitation
//	@Tags		user-invitations
//	@Security	TokenAuth
//	@Param		uuid	path	string	true	"Invitation UUID"
//	@Success	204
//	@Failure	403	{object}	api.ErrorBody
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/user-invitations/{uuid}/ [delete]
func (m *Module) destroyInvitation(c *gin.Context) error {
	inv, _, err := m.managedInvitation(c)
	if err != nil {
		return err
	}
	if err := m.d.Store.DeleteInvitation(c.Request.Context(), inv); err != nil {
		return notFoundAs(err)
	}
	return api.NoContent(c)
}

// sendInvitation godoc
//
//	@Summary		Resend an invitation
//	@Description	For a pending, expired or canceled invitation; an expired or canceled one becomes pending with a new 7-day lifetime. No mail transport yet: the sending is logged.
//	@Tags			user-invitations
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Invitation UUID"
//	@Success		200		{object}	Detail
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/send/ [post]
func (m *Module) sendInvitation(c *gin.Context) error {
	inv, _, err := m.managedInvitation(c)
	if err != nil {
		return err
	}
	out, err := m.d.Store.ResendInvitation(c.Request.Context(), inv)
	if err != nil {
		return err
	}
	m.logSent(c, out)
	c.JSON(http.StatusOK, Detail{Detail: "Invitation sending has been successfully scheduled."})
	return nil
}

// cancelInvitation godoc
//
//	@Summary		Cancel an invitation
//	@Description	For a pending, planned (project) or requested invitation.
//	@Tags			user-invitations
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Invitation UUID"
//	@Success		200		{object}	Detail
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/cancel/ [post]
func (m *Module) cancelInvitation(c *gin.Context) error {
	inv, _, err := m.managedInvitation(c)
	if err != nil {
		return err
	}
	if _, err := m.d.Store.CancelInvitation(c.Request.Context(), inv); err != nil {
		return err
	}
	c.JSON(http.StatusOK, Detail{Detail: "Invitation has been successfully canceled."})
	return nil
}

// deleteInvitation godoc
//
//	@Summary	Delete an invitation (staff only)
//	@Tags		user-invitations
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Invitation UUID"
//	@Success	200		{object}	Detail
//	@Failure	403		{object}	api.ErrorBody
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/user-invitations/{uuid}/delete/ [post]
func (m *Module) deleteInvitation(c *gin.Context) error {
	inv, err := m.visibleInvitation(c)
	if err != nil {
		return err
	}
	if err := m.d.Store.DeleteInvitation(c.Request.Context(), inv); err != nil {
		return notFoundAs(err)
	}
	c.JSON(http.StatusOK, Detail{Detail: "Invitation has been successfully deleted."})
	return nil
}

// acceptInvitation godoc
//
//	@Summary		Accept an invitation
//	@Description	Any authenticated user holding the invitation's UUID. The invitation must be pending and not expired, and the user's civil number must match when the invitation names one. Grants the role in the same transaction. With replace_email the user's email becomes the invitation's.
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string					true	"Invitation UUID"
//	@Param			body	body		AcceptInvitationRequest	false	"Options"
//	@Success		200		{object}	Detail
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/accept/ [post]
func (m *Module) acceptInvitation(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	replace, _ := f.NullBool("replace_email")
	if err := f.Err(); err != nil {
		return err
	}
	inv, err := m.d.Store.InvitationByUUID(c.Request.Context(), id)
	if err != nil {
		return notFoundAs(err)
	}
	if _, _, err := m.d.Store.AcceptInvitation(c.Request.Context(), inv, api.CurrentUser(c), replace != nil && *replace); err != nil {
		return err
	}
	c.JSON(http.StatusOK, Detail{Detail: "Invitation has been successfully accepted."})
	return nil
}

// checkInvitation godoc
//
//	@Summary		Check invitation validity
//	@Description	Public. 200 with the email for a pending, unexpired invitation; 404 otherwise.
//	@Tags			user-invitations
//	@Produce		json
//	@Param			uuid	path		string	true	"Invitation UUID"
//	@Success		200		{object}	InvitationCheck
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/check/ [post]
func (m *Module) checkInvitation(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	inv, err := m.d.Store.InvitationByUUID(c.Request.Context(), id)
	if err != nil {
		return notFoundAs(err)
	}
	if inv.State != store.InvitationPending || inv.ExpiredAt(m.d.Now()) {
		return api.NotFound("")
	}
	c.JSON(http.StatusOK, InvitationCheck{Email: inv.Email, CivilNumberRequired: inv.CivilNumber != ""})
	return nil
}

// invitationDetails godoc
//
//	@Summary		Get public invitation details
//	@Description	What the invitee sees before accepting: any authenticated user for a pending, expired or canceled invitation (matching civil number when set), members of the scope for any invitation of it, staff and support for all.
//	@Tags			user-invitations
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Invitation UUID"
//	@Success		200		{object}	VisibleInvitationDetails
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/user-invitations/{uuid}/details/ [get]
func (m *Module) invitationDetails(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	inv, err := m.d.Store.InvitationByUUID(ctx, id)
	if err != nil {
		return notFoundAs(err)
	}
	ok, err := m.d.Store.InvitationDetailsVisible(ctx, inv)
	if err != nil {
		return err
	}
	if !ok {
		return api.NotFound("")
	}
	views, err := m.d.Store.InvitationViews(ctx, []store.Invitation{*inv})
	if err != nil {
		return err
	}
	v := views[0]
	out := VisibleInvitationDetails{ScopeUUID: v.Scope.UUID, ScopeName: v.Scope.Name, ScopeDescription: v.Scope.Description,
		ScopeType: scopeTypeOf(&v), CustomerUUID: v.Scope.CustomerUUID, CustomerName: v.Scope.CustomerName,
		RoleName: v.Role.Name, RoleDescription: v.Role.Description, Email: inv.Email, ErrorMessage: inv.ErrorMessage,
		ExecutionState: inv.ExecutionState, State: string(inv.State)}
	if v.CreatedBy != nil {
		out.CreatedByFullName, out.CreatedByUsername = api.FullName(v.CreatedBy), v.CreatedBy.Username
	}
	return rest.Render(c, http.StatusOK, out)
}

// tokenInvitation reads {token} (the invitation UUID) for approve/reject.
func (m *Module) tokenInvitation(c *gin.Context) (*store.Invitation, error) {
	f, err := form.Read(c)
	if err != nil {
		return nil, err
	}
	tok, _ := str(f, "token", 0, false)
	if err := f.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(tok) == "" {
		return nil, models.Errorf(models.CodeInvalid, "token is required parameter")
	}
	id, err := models.ParseUUID(strings.TrimSpace(tok))
	if err != nil {
		return nil, models.FieldError("token", "Invalid token.")
	}
	inv, err := m.d.Store.InvitationByUUID(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, models.FieldError("token", "Invalid token.")
	}
	return inv, err
}

// approveInvitation godoc
//
//	@Summary		Approve a requested invitation
//	@Description	Staff only. Waldur authenticates this action by a signed token; here the token is the invitation UUID and the caller must be staff. The invitation becomes pending (a new 7-day lifetime) and is sent.
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		TokenRequest	true	"The invitation UUID as token"
//	@Success		200		{object}	Detail
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/user-invitations/approve/ [post]
func (m *Module) approveInvitation(c *gin.Context) error {
	inv, err := m.tokenInvitation(c)
	if err != nil {
		return err
	}
	out, err := m.d.Store.ApproveInvitation(c.Request.Context(), inv, api.CurrentUser(c))
	if err != nil {
		return err
	}
	m.logSent(c, out)
	c.JSON(http.StatusOK, Detail{Detail: "Invitation has been approved."})
	return nil
}

// rejectInvitation godoc
//
//	@Summary		Reject a requested invitation
//	@Description	Staff only; the token is the invitation UUID (see approve).
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		TokenRequest	true	"The invitation UUID as token"
//	@Success		200		{object}	Detail
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/user-invitations/reject/ [post]
func (m *Module) rejectInvitation(c *gin.Context) error {
	inv, err := m.tokenInvitation(c)
	if err != nil {
		return err
	}
	if _, err := m.d.Store.RejectInvitation(c.Request.Context(), inv, api.CurrentUser(c)); err != nil {
		return err
	}
	c.JSON(http.StatusOK, Detail{Detail: "Invitation has been rejected."})
	return nil
}

// checkDuplicates godoc
//
//	@Summary		Check for duplicate invitations
//	@Description	The pending invitations that already exist for the same email and role within the scope. Same permission as create.
//	@Tags			user-invitations
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		InvitationDuplicateCheckRequest	true	"Scope and candidates"
//	@Success		200		{object}	InvitationDuplicateCheckResponse
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/user-invitations/check-duplicates/ [post]
func (m *Module) checkDuplicates(c *gin.Context) error {
	u := api.CurrentUser(c)
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	scopeRef, _ := str(f, "scope", 0, true)
	items, _ := f.ObjList("invitations", true)
	if err := f.Err(); err != nil {
		return err
	}
	sc, err := m.visibleScopeRef(c, "scope", scopeRef)
	if err != nil {
		return err
	}
	ok, err := m.canManageTeam(c, u, sc)
	if err != nil {
		return err
	}
	if !ok {
		return api.Forbidden()
	}
	out := InvitationDuplicateCheckResponse{Duplicates: []InvitationDuplicate{}}
	for _, it := range items {
		email, _ := str(it, "email", 0, true)
		roleRef, _ := str(it, "role", 0, true)
		if err := it.Err(); err != nil {
			return err
		}
		role, err := m.roleRef(c, "role", roleRef)
		if err != nil {
			return err
		}
		dup, err := m.d.Store.PendingInvitationDuplicate(c.Request.Context(), sc.Scope, email, role.ID)
		if models.IsCode(err, models.CodeNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		id := dup.UUID
		out.Duplicates = append(out.Duplicates, InvitationDuplicate{Email: email, Role: role.UUID, ExistingInvitationUUID: &id})
	}
	c.JSON(http.StatusOK, out)
	return nil
}
