package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// This file reads the event log (the events API) and keeps the hooks that
// deliver events (the hooks API and the delivery workflow). Events are
// written by EmitEvent (events.go).

// EventRecord is one stored event as the events API and the hook delivery read it.
type EventRecord struct {
	ID              int64 `gorm:"primaryKey"`
	UUID            models.UUID
	Created         time.Time
	EventType       string
	Message         string
	Context         []byte
	HooksDispatched bool
}

// TableName maps EventRecord onto the events table.
func (EventRecord) TableName() string { return "events" }

// ContextMap decodes the stored context; an empty or unreadable context is an empty object.
func (r *EventRecord) ContextMap() map[string]any {
	out := map[string]any{}
	if len(r.Context) > 0 {
		_ = json.Unmarshal(r.Context, &out)
		if out == nil { // the JSON null
			out = map[string]any{}
		}
	}
	return out
}

// Event converts the record to the domain type (without its scopes).
func (r *EventRecord) Event() *models.Event {
	return &models.Event{ID: r.ID, UUID: r.UUID, Created: r.Created, EventType: r.EventType, Message: r.Message, Context: r.ContextMap()}
}

// EventFilter selects events for the events API (Waldur's EventFilter and
// EventFilterBackend). Every set field narrows the result.
type EventFilter struct {
	// Viewer is the user asking; nil sees nothing. EventsList, CountEvents
	// and ListedEvent set it to the caller.
	Viewer *models.User
	// Types keeps events of any of these types (?event_type=).
	Types []string
	// Groups keeps events whose type is in any of these groups (?feature=);
	// unknown groups match nothing.
	Groups []string
	// Scope keeps events fed to this scope (?scope=). Without it, only staff
	// and support see anything, as in Waldur.
	Scope *models.Scope
	// CreatedFrom (inclusive) and CreatedTo (exclusive) bound the creation time.
	CreatedFrom, CreatedTo *time.Time
	// Message keeps events whose message contains it, case-insensitively.
	Message string
	// CustomerUUID, ProjectUUID and UserUUID match the context keys
	// customer_uuid, project_uuid and user_uuid.
	CustomerUUID, ProjectUUID, UserUUID *models.UUID
}

// EventsQuery returns the query over events (model EventRecord) the filter
// selects, for the caller to order and page. Visibility is part of the
// query: a scope the viewer cannot see selects nothing, and no scope
// selects nothing unless the viewer is staff or support. Codes: internal.
func (s *Store) EventsQuery(ctx context.Context, f EventFilter) (*gorm.DB, error) {
	q := s.DB.WithContext(ctx).Model(&EventRecord{})
	none := func() (*gorm.DB, error) { return q.Where("1 = 0"), nil }
	if f.Viewer == nil || !f.Viewer.IsActive {
		return none()
	}
	if f.Scope != nil {
		ok, err := s.ScopeVisible(ctx, f.Viewer, *f.Scope)
		if err != nil {
			return nil, err
		}
		if !ok {
			return none()
		}
		q = q.Where("events.id IN (?)", s.newDB(ctx).Table("event_feeds").Select("event_id").
			Where("scope_type = ? AND scope_id = ?", f.Scope.Type, f.Scope.ID))
	} else if !rbac.SeesEverything(f.Viewer) {
		return none()
	}
	if len(f.Types) > 0 {
		q = q.Where("events.event_type IN ?", f.Types)
	}
	if len(f.Groups) > 0 {
		types := ExpandEventGroups(f.Groups)
		if len(types) == 0 {
			return none()
		}
		q = q.Where("events.event_type IN ?", types)
	}
	if f.CreatedFrom != nil {
		q = q.Where("events.created >= ?", *f.CreatedFrom)
	}
	if f.CreatedTo != nil {
		q = q.Where("events.created < ?", *f.CreatedTo)
	}
	if f.Message != "" {
		q = q.Where(`LOWER(events.message) LIKE ? ESCAPE '\'`, containsPattern(f.Message))
	}
	for _, c := range []struct {
		key string
		v   *models.UUID
	}{{"customer_uuid", f.CustomerUUID}, {"project_uuid", f.ProjectUUID}, {"user_uuid", f.UserUUID}} {
		if c.v != nil {
			q = q.Where(s.jsonText("events.context", c.key)+" = ?", c.v.String())
		}
	}
	return q, nil
}

// EventByUUID returns an event the viewer may see: staff and support see
// every event, others an event fed to a scope they can see.
// Codes: not_found (also when hidden).
func (s *Store) EventByUUID(ctx context.Context, viewer *models.User, id models.UUID) (*EventRecord, error) {
	if viewer == nil || !viewer.IsActive {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	q := s.DB.WithContext(ctx).Where("events.uuid = ?", id)
	if !rbac.SeesEverything(viewer) {
		q = q.Where("events.id IN (?)", s.visibleFeeds(ctx, viewer))
	}
	var r EventRecord
	if err := q.Take(&r).Error; err != nil {
		if translate(err, "Event").(*models.Error).Code == models.CodeNotFound {
			return nil, models.Errorf(models.CodeNotFound, "Not found.")
		}
		return nil, translate(err, "Event")
	}
	return &r, nil
}

// EventByID returns an event by its internal id, for the delivery workflow. Codes: not_found.
func (s *Store) EventByID(ctx context.Context, id int64) (*EventRecord, error) {
	var r EventRecord
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "Event")
	}
	return &r, nil
}

// EventVisibleTo reports whether u may see the event: staff and support
// always, others when the event is fed to a customer, project or user
// they can see (Waldur's check_event for hooks). Inactive users see nothing.
func (s *Store) EventVisibleTo(ctx context.Context, eventID int64, u *models.User) (bool, error) {
	if u == nil || !u.IsActive {
		return false, nil
	}
	if rbac.SeesEverything(u) {
		return true, nil
	}
	var n int64
	err := s.DB.WithContext(ctx).Table("event_feeds").Where("event_id = ?", eventID).
		Where("event_id IN (?)", s.visibleFeeds(ctx, u)).Count(&n).Error
	if err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// visibleFeeds is the subquery of ids of events fed to a scope u can see.
func (s *Store) visibleFeeds(ctx context.Context, u *models.User) *gorm.DB {
	now := s.Now()
	customers := rbac.FilterCustomers(s.newDB(ctx).Table("customers").Select("customers.id"), u, now)
	projects := rbac.FilterProjects(s.newDB(ctx).Table("projects").Select("projects.id").Where("projects.is_removed = ?", false), u, now)
	return s.newDB(ctx).Table("event_feeds").Select("event_id").Where(
		"(scope_type = ? AND scope_id IN (?)) OR (scope_type = ? AND scope_id IN (?)) OR (scope_type = ? AND scope_id = ?)",
		models.ScopeCustomer, customers, models.ScopeProject, projects, models.ScopeUser, u.ID)
}

func (s *Store) newDB(ctx context.Context) *gorm.DB {
	return s.DB.Session(&gorm.Session{NewDB: true}).WithContext(ctx)
}

// EventScopeTables are the scope types events can be filtered by, with their tables.
var EventScopeTables = map[models.ScopeType]string{
	models.ScopeCustomer: "customers",
	models.ScopeProject:  "projects",
	models.ScopeUser:     "users",
}

// EventScopeByUUID resolves an object of a scope type by its UUID (a
// removed project is not found). Codes: not_found, invalid (unknown type).
func (s *Store) EventScopeByUUID(ctx context.Context, t models.ScopeType, id models.UUID) (models.Scope, error) {
	table, ok := EventScopeTables[t]
	if !ok {
		return models.Scope{}, models.Errorf(models.CodeInvalid, "Unknown scope type %q.", t)
	}
	q := s.DB.WithContext(ctx).Table(table).Where("uuid = ?", id)
	if t == models.ScopeProject {
		q = q.Where("is_removed = ?", false)
	}
	var ids []int64
	if err := q.Limit(1).Pluck("id", &ids).Error; err != nil {
		return models.Scope{}, models.Internal(err)
	}
	if len(ids) == 0 {
		return models.Scope{}, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return models.Scope{Type: t, ID: ids[0]}, nil
}

// ScopeVisible reports whether u may see the scope: staff and support see
// every customer, project and user; others the customers and projects
// where they hold a role in force (rbac.FilterCustomers/FilterProjects) and
// themselves.
func (s *Store) ScopeVisible(ctx context.Context, u *models.User, sc models.Scope) (bool, error) {
	if u == nil || !u.IsActive {
		return false, nil
	}
	var q *gorm.DB
	switch sc.Type {
	case models.ScopeCustomer:
		q = rbac.FilterCustomers(s.DB.WithContext(ctx).Table("customers").Where("customers.id = ?", sc.ID), u, s.Now())
	case models.ScopeProject:
		q = rbac.FilterProjects(s.DB.WithContext(ctx).Table("projects").Where("projects.id = ? AND projects.is_removed = ?", sc.ID, false), u, s.Now())
	case models.ScopeUser:
		if !rbac.SeesEverything(u) {
			return sc.ID == u.ID, nil
		}
		q = s.DB.WithContext(ctx).Table("users").Where("id = ?", sc.ID)
	default:
		return false, nil
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// PendingEvents returns up to limit events whose hooks were not dispatched
// yet, oldest first (the transactional outbox).
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]EventRecord, error) {
	var rows []EventRecord
	err := s.DB.WithContext(ctx).Select("id", "uuid", "created", "event_type").
		Where("hooks_dispatched = ?", false).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return rows, nil
}

// MarkEventsDispatched records that the hooks of these events were
// dispatched. Marking twice is harmless.
func (s *Store) MarkEventsDispatched(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.DB.WithContext(ctx).Model(&EventRecord{}).Where("id IN ? AND hooks_dispatched = ?", ids, false).
		Update("hooks_dispatched", true).Error
	return translate(err, "Event")
}

// ExpandEventGroups returns the sorted, distinct event types of the named
// groups (models.EventGroups); unknown groups add nothing.
func ExpandEventGroups(groups []string) []string {
	set := map[string]bool{}
	for _, g := range groups {
		for _, t := range models.EventGroups[g] {
			set[t] = true
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// jsonText is the SQL expression of a top-level string key of a JSON
// column, on either dialect. key and col are trusted constants.
func (s *Store) jsonText(col, key string) string {
	if s.DB.Dialector.Name() == "postgres" {
		return fmt.Sprintf("(%s->>'%s')", col, key)
	}
	return fmt.Sprintf("json_extract(CAST(%s AS TEXT), '$.%s')", col, key)
}

// containsPattern is a LIKE pattern (ESCAPE '\') matching values that
// contain v, for comparison against LOWER(column).
func containsPattern(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(v)) + "%"
}

// Hook types (Waldur's hook_type values).
const (
	HookTypeWeb   = "webhook"
	HookTypeEmail = "email"
)

// Web hook content types.
const (
	HookContentJSON = "json"
	HookContentForm = "form"
)

// Hook is a user's subscription to events: a web hook POSTs each matching
// event to DestinationURL, an email hook mails it to Email. EventTypes
// holds the chosen types with the types of EventGroups already expanded
// (as Waldur saves them); Matches also expands the groups at match time,
// so a type added to a group later is delivered too.
type Hook struct {
	ID             int64 `gorm:"primaryKey"`
	UUID           models.UUID
	UserID         int64
	HookType       string
	EventTypes     []string `gorm:"serializer:json"`
	EventGroups    []string `gorm:"serializer:json"`
	IsActive       bool
	DestinationURL string
	ContentType    string
	Email          string
	LastPublished  *time.Time
	Created        time.Time
	Modified       time.Time
}

// TableName maps Hook onto the hooks table.
func (Hook) TableName() string { return "hooks" }

// Matches reports whether an event of eventType concerns the hook: the
// type is one of its event types or belongs to one of its groups.
func (h *Hook) Matches(eventType string) bool {
	for _, t := range h.EventTypes {
		if t == eventType {
			return true
		}
	}
	g := models.EventGroupOf(eventType)
	if g == "" {
		return false
	}
	for _, x := range h.EventGroups {
		if x == g {
			return true
		}
	}
	return false
}

// HookFilter selects hooks for the hooks API (Waldur's BaseHookFilter).
type HookFilter struct {
	// Viewer is the user asking: staff and support see every hook, others
	// their own, nil nothing. HooksList sets it to the caller.
	Viewer *models.User
	// HookType is HookTypeWeb, HookTypeEmail or "" for both.
	HookType       string
	AuthorUUID     *models.UUID
	AuthorUsername string
	AuthorEmail    string
	// AuthorFullName matches "first last" case-insensitively, by substring.
	AuthorFullName string
	// Query matches the author's first or last name, username or email by substring.
	Query          string
	IsActive       *bool
	DestinationURL string
	ContentType    string
	Email          string
	LastPublished  *time.Time
}

// HooksQuery returns the query over hooks (model Hook) the filter selects,
// for the caller to order and page.
func (s *Store) HooksQuery(ctx context.Context, f HookFilter) *gorm.DB {
	q := s.DB.WithContext(ctx).Model(&Hook{})
	switch {
	case f.Viewer == nil || !f.Viewer.IsActive:
		return q.Where("1 = 0")
	case !rbac.SeesEverything(f.Viewer):
		q = q.Where("hooks.user_id = ?", f.Viewer.ID)
	}
	if f.HookType != "" {
		q = q.Where("hooks.hook_type = ?", f.HookType)
	}
	users := func(cond string, args ...any) *gorm.DB {
		return s.newDB(ctx).Table("users").Select("id").Where(cond, args...)
	}
	if f.AuthorUUID != nil {
		q = q.Where("hooks.user_id IN (?)", users("uuid = ?", *f.AuthorUUID))
	}
	if f.AuthorUsername != "" {
		q = q.Where("hooks.user_id IN (?)", users("username = ?", f.AuthorUsername))
	}
	if f.AuthorEmail != "" {
		q = q.Where("hooks.user_id IN (?)", users("email = ?", f.AuthorEmail))
	}
	if f.AuthorFullName != "" {
		q = q.Where("hooks.user_id IN (?)", users(`LOWER(first_name || ' ' || last_name) LIKE ? ESCAPE '\'`, containsPattern(f.AuthorFullName)))
	}
	if f.Query != "" {
		p := containsPattern(f.Query)
		q = q.Where("hooks.user_id IN (?)", users(`LOWER(first_name) LIKE ? ESCAPE '\' OR LOWER(last_name) LIKE ? ESCAPE '\' OR LOWER(username) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\'`, p, p, p, p))
	}
	if f.IsActive != nil {
		q = q.Where("hooks.is_active = ?", *f.IsActive)
	}
	if f.DestinationURL != "" {
		q = q.Where("hooks.destination_url = ?", f.DestinationURL)
	}
	if f.ContentType != "" {
		q = q.Where("hooks.content_type = ?", f.ContentType)
	}
	if f.Email != "" {
		q = q.Where("hooks.email = ?", f.Email)
	}
	if f.LastPublished != nil {
		q = q.Where("hooks.last_published = ?", *f.LastPublished)
	}
	return q
}

// HookByUUID returns a hook of the given type (any when "") that viewer may
// see: their own, or any for staff and support. Codes: not_found.
func (s *Store) HookByUUID(ctx context.Context, viewer *models.User, hookType string, id models.UUID) (*Hook, error) {
	var h Hook
	err := s.HooksQuery(ctx, HookFilter{Viewer: viewer, HookType: hookType}).Where("hooks.uuid = ?", id).Take(&h).Error
	if err != nil {
		if translate(err, "Hook").(*models.Error).Code == models.CodeNotFound {
			return nil, models.Errorf(models.CodeNotFound, "Not found.")
		}
		return nil, translate(err, "Hook")
	}
	return &h, nil
}

// HookByID returns a hook by its internal id, for the delivery workflow. Codes: not_found.
func (s *Store) HookByID(ctx context.Context, id int64) (*Hook, error) {
	var h Hook
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Take(&h).Error; err != nil {
		return nil, translate(err, "Hook")
	}
	return &h, nil
}

func normalizeHook(h *Hook) {
	if h.EventTypes == nil {
		h.EventTypes = []string{}
	}
	if h.EventGroups == nil {
		h.EventGroups = []string{}
	}
}

// CreateHook inserts h (validated by the caller), filling ID, UUID and the
// timestamps. Codes: internal.
func (s *Store) CreateHook(ctx context.Context, h *Hook) error {
	now := s.Now()
	if h.UUID.IsZero() {
		h.UUID = models.NewUUID()
	}
	h.Created, h.Modified = now, now
	normalizeHook(h)
	return translate(s.DB.WithContext(ctx).Create(h).Error, "Hook")
}

// UpdateHook saves the editable fields of h and sets Modified. Codes: not_found.
func (s *Store) UpdateHook(ctx context.Context, h *Hook) error {
	h.Modified = s.Now()
	normalizeHook(h)
	res := s.DB.WithContext(ctx).Model(&Hook{}).Where("id = ?", h.ID).Updates(map[string]any{
		"event_types":     jsonList(h.EventTypes),
		"event_groups":    jsonList(h.EventGroups),
		"is_active":       h.IsActive,
		"destination_url": h.DestinationURL,
		"content_type":    h.ContentType,
		"email":           h.Email,
		"modified":        h.Modified,
	})
	if res.Error != nil {
		return translate(res.Error, "Hook")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	return nil
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// DeleteHook removes a hook. Codes: not_found.
func (s *Store) DeleteHook(ctx context.Context, id int64) error {
	res := s.DB.WithContext(ctx).Where("id = ?", id).Delete(&Hook{})
	if res.Error != nil {
		return translate(res.Error, "Hook")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	return nil
}

// ActiveHooks returns every active hook whose owner is an active user, by id.
func (s *Store) ActiveHooks(ctx context.Context) ([]Hook, error) {
	var hs []Hook
	err := s.DB.WithContext(ctx).Where("is_active = ? AND user_id IN (?)", true,
		s.newDB(ctx).Table("users").Select("id").Where("is_active = ?", true)).Order("id").Find(&hs).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return hs, nil
}

// SetHookPublished records a delivery through the hook at t.
func (s *Store) SetHookPublished(ctx context.Context, hookID int64, t time.Time) error {
	return translate(s.DB.WithContext(ctx).Model(&Hook{}).Where("id = ?", hookID).Update("last_published", t).Error, "Hook")
}

// HookAuthors returns the users with the given ids, keyed by id.
func (s *Store) HookAuthors(ctx context.Context, ids []int64) (map[int64]*models.User, error) {
	out := map[int64]*models.User{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []userRow
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ID] = r.model()
	}
	return out, nil
}
