package store_test

import (
	"context"
	"fmt"
	"sort"
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

// agentWorld is a provider with one offering (plugin options as given) and users.
type agentWorld struct {
	st       *store.Store
	db       *gorm.DB
	offering *store.Offering
	users    []*models.User
}

func seedAgentWorld(t *testing.T, db *gorm.DB, pluginOptions string, users int) *agentWorld {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	w := &agentWorld{st: store.New(db), db: db}
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	provider := ins("customers", map[string]any{"name": "provider", "accounting_start_date": now, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	off := ins("offerings", map[string]any{"name": "Cluster", "customer_id": provider, "category_id": cat, "type": models.OfferingSlurm,
		"state": models.OfferingActive, "plugin_options": pluginOptions, "created": now, "modified": now})
	var o store.Offering
	require.NoError(t, db.Where("id = ?", off).Take(&o).Error)
	w.offering = &o
	for i := 0; i < users; i++ {
		u := &models.User{Username: fmt.Sprintf("user%d", i), FirstName: "Anna", LastName: "Lee", IsActive: true}
		require.NoError(t, w.st.CreateUser(ctx, u, ""))
		w.users = append(w.users, u)
	}
	return w
}

func strp(s string) *string { return &s }

func TestCreateOfferingUserUsernamePolicies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		tests := []struct {
			name      string
			options   string
			username  *string
			wantNames []string
			wantState models.OfferingUserState
		}{
			{"service provider: no name yet", `{}`, nil, []string{"", ""}, models.OfferingUserRequested},
			{"given name is OK at once", `{}`, strp("acct"), []string{"acct", "acct"}, models.OfferingUserOK},
			{"anonymized with prefix", `{"username_generation_policy":"anonymized","username_anonymized_prefix":"hpc_"}`, nil,
				[]string{"hpc_00000", "hpc_00001"}, models.OfferingUserOK},
			{"anonymized default prefix", `{"username_generation_policy":"anonymized"}`, nil,
				[]string{"walduruser_00000", "walduruser_00001"}, models.OfferingUserOK},
			{"full name numbered", `{"username_generation_policy":"full_name"}`, nil, []string{"anna_lee_00", "anna_lee_01"}, models.OfferingUserOK},
			{"waldur username", `{"username_generation_policy":"waldur_username"}`, nil, []string{"user0", "user1"}, models.OfferingUserOK},
			{"freeipa without profiles", `{"username_generation_policy":"freeipa"}`, nil, []string{"", ""}, models.OfferingUserRequested},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Each case on its own offering; the users are shared.
				w := seedAgentWorld(t, dbtest.Migrated(t, kindOf(db)), tt.options, 2)
				ctx := context.Background()
				for i, u := range w.users {
					ou, err := w.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: w.offering, User: u, Username: tt.username})
					require.NoError(t, err)
					require.Equal(t, tt.wantNames[i], ou.Username)
					require.Equal(t, tt.wantState, ou.State)
				}
				_, err := w.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: w.offering, User: w.users[0]})
				require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
				var events int64
				require.NoError(t, w.db.Table("events").Where("event_type = ?", "marketplace_offering_user_created").Count(&events).Error)
				require.EqualValues(t, 2, events)
			})
		}
	})
}

func kindOf(db *gorm.DB) config.DatabaseKind {
	if db.Dialector.Name() == "postgres" {
		return config.Postgres
	}
	return config.SQLite
}

// TestConcurrentAnonymizedUsernames: 20 users join one anonymized
// offering at once; each gets its own number, 0 to 19.
func TestConcurrentAnonymizedUsernames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedAgentWorld(t, db, `{"username_generation_policy":"anonymized","username_anonymized_prefix":"a_"}`, 20)
		var wg sync.WaitGroup
		names := make([]string, len(w.users))
		for i, u := range w.users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ou, err := w.st.CreateOfferingUser(context.Background(), store.NewOfferingUser{Offering: w.offering, User: u})
				if err != nil {
					t.Error(err)
					return
				}
				names[i] = ou.Username
			}()
		}
		wg.Wait()
		sort.Strings(names)
		for i, n := range names {
			require.Equal(t, fmt.Sprintf("a_%05d", i), n)
		}
	})
}

func TestChangeOfferingUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedAgentWorld(t, db, `{}`, 3)
		ctx := context.Background()
		mk := func(u *models.User) *models.OfferingUser {
			ou, err := w.st.CreateOfferingUser(ctx, store.NewOfferingUser{Offering: w.offering, User: u})
			require.NoError(t, err)
			require.Equal(t, models.OfferingUserRequested, ou.State)
			return ou
		}
		a, b, c := mk(w.users[0]), mk(w.users[1]), mk(w.users[2])

		// The agent's path: begin creating, ask the user to link an account, then complete.
		ou, err := w.st.ChangeOfferingUser(ctx, a.UUID, store.OfferingUserChange{Action: models.OUBeginCreating})
		require.NoError(t, err)
		require.Equal(t, models.OfferingUserCreating, ou.State)
		ou, err = w.st.ChangeOfferingUser(ctx, a.UUID, store.OfferingUserChange{Action: models.OUSetPendingAccountLinking,
			Comment: strp("Link your account"), CommentURL: strp("https://idp.example.com/link")})
		require.NoError(t, err)
		require.Equal(t, models.OfferingUserPendingAccountLinking, ou.State)
		require.Equal(t, "Link your account", ou.ServiceProviderComment)
		require.Equal(t, "https://idp.example.com/link", ou.ServiceProviderCommentURL)
		_, err = w.st.ChangeOfferingUser(ctx, a.UUID, store.OfferingUserChange{Action: models.OUBeginCreating})
		require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
		ou, err = w.st.ChangeOfferingUser(ctx, a.UUID, store.OfferingUserChange{Action: models.OUSetValidationComplete})
		require.NoError(t, err)
		require.Equal(t, models.OfferingUserOK, ou.State)
		require.Empty(t, ou.ServiceProviderComment)
		require.Empty(t, ou.ServiceProviderCommentURL)

		// A username completes an account being created; the same name again changes nothing.
		_, err = w.st.ChangeOfferingUser(ctx, b.UUID, store.OfferingUserChange{Action: models.OUBeginCreating})
		require.NoError(t, err)
		ou, err = w.st.ChangeOfferingUser(ctx, b.UUID, store.OfferingUserChange{Username: strp("bee")})
		require.NoError(t, err)
		require.Equal(t, models.OfferingUserOK, ou.State)
		require.Equal(t, "bee", ou.Username)
		_, err = w.st.ChangeOfferingUser(ctx, b.UUID, store.OfferingUserChange{Action: models.OURequestDeletion})
		require.NoError(t, err)
		ou, err = w.st.ChangeOfferingUser(ctx, b.UUID, store.OfferingUserChange{Username: strp("bee2")})
		require.NoError(t, err)
		require.Equal(t, models.OfferingUserRequestedDeletion, ou.State, "a renamed account being deleted stays so")

		// Restriction has its own event.
		ou, err = w.st.ChangeOfferingUser(ctx, c.UUID, store.OfferingUserChange{IsRestricted: func() *bool { b := true; return &b }()})
		require.NoError(t, err)
		require.True(t, ou.IsRestricted)
		count := func(typ string) int64 {
			var n int64
			require.NoError(t, db.Table("events").Where("event_type = ?", typ).Count(&n).Error)
			return n
		}
		require.EqualValues(t, 1, count("marketplace_offering_user_restriction_updated"))
		require.EqualValues(t, 7, count("marketplace_offering_user_updated"))

		// The team view reads names and states of the users that have accounts.
		got, err := w.st.OfferingUsernames(ctx, w.offering.ID, []int64{w.users[0].ID, w.users[1].ID, w.users[2].ID, 999})
		require.NoError(t, err)
		require.Equal(t, map[int64]store.OfferingUsername{
			w.users[0].ID: {Username: "", State: "OK"},
			w.users[1].ID: {Username: "bee2", State: "Requested deletion"},
			w.users[2].ID: {Username: "", State: "Requested"},
		}, got)

		// Visibility: owners of the offering's customer, offering roles, and the user.
		v, err := w.st.OfferingUserByUUID(ctx, a.UUID)
		require.NoError(t, err)
		require.Equal(t, w.offering.UUID, v.OfferingUUID)
		require.Equal(t, w.users[0].UUID, v.UserUUID)
		require.Equal(t, "Anna", v.UserFirstName)
		var seen []store.OfferingUserView
		require.NoError(t, (&store.RoleScopes{}).OfferingUserFilter(w.st.OfferingUserViews(ctx), w.users[1].ID).Find(&seen).Error)
		require.Len(t, seen, 1)
		require.Equal(t, b.UUID, seen[0].UUID)
		require.NoError(t, (&store.RoleScopes{Customers: []int64{w.offering.CustomerID}}).OfferingUserFilter(w.st.OfferingUserViews(ctx), 0).Find(&seen).Error)
		require.Len(t, seen, 3)

		require.NoError(t, w.st.DeleteOfferingUser(ctx, c.UUID))
		_, err = w.st.OfferingUserByUUID(ctx, c.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		require.True(t, models.IsCode(w.st.DeleteOfferingUser(ctx, c.UUID), models.CodeNotFound))
		require.EqualValues(t, 1, count("marketplace_offering_user_deleted"))
	})
}
