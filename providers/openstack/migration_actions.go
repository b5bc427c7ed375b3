package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationActions (version 22) gives tenants, instances and volumes
// Waldur's action and action_details: the action an object is scheduled
// for or running (rendered for instances and volumes), which is also the
// action's outbox (store_actions.go).
func migrationActions() migrations.Migration {
	var cols []migrations.Column
	for _, t := range []string{"openstack_tenants", "openstack_instances", "openstack_volumes"} {
		cols = append(cols,
			migrations.Column{Table: t, Name: "action", Def: "VARCHAR(50) NOT NULL DEFAULT ''"},
			migrations.Column{Table: t, Name: "action_details", Def: "{{json}}"})
	}
	return migrations.Migration{Version: 22, Name: "openstack_actions", AddColumns: cols}
}
