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

var offeringManage = []string{
	"OFFERING.UPDATE_THUMBNAIL", "OFFERING.UPDATE", "OFFERING.UPDATE_ATTRIBUTES", "OFFERING.UPDATE_LOCATION",
	"OFFERING.UPDATE_DESCRIPTION", "OFFERING.UPDATE_OPTIONS", "OFFERING.UPDATE_INTEGRATION", "OFFERING.ADD_ENDPOINT",
	"OFFERING.DELETE_ENDPOINT", "OFFERING.UPDATE_COMPONENTS", "OFFERING.PAUSE", "OFFERING.UNPAUSE", "OFFERING.ARCHIVE",
	"OFFERING.DRY_RUN_SCRIPT", "OFFERING.MANAGE_CAMPAIGN", "OFFERING.MANAGE_USER_GROUP", "OFFERING.CREATE_PLAN",
	"OFFERING.UPDATE_PLAN", "OFFERING.ARCHIVE_PLAN", "OFFERING.CREATE_SCREENSHOT", "OFFERING.UPDATE_SCREENSHOT",
	"OFFERING.DELETE_SCREENSHOT", "OFFERING.CREATE_USER", "OFFERING.UPDATE_USER", "OFFERING.DELETE_USER",
	"OFFERING.MANAGE_USER_ROLE",
}

var resourceBackend = []string{
	"RESOURCE.SET_USAGE", "RESOURCE.SET_BACKEND_ID", "RESOURCE.SET_BACKEND_METADATA",
	"RESOURCE.ACCEPT_BOOKING_REQUEST", "RESOURCE.REJECT_BOOKING_REQUEST",
}

func join(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// DefaultRoles is the default role → permission mapping (§3 of the reference).
// CUSTOMER.MANAGER and CUSTOMER.SUPPORT ship inactive, as in Waldur.
var DefaultRoles = []DefaultRole{
	{
		Name: models.RoleCustomerOwner, Description: "Organization owner", ContentType: models.ScopeCustomer, IsActive: true,
		Permissions: perms(join(offeringManage, resourceBackend, []string{
			"SERVICE_PROVIDER.REGISTER",
			"OFFERING.CREATE", "OFFERING.DELETE", "OFFERING.ACCEPT_CALL_REQUEST",
			"OFFERING.CREATE_PERMISSION", "OFFERING.UPDATE_PERMISSION", "OFFERING.DELETE_PERMISSION",
			"ORDER.APPROVE_PRIVATE", "ORDER.APPROVE", "ORDER.REJECT", "ORDER.DESTROY", "ORDER.CANCEL",
			"RESOURCE.TERMINATE", "RESOURCE.LIST_IMPORTABLE", "RESOURCE.SET_END_DATE", "RESOURCE.SET_PLAN",
			"RESOURCE.SET_LIMITS", "RESOURCE.SUBMIT_REPORT", "RESOURCE.UPDATE_OPTIONS", "RESOURCE.MANAGE_USERS",
			"RESOURCE.CREATE_ROBOT_ACCOUNT", "RESOURCE.UPDATE_ROBOT_ACCOUNT", "RESOURCE.DELETE_ROBOT_ACCOUNT",
			"PROJECT.CREATE", "PROJECT.UPDATE", "PROJECT.DELETE",
			"PROJECT.CREATE_PERMISSION", "PROJECT.UPDATE_PERMISSION", "PROJECT.DELETE_PERMISSION",
			"CUSTOMER.CREATE", "CUSTOMER.UPDATE", "CUSTOMER.DELETE",
			"CUSTOMER.CREATE_PERMISSION", "CUSTOMER.UPDATE_PERMISSION", "CUSTOMER.DELETE_PERMISSION",
			"CALL.CREATE_PERMISSION", "CALL.UPDATE_PERMISSION", "CALL.DELETE_PERMISSION",
			"CALL.APPROVE_AND_REJECT_PROPOSALS", "CALL.CLOSE_ROUNDS",
			"ACCESS_SUBNET.CREATE", "ACCESS_SUBNET.UPDATE", "ACCESS_SUBNET.DELETE",
			"OFFERINGUSER.UPDATE_RESTRICTION",
		})...),
	},
	{
		Name: models.RoleCustomerManager, Description: "Organization service manager", ContentType: models.ScopeCustomer, IsActive: false,
		Permissions: perms(join(offeringManage, resourceBackend, []string{"OFFERING.CREATE", "OFFERING.DELETE"})...),
	},
	{Name: models.RoleCustomerSupport, Description: "Organization support", ContentType: models.ScopeCustomer, IsActive: false},
	{
		Name: models.RoleProjectAdmin, Description: "Project administrator", ContentType: models.ScopeProject, IsActive: true,
		Permissions: perms("ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "RESOURCE.TERMINATE",
			"RESOURCE.LIST_IMPORTABLE", "RESOURCE.SET_PLAN", "RESOURCE.SET_LIMITS"),
	},
	{
		Name: models.RoleProjectManager, Description: "Project manager", ContentType: models.ScopeProject, IsActive: true,
		Permissions: perms("ORDER.APPROVE_PRIVATE", "ORDER.DESTROY", "ORDER.CANCEL", "RESOURCE.TERMINATE",
			"RESOURCE.LIST_IMPORTABLE", "RESOURCE.SET_PLAN", "RESOURCE.SET_LIMITS",
			"PROJECT.CREATE_PERMISSION", "PROJECT.UPDATE_PERMISSION", "PROJECT.DELETE_PERMISSION", "PROJECT.UPDATE"),
	},
	{Name: models.RoleProjectMember, Description: "Project member", ContentType: models.ScopeProject, IsActive: true},
	{
		Name: models.RoleOfferingManager, Description: "Offering manager", ContentType: models.ScopeOffering, IsActive: true,
		Permissions: perms(join(offeringManage, resourceBackend, []string{"OFFERING.ACCEPT_CALL_REQUEST"})...),
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
