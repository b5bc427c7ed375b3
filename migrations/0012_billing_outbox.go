package migrations

// The billing outbox: a change that affects a resource's invoice (a done
// order, a usage report) marks the resource in the transaction of the
// change, and the billing dispatcher registers marked resources in batches.
func init() {
	register(Migration{
		Version: 12,
		Name:    "billing_outbox",
		Up: []string{
			`ALTER TABLE resources ADD COLUMN billing_dirty BOOLEAN NOT NULL DEFAULT FALSE`,
			`CREATE INDEX resources_billing_dirty ON resources (billing_dirty, id)`,
		},
		Down: []string{
			`DROP INDEX resources_billing_dirty`,
			`ALTER TABLE resources DROP COLUMN billing_dirty`,
		},
	})
}
