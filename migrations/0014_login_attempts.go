package migrations

// Login attempts: one row per username and client address, counted by one
// conditional upsert before a password is compared (so parallel requests
// cannot evaluate more guesses than the lockout allows), replacing the
// row-per-failure login_failures. Counts live 10 minutes; none is carried over.
func init() {
	register(Migration{
		Version: 14,
		Name:    "login_attempts",
		Up: []string{
			`CREATE TABLE login_attempts (
				username VARCHAR(150) NOT NULL,
				ip VARCHAR(64) NOT NULL,
				attempts INTEGER NOT NULL,
				last_attempt {{ts}} NOT NULL,
				PRIMARY KEY (username, ip)
			)`,
			`CREATE INDEX login_attempts_last ON login_attempts (last_attempt)`,
			`DROP TABLE login_failures`,
		},
		Down: []string{
			`CREATE TABLE login_failures (
				id {{id}},
				username VARCHAR(150) NOT NULL,
				ip VARCHAR(64) NOT NULL,
				created {{ts}} NOT NULL
			)`,
			`CREATE INDEX login_failures_key ON login_failures (username, ip, created)`,
			`DROP TABLE login_attempts`,
		},
	})
}
