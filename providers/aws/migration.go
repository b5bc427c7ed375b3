package aws

import "github.com/waldur-go/waldur/migrations"

// migration11 (version 11, applied by existing databases as it is): the
// AWS tables. The catalog each AWS offering's pull reads from its account
// (regions, the images and instance types of the offering's region) and
// the instances and volumes its state pull sees (Waldur's waldur_aws
// Region, Image, Size, Instance, Volume). Every row belongs to one offering
// (its credentials decide what it sees) and is keyed by its backend id, so
// a pull updates rows in place and their UUIDs stay. An instance or volume
// row whose resource_id is NULL was not made through Waldur: the import
// listing.
var migration11 = migrations.Migration{
	Version: 11,
	Name:    "aws",
	Up: []string{
		`CREATE TABLE aws_regions (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				name VARCHAR(150) NOT NULL,
				endpoint VARCHAR(255) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, name)
			)`,
		`CREATE TABLE aws_images (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				region_id {{bigint}} NOT NULL REFERENCES aws_regions(id) ON DELETE CASCADE,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(255) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				architecture VARCHAR(30) NOT NULL DEFAULT '',
				platform VARCHAR(30) NOT NULL DEFAULT '',
				owner_id VARCHAR(30) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, backend_id)
			)`,
		`CREATE INDEX aws_images_region ON aws_images (region_id)`,
		`CREATE TABLE aws_sizes (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				backend_id VARCHAR(100) NOT NULL,
				name VARCHAR(150) NOT NULL,
				cores INTEGER NOT NULL DEFAULT 0,
				ram {{bigint}} NOT NULL DEFAULT 0,
				disk {{bigint}} NOT NULL DEFAULT 0,
				description TEXT NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, backend_id)
			)`,
		`CREATE TABLE aws_size_regions (
				size_id {{bigint}} NOT NULL REFERENCES aws_sizes(id) ON DELETE CASCADE,
				region_id {{bigint}} NOT NULL REFERENCES aws_regions(id) ON DELETE CASCADE,
				PRIMARY KEY (size_id, region_id)
			)`,
		`CREATE INDEX aws_size_regions_region ON aws_size_regions (region_id)`,
		`CREATE TABLE aws_instances (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				resource_id {{bigint}} REFERENCES resources(id) ON DELETE SET NULL,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(255) NOT NULL DEFAULT '',
				runtime_state VARCHAR(30) NOT NULL DEFAULT '',
				instance_type VARCHAR(100) NOT NULL DEFAULT '',
				image_id VARCHAR(255) NOT NULL DEFAULT '',
				region VARCHAR(150) NOT NULL DEFAULT '',
				availability_zone VARCHAR(150) NOT NULL DEFAULT '',
				private_ip VARCHAR(45) NOT NULL DEFAULT '',
				public_ip VARCHAR(45) NOT NULL DEFAULT '',
				key_name VARCHAR(255) NOT NULL DEFAULT '',
				launch_time {{ts}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, backend_id)
			)`,
		`CREATE INDEX aws_instances_resource ON aws_instances (resource_id)`,
		`CREATE TABLE aws_volumes (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				resource_id {{bigint}} REFERENCES resources(id) ON DELETE SET NULL,
				backend_id VARCHAR(255) NOT NULL,
				name VARCHAR(255) NOT NULL DEFAULT '',
				runtime_state VARCHAR(30) NOT NULL DEFAULT '',
				volume_type VARCHAR(30) NOT NULL DEFAULT '',
				size INTEGER NOT NULL DEFAULT 0,
				region VARCHAR(150) NOT NULL DEFAULT '',
				availability_zone VARCHAR(150) NOT NULL DEFAULT '',
				instance_backend_id VARCHAR(255) NOT NULL DEFAULT '',
				device VARCHAR(128) NOT NULL DEFAULT '',
				backend_created {{ts}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, backend_id)
			)`,
		`CREATE INDEX aws_volumes_resource ON aws_volumes (resource_id)`,
	},
	Down: []string{
		`DROP TABLE aws_volumes`,
		`DROP TABLE aws_instances`,
		`DROP TABLE aws_size_regions`,
		`DROP TABLE aws_sizes`,
		`DROP TABLE aws_images`,
		`DROP TABLE aws_regions`,
	},
}
