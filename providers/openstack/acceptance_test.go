package openstack_test

// The acceptance of issue 7 for OpenStack, end to end: the real API, the
// real order workflow on a real Temporal server, the real worker wiring
// (internal/app), the provider and the emulator on a TCP port.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

const envWorker = "WALDUR_OPENSTACK_TEST_WORKER"

// TestMain runs the test binary as an OpenStack worker process when the
// fault test starts it (envWorker set): the openstack queue of the real
// wiring, until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		runWorker()
		return
	}
	os.Exit(m.Run())
}

func runWorker() {
	ctx := context.Background()
	c, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: os.Getenv("WORKER_TEMPORAL"), Namespace: "default"})
	if err != nil {
		panic(err)
	}
	reg := app.Registry(&app.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := reg.Start(c, []string{openstack.Queue}, worker.Options{}); err != nil {
		panic(err)
	}
	fmt.Println("worker ready")
	select {}
}

// fastOrders shortens the order workflow's retries: a killed worker's
// activity is retried elsewhere ten seconds after its last heartbeat.
func fastOrders(t testing.TB) {
	p := workflows.DefaultOrderPolicies()
	p.DB = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond}
	p.Provider = &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Second, MaximumAttempts: 20}
	p.HeartbeatTimeout = 10 * time.Second // the provider activity heartbeats every 5s
	p.ProviderTimeout = 2 * time.Minute
	workflows.SetOrderPolicies(p)
	t.Cleanup(func() { workflows.SetOrderPolicies(workflows.DefaultOrderPolicies()) })
}

// cloud is a running Waldur (API, core worker, optionally the OpenStack
// worker) with a staff user, a project, and OpenStack offerings on an emulator.
type cloud struct {
	t                                          testing.TB
	db                                         *gorm.DB
	tc                                         client.Client
	temporal                                   string
	emu                                        *openstacktest.HTTPServer
	api                                        http.Handler
	token                                      string
	project                                    string
	tenantOffering, vmOffering, volumeOffering string
	plans                                      map[string]string // offering URL → its plan's URL
}

func newCloud(t testing.TB, queues []string, emuOpts openstacktest.Options) *cloud {
	return newCloudOn(t, config.SQLite, queues, emuOpts)
}

// newCloudOn is newCloud on a database of kind.
func newCloudOn(t testing.TB, kind config.DatabaseKind, queues []string, emuOpts openstacktest.Options) *cloud {
	fastOrders(t)
	srv := temporaltest.Start(t)
	cl := &cloud{t: t, db: dbtest.Migrated(t, kind), tc: srv.Client(t), temporal: srv.Addr, plans: map[string]string{}}
	emu, err := openstacktest.Start("127.0.0.1:0", emuOpts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	cl.emu = emu
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := app.Registry(&app.Deps{DB: cl.db, Logger: quiet})
	ws, err := reg.Start(cl.tc, queues, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	s, err := app.NewAPI(cl.db, cl.tc, quiet, "default")
	require.NoError(t, err)
	cl.api = s.Handler()

	ctx := context.Background()
	st := store.New(cl.db)
	staff := &models.User{Username: "staff", Email: "staff@example.com", IsActive: true, IsStaff: true}
	require.NoError(t, st.CreateUser(ctx, staff, ""))
	tok, err := st.EnsureToken(ctx, staff.ID)
	require.NoError(t, err)
	cl.token = tok.Key

	var customer, project, category map[string]any
	cl.do("POST", "/api/customers/", map[string]any{"name": "University"}, 201, &customer)
	cl.do("POST", "/api/projects/", map[string]any{"name": "Research", "customer": customer["url"]}, 201, &project)
	cl.project = project["url"].(string)
	cl.do("POST", "/api/marketplace-service-providers/", map[string]any{"customer": customer["url"]}, 201, nil)
	cl.do("POST", "/api/marketplace-categories/", map[string]any{"title": "Private clouds"}, 201, &category)
	secrets := map[string]any{"backend_url": emu.IdentityURL(), "username": "admin", "password": "admin", "domain": "Default",
		"tenant_name": "admin", "external_network_id": emu.ExternalNetworkID()}
	offering := func(name, typ string, body map[string]any) string {
		b := map[string]any{"name": name, "type": typ, "category": category["url"], "customer": customer["url"], "shared": true,
			"plans": []map[string]any{{"name": "Default", "unit": "month", "unit_price": "0"}}}
		for k, v := range body {
			b[k] = v
		}
		var o map[string]any
		cl.do("POST", "/api/marketplace-provider-offerings/", b, 201, &o)
		cl.do("POST", "/api/marketplace-provider-offerings/"+o["uuid"].(string)+"/activate/", nil, 200, nil)
		plans := o["plans"].([]any)
		require.Len(t, plans, 1)
		cl.plans[o["url"].(string)] = plans[0].(map[string]any)["url"].(string)
		return o["url"].(string)
	}
	cl.tenantOffering = offering("OpenStack tenant", openstack.OfferingTenant, map[string]any{
		"secret_options": secrets,
		"components": []map[string]any{
			{"type": "cores", "name": "Cores", "measured_unit": "cores", "billing_type": "limit", "limit_period": "month"},
			{"type": "ram", "name": "RAM", "measured_unit": "GB", "billing_type": "limit", "limit_period": "month"},
			{"type": "storage", "name": "Storage", "measured_unit": "GB", "billing_type": "limit", "limit_period": "month"},
			{"type": "instances", "name": "Instances", "measured_unit": "", "billing_type": "limit", "limit_period": "month"},
			{"type": "volumes", "name": "Volumes", "measured_unit": "", "billing_type": "limit", "limit_period": "month"},
		},
		"plans": []map[string]any{{"name": "Default", "unit": "month", "unit_price": "0", "prices": map[string]any{"cores": "1", "ram": "0.5", "storage": "0.01"}}},
	})
	cl.vmOffering = offering("OpenStack instance", openstack.OfferingInstance, nil)
	cl.volumeOffering = offering("OpenStack volume", openstack.OfferingVolume, nil)
	return cl
}

// startWorker starts this test binary as a worker process on the
// openstack queue (TestMain), killed when the test ends.
func (cl *cloud) startWorker() *exec.Cmd {
	cl.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"=1", "WORKER_TEMPORAL="+cl.temporal)
	cmd.Stderr = os.Stderr
	require.NoError(cl.t, cmd.Start())
	cl.t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// do sends an API request as staff and decodes the answer.
func (cl *cloud) do(method, path string, body any, want int, out any) {
	cl.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(cl.t, err)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Token "+cl.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	cl.api.ServeHTTP(w, req)
	require.Equal(cl.t, want, w.Code, "%s %s: %s", method, path, w.Body.String())
	if out != nil {
		require.NoError(cl.t, json.Unmarshal(w.Body.Bytes(), out))
	}
}

// path is the /api/... path of an API URL.
func path(u string) string {
	i := strings.Index(u, "/api/")
	return u[i:]
}

// order places an order and waits until it is done (or the test fails).
func (cl *cloud) order(offering string, attrs map[string]any, limits map[string]any) map[string]any {
	cl.t.Helper()
	body := map[string]any{"offering": offering, "project": cl.project, "attributes": attrs, "plan": cl.plans[offering]}
	if limits != nil {
		body["limits"] = limits
	}
	var o map[string]any
	cl.do("POST", "/api/marketplace-orders/", body, 201, &o)
	return cl.wait(o["uuid"].(string), 2*time.Minute)
}

// wait polls an order until it is done; erred fails the test with its message.
func (cl *cloud) wait(orderUUID string, within time.Duration) map[string]any {
	cl.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var o map[string]any
		cl.do("GET", "/api/marketplace-orders/"+orderUUID+"/", nil, 200, &o)
		switch o["state"] {
		case "done":
			return o
		case "erred", "rejected", "canceled":
			cl.t.Fatalf("order %s ended %s: %v", orderUUID, o["state"], o["error_message"])
		}
		if time.Now().After(deadline) {
			cl.t.Fatalf("order %s still %s after %s", orderUUID, o["state"], within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate orders the termination of a marketplace resource and waits until it is done.
func (cl *cloud) terminate(resourceUUID string) {
	cl.t.Helper()
	var r map[string]any
	cl.do("POST", "/api/marketplace-resources/"+resourceUUID+"/terminate/", map[string]any{}, 200, &r)
	cl.wait(r["order_uuid"].(string), 2*time.Minute)
}

// first is the first item of a list endpoint's answer.
func (cl *cloud) first(p string) map[string]any {
	cl.t.Helper()
	var items []map[string]any
	cl.do("GET", p, nil, 200, &items)
	require.NotEmpty(cl.t, items, p)
	return items[0]
}

// tenant orders a tenant and checks what the API shows of it.
func (cl *cloud) tenant(name string) (order, tenant map[string]any) {
	return cl.tenantWith(name, map[string]any{"cores": 20, "ram": 40 * 1024, "storage": 200 * 1024})
}

func (cl *cloud) tenantWith(name string, limits map[string]any) (order, tenant map[string]any) {
	cl.t.Helper()
	order = cl.order(cl.tenantOffering, map[string]any{"name": name, "description": "for research"}, limits)
	require.NotEqual(cl.t, order["resource_uuid"], order["marketplace_resource_uuid"], "resource_uuid is the plugin resource")
	cl.do("GET", "/api/openstack-tenants/"+order["resource_uuid"].(string)+"/", nil, 200, &tenant)
	require.Equal(cl.t, "OK", tenant["state"])
	require.Equal(cl.t, order["marketplace_resource_uuid"], tenant["marketplace_resource_uuid"])
	var res map[string]any
	cl.do("GET", "/api/marketplace-resources/"+order["marketplace_resource_uuid"].(string)+"/", nil, 200, &res)
	require.Equal(cl.t, "OK", res["state"])
	require.Equal(cl.t, tenant["backend_id"], res["backend_id"])
	return order, tenant
}

// instanceAttrs are the attributes of an instance order in tenant, from its catalog.
func (cl *cloud) instanceAttrs(tenant map[string]any, name string) map[string]any {
	cl.t.Helper()
	q := "?tenant_uuid=" + tenant["uuid"].(string)
	flavor := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.small")
	image := cl.first("/api/openstack-images/" + q + "&name_exact=cirros-0.6.2-x86_64-disk")
	subnet := cl.first("/api/openstack-subnets/" + q)
	ssh := cl.first("/api/openstack-security-groups/" + q + "&name_exact=ssh")
	vt := cl.first("/api/openstack-volume-types/" + q + "&name_exact=ssd")
	return map[string]any{"name": name, "tenant": tenant["url"], "flavor": flavor["url"], "image": image["url"],
		"system_volume_size": 10 * 1024, "data_volume_size": 5 * 1024, "data_volume_type": vt["url"],
		"ports": []any{map[string]any{"subnet": subnet["url"]}}, "security_groups": []any{map[string]any{"url": ssh["url"]}},
		"floating_ips": []any{map[string]any{"subnet": subnet["url"]}}, "user_data": "#cloud-config\n"}
}

// TestAcceptance: through the API, a tenant, then an instance and a
// volume in it, all done on the emulator; a pull finds the catalog and
// nothing wrong; the instance's server deleted behind Waldur's back is
// found by the next pull (event, resource Erred); terminating everything
// leaves the emulator empty.
func TestAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 300 * time.Millisecond,
		VolumeDelay: 100 * time.Millisecond, DeleteDelay: 100 * time.Millisecond, ActionDelay: 100 * time.Millisecond})
	started := time.Now()
	torder, tenant := cl.tenant("research")
	t.Logf("tenant done in %s", time.Since(started))

	start := time.Now()
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	t.Logf("instance done in %s", time.Since(start))
	var vm map[string]any
	cl.do("GET", "/api/openstack-instances/"+iorder["resource_uuid"].(string)+"/", nil, 200, &vm)
	require.Equal(t, "OK", vm["state"])
	require.Equal(t, "ACTIVE", vm["runtime_state"])
	require.Len(t, vm["internal_ips"], 1)
	require.Len(t, vm["external_ips"], 1, "a floating IP")
	require.Len(t, vm["volumes"], 2, "system and data volumes")
	require.Equal(t, "m1.small", vm["flavor_name"])
	require.Equal(t, 1, cl.emu.Counts().Servers)

	vorder := cl.order(cl.volumeOffering, map[string]any{"name": "scratch", "tenant": tenant["url"], "size": 2048, "instance": vm["url"]}, nil)
	var vol map[string]any
	cl.do("GET", "/api/openstack-volumes/"+vorder["resource_uuid"].(string)+"/", nil, 200, &vol)
	require.Equal(t, "OK", vol["state"])
	require.Equal(t, "in-use", vol["runtime_state"])
	require.EqualValues(t, 2048, vol["size"])
	require.Equal(t, vm["url"], vol["instance"])
	require.Equal(t, 3, cl.emu.Counts().Volumes)

	// The pull: nothing is wrong.
	pull := func() openstack.PullOpenStackResult {
		run, err := cl.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
			openstack.PullOpenStack, openstack.PullOpenStackInput{})
		require.NoError(t, err)
		var res openstack.PullOpenStackResult
		require.NoError(t, run.Get(context.Background(), &res))
		return res
	}
	res := pull()
	require.Equal(t, 1, res.Tenants)
	require.Empty(t, res.Failed)
	require.Empty(t, res.Erred)
	require.Empty(t, res.Imported)

	// The server goes behind Waldur's back.
	conn, err := openstack.ConnectionFrom(secrets(cl.emu))
	require.NoError(t, err)
	pc, err := gcos.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{IdentityEndpoint: conn.AuthURL, Username: "admin",
		Password: "admin", DomainName: "Default", TenantID: tenant["backend_id"].(string)})
	require.NoError(t, err)
	compute, err := gcos.NewComputeV2(pc, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	require.NoError(t, servers.Delete(context.Background(), compute, vm["backend_id"].(string)).ExtractErr())
	deadline := time.Now().Add(30 * time.Second)
	for {
		res = pull()
		if len(res.Erred) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the pull never saw the server go")
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, []string{"vm-1"}, res.Erred)
	var mres map[string]any
	cl.do("GET", "/api/marketplace-resources/"+iorder["marketplace_resource_uuid"].(string)+"/", nil, 200, &mres)
	require.Equal(t, "Erred", mres["state"])
	require.Contains(t, mres["error_message"], "is gone from the backend")
	cl.do("GET", "/api/openstack-instances/"+iorder["resource_uuid"].(string)+"/", nil, 200, &vm)
	require.Equal(t, "ERRED", vm["state"])
	var events []map[string]any
	cl.do("GET", "/api/events/?event_type=marketplace_resource_erred_on_backend", nil, 200, &events)
	require.Len(t, events, 1)

	// Terminate everything, in reverse order.
	cl.terminate(vorder["marketplace_resource_uuid"].(string))
	cl.terminate(iorder["marketplace_resource_uuid"].(string))
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
	var left []map[string]any
	cl.do("GET", "/api/openstack-tenants/", nil, 200, &left)
	require.Empty(t, left)
	cl.do("GET", "/api/openstack-instances/", nil, 200, &left)
	require.Empty(t, left)
	cl.do("GET", "/api/marketplace-resources/"+torder["marketplace_resource_uuid"].(string)+"/", nil, 200, &mres)
	require.Equal(t, "Terminated", mres["state"])
}

// TestFaults: the emulator fails 30% of the calls, and the worker process
// running the openstack queue is killed (SIGKILL) while the instance is
// being created; another worker takes over. The order still ends done,
// with exactly one server in the emulator.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	// A slow build: the kill lands while the server is being waited for.
	cl := newCloud(t, []string{workflows.QueueCore}, openstacktest.Options{BuildDelay: 4 * time.Second, VolumeDelay: 300 * time.Millisecond,
		DeleteDelay: 100 * time.Millisecond, ActionDelay: 100 * time.Millisecond, Seed: 99})
	w1 := cl.startWorker()
	torder, tenant := cl.tenant("faulty")

	require.NoError(t, cl.emu.SetFaults(openstacktest.Faults{ErrorRate: 0.3}))
	var o map[string]any
	cl.do("POST", "/api/marketplace-orders/", map[string]any{"offering": cl.vmOffering, "project": cl.project, "plan": cl.plans[cl.vmOffering],
		"attributes": cl.instanceAttrs(tenant, "survivor")}, 201, &o)
	deadline := time.Now().Add(time.Minute)
	for cl.emu.Counts().Servers == 0 {
		require.True(t, time.Now().Before(deadline), "the first worker never created the server")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	sv := cl.emu.Servers()
	require.Len(t, sv, 1)
	require.Equal(t, "BUILD", sv[0].Status, "killed mid instance-create")
	killed := time.Now()
	cl.startWorker()
	done := cl.wait(o["uuid"].(string), 3*time.Minute)
	t.Logf("done %s after the kill", time.Since(killed))
	require.Equal(t, 1, cl.emu.Counts().Servers, "exactly one server")
	var vm map[string]any
	cl.do("GET", "/api/openstack-instances/"+done["resource_uuid"].(string)+"/", nil, 200, &vm)
	require.Equal(t, "OK", vm["state"])
	require.Equal(t, sv[0].ID, vm["backend_id"])
	injected := 0
	for _, r := range cl.emu.Requests() {
		if r.Injected {
			injected++
		}
	}
	t.Logf("%d injected 5xx answers", injected)
	require.Positive(t, injected)

	require.NoError(t, cl.emu.SetFaults(openstacktest.Faults{}))
	cl.terminate(done["marketplace_resource_uuid"].(string))
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "%+v", cl.emu.Counts())
}
