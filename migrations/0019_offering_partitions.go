package migrations

// The SLURM partitions of an offering (Waldur's OfferingPartition): the
// configuration Waldur's site agent adds, changes and removes through
// add_partition, update_partition and remove_partition, rendered as the
// offering's partitions. A partition's name is unique within its offering;
// the partitions go with their offering. The limits are NULL when unset.
func init() {
	register(Migration{
		Version: 19,
		Name:    "offering_partitions",
		Up: []string{
			`CREATE TABLE offering_partitions (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				partition_name VARCHAR(255) NOT NULL,
				cpu_bind INTEGER,
				def_cpu_per_gpu INTEGER,
				def_mem_per_cpu {{bigint}},
				def_mem_per_gpu {{bigint}},
				def_mem_per_node {{bigint}},
				default_time INTEGER,
				max_cpus_per_node INTEGER,
				max_cpus_per_socket INTEGER,
				max_mem_per_cpu {{bigint}},
				max_mem_per_node {{bigint}},
				max_nodes INTEGER,
				max_time INTEGER,
				min_nodes INTEGER,
				exclusive_topo BOOLEAN NOT NULL DEFAULT FALSE,
				exclusive_user BOOLEAN NOT NULL DEFAULT FALSE,
				grace_time INTEGER,
				priority_tier SMALLINT,
				qos VARCHAR(255) NOT NULL DEFAULT '',
				req_resv BOOLEAN NOT NULL DEFAULT FALSE,
				UNIQUE (offering_id, partition_name)
			)`,
		},
		Down: []string{`DROP TABLE offering_partitions`},
	})
}
