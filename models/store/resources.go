package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

func jsonUnmarshal(raw []byte, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// ResourceView is a marketplace resource joined with what its API rendering
// shows (offering, provider, category, plan, project, customer).
type ResourceView struct {
	ID                  int64
	UUID                models.UUID
	Name                string
	Slug                string
	Description         string
	State               models.ResourceState
	BackendID           string
	EffectiveID         string
	Attributes          []byte
	Limits              []byte
	Options             []byte
	CurrentUsages       []byte
	BackendMetadata     []byte
	Cost                *decimal.Decimal
	EndDate             *time.Time
	EndDateRequestedBy  *models.UUID // the user who set the end date, if any
	Downscaled          bool
	RestrictMemberAcc   bool
	Paused              bool
	ErrorMessage        string
	ErrorTraceback      string
	LastSync            *time.Time
	Created             time.Time
	Modified            time.Time
	ScopeType           string       // the plugin resource's type (a cloud tenant's, ...), if any
	ScopeUUID           *models.UUID // and UUID
	ProjectID           int64
	OfferingID          int64
	PlanID              *int64
	OfferingUUID        models.UUID
	OfferingName        string
	OfferingDescription string
	OfferingType        string
	OfferingShared      bool
	OfferingBillable    bool
	OfferingPluginOpts  []byte
	OfferingState       models.OfferingState
	OfferingBackendID   string
	OfferingSlug        string
	OfferingCustomerID  int64
	ProviderUUID        models.UUID
	ProviderName        string
	CategoryUUID        models.UUID
	CategoryTitle       string
	CategoryIcon        string
	PlanUUID            *models.UUID
	PlanName            *string
	PlanUnit            *string
	PlanDescription     *string
	ProjectUUID         models.UUID
	ProjectName         string
	ProjectDescription  string
	ProjectEndDate      *time.Time
	CustomerID          int64
	CustomerUUID        models.UUID
	CustomerName        string
	ProjectSlug         string
	CustomerSlug        string
	ProviderSlug        string
}

// ResourceViews is the query over resources joined for ResourceView (aliases:
// resources, f (offerings), pr (provider customer), cat, pl (plans), p
// (projects), c (customers)).
func (s *Store) ResourceViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("resources").Select(`resources.id, resources.uuid, resources.name, resources.slug, resources.description,
		resources.state, resources.backend_id, resources.effective_id, resources.attributes, resources.limits, resources.options,
		resources.current_usages, resources.backend_metadata, resources.cost, resources.end_date,
		(SELECT eu.uuid FROM users eu WHERE eu.id = resources.end_date_requested_by_id) AS end_date_requested_by, resources.downscaled,
		resources.restrict_member_access AS restrict_member_acc, resources.paused, resources.error_message, resources.error_traceback,
		resources.last_sync, resources.created, resources.modified, resources.scope_type, resources.scope_uuid, resources.project_id, resources.offering_id, resources.plan_id,
		f.uuid AS offering_uuid, f.name AS offering_name, f.description AS offering_description, f.type AS offering_type,
		f.shared AS offering_shared, f.billable AS offering_billable, f.plugin_options AS offering_plugin_opts, f.state AS offering_state,
		f.backend_id AS offering_backend_id, f.slug AS offering_slug, f.customer_id AS offering_customer_id,
		pr.uuid AS provider_uuid, pr.name AS provider_name, cat.uuid AS category_uuid, cat.title AS category_title, cat.icon AS category_icon,
		pl.uuid AS plan_uuid, pl.name AS plan_name, pl.unit AS plan_unit, pl.description AS plan_description,
		p.uuid AS project_uuid, p.name AS project_name, p.description AS project_description, p.end_date AS project_end_date,
		c.id AS customer_id, c.uuid AS customer_uuid, c.name AS customer_name, p.slug AS project_slug, c.slug AS customer_slug,
		pr.slug AS provider_slug`).
		Scopes(marketplaceContext("resources"))
}

// marketplaceContext joins what an order or resource view shows about its
// offering (f), provider (pr), category (cat), project (p), customer (c) and
// plan (pl); table is "orders" or "resources".
func marketplaceContext(table string) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		return q.Joins("JOIN offerings f ON f.id = " + table + ".offering_id").
			Joins("JOIN customers pr ON pr.id = f.customer_id").
			Joins("JOIN categories cat ON cat.id = f.category_id").
			Joins("JOIN projects p ON p.id = " + table + ".project_id").
			Joins("JOIN customers c ON c.id = p.customer_id").
			Joins("LEFT JOIN plans pl ON pl.id = " + table + ".plan_id")
	}
}

// ResourceViewByUUID loads one resource's view. Codes: not_found.
func (s *Store) ResourceViewByUUID(ctx context.Context, id models.UUID) (*ResourceView, error) {
	var v ResourceView
	if err := s.ResourceViews(ctx).Where("resources.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Resource")
	}
	return &v, nil
}

// lockedResource loads a resource for a change (row lock on PostgreSQL).
func (s *Store) lockedResource(ctx context.Context, db *gorm.DB, id models.UUID) (*ResourceView, error) {
	var ids []int64
	if err := forUpdate(db.Table("resources").Where("uuid = ?", id)).Pluck("id", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	var v ResourceView
	if err := (&Store{DB: db, Now: s.Now, Hasher: s.Hasher}).ResourceViews(ctx).Where("resources.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Resource")
	}
	return &v, nil
}

// ResourceChange is one provider-side change of a resource.
type ResourceChange struct {
	// Exactly one of the following is applied.
	BackendID       *string
	BackendMetadata map[string]any
	Limits          map[string]int64
	Endpoints       *[]ResourceEndpoint  // replaces all of the resource's access endpoints
	State           models.ResourceState // OK or Erred
	ErrorMessage    string
	ErrorTraceback  string
	RefreshLastSync bool
	// Pulled records a pull's outcome (see pulledUpdates).
	Pulled *ResourcePulled
	// Details renames the resource, or changes its description or end date
	// (the consumer's update; Waldur's ResourceUpdate).
	Details *ResourceDetails
}

// ResourceDetails are the fields of a resource update; nil leaves one as it is.
type ResourceDetails struct {
	Name, Description *string
	// SetEndDate changes the end date to EndDate (nil: none).
	SetEndDate bool
	EndDate    *time.Time
}

// ChangeResource applies a provider-side change (set_backend_id,
// set_backend_metadata, set_limits, set_as_ok, set_as_erred,
// refresh_last_sync, a pull's outcome) with its event, in one transaction. State moves are
// checked with models.ResourceTransition. Codes: not_found, conflict.
func (s *Store) ChangeResource(ctx context.Context, id models.UUID, ch ResourceChange) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		r, err := tx.lockedResource(ctx, db, id)
		if err != nil {
			return err
		}
		now := tx.Now()
		updates := map[string]any{"modified": now}
		var evType, msg string
		switch {
		case ch.BackendID != nil:
			updates["backend_id"] = *ch.BackendID
			evType = "marketplace_resource_update_succeeded" // Waldur has no finer type; the message says what changed
			msg = fmt.Sprintf("Backend ID of resource %s has been changed from %q to %q.", r.Name, r.BackendID, *ch.BackendID)
		case ch.BackendMetadata != nil:
			raw, _ := json.Marshal(ch.BackendMetadata)
			updates["backend_metadata"] = raw
			evType = "marketplace_resource_update_succeeded" // Waldur has no finer type; the message says what changed
			msg = fmt.Sprintf("Backend metadata of resource %s has been changed.", r.Name)
		case ch.Limits != nil:
			if r.State == models.ResourceTerminated {
				return models.Errorf(models.CodeConflict, "Resource is terminated.")
			}
			raw, _ := json.Marshal(ch.Limits)
			updates["limits"] = raw
			evType = "marketplace_resource_update_limits_succeeded"
			msg = fmt.Sprintf("Limits of resource %s have been updated.", r.Name)
		case ch.Endpoints != nil:
			if err := db.Where("resource_id = ?", r.ID).Delete(&resourceEndpointRow{}).Error; err != nil {
				return translate(err, "Endpoint")
			}
			for _, e := range *ch.Endpoints {
				if err := db.Create(&resourceEndpointRow{UUID: models.NewUUID(), ResourceID: r.ID, Name: e.Name, URL: e.URL}).Error; err != nil {
					return translate(err, "Endpoint")
				}
			}
			evType = "marketplace_resource_update_succeeded" // Waldur has no finer type; the message says what changed
			msg = fmt.Sprintf("Access endpoints of resource %s have been set.", r.Name)
		case ch.State != "":
			if err := models.ResourceTransition(r.State, ch.State); err != nil {
				return err
			}
			updates["state"] = ch.State
			if ch.State == models.ResourceErred {
				updates["error_message"], updates["error_traceback"] = ch.ErrorMessage, ch.ErrorTraceback
				evType = "marketplace_resource_erred_on_backend"
				msg = fmt.Sprintf("Resource %s has been marked as erred.", r.Name)
			} else {
				updates["error_message"], updates["error_traceback"] = "", ""
				evType = "marketplace_resource_update_succeeded"
				msg = fmt.Sprintf("Resource %s has been marked as OK.", r.Name)
			}
		case ch.Details != nil:
			d := ch.Details
			if d.Name != nil {
				updates["name"] = *d.Name
			}
			if d.Description != nil {
				updates["description"] = *d.Description
			}
			if d.SetEndDate {
				if d.EndDate == nil {
					updates["end_date"] = nil
				} else {
					updates["end_date"] = d.EndDate.Format("2006-01-02")
				}
			}
			evType = "marketplace_resource_update_succeeded"
			msg = fmt.Sprintf("Resource %s has been updated.", r.Name)
		case ch.Pulled != nil:
			var skip bool
			if evType, msg, skip = pulledUpdates(r, ch.Pulled, updates); skip {
				return nil
			}
		case ch.RefreshLastSync:
			updates["last_sync"] = now
			evType = "marketplace_resource_update_succeeded" // Waldur has no finer type; the message says what changed
			msg = fmt.Sprintf("Last synchronization of resource %s has been refreshed.", r.Name)
		default:
			return models.Errorf(models.CodeInvalid, "Nothing to change.")
		}
		return tx.updateResourceColumns(ctx, db, r, updates, evType, msg)
	})
}

// ResourceEndpoint is an access endpoint of a resource (a URL its users open).
type ResourceEndpoint struct {
	UUID models.UUID
	Name string
	URL  string
}

type resourceEndpointRow struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	ResourceID int64
	Name       string
	URL        string
}

func (resourceEndpointRow) TableName() string { return "resource_endpoints" }

// EndpointsOf returns the access endpoints of resources, by resource id.
func (s *Store) EndpointsOf(ctx context.Context, resourceIDs []int64) (map[int64][]ResourceEndpoint, error) {
	out := map[int64][]ResourceEndpoint{}
	if len(resourceIDs) == 0 {
		return out, nil
	}
	var rows []resourceEndpointRow
	if err := s.DB.WithContext(ctx).Where("resource_id IN ?", resourceIDs).Order("id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ResourceID] = append(out[r.ResourceID], ResourceEndpoint{UUID: r.UUID, Name: r.Name, URL: r.URL})
	}
	return out, nil
}

// ResourceTeamMember is a user with a role in a resource's project.
type ResourceTeamMember struct {
	UserID         int64
	UUID           models.UUID
	Username       string
	FirstName      string
	LastName       string
	Email          string
	RoleName       string
	ExpirationTime *time.Time
}

// ResourceTeam lists the users holding a role in force in the project, by username.
func (s *Store) ResourceTeam(ctx context.Context, projectID int64, now time.Time) ([]ResourceTeamMember, error) {
	var out []ResourceTeamMember
	err := s.DB.WithContext(ctx).Table("user_roles").
		Select("users.id AS user_id, users.uuid, users.username, users.first_name, users.last_name, users.email, roles.name AS role_name, user_roles.expiration_time").
		Joins("JOIN users ON users.id = user_roles.user_id").Joins("JOIN roles ON roles.id = user_roles.role_id").
		Where("user_roles.scope_type = ? AND user_roles.scope_id = ?", models.ScopeProject, projectID).Where(rbac.InForce("user_roles", now)).
		Order("users.username").Scan(&out).Error
	return out, translate(err, "User")
}
