package store

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/waldur-go/waldur/models"
)

// customerRow is the customers table; its columns are exactly the fields of
// models.Customer, so the two convert into each other.
type customerRow models.Customer

func (customerRow) TableName() string { return "customers" }

func (r customerRow) model() *models.Customer {
	c := models.Customer(r)
	return &c
}

// CustomerByUUID returns a customer. Codes: not_found.
func (s *Store) CustomerByUUID(ctx context.Context, id models.UUID) (*models.Customer, error) {
	var r customerRow
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Customer")
	}
	return r.model(), nil
}

// CustomerByID returns a customer. Codes: not_found.
func (s *Store) CustomerByID(ctx context.Context, id int64) (*models.Customer, error) {
	var r customerRow
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Customer")
	}
	return r.model(), nil
}

// CustomersByID returns the customers with the given ids, keyed by id
// (missing ids are absent).
func (s *Store) CustomersByID(ctx context.Context, ids []int64) (map[int64]*models.Customer, error) {
	out := make(map[int64]*models.Customer, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []customerRow
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err, "Customer")
	}
	for _, r := range rows {
		out[r.ID] = r.model()
	}
	return out, nil
}

// customerEvent builds a customers-group event fed to the customer, with
// Waldur's customer log fields in the context.
func customerEvent(eventType, verb string, c *models.Customer) *models.Event {
	return &models.Event{
		EventType: eventType,
		Message:   fmt.Sprintf("Customer %s has been %s.", c.Name, verb),
		Context:   customerLogFields(c),
		Scopes:    []models.Scope{c.Scope()},
	}
}

// customerLogFields are Waldur's Customer.get_log_fields (uuid, name,
// abbreviation, description, contact_details) prefixed with "customer_".
func customerLogFields(c *models.Customer) map[string]any {
	return map[string]any{
		"customer_uuid":            c.UUID.String(),
		"customer_name":            c.Name,
		"customer_abbreviation":    c.Abbreviation,
		"customer_description":     c.Description,
		"customer_contact_details": c.ContactDetails,
	}
}

// CreateCustomer inserts c (keeping a preset UUID, generating the slug when
// empty and defaulting the accounting start date to now), creates its quota
// rows and emits customer_creation_succeeded, in one transaction. The caller
// validates the fields and checks that the actor is staff.
func (s *Store) CreateCustomer(ctx context.Context, c *models.Customer) error {
	return s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		if c.UUID.IsZero() {
			c.UUID = models.NewUUID()
		}
		if c.Slug == "" {
			slug, err := tx.nextSlug(ctx, "customers", c.Name)
			if err != nil {
				return err
			}
			c.Slug = slug
		}
		if c.AccountingStartDate.IsZero() {
			c.AccountingStartDate = now
		}
		c.Created, c.Modified = now, now
		r := customerRow(*c)
		r.ID = 0
		if err := tx.DB.WithContext(ctx).Create(&r).Error; err != nil {
			return translate(err, "Customer")
		}
		c.ID = r.ID
		if err := tx.InitQuotas(ctx, c.Scope()); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, customerEvent("customer_creation_succeeded", "created", c))
	})
}

// UpdateCustomer stores every field of c (by id), bumps modified and emits
// customer_update_succeeded, in one transaction. Quota limits given in
// limits are set in the same transaction. Codes: not_found.
func (s *Store) UpdateCustomer(ctx context.Context, c *models.Customer, limits map[string]int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		c.Modified = tx.Now()
		r := customerRow(*c)
		res := tx.DB.WithContext(ctx).Model(&customerRow{}).Where("id = ?", c.ID).Select("*").Omit("id", "uuid", "created").Updates(&r)
		if res.Error != nil {
			return translate(res.Error, "Customer")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Customer not found.")
		}
		if err := tx.setLimits(ctx, c.Scope(), limits); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, customerEvent("customer_update_succeeded", "updated", c))
	})
}

// setLimits sets quota limits in name order (a stable lock order).
func (s *Store) setLimits(ctx context.Context, scope models.Scope, limits map[string]int64) error {
	names := make([]string, 0, len(limits))
	for n := range limits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := s.SetQuotaLimit(ctx, scope, n, limits[n]); err != nil {
			return err
		}
	}
	return nil
}

// MsgCustomerHasProjects is the refusal of a non-cascading customer deletion.
const MsgCustomerHasProjects = "Cannot delete organization with existing projects"

// DeleteCustomer hard-deletes c as Waldur's Customer.delete does: when all
// of its projects are soft-deleted they go with it. With live projects it
// refuses (conflict, MsgCustomerHasProjects) unless cascade is set (the
// staff path), in which case the projects are deleted too. Roles held on
// the customer and its projects are revoked (rows kept as history), its
// quota rows removed, and customer_deletion_succeeded emitted, in one
// transaction. Codes: conflict, not_found.
func (s *Store) DeleteCustomer(ctx context.Context, c *models.Customer, cascade bool) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var live int64
		if err := db.Model(&projectRow{}).Where("customer_id = ? AND is_removed = ?", c.ID, false).Count(&live).Error; err != nil {
			return translate(err, "Project")
		}
		if live > 0 && !cascade {
			return models.Errorf(models.CodeConflict, MsgCustomerHasProjects)
		}
		var projectIDs []int64
		if err := db.Model(&projectRow{}).Where("customer_id = ?", c.ID).Pluck("id", &projectIDs).Error; err != nil {
			return translate(err, "Project")
		}
		now := tx.Now()
		revoke := db.Model(&userRoleRow{}).Where("is_active = ?", true)
		if len(projectIDs) > 0 {
			revoke = revoke.Where("(scope_type = ? AND scope_id = ?) OR (scope_type = ? AND scope_id IN ?)",
				models.ScopeCustomer, c.ID, models.ScopeProject, projectIDs)
		} else {
			revoke = revoke.Where("scope_type = ? AND scope_id = ?", models.ScopeCustomer, c.ID)
		}
		if err := revoke.Updates(map[string]any{"is_active": false, "expiration_time": now, "modified": now}).Error; err != nil {
			return translate(err, "Role")
		}
		q := db.Where("scope_type = ? AND scope_id = ?", models.ScopeCustomer, c.ID)
		if len(projectIDs) > 0 {
			q = db.Where("(scope_type = ? AND scope_id = ?) OR (scope_type = ? AND scope_id IN ?)",
				models.ScopeCustomer, c.ID, models.ScopeProject, projectIDs)
		}
		if err := q.Delete(&quotaRow{}).Error; err != nil {
			return translate(err, "Quota")
		}
		if err := db.Where("customer_id = ?", c.ID).Delete(&projectRow{}).Error; err != nil {
			return translate(err, "Project")
		}
		res := db.Where("id = ?", c.ID).Delete(&customerRow{})
		if res.Error != nil {
			return translate(res.Error, "Customer")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Customer not found.")
		}
		return tx.EmitEvent(ctx, customerEvent("customer_deletion_succeeded", "deleted", c))
	})
}

// QuotasOf returns the quotas of many scopes of one type, keyed by scope id
// and ordered by name (for rendering a page of customers or projects).
func (s *Store) QuotasOf(ctx context.Context, t models.ScopeType, ids []int64) (map[int64][]models.Quota, error) {
	out := make(map[int64][]models.Quota, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.DB.WithContext(ctx).Table("quotas").Select(`scope_id, name, "limit", usage`).
		Where("scope_type = ? AND scope_id IN ?", t, ids).Order("scope_id, name").Rows()
	if err != nil {
		return nil, translate(err, "Quota")
	}
	defer rows.Close()
	for rows.Next() { // scanned by hand: a list renders the quotas of each of its rows
		var id int64
		var q models.Quota
		if err := rows.Scan(&id, &q.Name, &q.Limit, &q.Usage); err != nil {
			return nil, translate(err, "Quota")
		}
		out[id] = append(out[id], q)
	}
	return out, translate(rows.Err(), "Quota")
}

var (
	slugStrip = regexp.MustCompile(`[^\w\s-]`)
	slugDash  = regexp.MustCompile(`[-\s]+`)
)

// Slugify is Django's slugify: ASCII-folded, lower case, runs of spaces and
// dashes to one dash, other punctuation dropped, leading and trailing
// dashes and underscores trimmed.
func Slugify(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if r < unicode.MaxASCII {
			b.WriteRune(r)
		}
	}
	v := slugStrip.ReplaceAllString(strings.ToLower(b.String()), "")
	return strings.Trim(slugDash.ReplaceAllString(v, "-"), "-_")
}

// NextSlug is nextSlug for the rows a loader writes itself (presets): every
// way a customer, project or resource is created fills its slug.
func (s *Store) NextSlug(ctx context.Context, table, name string) (string, error) {
	return s.nextSlug(ctx, table, name)
}

// nextSlug is Waldur's SlugMixin rule: the first 8 characters of the
// slugified name (or "default") plus "-N", N one more than the largest
// numeric suffix already used with that prefix in table.
func (s *Store) nextSlug(ctx context.Context, table, name string) (string, error) {
	base := Slugify(name)
	if len(base) > 8 {
		base = strings.Trim(base[:8], "-_")
	}
	if base == "" {
		base = "default"
	}
	// Longer numeric suffixes are larger, and among equal lengths the
	// text order is the numeric order: the largest suffix is among the
	// first rows unless many hand-made slugs share the prefix.
	var slugs []string
	like := strings.ReplaceAll(base, "_", `\_`) + "-%"
	if err := s.DB.WithContext(ctx).Table(table).Where(`slug LIKE ? ESCAPE '\'`, like).
		Order("LENGTH(slug) DESC, slug DESC").Limit(100).Pluck("slug", &slugs).Error; err != nil {
		return "", translate(err, "Slug")
	}
	n := 0
	for _, sl := range slugs {
		if v, err := strconv.Atoi(strings.TrimPrefix(sl, base+"-")); err == nil && v > n {
			n = v
		}
	}
	return fmt.Sprintf("%s-%d", base, n+1), nil
}
