package preset_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/preset"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

func presetFile(t *testing.T) []byte {
	_, file, _, _ := runtime.Caller(0)
	// A committed copy of shared/spec/waldur-api/preset-slurm-e2e.json.
	p := filepath.Join(filepath.Dir(file), "testdata", "preset-slurm-e2e.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func TestLoadSiteAgentPresetTwice(t *testing.T) {
	data := presetFile(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		rep, err := preset.Load(ctx, st, data)
		require.NoError(t, err)
		require.Equal(t, "Site Agent E2E Tests", rep.Title)
		got := map[string]preset.SectionReport{}
		for _, s := range rep.Sections {
			got[s.Name] = s
		}
		require.Equal(t, 6, got["users"].Created)
		require.Equal(t, 1, got["auth_tokens"].Created)
		require.Equal(t, 1, got["customers"].Created)
		require.Equal(t, 1, got["projects"].Created)
		require.Positive(t, got["user_roles"].Created)

		// Every row a preset writes has its slug, as the API would fill it:
		// the site agent refuses accounts of objects without one.
		for table, want := range map[string]string{"customers": "e2e-serv-1", "projects": "e2e-test-1"} {
			var slugs []string
			require.NoError(t, db.Table(table).Pluck("slug", &slugs).Error)
			require.Equal(t, []string{want}, slugs, table)
		}
		var empty int64
		require.NoError(t, db.Table("offerings").Where("slug = '' OR slug IS NULL").Count(&empty).Error)
		require.Zero(t, empty, "offerings without a slug")

		// The given token authenticates the given user; the given password logs in.
		u, tok, err := st.UserByToken(ctx, "e2e0000000000000000000000000token001")
		require.NoError(t, err)
		require.Equal(t, "e2e-staff", u.Username)
		require.Equal(t, models.MustParseUUID("e2ea0000000000000000000000000001"), u.UUID)
		require.True(t, u.IsStaff)
		require.Equal(t, "e2e0000000000000000000000000token001", tok.Key)
		require.True(t, store.CheckPassword(u.Password, "e2e-staff-password"))

		// Roles work through the checker; the customer's quotas count what was loaded.
		chk, err := rbac.NewChecker(db)
		require.NoError(t, err)
		var cid int64
		require.NoError(t, db.Raw(`SELECT id FROM customers WHERE uuid = ?`, models.MustParseUUID("e2ec0000000000000000000000000001")).Scan(&cid).Error)
		qs, err := st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: cid})
		require.NoError(t, err)
		require.Contains(t, qs, models.Quota{Name: models.QuotaProjectCount, Usage: 1, Limit: -1})
		var owners []string
		require.NoError(t, db.Raw(`SELECT u.username FROM user_roles ur JOIN users u ON u.id = ur.user_id JOIN roles r ON r.id = ur.role_id
			WHERE r.name = ? AND ur.scope_type = ? AND ur.scope_id = ? ORDER BY u.username`, models.RoleCustomerOwner, models.ScopeCustomer, cid).Scan(&owners).Error)
		require.NotEmpty(t, owners)
		for _, name := range owners {
			owner, err := st.UserByUsername(ctx, name)
			require.NoError(t, err)
			ok, err := chk.Has(ctx, owner, models.PermProjectCreate, models.Scope{Type: models.ScopeCustomer, ID: cid})
			require.NoError(t, err)
			require.True(t, ok, name)
		}
		require.NotContains(t, rep.Skipped, "offering_users", "offering users are loaded")

		// Loading again changes nothing.
		countRows := func() map[string]int64 {
			out := map[string]int64{}
			for _, table := range []string{"users", "tokens", "customers", "projects", "user_roles", "quotas"} {
				var n int64
				require.NoError(t, db.Table(table).Count(&n).Error)
				out[table] = n
			}
			return out
		}
		before := countRows()
		rep, err = preset.Load(ctx, st, data)
		require.NoError(t, err)
		for _, s := range rep.Sections {
			require.Zero(t, s.Created, s.Name)
		}
		require.Equal(t, before, countRows())
		qs2, err := st.Quotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: cid})
		require.NoError(t, err)
		require.Equal(t, qs, qs2)
	})
}

func TestBadPresetLoadsNothing(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	ctx := context.Background()
	_, err := preset.Load(ctx, st, []byte(`{"users":[{"uuid":"e2ea0000000000000000000000000009","username":"ok-user"}],
		"projects":[{"uuid":"e2eb0000000000000000000000000009","name":"p","customer_uuid":"e2ec0000000000000000000000000099"}]}`))
	require.ErrorContains(t, err, "unknown customer")
	var n int64
	require.NoError(t, db.Table("users").Count(&n).Error)
	require.Zero(t, n, "one transaction: the valid user was rolled back too")
	_, err = preset.Load(ctx, st, []byte(`[1,2]`))
	require.Error(t, err)
}
