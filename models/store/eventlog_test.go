package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// eventWorld is two customers with a project each, an owner of the first
// customer, a member of the second project, an outsider, staff and support,
// and one event fed to each of those scopes.
type eventWorld struct {
	st                                    *store.Store
	owner, member, outsider, staff, supp  *models.User
	c1, c2, p1, p2                        models.Scope
	evC1, evP1, evP2, evOwner, evUnscoped *models.Event
	c1UUID, p2UUID                        models.UUID
	removed                               models.Scope
	evRemoved                             *models.Event
	now                                   time.Time
	ctx                                   context.Context
	db                                    *gorm.DB
}

func insertRow(t *testing.T, db *gorm.DB, table string, cols map[string]any) int64 {
	t.Helper()
	require.NoError(t, db.Table(table).Create(cols).Error)
	var id int64
	require.NoError(t, db.Table(table).Where("uuid = ?", cols["uuid"]).Pluck("id", &id).Error)
	return id
}

func newEventWorld(t *testing.T, db *gorm.DB) *eventWorld {
	ctx := context.Background()
	w := &eventWorld{st: store.New(db), ctx: ctx, db: db, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	w.st.Now = func() time.Time { return w.now }
	mk := func(name string, staff, support bool) *models.User {
		u := &models.User{Username: name, IsStaff: staff, IsSupport: support, IsActive: true, Email: name + "@example.com"}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		return u
	}
	w.owner, w.member, w.outsider = mk("owner", false, false), mk("member", false, false), mk("outsider", false, false)
	w.staff, w.supp = mk("staff", true, false), mk("support", false, true)

	customer := func(name string) (models.Scope, models.UUID) {
		u := models.NewUUID()
		id := insertRow(t, db, "customers", map[string]any{"uuid": u, "name": name, "accounting_start_date": w.now, "created": w.now, "modified": w.now})
		return models.Scope{Type: models.ScopeCustomer, ID: id}, u
	}
	project := func(c models.Scope, name string, removed bool) (models.Scope, models.UUID) {
		u := models.NewUUID()
		id := insertRow(t, db, "projects", map[string]any{"uuid": u, "customer_id": c.ID, "name": name, "is_removed": removed, "created": w.now, "modified": w.now})
		return models.Scope{Type: models.ScopeProject, ID: id}, u
	}
	w.c1, w.c1UUID = customer("Alpha")
	w.c2, _ = customer("Beta")
	w.p1, _ = project(w.c1, "alpha-1", false)
	w.p2, w.p2UUID = project(w.c2, "beta-1", false)
	w.removed, _ = project(w.c2, "beta-gone", true)

	grant := func(u *models.User, role string, sc models.Scope) {
		r, err := w.st.RoleByName(ctx, role)
		require.NoError(t, err)
		insertRow(t, db, "user_roles", map[string]any{"uuid": models.NewUUID(), "user_id": u.ID, "role_id": r.ID,
			"scope_type": sc.Type, "scope_id": sc.ID, "created": w.now, "modified": w.now, "is_active": true})
	}
	grant(w.owner, models.RoleCustomerOwner, w.c1)
	grant(w.member, models.RoleProjectMember, w.p2)
	// An expired grant gives nothing.
	r, err := w.st.RoleByName(ctx, models.RoleCustomerOwner)
	require.NoError(t, err)
	insertRow(t, db, "user_roles", map[string]any{"uuid": models.NewUUID(), "user_id": w.outsider.ID, "role_id": r.ID,
		"scope_type": models.ScopeCustomer, "scope_id": w.c2.ID, "created": w.now, "modified": w.now, "is_active": true,
		"expiration_time": w.now.Add(-time.Hour)})

	emit := func(typ, msg string, at time.Time, ctxKeys map[string]any, scopes ...models.Scope) *models.Event {
		ev := &models.Event{EventType: typ, Message: msg, Created: at, Context: ctxKeys, Scopes: scopes}
		require.NoError(t, w.st.Tx(ctx, func(tx *store.Store) error { return tx.EmitEvent(ctx, ev) }))
		return ev
	}
	w.evC1 = emit("customer_update_succeeded", "Customer Alpha has been updated.", w.now.Add(-4*time.Hour),
		map[string]any{"customer_uuid": w.c1UUID.String()}, w.c1)
	w.evP1 = emit("project_update_succeeded", "Project alpha-1 has been updated.", w.now.Add(-3*time.Hour), nil, w.p1, w.c1)
	w.evP2 = emit("project_creation_succeeded", "Project beta-1 has been created.", w.now.Add(-2*time.Hour),
		map[string]any{"project_uuid": w.p2UUID.String()}, w.p2, w.c2)
	w.evOwner = emit("user_update_succeeded", "User owner 100% updated_x.", w.now.Add(-time.Hour), nil, models.Scope{Type: models.ScopeUser, ID: w.owner.ID})
	w.evUnscoped = emit("auth_login_failed_with_username", "Login failed.", w.now, nil)
	w.evRemoved = emit("project_deletion_succeeded", "Project beta-gone has been deleted.", w.now, nil, w.removed)
	return w
}

func (w *eventWorld) list(t *testing.T, f store.EventFilter) []models.UUID {
	t.Helper()
	q, err := w.st.EventsQuery(w.ctx, f)
	require.NoError(t, err)
	var rows []store.EventRecord
	require.NoError(t, q.Order("events.id").Find(&rows).Error)
	out := []models.UUID{}
	for _, r := range rows {
		out = append(out, r.UUID)
	}
	return out
}

func uuids(evs ...*models.Event) []models.UUID {
	out := []models.UUID{}
	for _, e := range evs {
		out = append(out, e.UUID)
	}
	return out
}

func TestEventsQueryVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		sc := func(s models.Scope) *models.Scope { return &s }
		userScope := func(u *models.User) *models.Scope { return &models.Scope{Type: models.ScopeUser, ID: u.ID} }
		all := uuids(w.evC1, w.evP1, w.evP2, w.evOwner, w.evUnscoped, w.evRemoved)
		cases := []struct {
			name   string
			viewer *models.User
			scope  *models.Scope
			want   []models.UUID
		}{
			{"anonymous", nil, nil, uuids()},
			{"anonymous with scope", nil, sc(w.c1), uuids()},
			{"plain user without scope", w.owner, nil, uuids()},
			{"owner, own customer", w.owner, sc(w.c1), uuids(w.evC1, w.evP1)},
			{"owner, project of own customer", w.owner, sc(w.p1), uuids(w.evP1)},
			{"owner, other customer", w.owner, sc(w.c2), uuids()},
			{"owner, other project", w.owner, sc(w.p2), uuids()},
			{"owner, self", w.owner, userScope(w.owner), uuids(w.evOwner)},
			{"member, own project", w.member, sc(w.p2), uuids(w.evP2)},
			{"member, customer of own project", w.member, sc(w.c2), uuids(w.evP2)},
			{"member, someone else", w.member, userScope(w.owner), uuids()},
			{"member, removed project", w.member, sc(w.removed), uuids()},
			{"expired role gives nothing", w.outsider, sc(w.c2), uuids()},
			{"staff, everything", w.staff, nil, all},
			{"support, everything", w.supp, nil, all},
			{"staff, scope", w.staff, sc(w.c2), uuids(w.evP2)},
			{"support, a user", w.supp, userScope(w.owner), uuids(w.evOwner)},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				require.Equal(t, c.want, w.list(t, store.EventFilter{Viewer: c.viewer, Scope: c.scope}))
			})
		}
	})
}

func TestEventsQueryFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		tp := func(d time.Duration) *time.Time { x := w.now.Add(d); return &x }
		c1, p2 := w.c1UUID, w.p2UUID
		cases := []struct {
			name string
			f    store.EventFilter
			want []models.UUID
		}{
			{"types", store.EventFilter{Types: []string{"project_update_succeeded", "customer_update_succeeded"}}, uuids(w.evC1, w.evP1)},
			{"group", store.EventFilter{Groups: []string{"projects"}}, uuids(w.evP1, w.evP2, w.evRemoved)},
			{"groups and types together", store.EventFilter{Groups: []string{"projects"}, Types: []string{"project_update_succeeded"}}, uuids(w.evP1)},
			{"unknown group", store.EventFilter{Groups: []string{"nope"}}, uuids()},
			{"created from is inclusive", store.EventFilter{CreatedFrom: tp(-2 * time.Hour)}, uuids(w.evP2, w.evOwner, w.evUnscoped, w.evRemoved)},
			{"created to is exclusive", store.EventFilter{CreatedTo: tp(-3 * time.Hour)}, uuids(w.evC1)},
			{"message, case-insensitive", store.EventFilter{Message: "ALPHA"}, uuids(w.evC1, w.evP1)},
			{"message, LIKE characters are literal", store.EventFilter{Message: "100%"}, uuids(w.evOwner)},
			{"message, underscore is literal", store.EventFilter{Message: "d_x"}, uuids(w.evOwner)},
			{"message, % alone matches only a %", store.EventFilter{Message: "%"}, uuids(w.evOwner)},
			{"context customer_uuid", store.EventFilter{CustomerUUID: &c1}, uuids(w.evC1)},
			{"context project_uuid", store.EventFilter{ProjectUUID: &p2}, uuids(w.evP2)},
			{"context user_uuid (the actor)", store.EventFilter{UserUUID: &w.owner.UUID}, uuids()},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.f.Viewer = w.staff
				require.Equal(t, c.want, w.list(t, c.f))
			})
		}
	})
}

func TestEventByUUIDAndVisibleTo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		cases := []struct {
			viewer *models.User
			ev     *models.Event
			ok     bool
		}{
			{w.owner, w.evC1, true}, {w.owner, w.evP1, true}, {w.owner, w.evP2, false}, {w.owner, w.evOwner, true},
			{w.owner, w.evUnscoped, false}, {w.member, w.evP2, true}, {w.member, w.evC1, false}, {w.member, w.evRemoved, false},
			{w.outsider, w.evP2, false}, {w.staff, w.evUnscoped, true}, {w.supp, w.evRemoved, true}, {nil, w.evC1, false},
		}
		for _, c := range cases {
			name := "anonymous"
			if c.viewer != nil {
				name = c.viewer.Username
			}
			t.Run(name+"/"+c.ev.EventType, func(t *testing.T) {
				r, err := w.st.EventByUUID(w.ctx, c.viewer, c.ev.UUID)
				if c.ok {
					require.NoError(t, err)
					require.Equal(t, c.ev.Message, r.Message)
				} else {
					require.True(t, models.IsCode(err, models.CodeNotFound), err)
				}
				ok, err := w.st.EventVisibleTo(w.ctx, c.ev.ID, c.viewer)
				require.NoError(t, err)
				require.Equal(t, c.ok, ok)
			})
		}
		r, err := w.st.EventByUUID(w.ctx, w.staff, w.evC1.UUID)
		require.NoError(t, err)
		require.Equal(t, w.c1UUID.String(), r.ContextMap()["customer_uuid"])
		require.Equal(t, "customers", r.ContextMap()["event_group"])
	})
}

func TestEventScopeByUUID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		sc, err := w.st.EventScopeByUUID(w.ctx, models.ScopeCustomer, w.c1UUID)
		require.NoError(t, err)
		require.Equal(t, w.c1, sc)
		sc, err = w.st.EventScopeByUUID(w.ctx, models.ScopeUser, w.member.UUID)
		require.NoError(t, err)
		require.Equal(t, models.Scope{Type: models.ScopeUser, ID: w.member.ID}, sc)
		_, err = w.st.EventScopeByUUID(w.ctx, models.ScopeProject, models.NewUUID())
		require.True(t, models.IsCode(err, models.CodeNotFound))
		_, err = w.st.EventScopeByUUID(w.ctx, "offering", models.NewUUID())
		require.True(t, models.IsCode(err, models.CodeInvalid))
	})
}

func TestPendingEventsAndMarkDispatched(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		pending, err := w.st.PendingEvents(w.ctx, 2)
		require.NoError(t, err)
		require.Len(t, pending, 2)
		require.Equal(t, w.evC1.UUID, pending[0].UUID)
		require.Equal(t, w.evP1.UUID, pending[1].UUID)
		require.NoError(t, w.st.MarkEventsDispatched(w.ctx, w.evC1.ID, w.evP1.ID))
		require.NoError(t, w.st.MarkEventsDispatched(w.ctx, w.evC1.ID), "marking twice is harmless")
		require.NoError(t, w.st.MarkEventsDispatched(w.ctx))
		pending, err = w.st.PendingEvents(w.ctx, 100)
		require.NoError(t, err)
		require.Equal(t, uuids(w.evP2, w.evOwner, w.evUnscoped, w.evRemoved), func() []models.UUID {
			out := []models.UUID{}
			for _, p := range pending {
				out = append(out, p.UUID)
			}
			return out
		}())
		r, err := w.st.EventByID(w.ctx, w.evC1.ID)
		require.NoError(t, err)
		require.True(t, r.HooksDispatched)
	})
}

func TestHooksStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newEventWorld(t, db)
		web := &store.Hook{UserID: w.owner.ID, HookType: store.HookTypeWeb, IsActive: true, DestinationURL: "https://example.com/h",
			ContentType: store.HookContentJSON, EventTypes: []string{"customer_update_succeeded"}}
		require.NoError(t, w.st.CreateHook(w.ctx, web))
		email := &store.Hook{UserID: w.member.ID, HookType: store.HookTypeEmail, IsActive: true, Email: "m@example.com",
			EventGroups: []string{"projects"}}
		require.NoError(t, w.st.CreateHook(w.ctx, email))
		inactive := &store.Hook{UserID: w.member.ID, HookType: store.HookTypeEmail, IsActive: false, Email: "x@example.com"}
		require.NoError(t, w.st.CreateHook(w.ctx, inactive))

		got, err := w.st.HookByUUID(w.ctx, w.owner, store.HookTypeWeb, web.UUID)
		require.NoError(t, err)
		require.Equal(t, []string{"customer_update_succeeded"}, got.EventTypes)
		require.Equal(t, []string{}, got.EventGroups, "nil lists are stored as []")
		require.Nil(t, got.LastPublished)
		_, err = w.st.HookByUUID(w.ctx, w.member, "", web.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound), "others' hooks are hidden")
		_, err = w.st.HookByUUID(w.ctx, w.supp, store.HookTypeWeb, web.UUID)
		require.NoError(t, err, "support sees every hook")
		_, err = w.st.HookByUUID(w.ctx, w.staff, store.HookTypeEmail, web.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound), "the type is part of the lookup")

		require.True(t, web.Matches("customer_update_succeeded"))
		require.False(t, web.Matches("customer_creation_succeeded"))
		require.True(t, email.Matches("project_deletion_triggered"), "by group")
		require.False(t, email.Matches("unknown_type"))

		active, err := w.st.ActiveHooks(w.ctx)
		require.NoError(t, err)
		require.Len(t, active, 2)
		require.NoError(t, db.Exec(`UPDATE users SET is_active = ? WHERE id = ?`, false, w.member.ID).Error)
		active, err = w.st.ActiveHooks(w.ctx)
		require.NoError(t, err)
		require.Len(t, active, 1, "hooks of inactive users are not active")

		count := func(f store.HookFilter) int64 {
			var n int64
			require.NoError(t, w.st.HooksQuery(w.ctx, f).Count(&n).Error)
			return n
		}
		yes := true
		require.EqualValues(t, 3, count(store.HookFilter{Viewer: w.staff}))
		require.EqualValues(t, 1, count(store.HookFilter{Viewer: w.owner}))
		require.EqualValues(t, 0, count(store.HookFilter{Viewer: nil}))
		require.EqualValues(t, 2, count(store.HookFilter{Viewer: w.staff, HookType: store.HookTypeEmail}))
		require.EqualValues(t, 2, count(store.HookFilter{Viewer: w.staff, IsActive: &yes}))
		require.EqualValues(t, 2, count(store.HookFilter{Viewer: w.staff, AuthorUUID: &w.member.UUID}))
		require.EqualValues(t, 1, count(store.HookFilter{Viewer: w.staff, AuthorUsername: "owner"}))
		require.EqualValues(t, 2, count(store.HookFilter{Viewer: w.staff, Query: "MEMB"}))
		require.EqualValues(t, 1, count(store.HookFilter{Viewer: w.staff, DestinationURL: "https://example.com/h"}))
		require.EqualValues(t, 1, count(store.HookFilter{Viewer: w.staff, Email: "m@example.com"}))

		web.EventGroups = []string{"customers"}
		web.IsActive = false
		require.NoError(t, w.st.UpdateHook(w.ctx, web))
		got, err = w.st.HookByID(w.ctx, web.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"customers"}, got.EventGroups)
		require.False(t, got.IsActive)

		require.NoError(t, w.st.SetHookPublished(w.ctx, web.ID, w.now))
		got, err = w.st.HookByID(w.ctx, web.ID)
		require.NoError(t, err)
		require.NotNil(t, got.LastPublished)
		require.True(t, w.now.Equal(*got.LastPublished))

		require.NoError(t, w.st.DeleteHook(w.ctx, web.ID))
		require.True(t, models.IsCode(w.st.DeleteHook(w.ctx, web.ID), models.CodeNotFound))
	})
}
