package store

import (
	"context"
	"sort"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// This file holds what the jobs that keep a backend in step with Waldur
// read and change: the resources of an offering type with their backend
// ids, the users who should have access to each of them, the events that
// change that, and the state a pull reads back. A cluster's usage pull and
// association sync are the kind of job that uses it; nothing in it is
// specific to one integration.

// BackendResourceOf is a resource of an integrated offering as the usage
// pulls and membership syncs see it.
type BackendResourceOf struct {
	ID           int64
	UUID         models.UUID
	Name         string
	BackendID    string
	State        models.ResourceState
	Modified     time.Time
	ProjectID    int64
	ProjectUUID  models.UUID
	CustomerID   int64
	CustomerUUID models.UUID
	OfferingID   int64
	OfferingUUID models.UUID
}

// BackendResourceFilter selects resources for IntegratedResources. Every
// set field narrows the result; the project and customer lists together
// keep resources in any of those projects or customers.
type BackendResourceFilter struct {
	// OfferingTypes is required.
	OfferingTypes []string
	// States keeps resources in these states (required).
	States []models.ResourceState
	// WithBackendID keeps only resources that have a backend id.
	WithBackendID bool
	Resources     []models.UUID
	Offerings     []models.UUID
	ProjectIDs    []int64
	CustomerIDs   []int64
	// MemberUserUUID keeps resources whose project, or the project's
	// customer, the user holds a role in force in (at Now).
	MemberUserUUID *models.UUID
}

// IntegratedResources lists the resources the filter selects, by id.
// Codes: internal.
func (s *Store) IntegratedResources(ctx context.Context, f BackendResourceFilter) ([]BackendResourceOf, error) {
	if len(f.OfferingTypes) == 0 || len(f.States) == 0 {
		return nil, nil
	}
	q := s.DB.WithContext(ctx).Table("resources r").
		Select(`r.id, r.uuid, r.name, r.backend_id, r.state, r.modified, r.project_id, p.uuid AS project_uuid,
			p.customer_id, c.uuid AS customer_uuid, r.offering_id, f.uuid AS offering_uuid`).
		Joins("JOIN offerings f ON f.id = r.offering_id").
		Joins("JOIN projects p ON p.id = r.project_id").
		Joins("JOIN customers c ON c.id = p.customer_id").
		Where("f.type IN ? AND r.state IN ?", f.OfferingTypes, f.States)
	if f.WithBackendID {
		q = q.Where("r.backend_id <> ''")
	}
	if len(f.Resources) > 0 {
		q = q.Where("r.uuid IN ?", f.Resources)
	}
	if len(f.Offerings) > 0 {
		q = q.Where("f.uuid IN ?", f.Offerings)
	}
	switch {
	case len(f.ProjectIDs) > 0 && len(f.CustomerIDs) > 0:
		q = q.Where("(r.project_id IN ? OR p.customer_id IN ?)", f.ProjectIDs, f.CustomerIDs)
	case len(f.ProjectIDs) > 0:
		q = q.Where("r.project_id IN ?", f.ProjectIDs)
	case len(f.CustomerIDs) > 0:
		q = q.Where("p.customer_id IN ?", f.CustomerIDs)
	}
	if f.MemberUserUUID != nil {
		q = q.Where(`EXISTS (SELECT 1 FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE u.uuid = ? AND ?
			AND ((ur.scope_type = ? AND ur.scope_id = r.project_id) OR (ur.scope_type = ? AND ur.scope_id = p.customer_id)))`,
			*f.MemberUserUUID, rbac.InForce("ur", s.Now()), models.ScopeProject, models.ScopeCustomer)
	}
	var out []BackendResourceOf
	if err := q.Order("r.id").Scan(&out).Error; err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// OfferingOptions are an offering's plugin and secret options.
type OfferingOptions struct {
	ID            int64
	UUID          models.UUID
	Name          string
	Type          string
	PluginOptions JSONObject
	SecretOptions JSONObject
}

// OfferingsOptions reads the options of offerings, by id. For the workers
// that reach the offerings' backends. Codes: internal.
func (s *Store) OfferingsOptions(ctx context.Context, ids []int64) (map[int64]OfferingOptions, error) {
	out := map[int64]OfferingOptions{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []OfferingOptions
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, plugin_options, secret_options").
		Where("id IN ?", ids).Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// MemberAccount is a user who should have access to a resource: an
// active user holding a role in force (at Now) in the resource's project
// or in its customer, with the account they have on the resource's
// offering.
type MemberAccount struct {
	UserID   int64
	UserUUID models.UUID
	// Username is the platform username.
	Username string
	// OfferingUsername is the username of the user's offering account in
	// state OK ("" when the user has none, or it is not OK yet).
	OfferingUsername string
}

// AccountName is the name the user has on the offering's backend: the
// offering account's username when there is one, else the platform
// username.
func (m MemberAccount) AccountName() string {
	if m.OfferingUsername != "" {
		return m.OfferingUsername
	}
	return m.Username
}

// ResourceMembers lists, per resource id, the users who should have
// access to it (MemberAccount), sorted by username, one entry per user
// whatever their number of roles. Resources without members are absent.
// Codes: internal.
func (s *Store) ResourceMembers(ctx context.Context, resourceIDs []int64) (map[int64][]MemberAccount, error) {
	out := map[int64][]MemberAccount{}
	if len(resourceIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ResourceID        int64
		UserID            int64
		UserUUID          models.UUID
		Username          string
		OfferingUsername  *string
		OfferingUserState *string
	}
	err := s.DB.WithContext(ctx).Table("resources r").
		Select(`r.id AS resource_id, u.id AS user_id, u.uuid AS user_uuid, u.username,
			ou.username AS offering_username, ou.state AS offering_user_state`).
		Joins("JOIN projects p ON p.id = r.project_id").
		Joins(`JOIN user_roles ur ON ?
			AND ((ur.scope_type = ? AND ur.scope_id = r.project_id) OR (ur.scope_type = ? AND ur.scope_id = p.customer_id))`,
			rbac.InForce("ur", s.Now()), models.ScopeProject, models.ScopeCustomer).
		Joins("JOIN users u ON u.id = ur.user_id AND u.is_active = ?", true).
		Joins("LEFT JOIN offering_users ou ON ou.offering_id = r.offering_id AND ou.user_id = u.id").
		Where("r.id IN ?", resourceIDs).
		Order("r.id, u.username, u.id").Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	seen := map[[2]int64]bool{}
	for _, r := range rows {
		k := [2]int64{r.ResourceID, r.UserID}
		if seen[k] {
			continue
		}
		seen[k] = true
		m := MemberAccount{UserID: r.UserID, UserUUID: r.UserUUID, Username: r.Username}
		if r.OfferingUsername != nil && *r.OfferingUsername != "" && r.OfferingUserState != nil &&
			models.OfferingUserState(*r.OfferingUserState) == models.OfferingUserOK {
			m.OfferingUsername = *r.OfferingUsername
		}
		out[r.ResourceID] = append(out[r.ResourceID], m)
	}
	for _, ms := range out {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].AccountName() < ms[j].AccountName() })
	}
	return out, nil
}

// EventsSince lists up to limit events of the given types created at or
// after since, oldest first (by id), with their context. For the jobs
// that follow the event log without owning a cursor of their own.
// Codes: internal.
func (s *Store) EventsSince(ctx context.Context, types []string, since time.Time, limit int) ([]EventRecord, error) {
	var out []EventRecord
	err := s.DB.WithContext(ctx).Select("id", "uuid", "created", "event_type", "context").
		Where("event_type IN ? AND created >= ?", types, since).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// EventFeeds returns the scopes each event is fed to, by event id.
// Codes: internal.
func (s *Store) EventFeeds(ctx context.Context, eventIDs []int64) (map[int64][]models.Scope, error) {
	out := map[int64][]models.Scope{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	var rows []eventFeedRow
	if err := s.DB.WithContext(ctx).Where("event_id IN ?", eventIDs).Order("event_id, scope_type, scope_id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.EventID] = append(out[r.EventID], models.Scope{Type: r.ScopeType, ID: r.ScopeID})
	}
	return out, nil
}

// MarkOKOnBackend marks an Erred resource OK because its backend object is
// there after all (Waldur's recovery on a pull; ChangeResource with its
// event), only if it is still Erred, unchanged since before, and no order
// of it is in progress. For the pull activities. Codes: not_found,
// conflict (it moved on).
func (s *Store) MarkOKOnBackend(ctx context.Context, id models.UUID, before time.Time) error {
	return s.Tx(ctx, func(tx *Store) error {
		var cur struct {
			ID       int64
			State    models.ResourceState
			Modified time.Time
		}
		q := forUpdate(tx.DB.WithContext(ctx).Table("resources").Select("id, state, modified").Where("uuid = ?", id))
		if err := q.Take(&cur).Error; err != nil {
			return translate(err, "Resource")
		}
		if cur.State != models.ResourceErred || !cur.Modified.Before(before) {
			return models.Errorf(models.CodeConflict, "Resource changed since the backend was listed.")
		}
		var pending int64
		if err := tx.DB.WithContext(ctx).Model(&orderRow{}).Where("resource_id = ? AND state IN ?", cur.ID,
			[]models.OrderState{models.OrderPendingConsumer, models.OrderPendingProvider, models.OrderPendingProject, models.OrderExecuting}).
			Count(&pending).Error; err != nil {
			return models.Internal(err)
		}
		if pending > 0 {
			return models.Errorf(models.CodeConflict, "An order of the resource is in progress.")
		}
		return tx.ChangeResource(ctx, id, ResourceChange{State: models.ResourceOK})
	})
}

// ComponentUsagesOf returns a resource's component usages of one billing
// period (its first day), by component type. Codes: internal.
func (s *Store) ComponentUsagesOf(ctx context.Context, resource models.UUID, period time.Time) (map[string]ComponentUsageView, error) {
	var rows []ComponentUsageView
	err := s.ComponentUsageViews(ctx).Where("r.uuid = ? AND cu.billing_period = ?", resource, dateString(period)).Find(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	out := map[string]ComponentUsageView{}
	for _, r := range rows {
		out[r.Type] = r
	}
	return out, nil
}
