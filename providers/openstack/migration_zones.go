package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationZones (version 28) adds what a pull reads about a tenant's
// surroundings: the availability zones of Nova (Waldur's
// InstanceAvailabilityZone) and of Cinder (VolumeAvailabilityZone), whose
// backend id is the zone's name, and the external networks the tenant's
// project sees (Waldur's provider-level ExternalNetwork with its subnets,
// kept as JSON on the network's row). Like the flavors, they hang off the
// tenant, which plays Waldur's per-tenant service settings. And the
// networks' RBAC policies (Waldur's NetworkRBACPolicy: a network of one
// tenant shared with another tenant), made and deleted through the API with
// the action machinery (action, action_details, error_message as migration
// 22 gives the other objects; name is the machinery's and stays empty).
func migrationZones() migrations.Migration {
	zone := func(table string) string {
		return `CREATE TABLE ` + table + ` (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL,
				available BOOLEAN NOT NULL DEFAULT TRUE,
				UNIQUE (tenant_id, backend_id)
			)`
	}
	return migrations.Migration{
		Version: 28,
		Name:    "openstack_availability_zones",
		Up: []string{
			zone("openstack_instance_availability_zones"),
			zone("openstack_volume_availability_zones"),
			`CREATE TABLE openstack_external_networks (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				is_shared BOOLEAN NOT NULL DEFAULT FALSE,
				is_default BOOLEAN NOT NULL DEFAULT FALSE,
				status VARCHAR(30) NOT NULL DEFAULT '',
				subnets {{json}},
				UNIQUE (tenant_id, backend_id)
			)`,
			`CREATE TABLE openstack_network_rbac_policies (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				network_id {{bigint}} NOT NULL REFERENCES openstack_networks(id) ON DELETE CASCADE,
				target_tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL DEFAULT '',
				policy_type VARCHAR(30) NOT NULL DEFAULT 'access_as_shared',
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (tenant_id, backend_id)
			)`,
			`CREATE INDEX openstack_network_rbac_policies_network ON openstack_network_rbac_policies (network_id)`,
			`CREATE INDEX openstack_network_rbac_policies_target ON openstack_network_rbac_policies (target_tenant_id)`,
		},
		Down: []string{
			`DROP TABLE openstack_network_rbac_policies`,
			`DROP TABLE openstack_external_networks`,
			`DROP TABLE openstack_volume_availability_zones`,
			`DROP TABLE openstack_instance_availability_zones`,
		},
	}
}
