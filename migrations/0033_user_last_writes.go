package migrations

// Read-your-writes across API processes: the primary's WAL position after
// each user's last writing request, one row per user. Every API process
// reads it before sending a user's read to a replica, so a read on any
// process waits for (goes to the primary until) a replica that has
// replayed the user's last write. Only used with read replicas
// (PostgreSQL); created on both databases to keep one schema.
func init() {
	register(Migration{
		Version: 33,
		Name:    "user_last_writes",
		Up: []string{
			`CREATE TABLE user_last_writes (
				user_id BIGINT NOT NULL PRIMARY KEY,
				lsn BIGINT NOT NULL,
				at TIMESTAMP NOT NULL
			)`,
		},
		Down: []string{
			`DROP TABLE user_last_writes`,
		},
	})
}
