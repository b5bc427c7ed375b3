// Package activities holds every Temporal activity: the only code a
// workflow runs that may do I/O. Activities are methods on structs that hold
// their dependencies (the database, the provider registry, a clock) and are
// registered once per worker.
package activities

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Core holds the platform's own activities.
type Core struct {
	DB  *gorm.DB
	Now func() time.Time
}

// PingInput is the input of Core.Ping.
type PingInput struct{ Message string }

// PingResult is what Core.Ping returns.
type PingResult struct {
	Message  string
	Database string
}

// Ping checks that the database answers and echoes the message.
func (a *Core) Ping(ctx context.Context, in PingInput) (PingResult, error) {
	sqlDB, err := a.DB.DB()
	if err != nil {
		return PingResult{}, err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return PingResult{}, err
	}
	return PingResult{Message: in.Message, Database: a.DB.Dialector.Name()}, nil
}
