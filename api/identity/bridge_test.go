package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// bridgeFx is newFx with the Identity Bridge configured as cfg, and two
// identity managers: "im-puhuri" (managed_isds [isd:puhuri]) and "im-none"
// (none).
func bridgeFx(t *testing.T, db *gorm.DB, cfg identity.BridgeConfig) *fx {
	f := newFx(t, db)
	f.setBridge(cfg)
	f.addUser("im-puhuri", func(p *store.UserProfile) {
		p.IsIdentityManager, p.ManagedISDs = true, []string{"isd:puhuri"}
	})
	f.addUser("im-none", func(p *store.UserProfile) { p.IsIdentityManager = true })
	return f
}

// setBridge serves the identity module with the bridge configured as cfg.
func (f *fx) setBridge(cfg identity.BridgeConfig) {
	f.t.Helper()
	clock := func() time.Time { return f.now }
	chk, err := rbac.NewChecker(f.db)
	require.NoError(f.t, err)
	chk.SetClock(clock)
	srv := api.New(api.Deps{DB: f.db, Users: f.st, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		identity.New(identity.Deps{Store: f.st, RBAC: chk, Now: clock, Bridge: cfg}))
	f.h = srv.Handler()
}

func (f *fx) profile(username string) *store.UserProfile {
	f.t.Helper()
	u, err := f.st.UserByUsername(context.Background(), username)
	require.NoError(f.t, err)
	p, err := f.st.UserProfileByUUID(context.Background(), u.UUID)
	require.NoError(f.t, err)
	return p
}

// TestIdentityBridgePermissions: disabled, every caller is refused 403;
// enabled, staff and identity managers for the source may push and
// remove, others get 403 (Waldur's order: disabled, then the caller, then
// the body, then the source).
func TestIdentityBridgePermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		push := map[string]any{"username": "alice@myaccessid.org", "source": "isd:puhuri", "first_name": "Alice"}
		remove := map[string]any{"username": "alice@myaccessid.org", "source": "isd:puhuri"}

		f := bridgeFx(t, db, identity.BridgeConfig{})
		for _, caller := range []string{"staff", "im-puhuri", "user"} {
			for path, body := range map[string]any{"/api/identity-bridge/": push, "/api/identity-bridge/remove/": remove} {
				w := f.do("POST", path, body, f.as(caller))
				require.Equal(t, 403, w.Code, "%s %s", caller, path)
				require.Equal(t, "Identity Bridge is disabled.", f.obj(w)["detail"])
			}
		}
		require.Equal(t, 401, f.do("POST", "/api/identity-bridge/", push, nil).Code)
		var n int64
		require.NoError(t, db.Table("users").Where("username = ?", "alice@myaccessid.org").Count(&n).Error)
		require.Zero(t, n)

		f.setBridge(identity.BridgeConfig{Enabled: true})
		cases := []struct {
			caller, source string
			want           int
			detail         string
		}{
			{"anonymous", "isd:puhuri", 401, "Authentication credentials were not provided."},
			{"user", "isd:puhuri", 403, "Only staff and identity managers are allowed to use the Identity Bridge."},
			{"support", "isd:puhuri", 403, "Only staff and identity managers are allowed to use the Identity Bridge."},
			{"im-none", "isd:puhuri", 403, "Source 'isd:puhuri' is not in your managed ISDs."},
			{"im-puhuri", "isd:fenix", 403, "Source 'isd:fenix' is not in your managed ISDs."},
			{"im-puhuri", "isd:puhuri", 200, ""},
			{"staff", "isd:fenix", 200, ""},
		}
		for _, c := range cases {
			w := f.do("POST", "/api/identity-bridge/", map[string]any{"username": "alice@myaccessid.org", "source": c.source}, f.as(c.caller))
			require.Equal(t, c.want, w.Code, "%s %s: %s", c.caller, c.source, w.Body.String())
			if c.detail != "" {
				require.Equal(t, c.detail, f.obj(w)["detail"])
			}
		}
		// A plain user's bad body is still a 403: the caller is checked first.
		require.Equal(t, 403, f.do("POST", "/api/identity-bridge/", map[string]any{"source": "bad"}, f.as("user")).Code)
		for _, c := range cases {
			w := f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "alice@myaccessid.org", "source": c.source}, f.as(c.caller))
			require.Equal(t, c.want, w.Code, "remove %s %s: %s", c.caller, c.source, w.Body.String())
		}
	})
}

// TestIdentityBridgeCreateUpdateRemove: a push creates the user, a second
// ISD's push updates it, the user's attributes show the sources, removal
// clears the ISD's attributes and deactivates as the policy says.
func TestIdentityBridgeCreateUpdateRemove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true, DeactivationPolicy: models.DeactivateOnAllISDsRemoved,
			AllowedAttributes: []string{"first_name", "last_name", "email", "organization", "affiliations", "nationality", "gender", "birth_date"}})
		w := f.do("POST", "/api/identity-bridge/", map[string]any{"username": "alice@myaccessid.org", "source": "isd:puhuri",
			"first_name": "Alice", "last_name": "Smith", "email": "alice@example.com", "affiliations": []string{"member@cern.ch"},
			"nationality": "FI", "gender": 2, "birth_date": "1990-05-17"}, f.as("im-puhuri"))
		require.Equal(t, 200, w.Code, w.Body.String())
		res := f.obj(w)
		require.Equal(t, true, res["created"])
		require.Equal(t, []any{"affiliations", "birth_date", "email", "first_name", "gender", "last_name", "nationality"}, res["updated_fields"])
		p := f.profile("alice@myaccessid.org")
		require.Equal(t, p.UUID.String(), res["uuid"])
		require.Equal(t, "isd:puhuri", p.RegistrationMethod)
		require.False(t, p.NotificationsEnabled)
		require.Empty(t, p.Password)
		require.Len(t, f.events("user_creation_succeeded"), 1)

		f.now = f.now.Add(time.Hour)
		w = f.do("POST", "/api/identity-bridge/", map[string]any{"username": "alice@myaccessid.org", "source": "isd:fenix",
			"email": "alice@cern.ch", "organization": "CERN", "first_name": ""}, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		res = f.obj(w)
		require.Equal(t, false, res["created"])
		require.Equal(t, []any{"active_isds", "email", "organization"}, res["updated_fields"])

		// Staff see the profile with its sources.
		w = f.do("GET", userPath(p, ""), nil, f.as("staff"))
		require.Equal(t, 200, w.Code)
		u := f.obj(w)
		require.Equal(t, "Alice", u["first_name"], "fenix's empty first name leaves puhuri's")
		require.Equal(t, "alice@cern.ch", u["email"])
		require.Equal(t, "FI", u["nationality"])
		require.EqualValues(t, 2, u["gender"])
		require.Equal(t, "1990-05-17", u["birth_date"])
		require.Equal(t, []any{"member@cern.ch"}, u["affiliations"])
		require.Equal(t, []any{"isd:puhuri", "isd:fenix"}, u["active_isds"])
		require.Equal(t, []any{}, u["managed_isds"])
		srcs := u["attribute_sources"].(map[string]any)
		require.Equal(t, map[string]any{"source": "isd:fenix", "timestamp": f.now.Format(time.RFC3339Nano)}, srcs["email"])
		require.Equal(t, "isd:puhuri", srcs["first_name"].(map[string]any)["source"])

		// The manager sees its own bridge fields, not the sources; others' not at all.
		w = f.do("GET", "/api/users/me/", nil, f.as("im-puhuri"))
		me := f.obj(w)
		require.Equal(t, []any{"isd:puhuri"}, me["managed_isds"])
		require.Equal(t, true, me["is_identity_manager"])
		require.NotContains(t, me, "attribute_sources")

		// Removal from puhuri keeps the user (fenix remains) and clears puhuri's attributes.
		w = f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "alice@myaccessid.org", "source": "isd:puhuri"}, f.as("im-puhuri"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, map[string]any{"uuid": p.UUID.String(), "deactivated": false}, f.obj(w))
		p = f.profile("alice@myaccessid.org")
		require.True(t, p.IsActive)
		require.Equal(t, "", p.FirstName)
		require.Equal(t, "", p.Nationality)
		require.Nil(t, p.Gender)
		require.Nil(t, p.BirthDate)
		require.Equal(t, []string{}, p.Affiliations)
		require.Equal(t, "alice@cern.ch", p.Email)
		require.Equal(t, []string{"isd:fenix"}, p.ActiveISDs)

		// The last ISD's removal deactivates.
		w = f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "alice@myaccessid.org", "source": "isd:fenix"}, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, true, f.obj(w)["deactivated"])
		require.False(t, f.profile("alice@myaccessid.org").IsActive)
		require.Len(t, f.events("user_deactivated"), 1)

		// A deactivated user is not pushed to: Waldur's ParseError.
		w = f.do("POST", "/api/identity-bridge/", map[string]any{"username": "alice@myaccessid.org", "source": "isd:puhuri", "first_name": "A"}, f.as("staff"))
		require.Equal(t, 400, w.Code)
		require.Equal(t, map[string]any{"detail": "User alice@myaccessid.org is deactivated."}, f.obj(w))

		// Removing someone unknown is a 404.
		w = f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "nobody", "source": "isd:puhuri"}, f.as("staff"))
		require.Equal(t, 404, w.Code)
		require.Equal(t, "User nobody not found.", f.obj(w)["detail"])
	})
}

// TestIdentityBridgeDefaultPolicy: by default (any_isd_removed) the first
// removal deactivates the user.
func TestIdentityBridgeDefaultPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		for _, src := range []string{"isd:puhuri", "isd:fenix"} {
			require.Equal(t, 200, f.do("POST", "/api/identity-bridge/", map[string]any{"username": "bob", "source": src}, f.as("staff")).Code)
		}
		w := f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "bob", "source": "isd:fenix"}, f.as("staff"))
		require.Equal(t, 200, w.Code)
		require.Equal(t, true, f.obj(w)["deactivated"])
		p := f.profile("bob")
		require.False(t, p.IsActive)
		require.Equal(t, []string{"isd:puhuri"}, p.ActiveISDs)
	})
}

// TestIdentityBridgeBadInput: DRF-style field errors, and attributes the
// configuration does not allow.
func TestIdentityBridgeBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		cases := []struct {
			body any
			want map[string]any
		}{
			{map[string]any{}, map[string]any{"username": []any{"This field is required."}, "source": []any{"This field is required."}}},
			{map[string]any{"username": "a", "source": "invalid-source"},
				map[string]any{"source": []any{"Source must match pattern '<type>:<name>' (e.g. 'isd:puhuri')."}}},
			{map[string]any{"username": "", "source": "isd:x"}, map[string]any{"username": []any{"This field may not be blank."}}},
			{map[string]any{"username": "a", "source": "isd:x", "email": "not-an-email"}, map[string]any{"email": []any{"Enter a valid email address."}}},
			{map[string]any{"username": "a", "source": "isd:x", "first_name": nil}, map[string]any{"first_name": []any{"This field may not be null."}}},
			{map[string]any{"username": "a", "source": "isd:x", "affiliations": "staff"},
				map[string]any{"affiliations": []any{`Expected a list of items but got type "str".`}}},
			{map[string]any{"username": "a", "source": "isd:x", "civil_number": "EE1", "nationality": "FI"},
				map[string]any{"non_field_errors": []any{"Fields not allowed by Identity Bridge configuration: civil_number, nationality"}}},
		}
		for _, c := range cases {
			w := f.do("POST", "/api/identity-bridge/", c.body, f.as("staff"))
			require.Equal(t, 400, w.Code, "%v: %s", c.body, w.Body.String())
			require.Equal(t, c.want, f.obj(w), "%v", c.body)
		}
		require.Equal(t, 400, f.do("POST", "/api/identity-bridge/", `{"username": `, f.as("staff")).Code)
		w := f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "a", "source": "nope"}, f.as("staff"))
		require.Equal(t, 400, w.Code)
		require.Contains(t, f.obj(w), "source")
		var n int64
		require.NoError(t, db.Table("users").Where("username = ?", "a").Count(&n).Error)
		require.Zero(t, n, "nothing was created")
	})
}

// TestIdentityBridgeParallelPush: parallel pushes of one new username from
// two ISDs create one user that both ISDs assert.
func TestIdentityBridgeParallelPush(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		f.validate = false // the OpenAPI validator is not for concurrent use
		const n = 10
		codes := make(chan int, n)
		created := make(chan bool, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			src := []string{"isd:puhuri", "isd:fenix"}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				raw, _ := json.Marshal(map[string]any{"username": "racer@myaccessid.org", "source": src, "first_name": "Racer"})
				req := httptest.NewRequest(http.MethodPost, "/api/identity-bridge/", bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+f.tokens["staff"])
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, req)
				var body struct{ Created bool }
				_ = json.Unmarshal(w.Body.Bytes(), &body)
				codes <- w.Code
				created <- body.Created
			}()
		}
		close(start)
		wg.Wait()
		close(codes)
		close(created)
		for c := range codes {
			require.Equal(t, 200, c)
		}
		creations := 0
		for c := range created {
			if c {
				creations++
			}
		}
		require.Equal(t, 1, creations)
		var count int64
		require.NoError(t, db.Table("users").Where("username = ?", "racer@myaccessid.org").Count(&count).Error)
		require.Equal(t, int64(1), count)
		require.ElementsMatch(t, []string{"isd:puhuri", "isd:fenix"}, f.profile("racer@myaccessid.org").ActiveISDs)
	})
}

// TestIdentityBridgeStats: staff only; the configuration, the federated
// users per ISD and the identity managers.
func TestIdentityBridgeStats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		require.Equal(t, 200, f.do("POST", "/api/identity-bridge/", map[string]any{"username": "old", "source": "isd:puhuri", "first_name": "O"}, f.as("staff")).Code)
		synced := f.now
		f.now = f.now.Add(8 * 24 * time.Hour)
		for _, key := range f.tokens { // keep the sessions alive
			require.NoError(t, f.st.TouchToken(context.Background(), key, f.now))
		}
		require.Equal(t, 200, f.do("POST", "/api/identity-bridge/", map[string]any{"username": "new", "source": "isd:puhuri", "first_name": "N"}, f.as("staff")).Code)
		require.Equal(t, 200, f.do("POST", "/api/identity-bridge/", map[string]any{"username": "new", "source": "isd:fenix"}, f.as("staff")).Code)

		for _, caller := range []string{"user", "support", "im-puhuri"} {
			w := f.do("GET", "/api/identity-bridge/stats/", nil, f.as(caller))
			require.Equal(t, 403, w.Code, caller)
			require.Equal(t, "Only staff users can view Identity Bridge statistics.", f.obj(w)["detail"])
		}
		require.Equal(t, 401, f.do("GET", "/api/identity-bridge/stats/", nil, nil).Code)
		w := f.do("GET", "/api/identity-bridge/stats/", nil, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		s := f.obj(w)
		oldest := synced.Format(time.RFC3339Nano)
		require.Equal(t, map[string]any{
			"enabled": true, "deactivation_policy": "any_isd_removed",
			"allowed_attributes":    []any{"affiliations", "email", "first_name", "last_name", "organization"},
			"total_federated_users": 2.0, "total_active_federated_users": 2.0, "stale_threshold_days": 7.0,
			"users_per_isd": []any{
				map[string]any{"isd": "isd:puhuri", "user_count": 2.0, "stale_user_count": 1.0, "oldest_sync": oldest},
				// fenix pushed no attribute: its only user is stale, with no sync time.
				map[string]any{"isd": "isd:fenix", "user_count": 1.0, "stale_user_count": 1.0, "oldest_sync": nil},
			},
			"identity_managers": []any{
				map[string]any{"uuid": f.users["im-none"].UUID.String(), "full_name": "Firstim-none Last", "managed_isds": []any{}},
				map[string]any{"uuid": f.users["im-puhuri"].UUID.String(), "full_name": "Firstim-puhuri Last", "managed_isds": []any{"isd:puhuri"}},
			},
		}, s)
	})
}

// TestUpdateManagedISDs: staff set a user's managed ISDs; the user cannot.
func TestUpdateManagedISDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		path := userPath(f.users["user"], "")
		w := f.do("PATCH", path, map[string]any{"agree_with_policy": true, "managed_isds": []string{"isd:puhuri"}, "is_identity_manager": true}, f.as("user"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, []any{}, f.obj(w)["managed_isds"], "staff's field, ignored for the user")
		w = f.do("PATCH", path, map[string]any{"managed_isds": []string{"isd:puhuri", "isd:fenix"}, "is_identity_manager": true}, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, []any{"isd:puhuri", "isd:fenix"}, f.obj(w)["managed_isds"])
		w = f.do("PATCH", path, map[string]any{"managed_isds": "isd:puhuri"}, f.as("staff"))
		require.Equal(t, 400, w.Code)
		// The new manager may now push for fenix.
		require.Equal(t, 200, f.do("POST", "/api/identity-bridge/", map[string]any{"username": "carol", "source": "isd:fenix"}, f.as("user")).Code)
		// Profile fields a user writes are stored and shown.
		w = f.do("PATCH", path, map[string]any{"nationalities": []string{"FI", "EE"}, "organization_registry_code": "123", "gender": 1,
			"birth_date": "2000-01-02", "place_of_birth": "Tartu"}, f.as("user"))
		require.Equal(t, 200, w.Code, w.Body.String())
		u := f.obj(w)
		require.Equal(t, []any{"FI", "EE"}, u["nationalities"])
		require.Equal(t, "123", u["organization_registry_code"])
		require.EqualValues(t, 1, u["gender"])
		require.Equal(t, "2000-01-02", u["birth_date"])
		require.Equal(t, "Tartu", u["place_of_birth"])
	})
}

// TestIdentityBridgeGuards: an identity manager asserts its ISD's
// federated users, nothing else. It may not push to or remove a staff,
// support or identity manager account (403, unchanged; staff may), and a
// removal by an ISD that does not assert the user changes nothing: no
// deactivation of someone else's user.
func TestIdentityBridgeGuards(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := bridgeFx(t, db, identity.BridgeConfig{Enabled: true})
		for _, target := range []string{"staff", "support", "im-none"} {
			w := f.do("POST", "/api/identity-bridge/", map[string]any{"username": target, "source": "isd:puhuri", "email": "evil@example.com"}, f.as("im-puhuri"))
			require.Equal(t, 403, w.Code, "%s: %s", target, w.Body.String())
			require.Equal(t, store.MsgBridgePrivileged, f.obj(w)["detail"])
			require.NotEqual(t, "evil@example.com", f.profile(target).Email)
			w = f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": target, "source": "isd:puhuri"}, f.as("im-puhuri"))
			require.Equal(t, 403, w.Code, "%s: %s", target, w.Body.String())
			require.True(t, f.profile(target).IsActive)
		}
		// "user" is local: no ISD asserts it. Its removal by isd:puhuri is a no-op.
		w := f.do("POST", "/api/identity-bridge/remove/", map[string]any{"username": "user", "source": "isd:puhuri"}, f.as("im-puhuri"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, false, f.obj(w)["deactivated"])
		require.True(t, f.profile("user").IsActive)
		// Staff may manage any account through the bridge.
		w = f.do("POST", "/api/identity-bridge/", map[string]any{"username": "im-none", "source": "isd:puhuri", "first_name": "Ida"}, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, "Ida", f.profile("im-none").FirstName)
	})
}
