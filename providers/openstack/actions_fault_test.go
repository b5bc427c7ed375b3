package openstack_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestActionFaults: 30% of the emulator's answers fail and the worker
// process running the openstack queue is SIGKILLed while an instance is
// being resized; another worker takes over. The action completes once:
// the instance ends OK on the new flavor, one succeeded event, the
// server still the same one.
func TestActionFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	p := openstack.DefaultActionPolicies()
	p.DB.RetryPolicy = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond}
	p.Cloud.HeartbeatTimeout = 10 * time.Second // RunAction heartbeats every 5s
	p.Cloud.RetryPolicy = &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Second, MaximumAttempts: 20}
	openstack.SetActionPolicies(p)
	t.Cleanup(func() { openstack.SetActionPolicies(openstack.DefaultActionPolicies()) })

	cl := newCloud(t, []string{workflows.QueueCore}, openstacktest.Options{BuildDelay: 200 * time.Millisecond, VolumeDelay: 100 * time.Millisecond,
		DeleteDelay: 100 * time.Millisecond, ActionDelay: 3 * time.Second, Seed: 7})
	w1 := cl.startWorker()
	torder, tenant := cl.tenant("faulty")
	attrs := cl.instanceAttrs(tenant, "resized")
	delete(attrs, "floating_ips")
	iorder := cl.order(cl.vmOffering, attrs, nil)
	vmPath := "/api/openstack-instances/" + iorder["resource_uuid"].(string) + "/"
	cl.do("POST", vmPath+"stop/", nil, 202, nil)
	vm := cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	require.Equal(t, "SHUTOFF", vm["runtime_state"])
	id := vm["backend_id"].(string)

	require.NoError(t, cl.emu.SetFaults(openstacktest.Faults{ErrorRate: 0.3}))
	large := cl.first("/api/openstack-flavors/?tenant_uuid=" + tenant["uuid"].(string) + "&name_exact=m1.large")
	cl.do("POST", vmPath+"change_flavor/", map[string]any{"flavor": large["url"]}, 202, nil)
	deadline := time.Now().Add(time.Minute)
	for {
		s, ok := cl.emu.Server(id)
		require.True(t, ok)
		if s.Status == "RESIZE" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the resize never began (%s)", s.Status)
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	killed := time.Now()
	cl.startWorker()
	vm = cl.settle("openstack-instances", iorder["resource_uuid"].(string))
	t.Logf("resized %s after the kill", time.Since(killed))
	require.Equal(t, "m1.large", vm["flavor_name"])
	require.Equal(t, id, vm["backend_id"], "the same server")
	s, _ := cl.emu.Server(id)
	require.Equal(t, "4", s.FlavorID)
	require.Equal(t, "SHUTOFF", s.Status, "confirmed, and stopped as it was")
	var events []map[string]any
	cl.do("GET", "/api/events/?event_type=resource_change_flavor_succeeded", nil, 200, &events)
	require.Len(t, events, 1, "done once")
	injected := 0
	for _, r := range cl.emu.Requests() {
		if r.Injected {
			injected++
		}
	}
	require.Positive(t, injected)
	t.Logf("%d injected 5xx answers", injected)

	require.NoError(t, cl.emu.SetFaults(openstacktest.Faults{}))
	cl.terminate(iorder["marketplace_resource_uuid"].(string))
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "%+v", cl.emu.Counts())
}
