package migrations

// A role's description in the languages other than English (Waldur's
// description_<lang> fields), as one JSON object by language.
func init() {
	register(Migration{
		Version: 18,
		Name:    "role_descriptions",
		Up:      []string{`ALTER TABLE roles ADD COLUMN descriptions {{json}}`},
		Down:    []string{`ALTER TABLE roles DROP COLUMN descriptions`},
	})
}
