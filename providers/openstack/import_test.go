package openstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// outside is someone working in a tenant without Waldur: the admin's
// gophercloud clients scoped to the tenant's project.
type outside struct {
	t       testing.TB
	compute *gophercloud.ServiceClient
	block   *gophercloud.ServiceClient
}

func outsideOf(t testing.TB, srv *openstacktest.HTTPServer, tenantBackendID string) *outside {
	t.Helper()
	ctx := context.Background()
	pc, err := gcos.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: srv.IdentityURL(), Username: "admin",
		Password: "admin", DomainName: "Default", TenantID: tenantBackendID})
	require.NoError(t, err)
	o := &outside{t: t}
	o.compute, err = gcos.NewComputeV2(pc, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	o.block, err = gcos.NewBlockStorageV3(pc, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	return o
}

// poll calls cond until it holds, failing after a minute.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// server boots a server from an image on a network and waits until it is ACTIVE.
func (o *outside) server(name, flavor, image, network string) string {
	o.t.Helper()
	ctx := context.Background()
	sv, err := servers.Create(ctx, o.compute, servers.CreateOpts{Name: name, FlavorRef: flavor, ImageRef: image,
		Networks: []servers.Network{{UUID: network}}}, nil).Extract()
	require.NoError(o.t, err)
	poll(o.t, "server "+name+" to be ACTIVE", func() bool {
		got, err := servers.Get(ctx, o.compute, sv.ID).Extract()
		require.NoError(o.t, err)
		return got.Status == "ACTIVE"
	})
	return sv.ID
}

// volume creates a volume of size GiB and waits until it is available.
func (o *outside) volume(name string, size int) string {
	o.t.Helper()
	ctx := context.Background()
	v, err := volumes.Create(ctx, o.block, volumes.CreateOpts{Name: name, Size: size}, nil).Extract()
	require.NoError(o.t, err)
	poll(o.t, "volume "+name+" to be available", func() bool {
		got, err := volumes.Get(ctx, o.block, v.ID).Extract()
		require.NoError(o.t, err)
		return got.Status == "available"
	})
	return v.ID
}

// TestImporter: the provider lists the servers and volumes of the
// source's tenants that Waldur did not make, and describes one found in
// any of them; servers of tenants not in the source, servers an order
// made, unknown ids and tenant offerings are refused; a tenant gone from
// the cloud is skipped.
func TestImporter(t *testing.T) {
	srv := fastEmulator(t)
	p := fastProvider()
	ctx := ctxT(t)
	conn, err := openstack.ConnectionFrom(secrets(srv))
	require.NoError(t, err)

	var tenants []openstack.Snapshot
	for _, name := range []string{"alpha", "beta"} {
		res, err := p.Create(ctx, tenantOrder(srv, name))
		require.NoError(t, err)
		tenants = append(tenants, snapshotOf(t, res))
	}
	sourceOf := func(idx ...int) openstack.ImportSource {
		src := openstack.ImportSource{}
		for _, i := range idx {
			src.Tenants = append(src.Tenants, openstack.ImportTenant{UUID: models.NewUUID().String(), Name: []string{"alpha", "beta"}[i],
				BackendID: tenants[i].Tenant.BackendID, Connection: conn})
		}
		return src
	}
	source := func(idx ...int) json.RawMessage { return providers.MustEncode(sourceOf(idx...)) }
	refs := instanceRefs(t, srv, tenants[0])
	made, err := p.Create(ctx, withRefs(providers.Request{}, openstack.OfferingInstance, refs, "ordered"))
	require.NoError(t, err)

	alpha, beta := outsideOf(t, srv, tenants[0].Tenant.BackendID), outsideOf(t, srv, tenants[1].Tenant.BackendID)
	legacyA := alpha.server("legacy-a", refs.Flavor.BackendID, refs.ImageBackendID, tenants[0].Tenant.InternalNetworkID)
	legacyB := beta.server("legacy-b", refs.Flavor.BackendID, refs.ImageBackendID, tenants[1].Tenant.InternalNetworkID)
	data := alpha.volume("archive", 2)

	req := func(typ string, resolved json.RawMessage, backendID string) providers.Request {
		return providers.Request{OfferingType: typ, OfferingUUID: models.NewUUID(), Resolved: resolved, BackendID: backendID}
	}
	ids := func(items []providers.ImportableResource) map[string]providers.ImportableResource {
		out := map[string]providers.ImportableResource{}
		for _, it := range items {
			out[it.BackendID] = it
		}
		return out
	}
	items, err := p.Importable(ctx, req(openstack.OfferingInstance, source(0), ""))
	require.NoError(t, err)
	got := ids(items)
	require.Len(t, got, 1, "alpha's server made outside Waldur only: %v", items)
	require.Equal(t, "legacy-a", got[legacyA].Name)
	require.Equal(t, openstack.OfferingInstance, got[legacyA].Type)
	require.Equal(t, "tenant alpha, ACTIVE", got[legacyA].Description)

	both := sourceOf(0, 1)
	both.Tenants = append(both.Tenants, openstack.ImportTenant{UUID: models.NewUUID().String(), Name: "gone", BackendID: "no-such-project", Connection: conn})
	items, err = p.Importable(ctx, req(openstack.OfferingInstance, providers.MustEncode(both), ""))
	require.NoError(t, err, "a tenant gone from the cloud is skipped")
	got = ids(items)
	require.Len(t, got, 2)
	require.Contains(t, got, legacyB)

	vols, err := p.Importable(ctx, req(openstack.OfferingVolume, source(0, 1), ""))
	require.NoError(t, err)
	require.Equal(t, []string{data}, keys(ids(vols)), "the instance order's volumes carry Waldur's metadata")
	require.Equal(t, "tenant alpha, 2048 MiB, available, __DEFAULT__", vols[0].Description, "the default volume type")

	// Described: found in the tenant that has it.
	d, err := p.DescribeImport(ctx, req(openstack.OfferingInstance, source(0, 1), legacyB))
	require.NoError(t, err)
	require.Equal(t, legacyB, d.BackendID)
	require.Equal(t, "legacy-b", d.Name)
	require.Equal(t, tenants[1].Tenant.BackendID, d.Metadata["tenant_id"])
	require.Equal(t, "beta", d.Metadata["tenant_name"])
	require.Equal(t, "m1.small", d.Metadata["flavor_name"])
	require.Equal(t, true, d.Metadata["imported"])
	imp, err := providers.Decode[openstack.Imported](d.Pulled)
	require.NoError(t, err)
	require.Equal(t, d.Metadata["tenant_uuid"], imp.TenantUUID)
	require.Len(t, imp.Snapshot.Servers, 1)
	require.Equal(t, "ACTIVE", imp.Snapshot.Servers[0].Status)
	require.Len(t, imp.Snapshot.Servers[0].InternalIPs, 1)

	dv, err := p.DescribeImport(ctx, req(openstack.OfferingVolume, source(0), data))
	require.NoError(t, err)
	require.Equal(t, "archive", dv.Name)
	require.EqualValues(t, 2048, dv.Metadata["size"])
	imp, err = providers.Decode[openstack.Imported](dv.Pulled)
	require.NoError(t, err)
	require.Len(t, imp.Snapshot.Volumes, 1)
	require.EqualValues(t, 2048, imp.Snapshot.Volumes[0].Size)

	for _, tc := range []struct {
		name     string
		typ      string
		resolved json.RawMessage
		id       string
		code     models.Code
	}{
		{"another tenant's server", openstack.OfferingInstance, source(0), legacyB, models.CodeNotFound},
		{"a server an order made", openstack.OfferingInstance, source(0), made.BackendID, models.CodeInvalid},
		{"an unknown server", openstack.OfferingInstance, source(0, 1), models.NewUUID().String(), models.CodeNotFound},
		{"a server id on a volume offering", openstack.OfferingVolume, source(0), legacyA, models.CodeNotFound},
		{"a tenant offering", openstack.OfferingTenant, source(0), legacyA, models.CodeInvalid},
		{"no tenants", openstack.OfferingInstance, source(), legacyA, models.CodeNotFound},
		{"the core's refusal", openstack.OfferingInstance, providers.MustEncode(openstack.ImportSource{Error: "No tenant."}), legacyA, models.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.DescribeImport(ctx, req(tc.typ, tc.resolved, tc.id))
			var pe *providers.PermanentError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, tc.code, models.ErrorCode(err), "%v", err)
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestImportThroughTheAPI: a server and a volume made with gophercloud in
// a tenant ordered through Waldur are listed by importable_resources and
// imported by import_resource as OK resources of the instance and volume
// offerings (the server's row, recorded by an earlier pull, is taken
// over; the volume gets one). The pull keeps them; the volume deleted
// behind Waldur's back is Erred; terminating the instance through an
// order deletes the server, and the tenant's termination leaves the
// emulator empty.
func TestImportThroughTheAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	cl := newCloud(t, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 100 * time.Millisecond,
		VolumeDelay: 50 * time.Millisecond, DeleteDelay: 50 * time.Millisecond, ActionDelay: 50 * time.Millisecond})
	torder, tenant := cl.tenant("legacy")
	q := "?tenant_uuid=" + tenant["uuid"].(string)
	flavor := cl.first("/api/openstack-flavors/" + q + "&name_exact=m1.small")["backend_id"].(string)
	image := cl.first("/api/openstack-images/" + q + "&name_exact=cirros-0.6.2-x86_64-disk")["backend_id"].(string)
	out := outsideOf(t, cl.emu, tenant["backend_id"].(string))
	serverID := out.server("legacy-vm", flavor, image, tenant["internal_network_id"].(string))

	pulls := 0
	pull := func() openstack.PullOpenStackResult {
		pulls++
		run, err := cl.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: workflows.QueueCore},
			openstack.PullOpenStack, openstack.PullOpenStackInput{})
		require.NoError(t, err)
		var res openstack.PullOpenStackResult
		require.NoError(t, run.Get(context.Background(), &res))
		require.Empty(t, res.Failed)
		return res
	}
	require.Equal(t, []string{"legacy-vm"}, pull().Imported, "the pull records the server as a row without a resource")
	var rows []map[string]any
	cl.do("GET", "/api/openstack-instances/?backend_id="+serverID, nil, 200, &rows)
	require.Len(t, rows, 1)
	require.Nil(t, rows[0]["marketplace_resource_uuid"])
	pulledRow := rows[0]["uuid"]
	volumeID := out.volume("legacy-data", 1) // after the pull: no row yet

	importable := func(offering string) map[string]map[string]any {
		var items []map[string]any
		cl.do("GET", "/api/marketplace-provider-offerings/"+uuidOf(offering)+"/importable_resources/", nil, 200, &items)
		got := map[string]map[string]any{}
		for _, it := range items {
			got[it["backend_id"].(string)] = it
		}
		return got
	}
	items := importable(cl.vmOffering)
	require.Len(t, items, 1)
	require.Equal(t, "legacy-vm", items[serverID]["name"])
	require.Contains(t, importable(cl.volumeOffering), volumeID)
	require.Len(t, importable(cl.volumeOffering), 1)

	var other map[string]any
	cl.do("POST", "/api/projects/", map[string]any{"name": "Elsewhere", "customer": cl.first("/api/customers/")["url"]}, 201, &other)
	importInto := func(offering, backendID, project string, want int) map[string]any {
		var r map[string]any
		cl.do("POST", "/api/marketplace-provider-offerings/"+uuidOf(offering)+"/import_resource/",
			map[string]any{"backend_id": backendID, "project": uuidOf(project)}, want, &r)
		return r
	}
	importInto(cl.vmOffering, serverID, other["url"].(string), 400) // not the tenant's project
	importInto(cl.tenantOffering, tenant["backend_id"].(string), cl.project, 400)
	started := time.Now()
	vm := importInto(cl.vmOffering, serverID, cl.project, 200)
	t.Logf("import_resource of a server: %s", time.Since(started).Round(time.Millisecond))
	require.Equal(t, "OK", vm["state"])
	require.Equal(t, serverID, vm["backend_id"])
	require.Equal(t, "legacy-vm", vm["name"])
	require.Equal(t, openstack.OfferingInstance, vm["resource_type"])
	require.Equal(t, pulledRow, vm["resource_uuid"], "the pull's row is the resource's")
	var row map[string]any
	cl.do("GET", "/api/openstack-instances/"+pulledRow.(string)+"/", nil, 200, &row)
	require.Equal(t, vm["uuid"], row["marketplace_resource_uuid"])
	require.Equal(t, "OK", row["state"])
	require.Equal(t, "ACTIVE", row["runtime_state"])
	require.Equal(t, "m1.small", row["flavor_name"])
	importInto(cl.vmOffering, serverID, cl.project, 400) // once

	disk := importInto(cl.volumeOffering, volumeID, cl.project, 200)
	require.Equal(t, "OK", disk["state"])
	require.Equal(t, openstack.OfferingVolume, disk["resource_type"])
	var vrow map[string]any
	cl.do("GET", "/api/openstack-volumes/"+disk["resource_uuid"].(string)+"/", nil, 200, &vrow)
	require.Equal(t, volumeID, vrow["backend_id"])
	require.EqualValues(t, 1024, vrow["size"])
	require.Equal(t, disk["uuid"], vrow["marketplace_resource_uuid"])
	require.Empty(t, importable(cl.vmOffering))
	require.Empty(t, importable(cl.volumeOffering))

	// The pull keeps them, and errs the volume deleted behind Waldur's back.
	res := pull()
	require.Empty(t, res.Erred)
	require.Empty(t, res.Imported)
	require.NoError(t, volumes.Delete(context.Background(), out.block, volumeID, nil).ExtractErr())
	poll(t, "the pull to see the volume go", func() bool { res = pull(); return len(res.Erred) > 0 })
	require.Equal(t, []string{"legacy-data"}, res.Erred)
	var mres map[string]any
	cl.do("GET", "/api/marketplace-resources/"+disk["uuid"].(string)+"/", nil, 200, &mres)
	require.Equal(t, "Erred", mres["state"])
	cl.do("GET", "/api/marketplace-resources/"+vm["uuid"].(string)+"/", nil, 200, &mres)
	require.Equal(t, "OK", mres["state"])

	// Terminating the imported instance deletes the server.
	cl.terminate(vm["uuid"].(string))
	_, err := servers.Get(context.Background(), out.compute, serverID).Extract()
	require.True(t, gophercloud.ResponseCodeIs(err, 404), "the server is gone: %v", err)
	require.Zero(t, cl.emu.Counts().Servers)
	cl.terminate(torder["marketplace_resource_uuid"].(string))
	require.Zero(t, cl.emu.Counts().Total(), "the emulator is empty: %+v", cl.emu.Counts())
}

// uuidOf is the UUID at the end of an API URL.
func uuidOf(u string) string {
	parts := strings.Split(strings.TrimSuffix(u, "/"), "/")
	return parts[len(parts)-1]
}
