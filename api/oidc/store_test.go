package oidc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestStore: providers are unique by slug; a request is taken once, by its
// provider only, and not after it expired; Prune drops the expired ones.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		st := store.New(db)
		now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		st.Now = func() time.Time { return now }
		s := NewStore(st)
		ctx := context.Background()

		kc := &IdentityProvider{Provider: "keycloak", Label: "Keycloak", ClientID: "c", ClientSecret: "s", DiscoveryURL: "https://kc.example.org",
			IsActive: true, AttributeMapping: map[string]string{"email": "mail"}}
		require.NoError(t, s.CreateProvider(ctx, kc))
		require.NoError(t, s.CreateProvider(ctx, &IdentityProvider{Provider: "eduteams", Label: "eduTEAMS", ClientID: "c", ClientSecret: "s", DiscoveryURL: "https://e.example.org"}))
		err := s.CreateProvider(ctx, &IdentityProvider{Provider: "keycloak", Label: "again"})
		require.True(t, models.IsCode(err, models.CodeInvalid), err)
		got, err := s.Provider(ctx, "keycloak")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"email": "mail"}, got.AttributeMapping)
		require.Equal(t, []string{}, got.AllowedRedirects)
		got.Provider = "eduteams"
		require.True(t, models.IsCode(s.SaveProvider(ctx, got), models.CodeInvalid))
		got.Provider, got.Label = "keycloak", "University"
		require.NoError(t, s.SaveProvider(ctx, got))
		got, err = s.Provider(ctx, "keycloak")
		require.NoError(t, err)
		require.Equal(t, "University", got.Label)
		var n int64
		n, err = s.Providers(ctx, true).Count(&IdentityProvider{})
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		n, err = s.Providers(ctx, false).Count(&IdentityProvider{})
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "eduteams was created inactive (zero value)")

		require.NoError(t, s.AddRequest(ctx, authRequest{State: "s1", Provider: "keycloak", Nonce: "n1", Verifier: "v1", Expires: now.Add(10 * time.Minute)}))
		require.NoError(t, s.AddRequest(ctx, authRequest{State: "s2", Provider: "keycloak", Nonce: "n2", Expires: now.Add(10 * time.Minute)}))
		_, err = s.TakeRequest(ctx, "eduteams", "s1")
		require.True(t, errors.Is(err, errState), "another provider's state")
		r, err := s.TakeRequest(ctx, "keycloak", "s1")
		require.NoError(t, err)
		require.Equal(t, "n1", r.Nonce)
		require.Equal(t, "v1", r.Verifier)
		_, err = s.TakeRequest(ctx, "keycloak", "s1")
		require.True(t, errors.Is(err, errState), "taken once")
		now = now.Add(11 * time.Minute)
		_, err = s.TakeRequest(ctx, "keycloak", "s2")
		require.True(t, errors.Is(err, errState), "expired")

		require.NoError(t, s.AddRequest(ctx, authRequest{State: "s3", Provider: "keycloak", Nonce: "n3", Expires: now.Add(-time.Second)}))
		require.NoError(t, s.AddRequest(ctx, authRequest{State: "s4", Provider: "keycloak", Nonce: "n4", Expires: now.Add(time.Minute)}))
		require.NoError(t, s.Prune(ctx))
		require.NoError(t, db.Model(&authRequest{}).Count(&n).Error)
		require.EqualValues(t, 1, n)

		require.NoError(t, s.DeleteProvider(ctx, "keycloak"))
		require.True(t, models.IsCode(s.DeleteProvider(ctx, "keycloak"), models.CodeNotFound))
		require.NoError(t, db.Model(&authRequest{}).Count(&n).Error)
		require.Zero(t, n, "its pending requests go with it")
	})
}

// TestCleanupWorkflow: the Schedule's workflow deletes expired requests
// and sessions through its activity, keeping the live ones.
func TestCleanupWorkflow(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	ctx := context.Background()
	s := NewStore(st)
	now := st.Now()
	require.NoError(t, s.AddRequest(ctx, authRequest{State: "old", Provider: "keycloak", Nonce: "n", Expires: now.Add(-time.Minute)}))
	require.NoError(t, s.AddRequest(ctx, authRequest{State: "live", Provider: "keycloak", Nonce: "n", Expires: now.Add(time.Hour)}))
	u := &models.User{Username: "dora", IsActive: true}
	require.NoError(t, st.CreateUser(ctx, u, ""))
	_, err := st.CreateSession(ctx, u.ID, "password", -time.Minute)
	require.NoError(t, err)
	live, err := st.CreateSession(ctx, u.ID, "password", time.Hour)
	require.NoError(t, err)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	RegisterCleanup(env, &Cleaner{Store: s})
	env.ExecuteWorkflow(CleanupAuth)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var states []string
	require.NoError(t, db.Model(&authRequest{}).Pluck("state", &states).Error)
	require.Equal(t, []string{"live"}, states)
	var n int64
	require.NoError(t, db.Table("sessions").Count(&n).Error)
	require.EqualValues(t, 1, n)
	_, _, err = st.UserBySession(ctx, live.Key)
	require.NoError(t, err)
}
