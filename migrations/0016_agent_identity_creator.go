package migrations

// Site agent identities record who created them: Waldur 8.1's clients
// (the site agent) read created_by from the identity they register.
func init() {
	register(Migration{
		Version: 16,
		Name:    "agent_identity_creator",
		Up: []string{
			`ALTER TABLE agent_identities ADD COLUMN created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL`,
		},
		Down: []string{
			`ALTER TABLE agent_identities DROP COLUMN created_by_id`,
		},
	})
}
