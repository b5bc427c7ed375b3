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
		require.NotEmpty(t, m.Up)
		require.NotEmpty(t, m.Down)
		for _, kind := range []config.DatabaseKind{config.Postgres, config.SQLite} {
			for _, s := range append(append([]string{}, m.Up...), m.Down...) {
				require.NotContains(t, migrations.Expand(kind, s), "{{", "unexpanded placeholder in %d", m.Version)
			}
		}
	}
}
