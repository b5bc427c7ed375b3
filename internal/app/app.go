// Package app wires the process together for each sub-command: it opens the
// database, starts (or dials) Temporal, builds the worker registry and the
// API, and stops all of it cleanly.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/saml2"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/memtrim"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// ShutdownTimeout bounds how long a stopping process waits for in-flight
// HTTP requests and activities.
const ShutdownTimeout = 5 * time.Second

// releaseStartupPages hands back the binary's pages that start-up alone
// touched (internal/memtrim), once the process is up.
func releaseStartupPages(log *slog.Logger) {
	n, err := memtrim.ReleaseStartupPages()
	if err != nil {
		log.Warn("could not release the start-up pages of the binary", "err", err)
		return
	}
	log.Debug("released the start-up pages of the binary", "mapped_mb", n>>20)
}

// OpenDatabase opens the configured database, with its read replicas
// (WALDUR_DATABASE_READ_URL) for the API's reads.
func OpenDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, config.DatabaseKind, error) {
	return database.Open(ctx, cfg, log)
}

// OpenPrimaryDatabase opens the configured database without its read
// replicas: workers, migrations and the CLI read from the primary only, so
// they open no replica pools and run no replica health checks.
func OpenPrimaryDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, config.DatabaseKind, error) {
	cfg.DatabaseReadURLs = nil
	return database.Open(ctx, cfg, log)
}

// Migrate applies pending migrations.
func Migrate(ctx context.Context, db *gorm.DB, kind config.DatabaseKind, log *slog.Logger) error {
	m, err := migrator(db, kind, log)
	if err != nil {
		return err
	}
	if _, err = m.Up(ctx); err != nil {
		return err
	}
	// The default roles are data every start needs; inserting the missing ones is idempotent.
	return rbac.EnsureDefaultRoles(ctx, db)
}

func migrator(db *gorm.DB, kind config.DatabaseKind, log *slog.Logger) (*migrations.Migrator, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	return migrations.New(sqlDB, kind, log, plugins.Migrations()...)
}

// Migrator returns the migrator of the configured database.
func Migrator(db *gorm.DB, kind config.DatabaseKind) (*migrations.Migrator, error) {
	return migrator(db, kind, nil)
}

// listen binds the API address first, so a port in use fails before anything starts.
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, fmt.Errorf("API: cannot listen on %s: %v", addr, err)
	}
	return l, nil
}

type stack struct{ fns []func() }

func (s *stack) push(f func()) { s.fns = append(s.fns, f) }
func (s *stack) run() {
	for i := len(s.fns) - 1; i >= 0; i-- {
		s.fns[i]()
	}
}

// ServeOptions tune Serve for tests.
type ServeOptions struct {
	// Out receives the first-start banner (stdout by default).
	Out io.Writer
	// Ready is closed when the API accepts requests.
	Ready chan<- struct{}
}

// Serve runs everything in one process: the embedded Temporal server and UI
// (unless an external address is configured), every worker and schedule, and
// the API. It returns when ctx ends, after a clean stop.
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger, opts ServeOptions) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cleanup := &stack{}
	defer cleanup.run()

	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	cleanup.push(func() { _ = ln.Close() })

	db, kind, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	cleanup.push(func() { database.Close(db) })
	if err := Migrate(ctx, db, kind, log); err != nil {
		return err
	}

	if cfg.Embedded() {
		level, _ := config.ParseLevel(cfg.TemporalLogLevel)
		ts, err := temporalserver.Start(temporalserver.Options{
			FrontendAddr:     cfg.EmbeddedTemporalAddr,
			UIAddr:           cfg.TemporalUIAddr,
			DatabaseFile:     filepath.Join(cfg.DataDir, "temporal.db"),
			Namespace:        cfg.TemporalNamespace,
			SearchAttributes: workflows.SearchAttributes,
			Logger:           log,
			LogLevel:         level,
		})
		if err != nil {
			return err
		}
		cleanup.push(ts.Stop)
	}

	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	tc, err := temporalclient.Dial(dialCtx, temporalclient.Options{HostPort: cfg.TemporalHostPort(), Namespace: cfg.TemporalNamespace, Logger: log})
	cancel()
	if err != nil {
		return err
	}
	cleanup.push(tc.Close)

	if err := workflows.EnsureSearchAttributes(ctx, tc, cfg.TemporalNamespace); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	reg := Registry(&Deps{DB: db, Config: cfg, Logger: log})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{WorkerStopTimeout: ShutdownTimeout})
	if err != nil {
		return err
	}
	cleanup.push(ws.Stop)
	plugins.All(cfg).CheckStartup(ctx, log, nil)
	if err := workflows.EnsureSchedules(ctx, tc, Schedules(), log); err != nil {
		if ctx.Err() != nil {
			return nil // stopped (Ctrl-C) while starting: a clean stop, not a failure
		}
		return err
	}
	saml2.SyncAtStart(ctx, tc, cfg.SAML2.IdPMetadata, log)

	st := store.New(db)
	banner, err := firstStart(ctx, st, cfg)
	if err != nil {
		return err
	}
	srv, err := NewAPIConfig(db, tc, log, cfg)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, srv, log, cfg, func() {
		if opts.Ready != nil {
			close(opts.Ready)
		}
		releaseStartupPages(log)
		if banner != nil {
			out := opts.Out
			if out == nil {
				out = stdout
			}
			banner.print(out, cfg)
		}
		log.Info("waldur is serving", "api", cfg.HTTPAddr, "temporal", cfg.TemporalHostPort(), "queues", reg.Queues())
	})
}

// API runs the REST API alone (stateless; run as many as needed).
func API(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	db, kind, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	if err := requireMigrated(ctx, db, kind); err != nil {
		return err
	}
	// Lazy: the API answers (and reports Temporal down in /health-check/) while Temporal is unreachable.
	tc, err := temporalclient.Lazy(temporalclient.Options{HostPort: cfg.TemporalHostPort(), Namespace: cfg.TemporalNamespace, Logger: log})
	if err != nil {
		return err
	}
	defer tc.Close()
	srv, err := NewAPIConfig(db, tc, log, cfg)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, srv, log, cfg, func() {
		log.Info("waldur api is serving", "addr", cfg.HTTPAddr, "temporal", cfg.TemporalHostPort())
		releaseStartupPages(log)
	})
}

// Worker runs the workers of the given queues; the one that runs the core
// queue also creates the schedules.
func Worker(ctx context.Context, cfg config.Config, log *slog.Logger, queues []string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	deps := &Deps{Config: cfg, Logger: log}
	reg := Registry(deps)
	queues, err := reg.Resolve(queues)
	if err != nil {
		return err
	}
	db, kind, err := OpenPrimaryDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	if err := requireMigrated(ctx, db, kind); err != nil {
		return err
	}
	deps.DB = db
	dialCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	tc, err := temporalclient.Dial(dialCtx, temporalclient.Options{HostPort: cfg.TemporalHostPort(), Namespace: cfg.TemporalNamespace, Logger: log})
	cancel()
	if err != nil {
		return err
	}
	defer tc.Close()
	for _, q := range queues {
		if q == workflows.QueueCore {
			// The order workflow indexes orders; the attributes must exist first.
			if err := workflows.EnsureSearchAttributes(ctx, tc, cfg.TemporalNamespace); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
	ws, err := reg.Start(tc, queues, worker.Options{WorkerStopTimeout: ShutdownTimeout})
	if err != nil {
		return err
	}
	defer ws.Stop()
	plugins.All(cfg).CheckStartup(ctx, log, queues)
	for _, q := range queues {
		if q == workflows.QueueCore {
			if err := workflows.EnsureSchedules(ctx, tc, Schedules(), log); err != nil {
				if ctx.Err() != nil {
					return nil // stopped while starting: a clean stop
				}
				return err
			}
			saml2.SyncAtStart(ctx, tc, cfg.SAML2.IdPMetadata, log)
		}
	}
	log.Info("waldur worker is running", "queues", queues, "temporal", cfg.TemporalHostPort())
	releaseStartupPages(log)
	<-ctx.Done()
	log.Info("waldur worker is stopping")
	return nil
}

func requireMigrated(ctx context.Context, db *gorm.DB, kind config.DatabaseKind) error {
	m, err := Migrator(db, kind)
	if err != nil {
		return err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		if !s.Applied {
			return fmt.Errorf("the database schema is not up to date (migration %d %s is pending): run `waldur migrate up`", s.Version, s.Name)
		}
	}
	return nil
}

// serveHTTP serves srv on ln until ctx ends. A connection's reads, writes
// and idle time are bounded (cfg.HTTP*Timeout), so a client that never
// sends its body or never reads the answer does not hold it forever.
func serveHTTP(ctx context.Context, ln net.Listener, srv *api.Server, log *slog.Logger, cfg config.Config, ready func()) error {
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.HTTPReadTimeout > 0 && cfg.HTTPReadTimeout < hs.ReadHeaderTimeout {
		hs.ReadHeaderTimeout = cfg.HTTPReadTimeout
	}
	// The listener is bound already: announce first (the banner is complete
	// before the first request is answered), then serve.
	ready()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("API: %v", err)
	case <-ctx.Done():
	}
	log.Info("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return nil
}

// CreateUser creates a user and returns it with its API token.
func CreateUser(ctx context.Context, st *store.Store, u *models.User, password string) (*models.Token, error) {
	u.IsActive = true
	u.NotificationsEnabled = true
	if u.TokenLifetime == nil {
		lt := models.DefaultTokenLifetime
		u.TokenLifetime = &lt
	}
	if err := st.CreateUser(ctx, u, password); err != nil {
		return nil, err
	}
	return st.EnsureToken(ctx, u.ID)
}

// RandomPassword returns a password of n characters from an unambiguous alphabet.
func RandomPassword(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// MigrateSession is an open database with its migrator, for `waldur migrate`.
type MigrateSession struct {
	M  *migrations.Migrator
	db *gorm.DB
}

// OpenMigrateSession opens the configured database for migration commands.
func OpenMigrateSession(ctx context.Context, cfg config.Config) (*MigrateSession, error) {
	log := cfg.Logger()
	db, kind, err := OpenPrimaryDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	m, err := migrator(db, kind, nil)
	if err != nil {
		database.Close(db)
		return nil, err
	}
	return &MigrateSession{M: m, db: db}, nil
}

// Close closes the database.
func (s *MigrateSession) Close() { database.Close(s.db) }

// EnsureData inserts the data every start needs (the default roles); idempotent.
func (s *MigrateSession) EnsureData(ctx context.Context) error {
	return rbac.EnsureDefaultRoles(ctx, s.db)
}
