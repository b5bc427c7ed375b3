package migrations

// The Identity Bridge's columns of a user (Waldur's User.active_isds,
// managed_isds and attribute_sources): the Identity Service Domains that
// assert the user exists, the ISDs an identity manager may push for, and
// per pushed attribute the ISD it came from and when ({"email": {"source":
// "isd:puhuri", "timestamp": "…"}}). NULL reads as an empty list or object.
func init() {
	register(Migration{
		Version: 20,
		Name:    "identity_bridge",
		Up: []string{
			`ALTER TABLE users ADD COLUMN active_isds {{json}}`,
			`ALTER TABLE users ADD COLUMN managed_isds {{json}}`,
			`ALTER TABLE users ADD COLUMN attribute_sources {{json}}`,
		},
		Down: []string{
			`ALTER TABLE users DROP COLUMN attribute_sources`,
			`ALTER TABLE users DROP COLUMN managed_isds`,
			`ALTER TABLE users DROP COLUMN active_isds`,
		},
	})
}
