package migrations

// The service provider's side of the marketplace: component usages (one
// row per resource, component and billing period: set_usage upserts it),
// usages per offering user, offering users (accounts of users on an
// offering's backend), resource access endpoints, and the identities,
// services and processors of site agents with the integration status of an
// offering's agent.
func init() {
	register(Migration{
		Version: 8,
		Name:    "usage_offering_users_agents",
		Up: []string{
			`CREATE TABLE offering_users (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
				username VARCHAR(100) NOT NULL DEFAULT '',
				state VARCHAR(40) NOT NULL DEFAULT 'Requested',
				is_restricted BOOLEAN NOT NULL DEFAULT FALSE,
				propagation_date {{ts}},
				backend_metadata {{json}},
				service_provider_comment TEXT NOT NULL DEFAULT '',
				service_provider_comment_url VARCHAR(200) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (offering_id, user_id)
			)`,
			`CREATE INDEX offering_users_username ON offering_users (offering_id, username)`,
			`CREATE TABLE component_usages (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				resource_id {{bigint}} NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
				component_id {{bigint}} NOT NULL REFERENCES offering_components(id) ON DELETE CASCADE,
				plan_period_id {{bigint}} REFERENCES resource_plan_periods(id) ON DELETE SET NULL,
				usage {{decimal}} NOT NULL DEFAULT 0,
				date {{ts}} NOT NULL,
				billing_period DATE NOT NULL,
				description VARCHAR(1000) NOT NULL DEFAULT '',
				recurring BOOLEAN NOT NULL DEFAULT FALSE,
				backend_id VARCHAR(255) NOT NULL DEFAULT '',
				modified_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (resource_id, component_id, billing_period)
			)`,
			`CREATE INDEX component_usages_period ON component_usages (billing_period, resource_id)`,
			`CREATE TABLE component_user_usages (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				component_usage_id {{bigint}} NOT NULL REFERENCES component_usages(id) ON DELETE CASCADE,
				offering_user_id {{bigint}} REFERENCES offering_users(id) ON DELETE SET NULL,
				username VARCHAR(150) NOT NULL,
				usage {{decimal}} NOT NULL DEFAULT 0,
				description VARCHAR(1000) NOT NULL DEFAULT '',
				backend_id VARCHAR(255) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (component_usage_id, username)
			)`,
			`CREATE TABLE resource_endpoints (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				resource_id {{bigint}} NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
				name VARCHAR(150) NOT NULL,
				url VARCHAR(2000) NOT NULL
			)`,
			`CREATE INDEX resource_endpoints_resource ON resource_endpoints (resource_id)`,
			`CREATE TABLE agent_identities (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				name VARCHAR(255) NOT NULL UNIQUE,
				version VARCHAR(255) NOT NULL DEFAULT '',
				dependencies {{json}},
				config_file_path VARCHAR(1000) NOT NULL DEFAULT '',
				config_file_content TEXT NOT NULL DEFAULT '',
				last_restarted {{ts}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE TABLE agent_services (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				identity_id {{bigint}} NOT NULL REFERENCES agent_identities(id) ON DELETE CASCADE,
				name VARCHAR(255) NOT NULL,
				mode VARCHAR(255) NOT NULL DEFAULT '',
				state INTEGER NOT NULL DEFAULT 1,
				statistics {{json}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (identity_id, name)
			)`,
			`CREATE TABLE agent_processors (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				service_id {{bigint}} NOT NULL REFERENCES agent_services(id) ON DELETE CASCADE,
				name VARCHAR(255) NOT NULL,
				backend_type VARCHAR(255) NOT NULL,
				backend_version VARCHAR(255) NOT NULL DEFAULT '',
				last_run {{ts}},
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (service_id, name)
			)`,
			`CREATE TABLE integration_statuses (
				id {{id}},
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				agent_type VARCHAR(40) NOT NULL,
				service_name VARCHAR(255) NOT NULL DEFAULT '',
				status VARCHAR(20) NOT NULL DEFAULT 'Unknown',
				last_request_timestamp {{ts}},
				UNIQUE (offering_id, agent_type)
			)`,
		},
		Down: []string{
			`DROP TABLE integration_statuses`,
			`DROP TABLE agent_processors`,
			`DROP TABLE agent_services`,
			`DROP TABLE agent_identities`,
			`DROP TABLE resource_endpoints`,
			`DROP TABLE component_user_usages`,
			`DROP TABLE component_usages`,
			`DROP TABLE offering_users`,
		},
	})
}
