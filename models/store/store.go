// Package store implements the models' store interfaces with GORM, the same
// code on PostgreSQL and SQLite.
package store

import (
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// Store is the GORM implementation of every models store interface.
type Store struct {
	DB  *gorm.DB
	Now func() time.Time
	// Hasher bounds the password hashing; nil means one hasher shared by
	// the process (as many slots as CPUs).
	Hasher *Hasher
}

// New returns a store over db.
func New(db *gorm.DB) *Store {
	return &Store{DB: db, Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// translate maps GORM errors onto application errors.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.Errorf(models.CodeNotFound, "%s not found.", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return models.Errorf(models.CodeConflict, "%s already exists.", what)
	}
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	return models.Internal(err)
}
