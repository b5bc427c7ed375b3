package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationMigrations (version 31) adds the tenants' migrations (Waldur's
// openstack migration app, /api/openstack-migrations/): a tenant's
// marketplace resource (src) copied into a new tenant of another (or the
// same) OpenStack offering, the new tenant's marketplace resource (dst,
// made by a Create order), the mappings the copy follows (volume types,
// subnet CIDRs, which networks, skip_connection_extnet,
// sync_instance_ports; kept as Waldur's JSON), the migration's state
// (Waldur's StateMixin, stored as the core states' names) and what went
// wrong. A migration goes with either resource and with its creator (as
// Waldur's, whose created_by is required).
func migrationMigrations() migrations.Migration {
	return migrations.Migration{
		Version: 31,
		Name:    "openstack_migrations",
		Up: []string{
			`CREATE TABLE openstack_migrations (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				created_by_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
				src_resource_id {{bigint}} NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
				dst_resource_id {{bigint}} NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
				mappings {{json}},
				state VARCHAR(20) NOT NULL,
				error_message TEXT NOT NULL DEFAULT '',
				error_traceback TEXT NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX openstack_migrations_src ON openstack_migrations (src_resource_id)`,
			`CREATE INDEX openstack_migrations_dst ON openstack_migrations (dst_resource_id)`,
		},
		Down: []string{`DROP TABLE openstack_migrations`},
	}
}
