package migrations

// Valimo mobile ID login: the results of the logins asked for (Waldur's
// waldur_auth_valimo AuthResult): the phone, the four-digit code shown to
// the user, the state (Scheduled, Processing, OK, Canceled, Erred), the
// MSSP's transaction id, the user found or created and the token issued on
// success. Results older than an hour are deleted by Schedule
// waldur-valimo-cleanup.
func init() {
	register(Migration{
		Version: 27,
		Name:    "valimo",
		Up: []string{
			`CREATE TABLE valimo_auth_results (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				user_id {{bigint}} REFERENCES users(id) ON DELETE CASCADE,
				phone VARCHAR(30) NOT NULL,
				message VARCHAR(4) NOT NULL,
				state VARCHAR(16) NOT NULL,
				details VARCHAR(255) NOT NULL DEFAULT '',
				error_message TEXT NOT NULL DEFAULT '',
				backend_transaction_id VARCHAR(100) NOT NULL DEFAULT '',
				token VARCHAR(40) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX valimo_auth_results_created ON valimo_auth_results (created)`,
		},
		Down: []string{
			`DROP TABLE valimo_auth_results`,
		},
	})
}
