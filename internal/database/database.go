// Package database opens the application database: PostgreSQL in
// production, a SQLite file (pure Go, no cgo) by default.
package database

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/waldur-go/waldur/internal/config"
)

// SQLitePragmas are applied to every connection of the application's SQLite
// database. WAL lets readers run beside the one writer; synchronous=NORMAL in
// WAL mode loses no committed transaction when the process dies, only (at
// most) the last ones when the whole machine loses power; busy_timeout makes
// a writer wait for the lock instead of failing; foreign keys are enforced
// as on PostgreSQL.
var SQLitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(ON)",
}

// Open connects to the database cfg names and checks that it answers.
// Errors are one line, fit to print to an operator.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, config.DatabaseKind, error) {
	kind, dsn, err := cfg.Database()
	if err != nil {
		return nil, "", err
	}
	db, err := OpenDSN(ctx, kind, dsn, log)
	if err != nil || len(cfg.DatabaseReadURLs) == 0 {
		return db, kind, err
	}
	if kind != config.Postgres {
		Close(db)
		return nil, "", fmt.Errorf("database: %s needs a PostgreSQL %s", config.EnvDatabaseReadURL, config.EnvDatabaseURL)
	}
	if _, err := EnableReplicas(db, cfg.DatabaseReadURLs, ReplicaOptions{Window: cfg.DatabaseReadLagWindow}, log); err != nil {
		Close(db)
		return nil, "", err
	}
	return db, kind, nil
}

// OpenDSN opens a database of the given kind.
func OpenDSN(ctx context.Context, kind config.DatabaseKind, dsn string, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:                                   newGormLogger(log),
		NowFunc:                                  func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           true,
		// Open pings below with a timeout and a one-line error; GORM's own ping logs a multi-line one.
		DisableAutomaticPing: true,
	}
	var dialector gorm.Dialector
	switch kind {
	case config.Postgres:
		dialector = postgres.Open(withConnectTimeout(dsn))
	case config.SQLite:
		if dir := filepath.Dir(dsn); dir != "" && !strings.Contains(dsn, "mode=memory") {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("database: %v", err)
			}
		}
		dialector = sqlite.Open(SQLiteDSN(dsn))
	default:
		return nil, fmt.Errorf("database: unknown kind %q", kind)
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	if kind == config.SQLite {
		// One writer at a time is SQLite's model; a small pool of readers is enough.
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	return db, nil
}

// SQLiteDSN turns a file path into a modernc DSN with SQLitePragmas and
// immediate transactions (a write transaction takes the lock when it begins,
// so two writers never deadlock upgrading a read lock).
func SQLiteDSN(path string) string {
	q := url.Values{}
	for _, p := range SQLitePragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	if strings.HasPrefix(path, "file:") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + q.Encode()
	}
	return "file:" + path + "?" + q.Encode()
}

func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "5")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// oneLine folds a multi-line driver error (pgx lists each address it tried)
// into one line, without repeating identical lines.
func oneLine(err error) string {
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l != "" && !seen[l] {
			seen[l] = true
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// Close closes the pool under db (and its read replicas' pools).
func Close(db *gorm.DB) {
	if r := ReplicasOf(db); r != nil {
		r.Close()
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

type gormLogger struct {
	log   *slog.Logger
	level logger.LogLevel
}

func newGormLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		log = slog.Default()
	}
	return &gormLogger{log: log, level: logger.Warn}
}

func (g *gormLogger) LogMode(l logger.LogLevel) logger.Interface {
	c := *g
	c.level = l
	return &c
}

func (g *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Info {
		g.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Warn {
		g.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Error {
		g.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
	}
}

// SlowQuery is the duration above which a query is logged as slow.
const SlowQuery = 500 * time.Millisecond

func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && g.level >= logger.Error && !isExpected(err):
		sql, rows := fc()
		g.log.ErrorContext(ctx, "sql error", "err", err, "elapsed", elapsed, "rows", rows, "sql", sql)
	case elapsed > SlowQuery && g.level >= logger.Warn:
		sql, rows := fc()
		g.log.WarnContext(ctx, "slow sql", "elapsed", elapsed, "rows", rows, "sql", sql)
	case g.level >= logger.Info:
		sql, rows := fc()
		g.log.DebugContext(ctx, "sql", "elapsed", elapsed, "rows", rows, "sql", sql)
	}
}

func isExpected(err error) bool {
	return err == gorm.ErrRecordNotFound || err == gorm.ErrDuplicatedKey || err == context.Canceled
}
