package rbac

import (
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// SeesEverything reports whether u sees every object: staff and global support.
func SeesEverything(u *models.User) bool { return u != nil && (u.IsStaff || u.IsSupport) }

// activeRoles is the subquery of scope ids of one type where the user holds a role in force.
func activeRoles(db *gorm.DB, u *models.User, t models.ScopeType, now time.Time) *gorm.DB {
	return db.Session(&gorm.Session{NewDB: true}).Table("user_roles").Select("scope_id").
		Where("user_id = ? AND scope_type = ? AND is_active = ? AND (expiration_time IS NULL OR expiration_time > ?)", u.ID, t, true, now)
}

// FilterCustomers limits q (over table "customers") to what u may see: a
// customer where u holds any role, or holds a role in one of its projects
// (Waldur's customer_path/project_path rule). Staff and support see all;
// anonymous users nothing.
func FilterCustomers(q *gorm.DB, u *models.User, now time.Time) *gorm.DB {
	if SeesEverything(u) {
		return q
	}
	if u == nil {
		return q.Where("1 = 0")
	}
	projects := q.Session(&gorm.Session{NewDB: true}).Table("projects").Select("customer_id").
		Where("projects.is_removed = ? AND projects.id IN (?)", false, activeRoles(q, u, models.ScopeProject, now))
	return q.Where("customers.id IN (?) OR customers.id IN (?)", activeRoles(q, u, models.ScopeCustomer, now), projects)
}

// FilterProjects limits q (over table "projects") to what u may see: a
// project of a customer where u holds a role, or where u holds a project role.
func FilterProjects(q *gorm.DB, u *models.User, now time.Time) *gorm.DB {
	if SeesEverything(u) {
		return q
	}
	if u == nil {
		return q.Where("1 = 0")
	}
	return q.Where("projects.customer_id IN (?) OR projects.id IN (?)",
		activeRoles(q, u, models.ScopeCustomer, now), activeRoles(q, u, models.ScopeProject, now))
}
