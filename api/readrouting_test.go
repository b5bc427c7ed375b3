package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestReadReplicaRouting runs the whole API on a database with a real hot
// standby: safe requests read from the standby, a user's reads after their
// own write come from the primary while the standby has not replayed it
// (replay is paused, so it provably has not), other users keep reading
// from the standby, and once it has replayed the writer reads from it again.
func TestReadReplicaRouting(t *testing.T) {
	db := dbtest.Migrated(t, config.Postgres)
	dsn := dbtest.ReplicaDSNExclusive(t, db) // it pauses replay
	r, err := database.EnableReplicas(db, []string{dsn}, database.ReplicaOptions{Window: 3 * time.Second, Interval: 100 * time.Millisecond}, nil)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	waitFor(t, 30*time.Second, "the standby serves reads", func() bool { return r.Usable() == 1 })

	st := store.New(db)
	tokens := map[string]string{}
	for _, u := range []models.User{{Username: "staff", IsStaff: true}, {Username: "other", IsStaff: true}} {
		u.IsActive = true
		require.NoError(t, st.CreateUser(context.Background(), &u, "secret-pass"))
		tok, err := st.EnsureToken(context.Background(), u.ID)
		require.NoError(t, err)
		tokens[u.Username] = tok.Key
	}
	do, standby := probedAPI(t, db, tokens)
	require.True(t, standby("staff"), "a GET was not served by the standby")
	require.True(t, standby(""), "an anonymous GET was not served by the standby")
	w := do("GET", "/api/customers/", "staff", nil)
	require.Equal(t, 200, w.Code, w.Body.String())

	rdb, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() }) // after the resume below (cleanups run last first)
	_, err = rdb.Exec(`SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = rdb.Exec(`SELECT pg_wal_replay_resume()`) })

	w = do("POST", "/api/customers/", "staff", map[string]any{"name": "Acme"})
	require.Equal(t, 201, w.Code, w.Body.String())
	var created struct{ UUID string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &created))
	// Right after the write, the writer reads it back: from the primary.
	w = do("GET", "/api/customers/"+created.UUID+"/", "staff", nil)
	require.Equal(t, 200, w.Code, "the writer's read after the write: %s", w.Body.String())
	require.False(t, standby("staff"), "the writer's read after the write was served by the stale standby")
	// Another user still reads from the standby, which is within the window.
	require.True(t, standby("other"), "another user's read left the standby")

	_, err = rdb.Exec(`SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the writer reads from the standby once it has their write", func() bool { return standby("staff") })
	w = do("GET", "/api/customers/"+created.UUID+"/", "staff", nil)
	require.Equal(t, 200, w.Code, "the standby lacks the write it was proved to have: %s", w.Body.String())

	// /metrics shows the routing and the business metrics beside the HTTP ones.
	w = do("GET", "/metrics", "", nil)
	require.Equal(t, 200, w.Code)
	for _, want := range []string{`waldur_db_reads_total{reason="allowed",target="replica"}`, `waldur_db_replica_up{replica="1"} 1`,
		`waldur_db_reads_total{reason="after_own_write",target="primary"}`, `waldur_business_metrics_up{source="database"} 1`,
		`waldur_http_requests_total{`} {
		require.Contains(t, w.Body.String(), want)
	}

	// The standby stops while users list and retrieve: no request fails.
	if os.Geteuid() != 0 {
		t.Skip("stopping the standby needs root (scripts/pg-replica-down.sh)")
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	script := func(name string, args ...string) {
		out, err := exec.Command("bash", append([]string{filepath.Join("..", "scripts", name), u.Port()}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
	}
	t.Cleanup(func() { script("pg-replica-up.sh") })
	var stop atomic.Bool
	var served, failed atomic.Int64
	var wg sync.WaitGroup
	for _, path := range []string{"/api/customers/", "/api/customers/" + created.UUID + "/", "/api/test-probe/"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if w := do("GET", path, "other", nil); w.Code != 200 {
					failed.Add(1)
					t.Errorf("GET %s while the standby stopped: %d %s", path, w.Code, w.Body.String())
				}
				served.Add(1)
			}
		}()
	}
	waitFor(t, 10*time.Second, "requests served", func() bool { return served.Load() > 30 })
	script("pg-replica-down.sh", "--keep")
	after := served.Load()
	waitFor(t, 10*time.Second, "requests served after the standby stopped", func() bool { return served.Load() > after+100 })
	stop.Store(true)
	wg.Wait()
	require.Zero(t, failed.Load())
	require.False(t, standby("other"), "a read was served by the stopped standby")
	script("pg-replica-up.sh")
	waitFor(t, 30*time.Second, "the restarted standby serves reads again", func() bool { return standby("other") })
}

// probedAPI serves the whole API on db, plus /api/test-probe/, which
// answers whether the connection serving the request's reads is the
// standby's. do sends a request as the user (of tokens; "" anonymous),
// standby asks the probe.
func probedAPI(t *testing.T, db *gorm.DB, tokens map[string]string) (do func(method, path, user string, body any) *httptest.ResponseRecorder, standby func(user string) bool) {
	srv, err := app.NewAPIConfig(db, nil, nil, config.Default())
	require.NoError(t, err)
	srv.Engine().GET("/api/test-probe/", func(c *gin.Context) {
		var b bool
		if err := db.WithContext(c.Request.Context()).Raw(`SELECT pg_is_in_recovery()`).Scan(&b).Error; err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"detail": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"standby": b})
	})
	do = func(method, path, user string, body any) *httptest.ResponseRecorder {
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.Header.Set("Authorization", "Token "+tokens[user])
		}
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		return w
	}
	standby = func(user string) bool {
		t.Helper()
		w := do("GET", "/api/test-probe/", user, nil)
		require.Equal(t, 200, w.Code, w.Body.String())
		var b struct{ Standby bool }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
		return b.Standby
	}
	return do, standby
}

// TestReadYourWritesAcrossProcesses runs two API "processes", each with
// its own connection pools and replica router, on one primary and its hot
// standby, as two replicas behind a load balancer without affinity: a
// user writes through one and reads right after through the other while
// the standby has provably not replayed the write (replay paused). The
// read must come from the primary and see the write; another user's read
// still uses the standby; once replay resumes the writer reads from it.
func TestReadYourWritesAcrossProcesses(t *testing.T) {
	dbA := dbtest.Migrated(t, config.Postgres)
	standbyDSN := dbtest.ReplicaDSNExclusive(t, dbA) // it pauses replay
	var name string
	require.NoError(t, dbA.Raw(`SELECT current_database()`).Scan(&name).Error)
	dbB, err := database.OpenDSN(context.Background(), config.Postgres, dbtest.DSN(t, name), nil)
	require.NoError(t, err)
	t.Cleanup(func() { database.Close(dbB) })
	for _, db := range []*gorm.DB{dbA, dbB} {
		r, err := database.EnableReplicas(db, []string{standbyDSN}, database.ReplicaOptions{Window: 3 * time.Second, Interval: 100 * time.Millisecond}, nil)
		require.NoError(t, err)
		t.Cleanup(r.Close)
		waitFor(t, 30*time.Second, "the standby serves reads", func() bool { return r.Usable() == 1 })
	}
	st := store.New(dbA)
	tokens := map[string]string{}
	for _, u := range []models.User{{Username: "writer", IsStaff: true}, {Username: "other", IsStaff: true}} {
		u.IsActive = true
		require.NoError(t, st.CreateUser(context.Background(), &u, "secret-pass"))
		tok, err := st.EnsureToken(context.Background(), u.ID)
		require.NoError(t, err)
		tokens[u.Username] = tok.Key
	}
	doA, _ := probedAPI(t, dbA, tokens)
	doB, standbyB := probedAPI(t, dbB, tokens)
	waitFor(t, 10*time.Second, "the standby has the users", func() bool { return standbyB("writer") && standbyB("other") })

	rdb, err := sql.Open("pgx", standbyDSN)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() }) // after the resume below (cleanups run last first)
	_, err = rdb.Exec(`SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = rdb.Exec(`SELECT pg_wal_replay_resume()`) })

	for i := range 3 {
		w := doA("POST", "/api/customers/", "writer", map[string]any{"name": fmt.Sprintf("Acme %d", i)})
		require.Equal(t, 201, w.Code, w.Body.String())
		var created struct{ UUID string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &created))
		// Right after, on the other process: the write is there.
		w = doB("GET", "/api/customers/"+created.UUID+"/", "writer", nil)
		require.Equal(t, 200, w.Code, "the writer's read on the other process after the write: %s", w.Body.String())
		require.False(t, standbyB("writer"), "the writer's read on the other process was served by the stale standby")
		require.True(t, standbyB("other"), "another user's read left the standby")
	}
	_, err = rdb.Exec(`SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the writer reads from the standby once it has their write", func() bool { return standbyB("writer") })
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
