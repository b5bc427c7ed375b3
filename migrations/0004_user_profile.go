package migrations

// User profile columns the API's User object has and 0001 lacked: the slug
// and the personal attributes Waldur keeps on core.User (identity
// providers fill most of them; users and staff may edit them).
func init() {
	register(Migration{
		Version: 4,
		Name:    "user_profile",
		Up: []string{
			`ALTER TABLE users ADD COLUMN slug VARCHAR(50) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN identity_source VARCHAR(50) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN birth_date DATE`,
			`ALTER TABLE users ADD COLUMN gender SMALLINT`,
			`ALTER TABLE users ADD COLUMN personal_title VARCHAR(50) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN place_of_birth VARCHAR(255) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN country_of_residence VARCHAR(2) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN nationality VARCHAR(2) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN nationalities {{json}}`,
			`ALTER TABLE users ADD COLUMN organization_country VARCHAR(2) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN organization_type VARCHAR(255) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN organization_registry_code VARCHAR(255) NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN eduperson_assurance {{json}}`,
		},
		Down: []string{
			`ALTER TABLE users DROP COLUMN eduperson_assurance`,
			`ALTER TABLE users DROP COLUMN organization_registry_code`,
			`ALTER TABLE users DROP COLUMN organization_type`,
			`ALTER TABLE users DROP COLUMN organization_country`,
			`ALTER TABLE users DROP COLUMN nationalities`,
			`ALTER TABLE users DROP COLUMN nationality`,
			`ALTER TABLE users DROP COLUMN country_of_residence`,
			`ALTER TABLE users DROP COLUMN place_of_birth`,
			`ALTER TABLE users DROP COLUMN personal_title`,
			`ALTER TABLE users DROP COLUMN gender`,
			`ALTER TABLE users DROP COLUMN birth_date`,
			`ALTER TABLE users DROP COLUMN identity_source`,
			`ALTER TABLE users DROP COLUMN slug`,
		},
	})
}
