package rbac

import (
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// SeesEverything reports whether u sees every object: staff and global support.
func SeesEverything(u *models.User) bool { return u != nil && (u.IsStaff || u.IsSupport) }

// roleScopes reads the ids of the customers and projects where u holds a
// role in force (one indexed query). Filters inline them as literal lists:
// "customer_id IN (…) OR id IN (…)" with literals lets both PostgreSQL
// (BitmapOr over two indexes) and SQLite (multi-index OR) touch only the
// visible rows; the same filter over subqueries scans every project.
func roleScopes(q *gorm.DB, u *models.User, now time.Time) (customers, projects []int64, err error) {
	var rows []struct {
		ScopeType models.ScopeType
		ScopeID   int64
	}
	err = q.Session(&gorm.Session{NewDB: true}).Table("user_roles").Select("scope_type, scope_id").
		Where("user_id = ? AND scope_type IN ?", u.ID, []models.ScopeType{models.ScopeCustomer, models.ScopeProject}).
		Where(InForce("user_roles", now)).
		Scan(&rows).Error
	for _, r := range rows {
		if r.ScopeType == models.ScopeCustomer {
			customers = append(customers, r.ScopeID)
		} else {
			projects = append(projects, r.ScopeID)
		}
	}
	return customers, projects, err
}

// orNone keeps "IN ?" valid for an empty list.
func orNone(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}

// FilterCustomers limits q (over table "customers") to what u may see: a
// customer where u holds any role, or holds a role in one of its (not
// removed) projects (Waldur's customer_path/project_path rule). Staff and
// support see all; anonymous users nothing.
func FilterCustomers(q *gorm.DB, u *models.User, now time.Time) *gorm.DB {
	if SeesEverything(u) {
		return q
	}
	if u == nil {
		return q.Where("1 = 0")
	}
	customers, projects, err := roleScopes(q, u, now)
	if err != nil {
		_ = q.AddError(err)
		return q
	}
	if len(projects) > 0 {
		var via []int64
		if err := q.Session(&gorm.Session{NewDB: true}).Table("projects").Distinct("customer_id").
			Where("id IN ? AND is_removed = ?", projects, false).Pluck("customer_id", &via).Error; err != nil {
			_ = q.AddError(err)
			return q
		}
		customers = append(customers, via...)
	}
	return q.Where("customers.id IN ?", orNone(customers))
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
	customers, projects, err := roleScopes(q, u, now)
	if err != nil {
		_ = q.AddError(err)
		return q
	}
	return q.Where("(projects.customer_id IN ? OR projects.id IN ?)", orNone(customers), orNone(projects))
}
