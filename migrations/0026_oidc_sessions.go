package migrations

// OpenID Connect login and browser sessions: the OIDC identity providers
// staff configures (Waldur's waldur_auth_social IdentityProvider, one row
// per provider slug, several at once), the authorization requests waiting
// for their answer (state, nonce and PKCE verifier kept server-side, taken
// once) and the browser sessions of the sessionid cookie (the key and the
// CSRF token stored as SHA-256 digests, with their expiry).
func init() {
	register(Migration{
		Version: 26,
		Name:    "oidc_sessions",
		Up: []string{
			`CREATE TABLE oidc_identity_providers (
				id {{id}},
				provider VARCHAR(32) NOT NULL UNIQUE,
				label VARCHAR(200) NOT NULL,
				is_active BOOLEAN NOT NULL DEFAULT TRUE,
				client_id VARCHAR(200) NOT NULL,
				client_secret VARCHAR(200) NOT NULL,
				verify_ssl BOOLEAN NOT NULL DEFAULT TRUE,
				enable_pkce BOOLEAN NOT NULL DEFAULT TRUE,
				enable_post_logout_redirect BOOLEAN NOT NULL DEFAULT FALSE,
				discovery_url VARCHAR(200) NOT NULL,
				auth_url VARCHAR(200) NOT NULL DEFAULT '',
				token_url VARCHAR(200) NOT NULL DEFAULT '',
				userinfo_url VARCHAR(200) NOT NULL DEFAULT '',
				logout_url VARCHAR(200) NOT NULL DEFAULT '',
				management_url VARCHAR(200) NOT NULL DEFAULT '',
				extra_scope VARCHAR(200),
				extra_fields VARCHAR(200),
				user_field VARCHAR(100) NOT NULL DEFAULT 'username',
				user_claim VARCHAR(100) NOT NULL DEFAULT 'sub',
				attribute_mapping TEXT NOT NULL DEFAULT '{}',
				protected_fields TEXT NOT NULL DEFAULT '[]',
				allowed_redirects TEXT NOT NULL DEFAULT '[]',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE TABLE oidc_auth_requests (
				state VARCHAR(64) PRIMARY KEY,
				provider VARCHAR(32) NOT NULL,
				nonce VARCHAR(64) NOT NULL,
				verifier VARCHAR(128) NOT NULL DEFAULT '',
				want_session BOOLEAN NOT NULL DEFAULT FALSE,
				expires {{ts}} NOT NULL
			)`,
			`CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires)`,
			`CREATE TABLE sessions (
				key_hash CHAR(64) PRIMARY KEY,
				user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
				csrf_hash CHAR(64) NOT NULL,
				method VARCHAR(64) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				expires {{ts}} NOT NULL
			)`,
			`CREATE INDEX sessions_user ON sessions (user_id)`,
			`CREATE INDEX sessions_expires ON sessions (expires)`,
		},
		Down: []string{
			`DROP TABLE sessions`,
			`DROP TABLE oidc_auth_requests`,
			`DROP TABLE oidc_identity_providers`,
		},
	})
}
