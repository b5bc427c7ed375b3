package store

import (
	"context"

	"gorm.io/gorm"
)

// Tx runs fn with a Store bound to one database transaction: everything fn
// does through it commits or rolls back together (a change, its quota
// usage and its events). Nested calls use savepoints.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.DB.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&Store{DB: db, Now: s.Now})
	})
}
