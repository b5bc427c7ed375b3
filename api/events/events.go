// Package events serves Waldur's event log and hooks API: /api/events/
// (list, retrieve, count, event_groups, scope_types), /api/hooks/,
// /api/hooks-web/ and /api/hooks-email/. Events are written by the store
// (store.EmitEvent) with the change they record; hooks are delivered by the
// DeliverEventHooks workflow (workflows/hooks.go).
package events

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the module needs.
type Deps struct {
	Store *store.Store
	// RBAC is the permission checker. Event visibility and hook ownership
	// are SQL filters in the store (rbac.FilterCustomers/FilterProjects),
	// so the module does not consult it today.
	RBAC *rbac.Checker
	// Now is the clock. Visibility is decided with the store's clock
	// (role expiry), so the module does not consult it today.
	Now func() time.Time
}

// Module is the events and hooks API.
type Module struct {
	st *store.Store
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module { return &Module{st: d.Store} }

// Routes registers the events and hooks routes; every one needs a user.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := func(g *gin.RouterGroup, path string, h api.Handler) {
		g.GET(path, api.H(h))
		g.HEAD(path, api.H(h))
	}
	ev := a.Group("/events", api.RequireUser)
	get(ev, "/", m.listEvents)
	get(ev, "/count/", m.countEvents)
	get(ev, "/event_groups/", m.eventGroups)
	get(ev, "/scope_types/", m.scopeTypes)
	ev.GET("/:id/", api.H(m.getEvent))

	hooks := a.Group("/hooks", api.RequireUser)
	get(hooks, "/", m.listHooks)

	web := a.Group("/hooks-web", api.RequireUser)
	get(web, "/", m.listWebHooks)
	web.POST("/", api.H(m.createWebHook))
	web.GET("/:uuid/", api.H(m.getWebHook))
	web.PUT("/:uuid/", api.H(m.updateWebHook))
	web.PATCH("/:uuid/", api.H(m.updateWebHook))
	web.DELETE("/:uuid/", api.H(m.deleteWebHook))

	email := a.Group("/hooks-email", api.RequireUser)
	get(email, "/", m.listEmailHooks)
	email.POST("/", api.H(m.createEmailHook))
	email.GET("/:uuid/", api.H(m.getEmailHook))
	email.PUT("/:uuid/", api.H(m.updateEmailHook))
	email.PATCH("/:uuid/", api.H(m.updateEmailHook))
	email.DELETE("/:uuid/", api.H(m.deleteEmailHook))
}

// Event is one event (Waldur's EventSerializer).
type Event struct {
	UUID      models.UUID    `json:"uuid" swaggertype:"string" example:"8b5f4a0e5b3d4c0b9a1f2e3d4c5b6a79"`
	Created   time.Time      `json:"created"`
	EventType string         `json:"event_type" example:"customer_update_succeeded"`
	Message   string         `json:"message" example:"Customer Alpha has been updated."`
	Context   map[string]any `json:"context"`
}

func renderEvent(r *store.EventRecord) Event {
	return Event{UUID: r.UUID, Created: r.Created, EventType: r.EventType, Message: r.Message, Context: r.ContextMap()}
}

// EventCount is the answer of /api/events/count/.
type EventCount struct {
	Count int64 `json:"count" example:"12321"`
}

// Newest first; events of the same instant newest id first.
var eventListSpec = rest.ListSpec{
	Ordering:        map[string]string{"created": "events.created", "id": "events.id"},
	DefaultOrdering: []string{"-created", "-id"},
	TieBreaker:      "events.id",
}

// listEvents godoc
//
//	@Summary		List events
//	@Description	Events, newest first. Staff and support see every event; other users must pass `scope` (the URL of a customer, project or user they can see) and get the events fed to it, otherwise the list is empty.
//	@Tags			events
//	@Produce		json
//	@Security		TokenAuth
//	@Param			event_type		query		[]string	false	"Filter by event type. Can be specified multiple times."	collectionFormat(multi)
//	@Param			feature			query		[]string	false	"Filter by feature (event group). Can be specified multiple times."	collectionFormat(multi)
//	@Param			scope			query		string		false	"Filter by scope URL."
//	@Param			created_from	query		number		false	"Created at or after (Unix timestamp or RFC 3339)"
//	@Param			created_to		query		number		false	"Created before (Unix timestamp or RFC 3339)"
//	@Param			message			query		string		false	"Message contains"
//	@Param			customer_uuid	query		string		false	"Customer UUID (event context)"
//	@Param			project_uuid	query		string		false	"Project UUID (event context)"
//	@Param			user_uuid		query		string		false	"User UUID (event context)"
//	@Param			o				query		string		false	"Ordering: created or -created"
//	@Param			page			query		int			false	"Page number"
//	@Param			page_size		query		int			false	"Page size"
//	@Success		200				{array}		Event
//	@Failure		400				{object}	map[string][]string
//	@Failure		401				{object}	api.ErrorBody
//	@Router			/api/events/ [get]
func (m *Module) listEvents(c *gin.Context) error {
	f, err := m.eventFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.EventsList(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, eventListSpec, func(r *store.EventRecord) Event { return renderEvent(r) })
}

// countEvents godoc
//
//	@Summary		Count events
//	@Description	The number of events the same filters as the list select.
//	@Tags			events
//	@Produce		json
//	@Security		TokenAuth
//	@Param			event_type		query		[]string	false	"Filter by event type"	collectionFormat(multi)
//	@Param			feature			query		[]string	false	"Filter by event group"	collectionFormat(multi)
//	@Param			scope			query		string		false	"Filter by scope URL."
//	@Param			created_from	query		number		false	"Created at or after"
//	@Param			created_to		query		number		false	"Created before"
//	@Param			message			query		string		false	"Message contains"
//	@Success		200				{object}	EventCount
//	@Failure		400				{object}	map[string][]string
//	@Failure		401				{object}	api.ErrorBody
//	@Router			/api/events/count/ [get]
func (m *Module) countEvents(c *gin.Context) error {
	f, err := m.eventFilter(c)
	if err != nil {
		return err
	}
	n, err := m.st.CountEvents(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, EventCount{Count: n})
}

// eventGroups godoc
//
//	@Summary		List event groups
//	@Description	Each event group (the `feature` filter and the hooks' `event_groups`) with its event types.
//	@Tags			events
//	@Produce		json
//	@Security		TokenAuth
//	@Success		200	{object}	map[string][]string
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/events/event_groups/ [get]
func (m *Module) eventGroups(c *gin.Context) error {
	out := make(map[string][]string, len(models.EventGroups))
	for g, ts := range models.EventGroups {
		s := append([]string(nil), ts...)
		sort.Strings(s)
		out[g] = s
	}
	return rest.Render(c, http.StatusOK, out)
}

// Scope types in Waldur's names (app_label.model) and the URL collection of each.
var scopeTypeNames = map[models.ScopeType]string{
	models.ScopeUser:     "core.user",
	models.ScopeCustomer: "structure.customer",
	models.ScopeProject:  "structure.project",
}

var scopeCollections = map[string]models.ScopeType{
	"users":     models.ScopeUser,
	"customers": models.ScopeCustomer,
	"projects":  models.ScopeProject,
}

// scopeTypes godoc
//
//	@Summary		List scope types
//	@Description	The types of objects the `scope` filter accepts.
//	@Tags			events
//	@Produce		json
//	@Security		TokenAuth
//	@Success		200	{array}		string
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/events/scope_types/ [get]
func (m *Module) scopeTypes(c *gin.Context) error {
	out := make([]string, 0, len(scopeTypeNames))
	for _, n := range scopeTypeNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return rest.Render(c, http.StatusOK, out)
}

// getEvent godoc
//
//	@Summary		Get an event
//	@Description	As Waldur's retrieve, the event is looked up among those the list would show with the same filters: staff and support find any event; other users only with `scope` (a customer, project or user they can see) that the event is fed to, else 404.
//	@Tags			events
//	@Produce		json
//	@Security		TokenAuth
//	@Param			id	path		string	true	"Event UUID"
//	@Param			scope	query		string	false	"URL of a scope the event is fed to (required for users other than staff and support)"
//	@Success		200	{object}	Event
//	@Failure		401	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/events/{id}/ [get]
func (m *Module) getEvent(c *gin.Context) error {
	id, err := models.ParseUUID(c.Param("id"))
	if err != nil {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	f, err := m.eventFilter(c)
	if err != nil {
		return err
	}
	r, err := m.st.ListedEvent(c.Request.Context(), f, id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderEvent(r))
}

// eventFilter parses the filters of the events list and count (the
// store takes the viewer from the request's context).
func (m *Module) eventFilter(c *gin.Context) (store.EventFilter, error) {
	f := store.EventFilter{
		Types:   rest.Values(c, "event_type"),
		Groups:  rest.Values(c, "feature"),
		Message: last(c, "message"),
	}
	var err error
	if f.CreatedFrom, err = timestamp(c, "created_from"); err != nil {
		return f, err
	}
	if f.CreatedTo, err = timestamp(c, "created_to"); err != nil {
		return f, err
	}
	for _, u := range []struct {
		key string
		dst **models.UUID
	}{{"customer_uuid", &f.CustomerUUID}, {"project_uuid", &f.ProjectUUID}, {"user_uuid", &f.UserUUID}} {
		ids, err := rest.UUIDs(c, u.key)
		if err != nil {
			return f, err
		}
		if len(ids) > 0 {
			*u.dst = &ids[len(ids)-1]
		}
	}
	ctx := c.Request.Context()
	if v := last(c, "scope"); v != "" {
		t, id, err := parseScope(v)
		if err != nil {
			return f, err
		}
		sc, err := m.st.EventScopeByUUID(ctx, t, id)
		switch {
		case models.IsCode(err, models.CodeNotFound):
			// An object that does not exist is treated like one the user
			// cannot see: an empty list, so the filter reveals nothing.
			f.Scope = &models.Scope{Type: t, ID: 0}
		case err != nil:
			return f, err
		default:
			f.Scope = &sc
		}
	}
	return f, nil
}

// last is the last non-empty value of a query key ("" when none).
func last(c *gin.Context, key string) string {
	vs := rest.Values(c, key)
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// timestamp parses a date filter: a Unix timestamp (Waldur's
// TimestampFilter, fractions allowed) or an RFC 3339 date-time.
func timestamp(c *gin.Context, key string) (*time.Time, error) {
	v := last(c, key)
	if v == "" {
		return nil, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1e11 {
		sec, frac := math.Modf(f)
		t := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
		return &t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, models.FieldError(key, "Enter a valid Unix timestamp or RFC 3339 date/time.")
}

// parseScope reads a scope URL (/api/<collection>/<uuid>/, scheme and host
// ignored) of a customer, project or user.
func parseScope(v string) (models.ScopeType, models.UUID, error) {
	bad := models.FieldError("scope", rest.MsgNoMatch)
	u, err := url.Parse(v)
	if err != nil || !strings.HasPrefix(u.Path, "/api/") {
		return "", models.NilUUID, bad
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(u.Path, "/api/"), "/"), "/")
	if len(parts) != 2 {
		return "", models.NilUUID, bad
	}
	t, ok := scopeCollections[parts[0]]
	if !ok {
		return "", models.NilUUID, bad
	}
	id, err := models.ParseUUID(parts[1])
	if err != nil {
		return "", models.NilUUID, models.FieldError("scope", rest.MsgDoesNotExist)
	}
	return t, id, nil
}
