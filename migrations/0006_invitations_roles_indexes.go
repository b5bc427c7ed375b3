package migrations

// Indexes for the roles and invitations APIs: a role's users_count and the
// can_destroy_role check read user_roles by role; invitations are listed by
// scope and by customer, and the expiry job scans them by state and age.
func init() {
	register(Migration{
		Version: 6,
		Name:    "invitations_roles_indexes",
		Up: []string{
			`CREATE INDEX user_roles_role ON user_roles (role_id, is_active)`,
			`CREATE INDEX invitations_scope ON invitations (scope_type, scope_id, state)`,
			`CREATE INDEX invitations_customer ON invitations (customer_id, created)`,
			`CREATE INDEX invitations_email ON invitations (email)`,
		},
		Down: []string{
			`DROP INDEX invitations_email`,
			`DROP INDEX invitations_customer`,
			`DROP INDEX invitations_scope`,
			`DROP INDEX user_roles_role`,
		},
	})
}
