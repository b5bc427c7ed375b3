// Package dbtest gives tests fresh databases: a SQLite file always, and a
// PostgreSQL database whenever WALDUR_TEST_DATABASE_URL is set (CI always
// sets it). Migrated PostgreSQL databases are cloned from a template that is
// migrated once per schema version, so a test pays for CREATE DATABASE only.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/rbac"
)

// EnvPostgres names the PostgreSQL server tests may create databases on.
const EnvPostgres = "WALDUR_TEST_DATABASE_URL"

// Kinds lists the dialects this run tests: SQLite, plus PostgreSQL when configured.
func Kinds() []config.DatabaseKind {
	if os.Getenv(EnvPostgres) != "" {
		return []config.DatabaseKind{config.SQLite, config.Postgres}
	}
	return []config.DatabaseKind{config.SQLite}
}

// Each runs fn as a subtest per dialect, each with a fresh migrated
// database. Without WALDUR_TEST_DATABASE_URL the postgres subtest is
// skipped, saying so (make test lists it), and fails under CI=true: CI
// runs every store test on both databases.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB, kind config.DatabaseKind)) {
	t.Helper()
	for _, kind := range []config.DatabaseKind{config.SQLite, config.Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			if kind == config.Postgres && os.Getenv(EnvPostgres) == "" {
				if os.Getenv("CI") == "true" {
					t.Fatal(EnvPostgres + " is not set (CI=true: every store test runs on PostgreSQL too)")
				}
				t.Skip(EnvPostgres + " is not set")
			}
			fn(t, Migrated(t, kind), kind)
		})
	}
}

// Migrated returns a fresh database of kind with every migration applied
// and the default roles in place (what a started server has).
func Migrated(t testing.TB, kind config.DatabaseKind) *gorm.DB {
	t.Helper()
	if kind == config.SQLite {
		db := Empty(t, kind)
		sqlDB, _ := db.DB()
		m, err := migrations.New(sqlDB, kind, nil, plugins.Migrations()...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := rbac.EnsureDefaultRoles(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		return db
	}
	return postgresDB(t, template(t))
}

// Empty returns a fresh database of kind with no tables.
func Empty(t testing.TB, kind config.DatabaseKind) *gorm.DB {
	t.Helper()
	if kind == config.SQLite {
		path := filepath.Join(t.TempDir(), "waldur.db")
		db, err := database.OpenDSN(context.Background(), config.SQLite, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { database.Close(db) })
		return db
	}
	return postgresDB(t, "")
}

// DSN returns the PostgreSQL server URL with the database name replaced.
func DSN(t testing.TB, name string) string {
	t.Helper()
	raw := os.Getenv(EnvPostgres)
	if raw == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func admin(t testing.TB) *sql.DB {
	t.Helper()
	raw := os.Getenv(EnvPostgres)
	if raw == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// EmptyURL returns the WALDUR_DATABASE_URL of a fresh, empty database of
// kind (a file path for SQLite), for tests that run the binary.
func EmptyURL(t testing.TB, kind config.DatabaseKind) string {
	t.Helper()
	if kind == config.SQLite {
		return filepath.Join(t.TempDir(), "waldur.db")
	}
	return DSN(t, createPostgres(t, ""))
}

// createPostgres creates a database (a clone of tmpl when given), dropped when the test ends.
func createPostgres(t testing.TB, tmpl string) string {
	t.Helper()
	adm := admin(t)
	name := randomName("waldur_test_")
	q := fmt.Sprintf(`CREATE DATABASE %s`, name)
	if tmpl != "" {
		q += " TEMPLATE " + tmpl
	}
	if _, err := adm.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	t.Cleanup(func() {
		if _, err := adm.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// postgresDB opens a new database (a clone of tmpl when given), dropped when the test ends.
func postgresDB(t testing.TB, tmpl string) *gorm.DB {
	t.Helper()
	name := createPostgres(t, tmpl)
	db, err := database.OpenDSN(context.Background(), config.Postgres, DSN(t, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	return db
}

// template returns the name of a migrated template database for the current
// migrations, creating it once (under an advisory lock, published by rename
// so a half-migrated template is never cloned).
func template(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	for _, m := range append(migrations.All(), plugins.Migrations()...) {
		fmt.Fprintf(h, "%d %s %s %s\n", m.Version, m.Name, strings.Join(m.Up, ";"), strings.Join(m.Down, ";"))
	}
	for _, r := range rbac.DefaultRoles {
		fmt.Fprintf(h, "%s %v %v\n", r.Name, r.IsActive, r.Permissions)
	}
	name := "waldur_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	adm := admin(t)
	ctx := context.Background()
	conn, err := adm.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727361)`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727361)`) }()
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		return name
	}
	tmp := randomName("waldur_tplbuild_")
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+tmp); err != nil {
		t.Fatal(err)
	}
	func() {
		db, err := database.OpenDSN(ctx, config.Postgres, DSN(t, tmp), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer database.Close(db)
		sqlDB, _ := db.DB()
		m, err := migrations.New(sqlDB, config.Postgres, nil, plugins.Migrations()...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if err := rbac.EnsureDefaultRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
	}()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, tmp, name)); err != nil {
		t.Fatal(err)
	}
	return name
}

// EnvReplica names a PostgreSQL hot standby streaming from the server of
// WALDUR_TEST_DATABASE_URL (scripts/test-deps.sh starts one on
// 127.0.0.1:5433 with scripts/pg-replica-up.sh).
const EnvReplica = "WALDUR_TEST_REPLICA_URL"

// ReplicaDSN returns the standby's URL for the PostgreSQL database db (one
// of Migrated's or Empty's: the standby replays its creation). Without
// WALDUR_TEST_REPLICA_URL the test is skipped, saying how to get one, and
// fails under CI=true. The test shares the standby with the other tests
// (of any package) that do not pause or stop it.
func ReplicaDSN(t testing.TB, db *gorm.DB) string {
	t.Helper()
	return replicaDSN(t, db, `SELECT pg_advisory_lock_shared(727362)`)
}

// ReplicaDSNExclusive is ReplicaDSN for a test that pauses replay on the
// standby or stops it: it waits until no other test uses the standby, and
// keeps them waiting until it ends. It must leave the standby running and
// replaying.
func ReplicaDSNExclusive(t testing.TB, db *gorm.DB) string {
	t.Helper()
	return replicaDSN(t, db, `SELECT pg_advisory_lock(727362)`)
}

func replicaDSN(t testing.TB, db *gorm.DB, lock string) string {
	t.Helper()
	raw := os.Getenv(EnvReplica)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(EnvReplica + " is not set (CI=true: the read replica tests run on a real hot standby)")
		}
		t.Skip(EnvReplica + " is not set (as root: scripts/pg-replica-up.sh starts a hot standby on 127.0.0.1:5433)")
	}
	var name string
	if err := db.Raw(`SELECT current_database()`).Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", EnvReplica, err)
	}
	u.Path = "/" + name
	// The lock is held on a connection of its own until the test ends
	// (advisory locks are per session; the server is the primary, so it
	// serialises tests across packages too).
	conn, err := admin(t).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := conn.ExecContext(ctx, lock); err != nil {
		t.Fatalf("waiting for the standby: %v", err)
	}
	return u.String()
}
