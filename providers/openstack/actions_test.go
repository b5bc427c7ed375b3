package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// settle polls an OpenStack object until it is OK (or the test fails: ERRED,
// or still busy after a minute).
func (cl *cloud) settle(collection, uuid string) map[string]any {
	cl.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var o map[string]any
		cl.do("GET", "/api/"+collection+"/"+uuid+"/", nil, 200, &o)
		switch o["state"] {
		case "OK":
			return o
		case "ERRED":
			cl.t.Fatalf("%s %s erred: %v", collection, uuid, o["error_message"])
		}
		if time.Now().After(deadline) {
			cl.t.Fatalf("%s %s still %s (%v)", collection, uuid, o["state"], o["action"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestObjectActions: through the API, on a real Temporal server and the
// emulator, an instance renamed, stopped, resized, started; a volume
// attached, extended while in use and detached; a tenant renamed; the
// console read; refusals in the wrong state (409, nothing changes) and of
// a bad request (400); staff's set_erred and set_ok; everything deleted at
// the end leaves the emulator empty.
func TestObjectActions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	torder, tenant := cl.tenant("research")
	iorder := cl.order(cl.vmOffering, cl.instanceAttrs(tenant, "vm-1"), nil)
	vorder := cl.order(cl.volumeOffering, map[string]any{"name": "scratch", "tenant": tenant["url"], "size": 2048}, nil)
	vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
	volPath := "/api/openstack-volumes/" + vorder["resource_uuid"].(string) + "/"
	var vm, vol map[string]any
	cl.do("GET", vmPath, nil, 200, &vm)
	cl.do("GET", volPath, nil, 200, &vol)
	server := func() openstacktest.Server {
		s, ok := cl.emu.Server(vm["backend_id"].(string))
		require.True(t, ok)
		return s
	}

	// Rename: the answer is the object, scheduled; the cloud follows.
	var upd map[string]any
	cl.do("PATCH", vmPath, map[string]any{"name": "vm-renamed", "description": "web"}, 200, &upd)
	require.Equal(t, "vm-renamed", upd["name"])
	require.Contains(t, []any{"UPDATE_SCHEDULED", "UPDATING", "OK"}, upd["state"])
	vm = cl.settle("openstack-instances", vm["uuid"].(string))
	require.Equal(t, "vm-renamed", server().Name)
	require.Equal(t, "web", vm["description"])

	// Start of a running server: 409, nothing scheduled.
	var refusal map[string]any
	cl.do("POST", vmPath+"start/", nil, 409, &refusal)
	require.Equal(t, "Valid runtime states for operation: SHUTOFF.", refusal["detail"])
	cl.do("GET", vmPath, nil, 200, &vm)
	require.Equal(t, "OK", vm["state"])

	// Stop; a second click while it runs is refused.
	var ans map[string]any
	cl.do("POST", vmPath+"stop/", nil, 202, &ans)
	require.Equal(t, "stop was scheduled", ans["status"])
	cl.do("POST", vmPath+"stop/", nil, 409, nil)
	vm = cl.settle("openstack-instances", vm["uuid"].(string))
	require.Equal(t, "SHUTOFF", vm["runtime_state"])
	require.Equal(t, "SHUTOFF", server().Status)

	// Resize: the same flavor is a 400; another one is done once.
	q := "?tenant_uuid=" + tenant["uuid"].(string)
	small := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.small")
	medium := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.medium")
	cl.do("POST", vmPath+"change_flavor/", map[string]any{"flavor": small["url"]}, 400, nil)
	cl.do("POST", vmPath+"change_flavor/", map[string]any{}, 400, nil)
	cl.do("POST", vmPath+"change_flavor/", map[string]any{"flavor": medium["url"]}, 202, nil)
	vm = cl.settle("openstack-instances", vm["uuid"].(string))
	require.Equal(t, "m1.medium", vm["flavor_name"])
	require.EqualValues(t, 2, vm["cores"])
	require.Equal(t, "3", server().FlavorID)

	cl.do("POST", vmPath+"start/", nil, 202, nil)
	vm = cl.settle("openstack-instances", vm["uuid"].(string))
	require.Equal(t, "ACTIVE", vm["runtime_state"])

	// The volume: detach of an available one is refused; attach, extend in use, detach.
	cl.do("POST", volPath+"detach/", nil, 409, nil)
	cl.do("POST", volPath+"extend/", map[string]any{"disk_size": 1024}, 400, nil)
	cl.do("POST", volPath+"attach/", map[string]any{"instance": vm["url"]}, 202, nil)
	vol = cl.settle("openstack-volumes", vol["uuid"].(string))
	require.Equal(t, "in-use", vol["runtime_state"])
	require.Equal(t, vm["url"], vol["instance"])
	cl.do("POST", volPath+"extend/", map[string]any{"disk_size": 4096}, 202, nil)
	vol = cl.settle("openstack-volumes", vol["uuid"].(string))
	require.EqualValues(t, 4096, vol["size"])
	bv, ok := cl.emu.Volume(vol["backend_id"].(string))
	require.True(t, ok)
	require.Equal(t, 4, bv.Size, "GiB in the cloud")
	// The same action again the moment the first is OK, while its run is
	// still closing (held open here by a run of the same id that no worker
	// takes, ended when the API meets it): run too, not left to the
	// dispatcher (which this test does not run).
	ctx := context.Background()
	closing, err := cl.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "nobody",
		ID: openstack.ActionWorkflowID(openstack.KindVolume, models.MustParseUUID(vol["uuid"].(string)), "extend")}, "OpenStackAction")
	require.NoError(t, err)
	met := make(chan struct{}, 1)
	defer openstack.SetRunOpenHook(func(id string) {
		if id == closing.GetID() {
			_ = cl.tc.TerminateWorkflow(ctx, closing.GetID(), closing.GetRunID(), "the previous run closes")
			met <- struct{}{}
		}
	})()
	cl.do("POST", volPath+"extend/", map[string]any{"disk_size": 6144}, 202, nil)
	select {
	case <-met:
	default:
		t.Fatal("the API did not meet the open run")
	}
	vol = cl.settle("openstack-volumes", vol["uuid"].(string))
	require.EqualValues(t, 6144, vol["size"])
	bv, _ = cl.emu.Volume(vol["backend_id"].(string))
	require.Equal(t, 6, bv.Size)
	cl.do("POST", volPath+"detach/", nil, 202, nil)
	vol = cl.settle("openstack-volumes", vol["uuid"].(string))
	require.Equal(t, "available", vol["runtime_state"])
	require.Nil(t, vol["instance"])

	// The tenant renamed in Keystone.
	tPath := "/api/openstack-tenants/" + tenant["uuid"].(string) + "/"
	cl.do("PUT", tPath, map[string]any{"name": "research-2"}, 200, nil)
	cl.settle("openstack-tenants", tenant["uuid"].(string))
	renamed := false
	for _, p := range cl.emu.Projects() {
		if p.ID == tenant["backend_id"] {
			renamed = p.Name == "research-2"
		}
	}
	require.True(t, renamed, "the Keystone project is renamed")

	// The console.
	var log string
	cl.do("GET", vmPath+"console_log/?length=5", nil, 200, &log)
	cl.do("GET", vmPath+"console_log/?length=x", nil, 400, nil)

	// Staff marks the volume erred and OK again.
	cl.do("POST", volPath+"set_erred/", nil, 200, nil)
	cl.do("GET", volPath, nil, 200, &vol)
	require.Equal(t, "ERRED", vol["state"])
	cl.do("POST", volPath+"extend/", map[string]any{"disk_size": 8192}, 409, nil)
	cl.do("POST", volPath+"set_ok/", nil, 200, nil)
	cl.settle("openstack-volumes", vol["uuid"].(string))

	// The events of the actions.
	var events []map[string]any
	cl.do("GET", "/api/events/?event_type=resource_stop_succeeded", nil, 200, &events)
	require.Len(t, events, 1)
	cl.do("GET", "/api/events/?event_type=resource_change_flavor_succeeded", nil, 200, &events)
	require.Len(t, events, 1)

	// Nothing left scheduled: the dispatcher finds nothing to start.
	dispatch := func() int {
		run, err := cl.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
			openstack.DispatchOpenStackActions)
		require.NoError(t, err)
		var started int
		require.NoError(t, run.Get(context.Background(), &started))
		return started
	}
	require.Zero(t, dispatch())

	// An action scheduled by a process that died before starting its run
	// (recorded, no workflow): the dispatcher starts it once it is a minute old.
	ctx = context.Background()
	ost := openstack.NewStore(store.New(cl.db))
	obj, err := ost.ActionObjectByUUID(ctx, openstack.KindInstance, models.MustParseUUID(vm["uuid"].(string)))
	require.NoError(t, err)
	_, err = ost.ScheduleAction(ctx, openstack.KindInstance, obj.ID, openstack.ScheduledAction{Action: "stop"})
	require.NoError(t, err)
	require.Zero(t, dispatch(), "not a minute old: its run may be starting")
	require.NoError(t, cl.db.Exec("UPDATE openstack_instances SET modified = ? WHERE id = ?", time.Now().UTC().Add(-2*time.Minute), obj.ID).Error)
	require.Equal(t, 1, dispatch())
	vm = cl.settle("openstack-instances", vm["uuid"].(string))
	require.Equal(t, "SHUTOFF", vm["runtime_state"])
	require.Zero(t, dispatch())

	cl.terminate(vorder["marketplace_resource_uuid"].(string))
	cl.terminate(iorder["marketplace_resource_uuid"].(string))
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
}
