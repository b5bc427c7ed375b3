package migrations

// Federated login hardening: a SAML2 login request remembers whether its
// login asked for a browser session (?session=true), as the OIDC requests
// do; an OIDC request remembers the front end origin it returns to (one
// of the provider's allowed_redirects); the Valimo results are looked up
// by phone number and time for the per-phone login throttle.
func init() {
	register(Migration{
		Version: 32,
		Name:    "federated_hardening",
		Up: []string{
			`ALTER TABLE saml2_requests ADD COLUMN want_session BOOLEAN NOT NULL DEFAULT FALSE`,
			`ALTER TABLE oidc_auth_requests ADD COLUMN redirect VARCHAR(200) NOT NULL DEFAULT ''`,
			`CREATE INDEX valimo_auth_results_phone ON valimo_auth_results (phone, created)`,
		},
		Down: []string{
			`DROP INDEX valimo_auth_results_phone`,
			`ALTER TABLE oidc_auth_requests DROP COLUMN redirect`,
			`ALTER TABLE saml2_requests DROP COLUMN want_session`,
		},
	})
}
