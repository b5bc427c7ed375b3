package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// JSONObject is a JSON object column ({{json}}: JSONB on PostgreSQL, TEXT on
// SQLite). A nil map is stored as NULL and read back as nil.
type JSONObject map[string]any

// Value implements driver.Valuer (JSON text, accepted by both databases).
func (j JSONObject) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	b, err := json.Marshal(map[string]any(j))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (j *JSONObject) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*j = nil
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("JSONObject: cannot scan %T", src)
	}
	if len(b) == 0 {
		*j = nil
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*j = m
	return nil
}

// OrEmpty is the object, never nil.
func (j JSONObject) OrEmpty() map[string]any {
	if j == nil {
		return map[string]any{}
	}
	return j
}

// ServiceProvider is a customer registered as a marketplace service provider.
type ServiceProvider struct {
	ID                  int64 `gorm:"primaryKey"`
	UUID                models.UUID
	CustomerID          int64
	Description         string
	EnableNotifications bool
	APISecretCode       string `gorm:"column:api_secret_code"`
	Created             time.Time
	Modified            time.Time
}

// TableName is the GORM table.
func (ServiceProvider) TableName() string { return "service_providers" }

// CategoryGroup groups marketplace categories.
type CategoryGroup struct {
	ID          int64 `gorm:"primaryKey"`
	UUID        models.UUID
	Title       string
	Description string
	Icon        string
}

// TableName is the GORM table.
func (CategoryGroup) TableName() string { return "category_groups" }

// Category is a marketplace category of offerings.
type Category struct {
	ID                    int64 `gorm:"primaryKey"`
	UUID                  models.UUID
	GroupID               *int64
	Title                 string
	Description           string
	Icon                  string
	BackendID             string
	DefaultVMCategory     bool `gorm:"column:default_vm_category"`
	DefaultVolumeCategory bool
	DefaultTenantCategory bool
	Created               time.Time
	Modified              time.Time
}

// TableName is the GORM table.
func (Category) TableName() string { return "categories" }

// CreateServiceProvider registers the customer as a service provider; a
// customer already registered is a conflict ("already exists").
func (s *Store) CreateServiceProvider(ctx context.Context, sp *ServiceProvider) error {
	now := s.Now()
	if sp.UUID.IsZero() {
		sp.UUID = models.NewUUID()
	}
	sp.Created, sp.Modified = now, now
	return s.Tx(ctx, func(tx *Store) error {
		var n int64
		if err := tx.DB.WithContext(ctx).Model(&ServiceProvider{}).Where("customer_id = ?", sp.CustomerID).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return models.FieldError("customer", "Service provider with this customer already exists.")
		}
		return translate(tx.DB.WithContext(ctx).Create(sp).Error, "Service provider")
	})
}

// UpdateRow changes the given columns of a catalog row (a *ServiceProvider,
// *CategoryGroup, *Category) identified by its id, and reloads it.
func (s *Store) UpdateRow(ctx context.Context, row any, id int64, fields map[string]any, what string) error {
	if len(fields) > 0 {
		if err := s.DB.WithContext(ctx).Model(row).Where("id = ?", id).Updates(fields).Error; err != nil {
			return translate(err, what)
		}
	}
	return translate(s.DB.WithContext(ctx).Where("id = ?", id).Take(row).Error, what)
}

// CreateRow inserts a catalog row.
func (s *Store) CreateRow(ctx context.Context, row any, what string) error {
	return translate(s.DB.WithContext(ctx).Create(row).Error, what)
}

// DeleteRow deletes the row of model (e.g. &Category{}) with the id. A row
// still referenced (e.g. a category with offerings) is a conflict.
func (s *Store) DeleteRow(ctx context.Context, model any, id int64, what string) error {
	err := s.DB.WithContext(ctx).Where("id = ?", id).Delete(model).Error
	if err != nil && err != gorm.ErrRecordNotFound {
		return models.Errorf(models.CodeConflict, "%s is in use and cannot be deleted.", what)
	}
	return nil
}

// ActiveOfferingCounts counts the Active offerings per value of column
// ("category_id" or "customer_id") among ids.
func (s *Store) ActiveOfferingCounts(ctx context.Context, column string, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	if column != "category_id" && column != "customer_id" {
		return nil, models.Errorf(models.CodeInvalid, "bad column")
	}
	var rows []struct {
		K int64
		N int64
	}
	if err := s.DB.WithContext(ctx).Table("offerings").Select(column+" AS k, COUNT(*) AS n").
		Where(column+" IN ? AND state = ?", ids, models.OfferingActive).Group(column).Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.K] = r.N
	}
	return out, nil
}

// GormDataType tells GORM the column holds JSON.
func (JSONObject) GormDataType() string { return "json" }
