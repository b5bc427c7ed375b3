package store

import (
	"context"
	"fmt"

	"github.com/waldur-go/waldur/models"
)

// projectRow is the projects table; its columns are exactly the fields of
// models.Project.
type projectRow models.Project

func (projectRow) TableName() string { return "projects" }

func (r projectRow) model() *models.Project {
	p := models.Project(r)
	return &p
}

// projectTypeRow is the project_types table.
type projectTypeRow models.ProjectType

func (projectTypeRow) TableName() string { return "project_types" }

func (r projectTypeRow) model() *models.ProjectType {
	t := models.ProjectType(r)
	return &t
}

// ProjectByUUID returns a project, soft-deleted or not. Codes: not_found.
func (s *Store) ProjectByUUID(ctx context.Context, id models.UUID) (*models.Project, error) {
	var r projectRow
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Project")
	}
	return r.model(), nil
}

// ProjectByID returns a project, soft-deleted or not. Codes: not_found.
func (s *Store) ProjectByID(ctx context.Context, id int64) (*models.Project, error) {
	var r projectRow
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Project")
	}
	return r.model(), nil
}

// projectLogFields are Waldur's Project.get_log_fields (uuid, customer,
// name, end_date): the project's fields plus its customer's.
func projectLogFields(p *models.Project, c *models.Customer) map[string]any {
	ctx := customerLogFields(c)
	ctx["project_uuid"] = p.UUID.String()
	ctx["project_name"] = p.Name
	if p.EndDate != nil {
		ctx["project_end_date"] = p.EndDate.Format("2006-01-02")
	} else {
		ctx["project_end_date"] = nil
	}
	return ctx
}

// projectEvent builds a projects-group event fed to the project and its customer.
func projectEvent(eventType, verb string, p *models.Project, c *models.Customer) *models.Event {
	return &models.Event{
		EventType: eventType,
		Message:   fmt.Sprintf("Project %s has been %s.", p.Name, verb),
		Context:   projectLogFields(p, c),
		Scopes:    []models.Scope{p.Scope(), c.Scope()},
	}
}

// CreateProject inserts p in customer c (keeping a preset UUID, generating
// the slug when empty), adds one to the customer's nc_project_count quota
// (refused atomically past the limit), creates the project's quota rows and
// emits project_creation_succeeded, in one transaction. The caller checks
// PROJECT.CREATE and that c is not blocked. Codes: quota_exceeded.
func (s *Store) CreateProject(ctx context.Context, p *models.Project, c *models.Customer) error {
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		if p.UUID.IsZero() {
			p.UUID = models.NewUUID()
		}
		if p.Slug == "" {
			slug, err := tx.nextSlug(ctx, "projects", p.Name)
			if err != nil {
				return err
			}
			p.Slug = slug
		}
		p.CustomerID = c.ID
		p.Created, p.Modified = now, now
		r := projectRow(*p)
		r.ID = 0
		if err := tx.DB.WithContext(ctx).Create(&r).Error; err != nil {
			return translate(err, "Project")
		}
		p.ID = r.ID
		if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: c.Scope(), Name: models.QuotaProjectCount, Delta: 1}}); err != nil {
			return err
		}
		if err := tx.InitQuotas(ctx, p.Scope()); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, projectEvent("project_creation_succeeded", "created", p, c))
	})
}

// UpdateProject stores every field of p (by id; the customer and the removal
// flag are kept), bumps modified, sets the quota limits given and emits
// project_update_succeeded, in one transaction. Codes: not_found.
func (s *Store) UpdateProject(ctx context.Context, p *models.Project, c *models.Customer, limits map[string]int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		p.Modified = tx.Now()
		r := projectRow(*p)
		res := tx.DB.WithContext(ctx).Model(&projectRow{}).Where("id = ? AND is_removed = ?", p.ID, false).
			Select("*").Omit("id", "uuid", "created", "customer_id", "is_removed").Updates(&r)
		if res.Error != nil {
			return translate(res.Error, "Project")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Project not found.")
		}
		if err := tx.setLimits(ctx, p.Scope(), limits); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, projectEvent("project_update_succeeded", "updated", p, c))
	})
}

// DeleteProject soft-deletes p (is_removed), as Waldur's Project.delete: the
// roles held on it are revoked (history kept, role_revoked events), the
// customer's nc_project_count drops by one and project_deletion_succeeded is
// emitted, in one transaction. The caller checks PROJECT.DELETE, the
// customer's state and that the project holds no active resources.
// Codes: not_found (already removed).
// ProjectHasActiveResources reports whether a project holds resources that
// are not terminated (Waldur refuses to delete such a project).
func (s *Store) ProjectHasActiveResources(ctx context.Context, projectID int64) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Table("resources").Where("project_id = ? AND state <> ?", projectID, models.ResourceTerminated).
		Limit(1).Count(&n).Error
	return n > 0, translate(err, "Resource")
}

func (s *Store) DeleteProject(ctx context.Context, p *models.Project, c *models.Customer) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		// The conditional update takes the row lock first, so two concurrent
		// deletions cannot both decrement the quota.
		res := db.Model(&projectRow{}).Where("id = ? AND is_removed = ?", p.ID, false).
			Updates(map[string]any{"is_removed": true, "modified": now})
		if res.Error != nil {
			return translate(res.Error, "Project")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Project not found.")
		}
		var grants []userRoleRow
		if err := db.Where("scope_type = ? AND scope_id = ? AND is_active = ?", models.ScopeProject, p.ID, true).Order("id").Find(&grants).Error; err != nil {
			return translate(err, "Role")
		}
		for _, ur := range grants {
			var u userRow
			if err := db.Where("id = ?", ur.UserID).Take(&u).Error; err != nil {
				return translate(err, "User")
			}
			role, err := tx.RoleByID(ctx, ur.RoleID)
			if err != nil {
				return err
			}
			g := Grant{User: u.model(), Role: role, Scope: p.Scope(), CustomerID: c.ID,
				EventScopes: []models.Scope{p.Scope(), c.Scope()}, ScopeName: p.Name}
			if err := tx.revoke(ctx, g, ur.model()); err != nil {
				return err
			}
		}
		if err := tx.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: c.Scope(), Name: models.QuotaProjectCount, Delta: -1}}); err != nil {
			return err
		}
		p.IsRemoved, p.Modified = true, now
		return tx.EmitEvent(ctx, projectEvent("project_deletion_succeeded", "deleted", p, c))
	})
}

// ProjectTypeByUUID returns a project type. Codes: not_found.
func (s *Store) ProjectTypeByUUID(ctx context.Context, id models.UUID) (*models.ProjectType, error) {
	var r projectTypeRow
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Project type")
	}
	return r.model(), nil
}

// ProjectTypesByID returns the project types with the given ids, keyed by id.
func (s *Store) ProjectTypesByID(ctx context.Context, ids []int64) (map[int64]*models.ProjectType, error) {
	out := make(map[int64]*models.ProjectType, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []projectTypeRow
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err, "Project type")
	}
	for _, r := range rows {
		out[r.ID] = r.model()
	}
	return out, nil
}

// CreateProjectType inserts t, keeping a preset UUID.
func (s *Store) CreateProjectType(ctx context.Context, t *models.ProjectType) error {
	if t.UUID.IsZero() {
		t.UUID = models.NewUUID()
	}
	r := projectTypeRow(*t)
	r.ID = 0
	if err := s.DB.WithContext(ctx).Create(&r).Error; err != nil {
		return translate(err, "Project type")
	}
	t.ID = r.ID
	return nil
}

// UpdateProjectType stores the name and description of t. Codes: not_found.
func (s *Store) UpdateProjectType(ctx context.Context, t *models.ProjectType) error {
	res := s.DB.WithContext(ctx).Model(&projectTypeRow{}).Where("id = ?", t.ID).
		Updates(map[string]any{"name": t.Name, "description": t.Description})
	if res.Error != nil {
		return translate(res.Error, "Project type")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Project type not found.")
	}
	return nil
}

// DeleteProjectType deletes t; its projects keep existing without a type.
// Codes: not_found.
func (s *Store) DeleteProjectType(ctx context.Context, t *models.ProjectType) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		// ON DELETE SET NULL, spelled out so it does not depend on SQLite's foreign_keys pragma.
		if err := db.Model(&projectRow{}).Where("type_id = ?", t.ID).Update("type_id", nil).Error; err != nil {
			return translate(err, "Project")
		}
		res := db.Where("id = ?", t.ID).Delete(&projectTypeRow{})
		if res.Error != nil {
			return translate(res.Error, "Project type")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Project type not found.")
		}
		return nil
	})
}
