package migrations

// A marketplace resource's scope (Waldur's generic Resource.scope: the
// plugin resource behind it, rendered as resource_type and resource_uuid,
// and as an order's resource_uuid) belongs to the platform, whatever the
// plugins. These columns came with the OpenStack plugin's migration 13
// until it became a plugin; databases migrated then have them already, so
// they are added only where missing.
func init() {
	register(Migration{
		Version: 17,
		Name:    "resource_scope",
		AddColumns: []Column{
			{Table: "resources", Name: "scope_type", Def: "VARCHAR(100) NOT NULL DEFAULT ''"},
			{Table: "resources", Name: "scope_uuid", Def: "CHAR(32)"},
		},
	})
}
