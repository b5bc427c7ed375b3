package migrations

// Orders by offering and state: what every site agent polls each minute
// (GET /api/marketplace-orders/?offering_uuid=…&state=pending-provider&
// state=executing) and what a provider's order list filters on. Without it
// each poll scanned every order (BenchmarkSiteAgentFleet).
func init() {
	register(Migration{
		Version: 21,
		Name:    "orders_by_offering",
		Up:      []string{`CREATE INDEX orders_offering_state ON orders (offering_id, state)`},
		Down:    []string{`DROP INDEX orders_offering_state`},
	})
}
