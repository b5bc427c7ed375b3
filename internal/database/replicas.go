package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"github.com/waldur-go/waldur/internal/config"
)

// Read replicas (WALDUR_DATABASE_READ_URL).
//
// gorm.io/plugin/dbresolver sorts statements: writes, locking reads and
// everything inside a transaction stay on the primary; other reads go to
// the one "replica" pool it knows, which is a Router. The Router sends a
// read to a replica only when the statement's context says the caller may
// read from one (ReplicaReads, set by the API for its reads) and a replica
// is known to be at most the lag window behind, and has caught up past the
// caller's own last write. Everything else (workers, activities,
// migrations, a request that wrote) reads from the primary, so replicas
// never change what code outside the API's read requests sees.
//
// Staleness is bounded without trusting replay timestamps: every check
// samples the primary's WAL position, then reads the replica's replayed
// position; the latest sample it has replayed proves every transaction
// committed before that sample's instant visible there ("caught up at").
// A replica serves reads only while now - caughtUpAt <= window, so one
// that falls behind, or whose checks stop answering, drops out by itself
// within the window; a replica whose query fails with a connection or
// recovery error is marked down at once and the read is retried on the
// primary.

// DefaultReadLagWindow is the default of WALDUR_DATABASE_READ_LAG_WINDOW.
const DefaultReadLagWindow = config.DefaultReadLagWindow

// pluginName names the Router among the *gorm.DB's plugins (ReplicasOf).
const pluginName = "waldur:read_replicas"

// Router is the read pool behind dbresolver: it picks a caught-up replica
// for a read that may use one and the primary for everything else.
type Router struct {
	primary  *sql.DB
	replicas []*replica
	window   time.Duration
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	next    atomic.Uint64 // round robin among the usable replicas
	samples []walSample   // the primary's recent WAL positions (checkAll's)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	reads *prometheus.CounterVec
	up    *prometheus.GaugeVec
	lag   *prometheus.GaugeVec
}

type replica struct {
	index int
	db    *sql.DB
	// caughtUp is the UnixNano of the last check that proved the replica
	// had replayed everything the primary had committed at that instant;
	// 0 while down or never proved.
	caughtUp atomic.Int64
	// replayed is the WAL position the last check read there (0 while
	// down): the replica holds every write that ended before it.
	replayed atomic.Uint64
}

// ReplicaOptions tune EnableReplicas; zero values take the defaults.
type ReplicaOptions struct {
	// Window is the lag window: the most a replica may be behind and still
	// serve reads (DefaultReadLagWindow).
	Window time.Duration
	// Interval is the time between health checks (Window/5, at most 1s,
	// at least 100ms).
	Interval time.Duration
}

// EnableReplicas makes db send the reads of ReplicaReads contexts to the
// PostgreSQL hot standbys at urls. A standby that does not answer yet is
// not an error: it is used once its health check succeeds.
func EnableReplicas(db *gorm.DB, urls []string, opt ReplicaOptions, log *slog.Logger) (*Router, error) {
	if log == nil {
		log = slog.Default()
	}
	if opt.Window <= 0 {
		opt.Window = DefaultReadLagWindow
	}
	if opt.Interval <= 0 {
		opt.Interval = min(max(opt.Window/5, 100*time.Millisecond), time.Second)
	}
	primary, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	r := &Router{primary: primary, window: opt.Window, interval: opt.Interval, log: log,
		now: time.Now, stop: make(chan struct{}), done: make(chan struct{}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waldur_db_reads_total", Help: "Reads that could use a read replica, by where they were served (replica, primary) and why.",
		}, []string{"target", "reason"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waldur_db_replica_up", Help: "1 while the read replica (by its position in WALDUR_DATABASE_READ_URL) serves reads.",
		}, []string{"replica"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waldur_db_replica_staleness_seconds", Help: "Upper bound of how far the read replica is behind the primary.",
		}, []string{"replica"}),
	}
	for i, u := range urls {
		rdb, err := gorm.Open(postgres.Open(withConnectTimeout(u)), &gorm.Config{DisableAutomaticPing: true, Logger: newGormLogger(log)})
		if err == nil {
			var sqlDB *sql.DB
			if sqlDB, err = rdb.DB(); err == nil {
				sqlDB.SetMaxOpenConns(32)
				sqlDB.SetMaxIdleConns(16)
				sqlDB.SetConnMaxIdleTime(5 * time.Minute)
				r.replicas = append(r.replicas, &replica{index: i, db: sqlDB})
			}
		}
		if err != nil {
			r.closePools()
			return nil, fmt.Errorf("database: read replica %d: %s", i+1, oneLine(err))
		}
	}
	if err := db.Use(dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{postgres.New(postgres.Config{Conn: r})},
	})); err != nil {
		r.closePools()
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	markWrites(db)
	if err := db.Use(r); err != nil {
		r.closePools()
		return nil, fmt.Errorf("database: %s", oneLine(err))
	}
	r.checkAll(context.Background())
	go r.run()
	return r, nil
}

// ReplicasOf returns the Router EnableReplicas installed on db, or nil.
func ReplicasOf(db *gorm.DB) *Router {
	if db == nil {
		return nil
	}
	if p, ok := db.Config.Plugins[pluginName].(*Router); ok {
		return p
	}
	return nil
}

// Name and Initialize make the Router a gorm plugin, so ReplicasOf and
// Close find it from the *gorm.DB.
func (r *Router) Name() string                 { return pluginName }
func (r *Router) Initialize(db *gorm.DB) error { return nil }

// Usable counts the replicas serving reads now.
func (r *Router) Usable() int {
	n, now := 0, r.now()
	for _, rep := range r.replicas {
		if r.usable(rep, time.Time{}, now) {
			n++
		}
	}
	return n
}

// Window is the lag window.
func (r *Router) Window() time.Duration { return r.window }

// Collectors are the Router's Prometheus metrics (reads by target, replica
// up, staleness), for the /metrics registry.
func (r *Router) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.reads, r.up, r.lag}
}

// Close stops the health checks and closes the replicas' pools.
func (r *Router) Close() {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		r.closePools()
	})
}

func (r *Router) closePools() {
	for _, rep := range r.replicas {
		_ = rep.db.Close()
	}
}

func (r *Router) run() {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.checkAll(context.Background())
		}
	}
}

// checkAll proves, for each replica, up to which instant it has replayed
// everything the primary had committed. Each check samples the primary's
// WAL position first; a replica that has replayed up to a sample taken at
// T holds every transaction committed before T. Keeping the samples of
// the last window lets a replica that streams a little behind a busy
// primary (it never reaches the position sampled a moment ago) prove an
// instant a check or a few earlier.
func (r *Router) checkAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(r.interval, time.Second))
	defer cancel()
	began := r.now()
	var text string
	if err := r.primary.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&text); err != nil {
		// Without the primary nothing can be proved; the replicas age out by themselves.
		r.log.Warn("read replicas: cannot read the primary's WAL position", "err", oneLine(err))
		r.gauges()
		return
	}
	lsn, err := parseLSN(text)
	if err != nil {
		r.log.Warn("read replicas: unreadable WAL position", "lsn", text)
		r.gauges()
		return
	}
	// Only checkAll touches samples, and only one checkAll runs at a time.
	r.samples = append(r.samples, walSample{at: began, lsn: lsn})
	for len(r.samples) > 1 && began.Sub(r.samples[0].at) > r.window {
		r.samples = r.samples[1:]
	}
	samples := r.samples
	var wg sync.WaitGroup
	for _, rep := range r.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var standby bool
			var replayed string
			err := rep.db.QueryRowContext(ctx,
				`SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, '')`).Scan(&standby, &replayed)
			if err == nil && !standby {
				// A promoted standby no longer follows the primary: its data diverges.
				err = errors.New("not in recovery (promoted?)")
			}
			var pos uint64
			if err == nil {
				pos, err = parseLSN(replayed)
			}
			if err != nil {
				r.markDown(rep, err)
				return
			}
			if old := rep.replayed.Load(); pos > old {
				rep.replayed.CompareAndSwap(old, pos)
			}
			// The latest sample the replica has replayed (samples grow in time and position).
			for i := len(samples) - 1; i >= 0; i-- {
				if samples[i].lsn <= pos {
					at := samples[i].at.UnixNano()
					if old := rep.caughtUp.Load(); at > old && rep.caughtUp.CompareAndSwap(old, at) && old == 0 {
						r.log.Info("read replica up", "replica", rep.index+1)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	r.gauges()
}

// walSample is the primary's WAL position at an instant.
type walSample struct {
	at  time.Time
	lsn uint64
}

// parseLSN reads PostgreSQL's "hi/lo" hexadecimal WAL position.
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	return h<<32 | l, nil
}

func (r *Router) gauges() {
	now := r.now()
	for _, rep := range r.replicas {
		label := strconv.Itoa(rep.index + 1)
		if at := rep.caughtUp.Load(); at != 0 {
			r.lag.WithLabelValues(label).Set(now.Sub(time.Unix(0, at)).Seconds())
		}
		if r.usable(rep, time.Time{}, now) {
			r.up.WithLabelValues(label).Set(1)
		} else {
			r.up.WithLabelValues(label).Set(0)
		}
	}
}

func (r *Router) markDown(rep *replica, err error) {
	rep.replayed.Store(0)
	if rep.caughtUp.Swap(0) != 0 {
		r.log.Warn("read replica down: its reads go to the primary", "replica", rep.index+1, "err", oneLine(err))
	}
}

// usable: caught up past notBefore and at most the window behind now.
func (r *Router) usable(rep *replica, notBefore, now time.Time) bool {
	at := rep.caughtUp.Load()
	return at != 0 && at > notBefore.UnixNano() && now.Sub(time.Unix(0, at)) <= r.window
}

// pick returns a usable replica that has replayed the WAL up to after
// (0: anything), round robin, or nil.
func (r *Router) pick(notBefore time.Time, after uint64) *replica {
	now := r.now()
	n := len(r.replicas)
	start := int(r.next.Add(1))
	for i := range n {
		if rep := r.replicas[(start+i)%n]; r.usable(rep, notBefore, now) && rep.replayed.Load() >= after {
			return rep
		}
	}
	return nil
}

// route says which replica may serve a read with ctx, or nil for the primary.
func (r *Router) route(ctx context.Context) *replica {
	st := readStateOf(ctx)
	switch {
	case st == nil:
		r.reads.WithLabelValues("primary", "not_api_read").Inc()
		return nil
	case st.wrote.Load():
		r.reads.WithLabelValues("primary", "own_write").Inc()
		return nil
	}
	rep := r.pick(st.notBefore, st.after)
	if rep == nil {
		if (!st.notBefore.IsZero() || st.after != 0) && r.Usable() > 0 {
			// Usable replicas, but none has replayed the caller's last write yet.
			r.reads.WithLabelValues("primary", "after_own_write").Inc()
		} else {
			r.reads.WithLabelValues("primary", "no_replica").Inc()
		}
		return nil
	}
	r.reads.WithLabelValues("replica", "allowed").Inc()
	return rep
}

// replicaFault tells an error of the replica (down, restarting, a query
// cancelled by recovery) from one of the query itself, which the primary
// would return too.
func (r *Router) replicaFault(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57", "58", "XX": // connection, resources, operator intervention, system
			return true
		}
		// 40001 on a standby is "canceling statement due to conflict with recovery".
		return pgErr.Code == "40001"
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

func (r *Router) fallBack(ctx context.Context, rep *replica, err error) bool {
	if !r.replicaFault(ctx, err) {
		return false
	}
	r.markDown(rep, err)
	r.reads.WithLabelValues("primary", "replica_failed").Inc()
	return true
}

// QueryContext, QueryRowContext, ExecContext and PrepareContext make the
// Router a gorm.ConnPool.
func (r *Router) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if rep := r.route(ctx); rep != nil {
		rows, err := rep.db.QueryContext(ctx, query, args...)
		if err == nil || !r.fallBack(ctx, rep, err) {
			return rows, err
		}
	}
	return r.primary.QueryContext(ctx, query, args...)
}

func (r *Router) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if rep := r.route(ctx); rep != nil {
		row := rep.db.QueryRowContext(ctx, query, args...)
		if err := row.Err(); err == nil || !r.fallBack(ctx, rep, err) {
			return row
		}
	}
	return r.primary.QueryRowContext(ctx, query, args...)
}

func (r *Router) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.primary.ExecContext(ctx, query, args...)
}

func (r *Router) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return r.primary.PrepareContext(ctx, query)
}

// ReadState is what a context carries about its caller's reads.
type ReadState struct {
	notBefore time.Time
	after     uint64 // a WAL position the replica must have replayed
	wrote     atomic.Bool
}

// Wrote reports whether a write was made with the context.
func (s *ReadState) Wrote() bool { return s != nil && s.wrote.Load() }

type readStateKey struct{}

// ReplicaReads returns a context whose reads may be served by a replica
// that has caught up past notBefore (the caller's last write; zero: none
// known), until the first write made with it: from then on its reads go
// to the primary (a request reads its own writes).
func ReplicaReads(ctx context.Context, notBefore time.Time) (context.Context, *ReadState) {
	st := &ReadState{notBefore: notBefore}
	return context.WithValue(ctx, readStateKey{}, st), st
}

// ReplicaReadsAfter is ReplicaReads for a caller whose last write is
// known by its WAL position (LastWrite): only a replica that has replayed
// the WAL past it serves the reads.
func ReplicaReadsAfter(ctx context.Context, after uint64) (context.Context, *ReadState) {
	st := &ReadState{after: after}
	return context.WithValue(ctx, readStateKey{}, st), st
}

// Read-your-writes across API processes. Each process of a fleet behind a
// load balancer may serve a user's next read, so the position of a user's
// last write is kept where every process sees it: a row of
// user_last_writes on the primary (migration 33), written when a writing
// request of the user answers. A read looks it up there (one primary
// key read on the primary) and uses a replica only once that replica has
// replayed the WAL past it. Positions are PostgreSQL's, not clocks, so
// the hosts' clocks do not matter.

// RecordWrite stores, as user's last write, the primary's WAL insert
// position now: every transaction the user's request committed ends
// before it.
func (r *Router) RecordWrite(ctx context.Context, user int64) error {
	tx, err := r.primary.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// The row is visible to every session once committed; waiting for its
	// flush to disk would cost 0.5 ms here against 0.17 ms. A mark lost
	// to a crash of the primary leaves that user's next reads at most the
	// lag window stale, as any reader's are.
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_last_writes (user_id, lsn, at)
		VALUES ($1, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, now())
		ON CONFLICT (user_id) DO UPDATE SET lsn = GREATEST(user_last_writes.lsn, EXCLUDED.lsn), at = EXCLUDED.at`, user); err != nil {
		return err
	}
	return tx.Commit()
}

// LastWrite returns the WAL position of user's last write (RecordWrite),
// 0 if none is recorded.
func (r *Router) LastWrite(ctx context.Context, user int64) (uint64, error) {
	var lsn int64
	err := r.primary.QueryRowContext(ctx, `SELECT lsn FROM user_last_writes WHERE user_id = $1`, user).Scan(&lsn)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return uint64(lsn), nil
}

// PrimaryReads returns a context whose reads go to the primary even where
// ctx allowed a replica.
func PrimaryReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, readStateKey{}, (*ReadState)(nil))
}

func readStateOf(ctx context.Context) *ReadState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(readStateKey{}).(*ReadState)
	return st
}

// markWrites flags the context of every write statement, so the reads
// that follow it with the same context go to the primary.
func markWrites(db *gorm.DB) {
	mark := func(tx *gorm.DB) {
		if st := readStateOf(tx.Statement.Context); st != nil {
			st.wrote.Store(true)
		}
	}
	cb := db.Callback()
	_ = cb.Create().Before("*").Register("waldur:mark_write", mark)
	_ = cb.Update().Before("*").Register("waldur:mark_write", mark)
	_ = cb.Delete().Before("*").Register("waldur:mark_write", mark)
	_ = cb.Raw().Before("*").Register("waldur:mark_write", mark)
}
