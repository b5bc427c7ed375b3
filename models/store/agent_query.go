package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// This file holds the reads of the site agent endpoints. Identities,
// services and processors are visible to staff and support, and to the
// holders of a role (in force, at the store's clock) on the offering's
// customer or on the offering; the caller is caller(ctx).

// agentScoped limits q (joined with offerings f) to what the caller sees.
func (s *Store) agentScoped(ctx context.Context, q *gorm.DB) (*gorm.DB, error) {
	rs, err := s.callerRoleScopes(ctx)
	if err != nil || rs == nil {
		return q, err
	}
	return rs.AgentFilter(q), nil
}

// agentVisible reports whether the caller sees the agent objects of the
// offering (of the given customer).
func (s *Store) agentVisible(ctx context.Context, offeringID, customerID int64) (bool, error) {
	rs, err := s.callerRoleScopes(ctx)
	if err != nil || rs == nil {
		return err == nil, err
	}
	return slices.Contains(rs.Customers, customerID) || slices.Contains(rs.Offerings, offeringID), nil
}

// AgentIdentityFilter narrows AgentIdentitiesQuery.
type AgentIdentityFilter struct {
	Name, Version string
	OfferingUUIDs []models.UUID
	// Orphaned keeps the identities without services (true) or with some (false).
	Orphaned *bool
	// LastRestarted keeps the identities restarted at or after it.
	LastRestarted *time.Time
}

// AgentIdentitiesQuery returns the identities (rows scan into
// AgentIdentityView) the caller sees, narrowed by f.
func (s *Store) AgentIdentitiesQuery(ctx context.Context, f AgentIdentityFilter) (Query, error) {
	q, err := s.agentScoped(ctx, s.agentIdentities(ctx))
	if err != nil {
		return Query{}, err
	}
	if f.Name != "" {
		q = q.Where("agent_identities.name = ?", f.Name)
	}
	if f.Version != "" {
		q = q.Where("agent_identities.version = ?", f.Version)
	}
	if len(f.OfferingUUIDs) > 0 {
		q = q.Where("f.uuid IN ?", f.OfferingUUIDs)
	}
	if f.Orphaned != nil {
		cond := "EXISTS (SELECT 1 FROM agent_services s WHERE s.identity_id = agent_identities.id)"
		if *f.Orphaned {
			cond = "NOT " + cond
		}
		q = q.Where(cond)
	}
	if f.LastRestarted != nil {
		q = q.Where("agent_identities.last_restarted >= ?", *f.LastRestarted)
	}
	return QueryOf(q), nil
}

// VisibleAgentIdentity loads an identity the caller sees. Codes: not_found
// (also when hidden).
func (s *Store) VisibleAgentIdentity(ctx context.Context, id models.UUID) (*AgentIdentityView, error) {
	v, err := s.AgentIdentityByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.agentVisible(ctx, v.OfferingID, v.OfferingCustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Agent identity not found.")
	}
	return v, nil
}

// AgentServiceFilter narrows AgentServicesQuery.
type AgentServiceFilter struct {
	IdentityUUIDs []models.UUID
	Mode          string
	States        []models.AgentServiceState
	// ModifiedAfter and ModifiedBefore bound the modification time (inclusive).
	ModifiedAfter, ModifiedBefore *time.Time
}

// AgentServicesQuery returns the services (rows scan into
// AgentServiceView) the caller sees, narrowed by f.
func (s *Store) AgentServicesQuery(ctx context.Context, f AgentServiceFilter) (Query, error) {
	q, err := s.agentScoped(ctx, s.agentServices(ctx))
	if err != nil {
		return Query{}, err
	}
	if len(f.IdentityUUIDs) > 0 {
		q = q.Where("i.uuid IN ?", f.IdentityUUIDs)
	}
	if f.Mode != "" {
		q = q.Where("agent_services.mode = ?", f.Mode)
	}
	if len(f.States) > 0 {
		states := make([]int, len(f.States))
		for i, st := range f.States {
			states[i] = int(st)
		}
		q = q.Where("agent_services.state IN ?", states)
	}
	if f.ModifiedAfter != nil {
		q = q.Where("agent_services.modified >= ?", *f.ModifiedAfter)
	}
	if f.ModifiedBefore != nil {
		q = q.Where("agent_services.modified <= ?", *f.ModifiedBefore)
	}
	return QueryOf(q), nil
}

// VisibleAgentService loads a service the caller sees. Codes: not_found
// (also when hidden).
func (s *Store) VisibleAgentService(ctx context.Context, id models.UUID) (*AgentServiceView, error) {
	v, err := s.AgentServiceByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.agentVisible(ctx, v.OfferingID, v.OfferingCustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Agent service not found.")
	}
	return v, nil
}

// AgentProcessorFilter narrows AgentProcessorsQuery.
type AgentProcessorFilter struct {
	ServiceUUIDs                []models.UUID
	BackendType, BackendVersion string
	// LastRunAfter and LastRunBefore bound the last run (inclusive).
	LastRunAfter, LastRunBefore *time.Time
	// Stale keeps the processors that did not run since StaleBefore (true)
	// or did (false).
	Stale       *bool
	StaleBefore time.Time
}

// AgentProcessorsQuery returns the processors (rows scan into
// AgentProcessorView) the caller sees, narrowed by f.
func (s *Store) AgentProcessorsQuery(ctx context.Context, f AgentProcessorFilter) (Query, error) {
	q, err := s.agentScoped(ctx, s.agentProcessors(ctx))
	if err != nil {
		return Query{}, err
	}
	if len(f.ServiceUUIDs) > 0 {
		q = q.Where("sv.uuid IN ?", f.ServiceUUIDs)
	}
	if f.BackendType != "" {
		q = q.Where("agent_processors.backend_type = ?", f.BackendType)
	}
	if f.BackendVersion != "" {
		q = q.Where("agent_processors.backend_version = ?", f.BackendVersion)
	}
	if f.LastRunAfter != nil {
		q = q.Where("agent_processors.last_run >= ?", *f.LastRunAfter)
	}
	if f.LastRunBefore != nil {
		q = q.Where("agent_processors.last_run <= ?", *f.LastRunBefore)
	}
	if f.Stale != nil {
		if *f.Stale {
			q = q.Where("(agent_processors.last_run IS NULL OR agent_processors.last_run < ?)", f.StaleBefore)
		} else {
			q = q.Where("agent_processors.last_run >= ?", f.StaleBefore)
		}
	}
	return QueryOf(q), nil
}

// VisibleAgentProcessor loads a processor the caller sees. Codes:
// not_found (also when hidden).
func (s *Store) VisibleAgentProcessor(ctx context.Context, id models.UUID) (*AgentProcessorView, error) {
	v, err := s.AgentProcessorByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.agentVisible(ctx, v.OfferingID, v.OfferingCustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Agent processor not found.")
	}
	return v, nil
}
