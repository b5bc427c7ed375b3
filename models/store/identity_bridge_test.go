package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func bridgeProfile(t *testing.T, st *store.Store, username string) *store.UserProfile {
	t.Helper()
	var p store.UserProfile
	require.NoError(t, st.DB.Where("username = ?", username).Take(&p).Error)
	return &p
}

// TestBridgePush: a push creates the user with the source's attributes,
// then updates it with Waldur's preserve-other-sources rule; a
// deactivated user is refused.
func TestBridgePush(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		var created, updated []string
		ev := func(p *store.UserProfile, c bool, u []string) []*models.Event {
			if c {
				created = append(created, p.Username)
			} else {
				updated = append(updated, p.Username)
			}
			return nil
		}
		gender := 2
		birth := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
		res, err := st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "alice@myaccessid.org", Source: "isd:eosc", Attributes: map[string]any{
			"first_name": "Alice", "email": "alice@uni.eu", "organization": "University", "last_name": "",
			"affiliations": []string{"member@uni.eu"}, "gender": &gender, "birth_date": &birth, "civil_number": "",
		}}, ev)
		require.NoError(t, err)
		require.True(t, res.Created)
		require.Equal(t, []string{"affiliations", "birth_date", "civil_number", "email", "first_name", "gender", "last_name", "organization"}, res.UpdatedFields)
		p := bridgeProfile(t, st, "alice@myaccessid.org")
		require.Equal(t, res.User.UUID, p.UUID)
		require.Equal(t, "Alice", p.FirstName)
		require.Equal(t, "alice@uni.eu", p.Email)
		require.Equal(t, []string{"member@uni.eu"}, p.Affiliations)
		require.Equal(t, 2, *p.Gender)
		require.Equal(t, "1990-05-17", p.BirthDate.Format(time.DateOnly))
		require.Nil(t, p.CivilNumber, "an empty civil number is none (the column is unique)")
		require.Equal(t, "isd:eosc", p.RegistrationMethod)
		require.Equal(t, []string{"isd:eosc"}, p.ActiveISDs)
		require.True(t, p.IsActive)
		require.False(t, p.NotificationsEnabled)
		require.Empty(t, p.Password)
		require.NotEmpty(t, p.Slug)
		stamp := clk.t.Format(time.RFC3339Nano)
		require.Equal(t, map[string]models.AttributeSource{
			"first_name": {Source: "isd:eosc", Timestamp: stamp}, "email": {Source: "isd:eosc", Timestamp: stamp},
			"organization": {Source: "isd:eosc", Timestamp: stamp}, "affiliations": {Source: "isd:eosc", Timestamp: stamp},
			"gender": {Source: "isd:eosc", Timestamp: stamp}, "birth_date": {Source: "isd:eosc", Timestamp: stamp},
		}, p.AttributeSources, "only non-empty values are recorded on creation")

		// Another ISD: a new email takes it over, its empty organization
		// leaves EOSC's alone.
		clk.t = clk.t.Add(time.Hour)
		res, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "alice@myaccessid.org", Source: "isd:puhuri", Attributes: map[string]any{
			"email": "alice@cern.ch", "organization": "",
		}}, ev)
		require.NoError(t, err)
		require.False(t, res.Created)
		require.Equal(t, []string{"active_isds", "email"}, res.UpdatedFields)
		p = bridgeProfile(t, st, "alice@myaccessid.org")
		require.Equal(t, "alice@cern.ch", p.Email)
		require.Equal(t, "University", p.Organization)
		require.Equal(t, "isd:puhuri", p.AttributeSources["email"].Source)
		require.Equal(t, "isd:eosc", p.AttributeSources["organization"].Source)
		require.Equal(t, []string{"isd:eosc", "isd:puhuri"}, p.ActiveISDs)

		// The owner clears its own value; the same value again changes
		// nothing but renews the timestamp.
		clk.t = clk.t.Add(time.Hour)
		res, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "alice@myaccessid.org", Source: "isd:eosc", Attributes: map[string]any{
			"organization": "", "first_name": "Alice",
		}}, ev)
		require.NoError(t, err)
		require.Equal(t, []string{"organization"}, res.UpdatedFields)
		p = bridgeProfile(t, st, "alice@myaccessid.org")
		require.Equal(t, "", p.Organization)
		require.Equal(t, clk.t.Format(time.RFC3339Nano), p.AttributeSources["first_name"].Timestamp)
		require.Equal(t, []string{"alice@myaccessid.org"}, created)
		require.Equal(t, []string{"alice@myaccessid.org", "alice@myaccessid.org"}, updated)

		// An existing user who never came from an ISD is taken over.
		idtUser(t, st, "bob", func(p *store.UserProfile) { p.FirstName = "Old" })
		res, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "bob", Source: "isd:puhuri", Attributes: map[string]any{"first_name": "New"}}, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"active_isds", "first_name"}, res.UpdatedFields)

		// A deactivated user is refused and left alone.
		idtUser(t, st, "carol", func(p *store.UserProfile) { p.IsActive = false })
		_, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "carol", Source: "isd:puhuri", Attributes: map[string]any{"first_name": "C"}}, nil)
		require.True(t, errors.Is(err, store.ErrBridgeUserDeactivated), "%v", err)
		require.True(t, models.IsCode(err, models.CodeInvalid))
		require.Empty(t, bridgeProfile(t, st, "carol").ActiveISDs)

		// A civil number another user has is a field error, and nothing changes.
		_, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "dave", Source: "isd:puhuri", Attributes: map[string]any{"civil_number": "EE123"}}, nil)
		require.NoError(t, err)
		_, err = st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: "erin", Source: "isd:puhuri", Attributes: map[string]any{"civil_number": "EE123"}}, nil)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
		var n int64
		require.NoError(t, db.Table("users").Where("username = ?", "erin").Count(&n).Error)
		require.Zero(t, n)
	})
}

// TestBridgeRemove: removal clears the source's attributes and drops it
// from active_isds; the policy says when the user is deactivated.
func TestBridgeRemove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, _ := idtStore(db)
		push := func(user, source string, attrs map[string]any) {
			_, err := st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: user, Source: source, Attributes: attrs}, nil)
			require.NoError(t, err)
		}
		for _, u := range []string{"u1", "u2"} {
			push(u, "isd:fenix", map[string]any{"first_name": "F", "affiliations": []string{"a@x"}})
			push(u, "isd:puhuri", map[string]any{"email": u + "@cern.ch"})
		}

		// all_isds_removed: the first removal keeps the user active.
		var events []string
		ev := func(p *store.UserProfile, wasActive, deactivated bool) []*models.Event {
			events = append(events, p.Username)
			return nil
		}
		p, deactivated, err := st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "u1", Source: "isd:fenix", Policy: models.DeactivateOnAllISDsRemoved, ByStaff: true}, ev)
		require.NoError(t, err)
		require.False(t, deactivated)
		require.True(t, p.IsActive)
		got := bridgeProfile(t, st, "u1")
		require.Equal(t, []string{"isd:puhuri"}, got.ActiveISDs)
		require.Equal(t, "", got.FirstName)
		require.Equal(t, []string{}, got.Affiliations)
		require.Equal(t, "u1@cern.ch", got.Email)
		require.Equal(t, []string{"email"}, keys(got.AttributeSources))
		require.True(t, got.IsActive)

		_, deactivated, err = st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "u1", Source: "isd:puhuri", Policy: models.DeactivateOnAllISDsRemoved, ByStaff: true}, ev)
		require.NoError(t, err)
		require.True(t, deactivated)
		got = bridgeProfile(t, st, "u1")
		require.False(t, got.IsActive)
		require.Empty(t, got.ActiveISDs)
		require.Empty(t, got.AttributeSources)
		require.Equal(t, "", got.Email)

		// any_isd_removed: the first removal deactivates.
		_, deactivated, err = st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "u2", Source: "isd:fenix", Policy: models.DeactivateOnAnyISDRemoved, ByStaff: true}, ev)
		require.NoError(t, err)
		require.True(t, deactivated)
		got = bridgeProfile(t, st, "u2")
		require.False(t, got.IsActive)
		require.Equal(t, []string{"isd:puhuri"}, got.ActiveISDs)
		require.Equal(t, []string{"u1", "u1", "u2"}, events)

		_, _, err = st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "nobody", Source: "isd:fenix", Policy: models.DeactivateOnAnyISDRemoved, ByStaff: true}, nil)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		require.Equal(t, "User nobody not found.", err.(*models.Error).Message)
	})
}

func keys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBridgePushParallel: parallel pushes of one new username create one
// user, every push succeeding.
func TestBridgePushParallel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st, _ := idtStore(db)
		// Open connections first, so the pushes overlap instead of
		// queueing behind connection setup.
		sqlDB, err := db.DB()
		require.NoError(t, err)
		var conns []*sql.Conn
		for i := 0; i < 8; i++ {
			c, err := sqlDB.Conn(context.Background())
			require.NoError(t, err)
			conns = append(conns, c)
		}
		for _, c := range conns {
			require.NoError(t, c.Close())
		}
		const n = 12
		errs := make(chan error, n)
		createdN := make(chan bool, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := st.PushBridgeUser(context.Background(), store.BridgePush{ByStaff: true, Username: "racer@myaccessid.org", Source: "isd:puhuri",
					Attributes: map[string]any{"first_name": "Racer"}}, nil)
				errs <- err
				createdN <- err == nil && res.Created
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		close(createdN)
		for err := range errs {
			require.NoError(t, err)
		}
		creations := 0
		for c := range createdN {
			if c {
				creations++
			}
		}
		require.Equal(t, 1, creations)
		var count int64
		require.NoError(t, db.Table("users").Where("username = ?", "racer@myaccessid.org").Count(&count).Error)
		require.Equal(t, int64(1), count)
	})
}

// TestBridgeStats: federated users per ISD with their staleness, and the
// identity managers.
func TestBridgeStats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, clk := idtStore(db)
		push := func(user, source, attr string) {
			_, err := st.PushBridgeUser(ctx, store.BridgePush{ByStaff: true, Username: user, Source: source, Attributes: map[string]any{attr: "X"}}, nil)
			require.NoError(t, err)
		}
		old := clk.t
		push("a", "isd:puhuri", "first_name")
		clk.t = clk.t.Add(10 * 24 * time.Hour)
		push("b", "isd:puhuri", "first_name")
		push("b", "isd:fenix", "last_name")
		push("a", "isd:fenix", "last_name")
		_, _, err := st.RemoveBridgeUser(ctx, store.BridgeRemove{Username: "a", Source: "isd:fenix", Policy: models.DeactivateOnAnyISDRemoved, ByStaff: true}, nil)
		require.NoError(t, err)
		idtUser(t, st, "plain", nil)
		idtUser(t, st, "manager", func(p *store.UserProfile) {
			p.IsIdentityManager, p.FirstName, p.ManagedISDs = true, "Mia", []string{"isd:puhuri"}
		})
		idtUser(t, st, "bare-manager", func(p *store.UserProfile) { p.IsIdentityManager = true })

		s, err := st.IdentityBridgeStats(ctx, clk.t, models.BridgeStaleDays)
		require.NoError(t, err)
		require.Equal(t, 2, s.Federated)
		require.Equal(t, 1, s.ActiveFederated)
		require.Len(t, s.PerISD, 2)
		require.Equal(t, "isd:puhuri", s.PerISD[0].ISD)
		require.Equal(t, 2, s.PerISD[0].Users)
		// a's attribute from isd:puhuri is 10 days old: stale.
		require.Equal(t, 1, s.PerISD[0].Stale)
		require.True(t, old.Equal(*s.PerISD[0].OldestSync), "%v", s.PerISD[0].OldestSync)
		require.Equal(t, "isd:fenix", s.PerISD[1].ISD)
		require.Equal(t, 1, s.PerISD[1].Users)
		require.Equal(t, 0, s.PerISD[1].Stale)
		require.Len(t, s.Managers, 2)
		require.Equal(t, "bare-manager", s.Managers[0].FullName)
		require.Equal(t, []string{}, s.Managers[0].ManagedISDs)
		require.Equal(t, "Mia", s.Managers[1].FullName)
		require.Equal(t, []string{"isd:puhuri"}, s.Managers[1].ManagedISDs)
	})
}
