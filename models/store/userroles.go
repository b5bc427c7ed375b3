package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

type userRoleRow struct {
	ID             int64 `gorm:"primaryKey"`
	UUID           models.UUID
	UserID         int64
	RoleID         int64
	ScopeType      models.ScopeType
	ScopeID        int64
	CreatedByID    *int64
	Created        time.Time
	Modified       time.Time
	ExpirationTime *time.Time
	IsActive       bool
}

func (userRoleRow) TableName() string { return "user_roles" }

func (r userRoleRow) model() *models.UserRole {
	u := models.UserRole(r)
	return &u
}

type roleRow struct {
	ID           int64 `gorm:"primaryKey"`
	UUID         models.UUID
	Name         string
	Description  string
	Descriptions map[string]string `gorm:"serializer:json"`
	ContentType  models.ScopeType
	IsSystemRole bool
	IsActive     bool
	Modified     time.Time
}

func (roleRow) TableName() string { return "roles" }

func (r roleRow) model() *models.Role {
	return &models.Role{ID: r.ID, UUID: r.UUID, Name: r.Name, Description: r.Description, Descriptions: r.Descriptions, ContentType: r.ContentType,
		IsSystemRole: r.IsSystemRole, IsActive: r.IsActive, Modified: r.Modified}
}

// RoleByName returns a role. Codes: not_found.
func (s *Store) RoleByName(ctx context.Context, name string) (*models.Role, error) {
	var r roleRow
	if err := s.DB.WithContext(ctx).Where("name = ?", name).Take(&r).Error; err != nil {
		return nil, translate(err, "Role")
	}
	return r.model(), nil
}

// RoleByUUID returns a role. Codes: not_found.
func (s *Store) RoleByUUID(ctx context.Context, id models.UUID) (*models.Role, error) {
	var r roleRow
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Role")
	}
	return r.model(), nil
}

// RoleByID returns a role. Codes: not_found.
func (s *Store) RoleByID(ctx context.Context, id int64) (*models.Role, error) {
	var r roleRow
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Role")
	}
	return r.model(), nil
}

// Grant is a request to give a user a role on a scope.
type Grant struct {
	User           *models.User
	Role           *models.Role
	Scope          models.Scope
	CustomerID     int64 // the customer the scope belongs to (itself for a customer)
	ExpirationTime *time.Time
	CreatedBy      *models.User
	// EventScopes are the feeds of the role event (the scope and its customer).
	EventScopes []models.Scope
	// ScopeName is used in the event message.
	ScopeName string
}

// ActiveUserRole returns the user's grant of role on scope in force at now. Codes: not_found.
func (s *Store) ActiveUserRole(ctx context.Context, userID, roleID int64, scope models.Scope) (*models.UserRole, error) {
	var r userRoleRow
	err := s.DB.WithContext(ctx).Where("user_id = ? AND role_id = ? AND scope_type = ? AND scope_id = ?", userID, roleID, scope.Type, scope.ID).
		Where(rbac.InForce("user_roles", s.Now())).Take(&r).Error
	if err != nil {
		return nil, translate(err, "Role")
	}
	return r.model(), nil
}

// customerUserCount counts the distinct users holding a role in force in the
// customer or any of its projects.
func (s *Store) customerUserCount(ctx context.Context, customerID int64) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Raw(`SELECT COUNT(DISTINCT user_id) FROM user_roles WHERE ? AND
		((scope_type = ? AND scope_id = ?) OR (scope_type = ? AND scope_id IN (SELECT id FROM projects WHERE customer_id = ?)))`,
		rbac.InForce("user_roles", s.Now()), models.ScopeCustomer, customerID, models.ScopeProject, customerID).Scan(&n).Error
	return n, err
}

// GrantRole gives the role, in one transaction with the customer's
// nc_user_count and the role_granted event. Validation as Waldur's
// add_user: the role must be active and of the scope's type, and the user
// must not hold it there already. Codes: invalid, quota_exceeded.
func (s *Store) GrantRole(ctx context.Context, g Grant) (*models.UserRole, error) {
	if !g.Role.IsActive {
		return nil, models.FieldError("role", "Role is not active.")
	}
	if g.Role.ContentType != g.Scope.Type {
		return nil, models.FieldError("role", fmt.Sprintf("Role %s cannot be granted on a %s.", g.Role.Name, g.Scope.Type))
	}
	now := s.Now()
	if g.ExpirationTime != nil && !g.ExpirationTime.After(now) {
		return nil, models.FieldError("expiration_time", "Expiration time should be greater than current time.")
	}
	var out *models.UserRole
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.ActiveUserRole(ctx, g.User.ID, g.Role.ID, g.Scope); err == nil {
			return models.Errorf(models.CodeInvalid, "User already has role within this scope.")
		} else if !models.IsCode(err, models.CodeNotFound) {
			return err
		}
		before, err := tx.customerUserCount(ctx, g.CustomerID)
		if err != nil {
			return models.Internal(err)
		}
		row := userRoleRow{UUID: models.NewUUID(), UserID: g.User.ID, RoleID: g.Role.ID, ScopeType: g.Scope.Type, ScopeID: g.Scope.ID,
			Created: now, Modified: now, ExpirationTime: g.ExpirationTime, IsActive: true}
		if g.CreatedBy != nil {
			row.CreatedByID = &g.CreatedBy.ID
		}
		if err := tx.DB.WithContext(ctx).Create(&row).Error; err != nil {
			return translate(err, "Role")
		}
		after, err := tx.customerUserCount(ctx, g.CustomerID)
		if err != nil {
			return models.Internal(err)
		}
		if after > before {
			if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: models.Scope{Type: models.ScopeCustomer, ID: g.CustomerID}, Name: models.QuotaUserCount, Delta: after - before}}); err != nil {
				return err
			}
		}
		out = row.model()
		return tx.EmitEvent(ctx, roleEvent("role_granted", fmt.Sprintf("User %s has gained role %s in %s.", g.User.Username, g.Role.Name, g.ScopeName), g, row))
	})
	return out, err
}

func roleEvent(t, msg string, g Grant, row userRoleRow) *models.Event {
	scopes := append([]models.Scope{{Type: models.ScopeUser, ID: g.User.ID}}, g.EventScopes...)
	c := map[string]any{
		"affected_user_uuid":     g.User.UUID.String(),
		"affected_user_username": g.User.Username,
		"role_name":              g.Role.Name,
		"scope_type":             string(g.Scope.Type),
		"scope_name":             g.ScopeName,
	}
	if row.ExpirationTime != nil {
		c["expiration_time"] = row.ExpirationTime.Format(time.RFC3339)
	}
	return &models.Event{EventType: t, Message: msg, Context: c, Scopes: scopes}
}

// RevokeRole ends the user's grant of role on scope, keeping the row as
// history (is_active=false, expiration_time=now), and emits role_revoked.
// Codes: not_found (no such grant in force).
func (s *Store) RevokeRole(ctx context.Context, g Grant) error {
	return s.Tx(ctx, func(tx *Store) error {
		ur, err := tx.ActiveUserRole(ctx, g.User.ID, g.Role.ID, g.Scope)
		if err != nil {
			return err
		}
		return tx.revoke(ctx, g, ur)
	})
}

func (s *Store) revoke(ctx context.Context, g Grant, ur *models.UserRole) error {
	now := s.Now()
	before, err := s.customerUserCount(ctx, g.CustomerID)
	if err != nil {
		return models.Internal(err)
	}
	if err := s.DB.WithContext(ctx).Model(&userRoleRow{}).Where("id = ?", ur.ID).
		Updates(map[string]any{"is_active": false, "expiration_time": now, "modified": now}).Error; err != nil {
		return translate(err, "Role")
	}
	after, err := s.customerUserCount(ctx, g.CustomerID)
	if err != nil {
		return models.Internal(err)
	}
	if after < before {
		if err := s.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: models.Scope{Type: models.ScopeCustomer, ID: g.CustomerID}, Name: models.QuotaUserCount, Delta: after - before}}); err != nil {
			return err
		}
	}
	row := userRoleRow(*ur)
	return s.EmitEvent(ctx, roleEvent("role_revoked", fmt.Sprintf("User %s has lost role %s in %s.", g.User.Username, g.Role.Name, g.ScopeName), g, row))
}

// UpdateRoleExpiration changes when the user's grant ends (nil: never), emitting role_updated. Codes: not_found, invalid.
func (s *Store) UpdateRoleExpiration(ctx context.Context, g Grant) (*models.UserRole, error) {
	if g.ExpirationTime != nil && !g.ExpirationTime.After(s.Now()) {
		return nil, models.FieldError("expiration_time", "Expiration time should be greater than current time.")
	}
	var out *models.UserRole
	err := s.Tx(ctx, func(tx *Store) error {
		ur, err := tx.ActiveUserRole(ctx, g.User.ID, g.Role.ID, g.Scope)
		if err != nil {
			return err
		}
		if err := tx.DB.WithContext(ctx).Model(&userRoleRow{}).Where("id = ?", ur.ID).
			Updates(map[string]any{"expiration_time": g.ExpirationTime, "modified": tx.Now()}).Error; err != nil {
			return translate(err, "Role")
		}
		ur.ExpirationTime = g.ExpirationTime
		out = ur
		return tx.EmitEvent(ctx, roleEvent("role_updated", fmt.Sprintf("User %s role %s in %s has been updated.", g.User.Username, g.Role.Name, g.ScopeName), g, userRoleRow(*ur)))
	})
	return out, err
}

// ExpiredRole is a grant whose expiration time has passed but is still marked active.
type ExpiredRole struct {
	UserRole models.UserRole
}

// RevokeExpiredRoles revokes every grant whose expiration time has passed
// (the daily role-expiry job), emitting role_revoked for each; it returns
// how many it revoked. Safe to run concurrently and repeatedly: a grant is
// revoked once.
func (s *Store) RevokeExpiredRoles(ctx context.Context, resolve func(ctx context.Context, tx *Store, ur *models.UserRole) (Grant, error)) (int, error) {
	var rows []userRoleRow
	if err := s.DB.WithContext(ctx).Where("is_active = ? AND expiration_time IS NOT NULL AND expiration_time <= ?", true, s.Now()).
		Order("id").Limit(1000).Find(&rows).Error; err != nil {
		return 0, translate(err, "Role")
	}
	n := 0
	for _, r := range rows {
		err := s.Tx(ctx, func(tx *Store) error {
			// Re-check inside the transaction: another run may have revoked it.
			res := tx.DB.WithContext(ctx).Model(&userRoleRow{}).Where("id = ? AND is_active = ?", r.ID, true).
				Updates(map[string]any{"is_active": false, "modified": tx.Now()})
			if res.Error != nil {
				return translate(res.Error, "Role")
			}
			if res.RowsAffected == 0 {
				return nil
			}
			ur := r.model()
			g, err := resolve(ctx, tx, ur)
			if err != nil {
				return err
			}
			n++
			if delta, err := tx.userCountDelta(ctx, g.CustomerID); err != nil {
				return err
			} else if delta != 0 {
				if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: models.Scope{Type: models.ScopeCustomer, ID: g.CustomerID}, Name: models.QuotaUserCount, Delta: delta}}); err != nil {
					return err
				}
			}
			return tx.EmitEvent(ctx, roleEvent("role_revoked", fmt.Sprintf("User %s has lost role %s in %s (expired).", g.User.Username, g.Role.Name, g.ScopeName), g, r))
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// userCountDelta brings the customer's nc_user_count usage in line with the grants in force.
func (s *Store) userCountDelta(ctx context.Context, customerID int64) (int64, error) {
	n, err := s.customerUserCount(ctx, customerID)
	if err != nil {
		return 0, models.Internal(err)
	}
	var q quotaRow
	err = s.DB.WithContext(ctx).Where("scope_type = ? AND scope_id = ? AND name = ?", models.ScopeCustomer, customerID, models.QuotaUserCount).Take(&q).Error
	if err != nil && err != gorm.ErrRecordNotFound {
		return 0, models.Internal(err)
	}
	return n - q.Usage, nil
}

// RecountUserQuota sets the customer's nc_user_count usage to the number of
// users holding a role in force in it (after bulk imports).
func (s *Store) RecountUserQuota(ctx context.Context, customerID int64) error {
	delta, err := s.userCountDelta(ctx, customerID)
	if err != nil || delta == 0 {
		return err
	}
	// A recount reflects what exists; it is not refused by a lower limit.
	return translate(s.DB.WithContext(ctx).Exec(`UPDATE quotas SET usage = usage + ? WHERE scope_type = ? AND scope_id = ? AND name = ?`,
		delta, models.ScopeCustomer, customerID, models.QuotaUserCount).Error, "Quota")
}
