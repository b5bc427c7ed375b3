package openstacktest_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/rbacpolicies"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/stretchr/testify/require"
)

// Neutron RBAC policies through gophercloud: a network shared with another
// project becomes visible there; duplicates (409), "*" for a non-admin
// (403), another project's network (404) and unknown actions (400) are
// refused; a policy the target has ports under is in use (409); the
// network's deletion takes its policies.
func TestRBACPolicies(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)
	owner := member(t, ctx, srv, adm, "rbac-owner")
	other := member(t, ctx, srv, adm, "rbac-other")
	var otherID string
	for _, p := range srv.Projects() {
		if p.Name == "rbac-other-project" {
			otherID = p.ID
		}
	}
	require.NotEmpty(t, otherID)

	n, err := networks.Create(ctx, owner.network, networks.CreateOpts{Name: "lab"}).Extract()
	require.NoError(t, err)
	_, err = networks.Get(ctx, other.network, n.ID).Extract()
	require.Equal(t, 404, status(err), "not shared yet")

	opts := rbacpolicies.CreateOpts{Action: rbacpolicies.ActionAccessShared, ObjectType: "network", ObjectID: n.ID, TargetTenant: otherID}
	p, err := rbacpolicies.Create(ctx, owner.network, opts).Extract()
	require.NoError(t, err)
	require.Equal(t, n.ID, p.ObjectID)
	require.Equal(t, otherID, p.TargetTenant)
	require.Equal(t, "network", p.ObjectType)

	_, err = rbacpolicies.Create(ctx, owner.network, opts).Extract()
	require.Equal(t, 409, status(err), "a duplicate")
	_, err = rbacpolicies.Create(ctx, owner.network, rbacpolicies.CreateOpts{Action: rbacpolicies.ActionAccessShared, ObjectType: "network",
		ObjectID: n.ID, TargetTenant: "*"}).Extract()
	require.Equal(t, 403, status(err), "everyone is the admin's")
	_, err = rbacpolicies.Create(ctx, other.network, rbacpolicies.CreateOpts{Action: rbacpolicies.ActionAccessShared, ObjectType: "network",
		ObjectID: n.ID, TargetTenant: "x"}).Extract()
	require.Equal(t, 404, status(err), "not the other's network")
	_, err = rbacpolicies.Create(ctx, owner.network, rbacpolicies.CreateOpts{Action: "access_as_nothing", ObjectType: "network",
		ObjectID: n.ID, TargetTenant: otherID}).Extract()
	require.Equal(t, 400, status(err))

	got, err := networks.Get(ctx, other.network, n.ID).Extract()
	require.NoError(t, err, "shared with the other project")
	require.Equal(t, "lab", got.Name)
	seen, err := rbacpolicies.Get(ctx, other.network, p.ID).Extract()
	require.NoError(t, err, "the target sees the policy")
	require.Equal(t, p.ID, seen.ID)
	pages, err := rbacpolicies.List(owner.network, rbacpolicies.ListOpts{ObjectID: n.ID}).AllPages(ctx)
	require.NoError(t, err)
	all, err := rbacpolicies.ExtractRBACPolicies(pages)
	require.NoError(t, err)
	require.Len(t, all, 1)

	pt, err := ports.Create(ctx, other.network, ports.CreateOpts{NetworkID: n.ID, Name: "borrowed"}).Extract()
	require.NoError(t, err)
	err = rbacpolicies.Delete(ctx, owner.network, p.ID).ExtractErr()
	require.Equal(t, 409, status(err), "in use by the other's port")
	require.NoError(t, ports.Delete(ctx, other.network, pt.ID).ExtractErr())
	require.Equal(t, 403, status(rbacpolicies.Delete(ctx, other.network, p.ID).ExtractErr()), "the owner's to delete")
	require.NoError(t, rbacpolicies.Delete(ctx, owner.network, p.ID).ExtractErr())
	_, err = networks.Get(ctx, other.network, n.ID).Extract()
	require.Equal(t, 404, status(err), "no longer shared")

	_, err = rbacpolicies.Create(ctx, owner.network, opts).Extract()
	require.NoError(t, err)
	require.Len(t, srv.RBACPolicies(), 1)
	require.NoError(t, networks.Delete(ctx, owner.network, n.ID).ExtractErr())
	require.Empty(t, srv.RBACPolicies(), "gone with the network")
	require.Equal(t, 0, emulatorState(t, ctx, srv).Counts.RBACPolicies)
}
