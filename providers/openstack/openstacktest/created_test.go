package openstacktest_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// TestCreated: Created counts what was ever created through the API, so a
// server created and deleted again still shows there while Counts and the
// state's counts go back to zero; seeded resources are in neither, and
// Reset starts both again.
func TestCreated(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	require.Zero(t, srv.Created().Total(), "the seeded resources are not counted")
	c := admin(t, ctx, srv)
	ims := listImages(t, ctx, c)
	for _, name := range []string{"a", "b"} {
		sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: name, FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
		require.NoError(t, err)
		waitServer(t, c, sv.ID, "ACTIVE")
		require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
		gone(t, "server "+name, func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	}
	require.Zero(t, srv.Counts().Servers)
	require.Equal(t, 2, srv.Created().Servers)
	st := srv.State()
	require.Equal(t, openstacktest.Counts{Servers: 2}, st.Created, "GET /_emulator/state shows them too")
	srv.Reset()
	require.Zero(t, srv.Created().Total())
}
