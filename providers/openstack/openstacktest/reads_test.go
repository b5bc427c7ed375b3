package openstacktest_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	cinderlimits "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	novalimits "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/catalog"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	neutronquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// TestIdentityReadsAndUpdates covers the Keystone calls a provider pulls and pushes with.
func TestIdentityReadsAndUpdates(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)

	dp, err := domains.List(adm.identity, domains.ListOpts{Name: "Default"}).AllPages(ctx)
	require.NoError(t, err)
	ds, err := domains.ExtractDomains(dp)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d, err := domains.Get(ctx, adm.identity, ds[0].ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "Default", d.Name)

	p, err := projects.Create(ctx, adm.identity, projects.CreateOpts{Name: "team-a", DomainID: "default"}).Extract()
	require.NoError(t, err)
	p, err = projects.Update(ctx, adm.identity, p.ID, projects.UpdateOpts{Description: ptr("renamed"), Name: "team-b"}).Extract()
	require.NoError(t, err)
	got, err := projects.Get(ctx, adm.identity, p.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "team-b", got.Name)
	require.Equal(t, "renamed", got.Description)
	pp, err := projects.List(adm.identity, projects.ListOpts{Filters: map[string]string{"name__contains": "eam-"}}).AllPages(ctx)
	require.NoError(t, err)
	contains, err := projects.ExtractProjects(pp)
	require.NoError(t, err)
	require.Len(t, contains, 1)

	u, err := users.Create(ctx, adm.identity, users.CreateOpts{Name: "carol", DomainID: "default", Password: "one"}).Extract()
	require.NoError(t, err)
	rp, err := roles.List(adm.identity, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	rs, err := roles.ExtractRoles(rp)
	require.NoError(t, err)
	member, err := roles.Get(ctx, adm.identity, rs[0].ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "member", member.Name)
	require.Equal(t, 404, status(roles.Validate(ctx, adm.identity, member.ID, roles.ValidateOpts{UserID: u.ID, ProjectID: p.ID}).Err))
	require.NoError(t, roles.Assign(ctx, adm.identity, member.ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr())
	require.NoError(t, roles.Assign(ctx, adm.identity, member.ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(), "idempotent")
	require.NoError(t, roles.Validate(ctx, adm.identity, member.ID, roles.ValidateOpts{UserID: u.ID, ProjectID: p.ID}).Err)
	onp, err := roles.ListAssignmentsOnResource(adm.identity, roles.ListAssignmentsOnResourceOpts{UserID: u.ID, ProjectID: p.ID}).AllPages(ctx)
	require.NoError(t, err)
	onRoles, err := roles.ExtractRoles(onp)
	require.NoError(t, err)
	require.Len(t, onRoles, 1)
	ap, err := roles.ListAssignments(adm.identity, roles.ListAssignmentsOpts{UserID: u.ID}).AllPages(ctx)
	require.NoError(t, err)
	as, err := roles.ExtractRoleAssignments(ap)
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, p.ID, as[0].Scope.Project.ID)
	upp, err := users.ListProjects(adm.identity, u.ID).AllPages(ctx)
	require.NoError(t, err)
	ups, err := projects.ExtractProjects(upp)
	require.NoError(t, err)
	require.Len(t, ups, 1)

	_, err = users.Update(ctx, adm.identity, u.ID, users.UpdateOpts{Password: "two"}).Extract()
	require.NoError(t, err)
	carol := login(t, ctx, srv.IdentityURL(), gophercloud.AuthOptions{Username: "carol", Password: "two", DomainID: "default", TenantID: p.ID})
	me, err := users.Get(ctx, carol.identity, u.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "carol", me.Name)
	require.NoError(t, users.ChangePassword(ctx, carol.identity, u.ID, users.ChangePasswordOpts{OriginalPassword: "two", Password: "three"}).ExtractErr())
	cat, err := catalog.List(carol.identity).AllPages(ctx)
	require.NoError(t, err)
	entries, err := catalog.ExtractServiceCatalog(cat)
	require.NoError(t, err)
	require.Len(t, entries, 6)
	avail, err := projects.ListAvailable(carol.identity).AllPages(ctx)
	require.NoError(t, err)
	mine, err := projects.ExtractProjects(avail)
	require.NoError(t, err)
	require.Len(t, mine, 1)

	require.NoError(t, roles.Unassign(ctx, adm.identity, member.ID, roles.UnassignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr())
	_, err = networks.List(carol.network, nil).AllPages(ctx)
	require.Equal(t, 401, status(err), "a token dies with the role it was scoped by")
}

// TestComputeVolumeImageReads covers the reads a provider pulls with (quotas,
// usage, limits, types, images) and the Go inspection API.
func TestComputeVolumeImageReads(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	var pid string
	for _, p := range srv.Projects() {
		if p.Name == "admin" {
			pid = p.ID
		}
	}
	require.NotEmpty(t, pid)
	imageID := srv.AddImage(openstacktest.Image{Name: "debian-12", MinDisk: 2})
	for _, tc := range []struct {
		opts images.ListOpts
		want int
	}{
		{images.ListOpts{}, 3},
		{images.ListOpts{Visibility: images.ImageVisibility("all")}, 3},
		{images.ListOpts{Name: "debian-12"}, 1},
		{images.ListOpts{Status: "in:active,queued"}, 3},
		{images.ListOpts{Status: images.ImageStatusQueued}, 0},
		{images.ListOpts{Limit: 2}, 3}, // gophercloud follows "next"
	} {
		p, err := images.List(c.image, tc.opts).AllPages(ctx)
		require.NoError(t, err)
		list, err := images.ExtractImages(p)
		require.NoError(t, err)
		require.Len(t, list, tc.want, "%+v", tc.opts)
	}
	im, err := images.Get(ctx, c.image, imageID).Extract()
	require.NoError(t, err)
	require.Equal(t, "debian-12", im.Name)
	require.Equal(t, 2, im.MinDiskGigabytes)

	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Name: "keep", Size: 3, ImageID: imageID}, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 400, status(volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1, ImageID: imageID}, nil).Err), "below the image's min_disk")
	vp, err := volumes.List(c.volume, volumes.ListOpts{Name: "keep"}).AllPages(ctx)
	require.NoError(t, err)
	vs, err := volumes.ExtractVolumes(vp)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	require.Equal(t, "debian-12", vs[0].VolumeImageMetadata["image_name"])
	_, err = volumes.Update(ctx, c.volume, vol.ID, volumes.UpdateOpts{Name: ptr("kept")}).Extract()
	require.NoError(t, err)
	got, ok := srv.Volume(vol.ID)
	require.True(t, ok)
	require.Equal(t, "kept", got.Name)
	require.Len(t, srv.Volumes(), 1)
	vt, err := volumetypes.Get(ctx, c.volume, func() string {
		p, err := volumetypes.List(c.volume, volumetypes.ListOpts{Name: "ssd"}).AllPages(ctx)
		require.NoError(t, err)
		list, err := volumetypes.ExtractVolumeTypes(p)
		require.NoError(t, err)
		require.Len(t, list, 1)
		return list[0].ID
	}()).Extract()
	require.NoError(t, err)
	require.Equal(t, "ssd", vt.Name)

	usage, err := cinderquotas.GetUsage(ctx, c.volume, pid).Extract()
	require.NoError(t, err)
	require.Equal(t, 1, usage.Volumes.InUse)
	require.Equal(t, 3, usage.Gigabytes.InUse)
	cl, err := cinderlimits.Get(ctx, c.volume).Extract()
	require.NoError(t, err)
	require.Equal(t, 3, cl.Absolute.TotalGigabytesUsed)
	_, err = cinderquotas.Update(ctx, c.volume, pid, cinderquotas.UpdateOpts{Volumes: ptr(1)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 413, status(volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Err))
	require.NoError(t, cinderquotas.Delete(ctx, c.volume, pid).ExtractErr())
	q, err := cinderquotas.Get(ctx, c.volume, pid).Extract()
	require.NoError(t, err)
	require.Equal(t, 10, q.Volumes, "back to the default")

	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "3", ImageRef: imageID}, nil).Extract()
	require.NoError(t, err)
	nd, err := novaquotas.GetDetail(ctx, c.compute, pid).Extract()
	require.NoError(t, err)
	require.Equal(t, 1, nd.Instances.InUse)
	require.Equal(t, 2, nd.Cores.InUse)
	require.Equal(t, 4096, nd.RAM.InUse)
	nl, err := novalimits.Get(ctx, c.compute, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 1, nl.Absolute.TotalInstancesUsed)
	require.Len(t, srv.Servers(), 1)
	require.Equal(t, sv.ID, srv.Servers()[0].ID)

	_, err = networks.Create(ctx, c.network, networks.CreateOpts{Name: "n"}).Extract()
	require.NoError(t, err)
	qd, err := neutronquotas.GetDetail(ctx, c.network, pid).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, qd.Network.Used, "with the external network, which is the admin project's")
	require.Equal(t, 1, qd.SecurityGroup.Used, "the default group")
	require.Len(t, srv.Networks(), 2)
	require.Empty(t, srv.Ports())
	require.Empty(t, srv.Routers())
	require.Empty(t, srv.FloatingIPs())

	require.NoError(t, srv.ForceVolumeError(vol.ID))
	v, err := volumes.Get(ctx, c.volume, vol.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "error", v.Status)
	require.Error(t, srv.ForceVolumeError("nope"))
	require.Error(t, srv.ForceServerError("nope", "x"))
}
