package store

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// InvitationState is the state of an invitation (Waldur's InvitationState).
type InvitationState string

const (
	// InvitationPendingProject waits for its project's start date ("project").
	InvitationPendingProject InvitationState = "project"
	// InvitationRequested waits for staff approval (ONLY_STAFF_CAN_INVITE_USERS).
	InvitationRequested InvitationState = "requested"
	InvitationRejected  InvitationState = "rejected"
	InvitationPending   InvitationState = "pending"
	InvitationAccepted  InvitationState = "accepted"
	InvitationCanceled  InvitationState = "canceled"
	InvitationExpired   InvitationState = "expired"
)

// InvitationStates lists every state, in Waldur's enum order.
var InvitationStates = []InvitationState{InvitationPendingProject, InvitationRequested, InvitationRejected,
	InvitationPending, InvitationAccepted, InvitationCanceled, InvitationExpired}

// Execution states of an invitation's delivery (Waldur's ExecutionStateEnum).
const (
	ExecutionScheduled = "Scheduled"
	ExecutionOK        = "OK"
)

// InvitationLifetime is Waldur's WALDUR_CORE.INVITATION_LIFETIME: a
// pending or requested invitation older than this expires.
const InvitationLifetime = 7 * 24 * time.Hour

// Invitation invites an email address to take a role on a customer or a
// project (Waldur's users.Invitation). It maps onto table "invitations".
type Invitation struct {
	ID                  int64 `gorm:"primaryKey"`
	UUID                models.UUID
	CreatedByID         *int64
	CustomerID          int64
	ScopeType           models.ScopeType
	ScopeID             int64
	RoleID              int64
	State               InvitationState
	ExecutionState      string
	Email               string
	CivilNumber         string
	FullName            string
	NativeName          string
	PhoneNumber         string
	Organization        string
	JobTitle            string
	ExtraInvitationText string
	ErrorMessage        string
	ApprovedByID        *int64
	AcceptedByID        *int64
	Created             time.Time
	Modified            time.Time
}

// TableName maps Invitation onto its table.
func (Invitation) TableName() string { return "invitations" }

// Scope is the invitation's scope.
func (i *Invitation) Scope() models.Scope { return models.Scope{Type: i.ScopeType, ID: i.ScopeID} }

// Expires is when a pending invitation stops being acceptable.
func (i *Invitation) Expires() time.Time { return i.Created.Add(InvitationLifetime) }

// ExpiredAt reports whether the invitation's lifetime has passed at now.
func (i *Invitation) ExpiredAt(now time.Time) bool { return !now.Before(i.Expires()) }

// invitationMove is one allowed transition: the states it starts from,
// the state it leads to ("" keeps the state) and Waldur's message for a
// wrong state.
type invitationMove struct {
	from []InvitationState
	to   InvitationState
	msg  string
}

// Invitation transitions (Waldur's views and tasks).
const (
	InvitationCancel   = "cancel"
	InvitationAccept   = "accept"
	InvitationApprove  = "approve"
	InvitationReject   = "reject"
	InvitationExpire   = "expire"
	InvitationResend   = "send"
	InvitationActivate = "activate"
	InvitationEdit     = "update"
)

var invitationMoves = map[string]invitationMove{
	InvitationCancel:   {[]InvitationState{InvitationPending, InvitationPendingProject, InvitationRequested}, InvitationCanceled, "Only pending or planned invitations can be canceled."},
	InvitationAccept:   {[]InvitationState{InvitationPending}, InvitationAccepted, "Only pending invitation can be accepted."},
	InvitationApprove:  {[]InvitationState{InvitationRequested}, InvitationPending, "Only requested invitation can be approved."},
	InvitationReject:   {[]InvitationState{InvitationRequested}, InvitationRejected, "Only requested invitation can be rejected."},
	InvitationExpire:   {[]InvitationState{InvitationPending, InvitationRequested}, InvitationExpired, "Only pending or requested invitation can expire."},
	InvitationResend:   {[]InvitationState{InvitationPending, InvitationExpired, InvitationCanceled}, InvitationPending, "Only pending, expired and canceled invitations can be resent."},
	InvitationActivate: {[]InvitationState{InvitationPendingProject}, InvitationPending, "Only invitations waiting for their project can be activated."},
	InvitationEdit:     {[]InvitationState{InvitationPending}, "", "Only pending invitations can be edited."},
}

// Can reports whether the transition is allowed from the invitation's
// state: nil, or an invalid error with Waldur's message.
func (i *Invitation) Can(action string) error {
	m, ok := invitationMoves[action]
	if !ok {
		return models.Internal(fmt.Errorf("unknown invitation transition %q", action))
	}
	for _, s := range m.from {
		if i.State == s {
			return nil
		}
	}
	return models.Errorf(models.CodeInvalid, "%s", m.msg)
}

// NewInvitation is an invitation to create.
type NewInvitation struct {
	Scope               *RoleScope
	Role                *models.Role
	Email               string
	CivilNumber         string
	FullName            string
	NativeName          string
	PhoneNumber         string
	Organization        string
	JobTitle            string
	ExtraInvitationText string
	CreatedBy           *models.User
	// Requested makes the invitation wait for staff approval
	// (ONLY_STAFF_CAN_INVITE_USERS with a non-staff creator).
	Requested bool
}

// ValidateInvitationEmail checks an invitation email (required, an
// address, at most 254 characters). Codes: invalid (field "email").
func ValidateInvitationEmail(email string) error {
	switch {
	case strings.TrimSpace(email) == "":
		return models.FieldError("email", "This field may not be blank.")
	case len(email) > 254:
		return models.FieldError("email", "Ensure this field has no more than 254 characters.")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return models.FieldError("email", "Enter a valid email address.")
	}
	return nil
}

func invMaxLen(field, v string, n int) error {
	if len([]rune(v)) > n {
		return models.FieldError(field, fmt.Sprintf("Ensure this field has no more than %d characters.", n))
	}
	return nil
}

// checkInvitationRole applies Waldur's rule: the role is active and of the scope's type.
func checkInvitationRole(role *models.Role, sc *RoleScope) error {
	if !role.IsActive {
		return models.FieldError("role", fmt.Sprintf("Object with uuid=%s does not exist.", role.UUID))
	}
	if role.ContentType != sc.Scope.Type {
		return models.Errorf(models.CodeInvalid, "Role and scope should belong to the same content type.")
	}
	return nil
}

// startsLater reports whether a project's start date is after today (UTC).
func startsLater(sc *RoleScope, now time.Time) bool {
	if sc.Scope.Type != models.ScopeProject || sc.StartDate == nil {
		return false
	}
	sd := sc.StartDate.UTC()
	start := time.Date(sd.Year(), sd.Month(), sd.Day(), 0, 0, 0, 0, time.UTC)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return start.After(today)
}

func invitationEvent(t, msg string, inv *Invitation, sc *RoleScope, role *models.Role) *models.Event {
	c := map[string]any{
		"invitation_uuid":  inv.UUID.String(),
		"invitation_email": inv.Email,
		"invitation_state": string(inv.State),
		"scope_type":       string(sc.Scope.Type),
		"scope_uuid":       sc.UUID.String(),
		"scope_name":       sc.Name,
	}
	if role != nil {
		c["role_name"] = role.Name
	}
	if sc.CustomerID != 0 {
		c["customer_uuid"] = sc.CustomerUUID.String()
		c["customer_name"] = sc.CustomerName
	}
	return &models.Event{EventType: t, Message: msg, Context: c, Scopes: sc.EventScopes()}
}

// CreateInvitation validates and stores an invitation and emits
// invitation_created (fed to the scope and its customer), in one
// transaction. The state is "project" while the project has not started,
// "requested" when staff must approve it, "pending" otherwise. The caller
// has checked that the creator may manage the scope's team. Codes: invalid.
func (s *Store) CreateInvitation(ctx context.Context, in NewInvitation) (*Invitation, error) {
	if err := ValidateInvitationEmail(in.Email); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name, v string
		n       int
	}{
		{"civil_number", in.CivilNumber, 50}, {"full_name", in.FullName, 100}, {"native_name", in.NativeName, 100},
		{"phone_number", in.PhoneNumber, 255}, {"organization", in.Organization, 255}, {"job_title", in.JobTitle, 120},
		{"extra_invitation_text", in.ExtraInvitationText, 250},
	} {
		if err := invMaxLen(f.name, f.v, f.n); err != nil {
			return nil, err
		}
	}
	if err := checkInvitationRole(in.Role, in.Scope); err != nil {
		return nil, err
	}
	if in.Scope.CustomerBlocked {
		return nil, models.Errorf(models.CodeInvalid, "Blocked/Archived organization is not available.")
	}
	if in.Scope.Removed {
		return nil, models.Errorf(models.CodeInvalid, "Cannot manage team members for terminated projects.")
	}
	now := s.Now()
	inv := &Invitation{UUID: models.NewUUID(), CustomerID: in.Scope.CustomerID, ScopeType: in.Scope.Scope.Type,
		ScopeID: in.Scope.Scope.ID, RoleID: in.Role.ID, State: InvitationPending, ExecutionState: ExecutionOK,
		Email: in.Email, CivilNumber: in.CivilNumber, FullName: in.FullName, NativeName: in.NativeName,
		PhoneNumber: in.PhoneNumber, Organization: in.Organization, JobTitle: in.JobTitle,
		ExtraInvitationText: in.ExtraInvitationText, Created: now, Modified: now}
	switch {
	case startsLater(in.Scope, now):
		inv.State, inv.ExecutionState = InvitationPendingProject, ExecutionScheduled
	case in.Requested:
		inv.State, inv.ExecutionState = InvitationRequested, ExecutionScheduled
	}
	if in.CreatedBy != nil {
		inv.CreatedByID = &in.CreatedBy.ID
	}
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.DB.WithContext(ctx).Create(inv).Error; err != nil {
			return translate(err, "Invitation")
		}
		return tx.EmitEvent(ctx, invitationEvent("invitation_created",
			fmt.Sprintf("Invitation for %s to %s %s as %s has been created.", inv.Email, in.Scope.Scope.Type, in.Scope.Name, in.Role.Name),
			inv, in.Scope, in.Role))
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// InvitationByUUID returns an invitation. Codes: not_found.
func (s *Store) InvitationByUUID(ctx context.Context, id models.UUID) (*Invitation, error) {
	var inv Invitation
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&inv).Error; err != nil {
		return nil, translate(err, "Invitation")
	}
	return &inv, nil
}

// lockInvitation re-reads an invitation inside a transaction, locking its
// row on PostgreSQL (SQLite serializes writers anyway).
func (s *Store) lockInvitation(ctx context.Context, id int64) (*Invitation, error) {
	q := forUpdate(s.DB.WithContext(ctx).Where("id = ?", id))
	var inv Invitation
	if err := q.Take(&inv).Error; err != nil {
		return nil, translate(err, "Invitation")
	}
	return &inv, nil
}

// moveInvitation applies a transition inside tx: it re-reads and locks the
// row, checks the state table, and writes the new state with extra columns.
func (s *Store) moveInvitation(ctx context.Context, id int64, action string, extra map[string]any) (*Invitation, error) {
	inv, err := s.lockInvitation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := inv.Can(action); err != nil {
		return nil, err
	}
	to := invitationMoves[action].to
	upd := map[string]any{"modified": s.Now()}
	if to != "" {
		upd["state"] = to
	}
	for k, v := range extra {
		upd[k] = v
	}
	res := s.DB.WithContext(ctx).Model(&Invitation{}).Where("id = ? AND state = ?", inv.ID, inv.State).Updates(upd)
	if res.Error != nil {
		return nil, translate(res.Error, "Invitation")
	}
	if res.RowsAffected == 0 { // changed under us (SQLite without a row lock)
		return nil, models.Errorf(models.CodeInvalid, "%s", invitationMoves[action].msg)
	}
	return s.InvitationByUUID(ctx, inv.UUID)
}

// changeInvitation runs a transition and its event in one transaction.
func (s *Store) changeInvitation(ctx context.Context, id int64, action, eventType, verb string, extra map[string]any) (*Invitation, error) {
	var out *Invitation
	err := s.Tx(ctx, func(tx *Store) error {
		inv, err := tx.moveInvitation(ctx, id, action, extra)
		if err != nil {
			return err
		}
		out = inv
		if eventType == "" {
			return nil
		}
		sc, err := tx.ResolveRoleScope(ctx, inv.Scope())
		if err != nil {
			return err
		}
		role, err := tx.RoleByID(ctx, inv.RoleID)
		if err != nil {
			return err
		}
		return tx.EmitEvent(ctx, invitationEvent(eventType,
			fmt.Sprintf("Invitation for %s to %s %s has been %s.", inv.Email, sc.Scope.Type, sc.Name, verb), inv, sc, role))
	})
	return out, err
}

// CancelInvitation cancels a pending, planned or requested invitation and
// emits invitation_canceled. The caller has checked that the user may
// manage the scope's team. Codes: not_found, invalid (wrong state).
func (s *Store) CancelInvitation(ctx context.Context, inv *Invitation) (*Invitation, error) {
	return s.changeInvitation(ctx, inv.ID, InvitationCancel, "invitation_canceled", "canceled", nil)
}

// ApproveInvitation makes a requested invitation pending (staff), restarting
// its lifetime, and emits invitation_approved. Codes: not_found, invalid.
func (s *Store) ApproveInvitation(ctx context.Context, inv *Invitation, by *models.User) (*Invitation, error) {
	now := s.Now()
	return s.changeInvitation(ctx, inv.ID, InvitationApprove, "invitation_approved", "approved",
		map[string]any{"approved_by_id": by.ID, "created": now, "execution_state": ExecutionOK})
}

// RejectInvitation rejects a requested invitation (staff) and emits
// invitation_rejected. Codes: not_found, invalid.
func (s *Store) RejectInvitation(ctx context.Context, inv *Invitation, by *models.User) (*Invitation, error) {
	return s.changeInvitation(ctx, inv.ID, InvitationReject, "invitation_rejected", "rejected",
		map[string]any{"approved_by_id": by.ID})
}

// ResendInvitation prepares a pending, expired or canceled invitation to be
// sent again (Waldur's send action): an expired or canceled one becomes
// pending with a new creation time (a new lifetime); one whose project has
// not started waits in "project". Codes: not_found, invalid.
func (s *Store) ResendInvitation(ctx context.Context, inv *Invitation) (*Invitation, error) {
	var out *Invitation
	err := s.Tx(ctx, func(tx *Store) error {
		cur, err := tx.lockInvitation(ctx, inv.ID)
		if err != nil {
			return err
		}
		if err := cur.Can(InvitationResend); err != nil {
			return err
		}
		sc, err := tx.ResolveRoleScope(ctx, cur.Scope())
		if err != nil {
			return err
		}
		now := tx.Now()
		upd := map[string]any{"modified": now, "execution_state": ExecutionOK}
		if cur.State != InvitationPending {
			upd["state"], upd["created"] = InvitationPending, now
		}
		if startsLater(sc, now) {
			upd["state"], upd["created"], upd["execution_state"] = InvitationPendingProject, now, ExecutionScheduled
		}
		if err := tx.DB.WithContext(ctx).Model(&Invitation{}).Where("id = ?", cur.ID).Updates(upd).Error; err != nil {
			return translate(err, "Invitation")
		}
		out, err = tx.InvitationByUUID(ctx, cur.UUID)
		return err
	})
	return out, err
}

// UpdateInvitation changes the email and, when role is not nil, the role
// of a pending invitation (within the same scope type). Codes: not_found,
// invalid.
func (s *Store) UpdateInvitation(ctx context.Context, inv *Invitation, email string, role *models.Role) (*Invitation, error) {
	if err := ValidateInvitationEmail(email); err != nil {
		return nil, err
	}
	extra := map[string]any{"email": email}
	if role != nil {
		if err := checkInvitationRole(role, &RoleScope{Scope: inv.Scope()}); err != nil {
			return nil, err
		}
		extra["role_id"] = role.ID
	}
	var out *Invitation
	err := s.Tx(ctx, func(tx *Store) error {
		var err error
		out, err = tx.moveInvitation(ctx, inv.ID, InvitationEdit, extra)
		return err
	})
	return out, err
}

// DeleteInvitation removes an invitation. The caller checks the permission. Codes: not_found.
func (s *Store) DeleteInvitation(ctx context.Context, inv *Invitation) error {
	res := s.DB.WithContext(ctx).Where("id = ?", inv.ID).Delete(&Invitation{})
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Invitation not found.")
	}
	return nil
}

func (s *Store) userCivilNumber(ctx context.Context, userID int64) (string, error) {
	var v struct{ CivilNumber *string }
	if err := s.DB.WithContext(ctx).Table("users").Select("civil_number").Where("id = ?", userID).Take(&v).Error; err != nil {
		return "", translate(err, "User")
	}
	if v.CivilNumber == nil {
		return "", nil
	}
	return *v.CivilNumber, nil
}

// AcceptInvitation accepts a pending invitation for u: in one transaction
// the state becomes accepted, the role is granted with GrantRole (the
// customer's nc_user_count, role_granted) and invitation_accepted is
// emitted, so an invitation is accepted once and grants once. With
// replaceEmail the user's email becomes the invitation's (event
// user_profile_changed). Codes: not_found, invalid (wrong state, expired,
// civil number mismatch, role already held, terminated project),
// quota_exceeded.
func (s *Store) AcceptInvitation(ctx context.Context, inv *Invitation, u *models.User, replaceEmail bool) (*Invitation, *models.UserRole, error) {
	var out *Invitation
	var ur *models.UserRole
	err := s.Tx(ctx, func(tx *Store) error {
		cur, err := tx.lockInvitation(ctx, inv.ID)
		if err != nil {
			return err
		}
		if err := cur.Can(InvitationAccept); err != nil {
			return err
		}
		if cur.ExpiredAt(tx.Now()) {
			return models.Errorf(models.CodeInvalid, "Invitation has expired.")
		}
		if cur.CivilNumber != "" {
			cn, err := tx.userCivilNumber(ctx, u.ID)
			if err != nil {
				return err
			}
			if cn != cur.CivilNumber {
				return models.Errorf(models.CodeInvalid, "User has an invalid civil number.")
			}
		}
		sc, err := tx.ResolveRoleScope(ctx, cur.Scope())
		if err != nil {
			return err
		}
		if sc.Removed {
			return models.Errorf(models.CodeInvalid, "Cannot manage team members for terminated projects.")
		}
		role, err := tx.RoleByID(ctx, cur.RoleID)
		if err != nil {
			return err
		}
		if out, err = tx.moveInvitation(ctx, cur.ID, InvitationAccept, map[string]any{"accepted_by_id": u.ID}); err != nil {
			return err
		}
		g := Grant{User: u, Role: role, Scope: sc.Scope, CustomerID: sc.CustomerID, EventScopes: sc.EventScopes(), ScopeName: sc.Name}
		if cur.CreatedByID != nil {
			if g.CreatedBy, err = tx.grantUser(ctx, *cur.CreatedByID); err != nil && !models.IsCode(err, models.CodeNotFound) {
				return err
			}
		}
		if ur, err = tx.GrantRole(ctx, g); err != nil {
			return err
		}
		if replaceEmail && !strings.EqualFold(u.Email, cur.Email) {
			old := u.Email
			if err := tx.DB.WithContext(ctx).Table("users").Where("id = ?", u.ID).
				Updates(map[string]any{"email": cur.Email, "modified": tx.Now()}).Error; err != nil {
				return models.Internal(err)
			}
			u.Email = cur.Email
			if err := tx.EmitEvent(ctx, &models.Event{EventType: "user_profile_changed",
				Message: fmt.Sprintf("User email has been changed via invitation from %s to %s", old, cur.Email),
				Context: map[string]any{"affected_user_uuid": u.UUID.String(), "affected_user_username": u.Username},
				Scopes:  []models.Scope{{Type: models.ScopeUser, ID: u.ID}}}); err != nil {
				return err
			}
		}
		ev := invitationEvent("invitation_accepted",
			fmt.Sprintf("Invitation for %s to %s %s has been accepted by %s.", cur.Email, sc.Scope.Type, sc.Name, u.Username), out, sc, role)
		ev.Context["affected_user_uuid"] = u.UUID.String()
		ev.Context["affected_user_username"] = u.Username
		ev.Scopes = append(ev.Scopes, models.Scope{Type: models.ScopeUser, ID: u.ID})
		return tx.EmitEvent(ctx, ev)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, ur, nil
}

// ExpireInvitations marks every pending or requested invitation older than
// InvitationLifetime expired, emitting invitation_expired for each (the
// daily invitation-expiry job). Safe to run concurrently and repeatedly.
func (s *Store) ExpireInvitations(ctx context.Context) (int, error) {
	n := 0
	for {
		var ids []int64
		err := s.DB.WithContext(ctx).Model(&Invitation{}).
			Where("state IN ? AND created <= ?", []InvitationState{InvitationPending, InvitationRequested}, s.Now().Add(-InvitationLifetime)).
			Order("id").Limit(500).Pluck("id", &ids).Error
		if err != nil {
			return n, models.Internal(err)
		}
		done := 0
		for _, id := range ids {
			_, err := s.changeInvitation(ctx, id, InvitationExpire, "invitation_expired", "expired", nil)
			switch {
			case err == nil:
				n++
				done++
			case models.IsCode(err, models.CodeInvalid), models.IsCode(err, models.CodeNotFound):
				// Changed or deleted by someone else meanwhile.
			default:
				return n, err
			}
		}
		if len(ids) < 500 || done == 0 {
			return n, nil
		}
	}
}

// ActivateProjectInvitations makes the invitations waiting for their
// project ("project") pending once the project has started (Waldur's
// process_pending_project_invitations); their lifetime starts then.
func (s *Store) ActivateProjectInvitations(ctx context.Context) (int, error) {
	now := s.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	started := s.DB.Session(&gorm.Session{NewDB: true}).Table("projects").Select("id").
		Where("start_date IS NULL OR start_date <= ?", today)
	res := s.DB.WithContext(ctx).Model(&Invitation{}).
		Where("state = ? AND scope_type = ? AND scope_id IN (?)", InvitationPendingProject, models.ScopeProject, started).
		Updates(map[string]any{"state": InvitationPending, "created": now, "modified": now, "execution_state": ExecutionOK})
	if res.Error != nil {
		return 0, models.Internal(res.Error)
	}
	return int(res.RowsAffected), nil
}

// InvitationFilter narrows InvitationsQuery (Waldur's InvitationFilter).
type InvitationFilter struct {
	States           []InvitationState
	Email            string // icontains
	EmailExact       string // iexact
	CivilNumber      string
	RoleName         string // exact
	RoleUUIDs        []models.UUID
	CustomerUUIDs    []models.UUID
	ProjectUUIDs     []models.UUID
	ScopeType        models.ScopeType
	Scope            *models.Scope
	ScopeName        string // icontains
	ScopeDescription string // icontains
	// Nothing matches no invitation (a scope filter naming no object).
	Nothing bool
}

// scopesWithPermission is the subquery of scope ids of type t where u holds,
// in force, an active role carrying perm (the SQL form of rbac.Checker.Has).
func (s *Store) scopesWithPermission(u *models.User, t models.ScopeType, perm models.Permission, now time.Time) *gorm.DB {
	return rbac.ScopeIDs(s.DB, u.ID, t, rbac.Held{Permission: perm}, now)
}

// InvitationsQuery returns the invitations the caller may see, narrowed by
// f, as a query over table "invitations" (rows scan into Invitation), for
// rest.List. Staff and support see all; anyone else sees the invitations of
// the scopes whose team they may manage: X.CREATE_PERMISSION on the scope
// or on its customer (Waldur's can_manage_invitation_with). Anonymous
// users see none.
func (s *Store) InvitationsQuery(ctx context.Context, f InvitationFilter) Query {
	return QueryOf(s.invitationsQuery(ctx, caller(ctx), f))
}

// invitationsQuery is InvitationsQuery for the user u, as a GORM query.
func (s *Store) invitationsQuery(ctx context.Context, u *models.User, f InvitationFilter) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("invitations")
	now := s.Now()
	switch {
	case u == nil:
		q = q.Where("1 = 0")
	case u.IsStaff || u.IsSupport:
	default:
		vis := s.DB.Session(&gorm.Session{NewDB: true}).Where("1 = 0")
		for _, t := range RoleContentTypes {
			perm, ok := models.CreatePermissionFor[t]
			if !ok {
				continue
			}
			vis = vis.Or("invitations.scope_type = ? AND (invitations.scope_id IN (?) OR invitations.customer_id IN (?))",
				t, s.scopesWithPermission(u, t, perm, now), s.scopesWithPermission(u, models.ScopeCustomer, perm, now))
		}
		q = q.Where(vis)
	}
	if len(f.States) > 0 {
		q = q.Where("invitations.state IN ?", f.States)
	}
	if f.Email != "" {
		q = permLike(q, "invitations.email", f.Email)
	}
	if f.EmailExact != "" {
		q = q.Where("LOWER(invitations.email) = ?", strings.ToLower(f.EmailExact))
	}
	if f.CivilNumber != "" {
		q = q.Where("invitations.civil_number = ?", f.CivilNumber)
	}
	sub := func(table string) *gorm.DB {
		return s.DB.Session(&gorm.Session{NewDB: true}).Table(table).Select("id")
	}
	if f.RoleName != "" {
		q = q.Where("invitations.role_id IN (?)", sub("roles").Where("name = ?", f.RoleName))
	}
	if len(f.RoleUUIDs) > 0 {
		q = q.Where("invitations.role_id IN (?)", sub("roles").Where("uuid IN ?", f.RoleUUIDs))
	}
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("invitations.customer_id IN (?)", sub("customers").Where("uuid IN ?", f.CustomerUUIDs))
	}
	if len(f.ProjectUUIDs) > 0 {
		q = q.Where("invitations.scope_type = ? AND invitations.scope_id IN (?)", models.ScopeProject,
			sub("projects").Where("uuid IN ?", f.ProjectUUIDs))
	}
	if f.ScopeType != "" {
		q = q.Where("invitations.scope_type = ?", f.ScopeType)
	}
	if f.Scope != nil {
		q = q.Where("invitations.scope_type = ? AND invitations.scope_id = ?", f.Scope.Type, f.Scope.ID)
	}
	for _, m := range []struct{ col, v string }{{"name", f.ScopeName}, {"description", f.ScopeDescription}} {
		if m.v == "" {
			continue
		}
		q = q.Where(s.DB.Session(&gorm.Session{NewDB: true}).
			Where("invitations.scope_type = ? AND invitations.scope_id IN (?)", models.ScopeCustomer, permLike(sub("customers"), m.col, m.v)).
			Or("invitations.scope_type = ? AND invitations.scope_id IN (?)", models.ScopeProject, permLike(sub("projects"), m.col, m.v)))
	}
	if f.Nothing {
		q = q.Where("1 = 0")
	}
	return q
}

// VisibleInvitation returns the invitation if the caller may see it in the
// list (see InvitationsQuery). Codes: not_found.
func (s *Store) VisibleInvitation(ctx context.Context, id models.UUID) (*Invitation, error) {
	var inv Invitation
	if err := s.invitationsQuery(ctx, caller(ctx), InvitationFilter{}).Where("invitations.uuid = ?", id).Take(&inv).Error; err != nil {
		return nil, translate(err, "Invitation")
	}
	return &inv, nil
}

// InvitationDetailsVisible applies Waldur's VisibleInvitationFilter for
// the public details of one invitation to the caller: staff and support
// see all; others see a pending, expired or canceled invitation addressed
// to them (no civil number, or theirs) and any invitation of a scope where
// they hold a role.
func (s *Store) InvitationDetailsVisible(ctx context.Context, inv *Invitation) (bool, error) {
	u := caller(ctx)
	if u == nil {
		return false, nil
	}
	if u.IsStaff || u.IsSupport {
		return true, nil
	}
	switch inv.State {
	case InvitationPending, InvitationExpired, InvitationCanceled:
		if inv.CivilNumber == "" {
			return true, nil
		}
		cn, err := s.userCivilNumber(ctx, u.ID)
		if err != nil {
			return false, err
		}
		if cn == inv.CivilNumber {
			return true, nil
		}
	}
	var n int64
	err := s.DB.WithContext(ctx).Model(&userRoleRow{}).Where("user_id = ? AND scope_type = ? AND scope_id = ? AND is_active = ?",
		u.ID, inv.ScopeType, inv.ScopeID, true).Count(&n).Error
	if err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// PendingInvitationDuplicate returns the pending invitation of email
// (case-insensitive) for role on scope, if any. Codes: not_found.
func (s *Store) PendingInvitationDuplicate(ctx context.Context, sc models.Scope, email string, roleID int64) (*Invitation, error) {
	var inv Invitation
	err := s.DB.WithContext(ctx).Where("scope_type = ? AND scope_id = ? AND role_id = ? AND state = ? AND LOWER(email) = ?",
		sc.Type, sc.ID, roleID, InvitationPending, strings.ToLower(email)).Order("id").Take(&inv).Error
	if err != nil {
		return nil, translate(err, "Invitation")
	}
	return &inv, nil
}

// InvitationView is an invitation with what its rendering needs.
type InvitationView struct {
	*Invitation
	Role      *models.Role
	Scope     *RoleScope
	CreatedBy *models.User // nil when unknown
}

// InvitationViews loads the roles, scopes and creators of invitations in
// a few queries (for list pages).
func (s *Store) InvitationViews(ctx context.Context, invs []Invitation) ([]InvitationView, error) {
	roleIDs, userIDs := map[int64]bool{}, map[int64]bool{}
	scopeIDs := map[models.ScopeType][]int64{}
	for _, inv := range invs {
		roleIDs[inv.RoleID] = true
		if inv.CreatedByID != nil {
			userIDs[*inv.CreatedByID] = true
		}
		scopeIDs[inv.ScopeType] = append(scopeIDs[inv.ScopeType], inv.ScopeID)
	}
	db := s.DB.WithContext(ctx)
	roles := map[int64]*models.Role{}
	if len(roleIDs) > 0 {
		var rows []roleRow
		if err := db.Where("id IN ?", invKeys(roleIDs)).Find(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		for _, r := range rows {
			roles[r.ID] = r.model()
		}
	}
	users := map[int64]*models.User{}
	if len(userIDs) > 0 {
		var rows []userRow
		if err := db.Where("id IN ?", invKeys(userIDs)).Find(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		for _, r := range rows {
			users[r.ID] = r.model()
		}
	}
	scopes := map[models.Scope]*RoleScope{}
	for t, ids := range scopeIDs {
		q, ok := s.roleScopeQuery(ctx, t)
		if !ok {
			continue
		}
		var rows []roleScopeRow
		if err := q.Where(string(t)+"s.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		for _, r := range rows {
			scopes[models.Scope{Type: t, ID: r.ID}] = r.scope(t)
		}
	}
	out := make([]InvitationView, len(invs))
	for i := range invs {
		inv := &invs[i]
		v := InvitationView{Invitation: inv, Role: roles[inv.RoleID], Scope: scopes[inv.Scope()]}
		if v.Role == nil {
			v.Role = &models.Role{ID: inv.RoleID}
		}
		if v.Scope == nil {
			v.Scope = &RoleScope{Scope: inv.Scope(), Name: string(inv.ScopeType), CustomerID: inv.CustomerID}
		}
		if inv.CreatedByID != nil {
			v.CreatedBy = users[*inv.CreatedByID]
		}
		out[i] = v
	}
	return out, nil
}

func invKeys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
