package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationL3 (version 23) adds a tenant's ports and routers (Waldur's
// openstack Port and Router), made, changed and deleted through the API and
// read by the pull, with the action columns of migration 22 (action,
// action_details, error_message: the row is its action's outbox). Floating
// IPs get a name (Waldur's FloatingIP.name: its address), which the
// actions' messages use.
func migrationL3() migrations.Migration {
	return migrations.Migration{
		Version: 23,
		Name:    "openstack_l3",
		Up: []string{
			`CREATE TABLE openstack_ports (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				network_id {{bigint}} REFERENCES openstack_networks(id) ON DELETE SET NULL,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL DEFAULT '',
				description TEXT NOT NULL DEFAULT '',
				mac_address VARCHAR(32) NOT NULL DEFAULT '',
				fixed_ips {{json}},
				allowed_address_pairs {{json}},
				security_groups {{json}},
				device_id VARCHAR(255) NOT NULL DEFAULT '',
				device_owner VARCHAR(100) NOT NULL DEFAULT '',
				port_security_enabled BOOLEAN NOT NULL DEFAULT TRUE,
				admin_state_up BOOLEAN NOT NULL DEFAULT TRUE,
				status VARCHAR(40) NOT NULL DEFAULT '',
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (tenant_id, backend_id)
			)`,
			`CREATE TABLE openstack_routers (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL DEFAULT '',
				description TEXT NOT NULL DEFAULT '',
				external_network_id VARCHAR(255) NOT NULL DEFAULT '',
				routes {{json}},
				fixed_ips {{json}},
				ports {{json}},
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (tenant_id, backend_id)
			)`,
		},
		Down: []string{
			`DROP TABLE openstack_routers`,
			`DROP TABLE openstack_ports`,
		},
		AddColumns: []migrations.Column{
			{Table: "openstack_floating_ips", Name: "name", Def: "VARCHAR(150) NOT NULL DEFAULT ''"},
		},
	}
}
