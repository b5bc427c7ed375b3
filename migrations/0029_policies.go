package migrations

// Marketplace policies (Waldur's waldur_mastermind.policy): cost limits of
// a project, a customer or an offering, usage limits of an offering's
// components, and SLURM periodic usage policies of an offering. One table
// holds every family (kind), with the scope's id, the actions, the cost
// limit and period, the component limits and the SLURM settings as JSON.
//
// marketplace_policy_firings are the crossings in force: one row per
// policy, period, target (0 for the policy's scope; a customer for an
// offering's cost and usage policies; a resource for a SLURM policy) and
// level (limit, downscale, pause). A row is inserted in the transaction
// that records the crossing's notification and flags, under a unique key,
// so a replayed or restarted evaluation never fires twice; it is deleted
// when the figure falls back under the threshold or its period ends (the
// flags it set are lifted then).
//
// A SLURM policy's evaluations that act on a resource are logged
// (marketplace_policy_evaluation_logs: usage percentage, actions, the
// flags before and after, the site agent's confirmation), and the
// commands the site agent reports running for it are kept
// (marketplace_policy_commands).
func init() {
	register(Migration{
		Version: 29,
		Name:    "policies",
		Up: []string{
			`CREATE TABLE marketplace_policies (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				kind VARCHAR(32) NOT NULL,
				scope_id {{bigint}} NOT NULL,
				actions VARCHAR(255) NOT NULL,
				options {{json}},
				limit_cost {{bigint}} NOT NULL DEFAULT 0,
				period INTEGER NOT NULL DEFAULT 2,
				component_limits {{json}},
				organization_groups {{json}},
				apply_to_all BOOLEAN NOT NULL DEFAULT FALSE,
				settings {{json}},
				has_fired BOOLEAN NOT NULL DEFAULT FALSE,
				fired_datetime {{ts}},
				created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX marketplace_policies_scope ON marketplace_policies (kind, scope_id)`,
			`CREATE TABLE marketplace_policy_firings (
				id {{id}},
				policy_id {{bigint}} NOT NULL REFERENCES marketplace_policies(id) ON DELETE CASCADE,
				period VARCHAR(16) NOT NULL,
				target_id {{bigint}} NOT NULL DEFAULT 0,
				level VARCHAR(16) NOT NULL,
				figure VARCHAR(40) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX marketplace_policy_firings_key ON marketplace_policy_firings (policy_id, period, target_id, level)`,
			`CREATE TABLE marketplace_policy_evaluation_logs (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				policy_id {{bigint}} NOT NULL REFERENCES marketplace_policies(id) ON DELETE CASCADE,
				resource_id {{bigint}} NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
				billing_period VARCHAR(20) NOT NULL,
				usage_percentage DOUBLE PRECISION NOT NULL DEFAULT 0,
				grace_limit_percentage DOUBLE PRECISION NOT NULL DEFAULT 0,
				actions_taken {{json}},
				previous_state {{json}},
				new_state {{json}},
				site_agent_confirmed BOOLEAN,
				site_agent_response {{json}},
				evaluated_at {{ts}} NOT NULL
			)`,
			`CREATE INDEX marketplace_policy_evaluation_logs_policy ON marketplace_policy_evaluation_logs (policy_id, evaluated_at)`,
			`CREATE TABLE marketplace_policy_commands (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				policy_id {{bigint}} NOT NULL REFERENCES marketplace_policies(id) ON DELETE CASCADE,
				resource_id {{bigint}} REFERENCES resources(id) ON DELETE CASCADE,
				command_type VARCHAR(50) NOT NULL,
				description TEXT NOT NULL DEFAULT '',
				shell_command TEXT NOT NULL DEFAULT '',
				parameters {{json}},
				execution_mode VARCHAR(20) NOT NULL DEFAULT 'production',
				success BOOLEAN NOT NULL DEFAULT TRUE,
				error_message TEXT NOT NULL DEFAULT '',
				executed_at {{ts}} NOT NULL
			)`,
			`CREATE INDEX marketplace_policy_commands_policy ON marketplace_policy_commands (policy_id, executed_at)`,
		},
		Down: []string{
			`DROP TABLE marketplace_policy_commands`,
			`DROP TABLE marketplace_policy_evaluation_logs`,
			`DROP TABLE marketplace_policy_firings`,
			`DROP TABLE marketplace_policies`,
		},
	})
}
