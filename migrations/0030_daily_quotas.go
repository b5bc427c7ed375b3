package migrations

// Daily quota history (Waldur's analytics DailyQuotaHistory): the usage of
// every quota of every scope, one row a day, written by the daily Schedule
// waldur-daily-quotas (Waldur's sync_daily_quotas) and read by
// /api/daily-quotas/. Also the indexes the statistics' range scans use:
// orders by creation (marketplace-stats order_stats) and invoice items by
// offering (a provider's revenue).
func init() {
	register(Migration{
		Version: 30,
		Name:    "daily_quotas",
		Up: []string{
			`CREATE TABLE daily_quotas (
				scope_type VARCHAR(20) NOT NULL,
				scope_id {{bigint}} NOT NULL,
				name VARCHAR(150) NOT NULL,
				date DATE NOT NULL,
				usage {{bigint}} NOT NULL DEFAULT 0,
				PRIMARY KEY (scope_type, scope_id, name, date)
			)`,
			`CREATE INDEX orders_created ON orders (created)`,
			`CREATE INDEX invoice_items_offering ON invoice_items (offering_id)`,
		},
		Down: []string{
			`DROP INDEX invoice_items_offering`,
			`DROP INDEX orders_created`,
			`DROP TABLE daily_quotas`,
		},
	})
}
