package rbac

import (
	"context"
	_ "embed"
	"fmt"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

//go:embed model.conf
var modelText string

// Checker answers "may this user do this on this scope". Staff may do
// everything. Otherwise the user's active, unexpired roles on the scopes
// named by the caller are read in one query, and Casbin decides whether any
// of them carries the permission. The role → permission policy is reloaded
// whenever the roles table changes (checked with one small query per
// decision), so every API replica sees a change at once.
type Checker struct {
	db  *gorm.DB
	now func() time.Time

	mu       sync.RWMutex
	enforcer *casbin.Enforcer
	version  string
}

// NewChecker returns a checker over db.
func NewChecker(db *gorm.DB) (*Checker, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("rbac model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("rbac enforcer: %w", err)
	}
	return &Checker{db: db, enforcer: e, now: func() time.Time { return time.Now().UTC() }}, nil
}

// SetClock replaces the clock (tests).
func (c *Checker) SetClock(now func() time.Time) { c.now = now }

// policyVersion changes whenever a role or its permissions change (the store
// bumps roles.modified with every permission change).
func (c *Checker) policyVersion(ctx context.Context) (string, error) {
	var v struct {
		N int64
		M *string
	}
	err := c.db.WithContext(ctx).Raw(`SELECT COUNT(*) AS n, CAST(MAX(modified) AS VARCHAR(64)) AS m FROM roles`).Scan(&v).Error
	if err != nil {
		return "", err
	}
	m := ""
	if v.M != nil {
		m = *v.M
	}
	return fmt.Sprintf("%d/%s", v.N, m), nil
}

func (c *Checker) refresh(ctx context.Context) error {
	v, err := c.policyVersion(ctx)
	if err != nil {
		return err
	}
	c.mu.RLock()
	fresh := v == c.version
	c.mu.RUnlock()
	if fresh {
		return nil
	}
	var rows []struct {
		Name       string
		Permission string
	}
	err = c.db.WithContext(ctx).Raw(`SELECT r.name, rp.permission FROM roles r JOIN role_permissions rp ON rp.role_id = r.id WHERE r.is_active = ?`, true).Scan(&rows).Error
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enforcer.ClearPolicy()
	rules := make([][]string, 0, len(rows))
	for _, r := range rows {
		rules = append(rules, []string{r.Name, r.Permission})
	}
	if len(rules) > 0 {
		if _, err := c.enforcer.AddPolicies(rules); err != nil {
			return err
		}
	}
	c.version = v
	return nil
}

// RolesOn returns the names of the user's roles in force on any of scopes.
func (c *Checker) RolesOn(ctx context.Context, userID int64, scopes ...models.Scope) ([]string, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	q := c.db.WithContext(ctx).Table("user_roles ur").Select("DISTINCT r.name").
		Joins("JOIN roles r ON r.id = ur.role_id").
		Where("ur.user_id = ?", userID).Where(InForce("ur", c.now()))
	or := c.db.Where("1 = 0")
	for _, s := range scopes {
		or = or.Or("ur.scope_type = ? AND ur.scope_id = ?", s.Type, s.ID)
	}
	var names []string
	err := q.Where(or).Pluck("r.name", &names).Error
	return names, err
}

// Has reports whether u holds perm on any of scopes (tried in the order
// given, e.g. the project and then its customer). Staff always do.
func (c *Checker) Has(ctx context.Context, u *models.User, perm models.Permission, scopes ...models.Scope) (bool, error) {
	if u == nil || !u.IsActive {
		return false, nil
	}
	if u.IsStaff {
		return true, nil
	}
	if err := c.refresh(ctx); err != nil {
		return false, err
	}
	roles, err := c.RolesOn(ctx, u.ID, scopes...)
	if err != nil {
		return false, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, r := range roles {
		ok, err := c.enforcer.Enforce(r, string(perm))
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// Require is Has returning a forbidden error (Waldur's message) when denied.
func (c *Checker) Require(ctx context.Context, u *models.User, perm models.Permission, scopes ...models.Scope) error {
	ok, err := c.Has(ctx, u, perm, scopes...)
	if err != nil {
		return models.Internal(err)
	}
	if !ok {
		return models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
	}
	return nil
}

// RoleGrants reports whether the named role carries perm (as the current policy says).
func (c *Checker) RoleGrants(ctx context.Context, role string, perm models.Permission) (bool, error) {
	if err := c.refresh(ctx); err != nil {
		return false, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.enforcer.Enforce(role, string(perm))
}
