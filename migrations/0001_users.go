package migrations

// Users and their API tokens (Waldur's core.User and DRF's authtoken.Token).
func init() {
	register(Migration{
		Version: 1,
		Name:    "users_and_tokens",
		Up: []string{
			`CREATE TABLE users (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				username VARCHAR(128) NOT NULL UNIQUE,
				password VARCHAR(255) NOT NULL DEFAULT '',
				email VARCHAR(320) NOT NULL DEFAULT '',
				first_name VARCHAR(100) NOT NULL DEFAULT '',
				last_name VARCHAR(100) NOT NULL DEFAULT '',
				native_name VARCHAR(100) NOT NULL DEFAULT '',
				civil_number VARCHAR(50) UNIQUE,
				phone_number VARCHAR(255) NOT NULL DEFAULT '',
				organization VARCHAR(255) NOT NULL DEFAULT '',
				job_title VARCHAR(120) NOT NULL DEFAULT '',
				description TEXT NOT NULL DEFAULT '',
				preferred_language VARCHAR(10) NOT NULL DEFAULT '',
				registration_method VARCHAR(100) NOT NULL DEFAULT 'default',
				backend_id VARCHAR(255) NOT NULL DEFAULT '',
				details {{json}},
				affiliations {{json}},
				is_staff BOOLEAN NOT NULL DEFAULT FALSE,
				is_support BOOLEAN NOT NULL DEFAULT FALSE,
				is_active BOOLEAN NOT NULL DEFAULT TRUE,
				is_identity_manager BOOLEAN NOT NULL DEFAULT FALSE,
				notifications_enabled BOOLEAN NOT NULL DEFAULT TRUE,
				token_lifetime INTEGER,
				date_joined {{ts}} NOT NULL,
				last_login {{ts}},
				agreement_date {{ts}},
				modified {{ts}} NOT NULL
			)`,
			`CREATE TABLE tokens (
				key VARCHAR(40) PRIMARY KEY,
				user_id {{bigint}} NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
				created {{ts}} NOT NULL
			)`,
		},
		Down: []string{
			`DROP TABLE tokens`,
			`DROP TABLE users`,
		},
	})
}
