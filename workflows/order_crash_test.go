package workflows_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/workflows"
)

// diskProvider is a slow provider whose backend is a directory, behaving
// like a cloud: every create makes a new resource with a fresh id (a file
// resources/<id> holding the order's UUID, written whole by a rename), and
// the provider is idempotent by looking up a resource tagged with the
// order before creating one. A duplicate creation would show as two files
// naming the same order.
type diskProvider struct {
	dir   string
	delay time.Duration
}

func (p diskProvider) Name() string                                      { return "disk" }
func (p diskProvider) Validate(context.Context, providers.Request) error { return nil }
func (p diskProvider) Update(context.Context, providers.Request) (providers.Result, error) {
	return providers.Result{Done: true}, nil
}
func (p diskProvider) Terminate(context.Context, providers.Request) (providers.Result, error) {
	return providers.Result{Done: true}, nil
}
func (p diskProvider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	select {
	case <-ctx.Done():
		return providers.Result{}, ctx.Err()
	case <-time.After(p.delay):
	}
	dir := filepath.Join(p.dir, "resources")
	owners, err := resourceOwners(dir)
	if err != nil {
		return providers.Result{}, err
	}
	for id, order := range owners { // look up before create
		if order == r.OrderUUID.String() {
			return providers.Result{Done: true, BackendID: id}, nil
		}
	}
	id := models.NewUUID().String()
	tmp := filepath.Join(dir, id+".tmp")
	if err := os.WriteFile(tmp, []byte(r.OrderUUID.String()), 0o600); err != nil {
		return providers.Result{}, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, id)); err != nil {
		return providers.Result{}, err
	}
	// Wait for it to boot, as a cloud's create does: a worker killed now
	// leaves a resource its retry must find rather than make again.
	select {
	case <-ctx.Done():
		return providers.Result{}, ctx.Err()
	case <-time.After(2 * p.delay):
	}
	return providers.Result{Done: true, BackendID: id}, nil
}

// resourceOwners reads the disk backend: resource id → order UUID.
func resourceOwners(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = string(data)
	}
	return out, nil
}

const crashQueue = "disk"

// runCrashWorker is the body of the worker process the crash test starts
// (the test binary re-executed with WALDUR_CRASH_WORKER set).
func runCrashWorker() {
	ctx := context.Background()
	db, err := database.OpenDSN(ctx, config.SQLite, os.Getenv("CRASH_DB"), nil)
	if err != nil {
		panic(err)
	}
	c, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: os.Getenv("CRASH_TEMPORAL"), Namespace: "default"})
	if err != nil {
		panic(err)
	}
	workflows.SetOrderPolicies(fastPolicies())
	reg := providers.NewRegistry()
	reg.Register(diskProvider{dir: os.Getenv("CRASH_DIR"), delay: 200 * time.Millisecond}, crashQueue, "Test.Disk")
	st := store.New(db)
	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		workflows.RegisterOrders(w, &activities.Orders{Store: st, Providers: reg}, &workflows.OrderDispatcher{Store: st})
	})
	wr.Add(crashQueue, func(w worker.Registry) {
		workflows.RegisterProvision(w, &activities.Provision{Providers: reg, HeartbeatEvery: 100 * time.Millisecond})
	})
	if _, err := wr.Start(c, []string{workflows.QueueCore, crashQueue}, worker.Options{MaxConcurrentActivityExecutionSize: 8}); err != nil {
		panic(err)
	}
	fmt.Println("worker ready")
	select {}
}

func TestMain(m *testing.M) {
	if os.Getenv("WALDUR_CRASH_WORKER") != "" {
		runCrashWorker()
		return
	}
	os.Exit(m.Run())
}

func countResources(t *testing.T, dir string) int {
	owners, err := resourceOwners(filepath.Join(dir, "resources"))
	require.NoError(t, err)
	return len(owners)
}

// TestOrdersSurviveWorkerCrash: 50 orders in flight on a slow provider; the
// worker process is killed (SIGKILL) mid-way and another started: every
// order ends done, and the backend saw exactly one create per order.
func TestOrdersSurviveWorkerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	db := dbtest.Migrated(t, config.SQLite)
	var dbPath string
	require.NoError(t, db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&dbPath).Error)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "resources"), 0o700))
	e := &orderEnv{st: store.New(db), db: db, c: c, offering: map[string]int64{}}
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	cust := ins("customers", map[string]any{"name": "c", "accounting_start_date": now, "created": now, "modified": now})
	e.project = ins("projects", map[string]any{"name": "p", "customer_id": cust, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "x", "created": now, "modified": now})
	e.offering["Test.Disk"] = ins("offerings", map[string]any{"name": "disk", "customer_id": cust, "category_id": cat, "type": "Test.Disk", "state": models.OfferingActive, "created": now, "modified": now})

	startWorker := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "WALDUR_CRASH_WORKER=1", "CRASH_DB="+dbPath, "CRASH_TEMPORAL="+srv.Addr, "CRASH_DIR="+dir)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		return cmd
	}
	w1 := startWorker()

	const n = 50
	var orders []*models.Order
	for i := 0; i < n; i++ {
		o := e.order(t, "Test.Disk")
		require.NoError(t, workflows.StartOrder(ctx, c, o.UUID))
		orders = append(orders, o)
	}
	// Kill the worker once some, but not all, resources exist.
	deadline := time.Now().Add(2 * time.Minute)
	for countResources(t, dir) < 10 {
		require.True(t, time.Now().Before(deadline), "the first worker made no progress")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	before := countResources(t, dir)
	require.Less(t, before, n, "killed mid-way")

	t.Logf("killed after %d creations", before)
	killedAt := time.Now()
	startWorker()
	for _, o := range orders {
		require.Equal(t, models.OrderDone, e.result(t, o), "order %s", o.UUID)
	}
	t.Logf("all done %s after the kill", time.Since(killedAt))
	owners, err := resourceOwners(filepath.Join(dir, "resources"))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, order := range owners {
		require.False(t, seen[order], "order %s created twice", order)
		seen[order] = true
	}
	require.Len(t, seen, n, "exactly one create per order")
	var done int64
	require.NoError(t, db.Table("orders").Where("state = ?", models.OrderDone).Count(&done).Error)
	require.EqualValues(t, n, done)
}
