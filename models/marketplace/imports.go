package marketplace

import (
	"context"
	"strings"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
)

// Imports of backend objects made outside Waldur as resources
// (importable_resources, import_resource): the service decides who may
// import what, into which project; the backend is only reachable from its
// provider's worker, so the listing and the import themselves run as
// workflows through the service's Importer (workflows.ImportClient).

// PermListImportable lets a provider list and import its backend objects.
const PermListImportable models.Permission = "RESOURCE.LIST_IMPORTABLE"

// Importer runs the import workflows (workflows.ImportClient) and waits
// for their results. Codes: the provider's or the store's refusal (invalid
// for an object named in the request that is missing), conflict (the
// object is being imported already), unavailable (Temporal, or a backend
// that did not answer).
type Importer interface {
	// Importable lists the offering's backend objects no resource has yet.
	Importable(ctx context.Context, offering models.UUID) ([]providers.ImportableResource, error)
	// Import records backend object r.BackendID as a resource.
	Import(ctx context.Context, r ImportRequest) (models.UUID, error)
}

// ImportRequest is an import the service has allowed.
type ImportRequest struct {
	OfferingUUID models.UUID
	ProjectUUID  models.UUID
	PlanUUID     *models.UUID // nil: the offering's only plan
	BackendID    string       // trimmed, not empty
}

// ImportOffering loads offering id for a provider-side import action by u
// (Waldur's user_can_list_importable_resources): staff; nobody else for a
// shared offering ("Import is limited to staff for shared offerings.");
// otherwise RESOURCE.LIST_IMPORTABLE on the offering's customer. Users
// with no role on the offering or its customer do not see it. Codes:
// not_found, forbidden.
func (s *Service) ImportOffering(ctx context.Context, u *models.User, id models.UUID) (*store.ImportOffering, error) {
	o, err := s.Store.ImportOfferingByUUID(ctx, id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, offeringNotFound()
		}
		return nil, err
	}
	if !rbac.SeesEverything(u) {
		// As the provider offering views: only the provider's people see it.
		roles, err := s.RBAC.RolesOn(ctx, u.ID, scopeOf(models.ScopeCustomer, o.CustomerID), scopeOf(models.ScopeOffering, o.ID))
		if err != nil {
			return nil, models.Internal(err)
		}
		if len(roles) == 0 {
			return nil, offeringNotFound()
		}
	}
	if u.IsStaff {
		return o, nil
	}
	if o.Shared {
		return nil, models.Errorf(models.CodeForbidden, "Import is limited to staff for shared offerings.")
	}
	if err := s.RBAC.Require(ctx, u, PermListImportable, scopeOf(models.ScopeCustomer, o.CustomerID)); err != nil {
		return nil, err
	}
	return o, nil
}

// offeringNotFound is the API's 404 of the offering of the path.
func offeringNotFound() error {
	return models.Errorf(models.CodeNotFound, "No Offering matches the given query.")
}

// Importable lists the backend objects of offering o (as ImportOffering
// returned it) that no resource of it has yet, in the backend's order.
// Codes: those of the provider's refusal; unavailable (Temporal, or a
// backend that did not answer).
func (s *Service) Importable(ctx context.Context, o *store.ImportOffering) ([]providers.ImportableResource, error) {
	if s.Imports == nil {
		return nil, unavailable()
	}
	return s.Imports.Importable(ctx, o.UUID)
}

// ImportInput is a backend object to import: the project it goes into,
// its plan (nil: the offering's only one) and its backend id.
type ImportInput struct {
	ProjectUUID models.UUID
	PlanUUID    *models.UUID
	BackendID   string
}

// ImportResource records backend object in.BackendID of offering o (as
// ImportOffering returned it for u) as a resource in project
// in.ProjectUUID, which u needs RESOURCE.LIST_IMPORTABLE on (or on its
// customer), and returns its UUID. Codes: invalid (a field's error names
// the field: backend_id, project; a missing object named by the input),
// forbidden, conflict (the object is being imported already, or is
// imported), quota_exceeded, unavailable (Temporal, or a backend that did
// not answer).
func (s *Service) ImportResource(ctx context.Context, u *models.User, o *store.ImportOffering, in ImportInput) (models.UUID, error) {
	backendID := strings.TrimSpace(in.BackendID)
	if backendID == "" {
		return models.UUID{}, models.FieldError("backend_id", MsgRequired)
	}
	p, err := s.Store.ProjectByUUID(ctx, in.ProjectUUID)
	if err != nil || p.IsRemoved {
		if err == nil || models.IsCode(err, models.CodeNotFound) {
			return models.UUID{}, models.FieldError("project", MsgDoesNotExist)
		}
		return models.UUID{}, err
	}
	if err := s.RBAC.Require(ctx, u, PermListImportable,
		scopeOf(models.ScopeProject, p.ID), scopeOf(models.ScopeCustomer, p.CustomerID)); err != nil {
		return models.UUID{}, err
	}
	if s.Imports == nil {
		return models.UUID{}, unavailable()
	}
	return s.Imports.Import(ctx, ImportRequest{OfferingUUID: o.UUID, ProjectUUID: in.ProjectUUID, PlanUUID: in.PlanUUID, BackendID: backendID})
}

// unavailable is the answer when no workflow service is configured.
func unavailable() error {
	return models.Errorf(models.CodeUnavailable, "The workflow service (Temporal) is unavailable; try again later.")
}
