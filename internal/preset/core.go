package preset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func init() {
	Register(Section{Name: "users", Order: 10, Load: loadUsers})
	Register(Section{Name: "auth_tokens", Order: 20, Load: loadTokens})
	Register(Section{Name: "customers", Order: 30, Load: loadCustomers})
	Register(Section{Name: "projects", Order: 40, Load: loadProjects})
	Register(Section{Name: "user_roles", Order: 90, Load: loadUserRoles})
}

// IDOf returns the internal id of the row of table with the given UUID (0 when none).
func IDOf(ctx context.Context, tx *store.Store, table string, id models.UUID) (int64, error) {
	var out []int64
	if err := tx.DB.WithContext(ctx).Table(table).Where("uuid = ?", id).Limit(1).Pluck("id", &out).Error; err != nil {
		return 0, err
	}
	if len(out) == 0 {
		return 0, nil
	}
	return out[0], nil
}

type presetUser struct {
	UUID          models.UUID `json:"uuid"`
	Username      string      `json:"username"`
	Email         string      `json:"email"`
	FirstName     string      `json:"first_name"`
	LastName      string      `json:"last_name"`
	IsStaff       bool        `json:"is_staff"`
	IsSupport     bool        `json:"is_support"`
	IsActive      *bool       `json:"is_active"`
	Password      string      `json:"password"`
	TokenLifetime *int        `json:"token_lifetime"`
}

func loadUsers(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	users, err := decode[presetUser](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range users {
		if p.UUID.IsZero() {
			return created, existing, fmt.Errorf("user %q has no uuid", p.Username)
		}
		if id, err := IDOf(ctx, tx, "users", p.UUID); err != nil {
			return created, existing, err
		} else if id != 0 {
			existing++
			continue
		}
		active := p.IsActive == nil || *p.IsActive
		lt := p.TokenLifetime
		if lt == nil {
			d := models.DefaultTokenLifetime
			lt = &d
		}
		u := &models.User{UUID: p.UUID, Username: p.Username, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName,
			IsStaff: p.IsStaff, IsSupport: p.IsSupport, IsActive: active, NotificationsEnabled: true, TokenLifetime: lt}
		if err := tx.CreateUser(ctx, u, p.Password); err != nil {
			return created, existing, fmt.Errorf("user %q: %w", p.Username, err)
		}
		created++
	}
	return created, existing, nil
}

type presetToken struct {
	Key      string      `json:"key"`
	UserUUID models.UUID `json:"user_uuid"`
}

type tokenRow struct {
	Key     string `gorm:"primaryKey"`
	UserID  int64
	Created time.Time
}

func (tokenRow) TableName() string { return "tokens" }

func loadTokens(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	toks, err := decode[presetToken](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range toks {
		if p.Key == "" || len(p.Key) > 40 {
			return created, existing, fmt.Errorf("token key %q must be 1 to 40 characters", p.Key)
		}
		uid, err := IDOf(ctx, tx, "users", p.UserUUID)
		if err != nil {
			return created, existing, err
		}
		if uid == 0 {
			return created, existing, fmt.Errorf("token for unknown user %s", p.UserUUID)
		}
		var have []tokenRow
		if err := tx.DB.WithContext(ctx).Where("user_id = ?", uid).Find(&have).Error; err != nil {
			return created, existing, err
		}
		if len(have) == 1 && have[0].Key == p.Key {
			existing++
			continue
		}
		// One token per user: the preset's key replaces any other.
		if err := tx.DB.WithContext(ctx).Where("user_id = ?", uid).Delete(&tokenRow{}).Error; err != nil {
			return created, existing, err
		}
		if err := tx.DB.WithContext(ctx).Create(&tokenRow{Key: p.Key, UserID: uid, Created: tx.Now()}).Error; err != nil {
			return created, existing, fmt.Errorf("token of user %s: %w", p.UserUUID, err)
		}
		created++
	}
	return created, existing, nil
}

type presetCustomer struct {
	UUID           models.UUID `json:"uuid"`
	Name           string      `json:"name"`
	NativeName     string      `json:"native_name"`
	Abbreviation   string      `json:"abbreviation"`
	ContactDetails string      `json:"contact_details"`
	Email          string      `json:"email"`
	PhoneNumber    string      `json:"phone_number"`
	Description    string      `json:"description"`
	Country        string      `json:"country"`
	BackendID      string      `json:"backend_id"`
}

func loadCustomers(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	cs, err := decode[presetCustomer](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range cs {
		if p.UUID.IsZero() || strings.TrimSpace(p.Name) == "" {
			return created, existing, fmt.Errorf("customer %q needs a uuid and a name", p.Name)
		}
		if id, err := IDOf(ctx, tx, "customers", p.UUID); err != nil {
			return created, existing, err
		} else if id != 0 {
			existing++
			continue
		}
		now := tx.Now()
		slug, err := tx.NextSlug(ctx, "customers", p.Name) // as the API fills it (the site agent needs slugs)
		if err != nil {
			return created, existing, err
		}
		row := map[string]any{"uuid": p.UUID, "name": p.Name, "slug": slug, "native_name": p.NativeName, "abbreviation": p.Abbreviation,
			"contact_details": p.ContactDetails, "email": p.Email, "phone_number": p.PhoneNumber, "description": p.Description,
			"country": p.Country, "backend_id": p.BackendID, "accounting_start_date": now, "created": now, "modified": now}
		if err := tx.DB.WithContext(ctx).Table("customers").Create(row).Error; err != nil {
			return created, existing, fmt.Errorf("customer %q: %w", p.Name, err)
		}
		id, err := IDOf(ctx, tx, "customers", p.UUID)
		if err != nil {
			return created, existing, err
		}
		if err := tx.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: id}); err != nil {
			return created, existing, err
		}
		created++
	}
	return created, existing, nil
}

type presetProject struct {
	UUID         models.UUID `json:"uuid"`
	Name         string      `json:"name"`
	CustomerUUID models.UUID `json:"customer_uuid"`
	Description  string      `json:"description"`
	BackendID    string      `json:"backend_id"`
}

func loadProjects(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	ps, err := decode[presetProject](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	for _, p := range ps {
		if p.UUID.IsZero() || strings.TrimSpace(p.Name) == "" {
			return created, existing, fmt.Errorf("project %q needs a uuid and a name", p.Name)
		}
		if id, err := IDOf(ctx, tx, "projects", p.UUID); err != nil {
			return created, existing, err
		} else if id != 0 {
			existing++
			continue
		}
		cid, err := IDOf(ctx, tx, "customers", p.CustomerUUID)
		if err != nil {
			return created, existing, err
		}
		if cid == 0 {
			return created, existing, fmt.Errorf("project %q: unknown customer %s", p.Name, p.CustomerUUID)
		}
		now := tx.Now()
		slug, err := tx.NextSlug(ctx, "projects", p.Name)
		if err != nil {
			return created, existing, err
		}
		row := map[string]any{"uuid": p.UUID, "name": p.Name, "slug": slug, "customer_id": cid, "description": p.Description,
			"backend_id": p.BackendID, "created": now, "modified": now}
		if err := tx.DB.WithContext(ctx).Table("projects").Create(row).Error; err != nil {
			return created, existing, fmt.Errorf("project %q: %w", p.Name, err)
		}
		id, err := IDOf(ctx, tx, "projects", p.UUID)
		if err != nil {
			return created, existing, err
		}
		if err := tx.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: id}); err != nil {
			return created, existing, err
		}
		if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: models.Scope{Type: models.ScopeCustomer, ID: cid}, Name: models.QuotaProjectCount, Delta: 1}}); err != nil {
			return created, existing, fmt.Errorf("project %q: %w", p.Name, err)
		}
		created++
	}
	return created, existing, nil
}

type presetUserRole struct {
	UUID           models.UUID `json:"uuid"`
	UserUUID       models.UUID `json:"user_uuid"`
	RoleName       string      `json:"role_name"`
	ScopeType      string      `json:"scope_type"`
	ScopeUUID      models.UUID `json:"scope_uuid"`
	IsActive       *bool       `json:"is_active"`
	ExpirationTime *time.Time  `json:"expiration_time"`
}

// ScopeTables maps a preset's scope_type (Django's app_label.model) to our
// scope type and table. The marketplace adds "marketplace.offering".
var ScopeTables = map[string]struct {
	Type  models.ScopeType
	Table string
}{
	"structure.customer": {models.ScopeCustomer, "customers"},
	"structure.project":  {models.ScopeProject, "projects"},
	"customer":           {models.ScopeCustomer, "customers"},
	"project":            {models.ScopeProject, "projects"},
}

// ErrScopeNotLoaded marks a role whose scope type no loaded section provides yet.
var ErrScopeNotLoaded = errors.New("scope type not supported yet")

func loadUserRoles(ctx context.Context, tx *store.Store, raw json.RawMessage) (int, int, error) {
	rs, err := decode[presetUserRole](raw)
	if err != nil {
		return 0, 0, err
	}
	created, existing := 0, 0
	customers := map[int64]bool{}
	for _, p := range rs {
		if id, err := IDOf(ctx, tx, "user_roles", p.UUID); err != nil {
			return created, existing, err
		} else if id != 0 {
			existing++
			continue
		}
		st, ok := ScopeTables[p.ScopeType]
		if !ok {
			// e.g. marketplace.offering before the marketplace registers it: left for a later load.
			continue
		}
		uid, err := IDOf(ctx, tx, "users", p.UserUUID)
		if err != nil || uid == 0 {
			return created, existing, fmt.Errorf("user role %s: unknown user %s", p.UUID, p.UserUUID)
		}
		sid, err := IDOf(ctx, tx, st.Table, p.ScopeUUID)
		if err != nil || sid == 0 {
			return created, existing, fmt.Errorf("user role %s: unknown %s %s", p.UUID, p.ScopeType, p.ScopeUUID)
		}
		role, err := tx.RoleByName(ctx, p.RoleName)
		if err != nil {
			return created, existing, fmt.Errorf("user role %s: unknown role %q", p.UUID, p.RoleName)
		}
		if role.ContentType != st.Type {
			return created, existing, fmt.Errorf("user role %s: role %s does not apply to a %s", p.UUID, role.Name, st.Type)
		}
		now := tx.Now()
		active := p.IsActive == nil || *p.IsActive
		row := map[string]any{"uuid": p.UUID, "user_id": uid, "role_id": role.ID, "scope_type": st.Type, "scope_id": sid,
			"created": now, "modified": now, "is_active": active, "expiration_time": p.ExpirationTime}
		if err := tx.DB.WithContext(ctx).Table("user_roles").Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error; err != nil {
			return created, existing, err
		}
		cid := sid
		switch st.Type {
		case models.ScopeOffering:
			created++ // offering roles do not count in a customer's nc_user_count
			continue
		case models.ScopeProject:
			var c []int64
			if err := tx.DB.WithContext(ctx).Table("projects").Where("id = ?", sid).Pluck("customer_id", &c).Error; err != nil || len(c) == 0 {
				return created, existing, errors.Join(err, gorm.ErrRecordNotFound)
			}
			cid = c[0]
		}
		customers[cid] = true
		created++
	}
	for cid := range customers {
		if err := tx.RecountUserQuota(ctx, cid); err != nil {
			return created, existing, err
		}
	}
	return created, existing, nil
}
