package rbac

import (
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// The one SQL form of "where does this user hold a role". Checker.Has asks
// it for named scopes and lets Casbin decide the permission; the visibility
// filters (FilterCustomers, FilterProjects) and every store query that asks
// "the customers, projects or offerings where this user may …" are built from
// ScopeIDs and InForce below, over the same tables (user_roles, roles,
// role_permissions), so a grant, a revocation, an expiry or a change of a
// role's permissions counts the same everywhere.

// InForce is the condition that the user role aliased alias (a table name or
// alias of user_roles) is in force at now: active and not expired. Use it as
// a Where argument or as a ? value inside a larger condition.
func InForce(alias string, now time.Time) clause.Expr {
	return gorm.Expr(alias+".is_active = ? AND ("+alias+".expiration_time IS NULL OR "+alias+".expiration_time > ?)", true, now)
}

// Held says which roles of a user count.
type Held struct {
	// Permission counts only active roles carrying it (what Checker.Has
	// decides for one scope).
	Permission models.Permission
	// Roles counts only roles of these names.
	Roles []string
}

// ScopeIDs is the subquery of the ids of the scopes of type t where the user
// holds, in force at now, a role that held accepts (any role when held is
// zero). It starts a new statement on db's connection, so it can be used as
// an "IN (?)" argument of any query.
func ScopeIDs(db *gorm.DB, userID int64, t models.ScopeType, held Held, now time.Time) *gorm.DB {
	q := db.Session(&gorm.Session{NewDB: true}).Table("user_roles ur").Select("ur.scope_id").
		Where("ur.user_id = ? AND ur.scope_type = ?", userID, t).Where(InForce("ur", now))
	if held.Permission != "" {
		q = q.Joins("JOIN roles r ON r.id = ur.role_id AND r.is_active = ?", true).
			Joins("JOIN role_permissions rp ON rp.role_id = ur.role_id AND rp.permission = ?", held.Permission)
	}
	if len(held.Roles) > 0 {
		q = q.Where("ur.role_id IN (?)", db.Session(&gorm.Session{NewDB: true}).Table("roles").Select("id").Where("name IN ?", held.Roles))
	}
	return q
}
