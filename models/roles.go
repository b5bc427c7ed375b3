package models

import "time"

// Permission is one permission string of Waldur's PermissionEnum, e.g. "PROJECT.CREATE".
type Permission string

// Permissions used by the core (the full default mapping is in rbac/roles.go).
const (
	PermCustomerCreate           Permission = "CUSTOMER.CREATE"
	PermCustomerUpdate           Permission = "CUSTOMER.UPDATE"
	PermCustomerDelete           Permission = "CUSTOMER.DELETE"
	PermCustomerCreatePermission Permission = "CUSTOMER.CREATE_PERMISSION"
	PermCustomerUpdatePermission Permission = "CUSTOMER.UPDATE_PERMISSION"
	PermCustomerDeletePermission Permission = "CUSTOMER.DELETE_PERMISSION"
	PermProjectCreate            Permission = "PROJECT.CREATE"
	PermProjectUpdate            Permission = "PROJECT.UPDATE"
	PermProjectDelete            Permission = "PROJECT.DELETE"
	PermProjectCreatePermission  Permission = "PROJECT.CREATE_PERMISSION"
	PermProjectUpdatePermission  Permission = "PROJECT.UPDATE_PERMISSION"
	PermProjectDeletePermission  Permission = "PROJECT.DELETE_PERMISSION"
	PermOfferingCreatePermission Permission = "OFFERING.CREATE_PERMISSION"
	PermOfferingUpdatePermission Permission = "OFFERING.UPDATE_PERMISSION"
	PermOfferingDeletePermission Permission = "OFFERING.DELETE_PERMISSION"
)

// Role names (Waldur's RoleEnum).
const (
	RoleCustomerOwner   = "CUSTOMER.OWNER"
	RoleCustomerManager = "CUSTOMER.MANAGER"
	RoleCustomerSupport = "CUSTOMER.SUPPORT"
	RoleProjectAdmin    = "PROJECT.ADMIN"
	RoleProjectManager  = "PROJECT.MANAGER"
	RoleProjectMember   = "PROJECT.MEMBER"
	RoleOfferingManager = "OFFERING.MANAGER"
)

// DescriptionLanguages are the languages of a role's description, in the
// order of Waldur's description_<lang> fields (django-modeltranslation).
// English, the default language, is Description itself.
var DescriptionLanguages = []string{"en", "et", "lt", "lv", "ru", "it", "de", "da", "sv", "es", "fr", "nb", "ar", "cs"}

// Role is a named set of permissions bound to one scope type.
type Role struct {
	ID          int64
	UUID        UUID
	Name        string
	Description string
	// Descriptions are the description in the other DescriptionLanguages,
	// those that were given, by language.
	Descriptions map[string]string `gorm:"serializer:json"`
	ContentType  ScopeType
	IsSystemRole bool
	IsActive     bool
	Permissions  []Permission `gorm:"-"`
	Modified     time.Time
}

// UserRole grants a role to a user on one scope. A revoke sets IsActive
// false and keeps the row as history.
type UserRole struct {
	ID             int64
	UUID           UUID
	UserID         int64
	RoleID         int64
	ScopeType      ScopeType
	ScopeID        int64
	CreatedByID    *int64
	Created        time.Time
	Modified       time.Time
	ExpirationTime *time.Time
	IsActive       bool
}

// ActiveAt reports whether the grant is in force at now.
func (r *UserRole) ActiveAt(now time.Time) bool {
	return r.IsActive && (r.ExpirationTime == nil || r.ExpirationTime.After(now))
}

// CreatePermissionFor, UpdatePermissionFor and DeletePermissionFor name the
// permission needed to manage a team on a scope type (Waldur's
// CREATE_PERMISSIONS / UPDATE_PERMISSIONS / DELETE_PERMISSIONS maps).
var (
	CreatePermissionFor = map[ScopeType]Permission{ScopeCustomer: PermCustomerCreatePermission, ScopeProject: PermProjectCreatePermission, ScopeOffering: PermOfferingCreatePermission}
	UpdatePermissionFor = map[ScopeType]Permission{ScopeCustomer: PermCustomerUpdatePermission, ScopeProject: PermProjectUpdatePermission, ScopeOffering: PermOfferingUpdatePermission}
	DeletePermissionFor = map[ScopeType]Permission{ScopeCustomer: PermCustomerDeletePermission, ScopeProject: PermProjectDeletePermission, ScopeOffering: PermOfferingDeletePermission}
)
