package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/migrations"
)

func tables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	ts, err := db.Migrator().GetTables()
	require.NoError(t, err)
	var out []string
	for _, x := range ts {
		if x != "goose_db_version" && x != "sqlite_sequence" {
			out = append(out, x)
		}
	}
	return out
}

func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	all := migrations.All()
	require.NotEmpty(t, all)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db := dbtest.Empty(t, kind)
			sqlDB, err := db.DB()
			require.NoError(t, err)
			m, err := migrations.New(sqlDB, kind, nil)
			require.NoError(t, err)

			st, err := m.Status(ctx)
			require.NoError(t, err)
			require.Len(t, st, len(all))
			for _, s := range st {
				require.False(t, s.Applied, "version %d", s.Version)
			}

			applied, err := m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, applied, len(all))
			require.Contains(t, tables(t, db), "users")
			again, err := m.Up(ctx)
			require.NoError(t, err)
			require.Empty(t, again, "a second up applies nothing")

			st, err = m.Status(ctx)
			require.NoError(t, err)
			for i, s := range st {
				require.True(t, s.Applied)
				require.Equal(t, all[i].Name, s.Name)
			}

			require.NoError(t, m.DownAll(ctx))
			require.Empty(t, tables(t, db), "down removes every table it created")
			v, err := m.Down(ctx)
			require.NoError(t, err)
			require.Zero(t, v, "nothing left to roll back")

			applied, err = m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, applied, len(all))
			require.Contains(t, tables(t, db), "tokens")
		})
	}
}

func TestVersionsAreUniqueAndNamed(t *testing.T) {
	seen := map[int64]bool{}
	for _, m := range migrations.All() {
		require.False(t, seen[m.Version], "duplicate version %d", m.Version)
		seen[m.Version] = true
		require.NotEmpty(t, m.Name)
		require.True(t, len(m.Up) > 0 || len(m.AddColumns) > 0, "version %d changes nothing", m.Version)
		require.True(t, len(m.Down) > 0 || len(m.AddColumns) > 0, "version %d cannot be rolled back", m.Version)
		for _, kind := range []config.DatabaseKind{config.Postgres, config.SQLite} {
			for _, s := range append(append([]string{}, m.Up...), m.Down...) {
				require.NotContains(t, migrations.Expand(kind, s), "{{", "unexpanded placeholder in %d", m.Version)
			}
		}
	}
}

// TestResourceScopeColumns: the platform owns resources.scope_type and
// scope_uuid (migration 17). A fresh database gets them from it; one
// migrated when a plugin's migration 13 added them keeps them, and 17 adds
// nothing; rolling back removes them either way.
func TestResourceScopeColumns(t *testing.T) {
	ctx := context.Background()
	// What the OpenStack plugin's migration 13 did before the platform owned the columns.
	old13 := migrations.Migration{Version: 13, Name: "openstack_before", Up: []string{
		`ALTER TABLE resources ADD COLUMN scope_type VARCHAR(100) NOT NULL DEFAULT ''`,
		`ALTER TABLE resources ADD COLUMN scope_uuid CHAR(32)`,
	}}
	for _, kind := range dbtest.Kinds() {
		for _, c := range []struct {
			name  string
			extra []migrations.Migration
		}{{"fresh", nil}, {"migrated before", []migrations.Migration{old13}}} {
			t.Run(string(kind)+"/"+c.name, func(t *testing.T) {
				db := dbtest.Empty(t, kind)
				sqlDB, err := db.DB()
				require.NoError(t, err)
				m, err := migrations.New(sqlDB, kind, nil, c.extra...)
				require.NoError(t, err)
				_, err = m.Up(ctx)
				require.NoError(t, err)
				for _, col := range []string{"scope_type", "scope_uuid"} {
					require.True(t, db.Migrator().HasColumn("resources", col), col)
				}
				require.NoError(t, m.DownAll(ctx))
				require.Empty(t, tables(t, db))
			})
		}
	}
}
