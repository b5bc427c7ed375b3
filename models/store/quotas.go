package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

var _ models.QuotaStore = (*Store)(nil)

type quotaRow struct {
	ScopeType models.ScopeType `gorm:"primaryKey"`
	ScopeID   int64            `gorm:"primaryKey"`
	Name      string           `gorm:"primaryKey"`
	Limit     int64            `gorm:"column:limit"`
	Usage     int64
}

func (quotaRow) TableName() string { return "quotas" }

// InitQuotas creates the quota rows of a new scope (limit -1, usage 0);
// existing rows are kept.
func (s *Store) InitQuotas(ctx context.Context, scope models.Scope) error {
	for _, name := range models.QuotaNames[scope.Type] {
		row := quotaRow{ScopeType: scope.Type, ScopeID: scope.ID, Name: name, Limit: -1}
		if err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return translate(err, "Quota")
		}
	}
	return nil
}

// AddQuotaUsage implements models.QuotaStore. Each change is one
// conditional UPDATE (usage + delta ≤ limit, or no limit, or a decrease),
// which takes the row lock on PostgreSQL and the write lock on SQLite, so
// concurrent changes can never pass a limit. Scopes are updated in a fixed
// order so two transactions cannot deadlock. A missing row is created first.
func (s *Store) AddQuotaUsage(ctx context.Context, deltas []models.QuotaDelta) error {
	ds := append([]models.QuotaDelta(nil), deltas...)
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Scope.Type != b.Scope.Type {
			return a.Scope.Type < b.Scope.Type
		}
		if a.Scope.ID != b.Scope.ID {
			return a.Scope.ID < b.Scope.ID
		}
		return a.Name < b.Name
	})
	return s.Tx(ctx, func(tx *Store) error {
		var exceeded []string
		var refusals []models.QuotaRefusal
		for _, d := range ds {
			if d.Delta == 0 {
				continue
			}
			db := tx.DB.WithContext(ctx)
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&quotaRow{ScopeType: d.Scope.Type, ScopeID: d.Scope.ID, Name: d.Name, Limit: -1}).Error; err != nil {
				return translate(err, "Quota")
			}
			res := db.Exec(`UPDATE quotas SET usage = CASE WHEN usage + ? < 0 THEN 0 ELSE usage + ? END
				WHERE scope_type = ? AND scope_id = ? AND name = ? AND (? <= 0 OR "limit" < 0 OR usage + ? <= "limit")`,
				d.Delta, d.Delta, d.Scope.Type, d.Scope.ID, d.Name, d.Delta, d.Delta)
			if res.Error != nil {
				return translate(res.Error, "Quota")
			}
			if res.RowsAffected == 0 {
				var q quotaRow
				_ = db.Where("scope_type = ? AND scope_id = ? AND name = ?", d.Scope.Type, d.Scope.ID, d.Name).Take(&q).Error
				exceeded = append(exceeded, fmt.Sprintf("%s quota limit: %d, requires %d (%s)", d.Name, q.Limit, q.Usage+d.Delta, d.Scope.Type))
				refusals = append(refusals, models.QuotaRefusal{Scope: d.Scope, Name: d.Name, Limit: q.Limit, Requires: q.Usage + d.Delta})
			}
		}
		if len(exceeded) > 0 {
			e := models.Errorf(models.CodeQuotaExceeded, "One or more quotas were exceeded: %s", strings.Join(exceeded, "; "))
			e.Quotas = refusals
			return e
		}
		return nil
	})
}

// SetQuotaLimit implements models.QuotaStore.
func (s *Store) SetQuotaLimit(ctx context.Context, scope models.Scope, name string, limit int64) error {
	if limit < -1 {
		return models.FieldError("limit", "Ensure this value is greater than or equal to -1.")
	}
	row := quotaRow{ScopeType: scope.Type, ScopeID: scope.ID, Name: name, Limit: limit}
	err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "scope_type"}, {Name: "scope_id"}, {Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"limit"}),
	}).Create(&row).Error
	return translate(err, "Quota")
}

// Quotas implements models.QuotaStore.
func (s *Store) Quotas(ctx context.Context, scope models.Scope) ([]models.Quota, error) {
	var rows []quotaRow
	if err := s.DB.WithContext(ctx).Where("scope_type = ? AND scope_id = ?", scope.Type, scope.ID).Order("name").Find(&rows).Error; err != nil {
		return nil, translate(err, "Quota")
	}
	out := make([]models.Quota, len(rows))
	for i, r := range rows {
		out[i] = models.Quota{Name: r.Name, Usage: r.Usage, Limit: r.Limit}
	}
	return out, nil
}
