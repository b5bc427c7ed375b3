package openstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/providers/plugin"
)

// actionWorld is a tenant with an instance (m1.small, booted from the
// image) and a 1 GiB volume on an emulator whose changing calls are logged
// by what they ask (resize, os-extend, attach, ...), so a test sees
// whether an action was sent twice.
type actionWorld struct {
	srv    *openstacktest.HTTPServer
	p      *openstack.Provider
	ctx    context.Context
	conn   openstack.Connection
	tenant string
	server string
	volume string

	mu    sync.Mutex
	calls map[string]int
	lose  map[string]int // the next answers of these calls are lost (after they took effect)
}

func newActionWorld(t *testing.T, seed uint64) *actionWorld {
	t.Helper()
	w := &actionWorld{p: fastProvider(), ctx: ctxT(t), calls: map[string]int{}, lose: map[string]int{}}
	e := openstacktest.New(openstacktest.Options{BuildDelay: 20 * time.Millisecond, VolumeDelay: 10 * time.Millisecond,
		ActionDelay: 10 * time.Millisecond, DeleteDelay: 10 * time.Millisecond, Seed: seed})
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.log(r) {
			e.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(rw, `{"message": "the answer was lost (test)"}`, http.StatusServiceUnavailable)
			return
		}
		e.ServeHTTP(rw, r)
	}))
	t.Cleanup(ts.Close)
	w.srv = &openstacktest.HTTPServer{Emulator: e, URL: ts.URL}

	tr := tenantOrder(w.srv, "acts")
	res, err := w.p.Create(w.ctx, tr)
	require.NoError(t, err)
	w.tenant = res.BackendID
	refs := instanceRefs(t, w.srv, snapshotOf(t, res))
	refs.SystemVolumeSize, refs.DataVolumeSize, refs.FloatingIP, refs.PublicKey = 0, 0, false, ""
	w.conn = refs.Connection
	ires, err := w.p.Create(w.ctx, withRefs(tr, openstack.OfferingInstance, refs, "vm"))
	require.NoError(t, err)
	w.server = ires.BackendID
	vres, err := w.p.Create(w.ctx, withRefs(tr, openstack.OfferingVolume,
		openstack.Refs{Connection: refs.Connection, TenantBackendID: w.tenant, Size: 1024}, "data"))
	require.NoError(t, err)
	w.volume = vres.BackendID
	return w
}

// log counts a changing call by what it asks: "server resize",
// "volume os-extend", "attach", "detach", "server update", ...; it
// reports whether the call's answer is to be lost.
func (w *actionWorld) log(r *http.Request) bool {
	var what string
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/action"):
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		for k := range m {
			what = k
		}
		if strings.Contains(r.URL.Path, "/servers/") {
			what = "server " + what
		} else {
			what = "volume " + what
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/os-volume_attachments"):
		what = "attach"
	case r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/os-volume_attachments/"):
		what = "detach"
	case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/servers/"):
		what = "server update"
	case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/volumes/"):
		what = "volume update"
	case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/projects/"):
		what = "project update"
	default:
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[what]++
	if w.lose[what] > 0 {
		w.lose[what]--
		return true
	}
	return false
}

// loseNext loses the next answer of each call.
func (w *actionWorld) loseNext(what ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range what {
		w.lose[c]++
	}
}

func (w *actionWorld) count(what string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[what]
}

func (w *actionWorld) req(kind, id, action string) openstack.ActionRequest {
	return openstack.ActionRequest{ActionID: "run-" + action, Connection: w.conn, TenantBackendID: w.tenant, Kind: kind,
		BackendID: id, Action: action}
}

func (w *actionWorld) run(t *testing.T, req openstack.ActionRequest) openstack.ActionResult {
	t.Helper()
	res, err := w.p.RunAction(w.ctx, req)
	require.NoError(t, err, "%s %s", req.Kind, req.Action)
	return res
}

// runRetried runs an action as the activity's retries would, up to five times.
func (w *actionWorld) runRetried(t *testing.T, req openstack.ActionRequest) openstack.ActionResult {
	t.Helper()
	var res openstack.ActionResult
	var err error
	for range 5 {
		if res, err = w.p.RunAction(w.ctx, req); err == nil {
			return res
		}
		var perm *providers.PermanentError
		require.False(t, errors.As(err, &perm), "%s %s refused: %v", req.Kind, req.Action, err)
	}
	require.NoError(t, err, "%s %s", req.Kind, req.Action)
	return res
}

func (w *actionWorld) emuServer(t *testing.T) openstacktest.Server {
	t.Helper()
	sv, ok := w.srv.Server(w.server)
	require.True(t, ok)
	return sv
}

func (w *actionWorld) emuVolume(t *testing.T) openstacktest.Volume {
	t.Helper()
	v, ok := w.srv.Volume(w.volume)
	require.True(t, ok)
	return v
}

func requireRefused(t *testing.T, err error, code models.Code, contains string) {
	t.Helper()
	requirePermanent(t, err, contains)
	require.Equal(t, code, models.ErrorCode(err), "%v", err)
}

func flavorNamed(name string) openstack.CloudFlavor {
	ids := map[string]string{"m1.tiny": "1", "m1.small": "2", "m1.medium": "3", "m1.large": "4"}
	return openstack.CloudFlavor{BackendID: ids[name], Name: name}
}

// TestActionInstance: rename, stop, start, restart, change_flavor (of a
// stopped and a running server) and console_log; each repeated gives the
// same result without a second call to the cloud; a stopped server is not
// restarted, a gone one is said to be gone.
func TestActionInstance(t *testing.T) {
	w := newActionWorld(t, 7)
	inst := func(action string) openstack.ActionRequest { return w.req("instance", w.server, action) }

	up := inst("update")
	up.Name, up.Description = "vm-renamed", "the renamed one"
	for range 2 {
		res := w.run(t, up)
		require.Equal(t, "ACTIVE", res.RuntimeState)
		require.Equal(t, "vm-renamed", w.emuServer(t).Name)
	}

	for range 2 {
		res := w.run(t, inst("stop"))
		require.Equal(t, "SHUTOFF", res.RuntimeState)
		require.Equal(t, "SHUTOFF", w.emuServer(t).Status)
	}
	require.Equal(t, 1, w.count("server os-stop"), "a stopped server is not stopped again")

	_, err := w.p.RunAction(w.ctx, inst("restart"))
	requireRefused(t, err, models.CodeConflict, "SHUTOFF")
	require.Zero(t, w.count("server reboot"))

	// A stopped server changes its flavor and stays stopped.
	cf := inst("change_flavor")
	cf.Flavor = flavorNamed("m1.medium")
	for range 2 {
		res := w.run(t, cf)
		require.Equal(t, "SHUTOFF", res.RuntimeState)
		require.Equal(t, &openstack.CloudFlavor{BackendID: "3", Name: "m1.medium", Cores: 2, RAM: 4096, Disk: 40 * 1024}, res.Flavor)
		sv := w.emuServer(t)
		require.Equal(t, "3", sv.FlavorID)
		require.Equal(t, "SHUTOFF", sv.Status)
	}
	require.Equal(t, 1, w.count("server resize"), "a server on the flavor already is not resized again")
	require.Equal(t, 1, w.count("server confirmResize"))

	for range 2 {
		res := w.run(t, inst("start"))
		require.Equal(t, "ACTIVE", res.RuntimeState)
		require.Equal(t, "ACTIVE", w.emuServer(t).Status)
	}
	require.Equal(t, 1, w.count("server os-start"), "a running server is not started again")

	res := w.run(t, inst("restart"))
	require.Equal(t, "ACTIVE", res.RuntimeState)
	require.Equal(t, 1, w.count("server reboot"))

	// A running server changes its flavor and keeps running.
	cf.Flavor = flavorNamed("m1.large")
	res = w.run(t, cf)
	require.Equal(t, "ACTIVE", res.RuntimeState)
	require.Equal(t, "m1.large", res.Flavor.Name)
	require.Equal(t, 4, res.Flavor.Cores)
	require.Equal(t, "4", w.emuServer(t).FlavorID)
	require.Equal(t, 2, w.count("server resize"))

	cl := inst("console_log")
	res = w.run(t, cl)
	require.Contains(t, res.Output, "vm-renamed login: ")
	require.Contains(t, res.Output, "Linux version")
	cl.Length = 1
	res = w.run(t, cl)
	require.NotContains(t, res.Output, "Linux version")
	require.Contains(t, res.Output, "login: ")

	bad := inst("change_flavor")
	bad.Flavor = openstack.CloudFlavor{BackendID: "no-such-flavor"}
	_, err = w.p.RunAction(w.ctx, bad)
	requirePermanent(t, err, "no-such-flavor")
	require.Equal(t, "4", w.emuServer(t).FlavorID)

	gone := inst("start")
	gone.BackendID = "00000000-0000-0000-0000-000000000000"
	_, err = w.p.RunAction(w.ctx, gone)
	requireRefused(t, err, models.CodeNotFound, "no longer exists in the cloud")

	_, err = w.p.RunAction(w.ctx, inst("extend"))
	requireRefused(t, err, models.CodeInvalid, "no action")
}

// TestActionResizeUnderWay: a run that finds the resize it asked for
// before it crashed (the server in VERIFY_RESIZE, or still resizing)
// confirms it and does not resize again.
func TestActionResizeUnderWay(t *testing.T) {
	w := newActionWorld(t, 7)
	pc, err := gcos.AuthenticatedClient(w.ctx, gophercloud.AuthOptions{IdentityEndpoint: w.srv.IdentityURL(), Username: "admin",
		Password: "admin", DomainName: "Default", TenantID: w.tenant})
	require.NoError(t, err)
	compute, err := gcos.NewComputeV2(pc, gophercloud.EndpointOpts{})
	require.NoError(t, err)

	for i, target := range []string{"m1.medium", "m1.large"} {
		require.NoError(t, servers.Resize(w.ctx, compute, w.server, servers.ResizeOpts{FlavorRef: flavorNamed(target).BackendID}).ExtractErr())
		if i == 0 {
			require.Eventually(t, func() bool { return w.emuServer(t).Status == "VERIFY_RESIZE" }, 10*time.Second, 5*time.Millisecond)
		} else {
			require.Contains(t, []string{"RESIZE", "VERIFY_RESIZE"}, w.emuServer(t).Status, "resizing (or resized, on a slow machine)")
		}
		cf := w.req("instance", w.server, "change_flavor")
		cf.Flavor = flavorNamed(target)
		res := w.run(t, cf)
		require.Equal(t, "ACTIVE", res.RuntimeState)
		require.Equal(t, target, res.Flavor.Name)
		require.Equal(t, i+1, w.count("server resize"), "the run resized nothing itself")
		require.Equal(t, i+1, w.count("server confirmResize"))
	}

	// A resize to another flavor awaiting confirmation is not confirmed for this one.
	require.NoError(t, servers.Resize(w.ctx, compute, w.server, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr())
	require.Eventually(t, func() bool { return w.emuServer(t).Status == "VERIFY_RESIZE" }, 10*time.Second, 5*time.Millisecond)
	cf := w.req("instance", w.server, "change_flavor")
	cf.Flavor = flavorNamed("m1.tiny")
	_, err = w.p.RunAction(w.ctx, cf)
	requireRefused(t, err, models.CodeConflict, "awaits the confirmation")
}

// TestActionVolume: rename, extend (available and in-use), attach, retype
// and detach; each repeated gives the same result without a second call
// to the cloud; what cannot be done is refused.
func TestActionVolume(t *testing.T) {
	w := newActionWorld(t, 7)
	vol := func(action string) openstack.ActionRequest { return w.req("volume", w.volume, action) }

	up := vol("update")
	up.Name, up.Description = "scratch", "for scratch data"
	for range 2 {
		res := w.run(t, up)
		require.Equal(t, "available", res.RuntimeState)
		v := w.emuVolume(t)
		require.Equal(t, "scratch", v.Name)
		require.Equal(t, "for scratch data", v.Description)
	}

	ext := vol("extend")
	ext.Size = 1500 // MiB: 2 GiB
	for range 2 {
		res := w.run(t, ext)
		require.EqualValues(t, 2048, res.Size)
		require.Equal(t, "available", res.RuntimeState)
		require.Equal(t, 2, w.emuVolume(t).Size)
	}
	require.Equal(t, 1, w.count("volume os-extend"), "a volume as large is not extended again")
	ext.Size = 1024
	_, err := w.p.RunAction(w.ctx, ext)
	requirePermanent(t, err, "cannot shrink")

	at := vol("attach")
	at.InstanceBackendID = w.server
	for range 2 {
		res := w.run(t, at)
		require.Equal(t, "in-use", res.RuntimeState)
		require.Equal(t, w.server, res.InstanceBackendID)
		require.NotEmpty(t, res.Device)
		v := w.emuVolume(t)
		require.Len(t, v.Attachments, 1)
		require.Equal(t, w.server, v.Attachments[0].ServerID)
		require.Equal(t, res.Device, v.Attachments[0].Device)
	}
	require.Equal(t, 1, w.count("attach"), "an attached volume is not attached again")

	other := at
	other.InstanceBackendID = "00000000-0000-0000-0000-000000000000"
	_, err = w.p.RunAction(w.ctx, other)
	requireRefused(t, err, models.CodeConflict, "detach it first")

	ext.Size = 3 * 1024 // in-use
	res := w.run(t, ext)
	require.EqualValues(t, 3072, res.Size)
	require.Equal(t, "in-use", res.RuntimeState)
	require.Equal(t, w.server, res.InstanceBackendID)

	rt := vol("retype")
	rt.VolumeType = "ssd"
	for range 2 {
		res := w.run(t, rt)
		require.Equal(t, "ssd", res.VolumeType)
		require.Equal(t, "in-use", res.RuntimeState)
		require.Equal(t, "ssd", w.emuVolume(t).VolumeType)
	}
	require.Equal(t, 1, w.count("volume os-retype"), "a volume of the type is not retyped again")
	rt.VolumeType = "no-such-type"
	_, err = w.p.RunAction(w.ctx, rt)
	requirePermanent(t, err, "no-such-type")

	for range 2 {
		res := w.run(t, vol("detach"))
		require.Equal(t, "available", res.RuntimeState)
		require.Empty(t, res.InstanceBackendID)
		require.Empty(t, w.emuVolume(t).Attachments)
	}
	require.Equal(t, 1, w.count("detach"), "a detached volume is not detached again")

	// Attaching to a server that is gone.
	_, err = w.p.RunAction(w.ctx, other)
	requireRefused(t, err, models.CodeNotFound, "server 00000000-0000-0000-0000-000000000000 no longer exists")

	gone := vol("extend")
	gone.BackendID, gone.Size = "00000000-0000-0000-0000-000000000000", 4096
	_, err = w.p.RunAction(w.ctx, gone)
	requireRefused(t, err, models.CodeNotFound, "no longer exists in the cloud")
}

// TestActionTenant: a tenant's project is renamed (not to a name another
// project has); a tenant gone from the cloud is said to be gone, for its
// own actions and its objects'.
func TestActionTenant(t *testing.T) {
	w := newActionWorld(t, 7)
	up := w.req("tenant", w.tenant, "update")
	up.Name, up.Description = "acts-renamed", "renamed"
	for range 2 {
		w.run(t, up)
		var found bool
		for _, p := range w.srv.Projects() {
			if p.ID == w.tenant {
				found = true
				require.Equal(t, "acts-renamed", p.Name)
				require.Equal(t, "renamed", p.Description)
			}
		}
		require.True(t, found)
	}
	require.Equal(t, 1, w.count("project update"), "a project with the name and description is not updated again")

	taken := up
	taken.Name = "admin"
	_, err := w.p.RunAction(w.ctx, taken)
	requireRefused(t, err, models.CodeConflict, "exists in the cloud already")

	gone := up
	gone.BackendID = "0123456789abcdef0123456789abcdef"
	_, err = w.p.RunAction(w.ctx, gone)
	requireRefused(t, err, models.CodeNotFound, "no longer exists in the cloud")

	st := w.req("instance", w.server, "stop")
	st.TenantBackendID = gone.BackendID
	_, err = w.p.RunAction(w.ctx, st)
	requireRefused(t, err, models.CodeNotFound, "tenant (project) "+gone.BackendID+" no longer exists")
}

// TestActionLostAnswers: the first answer of each changing call (resize,
// confirmResize, os-stop, attach, os-extend, detach) is lost after the call
// took effect, and half of Nova's, then Cinder's other answers are lost
// the same way (as when a proxy times out); each action is retried as the
// activity would be. change_flavor still resizes and confirms once, extend
// extends once, attach attaches once, and each ends where it should.
func TestActionLostAnswers(t *testing.T) {
	for _, seed := range []uint64{7, 11, 23} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w := newActionWorld(t, seed)
			require.NoError(t, w.srv.SetFaults(openstacktest.Faults{ErrorRate: 0.5, AfterEffect: true, Services: []string{"compute"}}))
			cf := w.req("instance", w.server, "change_flavor")
			cf.Flavor = flavorNamed("m1.medium")
			w.loseNext("server resize", "server confirmResize")
			res := w.runRetried(t, cf)
			require.Equal(t, "m1.medium", res.Flavor.Name)
			require.Equal(t, "ACTIVE", res.RuntimeState)
			w.loseNext("server os-stop")
			st := w.runRetried(t, w.req("instance", w.server, "stop"))
			require.Equal(t, "SHUTOFF", st.RuntimeState)
			cf.Flavor = flavorNamed("m1.large")
			w.loseNext("server resize", "server confirmResize")
			res = w.runRetried(t, cf)
			require.Equal(t, "m1.large", res.Flavor.Name)
			require.Equal(t, "SHUTOFF", res.RuntimeState)
			require.Equal(t, 2, w.count("server resize"), "one resize a flavor")
			require.Equal(t, 2, w.count("server confirmResize"), "one confirmation a flavor")
			require.Equal(t, 1, w.count("server os-stop"))

			at := w.req("volume", w.volume, "attach")
			at.InstanceBackendID = w.server
			w.loseNext("attach")
			ares := w.runRetried(t, at)
			require.Equal(t, "in-use", ares.RuntimeState)
			require.Equal(t, 1, w.count("attach"), "one attachment")

			require.NoError(t, w.srv.SetFaults(openstacktest.Faults{ErrorRate: 0.5, AfterEffect: true, Services: []string{"volume"}}))
			ext := w.req("volume", w.volume, "extend")
			ext.Size = 4096
			w.loseNext("volume os-extend")
			eres := w.runRetried(t, ext)
			require.EqualValues(t, 4096, eres.Size)
			require.Equal(t, 4, w.emuVolume(t).Size)
			require.Equal(t, 1, w.count("volume os-extend"), "one extension")
			ext.Size = 5000
			w.loseNext("volume os-extend")
			eres = w.runRetried(t, ext)
			require.EqualValues(t, 5120, eres.Size)
			require.Equal(t, 2, w.count("volume os-extend"))

			require.NoError(t, w.srv.SetFaults(openstacktest.Faults{ErrorRate: 0.5, AfterEffect: true}))
			w.loseNext("detach")
			dres := w.runRetried(t, w.req("volume", w.volume, "detach"))
			require.Equal(t, "available", dres.RuntimeState)
			require.Empty(t, w.emuVolume(t).Attachments)

			injected := 0
			for _, r := range w.srv.Requests() {
				if r.Injected {
					injected++
				}
			}
			require.Positive(t, injected)
			require.NoError(t, w.srv.SetFaults(openstacktest.Faults{}))
			sv := w.emuServer(t)
			require.Equal(t, "4", sv.FlavorID)
			require.Equal(t, "SHUTOFF", sv.Status)
		})
	}
}

// registry records the activities a worker registration makes.
type registry struct {
	worker.Registry // nil: only activities are expected
	named           map[string]any
}

func (r *registry) RegisterActivity(any) {}
func (r *registry) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	r.named[o.Name] = a
}

// TestActionActivity: the plugin registers RunAction on the openstack
// queue as ActivityRunAction; run by that name it performs the action, and
// a refusal is a non-retryable application error with its code.
func TestActionActivity(t *testing.T) {
	w := newActionWorld(t, 7)
	reg := &registry{named: map[string]any{}}
	var registered bool
	for _, wk := range (openstack.Plugin{Provider: w.p}).Workers(plugin.Deps{}) {
		if wk.Queue == openstack.Queue {
			wk.Register(reg)
			registered = true
		}
	}
	require.True(t, registered)
	fn := reg.named[openstack.ActivityRunAction]
	require.NotNil(t, fn, "registered as %s", openstack.ActivityRunAction)
	require.Equal(t, "OpenStackRunAction", openstack.ActivityRunAction)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: openstack.ActivityRunAction})
	v, err := env.ExecuteActivity(openstack.ActivityRunAction, w.req("instance", w.server, "stop"))
	require.NoError(t, err)
	var res openstack.ActionResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, "SHUTOFF", res.RuntimeState)

	_, err = env.ExecuteActivity(openstack.ActivityRunAction, w.req("instance", w.server, "restart"))
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	require.True(t, app.NonRetryable())
	require.Equal(t, string(models.CodeConflict), app.Type())
	require.Contains(t, app.Error(), "SHUTOFF")
}
