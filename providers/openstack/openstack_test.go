package openstack_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxXlAq4gY0e0XlqU3PZkFFiOeKVTDMdA9uF2vu2xMOZ test@example"

func fastEmulator(t *testing.T) *openstacktest.HTTPServer {
	t.Helper()
	srv := openstacktest.NewTestServer(openstacktest.Options{BuildDelay: 20 * time.Millisecond, VolumeDelay: 10 * time.Millisecond,
		ActionDelay: 10 * time.Millisecond, DeleteDelay: 10 * time.Millisecond, Seed: 7})
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func fastProvider() *openstack.Provider {
	return openstack.New(openstack.Options{PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond,
		RetryBackoff: 2 * time.Millisecond, ServerTimeout: 20 * time.Second, VolumeTimeout: 20 * time.Second,
		ClientRetries: 12, StepAttempts: 12})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func secrets(srv *openstacktest.HTTPServer) map[string]any {
	return map[string]any{"backend_url": srv.IdentityURL(), "username": "admin", "password": "admin", "domain": "Default",
		"tenant_name": "admin", "external_network_id": srv.ExternalNetworkID()}
}

// tenantOrder is a Create order of a tenant named name.
func tenantOrder(srv *openstacktest.HTTPServer, name string) providers.Request {
	return providers.Request{OrderUUID: models.NewUUID(), OrderType: models.OrderCreate, ResourceUUID: models.NewUUID(), ResourceName: name,
		OfferingType: openstack.OfferingTenant, SecretOptions: secrets(srv),
		Attributes: map[string]any{"name": name, "description": "for tests"},
		Limits:     map[string]int64{"cores": 20, "ram": 40 * 1024, "storage": 200 * 1024}}
}

func snapshotOf(t *testing.T, res providers.Result) openstack.Snapshot {
	t.Helper()
	s, err := providers.Decode[openstack.Snapshot](res.Pulled)
	require.NoError(t, err)
	return s
}

// instanceRefs resolves an instance order the way the core does, from a tenant's snapshot.
func instanceRefs(t *testing.T, srv *openstacktest.HTTPServer, tenant openstack.Snapshot) openstack.Refs {
	t.Helper()
	conn, err := openstack.ConnectionFrom(secrets(srv))
	require.NoError(t, err)
	refs := openstack.Refs{Connection: conn, TenantBackendID: tenant.Tenant.BackendID, ExternalNetworkID: tenant.Tenant.ExternalNetworkID,
		SystemVolumeSize: 10 * 1024, DataVolumeSize: 5 * 1024, DataVolumeType: "ssd", PublicKey: testKey, FloatingIP: true,
		Subnets: []openstack.SubnetRef{{SubnetID: tenant.Tenant.SubnetID, NetworkID: tenant.Tenant.InternalNetworkID}}}
	for _, f := range tenant.Flavors {
		if f.Name == "m1.small" {
			refs.Flavor = f
		}
	}
	for _, im := range tenant.Images {
		if im.Name == "cirros-0.6.2-x86_64-disk" {
			refs.ImageBackendID = im.BackendID
		}
	}
	for _, g := range tenant.SecurityGroups {
		if g.Name == "ssh" || g.Name == "web" {
			refs.SecurityGroups = append(refs.SecurityGroups, g.BackendID)
		}
	}
	require.NotEmpty(t, refs.Flavor.BackendID)
	require.NotEmpty(t, refs.ImageBackendID)
	require.Len(t, refs.SecurityGroups, 2)
	return refs
}

func withRefs(r providers.Request, typ string, refs openstack.Refs, name string) providers.Request {
	return providers.Request{OrderUUID: models.NewUUID(), OrderType: models.OrderCreate, ResourceUUID: models.NewUUID(), ResourceName: name,
		OfferingType: typ, Resolved: providers.MustEncode(refs)}
}

// TestChains walks the tenant, instance and volume chains on the
// emulator: each create repeated with the same order makes nothing more,
// the read-backs carry what the core records, a volume is extended and
// attached, and terminating everything in reverse order leaves the cloud
// as it was.
func TestChains(t *testing.T) {
	srv := fastEmulator(t)
	p := fastProvider()
	ctx := ctxT(t)

	tr := tenantOrder(srv, "research")
	res, err := p.Create(ctx, tr)
	require.NoError(t, err)
	require.True(t, res.Done)
	tenant := snapshotOf(t, res)
	require.NotNil(t, tenant.Tenant)
	require.Equal(t, res.BackendID, tenant.Tenant.BackendID)
	require.Equal(t, res.BackendID, res.Metadata["tenant_id"])
	require.Equal(t, "research-user", tenant.Tenant.UserUsername)
	require.Len(t, tenant.Tenant.UserPassword, 16)
	require.Equal(t, srv.ExternalNetworkID(), tenant.Tenant.ExternalNetworkID)
	require.NotEmpty(t, tenant.Tenant.RouterID)
	require.Len(t, tenant.Flavors, 5)
	require.Len(t, tenant.Images, 2)
	require.Len(t, tenant.VolumeTypes, 2)
	require.Len(t, tenant.Networks, 1)
	require.Equal(t, "research-int-net", tenant.Networks[0].Name)
	require.Len(t, tenant.Subnets, 1)
	require.Equal(t, "192.168.42.0/24", tenant.Subnets[0].CIDR)
	require.Equal(t, []openstack.CloudAllocationPool{{Start: "192.168.42.10", End: "192.168.42.200"}}, tenant.Subnets[0].AllocationPools)
	names := map[string]int{}
	for _, g := range tenant.SecurityGroups {
		names[g.Name] = len(g.Rules)
	}
	require.Equal(t, map[string]int{"default": 4, "ssh": 3, "ping": 3, "web": 4}, names, "egress rules plus ours")
	quota := map[string]float64{}
	for _, q := range tenant.Quotas {
		quota[q.Name] = q.Limit
	}
	require.Equal(t, 20.0, quota["cores"])
	require.Equal(t, 40960.0, quota["ram"])
	require.Equal(t, 204800.0, quota["storage"])

	before := srv.Counts()
	again, err := p.Create(ctx, tr)
	require.NoError(t, err, "a retried tenant order")
	require.Equal(t, res.BackendID, again.BackendID)
	require.Equal(t, before, srv.Counts(), "a retried tenant order makes nothing more")

	// Quotas change with an Update order.
	up := tr
	up.OrderType, up.BackendID, up.Limits = models.OrderUpdate, res.BackendID, map[string]int64{"cores": 40, "ram": 40 * 1024, "storage": 100 * 1024}
	ures, err := p.Update(ctx, up)
	require.NoError(t, err)
	for _, q := range snapshotOf(t, ures).Quotas {
		if q.Name == "cores" {
			require.Equal(t, 40.0, q.Limit)
		}
	}

	// An instance with a system and a data volume, two security groups, a key and a floating IP.
	refs := instanceRefs(t, srv, tenant)
	ir := withRefs(tr, openstack.OfferingInstance, refs, "vm-1")
	ires, err := p.Create(ctx, ir)
	require.NoError(t, err)
	inst := snapshotOf(t, ires)
	require.Len(t, inst.Servers, 1)
	sv := inst.Servers[0]
	require.Equal(t, ires.BackendID, sv.BackendID)
	require.Equal(t, "ACTIVE", sv.Status)
	require.Equal(t, "m1.small", sv.FlavorName)
	require.Equal(t, 1, sv.Cores)
	require.EqualValues(t, 2048, sv.RAM)
	require.Equal(t, ir.ResourceUUID.String(), sv.Metadata[openstack.MetaResourceUUID])
	require.Equal(t, ir.OrderUUID.String(), sv.Metadata[openstack.MetaOrderUUID])
	require.Len(t, sv.InternalIPs, 1)
	require.Len(t, sv.ExternalIPs, 1, "a floating IP")
	require.Len(t, sv.Ports, 1)
	require.ElementsMatch(t, refs.SecurityGroups, sv.Ports[0].SecurityGroups)
	require.Len(t, inst.Volumes, 2, "system and data volumes attached")
	emuServer, ok := srv.Server(sv.BackendID)
	require.True(t, ok)
	require.Equal(t, "waldur-"+ir.ResourceUUID.String(), emuServer.KeyName, "the key went in")
	require.Zero(t, srv.Counts().Keypairs, "the key pair is removed once the server has the key")

	before = srv.Counts()
	iagain, err := p.Create(ctx, ir)
	require.NoError(t, err, "a retried instance order")
	require.Equal(t, ires.BackendID, iagain.BackendID)
	require.Equal(t, before, srv.Counts(), "a retried instance order makes nothing more")
	require.Equal(t, 1, srv.Counts().Servers)

	// A volume attached to the instance, then extended.
	vrefs := openstack.Refs{Connection: refs.Connection, TenantBackendID: refs.TenantBackendID, Size: 3000, VolumeType: "ssd",
		InstanceBackendID: ires.BackendID}
	vr := withRefs(tr, openstack.OfferingVolume, vrefs, "scratch")
	vres, err := p.Create(ctx, vr)
	require.NoError(t, err)
	vol := snapshotOf(t, vres).Volumes[0]
	require.Equal(t, "in-use", vol.Status)
	require.EqualValues(t, 3072, vol.Size, "3000 MiB rounds up to 3 GiB")
	require.Equal(t, ires.BackendID, vol.ServerBackendID)
	_, err = p.Create(ctx, vr)
	require.NoError(t, err)
	require.Equal(t, 3, srv.Counts().Volumes, "a retried volume order makes nothing more")

	ext := vr
	ext.OrderType, ext.BackendID, ext.Limits = models.OrderUpdate, vres.BackendID, map[string]int64{"size": 5 * 1024}
	eres, err := p.Update(ctx, ext)
	require.NoError(t, err)
	require.EqualValues(t, 5*1024, snapshotOf(t, eres).Volumes[0].Size)
	shrink := ext
	shrink.Limits = map[string]int64{"size": 1024}
	_, err = p.Update(ctx, shrink)
	requirePermanent(t, err, "cannot shrink")

	// A pull sees it all.
	pulled, err := p.Pull(ctx, refs.Connection, refs.TenantBackendID)
	require.NoError(t, err)
	require.False(t, pulled.Gone)
	require.Len(t, pulled.Servers, 1)
	require.Len(t, pulled.Volumes, 3)
	require.Len(t, pulled.FloatingIPs, 1)

	// Terminate in reverse order.
	vt := vr
	vt.OrderType, vt.BackendID = models.OrderTerminate, vres.BackendID
	_, err = p.Terminate(ctx, vt)
	require.NoError(t, err)
	_, err = p.Terminate(ctx, vt)
	require.NoError(t, err, "terminating what is gone")
	it := ir
	it.OrderType, it.BackendID = models.OrderTerminate, ires.BackendID
	_, err = p.Terminate(ctx, it)
	require.NoError(t, err)
	c := srv.Counts()
	require.Zero(t, c.Servers)
	require.Zero(t, c.Volumes)
	require.Zero(t, c.FloatingIPs)
	tt := tr
	tt.OrderType, tt.BackendID = models.OrderTerminate, res.BackendID
	_, err = p.Terminate(ctx, tt)
	require.NoError(t, err)
	require.Zero(t, srv.Counts().Total(), "%+v", srv.Counts())
	_, err = p.Terminate(ctx, tt)
	require.NoError(t, err, "terminating a tenant that is gone")

	gone, err := p.Pull(ctx, refs.Connection, refs.TenantBackendID)
	require.NoError(t, err)
	require.True(t, gone.Gone)
}

func requirePermanent(t *testing.T, err error, contains string) {
	t.Helper()
	var perm *providers.PermanentError
	require.True(t, errors.As(err, &perm), "permanent: %v", err)
	require.Contains(t, err.Error(), contains)
}

// TestLostAnswers: the emulator fails 30% of calls after they took effect
// (the answer is lost, as when a proxy times out); the chains still make
// exactly one of everything, and the teardown removes it all.
func TestLostAnswers(t *testing.T) {
	for _, seed := range []uint64{7, 11, 23} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { lostAnswers(t, seed) })
	}
}

func lostAnswers(t *testing.T, seed uint64) {
	srv := fastEmulator(t)
	srv.Reseed(seed)
	p := fastProvider()
	ctx := ctxT(t)
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 0.3, AfterEffect: true}))

	tr := tenantOrder(srv, "lossy")
	var res providers.Result
	var err error
	for range 5 { // as the activity's retries would
		if res, err = p.Create(ctx, tr); err == nil {
			break
		}
	}
	require.NoError(t, err)
	c := srv.Counts()
	require.Equal(t, 1, c.Projects)
	require.Equal(t, 1, c.Users)
	require.Equal(t, 1, c.Networks)
	require.Equal(t, 1, c.Subnets)
	require.Equal(t, 1, c.Routers)

	refs := instanceRefs(t, srv, snapshotOf(t, res))
	ir := withRefs(tr, openstack.OfferingInstance, refs, "vm")
	var ires providers.Result
	for range 5 {
		if ires, err = p.Create(ctx, ir); err == nil {
			break
		}
	}
	require.NoError(t, err)
	c = srv.Counts()
	require.Equal(t, 1, c.Servers, "one server")
	require.Equal(t, 2, c.Volumes, "system and data volume, once each")
	require.Equal(t, 1, c.FloatingIPs)
	requests := 0
	injected := 0
	for _, r := range srv.Requests() {
		requests++
		if r.Injected {
			injected++
		}
	}
	t.Logf("%d requests, %d answers lost", requests, injected)
	require.Positive(t, injected)

	it := ir
	it.OrderType, it.BackendID = models.OrderTerminate, ires.BackendID
	tt := tr
	tt.OrderType, tt.BackendID = models.OrderTerminate, res.BackendID
	for _, r := range []providers.Request{it, tt} {
		for range 5 {
			if _, err = p.Terminate(ctx, r); err == nil {
				break
			}
		}
		require.NoError(t, err)
	}
	require.NoError(t, srv.SetFaults(openstacktest.Faults{}))
	require.Zero(t, srv.Counts().Total(), "%+v", srv.Counts())
}

// TestServerError: a server that ends in ERROR fails the order for good,
// and what the order made is removed (the saga's compensation).
func TestServerError(t *testing.T) {
	srv := fastEmulator(t)
	p := fastProvider()
	ctx := ctxT(t)
	tr := tenantOrder(srv, "faulty")
	res, err := p.Create(ctx, tr)
	require.NoError(t, err)
	tenantCounts := srv.Counts()

	require.NoError(t, srv.SetFaults(openstacktest.Faults{ServerErrorRate: 1}))
	ir := withRefs(tr, openstack.OfferingInstance, instanceRefs(t, srv, snapshotOf(t, res)), "doomed")
	_, err = p.Create(ctx, ir)
	requirePermanent(t, err, "went to ERROR")
	require.Equal(t, tenantCounts, srv.Counts(), "nothing of the instance is left")
}

// TestRefusals: orders that cannot be performed fail for good, with a message.
func TestRefusals(t *testing.T) {
	srv := fastEmulator(t)
	p := fastProvider()
	ctx := ctxT(t)
	res, err := p.Create(ctx, tenantOrder(srv, "taken"))
	require.NoError(t, err)

	cases := []struct {
		name string
		req  providers.Request
		want string
	}{
		{"a tenant name another project has", tenantOrder(srv, "taken"), "exists in the cloud already"},
		{"no credentials", providers.Request{OfferingType: openstack.OfferingTenant, ResourceUUID: models.NewUUID()}, "backend_url"},
		{"an unresolved reference", providers.Request{OfferingType: openstack.OfferingInstance, ResourceUUID: models.NewUUID(),
			Resolved: providers.MustEncode(openstack.Refs{Error: "Flavor not found."})}, "Flavor not found."},
		{"no tenant", providers.Request{OfferingType: openstack.OfferingVolume, ResourceUUID: models.NewUUID()}, "tenant"},
		{"no size", withRefs(providers.Request{}, openstack.OfferingVolume, openstack.Refs{Connection: openstack.Connection{AuthURL: srv.IdentityURL(),
			Username: "admin", Password: "admin", Domain: "Default", AdminProject: "admin"}, TenantBackendID: res.BackendID}, "v"), "size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Create(ctx, tc.req)
			requirePermanent(t, err, tc.want)
		})
	}
}
