package migrations

// Billing: monthly invoices per customer with their items, customer and
// project credits, payment profiles, and the record of closed months
// (Waldur's invoices app). invoice_items.item_key identifies an item a
// registrator computed from a resource's history, so registering the
// resource again updates it in place; manual and compensation items have
// an empty key; fingerprint hashes what the registrator computed (name,
// period, prices, details), so a registration that changes nothing writes
// nothing. invoices.total_price caches Σ item price.
func init() {
	register(Migration{
		Version: 10,
		Name:    "billing",
		Up: []string{
			`CREATE TABLE invoices (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				customer_id {{bigint}} NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
				year SMALLINT NOT NULL,
				month SMALLINT NOT NULL,
				state VARCHAR(30) NOT NULL DEFAULT 'pending',
				tax_percent {{decimal}} NOT NULL DEFAULT 0,
				total_price {{decimal}} NOT NULL DEFAULT 0,
				invoice_date DATE,
				backend_id VARCHAR(255) NOT NULL DEFAULT '',
				payment_url VARCHAR(200) NOT NULL DEFAULT '',
				reference_number VARCHAR(300) NOT NULL DEFAULT '',
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL,
				UNIQUE (customer_id, year, month)
			)`,
			`CREATE INDEX invoices_period ON invoices (year, month, state)`,
			`CREATE TABLE customer_credits (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				customer_id {{bigint}} NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE,
				value {{decimal}} NOT NULL DEFAULT 0,
				end_date DATE,
				expected_consumption {{decimal}} NOT NULL DEFAULT 0,
				minimal_consumption_logic VARCHAR(10) NOT NULL DEFAULT 'fixed',
				grace_coefficient {{decimal}} NOT NULL DEFAULT 0,
				apply_as_minimal_consumption BOOLEAN NOT NULL DEFAULT FALSE,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE TABLE customer_credit_offerings (
				credit_id {{bigint}} NOT NULL REFERENCES customer_credits(id) ON DELETE CASCADE,
				offering_id {{bigint}} NOT NULL REFERENCES offerings(id) ON DELETE CASCADE,
				PRIMARY KEY (credit_id, offering_id)
			)`,
			`CREATE TABLE project_credits (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				project_id {{bigint}} NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
				value {{decimal}} NOT NULL DEFAULT 0,
				end_date DATE,
				expected_consumption {{decimal}} NOT NULL DEFAULT 0,
				minimal_consumption_logic VARCHAR(10) NOT NULL DEFAULT 'fixed',
				grace_coefficient {{decimal}} NOT NULL DEFAULT 0,
				apply_as_minimal_consumption BOOLEAN NOT NULL DEFAULT FALSE,
				mark_unused_credit_as_spent_on_project_termination BOOLEAN NOT NULL DEFAULT FALSE,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE TABLE invoice_items (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				invoice_id {{bigint}} NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
				resource_id {{bigint}} REFERENCES resources(id) ON DELETE SET NULL,
				offering_id {{bigint}} REFERENCES offerings(id) ON DELETE SET NULL,
				project_id {{bigint}} REFERENCES projects(id) ON DELETE SET NULL,
				project_name VARCHAR(500) NOT NULL DEFAULT '',
				project_uuid VARCHAR(32) NOT NULL DEFAULT '',
				item_key VARCHAR(100) NOT NULL DEFAULT '',
				fingerprint VARCHAR(16) NOT NULL DEFAULT '',
				kind VARCHAR(20) NOT NULL,
				name TEXT NOT NULL DEFAULT '',
				details {{json}},
				start {{ts}} NOT NULL,
				"end" {{ts}} NOT NULL,
				unit VARCHAR(15) NOT NULL,
				unit_price {{decimal}} NOT NULL DEFAULT 0,
				quantity {{decimal}} NOT NULL DEFAULT 0,
				price {{decimal}} NOT NULL DEFAULT 0,
				measured_unit VARCHAR(30) NOT NULL DEFAULT '',
				article_code VARCHAR(30) NOT NULL DEFAULT '',
				backend_uuid VARCHAR(32),
				credit_id {{bigint}} REFERENCES customer_credits(id) ON DELETE SET NULL,
				compensated_item_id {{bigint}} REFERENCES invoice_items(id) ON DELETE SET NULL,
				created {{ts}} NOT NULL,
				modified {{ts}} NOT NULL
			)`,
			`CREATE INDEX invoice_items_invoice ON invoice_items (invoice_id, resource_id)`,
			`CREATE UNIQUE INDEX invoice_items_key ON invoice_items (invoice_id, resource_id, item_key) WHERE item_key <> ''`,
			`CREATE INDEX invoice_items_resource ON invoice_items (resource_id)`,
			`CREATE INDEX invoice_items_project ON invoice_items (project_id)`,
			`CREATE TABLE payment_profiles (
				id {{id}},
				uuid CHAR(32) NOT NULL UNIQUE,
				customer_id {{bigint}} NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
				name VARCHAR(150) NOT NULL DEFAULT '',
				payment_type VARCHAR(30) NOT NULL,
				attributes {{json}},
				is_active BOOLEAN NOT NULL DEFAULT TRUE
			)`,
			`CREATE INDEX payment_profiles_customer ON payment_profiles (customer_id, is_active)`,
			// One row per month whose close has begun: the future prices were
			// copied once (prices_copied_at) and the close finished (closed_at).
			`CREATE TABLE billing_months (
				period DATE PRIMARY KEY,
				prices_copied_at {{ts}},
				closed_at {{ts}}
			)`,
		},
		Down: []string{
			`DROP TABLE billing_months`,
			`DROP TABLE payment_profiles`,
			`DROP TABLE invoice_items`,
			`DROP TABLE project_credits`,
			`DROP TABLE customer_credit_offerings`,
			`DROP TABLE customer_credits`,
			`DROP TABLE invoices`,
		},
	})
}
