package rbac

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// DefaultRole is a system role with its default permissions: Waldur's
// docker/rootfs/etc/waldur/permissions.yaml. Operators change the mapping
// through /api/roles/ (or by editing the roles in the database); start-up
// only inserts roles that are missing and never overwrites a change.
type DefaultRole struct {
	Name        string
	Description string
	ContentType models.ScopeType
	IsActive    bool
	Permissions []models.Permission
}

func perms(ps ...string) []models.Permission {
	out := make([]models.Permission, len(ps))
	for i, p := range ps {
		out[i] = models.Permission(p)
	}
	return out
}

// DefaultRoles is Waldur's default role → permission mapping (its
// permissions.yaml, 8.x names), role by role and in its order:
// rbac/testdata/waldur-default-roles.md is the reference and a test keeps
// the two equal. A permission no role holds is staff's alone (for example
// CUSTOMER.CREATE_PERMISSION: only staff manage a customer's team, and
// SERVICE_PROVIDER.REGISTER). The call roles (CALL.REVIEWER, CALL.MANAGER,
// PROPOSAL.MANAGER, CUSTOMER.CALL_ORGANIZER) are left out: no call or
// proposal scope is served. Departures (docs/roles.md): CUSTOMER.MANAGER is
// granted on a customer, not a service provider, and stays inactive by
// default; PROJECT.MEMBER is active by default.
var DefaultRoles = []DefaultRole{
	{
		Name: models.RoleCustomerOwner, Description: "Organization owner", ContentType: models.ScopeCustomer, IsActive: true,
		Permissions: perms(
			"OFFERING.CREATE", "OFFERING.DELETE", "OFFERING.UPDATE", "OFFERING.UPDATE_THUMBNAIL",
			"OFFERING.UPDATE_ATTRIBUTES", "OFFERING.UPDATE_LOCATION", "OFFERING.UPDATE_DESCRIPTION",
			"OFFERING.UPDATE_OPTIONS", "OFFERING.UPDATE_INTEGRATION", "OFFERING.ADD_ENDPOINT",
			"OFFERING.DELETE_ENDPOINT", "OFFERING.UPDATE_COMPONENTS", "OFFERING.PAUSE", "OFFERING.UNPAUSE",
			"OFFERING.ARCHIVE", "OFFERING.DRY_RUN_SCRIPT", "OFFERING.MANAGE_CAMPAIGN", "OFFERING.MANAGE_USER_GROUP",
			"OFFERING.CREATE_PLAN", "OFFERING.UPDATE_PLAN", "OFFERING.ARCHIVE_PLAN", "OFFERING.CREATE_SCREENSHOT",
			"OFFERING.UPDATE_SCREENSHOT", "OFFERING.DELETE_SCREENSHOT", "OFFERING.CREATE_USER", "OFFERING.UPDATE_USER",
			"OFFERING.DELETE_USER", "OFFERING.MANAGE_USER_ROLE", "RESOURCE.MANAGE_USERS", "ORDER.LIST", "ORDER.APPROVE",
			"ORDER.APPROVE_PRIVATE", "ORDER.REJECT", "ORDER.DESTROY", "ORDER.CANCEL", "RESOURCE.LIST",
			"RESOURCE.SET_END_DATE", "RESOURCE.SET_USAGE", "RESOURCE.SET_PLAN", "RESOURCE.UPDATE_OPTIONS",
			"RESOURCE.SET_LIMITS", "RESOURCE.SET_BACKEND_ID", "RESOURCE.SET_BACKEND_METADATA", "RESOURCE.SET_STATE",
			"RESOURCE.ACCEPT_BOOKING_REQUEST", "RESOURCE.REJECT_BOOKING_REQUEST", "RESOURCE.SUBMIT_REPORT",
			"RESOURCE.TERMINATE", "RESOURCE.LIST_IMPORTABLE", "RESOURCE.CREATE_ROBOT_ACCOUNT",
			"RESOURCE.UPDATE_ROBOT_ACCOUNT", "RESOURCE.DELETE_ROBOT_ACCOUNT", "OFFERING.MANAGE_BACKEND_RESOURCES",
			"INVITATION.LIST", "PROJECT.CREATE_PERMISSION", "PROJECT.UPDATE_PERMISSION", "PROJECT.DELETE_PERMISSION",
			"OFFERING.CREATE_PERMISSION", "OFFERING.UPDATE_PERMISSION", "OFFERING.DELETE_PERMISSION", "PROJECT.LIST",
			"PROJECT.CREATE", "PROJECT.UPDATE", "PROJECT.DELETE", "OFFERING.ACCEPT_CALL_REQUEST", "CUSTOMER.CREATE",
			"CUSTOMER.UPDATE", "CUSTOMER.DELETE", "CUSTOMER.LIST_PERMISSION_REVIEWS", "CUSTOMER.LIST_USERS",
			"CALL.APPROVE_AND_REJECT_PROPOSALS", "CALL.CLOSE_ROUNDS", "ACCESS_SUBNET.CREATE", "ACCESS_SUBNET.UPDATE",
			"ACCESS_SUBNET.DELETE", "OFFERINGUSER.UPDATE_RESTRICTION", "RESOURCE.CONSUMPTION_LIMITATION",
			"SERVICE_PROVIDER.GET_API_SECRET_CODE", "SERVICE_PROVIDER.GENERATE_API_SECRET_CODE",
			"SERVICE_PROVIDER.LIST_CUSTOMERS", "SERVICE_PROVIDER.LIST_CUSTOMER_PROJECTS",
			"SERVICE_PROVIDER.LIST_PROJECTS", "SERVICE_PROVIDER.LIST_PROJECT_PERMISSIONS", "SERVICE_PROVIDER.LIST_KEYS",
			"SERVICE_PROVIDER.LIST_USERS", "SERVICE_PROVIDER.LIST_USER_CUSTOMERS",
			"SERVICE_PROVIDER.SET_OFFERINGS_USERNAME", "SERVICE_PROVIDER.GET_STATISTICS",
			"SERVICE_PROVIDER.GET_REVENUE", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_CUSTOMERS",
			"SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_PROJECTS", "SERVICE_ACCOUNT.MANAGE",
		),
	},
	{
		Name: models.RoleCustomerManager, Description: "Service provider manager", ContentType: models.ScopeCustomer, IsActive: false,
		Permissions: perms(
			"RESOURCE.SET_END_DATE", "RESOURCE.SET_BACKEND_ID", "RESOURCE.SET_BACKEND_METADATA", "RESOURCE.SET_STATE",
			"RESOURCE.ACCEPT_BOOKING_REQUEST", "RESOURCE.REJECT_BOOKING_REQUEST", "RESOURCE.SUBMIT_REPORT",
			"RESOURCE.CREATE_ROBOT_ACCOUNT", "RESOURCE.UPDATE_ROBOT_ACCOUNT", "RESOURCE.DELETE_ROBOT_ACCOUNT",
			"OFFERING.MANAGE_BACKEND_RESOURCES", "OFFERING.CREATE", "OFFERING.DELETE", "OFFERING.UPDATE_THUMBNAIL",
			"OFFERING.UPDATE_ATTRIBUTES", "OFFERING.UPDATE_LOCATION", "OFFERING.UPDATE_DESCRIPTION", "OFFERING.UPDATE",
			"OFFERING.UPDATE_OPTIONS", "OFFERING.UPDATE_INTEGRATION", "OFFERING.ADD_ENDPOINT",
			"OFFERING.DELETE_ENDPOINT", "OFFERING.UPDATE_COMPONENTS", "OFFERING.PAUSE", "OFFERING.UNPAUSE",
			"OFFERING.ARCHIVE", "OFFERING.DRY_RUN_SCRIPT", "OFFERING.MANAGE_CAMPAIGN", "OFFERING.MANAGE_USER_GROUP",
			"OFFERING.CREATE_PLAN", "OFFERING.UPDATE_PLAN", "OFFERING.ARCHIVE_PLAN", "OFFERING.CREATE_SCREENSHOT",
			"OFFERING.UPDATE_SCREENSHOT", "OFFERING.DELETE_SCREENSHOT", "OFFERING.CREATE_USER", "OFFERING.UPDATE_USER",
			"OFFERING.DELETE_USER", "OFFERINGUSER.UPDATE_RESTRICTION", "RESOURCE.CONSUMPTION_LIMITATION",
			"SERVICE_PROVIDER.GET_API_SECRET_CODE", "SERVICE_PROVIDER.GENERATE_API_SECRET_CODE",
			"SERVICE_PROVIDER.LIST_CUSTOMERS", "SERVICE_PROVIDER.LIST_CUSTOMER_PROJECTS",
			"SERVICE_PROVIDER.LIST_PROJECTS", "SERVICE_PROVIDER.LIST_PROJECT_PERMISSIONS", "SERVICE_PROVIDER.LIST_KEYS",
			"SERVICE_PROVIDER.LIST_USERS", "SERVICE_PROVIDER.LIST_USER_CUSTOMERS",
			"SERVICE_PROVIDER.SET_OFFERINGS_USERNAME", "SERVICE_PROVIDER.GET_STATISTICS",
			"SERVICE_PROVIDER.GET_REVENUE", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_CUSTOMERS",
			"SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_PROJECTS", "SERVICE_ACCOUNT.MANAGE",
			"SERVICE_PROVIDER.OPENSTACK_IMAGE_MANAGEMENT",
		),
	},
	{
		Name: models.RoleCustomerSupport, Description: "Organization support", ContentType: models.ScopeCustomer, IsActive: false,
		Permissions: perms("CUSTOMER.LIST_USERS"),
	},
	{
		Name: models.RoleProjectAdmin, Description: "Project administrator", ContentType: models.ScopeProject, IsActive: true,
		Permissions: perms(
			"PROJECT.LIST", "INVITATION.LIST", "ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "ORDER.LIST",
			"RESOURCE.LIST", "RESOURCE.TERMINATE", "RESOURCE.LIST_IMPORTABLE", "RESOURCE.SET_PLAN",
			"RESOURCE.SET_LIMITS",
		),
	},
	{
		Name: models.RoleProjectManager, Description: "Project manager", ContentType: models.ScopeProject, IsActive: true,
		Permissions: perms(
			"PROJECT.LIST", "INVITATION.LIST", "ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "ORDER.LIST",
			"RESOURCE.LIST", "RESOURCE.TERMINATE", "RESOURCE.LIST_IMPORTABLE", "RESOURCE.SET_PLAN",
			"RESOURCE.SET_LIMITS", "PROJECT.CREATE_PERMISSION", "PROJECT.UPDATE_PERMISSION",
			"PROJECT.DELETE_PERMISSION", "PROJECT.UPDATE",
		),
	},
	{
		Name: models.RoleProjectMember, Description: "Project member", ContentType: models.ScopeProject, IsActive: true,
		Permissions: perms("RESOURCE.LIST", "PROJECT.LIST"),
	},
	{
		Name: models.RoleOfferingManager, Description: "Offering manager", ContentType: models.ScopeOffering, IsActive: true,
		Permissions: perms(
			"OFFERING.UPDATE", "OFFERING.UPDATE_ATTRIBUTES", "OFFERING.UPDATE_LOCATION", "OFFERING.UPDATE_DESCRIPTION",
			"OFFERING.UPDATE_OPTIONS", "OFFERING.UPDATE_INTEGRATION", "OFFERING.ADD_ENDPOINT",
			"OFFERING.DELETE_ENDPOINT", "OFFERING.UPDATE_COMPONENTS", "OFFERING.PAUSE", "OFFERING.UNPAUSE",
			"OFFERING.ARCHIVE", "OFFERING.DRY_RUN_SCRIPT", "RESOURCE.SET_USAGE", "RESOURCE.SET_BACKEND_ID",
			"RESOURCE.SET_BACKEND_METADATA", "RESOURCE.SET_STATE", "RESOURCE.ACCEPT_BOOKING_REQUEST",
			"RESOURCE.REJECT_BOOKING_REQUEST", "OFFERING.MANAGE_BACKEND_RESOURCES", "OFFERING.ACCEPT_CALL_REQUEST",
		),
	},
}

type roleRow struct {
	ID           int64 `gorm:"primaryKey"`
	UUID         models.UUID
	Name         string
	Description  string
	ContentType  models.ScopeType
	IsSystemRole bool
	IsActive     bool
	Modified     time.Time
}

func (roleRow) TableName() string { return "roles" }

type rolePermissionRow struct {
	RoleID     int64
	Permission models.Permission
}

func (rolePermissionRow) TableName() string { return "role_permissions" }

// EnsureDefaultRoles inserts each default role that does not exist yet, with
// its permissions. Existing roles, changed or not, are left alone. Safe to
// run from several processes at once.
func EnsureDefaultRoles(ctx context.Context, db *gorm.DB) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, d := range DefaultRoles {
			row := roleRow{UUID: models.NewUUID(), Name: d.Name, Description: d.Description, ContentType: d.ContentType,
				IsSystemRole: true, IsActive: d.IsActive, Modified: now}
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			for _, p := range d.Permissions {
				if err := tx.Create(&rolePermissionRow{RoleID: row.ID, Permission: p}).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}
