package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Tx runs fn with a Store bound to one database transaction: everything fn
// does through it commits or rolls back together (a change, its quota
// usage and its events). Nested calls use savepoints.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.DB.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&Store{DB: db, Now: s.Now, Hasher: s.Hasher})
	})
}

// forUpdate locks the rows q reads until the transaction ends (SELECT … FOR
// UPDATE on PostgreSQL). The SQLite dialector drops the clause: SQLite
// transactions here begin IMMEDIATE, so writers are serialized already.
func forUpdate(q *gorm.DB) *gorm.DB { return q.Clauses(clause.Locking{Strength: "UPDATE"}) }
