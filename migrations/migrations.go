// Package migrations holds the versioned schema of the application database.
//
// Each migration is a Go value (Version, Name, Up, Down) whose SQL is written
// once with a few dialect placeholders ({{id}}, {{ts}}, {{json}}, {{bigint}})
// and expanded for PostgreSQL or SQLite, so both dialects get the same
// schema from the same source. Goose applies them in order, records each in
// the goose_db_version table, and on PostgreSQL holds an advisory lock so
// that API replicas starting together migrate once.
package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/waldur-go/waldur/internal/config"
)

// Migration is one schema version. Up and Down are lists of statements in
// the placeholder dialect; they run in one transaction.
type Migration struct {
	Version int64
	Name    string
	Up      []string
	Down    []string
	// AddColumns are added after Up, each only where it is missing, and
	// dropped before Down: columns that came with an earlier migration in
	// some databases (a plugin's, before the platform owned them).
	AddColumns []Column
}

// Column is a column of a table, with its definition in the placeholder
// dialect (e.g. "CHAR(32)").
type Column struct{ Table, Name, Def string }

// all is filled by the files of this package, one file per migration.
var all []Migration

func register(m Migration) { all = append(all, m) }

// All returns the migrations in version order.
func All() []Migration {
	out := append([]Migration(nil), all...)
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

var placeholders = map[config.DatabaseKind]*strings.Replacer{
	config.Postgres: strings.NewReplacer(
		"{{id}}", "BIGSERIAL PRIMARY KEY",
		"{{ts}}", "TIMESTAMPTZ",
		"{{json}}", "JSONB",
		"{{bigint}}", "BIGINT",
		"{{decimal}}", "NUMERIC(22,10)",
	),
	config.SQLite: strings.NewReplacer(
		"{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{ts}}", "DATETIME",
		"{{json}}", "TEXT",
		"{{bigint}}", "INTEGER",
		"{{decimal}}", "NUMERIC(22,10)",
	),
}

// Expand renders a placeholder statement for a dialect.
func Expand(kind config.DatabaseKind, stmt string) string { return placeholders[kind].Replace(stmt) }

// Migrator applies the migrations to one database.
type Migrator struct {
	p  *goose.Provider
	ms []Migration // the platform's and the plugins', by version
}

// New returns a migrator for db of the given kind: the platform's
// migrations and the plugins' (extra), applied in one order of versions. A
// version used twice is an error.
func New(db *sql.DB, kind config.DatabaseKind, log *slog.Logger, extra ...Migration) (*Migrator, error) {
	var dialect goose.Dialect
	// Out of order: a migration numbered below one already applied (work
	// that landed in parallel) is applied rather than refused.
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
	switch kind {
	case config.Postgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case config.SQLite:
		dialect = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown database kind %q", kind)
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	ms, err := merge(All(), extra)
	if err != nil {
		return nil, err
	}
	var gms []*goose.Migration
	for _, m := range ms {
		gms = append(gms, goose.NewGoMigration(m.Version, up(kind, m), down(kind, m)))
	}
	opts = append(opts, goose.WithGoMigrations(gms...))
	p, err := goose.NewProvider(dialect, db, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{p: p, ms: ms}, nil
}

// merge orders the platform's and the plugins' migrations by version.
func merge(platform, extra []Migration) ([]Migration, error) {
	out := append(append([]Migration(nil), platform...), extra...)
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations: version %d is used by %q and %q", out[i].Version, out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

func up(kind config.DatabaseKind, m Migration) *goose.GoFunc {
	return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if err := exec(ctx, tx, kind, m.Up); err != nil {
			return err
		}
		for _, c := range m.AddColumns {
			has, err := hasColumn(ctx, tx, kind, c)
			if err != nil || has {
				return err
			}
			if err := exec(ctx, tx, kind, []string{"ALTER TABLE " + c.Table + " ADD COLUMN " + c.Name + " " + c.Def}); err != nil {
				return err
			}
		}
		return nil
	}}
}

func down(kind config.DatabaseKind, m Migration) *goose.GoFunc {
	return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		for i := len(m.AddColumns) - 1; i >= 0; i-- {
			c := m.AddColumns[i]
			if err := exec(ctx, tx, kind, []string{"ALTER TABLE " + c.Table + " DROP COLUMN " + c.Name}); err != nil {
				return err
			}
		}
		return exec(ctx, tx, kind, m.Down)
	}}
}

func exec(ctx context.Context, tx *sql.Tx, kind config.DatabaseKind, stmts []string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, Expand(kind, s)); err != nil {
			return fmt.Errorf("%w\n%s", err, Expand(kind, s))
		}
	}
	return nil
}

// hasColumn reports whether c's table has a column of c's name.
func hasColumn(ctx context.Context, tx *sql.Tx, kind config.DatabaseKind, c Column) (bool, error) {
	q := `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`
	if kind == config.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, c.Table, c.Name).Scan(&n); err != nil {
		return false, fmt.Errorf("migrations: columns of %s: %w", c.Table, err)
	}
	return n > 0, nil
}

// Up applies every pending migration and returns the versions applied.
func (m *Migrator) Up(ctx context.Context) ([]int64, error) {
	res, err := m.p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	var vs []int64
	for _, r := range res {
		vs = append(vs, r.Source.Version)
	}
	return vs, nil
}

// Down rolls back the newest applied migration; it returns 0 when none was applied.
func (m *Migrator) Down(ctx context.Context) (int64, error) {
	res, err := m.p.Down(ctx)
	if err != nil {
		if errors.Is(err, goose.ErrNoNextVersion) {
			return 0, nil
		}
		return 0, fmt.Errorf("migrate down: %w", err)
	}
	return res.Source.Version, nil
}

// DownAll rolls back every applied migration.
func (m *Migrator) DownAll(ctx context.Context) error {
	_, err := m.p.DownTo(ctx, 0)
	return err
}

// Status is one migration and whether it is applied.
type Status struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every migration with its state.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	names := map[int64]string{}
	for _, mg := range m.ms {
		names[mg.Version] = mg.Name
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{Version: s.Source.Version, Name: names[s.Source.Version], Applied: s.State == goose.StateApplied})
	}
	return out, nil
}
