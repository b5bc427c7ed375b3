package migrations

// The SAML2 service provider's tables: the identity providers known from
// the configured metadata (Waldur's IdentityProvider: name, url = entity
// ID, metadata), the AuthnRequests waiting for their answer, the IDs of
// the assertions consumed (a replay is refused until the assertion would
// have expired anyway) and the SAML2 sessions a single logout ends.
func init() {
	register(Migration{
		Version: 25,
		Name:    "saml2",
		Up: []string{
			`CREATE TABLE saml2_identity_providers (
				id {{id}},
				entity_id VARCHAR(1024) NOT NULL UNIQUE,
				name VARCHAR(255) NOT NULL,
				metadata TEXT NOT NULL,
				source VARCHAR(1024) NOT NULL DEFAULT '',
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX saml2_identity_providers_name ON saml2_identity_providers (name)`,
			`CREATE TABLE saml2_requests (
				id VARCHAR(255) PRIMARY KEY,
				idp VARCHAR(1024) NOT NULL,
				expires {{ts}} NOT NULL
			)`,
			`CREATE INDEX saml2_requests_expires ON saml2_requests (expires)`,
			`CREATE TABLE saml2_assertions (
				id VARCHAR(1024) PRIMARY KEY,
				expires {{ts}} NOT NULL
			)`,
			`CREATE INDEX saml2_assertions_expires ON saml2_assertions (expires)`,
			`CREATE TABLE saml2_sessions (
				id {{id}},
				user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
				idp VARCHAR(1024) NOT NULL,
				name_id VARCHAR(1024) NOT NULL,
				name_id_format VARCHAR(255) NOT NULL DEFAULT '',
				session_index VARCHAR(255) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL
			)`,
			`CREATE INDEX saml2_sessions_user ON saml2_sessions (user_id)`,
			`CREATE INDEX saml2_sessions_name_id ON saml2_sessions (idp, name_id)`,
		},
		Down: []string{
			`DROP TABLE saml2_sessions`,
			`DROP TABLE saml2_assertions`,
			`DROP TABLE saml2_requests`,
			`DROP TABLE saml2_identity_providers`,
		},
	})
}
