package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// knownPermissions is every permission a role may carry: Waldur's
// PermissionEnum as published by /api/metadata/permissions/ in the 8.0.5
// OpenAPI file, plus the members the reference lists (CUSTOMER.CREATE,
// CUSTOMER.DELETE) that the default roles use. A test checks that every
// permission of rbac.DefaultRoles is here.
var knownPermissions = func() map[models.Permission]bool {
	m := map[models.Permission]bool{}
	for _, p := range []string{
		"ACCESS_SUBNET.CREATE", "ACCESS_SUBNET.DELETE", "ACCESS_SUBNET.UPDATE",
		"CALL.APPROVE_AND_REJECT_PROPOSALS", "CALL.CLOSE_ROUNDS", "CALL.CREATE", "CALL.CREATE_PERMISSION", "CALL.DELETE_PERMISSION",
		"CALL.LIST", "CALL.UPDATE", "CALL.UPDATE_PERMISSION",
		"CUSTOMER.CONTACT_UPDATE", "CUSTOMER.CREATE", "CUSTOMER.CREATE_PERMISSION", "CUSTOMER.DELETE", "CUSTOMER.DELETE_PERMISSION",
		"CUSTOMER.LIST_PERMISSION_REVIEWS", "CUSTOMER.LIST_USERS", "CUSTOMER.UPDATE", "CUSTOMER.UPDATE_PERMISSION",
		"INVITATION.LIST",
		"LEXIS_LINK.CREATE", "LEXIS_LINK.DELETE",
		"OFFERING.ACCEPT_CALL_REQUEST", "OFFERING.ADD_ENDPOINT", "OFFERING.ARCHIVE", "OFFERING.ARCHIVE_PLAN", "OFFERING.CREATE",
		"OFFERING.CREATE_PERMISSION", "OFFERING.CREATE_PLAN", "OFFERING.CREATE_SCREENSHOT", "OFFERING.CREATE_USER", "OFFERING.DELETE",
		"OFFERING.DELETE_ENDPOINT", "OFFERING.DELETE_PERMISSION", "OFFERING.DELETE_SCREENSHOT", "OFFERING.DELETE_USER",
		"OFFERING.DRY_RUN_SCRIPT", "OFFERING.MANAGE_BACKEND_RESOURCES", "OFFERING.MANAGE_CAMPAIGN", "OFFERING.MANAGE_USER_GROUP",
		"OFFERING.MANAGE_USER_ROLE", "OFFERING.PAUSE", "OFFERING.UNPAUSE", "OFFERING.UPDATE", "OFFERING.UPDATE_ATTRIBUTES",
		"OFFERING.UPDATE_COMPONENTS", "OFFERING.UPDATE_DESCRIPTION", "OFFERING.UPDATE_INTEGRATION", "OFFERING.UPDATE_LOCATION",
		"OFFERING.UPDATE_OPTIONS", "OFFERING.UPDATE_PERMISSION", "OFFERING.UPDATE_PLAN", "OFFERING.UPDATE_SCREENSHOT",
		"OFFERING.UPDATE_THUMBNAIL", "OFFERING.UPDATE_USER",
		"OFFERINGUSER.UPDATE_RESTRICTION",
		"OPENSTACK_INSTANCE.CONSOLE_ACCESS", "OPENSTACK_INSTANCE.MANAGE", "OPENSTACK_INSTANCE.MANAGE_POWER",
		"ORDER.APPROVE", "ORDER.APPROVE_PRIVATE", "ORDER.CANCEL", "ORDER.DESTROY", "ORDER.LIST", "ORDER.REJECT",
		"PROJECT.COURSE_ACCOUNT_MANAGE", "PROJECT.CREATE", "PROJECT.CREATE_PERMISSION", "PROJECT.DELETE", "PROJECT.DELETE_PERMISSION",
		"PROJECT.LIST", "PROJECT.REVIEW_MEMBERSHIP", "PROJECT.UPDATE", "PROJECT.UPDATE_METADATA", "PROJECT.UPDATE_PERMISSION",
		"PROPOSAL.DELETE_PERMISSION", "PROPOSAL.LIST", "PROPOSAL.MANAGE", "PROPOSAL.MANAGE_REVIEW", "PROPOSAL.UPDATE_PERMISSION",
		"RESOURCE.ACCEPT_BOOKING_REQUEST", "RESOURCE.CONSUMPTION_LIMITATION", "RESOURCE.CREATE_ROBOT_ACCOUNT",
		"RESOURCE.DELETE_ROBOT_ACCOUNT", "RESOURCE.LIST", "RESOURCE.LIST_IMPORTABLE", "RESOURCE.MANAGE_USERS",
		"RESOURCE.REJECT_BOOKING_REQUEST", "RESOURCE.SET_BACKEND_ID", "RESOURCE.SET_BACKEND_METADATA", "RESOURCE.SET_END_DATE",
		"RESOURCE.SET_LIMITS", "RESOURCE.SET_PLAN", "RESOURCE.SET_STATE", "RESOURCE.SET_USAGE", "RESOURCE.SUBMIT_REPORT",
		"RESOURCE.TERMINATE", "RESOURCE.UPDATE", "RESOURCE.UPDATE_OPTIONS", "RESOURCE.UPDATE_ROBOT_ACCOUNT",
		"ROUND.LIST",
		"SERVICE_ACCOUNT.MANAGE",
		"SERVICE_PROVIDER.GENERATE_API_SECRET_CODE", "SERVICE_PROVIDER.GET_API_SECRET_CODE", "SERVICE_PROVIDER.GET_REVENUE",
		"SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_CUSTOMERS", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_PROJECTS", "SERVICE_PROVIDER.GET_STATISTICS",
		"SERVICE_PROVIDER.LIST_COURSE_ACCOUNTS", "SERVICE_PROVIDER.LIST_CUSTOMERS", "SERVICE_PROVIDER.LIST_CUSTOMER_PROJECTS",
		"SERVICE_PROVIDER.LIST_KEYS", "SERVICE_PROVIDER.LIST_PROJECTS", "SERVICE_PROVIDER.LIST_PROJECT_PERMISSIONS",
		"SERVICE_PROVIDER.LIST_SERVICE_ACCOUNTS", "SERVICE_PROVIDER.LIST_USERS", "SERVICE_PROVIDER.LIST_USER_CUSTOMERS",
		"SERVICE_PROVIDER.OPENSTACK_IMAGE_MANAGEMENT", "SERVICE_PROVIDER.REGISTER", "SERVICE_PROVIDER.SET_OFFERINGS_USERNAME",
	} {
		m[models.Permission(p)] = true
	}
	return m
}()

// KnownPermission reports whether p is a permission string a role may carry.
func KnownPermission(p models.Permission) bool { return knownPermissions[p] }

// KnownPermissions lists every permission a role may carry, sorted.
func KnownPermissions() []models.Permission {
	out := make([]models.Permission, 0, len(knownPermissions))
	for p := range knownPermissions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// RoleContentTypes are the scope types a role may be bound to here (a
// subset of Waldur's RoleType: the structure and marketplace scopes).
var RoleContentTypes = []models.ScopeType{models.ScopeCustomer, models.ScopeProject, models.ScopeOffering}

func validRoleContentType(t models.ScopeType) bool {
	for _, x := range RoleContentTypes {
		if x == t {
			return true
		}
	}
	return false
}

type rolePermRow struct {
	RoleID     int64
	Permission models.Permission
}

func (rolePermRow) TableName() string { return "role_permissions" }

// RoleInput is a role to create, or the full new definition of one (PUT).
type RoleInput struct {
	Name        string
	Description string
	// Descriptions are the description in other languages (not "en").
	Descriptions map[string]string
	ContentType  models.ScopeType
	Permissions  []models.Permission
	// IsActive nil keeps the current state (true for a new role).
	IsActive *bool
}

// RolePatch changes the fields that are set.
type RolePatch struct {
	Name        *string
	Description *string
	// Descriptions set the description in other languages (not "en"); a
	// nil value removes the language's.
	Descriptions map[string]*string
	ContentType  *models.ScopeType
	Permissions  *[]models.Permission
	IsActive     *bool
}

// RoleFilter narrows RolesQuery (Waldur's RoleFilter plus content_type).
type RoleFilter struct {
	Name        string // icontains
	Description string // icontains
	IsActive    *bool
	ContentType []models.ScopeType
}

// RolesQuery returns the roles matching f as a query over table "roles"
// (rows scan into models.Role), for rest.List. Anyone may list roles.
func (s *Store) RolesQuery(ctx context.Context, f RoleFilter) Query {
	q := s.DB.WithContext(ctx).Table("roles")
	if f.Name != "" {
		q = permLike(q, "roles.name", f.Name)
	}
	if f.Description != "" {
		q = permLike(q, "roles.description", f.Description)
	}
	if f.IsActive != nil {
		q = q.Where("roles.is_active = ?", *f.IsActive)
	}
	if len(f.ContentType) > 0 {
		q = q.Where("roles.content_type IN ?", f.ContentType)
	}
	return QueryOf(q)
}

// permLike is a case-insensitive "contains" condition on col (DRF's
// icontains), with the LIKE wildcards of the value taken literally.
func permLike(q *gorm.DB, col, v string) *gorm.DB {
	v = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(v))
	return q.Where("LOWER("+col+") LIKE ? ESCAPE '\\'", "%"+v+"%")
}

// RolePermissions returns the permissions of each role, sorted.
func (s *Store) RolePermissions(ctx context.Context, roleIDs []int64) (map[int64][]models.Permission, error) {
	out := map[int64][]models.Permission{}
	if len(roleIDs) == 0 {
		return out, nil
	}
	var rows []rolePermRow
	if err := s.DB.WithContext(ctx).Where("role_id IN ?", roleIDs).Order("role_id, permission").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.RoleID] = append(out[r.RoleID], r.Permission)
	}
	return out, nil
}

// RoleUsersCounts returns, per role, how many user roles with it are active
// (Waldur's users_count).
func (s *Store) RoleUsersCounts(ctx context.Context, roleIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(roleIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		RoleID int64
		N      int64
	}
	err := s.DB.WithContext(ctx).Table("user_roles").Select("role_id, COUNT(*) AS n").
		Where("role_id IN ? AND is_active = ?", roleIDs, true).Group("role_id").Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.RoleID] = r.N
	}
	return out, nil
}

// RoleWithPermissions returns a role with its permissions. Codes: not_found.
func (s *Store) RoleWithPermissions(ctx context.Context, id models.UUID) (*models.Role, error) {
	r, err := s.RoleByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ps, err := s.RolePermissions(ctx, []int64{r.ID})
	if err != nil {
		return nil, err
	}
	r.Permissions = ps[r.ID]
	return r, nil
}

func validateRoleName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return models.FieldError("name", "This field may not be blank.")
	case len(name) > 150:
		return models.FieldError("name", "Ensure this field has no more than 150 characters.")
	}
	return nil
}

func validateRoleDescription(d string) error { return validateDescription("description", d) }

func validateDescription(field, d string) error {
	if len(d) > 4096 {
		return models.FieldError(field, "Ensure this field has no more than 4096 characters.")
	}
	return nil
}

// validateDescriptions checks the translated descriptions: known languages
// other than English (which is the description), each within 4096 characters.
func validateDescriptions[V string | *string](ds map[string]V) error {
	for _, lang := range models.DescriptionLanguages[1:] {
		v, ok := ds[lang]
		if !ok {
			continue
		}
		var text string
		switch x := any(v).(type) {
		case string:
			text = x
		case *string:
			if x == nil {
				continue
			}
			text = *x
		}
		if err := validateDescription("description_"+lang, text); err != nil {
			return err
		}
	}
	for lang := range ds {
		if lang == "en" || !slices.Contains(models.DescriptionLanguages, lang) {
			return models.FieldError("description_"+lang, "Unknown language.")
		}
	}
	return nil
}

// normalizePermissions checks every permission is known (Waldur's message)
// and drops duplicates, keeping the order given.
func normalizePermissions(ps []models.Permission) ([]models.Permission, error) {
	var invalid []string
	seen := map[models.Permission]bool{}
	out := make([]models.Permission, 0, len(ps))
	for _, p := range ps {
		if !KnownPermission(p) {
			invalid = append(invalid, string(p))
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(invalid) > 0 {
		return nil, models.FieldError("permissions", "Invalid permissions "+strings.Join(invalid, ","))
	}
	return out, nil
}

// nextRoleModified is the modified time for a role change: now, or just
// after the newest modified time when the clock is behind it. The
// rbac.Checker reloads its policy when COUNT(*) or MAX(modified) of the
// roles table changes, so every change must move MAX(modified) forward even
// when clocks disagree. On PostgreSQL every role row is locked first (there
// are tens of them), so concurrent role changes are serialized and each
// sees the time the previous one wrote.
func (s *Store) nextRoleModified(ctx context.Context) (time.Time, error) {
	db := s.DB.WithContext(ctx)
	var ids []int64
	if err := forUpdate(db.Table("roles")).Pluck("id", &ids).Error; err != nil {
		return time.Time{}, models.Internal(err)
	}
	now := s.Now()
	var last roleRow
	if err := db.Order("modified DESC").Limit(1).Find(&last).Error; err != nil {
		return time.Time{}, models.Internal(err)
	}
	if last.ID != 0 && !now.After(last.Modified) {
		now = last.Modified.Add(time.Microsecond)
	}
	return now.UTC(), nil
}

func (s *Store) roleNameTaken(ctx context.Context, name string, exceptID int64) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&roleRow{}).Where("name = ? AND id <> ?", name, exceptID).Count(&n).Error
	if err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

func (s *Store) activeUserRoleCount(ctx context.Context, roleID int64) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&userRoleRow{}).Where("role_id = ? AND is_active = ?", roleID, true).Count(&n).Error
	if err != nil {
		return 0, models.Internal(err)
	}
	return n, nil
}

func (s *Store) setRolePermissions(ctx context.Context, roleID int64, ps []models.Permission) error {
	db := s.DB.WithContext(ctx)
	keep := make([]string, len(ps))
	for i, p := range ps {
		keep[i] = string(p)
	}
	del := db.Where("role_id = ?", roleID)
	if len(keep) > 0 {
		del = del.Where("permission NOT IN ?", keep)
	}
	if err := del.Delete(&rolePermRow{}).Error; err != nil {
		return models.Internal(err)
	}
	if len(ps) == 0 {
		return nil
	}
	rows := make([]rolePermRow, len(ps))
	for i, p := range ps {
		rows[i] = rolePermRow{RoleID: roleID, Permission: p}
	}
	err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "role_id"}, {Name: "permission"}}, DoNothing: true}).Create(&rows).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// CreateRole adds a custom role (is_system_role false) with its
// permissions, in one transaction that moves roles.modified forward so
// every rbac.Checker reloads. Staff only (the caller checks). Codes:
// invalid (blank or taken name, unknown content type or permission).
func (s *Store) CreateRole(ctx context.Context, in RoleInput) (*models.Role, error) {
	if err := validateRoleName(in.Name); err != nil {
		return nil, err
	}
	if err := validateRoleDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validateDescriptions(in.Descriptions); err != nil {
		return nil, err
	}
	if !validRoleContentType(in.ContentType) {
		return nil, models.FieldError("content_type", "Invalid content type.")
	}
	ps, err := normalizePermissions(in.Permissions)
	if err != nil {
		return nil, err
	}
	active := true
	if in.IsActive != nil {
		active = *in.IsActive
	}
	var out *models.Role
	err = s.Tx(ctx, func(tx *Store) error {
		if taken, err := tx.roleNameTaken(ctx, in.Name, 0); err != nil {
			return err
		} else if taken {
			return models.Errorf(models.CodeInvalid, "Name should be unique.")
		}
		mod, err := tx.nextRoleModified(ctx)
		if err != nil {
			return err
		}
		row := roleRow{UUID: models.NewUUID(), Name: in.Name, Description: in.Description, Descriptions: in.Descriptions, ContentType: in.ContentType,
			IsActive: active, Modified: mod}
		if err := tx.DB.WithContext(ctx).Create(&row).Error; err != nil {
			return translate(err, "Role")
		}
		if err := tx.setRolePermissions(ctx, row.ID, ps); err != nil {
			return err
		}
		out = row.model()
		out.Permissions = sortedPermissions(ps)
		return nil
	})
	return out, err
}

func sortedPermissions(ps []models.Permission) []models.Permission {
	out := append([]models.Permission{}, ps...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// UpdateRole changes the fields of p that are set, in one transaction that
// also moves roles.modified forward, so a permission removed here stops
// granting on every API replica at its next check. Staff only (the caller
// checks). A system role keeps its name; a role held by active user roles
// keeps its content type (those grants would land on the wrong kind of
// scope). Codes: not_found, invalid.
func (s *Store) UpdateRole(ctx context.Context, id models.UUID, p RolePatch) (*models.Role, error) {
	if p.Name != nil {
		if err := validateRoleName(*p.Name); err != nil {
			return nil, err
		}
	}
	if p.Description != nil {
		if err := validateRoleDescription(*p.Description); err != nil {
			return nil, err
		}
	}
	if err := validateDescriptions(p.Descriptions); err != nil {
		return nil, err
	}
	if p.ContentType != nil && !validRoleContentType(*p.ContentType) {
		return nil, models.FieldError("content_type", "Invalid content type.")
	}
	var ps []models.Permission
	if p.Permissions != nil {
		var err error
		if ps, err = normalizePermissions(*p.Permissions); err != nil {
			return nil, err
		}
	}
	var out *models.Role
	err := s.Tx(ctx, func(tx *Store) error {
		var row roleRow
		if err := tx.DB.WithContext(ctx).Where("uuid = ?", id).Take(&row).Error; err != nil {
			return translate(err, "Role")
		}
		if p.Name != nil && *p.Name != row.Name {
			if row.IsSystemRole {
				return models.Errorf(models.CodeInvalid, "Changing name for system role is not possible.")
			}
			if taken, err := tx.roleNameTaken(ctx, *p.Name, row.ID); err != nil {
				return err
			} else if taken {
				return models.Errorf(models.CodeInvalid, "Name should be unique.")
			}
			row.Name = *p.Name
		}
		if p.Description != nil {
			row.Description = *p.Description
		}
		if len(p.Descriptions) > 0 {
			ds := maps.Clone(row.Descriptions)
			if ds == nil {
				ds = map[string]string{}
			}
			for lang, v := range p.Descriptions {
				if v == nil {
					delete(ds, lang)
				} else {
					ds[lang] = *v
				}
			}
			row.Descriptions = ds
		}
		if p.ContentType != nil && *p.ContentType != row.ContentType {
			n, err := tx.activeUserRoleCount(ctx, row.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return models.FieldError("content_type", "Content type of a role that is still used cannot be changed.")
			}
			row.ContentType = *p.ContentType
		}
		if p.IsActive != nil {
			row.IsActive = *p.IsActive
		}
		mod, err := tx.nextRoleModified(ctx)
		if err != nil {
			return err
		}
		row.Modified = mod
		if err := tx.DB.WithContext(ctx).Model(&roleRow{}).Where("id = ?", row.ID).
			Select("name", "description", "descriptions", "content_type", "is_active", "modified").Updates(&row).Error; err != nil {
			return translate(err, "Role")
		}
		if p.Permissions != nil {
			if err := tx.setRolePermissions(ctx, row.ID, ps); err != nil {
				return err
			}
		}
		cur, err := tx.RolePermissions(ctx, []int64{row.ID})
		if err != nil {
			return err
		}
		out = row.model()
		out.Permissions = cur[row.ID]
		return nil
	})
	return out, err
}

// SetRoleActive enables or disables a role (staff). A disabled role can no
// longer be granted, and its permissions stop counting in rbac decisions.
// Codes: not_found.
func (s *Store) SetRoleActive(ctx context.Context, id models.UUID, active bool) (*models.Role, error) {
	return s.UpdateRole(ctx, id, RolePatch{IsActive: &active})
}

// DeleteRole removes a custom role (Waldur's can_destroy_role: not a system
// role, no active user roles). Its permissions and its revoked user roles
// (history) go with it, as Waldur's cascade does. Staff only (the caller
// checks). Codes: not_found, invalid.
func (s *Store) DeleteRole(ctx context.Context, id models.UUID) error {
	return s.Tx(ctx, func(tx *Store) error {
		var row roleRow
		if err := tx.DB.WithContext(ctx).Where("uuid = ?", id).Take(&row).Error; err != nil {
			return translate(err, "Role")
		}
		if row.IsSystemRole {
			return models.Errorf(models.CodeInvalid, "Destroying of system role is not available.")
		}
		n, err := tx.activeUserRoleCount(ctx, row.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.CodeInvalid, "Role is still used.")
		}
		db := tx.DB.WithContext(ctx)
		var pending int64
		if err := db.Table("invitations").Where("role_id = ? AND state IN ?", row.ID,
			[]InvitationState{InvitationPending, InvitationPendingProject, InvitationRequested}).Count(&pending).Error; err != nil {
			return models.Internal(err)
		}
		if pending > 0 {
			return models.Errorf(models.CodeInvalid, "Role is still used by pending invitations.")
		}
		for _, stmt := range []struct {
			table string
			where string
		}{
			{"invitations", "role_id = ?"},
			{"user_roles", "role_id = ?"},
			{"role_permissions", "role_id = ?"},
			{"roles", "id = ?"},
		} {
			if err := db.Exec(fmt.Sprintf("DELETE FROM %s WHERE %s", stmt.table, stmt.where), row.ID).Error; err != nil {
				return models.Internal(err)
			}
		}
		return nil
	})
}

// roleScopeRow is what a grant or an invitation needs to know about its scope.
type roleScopeRow struct {
	ID           int64
	UUID         models.UUID
	Name         string
	Description  string
	CustomerID   int64
	CustomerUUID models.UUID
	CustomerName string
	Blocked      bool
	Archived     bool
	IsRemoved    bool
	StartDate    *time.Time
}

// RoleScope describes the object a role or an invitation is attached to.
type RoleScope struct {
	Scope        models.Scope
	UUID         models.UUID
	Name         string
	Description  string
	CustomerID   int64 // 0 when unknown (offerings, until the marketplace has them)
	CustomerUUID models.UUID
	CustomerName string
	// CustomerBlocked is true for a blocked or archived customer.
	CustomerBlocked bool
	// Removed is true for a soft-deleted project.
	Removed bool
	// StartDate is a project's start date.
	StartDate *time.Time
}

// EventScopes are the feeds of an event about the scope: the scope and its customer.
func (r *RoleScope) EventScopes() []models.Scope {
	out := []models.Scope{r.Scope}
	if r.CustomerID != 0 && r.Scope != (models.Scope{Type: models.ScopeCustomer, ID: r.CustomerID}) {
		out = append(out, models.Scope{Type: models.ScopeCustomer, ID: r.CustomerID})
	}
	return out
}

func (r roleScopeRow) scope(t models.ScopeType) *RoleScope {
	return &RoleScope{Scope: models.Scope{Type: t, ID: r.ID}, UUID: r.UUID, Name: r.Name, Description: r.Description,
		CustomerID: r.CustomerID, CustomerUUID: r.CustomerUUID, CustomerName: r.CustomerName,
		CustomerBlocked: r.Blocked || r.Archived, Removed: r.IsRemoved, StartDate: r.StartDate}
}

func (s *Store) roleScopeQuery(ctx context.Context, t models.ScopeType) (*gorm.DB, bool) {
	db := s.DB.WithContext(ctx)
	switch t {
	case models.ScopeCustomer:
		return db.Table("customers").Select(`customers.id, customers.uuid, customers.name, customers.description,
			customers.id AS customer_id, customers.uuid AS customer_uuid, customers.name AS customer_name,
			customers.blocked, customers.archived`), true
	case models.ScopeProject:
		return db.Table("projects").Joins("JOIN customers ON customers.id = projects.customer_id").
			Select(`projects.id, projects.uuid, projects.name, projects.description, projects.is_removed, projects.start_date,
			customers.id AS customer_id, customers.uuid AS customer_uuid, customers.name AS customer_name,
			customers.blocked, customers.archived`), true
	}
	return nil, false
}

// ResolveRoleScope describes a scope by internal id. An offering (no table
// yet) is described by its type only, with customer 0. Codes: not_found.
func (s *Store) ResolveRoleScope(ctx context.Context, sc models.Scope) (*RoleScope, error) {
	q, ok := s.roleScopeQuery(ctx, sc.Type)
	if !ok {
		return &RoleScope{Scope: sc, Name: string(sc.Type)}, nil
	}
	var r roleScopeRow
	if err := q.Where(string(sc.Type)+"s.id = ?", sc.ID).Take(&r).Error; err != nil {
		return nil, translate(err, strings.ToUpper(string(sc.Type[:1]))+string(sc.Type[1:]))
	}
	return r.scope(sc.Type), nil
}

// ResolveRoleScopeUUID describes a customer or a project by UUID; removed
// projects are not found. Codes: not_found, invalid (other scope types).
func (s *Store) ResolveRoleScopeUUID(ctx context.Context, t models.ScopeType, id models.UUID) (*RoleScope, error) {
	q, ok := s.roleScopeQuery(ctx, t)
	if !ok {
		return nil, models.Errorf(models.CodeInvalid, "Scope type %s is not supported.", t)
	}
	q = q.Where(string(t)+"s.uuid = ?", id)
	if t == models.ScopeProject {
		q = q.Where("projects.is_removed = ?", false)
	}
	var r roleScopeRow
	if err := q.Take(&r).Error; err != nil {
		return nil, translate(err, strings.ToUpper(string(t[:1]))+string(t[1:]))
	}
	return r.scope(t), nil
}

func (s *Store) grantUser(ctx context.Context, id int64) (*models.User, error) {
	var u userRow
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, translate(err, "User")
	}
	return u.model(), nil
}

// GrantOfUserRole builds the Grant describing an existing user role (its
// user, role, scope name, customer and event feeds): the resolver the
// role-expiry job passes to RevokeExpiredRoles. Offering scopes have no
// customer yet (CustomerID 0: no quota change). Codes: not_found.
func GrantOfUserRole(ctx context.Context, tx *Store, ur *models.UserRole) (Grant, error) {
	u, err := tx.grantUser(ctx, ur.UserID)
	if err != nil {
		return Grant{}, err
	}
	role, err := tx.RoleByID(ctx, ur.RoleID)
	if err != nil {
		return Grant{}, err
	}
	sc, err := tx.ResolveRoleScope(ctx, models.Scope{Type: ur.ScopeType, ID: ur.ScopeID})
	if err != nil {
		return Grant{}, err
	}
	return Grant{User: u, Role: role, Scope: sc.Scope, CustomerID: sc.CustomerID, ExpirationTime: ur.ExpirationTime,
		EventScopes: sc.EventScopes(), ScopeName: sc.Name}, nil
}
