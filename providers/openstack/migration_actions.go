package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationActions (version 22) gives tenants, instances and volumes
// Waldur's action and action_details: the action an object is scheduled
// for or running (rendered for instances and volumes), which is also the
// action's outbox (store_actions.go). The objects in a tenant (security
// groups, floating IPs, networks, subnets) get them too, and an
// error_message.
func migrationActions() migrations.Migration {
	var cols []migrations.Column
	for _, t := range []string{"openstack_tenants", "openstack_instances", "openstack_volumes"} {
		cols = append(cols,
			migrations.Column{Table: t, Name: "action", Def: "VARCHAR(50) NOT NULL DEFAULT ''"},
			migrations.Column{Table: t, Name: "action_details", Def: "{{json}}"})
	}
	// The objects that live in a tenant (made and deleted through the API):
	// their state's message too.
	for _, t := range []string{"openstack_security_groups", "openstack_floating_ips", "openstack_networks", "openstack_subnets"} {
		cols = append(cols,
			migrations.Column{Table: t, Name: "action", Def: "VARCHAR(50) NOT NULL DEFAULT ''"},
			migrations.Column{Table: t, Name: "action_details", Def: "{{json}}"},
			migrations.Column{Table: t, Name: "error_message", Def: "TEXT NOT NULL DEFAULT ''"})
	}
	// (Named anew when its columns grew: test templates are keyed by the
	// migrations' names and statements, not their added columns.)
	return migrations.Migration{Version: 22, Name: "openstack_object_actions", AddColumns: cols}
}
