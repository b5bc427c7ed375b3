package store

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// This file serves the events and hooks lists: the viewer of each filter
// is the caller (caller(ctx)), whatever f.Viewer says.

// EventsList returns the events (rows scan into EventRecord) the caller
// may see, narrowed by f, as EventsQuery. Codes: internal.
func (s *Store) EventsList(ctx context.Context, f EventFilter) (Query, error) {
	f.Viewer = caller(ctx)
	q, err := s.EventsQuery(ctx, f)
	if err != nil {
		return Query{}, err
	}
	return QueryOf(q), nil
}

// CountEvents counts the events EventsList selects. Codes: internal.
func (s *Store) CountEvents(ctx context.Context, f EventFilter) (int64, error) {
	f.Viewer = caller(ctx)
	q, err := s.EventsQuery(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, models.Internal(err)
	}
	return n, nil
}

// ListedEvent returns the event of that UUID among those EventsList
// selects (Waldur's retrieve, which applies the list's filters).
// Codes: not_found ("Not found."), internal.
func (s *Store) ListedEvent(ctx context.Context, f EventFilter, id models.UUID) (*EventRecord, error) {
	f.Viewer = caller(ctx)
	q, err := s.EventsQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	var rows []EventRecord
	if err := q.Where("events.uuid = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(rows) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return &rows[0], nil
}

// HooksList returns the hooks (rows scan into Hook) the caller may see,
// narrowed by f, as HooksQuery.
func (s *Store) HooksList(ctx context.Context, f HookFilter) Query {
	f.Viewer = caller(ctx)
	return QueryOf(s.HooksQuery(ctx, f))
}

// VisibleHook returns a hook of the given type (any when "") the caller may
// see, as HookByUUID. Codes: not_found ("Not found.").
func (s *Store) VisibleHook(ctx context.Context, hookType string, id models.UUID) (*Hook, error) {
	return s.HookByUUID(ctx, caller(ctx), hookType, id)
}

// MayChangeHook allows the hook's owner and staff to change or delete it;
// support see others' hooks but cannot change them. Codes: forbidden.
func (s *Store) MayChangeHook(ctx context.Context, h *Hook) error {
	if u := caller(ctx); u != nil && (u.IsStaff || u.ID == h.UserID) {
		return nil
	}
	return models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
}
