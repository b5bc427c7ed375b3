package topology_test

// TestProductionTopology: the production layout as separate OS processes —
// a Temporal server on PostgreSQL (this test binary re-executed, see
// TestMain), two `waldur api` replicas, `waldur worker --queue core` and a
// worker per provider queue (basic, script, openstack) — with the OpenStack
// emulator in the test process. 200 orders go through both replicas while
// one replica, the core worker and the Temporal server are SIGKILLed and
// restarted; then every accepted order must be done exactly once, the
// emulator hold exactly what the orders asked for, the quotas count the
// resources, and the invoices equal a fresh recomputation.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx": creating and dropping the test's databases
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/topology"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// The test binary is also the Temporal server process: TestMain runs the
// role named by envRole with the topology.Temporal given (as JSON) in
// envTemporal, instead of the tests.
const (
	envRole     = "WALDUR_TOPOLOGY_ROLE" // "temporal-schema" or "temporal"
	envTemporal = "WALDUR_TOPOLOGY_TEMPORAL"
	readyLine   = "topology: temporal is serving"
)

func TestMain(m *testing.M) {
	role := os.Getenv(envRole)
	if role == "" {
		os.Exit(m.Run())
	}
	var o topology.Temporal
	if err := json.Unmarshal([]byte(os.Getenv(envTemporal)), &o); err != nil {
		fmt.Fprintf(os.Stderr, "topology: %s: %v\n", envTemporal, err)
		os.Exit(2)
	}
	switch role {
	case "temporal-schema":
		if err := o.SetupSchema(); err != nil {
			fmt.Fprintf(os.Stderr, "topology: %v\n", err)
			os.Exit(1)
		}
		fmt.Println("topology: schema installed")
	case "temporal":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		err := o.Run(ctx, func() { fmt.Println(readyLine, o.FrontendAddr()) })
		if err != nil {
			fmt.Fprintf(os.Stderr, "topology: temporal: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "topology: unknown role %q\n", role)
		os.Exit(2)
	}
	os.Exit(0)
}

// The orders: a few tenants first, then a mix in which the instances and
// volumes go into those tenants. 200 in all.
const (
	nTenants   = 5
	nInstances = 25
	nVolumes   = 10
	nScript    = 80
	nBasic     = 80
	nOrders    = nTenants + nInstances + nVolumes + nScript + nBasic
	placers    = 6                      // clients placing orders at once
	placeEvery = 120 * time.Millisecond // the pace of new orders
)

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresURL is the server the test creates its databases on: that of
// WALDUR_TEST_DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 as user
// postgres. Unreachable, the test skips (fails under CI=true, where
// PostgreSQL is part of the set-up); WALDUR_TEST_DATABASE_URL set empty
// (make test-sqlite) skips it as well.
func postgresURL(t *testing.T) string {
	raw, set := os.LookupEnv(dbtest.EnvPostgres)
	if set && raw == "" {
		t.Skip(dbtest.EnvPostgres + " is set empty (SQLite only): the production topology needs PostgreSQL")
	}
	if raw == "" {
		raw = defaultPostgres
	}
	db, err := sql.Open("pgx", raw)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable (%v): the production topology test needs it", redact(raw), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true)")
		}
		t.Skip(msg)
	}
	return raw
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomSuffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func dropDatabase(t *testing.T, admin *sql.DB, name string) {
	if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
		t.Errorf("drop %s: %v", name, err)
	}
}

func withDatabase(t *testing.T, raw, name string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// topo is the running topology.
type topo struct {
	t         *testing.T
	dir       string
	waldur    string // the built binary
	env       []string
	temporal  *proc
	tempAddr  string
	apis      []*proc
	apiAddrs  []string
	core      *proc
	providers []*proc // basic, script, openstack workers
	all       []*proc
	emu       *openstacktest.HTTPServer
	dbURL     string
	// diagnosis is what diagnose found, logged again after the processes'
	// logs so that it ends the output (CI keeps only the output's tail).
	diagnosis strings.Builder
}

// waldurProc is a process of the built binary with the topology's settings.
func (tp *topo) waldurProc(name string, extraEnv []string, args ...string) *proc {
	p := newProc(tp.dir, name, tp.waldur, append(append([]string(nil), tp.env...), extraEnv...), args...)
	tp.all = append(tp.all, p)
	return p
}

func (tp *topo) waitAPI(i int) {
	tp.t.Helper()
	url := "http://" + tp.apiAddrs[i] + "/health-check/"
	c := newAPIClient("")
	tp.apis[i].waitFor(tp.t, "healthy", 60*time.Second, func() bool {
		code, _, _ := c.call(0, "GET", url, nil, nil)
		return code == 200
	})
}

func (tp *topo) waitWorker(p *proc) {
	tp.t.Helper()
	p.waitLog(tp.t, "waldur worker is running", 60*time.Second)
}

func (tp *topo) waitTemporal() {
	tp.t.Helper()
	tp.temporal.waitLog(tp.t, readyLine, 90*time.Second)
}

// placed is an order the API accepted (201).
type placed struct {
	uuid, kind, name, resource string
	at                         time.Time
}

// run is the state of the drive, shared by the test's goroutines.
type run struct {
	mu        sync.Mutex
	accepted  map[string]*placed // order uuid →
	states    map[string]string  // order uuid → state, as last listed
	doneAt    map[string]time.Time
	ambiguous int // POSTs whose answer was lost (reset, timeout): the order may or may not exist
	refusals  []string
	nAccepted atomic.Int64
}

func (r *run) inFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range r.accepted {
		if r.states[id] != "done" {
			n++
		}
	}
	return n
}

func TestProductionTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the production topology test runs separate processes for minutes")
	}
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap (bubblewrap) is not installed: Script offerings run in its sandbox (apt-get install bubblewrap)")
	}
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		t.Skip("slirp4netns is not installed: the Script sandbox's isolated network needs it (apt-get install slirp4netns)")
	}
	pgURL := postgresURL(t)
	began := time.Now()
	ctx := context.Background()
	// The processes' logs stay on disk when the test fails (the path is logged).
	dir, err := os.MkdirTemp("", "waldur-topology-")
	require.NoError(t, err)
	tp := &topo{t: t, dir: dir}
	// At the end, in this order: the processes stop (SIGTERM, then SIGKILL),
	// their logs are shown if the test failed, the databases are dropped.
	var drop []func()
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, p := range tp.all {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop() }()
		}
		wg.Wait()
		if tp.emu != nil {
			_ = tp.emu.Close()
		}
		if t.Failed() {
			printLogs(t, tp.all)
			t.Logf("the processes' logs are kept in %s", dir)
			if tp.diagnosis.Len() > 0 {
				t.Logf("the orders not done, again:\n%s", tp.diagnosis.String())
			}
		} else {
			_ = os.RemoveAll(dir)
		}
		for i := len(drop) - 1; i >= 0; i-- {
			drop[i]()
		}
	})

	// The binary, built once.
	tp.waldur = filepath.Join(tp.dir, "waldur")
	build := exec.Command("go", "build", "-o", tp.waldur, "github.com/waldur-go/waldur/cmd/waldur")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	t.Logf("built waldur in %s", time.Since(began).Round(time.Millisecond))

	// Fresh databases: Waldur's, and Temporal's two (created by temporal-sql-tool).
	admin, err := sql.Open("pgx", pgURL)
	require.NoError(t, err)
	drop = append(drop, func() { admin.Close() })
	suffix := randomSuffix()
	waldurDB, temporalDB, visibilityDB := "waldur_topology_"+suffix, "temporal_"+suffix, "temporal_vis_"+suffix
	drop = append(drop, func() {
		for _, db := range []string{waldurDB, temporalDB, visibilityDB} {
			dropDatabase(t, admin, db)
		}
	})
	_, err = admin.Exec("CREATE DATABASE " + waldurDB)
	require.NoError(t, err)
	tp.dbURL = withDatabase(t, pgURL, waldurDB)

	// Temporal on PostgreSQL, as its own process on fixed ports.
	pu, err := url.Parse(pgURL)
	require.NoError(t, err)
	pgUser, pgPassword := "postgres", ""
	if pu.User != nil {
		pgUser = pu.User.Username()
		pgPassword, _ = pu.User.Password()
	}
	pgHost := pu.Host
	if pu.Port() == "" {
		pgHost = net.JoinHostPort(pu.Hostname(), "5432")
	}
	ports := freePorts(t, 5)
	to := topology.Temporal{Postgres: pgHost, User: pgUser, Password: pgPassword,
		Database: temporalDB, VisibilityDatabase: visibilityDB, Host: "127.0.0.1",
		FrontendPort: ports[0], HTTPPort: ports[1], HistoryPort: ports[2], MatchingPort: ports[3], WorkerPort: ports[4]}
	spec, err := json.Marshal(to)
	require.NoError(t, err)
	self, err := os.Executable()
	require.NoError(t, err)
	temporalEnv := func(role string) []string {
		return append(cleanEnv(), envTemporal+"="+string(spec), envRole+"="+role)
	}
	schema := newProc(tp.dir, "temporal-schema", self, temporalEnv("temporal-schema"), "-test.run=^$")
	tp.all = append(tp.all, schema)
	schema.run(t, 2*time.Minute)
	tp.temporal = newProc(tp.dir, "temporal", self, temporalEnv("temporal"), "-test.run=^$")
	tp.all = append(tp.all, tp.temporal)
	tp.temporal.start(t)
	tp.tempAddr = to.FrontendAddr()

	// The OpenStack emulator, in this process (the openstack worker reaches it over HTTP).
	tp.emu, err = openstacktest.Start("127.0.0.1:0", openstacktest.Options{BuildDelay: 300 * time.Millisecond,
		VolumeDelay: 100 * time.Millisecond, ActionDelay: 100 * time.Millisecond, DeleteDelay: 100 * time.Millisecond})
	require.NoError(t, err)

	tp.env = append(cleanEnv(),
		config.EnvDatabaseURL+"="+tp.dbURL,
		config.EnvTemporalAddress+"="+tp.tempAddr,
		config.EnvDataDir+"="+filepath.Join(tp.dir, "data"),
		config.EnvLogLevel+"=info",
		config.EnvScriptRunMode+"=bwrap",
	)
	migrate := tp.waldurProc("migrate", nil, "migrate", "up")
	migrate.run(t, 2*time.Minute)
	users := tp.waldurProc("user-create", nil, "user", "create", "--username", "operator", "--staff")
	token := strings.TrimSpace(users.run(t, time.Minute))
	require.Regexp(t, `^[0-9a-f]{40}$`, token)

	tp.waitTemporal()
	t.Logf("Temporal on PostgreSQL serving at %s after %s", tp.tempAddr, time.Since(began).Round(time.Millisecond))
	tp.core = tp.waldurProc("worker-core", nil, "worker", "--queue", "core")
	tp.core.start(t)
	for _, q := range []string{"basic", "script", "openstack"} {
		w := tp.waldurProc("worker-"+q, nil, "worker", "--queue", q)
		w.start(t)
		tp.providers = append(tp.providers, w)
	}
	apiPorts := freePorts(t, 2)
	for i, port := range apiPorts {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		tp.apiAddrs = append(tp.apiAddrs, addr)
		a := tp.waldurProc("api-"+strconv.Itoa(i+1), []string{config.EnvHTTPAddr + "=" + addr}, "api")
		a.start(t)
		tp.apis = append(tp.apis, a)
	}
	for i := range tp.apis {
		tp.waitAPI(i)
	}
	tp.waitWorker(tp.core)
	for _, w := range tp.providers {
		tp.waitWorker(w)
	}
	t.Logf("topology up after %s", time.Since(began).Round(time.Millisecond))

	var bases []string
	for _, a := range tp.apiAddrs {
		bases = append(bases, "http://"+a)
	}
	api := newAPIClient(token, bases...)
	cat := setUpCatalog(t, api, tp.emu)

	// Drive the orders.
	r := &run{accepted: map[string]*placed{}, states: map[string]string{}, doneAt: map[string]time.Time{}}
	driveCtx, stopDrive := context.WithCancel(ctx)
	var bg, placing sync.WaitGroup
	defer func() { // on a failure too: nothing logs to t once the test has ended
		stopDrive()
		bg.Wait()
		placing.Wait()
	}()
	bg.Add(2)
	go func() { defer bg.Done(); watchOrders(driveCtx, t, api, r) }()
	go func() { defer bg.Done(); operateBasic(driveCtx, t, api, cat.basic.uuid) }()

	started := time.Now()
	jobs := make(chan job)
	for range placers {
		placing.Add(1)
		go func() {
			defer placing.Done()
			for j := range jobs {
				placeOrder(driveCtx, t, api, cat, r, j)
			}
		}()
	}
	go func() {
		// A steady stream (about 8 orders a second), so that every fault
		// lands while orders are still being placed.
		defer close(jobs)
		tick := time.NewTicker(placeEvery)
		defer tick.Stop()
		for _, j := range orderPlan() {
			select {
			case <-tick.C:
			case <-driveCtx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-driveCtx.Done():
				return
			}
		}
	}()

	// The faults, each while orders are in flight: one API replica, the
	// core worker, the Temporal server; SIGKILL, then a restart.
	type fault struct {
		after   int
		name    string
		p       *proc
		restart func()
	}
	// The Temporal server goes before the core worker: a restarted core
	// worker takes ~20 s to say it runs (it updates every Schedule), long
	// enough for a quiet machine to finish all the orders, so a later fault
	// would find none in flight; after the server's restart the orders
	// placed meanwhile wait in the outbox, so the core worker's kill always
	// meets some.
	faults := []fault{
		{30, "api-2", tp.apis[1], func() { tp.apis[1].start(t); tp.waitAPI(1) }},
		{80, "temporal", tp.temporal, func() { tp.temporal.start(t); tp.waitTemporal() }},
		{130, "worker-core", tp.core, func() { tp.core.start(t); tp.waitWorker(tp.core) }},
	}
	for _, f := range faults {
		deadline := time.Now().Add(2 * time.Minute)
		for r.nAccepted.Load() < int64(f.after) {
			require.True(t, time.Now().Before(deadline), "only %d orders accepted before killing %s", r.nAccepted.Load(), f.name)
			time.Sleep(20 * time.Millisecond)
		}
		inFlight := r.inFlight()
		killed := time.Now()
		f.p.kill(t)
		t.Logf("SIGKILLed %s at %s: %d orders accepted, %d of them in flight", f.name,
			time.Since(started).Round(time.Millisecond), r.nAccepted.Load(), inFlight)
		require.Positive(t, inFlight, "orders are in flight when %s is killed", f.name)
		f.restart()
		t.Logf("%s back after %s", f.name, time.Since(killed).Round(time.Millisecond))
	}
	placing.Wait()
	placedIn := time.Since(started)
	t.Logf("%d orders accepted in %s (%d answers lost)", r.nAccepted.Load(), placedIn.Round(time.Millisecond), r.ambiguous)
	require.EqualValues(t, nOrders, r.nAccepted.Load(), "refused: %v", r.refusals)

	// Every order the database holds (the accepted ones, and any whose
	// answer was lost) ends done.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		all, err := api.list("GET", "/api/marketplace-orders/")
		if err == nil && len(all) >= nOrders && countState(all, "done") == len(all) {
			break
		}
		for _, o := range all {
			if s := str(o, "state"); s == "erred" || s == "rejected" || s == "canceled" {
				t.Fatalf("order %s (%s) ended %s: %v", str(o, "uuid"), str(o, "resource_name"), s, o["error_message"])
			}
		}
		if time.Now().After(deadline) {
			diagnose(t, tp, all)
			t.Fatalf("orders not done 3 min after the last was placed: %v (list error: %v)", stateCounts(all), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	allDone := time.Since(started)
	stopDrive()
	bg.Wait()
	t.Logf("all %d orders done %s after the first was placed: %.1f orders/s through the topology, kills and restarts included",
		nOrders, allDone.Round(time.Millisecond), float64(nOrders)/allDone.Seconds())

	checkOrdersAndResources(t, api, cat, r)
	checkEmulator(t, api, cat, tp.emu)
	checkQuotas(t, api, cat)
	checkInvoices(t, ctx, tp, api, cat)
	t.Logf("total %s (%d CPUs)", time.Since(began).Round(time.Millisecond), runtime.NumCPU())
}

// diagnose logs, for each order not done, what the API and Temporal know
// of it: its offering and state, its workflow's pending task and
// activities, and the end of its history.
func diagnose(t *testing.T, tp *topo, orders []map[string]any) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tc, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: tp.tempAddr, Namespace: "default"})
	if err != nil {
		t.Logf("diagnose: %v", err)
		return
	}
	defer tc.Close()
	for _, o := range orders {
		if str(o, "state") == "done" {
			continue
		}
		id := str(o, "uuid")
		wf := "order-" + id
		var b strings.Builder
		fmt.Fprintf(&b, "order %s %q (%s) %s, created %v, modified %v\n", id, str(o, "resource_name"), str(o, "offering_type"),
			str(o, "state"), o["created"], o["modified"])
		d, err := tc.DescribeWorkflowExecution(ctx, wf, "")
		if err != nil {
			fmt.Fprintf(&b, "  describe %s: %v\n", wf, err)
		} else {
			fmt.Fprintf(&b, "  workflow %s: %v, history length %d\n", wf, d.GetWorkflowExecutionInfo().GetStatus(),
				d.GetWorkflowExecutionInfo().GetHistoryLength())
			if wt := d.GetPendingWorkflowTask(); wt != nil {
				fmt.Fprintf(&b, "  pending workflow task: %v, attempt %d, scheduled %v, started %v\n", wt.GetState(), wt.GetAttempt(),
					wt.GetScheduledTime().AsTime(), wt.GetStartedTime().AsTime())
			}
			for _, a := range d.GetPendingActivities() {
				fmt.Fprintf(&b, "  pending activity %s: %v, attempt %d, last failure %v\n", a.GetActivityType().GetName(), a.GetState(),
					a.GetAttempt(), a.GetLastFailure().GetMessage())
			}
		}
		it := tc.GetWorkflowHistory(ctx, wf, "", false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				fmt.Fprintf(&b, "  history: %v\n", err)
				break
			}
			fmt.Fprintf(&b, "  %3d %s %v\n", ev.GetEventId(), ev.GetEventTime().AsTime().Format("15:04:05.000"), ev.GetEventType())
		}
		t.Log(b.String())
		tp.diagnosis.WriteString(b.String())
	}
}

func countState(orders []map[string]any, state string) int {
	n := 0
	for _, o := range orders {
		if str(o, "state") == state {
			n++
		}
	}
	return n
}

func stateCounts(orders []map[string]any) map[string]int {
	m := map[string]int{}
	for _, o := range orders {
		m[str(o, "state")]++
	}
	return m
}

// watchOrders lists the orders a few times a second and records their
// states (what the faults' "in flight" counts are taken from).
func watchOrders(ctx context.Context, t *testing.T, api *apiClient, r *run) {
	for ctx.Err() == nil {
		all, err := api.list("GET", "/api/marketplace-orders/?field=uuid&field=state")
		if err == nil {
			now := time.Now()
			r.mu.Lock()
			for _, o := range all {
				id, s := str(o, "uuid"), str(o, "state")
				r.states[id] = s
				if _, ok := r.doneAt[id]; !ok && s == "done" {
					r.doneAt[id] = now
				}
			}
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// operateBasic is the Basic offering's provider: it approves every order
// waiting for it and, once executing, marks it done — through whichever
// replica answers; a refusal (Temporal down: 503; the order still being
// handed to the provider: 409) is tried again on a later round. Each order
// is handled on its own, so one slow answer does not hold up the others.
func operateBasic(ctx context.Context, t *testing.T, api *apiClient, offering string) {
	var mu sync.Mutex
	busy := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		for _, step := range []struct{ state, action string }{{"pending-provider", "approve_by_provider"}, {"executing", "set_state_done"}} {
			orders, err := api.list("GET", "/api/marketplace-orders/?offering_uuid="+offering+"&state="+step.state+"&field=uuid")
			if err != nil {
				continue
			}
			for _, o := range orders {
				id := str(o, "uuid")
				mu.Lock()
				if busy[id] {
					mu.Unlock()
					continue
				}
				busy[id] = true
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { mu.Lock(); delete(busy, id); mu.Unlock() }()
					code, err := api.do("POST", "/api/marketplace-orders/"+id+"/"+step.action+"/", nil, nil)
					var he *httpError
					if err != nil && errors.As(err, &he) && code != 409 && code != 503 {
						t.Errorf("%s %s: %v", step.action, id, err)
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// offering is one offering of the catalog, with the URL of its plan.
type offering struct{ uuid, url, plan string }

type catalog struct {
	customer, customerUUID, project, projectUUID string
	basic, script, tenant, instance, volume      offering

	mu      sync.Mutex
	tenants [nTenants]*tenantInfo
}

// tenantInfo is a done tenant order with what instances in it are made of.
type tenantInfo struct {
	url, flavor, image, subnet, ssh string
}

// setUpCatalog creates, through the API, the customer (also the service
// provider), its project, a category and the five offerings, active.
func setUpCatalog(t *testing.T, api *apiClient, emu *openstacktest.HTTPServer) *catalog {
	t.Helper()
	var cust, proj, cat map[string]any
	api.must(t, 201, "POST", "/api/customers/", map[string]any{"name": "Topology University", "abbreviation": "TU"}, &cust)
	api.must(t, 201, "POST", "/api/projects/", map[string]any{"name": "Scale-out", "customer": cust["url"]}, &proj)
	api.must(t, 201, "POST", "/api/marketplace-service-providers/", map[string]any{"customer": cust["url"]}, nil)
	api.must(t, 201, "POST", "/api/marketplace-categories/", map[string]any{"title": "Everything"}, &cat)
	c := &catalog{customer: str(cust, "url"), customerUUID: str(cust, "uuid"), project: str(proj, "url"), projectUUID: str(proj, "uuid")}
	create := func(name, typ string, extra map[string]any) offering {
		body := map[string]any{"name": name, "type": typ, "category": cat["url"], "customer": cust["url"], "shared": true, "billable": true,
			"plans": []map[string]any{{"name": "Default", "unit": "month", "unit_price": "0"}}}
		for k, v := range extra {
			body[k] = v
		}
		var o map[string]any
		api.must(t, 201, "POST", "/api/marketplace-provider-offerings/", body, &o)
		api.must(t, 200, "POST", "/api/marketplace-provider-offerings/"+str(o, "uuid")+"/activate/", nil, nil)
		plans, _ := o["plans"].([]any)
		require.Len(t, plans, 1, name)
		return offering{uuid: str(o, "uuid"), url: str(o, "url"), plan: str(plans[0].(map[string]any), "url")}
	}
	fixed := func(price string) map[string]any {
		return map[string]any{
			"components": []map[string]any{{"type": "base", "name": "Base", "measured_unit": "month", "billing_type": "fixed"}},
			"plans": []map[string]any{{"name": "Default", "unit": "month", "unit_price": price,
				"prices": map[string]any{"base": price}, "quotas": map[string]any{"base": 1}}},
		}
	}
	c.basic = create("Consulting", "Marketplace.Basic", fixed("10"))
	script := fixed("4.5")
	script["secret_options"] = map[string]any{"language": "shell",
		// Waldur's convention: the last line of stdout is the backend id.
		"create": "#!/bin/sh\nset -e\ntest \"$ORDER_TYPE\" = Create\necho \"creating $RESOURCE_NAME\"\necho \"script-$RESOURCE_UUID\"\n"}
	c.script = create("Scripted service", "Marketplace.Script", script)
	c.tenant = create("OpenStack tenant", "OpenStack.Tenant", map[string]any{
		"secret_options": map[string]any{"backend_url": emu.IdentityURL(), "username": "admin", "password": "admin", "domain": "Default",
			"tenant_name": "admin", "external_network_id": emu.ExternalNetworkID()},
		"components": []map[string]any{
			{"type": "cores", "name": "Cores", "measured_unit": "cores", "billing_type": "limit", "limit_period": "month"},
			{"type": "ram", "name": "RAM", "measured_unit": "MB", "billing_type": "limit", "limit_period": "month"},
			{"type": "storage", "name": "Storage", "measured_unit": "MB", "billing_type": "limit", "limit_period": "month"},
		},
		"plans": []map[string]any{{"name": "Default", "unit": "month", "unit_price": "0",
			"prices": map[string]any{"cores": "1", "ram": "0.001", "storage": "0.0001"}}},
	})
	c.instance = create("OpenStack instance", "OpenStack.Instance", nil)
	c.volume = create("OpenStack volume", "OpenStack.Volume", nil)
	return c
}

// job is one order to place.
type job struct {
	i    int
	kind string // basic, script, tenant, instance, volume
	n    int    // its number within its kind
}

// orderPlan: the tenants first, then the rest interleaved.
func orderPlan() []job {
	var out []job
	count := map[string]int{}
	add := func(kind string) {
		out = append(out, job{i: len(out), kind: kind, n: count[kind]})
		count[kind]++
	}
	for range nTenants {
		add("tenant")
	}
	left := map[string]int{"basic": nBasic, "script": nScript, "instance": nInstances, "volume": nVolumes}
	for len(out) < nOrders {
		for _, k := range []string{"basic", "script", "instance", "basic", "script", "volume"} {
			if left[k] > 0 {
				left[k]--
				add(k)
			}
		}
	}
	return out
}

// tenantFor waits until the n-th tenant order is done and returns what an
// instance in it needs (from the API's catalog of the tenant).
func (c *catalog) tenantFor(ctx context.Context, api *apiClient, r *run, n int) (*tenantInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ti := c.tenants[n]; ti != nil {
		return ti, nil
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var order *placed
		r.mu.Lock()
		for id, p := range r.accepted {
			if p.kind == "tenant" && p.name == fmt.Sprintf("tenant-%03d", n) && r.states[id] == "done" {
				order = p
			}
		}
		r.mu.Unlock()
		if order != nil {
			var o map[string]any
			if _, err := api.do("GET", "/api/marketplace-orders/"+order.uuid+"/", nil, &o); err == nil {
				ti, err := c.tenantCatalog(api, str(o, "resource_uuid"))
				if err == nil {
					c.tenants[n] = ti
					return ti, nil
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("tenant %d not ready", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *catalog) tenantCatalog(api *apiClient, tenantUUID string) (*tenantInfo, error) {
	var tenant map[string]any
	if _, err := api.do("GET", "/api/openstack-tenants/"+tenantUUID+"/", nil, &tenant); err != nil {
		return nil, err
	}
	first := func(path string) (string, error) {
		items, err := api.list("GET", path)
		if err != nil {
			return "", err
		}
		if len(items) == 0 {
			return "", fmt.Errorf("%s: empty", path)
		}
		return str(items[0], "url"), nil
	}
	q := "?tenant_uuid=" + tenantUUID
	ti := &tenantInfo{url: str(tenant, "url")}
	var err error
	for _, f := range []struct {
		dst  *string
		path string
	}{
		{&ti.flavor, "/api/openstack-flavors/" + q + "&name_exact=m1.small"},
		{&ti.image, "/api/openstack-images/" + q + "&name_exact=cirros-0.6.2-x86_64-disk"},
		{&ti.subnet, "/api/openstack-subnets/" + q},
		{&ti.ssh, "/api/openstack-security-groups/" + q + "&name_exact=ssh"},
	} {
		if *f.dst, err = first(f.path); err != nil {
			return nil, err
		}
	}
	return ti, nil
}

// placeOrder places job's order through one replica (alternating by job),
// until it is accepted: a refused connection is repeated on the other
// replica (nothing was sent); a lost answer (connection reset by a killed
// replica) leaves an order that may or may not exist, so the job is placed
// again under a new name and the lost one counted.
func placeOrder(ctx context.Context, t *testing.T, api *apiClient, c *catalog, r *run, j job) {
	name := fmt.Sprintf("%s-%03d", j.kind, j.n)
	var off offering
	attrs := map[string]any{"name": name}
	var limits map[string]any
	switch j.kind {
	case "basic":
		off = c.basic
	case "script":
		off = c.script
	case "tenant":
		off = c.tenant
		attrs["description"] = "tenant of the topology test"
		limits = map[string]any{"cores": 20, "ram": 40 * 1024, "storage": 200 * 1024}
	case "instance", "volume":
		ti, err := c.tenantFor(ctx, api, r, j.n%nTenants)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		attrs["tenant"] = ti.url
		if j.kind == "instance" {
			off = c.instance
			attrs["flavor"], attrs["image"], attrs["system_volume_size"] = ti.flavor, ti.image, 1024
			attrs["ports"] = []any{map[string]any{"subnet": ti.subnet}}
			attrs["security_groups"] = []any{map[string]any{"url": ti.ssh}}
		} else {
			off = c.volume
			attrs["size"] = 1024
		}
	}
	body := map[string]any{"offering": off.url, "project": c.project, "plan": off.plan, "attributes": attrs}
	if limits != nil {
		body["limits"] = limits
	}
	deadline := time.Now().Add(2 * time.Minute)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if time.Now().After(deadline) {
			t.Errorf("%s: not accepted within 2 min", name)
			return
		}
		var o map[string]any
		code, _, err := api.call(j.i+attempt, "POST", "/api/marketplace-orders/", body, &o)
		switch {
		case code == 201:
			p := &placed{uuid: str(o, "uuid"), kind: j.kind, name: name, resource: str(o, "marketplace_resource_uuid"), at: time.Now()}
			r.mu.Lock()
			r.accepted[p.uuid] = p
			if _, ok := r.states[p.uuid]; !ok {
				r.states[p.uuid] = str(o, "state")
			}
			r.mu.Unlock()
			r.nAccepted.Add(1)
			return
		case refused(err):
			time.Sleep(50 * time.Millisecond) // the other replica next
		case code >= 400 && code < 500:
			r.mu.Lock()
			r.refusals = append(r.refusals, fmt.Sprintf("%s: %v", name, err))
			r.mu.Unlock()
			t.Errorf("order %s refused: %v", name, err)
			return
		default: // the answer was lost, or a 5xx: the order may exist
			r.mu.Lock()
			r.ambiguous++
			r.mu.Unlock()
			name = fmt.Sprintf("%s-%03d-retry%d", j.kind, j.n, attempt+1)
			attrs["name"] = name
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// checkOrdersAndResources: every order the database holds is a done Create
// order (every accepted one among them), each with its own resource, and
// nothing else exists: one resource per order, all OK.
func checkOrdersAndResources(t *testing.T, api *apiClient, c *catalog, r *run) {
	orders := api.mustList(t, "/api/marketplace-orders/")
	byUUID := map[string]map[string]any{}
	resources := map[string]string{} // resource uuid → order uuid
	for _, o := range orders {
		id := str(o, "uuid")
		byUUID[id] = o
		require.Equal(t, "done", str(o, "state"), "order %s", id)
		require.Equal(t, "Create", str(o, "type"), "order %s", id)
		res := str(o, "marketplace_resource_uuid")
		require.NotContains(t, resources, res, "resource %s of two orders", res)
		resources[res] = id
	}
	for id, p := range r.accepted {
		o, ok := byUUID[id]
		require.True(t, ok, "accepted order %s (%s) is in the list", id, p.name)
		require.Equal(t, p.resource, str(o, "marketplace_resource_uuid"))
	}
	require.GreaterOrEqual(t, len(orders), nOrders)
	require.LessOrEqual(t, len(orders), nOrders+r.ambiguous, "no order beyond the accepted ones and those whose answer was lost")
	t.Logf("orders: %d accepted, %d in the database, all done (answers lost: %d)", len(r.accepted), len(orders), r.ambiguous)

	res := api.mustList(t, "/api/marketplace-resources/?project_uuid="+c.projectUUID)
	require.Len(t, res, len(orders), "one resource per order")
	for _, x := range res {
		id := str(x, "uuid")
		require.Contains(t, resources, id, "resource %s has its order", id)
		require.Equal(t, "OK", str(x, "state"), "resource %s (%s)", id, str(x, "name"))
		if str(x, "offering_uuid") == c.script.uuid {
			require.Equal(t, "script-"+id, str(x, "backend_id"), "the script's create ran for resource %s", id)
		}
	}

	// Latencies, for the log.
	var lat []time.Duration
	r.mu.Lock()
	for id, p := range r.accepted {
		if d, ok := r.doneAt[id]; ok {
			lat = append(lat, d.Sub(p.at))
		}
	}
	r.mu.Unlock()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		q := func(f float64) time.Duration {
			return lat[int(math.Min(float64(len(lat)-1), f*float64(len(lat))))].Round(10 * time.Millisecond)
		}
		t.Logf("order accepted → seen done: median %s, p90 %s, max %s", q(0.5), q(0.9), lat[len(lat)-1].Round(10*time.Millisecond))
	}
}

// checkEmulator: the cloud holds exactly one Keystone project per tenant
// order, one server per instance order, one volume per instance (its
// system volume) and per volume order — counting everything ever created,
// so a duplicate cleaned up afterwards would show too — named as ordered.
func checkEmulator(t *testing.T, api *apiClient, c *catalog, emu *openstacktest.HTTPServer) {
	count := func(off offering) (int, map[string]bool) {
		orders := api.mustList(t, "/api/marketplace-orders/?offering_uuid="+off.uuid)
		names := map[string]bool{}
		for _, o := range orders {
			names[str(o, "resource_name")] = true
		}
		return len(orders), names
	}
	tenants, _ := count(c.tenant)
	instances, instanceNames := count(c.instance)
	volumes, _ := count(c.volume)
	created, now := emu.Created(), emu.Counts()
	t.Logf("emulator: created %+v", created)
	require.Equal(t, tenants, created.Projects, "one Keystone project per tenant order")
	require.Equal(t, instances, created.Servers, "one server per instance order")
	require.Equal(t, instances+volumes, created.Volumes, "a system volume per instance and a volume per volume order")
	require.Equal(t, created, now, "nothing was created and deleted again")
	for _, s := range emu.Servers() {
		require.True(t, instanceNames[s.Name], "server %q was ordered", s.Name)
		delete(instanceNames, s.Name)
		require.Equal(t, "ACTIVE", s.Status, "server %s", s.Name)
	}
	require.Empty(t, instanceNames, "every instance order has its server")

	// Each resource is backed by the object its order created.
	backendIDs := func(off offering) []string {
		var ids []string
		for _, x := range api.mustList(t, "/api/marketplace-resources/?offering_uuid="+off.uuid) {
			ids = append(ids, str(x, "backend_id"))
		}
		sort.Strings(ids)
		return ids
	}
	var servers, projects []string
	for _, s := range emu.Servers() {
		servers = append(servers, s.ID)
	}
	_, _, adminProject, _ := emu.AdminCredentials()
	for _, p := range emu.Projects() {
		if p.Name != adminProject {
			projects = append(projects, p.ID)
		}
	}
	sort.Strings(servers)
	sort.Strings(projects)
	require.Equal(t, servers, backendIDs(c.instance), "the instances' backend ids are the servers")
	require.Equal(t, projects, backendIDs(c.tenant), "the tenants' backend ids are the Keystone projects")
	volumeIDs := map[string]bool{}
	for _, v := range emu.Volumes() {
		volumeIDs[v.ID] = true
	}
	for _, id := range backendIDs(c.volume) {
		require.True(t, volumeIDs[id], "volume resource's backend id %s is a volume", id)
	}
}

// checkQuotas: the project's and the customer's nc_resource_count are the
// number of resources.
func checkQuotas(t *testing.T, api *apiClient, c *catalog) {
	res := api.mustList(t, "/api/marketplace-resources/?project_uuid="+c.projectUUID)
	for _, scope := range []string{"/api/projects/" + c.projectUUID + "/", "/api/customers/" + c.customerUUID + "/"} {
		var v map[string]any
		api.must(t, 200, "GET", scope, nil, &v)
		usage := -1.0
		quotas, _ := v["quotas"].([]any)
		for _, q := range quotas {
			if m, _ := q.(map[string]any); str(m, "name") == "nc_resource_count" {
				usage, _ = m["usage"].(float64)
			}
		}
		require.EqualValues(t, len(res), usage, "%s nc_resource_count", scope)
	}
	t.Logf("quotas: nc_resource_count = %d on the project and the customer", len(res))
}

// checkInvoices: the billing outbox is drained by the platform's own
// dispatch workflow (on the core worker), then the invoice equals a fresh
// recomputation — registering every resource again from its history
// changes nothing — and holds one item per priced component of each
// resource, its price the sum of its items.
func checkInvoices(t *testing.T, ctx context.Context, tp *topo, api *apiClient, c *catalog) {
	tc, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: tp.tempAddr, Namespace: "default"})
	require.NoError(t, err)
	defer tc.Close()
	db, err := database.OpenDSN(ctx, config.Postgres, tp.dbURL, nil)
	require.NoError(t, err)
	defer database.Close(db)

	// The schedule's runs are paused, and any running one waited for, so
	// the recomputation below races nothing.
	sched := tc.ScheduleClient().GetHandle(ctx, workflows.BillingDispatchSchedule.ID)
	require.NoError(t, sched.Pause(ctx, client.SchedulePauseOptions{Note: "topology test: recomputing invoices"}))
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
			Query: "WorkflowType = 'BillingDispatch' AND ExecutionStatus = 'Running'"})
		require.NoError(t, err)
		if len(resp.Executions) == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "a BillingDispatch run is still running after a minute")
		time.Sleep(100 * time.Millisecond)
	}
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "topology-billing-dispatch", TaskQueue: workflows.QueueCore},
		workflows.BillingDispatch)
	require.NoError(t, err)
	var n int
	require.NoError(t, run.Get(ctx, &n))
	var dirty int64
	require.NoError(t, db.Table("resources").Where("billing_dirty").Count(&dirty).Error)
	require.Zero(t, dirty, "the billing outbox is drained")
	t.Logf("billing: the last dispatch registered %d resources", n)

	invoice := func() map[string]any {
		now := time.Now().UTC()
		var inv map[string]any
		for _, x := range api.mustList(t, "/api/invoices/?customer_uuid="+c.customerUUID) {
			if int(x["year"].(float64)) == now.Year() && int(x["month"].(float64)) == int(now.Month()) {
				inv = x
			}
		}
		require.NotNil(t, inv, "the customer has an invoice for this month")
		return inv
	}
	before := invoice()

	var ids []int64
	require.NoError(t, db.Table("resources").Order("id").Pluck("id", &ids).Error)
	st := store.New(db)
	res, err := st.RegisterResources(ctx, billing.MonthOf(time.Now()), ids, true)
	require.NoError(t, err)
	require.Equal(t, len(ids), res.Resources)
	require.Zero(t, res.Inserted+res.Updated+res.Deleted, "recomputing every resource's items changes nothing: %+v", res)
	after := invoice()
	require.Equal(t, before["price"], after["price"])
	require.Equal(t, before["total"], after["total"])

	// What the invoice holds: one item per priced component of each resource.
	want := map[string]int{c.basic.uuid: 1, c.script.uuid: 1, c.tenant.uuid: 3, c.instance.uuid: 0, c.volume.uuid: 0}
	perResource := map[string]int{}
	cents := int64(0)
	items, _ := after["items"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		perResource[str(m, "resource_uuid")]++
		cents += int64(math.Round(m["price"].(float64) * 100))
	}
	wantItems := 0
	for _, x := range api.mustList(t, "/api/marketplace-resources/?project_uuid="+c.projectUUID) {
		w := want[str(x, "offering_uuid")]
		require.Equal(t, w, perResource[str(x, "uuid")], "items of %s (%s)", str(x, "name"), str(x, "offering_name"))
		wantItems += w
	}
	require.Len(t, items, wantItems)
	price, err := strconv.ParseFloat(str(after, "price"), 64)
	require.NoError(t, err)
	require.EqualValues(t, cents, int64(math.Round(price*100)), "the invoice's price is the sum of its items")
	require.Equal(t, res.Items, len(items), "the recomputation has the invoice's items")
	t.Logf("invoice: %d items, price %s, equal to the recomputation", len(items), str(after, "price"))
}
