package migrations

import "strings"

// Default roles as Waldur's (issue 20): databases migrated before this
// version got the earlier default permissions from rbac.EnsureDefaultRoles,
// which only inserts missing roles. This migration moves each system role
// from the earlier defaults to Waldur's: it removes the permissions the
// earlier table granted and Waldur's does not (CUSTOMER.OWNER loses
// CUSTOMER.*_PERMISSION and SERVICE_PROVIDER.REGISTER; OFFERING.MANAGER its
// plan, offering-user, screenshot and campaign permissions; CUSTOMER.MANAGER
// RESOURCE.SET_USAGE) and adds those Waldur's grants that were missing. An
// operator's own additions to a system role stay, and is_active is not
// touched. The lists are frozen here: later changes of rbac.DefaultRoles do
// not change what this version did. On a fresh database the roles do not
// exist yet (they are inserted after the migrations), so it changes nothing.
// Running API replicas reload their policy when the roles table next
// changes; a replica started after the migration reads it at once.
var defaultRoles15 = []struct {
	role        string
	remove, add []string
}{
	{"CUSTOMER.OWNER",
		[]string{"CALL.CREATE_PERMISSION", "CALL.DELETE_PERMISSION", "CALL.UPDATE_PERMISSION", "CUSTOMER.CREATE_PERMISSION", "CUSTOMER.DELETE_PERMISSION", "CUSTOMER.UPDATE_PERMISSION", "SERVICE_PROVIDER.REGISTER"},
		[]string{"CUSTOMER.LIST_PERMISSION_REVIEWS", "CUSTOMER.LIST_USERS", "INVITATION.LIST", "OFFERING.MANAGE_BACKEND_RESOURCES", "ORDER.LIST", "PROJECT.LIST", "RESOURCE.CONSUMPTION_LIMITATION", "RESOURCE.LIST", "RESOURCE.SET_STATE", "SERVICE_ACCOUNT.MANAGE", "SERVICE_PROVIDER.GENERATE_API_SECRET_CODE", "SERVICE_PROVIDER.GET_API_SECRET_CODE", "SERVICE_PROVIDER.GET_REVENUE", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_CUSTOMERS", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_PROJECTS", "SERVICE_PROVIDER.GET_STATISTICS", "SERVICE_PROVIDER.LIST_CUSTOMERS", "SERVICE_PROVIDER.LIST_CUSTOMER_PROJECTS", "SERVICE_PROVIDER.LIST_KEYS", "SERVICE_PROVIDER.LIST_PROJECTS", "SERVICE_PROVIDER.LIST_PROJECT_PERMISSIONS", "SERVICE_PROVIDER.LIST_USERS", "SERVICE_PROVIDER.LIST_USER_CUSTOMERS", "SERVICE_PROVIDER.SET_OFFERINGS_USERNAME"}},
	{"CUSTOMER.MANAGER",
		[]string{"OFFERING.MANAGE_USER_ROLE", "RESOURCE.SET_USAGE"},
		[]string{"OFFERING.MANAGE_BACKEND_RESOURCES", "OFFERINGUSER.UPDATE_RESTRICTION", "RESOURCE.CONSUMPTION_LIMITATION", "RESOURCE.CREATE_ROBOT_ACCOUNT", "RESOURCE.DELETE_ROBOT_ACCOUNT", "RESOURCE.SET_END_DATE", "RESOURCE.SET_STATE", "RESOURCE.SUBMIT_REPORT", "RESOURCE.UPDATE_ROBOT_ACCOUNT", "SERVICE_ACCOUNT.MANAGE", "SERVICE_PROVIDER.GENERATE_API_SECRET_CODE", "SERVICE_PROVIDER.GET_API_SECRET_CODE", "SERVICE_PROVIDER.GET_REVENUE", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_CUSTOMERS", "SERVICE_PROVIDER.GET_ROBOT_ACCOUNT_PROJECTS", "SERVICE_PROVIDER.GET_STATISTICS", "SERVICE_PROVIDER.LIST_CUSTOMERS", "SERVICE_PROVIDER.LIST_CUSTOMER_PROJECTS", "SERVICE_PROVIDER.LIST_KEYS", "SERVICE_PROVIDER.LIST_PROJECTS", "SERVICE_PROVIDER.LIST_PROJECT_PERMISSIONS", "SERVICE_PROVIDER.LIST_USERS", "SERVICE_PROVIDER.LIST_USER_CUSTOMERS", "SERVICE_PROVIDER.OPENSTACK_IMAGE_MANAGEMENT", "SERVICE_PROVIDER.SET_OFFERINGS_USERNAME"}},
	{"CUSTOMER.SUPPORT",
		[]string{},
		[]string{"CUSTOMER.LIST_USERS"}},
	{"PROJECT.ADMIN",
		[]string{},
		[]string{"INVITATION.LIST", "ORDER.LIST", "PROJECT.LIST", "RESOURCE.LIST"}},
	{"PROJECT.MANAGER",
		[]string{},
		[]string{"INVITATION.LIST", "ORDER.LIST", "PROJECT.LIST", "RESOURCE.LIST"}},
	{"PROJECT.MEMBER",
		[]string{},
		[]string{"PROJECT.LIST", "RESOURCE.LIST"}},
	{"OFFERING.MANAGER",
		[]string{"OFFERING.ARCHIVE_PLAN", "OFFERING.CREATE_PLAN", "OFFERING.CREATE_SCREENSHOT", "OFFERING.CREATE_USER", "OFFERING.DELETE_SCREENSHOT", "OFFERING.DELETE_USER", "OFFERING.MANAGE_CAMPAIGN", "OFFERING.MANAGE_USER_GROUP", "OFFERING.MANAGE_USER_ROLE", "OFFERING.UPDATE_PLAN", "OFFERING.UPDATE_SCREENSHOT", "OFFERING.UPDATE_THUMBNAIL", "OFFERING.UPDATE_USER"},
		[]string{"OFFERING.MANAGE_BACKEND_RESOURCES", "RESOURCE.SET_STATE"}},
}

func sqlList(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = "'" + p + "'"
	}
	return strings.Join(q, ", ")
}

func init() {
	var up, down []string
	for _, r := range defaultRoles15 {
		role := "SELECT id FROM roles WHERE name = '" + r.role + "' AND is_system_role = TRUE"
		del := func(ps []string) string {
			return "DELETE FROM role_permissions WHERE role_id IN (" + role + ") AND permission IN (" + sqlList(ps) + ")"
		}
		ins := func(p string) string {
			return "INSERT INTO role_permissions (role_id, permission) SELECT r.id, '" + p + "' FROM roles r WHERE r.name = '" +
				r.role + "' AND r.is_system_role = TRUE AND NOT EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.permission = '" + p + "')"
		}
		if len(r.remove) > 0 {
			up = append(up, del(r.remove))
		}
		for _, p := range r.add {
			up = append(up, ins(p))
		}
		if len(r.add) > 0 {
			down = append(down, del(r.add))
		}
		for _, p := range r.remove {
			down = append(down, ins(p))
		}
	}
	register(Migration{Version: 15, Name: "default_roles_as_waldur", Up: up, Down: down})
}
