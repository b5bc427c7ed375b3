package database_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// withReplica returns a fresh PostgreSQL database whose reads may go to the
// test hot standby, once the standby is proved caught up.
func withReplica(t *testing.T, window time.Duration, exclusive bool) (*gorm.DB, *database.Router, string) {
	t.Helper()
	db := dbtest.Empty(t, config.Postgres)
	dsn := dbtest.ReplicaDSN
	if exclusive { // the test pauses or stops the standby
		dsn = dbtest.ReplicaDSNExclusive
	}
	return openReplica(t, db, dsn(t, db), window)
}

func openReplica(t *testing.T, db *gorm.DB, dsn string, window time.Duration) (*gorm.DB, *database.Router, string) {
	t.Helper()
	if err := db.Exec(`CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	r, err := database.EnableReplicas(db, []string{dsn}, database.ReplicaOptions{Window: window, Interval: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	eventually(t, 30*time.Second, "the replica serves reads", func() bool { return r.Usable() == 1 })
	return db, r, dsn
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inRecovery reports whether the connection that served a read with ctx is
// the standby's.
func inRecovery(t *testing.T, db *gorm.DB, ctx context.Context) bool {
	t.Helper()
	var b bool
	if err := db.WithContext(ctx).Raw(`SELECT pg_is_in_recovery()`).Scan(&b).Error; err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReplicaRouting(t *testing.T) {
	db, r, _ := withReplica(t, 5*time.Second, false)
	bg := context.Background()
	api, _ := database.ReplicaReads(bg, time.Time{})

	if !inRecovery(t, db, api) {
		t.Error("an API read was not served by the replica")
	}
	if inRecovery(t, db, bg) {
		t.Error("a read outside the API (worker, activity) was served by the replica")
	}
	if inRecovery(t, db, database.PrimaryReads(api)) {
		t.Error("PrimaryReads was served by the replica")
	}
	// A model query (what list and retrieve handlers run) goes there too.
	type note struct {
		ID   int
		Body string
	}
	var notes []note
	if err := db.WithContext(api).Table("notes").Find(&notes).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.WithContext(api).Transaction(func(tx *gorm.DB) error {
		if inRecovery(t, tx, api) {
			t.Error("a read inside a transaction was served by the replica")
		}
		return tx.Exec(`INSERT INTO notes (body) VALUES ('in tx')`).Error
	}); err != nil {
		t.Fatal(err)
	}

	// Read-your-writes in one request: after its first write, a context's reads go to the primary.
	req, st := database.ReplicaReads(bg, time.Time{})
	if !inRecovery(t, db, req) {
		t.Fatal("before writing, the request's read was not served by the replica")
	}
	if err := db.WithContext(req).Table("notes").Create(map[string]any{"body": "mine"}).Error; err != nil {
		t.Fatal(err)
	}
	if !st.Wrote() {
		t.Error("the write was not noted")
	}
	var n int64
	if err := db.WithContext(req).Table("notes").Where("body = ?", "mine").Count(&n).Error; err != nil || n != 1 {
		t.Errorf("own write read back: %d rows, %v", n, err)
	}
	if inRecovery(t, db, req) {
		t.Error("after its write, the request's read was served by the replica")
	}

	// Across requests: a caller whose last write was at w reads from a
	// replica only once it is proved to have caught up past w.
	w := time.Now()
	if err := db.Exec(`INSERT INTO notes (body) VALUES ('later')`).Error; err != nil {
		t.Fatal(err)
	}
	next, _ := database.ReplicaReads(bg, w)
	if inRecovery(t, db, next) {
		// Only possible if a check began after w and proved the write replayed.
		var seen int64
		db.WithContext(next).Table("notes").Where("body = ?", "later").Count(&seen)
		if seen != 1 {
			t.Error("the replica served a caller's read before it had their write")
		}
	}
	eventually(t, 10*time.Second, "the replica serves the writer once caught up", func() bool {
		ctx, _ := database.ReplicaReads(bg, w)
		if !inRecovery(t, db, ctx) {
			return false
		}
		var seen int64
		if err := db.WithContext(ctx).Table("notes").Where("body = ?", "later").Count(&seen).Error; err != nil || seen != 1 {
			t.Fatalf("the replica serves the writer without their write: %d, %v", seen, err)
		}
		return true
	})
	if r.Window() != 5*time.Second {
		t.Errorf("window %s", r.Window())
	}
}

// TestReplicaLagging pauses replay on the standby: it falls behind, and
// within the window its reads move to the primary; none is ever staler than
// the window.
func TestReplicaLagging(t *testing.T) {
	const window = time.Second
	db, r, dsn := withReplica(t, window, true)
	rdb, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() }) // after the resume below (cleanups run last first)
	if _, err := rdb.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = rdb.Exec(`SELECT pg_wal_replay_resume()`) })

	if err := db.Exec(`INSERT INTO notes (body) VALUES ('while paused')`).Error; err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	eventually(t, 10*time.Second, "the lagging replica stops serving reads", func() bool {
		ctx, _ := database.ReplicaReads(context.Background(), time.Time{})
		var n int64
		if err := db.WithContext(ctx).Table("notes").Where("body = ?", "while paused").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n == 0 && time.Since(written) > window+500*time.Millisecond {
			t.Fatalf("a read %s after the write did not see it (window %s)", time.Since(written), window)
		}
		return r.Usable() == 0 && n == 1
	})
	ctx, _ := database.ReplicaReads(context.Background(), time.Time{})
	if inRecovery(t, db, ctx) {
		t.Error("the lagging replica still serves reads")
	}
	if _, err := rdb.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the replica serves reads again once replayed", func() bool { return r.Usable() == 1 })
}

// TestReplicaStopped stops the standby while readers run: no read fails,
// they move to the primary, and back once it is up again.
func TestReplicaStopped(t *testing.T) {
	db, r, dsn := withReplica(t, 5*time.Second, true)
	if os.Geteuid() != 0 {
		t.Skip("stopping the standby needs root (scripts/pg-replica-down.sh)")
	}
	u, _ := url.Parse(dsn)
	port := u.Port()
	scripts, _ := filepath.Abs("../../scripts")
	run := func(script string, args ...string) {
		out, err := exec.Command("bash", append([]string{filepath.Join(scripts, script), port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	t.Cleanup(func() { run("pg-replica-up.sh") }) // whatever happens, the standby is left running

	var (
		stop                     atomic.Bool
		reads, onReplica, failed atomic.Int64
		firstErr                 atomic.Value
		wg                       sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				ctx, _ := database.ReplicaReads(context.Background(), time.Time{})
				var b bool
				if err := db.WithContext(ctx).Raw(`SELECT pg_is_in_recovery()`).Scan(&b).Error; err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				reads.Add(1)
				if b {
					onReplica.Add(1)
				}
			}
		}()
	}
	eventually(t, 10*time.Second, "reads served by the replica", func() bool { return onReplica.Load() > 20 })
	run("pg-replica-down.sh", "--keep") // stopped as a server stops: its clients are cut off
	before := reads.Load()
	eventually(t, 10*time.Second, "reads go on after the standby stopped", func() bool { return reads.Load() > before+100 })
	if r.Usable() != 0 {
		t.Error("the stopped replica is still counted usable")
	}
	ctx, _ := database.ReplicaReads(context.Background(), time.Time{})
	if inRecovery(t, db, ctx) {
		t.Error("a read was served by a stopped standby")
	}
	stop.Store(true)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		err, _ := firstErr.Load().(error)
		t.Fatalf("%d of %d reads failed while the standby stopped; first: %v", n, reads.Load()+n, err)
	}
	run("pg-replica-up.sh")
	eventually(t, 30*time.Second, "the restarted standby serves reads again", func() bool { return r.Usable() == 1 })
	if !inRecovery(t, db, ctx) {
		t.Error("reads did not return to the restarted standby")
	}
}

// TestSQLiteWithoutReplicas: the embedded default is untouched by the
// replica machinery, and a read URL beside SQLite is refused.
func TestSQLiteWithoutReplicas(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	db, kind, err := database.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	if kind != config.SQLite || database.ReplicasOf(db) != nil {
		t.Fatalf("kind %s, replicas %v", kind, database.ReplicasOf(db))
	}
	ctx, _ := database.ReplicaReads(context.Background(), time.Time{})
	if err := db.WithContext(ctx).Exec(`CREATE TABLE t (x int)`).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.WithContext(ctx).Table("t").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseReadURLs = []string{"postgres://h/db"}
	if _, _, err := database.Open(context.Background(), cfg, nil); err == nil {
		t.Fatal("a read URL beside SQLite was accepted")
	}
}
