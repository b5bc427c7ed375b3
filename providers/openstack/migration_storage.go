package openstack

import "github.com/waldur-go/waldur/migrations"

// migrationStorage (version 24) adds the server groups, snapshots and
// backups of the tenants (Waldur's ServerGroup, Snapshot, Backup and
// SnapshotRestoration), made and deleted through the API with the action
// machinery: each row carries action, action_details and error_message as
// migration 22 gives the other objects. A backup is its instance's
// volumes' snapshots (rows of openstack_snapshots with its backup_id); a
// restoration ties a snapshot to the volume made from it.
func migrationStorage() migrations.Migration {
	return migrations.Migration{
		Version: 24,
		Name:    "openstack_server_groups_snapshots",
		Up: []string{
			`CREATE TABLE openstack_server_groups (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				policy VARCHAR(40) NOT NULL DEFAULT '',
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (tenant_id, backend_id)
			)`,
			`CREATE TABLE openstack_backups (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				instance_id {{bigint}} REFERENCES openstack_instances(id) ON DELETE SET NULL,
				backend_id VARCHAR(255) NOT NULL DEFAULT '',
				name VARCHAR(150) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				kept_until {{ts}},
				metadata {{json}},
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX openstack_backups_tenant ON openstack_backups (tenant_id)`,
			`CREATE INDEX openstack_backups_instance ON openstack_backups (instance_id)`,
			`CREATE TABLE openstack_snapshots (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				tenant_id {{bigint}} NOT NULL REFERENCES openstack_tenants(id) ON DELETE CASCADE,
				source_volume_id {{bigint}} REFERENCES openstack_volumes(id) ON DELETE SET NULL,
				backup_id {{bigint}} REFERENCES openstack_backups(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(150) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				size {{bigint}} NOT NULL DEFAULT 0,
				metadata {{json}},
				runtime_state VARCHAR(150) NOT NULL DEFAULT '',
				kept_until {{ts}},
				state VARCHAR(20) NOT NULL DEFAULT 'OK',
				error_message TEXT NOT NULL DEFAULT '',
				action VARCHAR(50) NOT NULL DEFAULT '',
				action_details {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (tenant_id, backend_id)
			)`,
			`CREATE INDEX openstack_snapshots_volume ON openstack_snapshots (source_volume_id)`,
			`CREATE INDEX openstack_snapshots_backup ON openstack_snapshots (backup_id)`,
			`CREATE TABLE openstack_snapshot_restorations (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				snapshot_id {{bigint}} NOT NULL REFERENCES openstack_snapshots(id) ON DELETE CASCADE,
				volume_id {{bigint}} NOT NULL REFERENCES openstack_volumes(id) ON DELETE CASCADE,
				description TEXT NOT NULL DEFAULT '',
				created {{ts}} NOT NULL
			)`,
			`CREATE INDEX openstack_snapshot_restorations_snapshot ON openstack_snapshot_restorations (snapshot_id)`,
		},
		Down: []string{
			`DROP TABLE openstack_snapshot_restorations`,
			`DROP TABLE openstack_snapshots`,
			`DROP TABLE openstack_backups`,
			`DROP TABLE openstack_server_groups`,
		},
	}
}
