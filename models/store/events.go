package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/waldur-go/waldur/models"
)

type eventRow struct {
	ID              int64 `gorm:"primaryKey"`
	UUID            models.UUID
	Created         time.Time
	EventType       string
	Message         string
	Context         []byte
	HooksDispatched bool
}

func (eventRow) TableName() string { return "events" }

type eventFeedRow struct {
	EventID   int64
	ScopeType models.ScopeType
	ScopeID   int64
}

func (eventFeedRow) TableName() string { return "event_feeds" }

// emitAll emits events in order.
func (s *Store) emitAll(ctx context.Context, evs []*models.Event) error {
	for _, ev := range evs {
		if err := s.EmitEvent(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// EmitEvent stores an event once, with one feed row per scope, in the
// store's transaction (call it inside Tx with the change it records). The
// actor of ctx (user, impersonator, IP) is added to the context.
func (s *Store) EmitEvent(ctx context.Context, ev *models.Event) error {
	if ev.UUID.IsZero() {
		ev.UUID = models.NewUUID()
	}
	if ev.Created.IsZero() {
		ev.Created = s.Now()
	}
	c := map[string]any{}
	for k, v := range ev.Context {
		c[k] = v
	}
	a := models.ActorFrom(ctx)
	if a.User != nil {
		c["user_uuid"] = a.User.UUID.String()
		c["user_username"] = a.User.Username
		c["user_full_name"] = fullName(a.User)
	}
	if a.Impersonator != nil {
		c["impersonator_uuid"] = a.Impersonator.UUID.String()
		c["impersonator_username"] = a.Impersonator.Username
		c["impersonator_full_name"] = fullName(a.Impersonator)
	}
	if a.IP != "" {
		c["ip_address"] = a.IP
	}
	if g := models.EventGroupOf(ev.EventType); g != "" {
		c["event_group"] = g
	}
	ev.Context = c
	raw, err := json.Marshal(c)
	if err != nil {
		return models.Internal(err)
	}
	row := eventRow{UUID: ev.UUID, Created: ev.Created, EventType: ev.EventType, Message: ev.Message, Context: raw}
	db := s.DB.WithContext(ctx)
	if err := db.Create(&row).Error; err != nil {
		return translate(err, "Event")
	}
	ev.ID = row.ID
	seen := map[models.Scope]bool{}
	for _, sc := range ev.Scopes {
		if sc.ID == 0 || seen[sc] {
			continue
		}
		seen[sc] = true
		if err := db.Create(&eventFeedRow{EventID: row.ID, ScopeType: sc.Type, ScopeID: sc.ID}).Error; err != nil {
			return translate(err, "Event")
		}
	}
	return nil
}

func fullName(u *models.User) string {
	switch {
	case u.FirstName != "" && u.LastName != "":
		return u.FirstName + " " + u.LastName
	case u.FirstName != "":
		return u.FirstName
	default:
		return u.LastName
	}
}
