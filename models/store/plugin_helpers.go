package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// Helpers of this package that plugins' store code (providers/<name>) uses
// over the same database.

// Translate maps a GORM error onto an application error: not_found (what
// names the missing row), conflict on a duplicate key, an application
// error as it is, internal otherwise.
func Translate(err error, what string) error { return translate(err, what) }

// ForUpdate makes q lock the rows it reads until the transaction ends
// (SELECT ... FOR UPDATE on PostgreSQL).
func ForUpdate(q *gorm.DB) *gorm.DB { return forUpdate(q) }

// NonEmpty is ids, or an id no row has when ids is empty (for IN ?).
func NonEmpty(ids []int64) []int64 { return nonEmpty(ids) }

// CallerRoleScopes are the scopes where the caller of ctx (the request's
// actor) holds a role in force at the store's clock; nil when the caller
// sees everything (staff, support); none for an anonymous caller. A
// plugin's store narrows its lists and retrieves with them, as this
// package's own queries do.
func (s *Store) CallerRoleScopes(ctx context.Context) (*RoleScopes, error) {
	return s.callerRoleScopes(ctx)
}

// SetResourceState moves a marketplace resource to state to, unchecked
// (for a plugin that ends resources with their parent). Codes: internal.
func (s *Store) SetResourceState(ctx context.Context, resourceID int64, to models.ResourceState, now time.Time) error {
	return s.setResourceState(ctx, resourceID, to, now)
}

// ClosePlanPeriod closes the resource's open plan period at now (billing
// stops there). Codes: internal.
func (s *Store) ClosePlanPeriod(ctx context.Context, resourceID int64, now time.Time) error {
	return translate(s.DB.WithContext(ctx).Model(&planPeriodRow{}).Where(`resource_id = ? AND "end" IS NULL`, resourceID).
		Update("end", now).Error, "Plan period")
}
