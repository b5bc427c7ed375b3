package openstacktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	neutronquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/require"
)

// TestErrorsAsOpenStackAnswersThem checks the status codes clients branch on.
func TestErrorsAsOpenStackAnswersThem(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)
	p, err := projects.Create(ctx, adm.identity, projects.CreateOpts{Name: "small", DomainID: "default"}).Extract()
	require.NoError(t, err)
	u, err := users.Create(ctx, adm.identity, users.CreateOpts{Name: "bob", DomainID: "default", Password: "pw"}).Extract()
	require.NoError(t, err)
	rp, err := roles.List(adm.identity, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	member, err := roles.ExtractRoles(rp)
	require.NoError(t, err)
	require.NoError(t, roles.Assign(ctx, adm.identity, member[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr())
	_, err = novaquotas.Update(ctx, adm.compute, p.ID, novaquotas.UpdateOpts{Instances: ptr(0)}).Extract()
	require.NoError(t, err)
	_, err = cinderquotas.Update(ctx, adm.volume, p.ID, cinderquotas.UpdateOpts{Gigabytes: ptr(5)}).Extract()
	require.NoError(t, err)
	_, err = neutronquotas.Update(ctx, adm.network, p.ID, neutronquotas.UpdateOpts{Network: ptr(1)}).Extract()
	require.NoError(t, err)
	bob := login(t, ctx, srv.IdentityURL(), gophercloud.AuthOptions{Username: "bob", Password: "pw", DomainName: "Default", TenantID: p.ID})

	ext := srv.ExternalNetworkID()
	net, err := networks.Create(ctx, bob.network, networks.CreateOpts{Name: "only"}).Extract()
	require.NoError(t, err)
	sub, err := subnets.Create(ctx, bob.network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.0.0.0/24", IPVersion: 4}).Extract()
	require.NoError(t, err)
	port, err := ports.Create(ctx, bob.network, ports.CreateOpts{NetworkID: net.ID}).Extract()
	require.NoError(t, err)
	router, err := routers.Create(ctx, bob.network, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: ext}}).Extract()
	require.NoError(t, err)
	adminNet, err := networks.Create(ctx, adm.network, networks.CreateOpts{Name: "admins"}).Extract()
	require.NoError(t, err)
	ims := listImages(t, ctx, bob)
	vol, err := volumes.Create(ctx, bob.volume, volumes.CreateOpts{Size: 2}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, bob, vol.ID, "available")

	for _, tc := range []struct {
		name string
		call func() error
		want int
	}{
		{"wrong password", func() error {
			_, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: srv.IdentityURL(),
				Username: "admin", Password: "nope", DomainName: "Default", TenantName: "admin"})
			return err
		}, 401},
		{"a project the user has no role on", func() error {
			_, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: srv.IdentityURL(),
				Username: "bob", Password: "pw", DomainName: "Default", TenantName: "admin"})
			return err
		}, 401},
		{"a member creates a project", func() error {
			return projects.Create(ctx, bob.identity, projects.CreateOpts{Name: "x"}).Err
		}, 403},
		{"a duplicate project", func() error {
			return projects.Create(ctx, adm.identity, projects.CreateOpts{Name: "small", DomainID: "default"}).Err
		}, 409},
		{"a missing server", func() error { return servers.Get(ctx, bob.compute, "00000000-0000-0000-0000-000000000000").Err }, 404},
		{"an unknown flavor", func() error {
			return servers.Create(ctx, bob.compute, servers.CreateOpts{Name: "x", FlavorRef: "99", ImageRef: ims[0].ID}, nil).Err
		}, 400},
		{"instances over quota", func() error {
			return servers.Create(ctx, bob.compute, servers.CreateOpts{Name: "x", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Err
		}, 403},
		{"gigabytes over quota", func() error { return volumes.Create(ctx, bob.volume, volumes.CreateOpts{Size: 4}, nil).Err }, 413},
		{"a smaller extend", func() error {
			return volumes.ExtendSize(ctx, bob.volume, vol.ID, volumes.ExtendSizeOpts{NewSize: 1}).Err
		}, 400},
		{"networks over quota", func() error { return networks.Create(ctx, bob.network, networks.CreateOpts{Name: "two"}).Err }, 409},
		{"an overlapping subnet", func() error {
			return subnets.Create(ctx, bob.network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.0.0.128/25", IPVersion: 4}).Err
		}, 400},
		{"a subnet with ports", func() error { return subnets.Delete(ctx, bob.network, sub.ID).Err }, 409},
		{"another project's network", func() error { return networks.Get(ctx, bob.network, adminNet.ID).Err }, 404},
		{"a floating IP on an internal network", func() error {
			return floatingips.Create(ctx, bob.network, floatingips.CreateOpts{FloatingNetworkID: net.ID}).Err
		}, 400},
		{"a floating IP for a port no router reaches", func() error {
			return floatingips.Create(ctx, bob.network, floatingips.CreateOpts{FloatingNetworkID: ext, PortID: port.ID}).Err
		}, 404},
		{"a gateway on an internal network", func() error {
			return routers.Update(ctx, bob.network, router.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: net.ID}}).Err
		}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, status(tc.call()))
		})
	}

	// Once the router has an interface on the subnet, the same floating IP works
	// and the router cannot go.
	_, err = routers.AddInterface(ctx, bob.network, router.ID, routers.AddInterfaceOpts{SubnetID: sub.ID}).Extract()
	require.NoError(t, err)
	fip, err := floatingips.Create(ctx, bob.network, floatingips.CreateOpts{FloatingNetworkID: ext, PortID: port.ID}).Extract()
	require.NoError(t, err)
	require.Equal(t, 409, status(routers.Delete(ctx, bob.network, router.ID).Err))
	_, err = routers.RemoveInterface(ctx, bob.network, router.ID, routers.RemoveInterfaceOpts{SubnetID: sub.ID}).Extract()
	require.Equal(t, 409, status(err), "the floating IP needs the interface")
	_, err = floatingips.Update(ctx, bob.network, fip.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract()
	require.NoError(t, err)
	_, err = routers.RemoveInterface(ctx, bob.network, router.ID, routers.RemoveInterfaceOpts{SubnetID: sub.ID}).Extract()
	require.NoError(t, err)
}

func TestIdentityEndpointsAndScopes(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	ao := gophercloud.AuthOptions{Username: "admin", Password: "admin", DomainName: "Default", TenantName: "admin"}
	for _, endpoint := range []string{srv.URL, srv.URL + "/identity", srv.URL + "/identity/v3/", srv.URL + "/v3"} {
		t.Run(endpoint, func(t *testing.T) {
			c := login(t, ctx, endpoint, ao)
			_, err := networks.List(c.network, nil).AllPages(ctx)
			require.NoError(t, err)
		})
	}

	t.Run("a domain-scoped token has no project endpoints", func(t *testing.T) {
		p, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: srv.IdentityURL(),
			Username: "admin", Password: "admin", DomainName: "Default", Scope: &gophercloud.AuthScope{DomainName: "Default"}})
		require.NoError(t, err)
		id, err := openstack.NewIdentityV3(p, gophercloud.EndpointOpts{})
		require.NoError(t, err)
		pp, err := projects.List(id, projects.ListOpts{Name: "admin"}).AllPages(ctx)
		require.NoError(t, err)
		list, err := projects.ExtractProjects(pp)
		require.NoError(t, err)
		require.Len(t, list, 1)
		_, err = openstack.NewBlockStorageV3(p, gophercloud.EndpointOpts{})
		require.Error(t, err)
	})

	t.Run("tokens validate and revoke", func(t *testing.T) {
		c := admin(t, ctx, srv)
		other := admin(t, ctx, srv)
		tok := other.provider.Token()
		got, err := tokens.Get(ctx, c.identity, tok).ExtractToken()
		require.NoError(t, err)
		require.Equal(t, tok, got.ID)
		require.NoError(t, tokens.Revoke(ctx, c.identity, tok).Err)
		ok, err := tokens.Validate(ctx, c.identity, tok)
		require.NoError(t, err)
		require.False(t, ok)
		_, err = networks.List(other.network, nil).AllPages(ctx)
		require.Equal(t, 401, status(err))
	})
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestExpiredTokensAndReauth(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts := fast()
	opts.Now = clk.Now
	srv := start(t, opts)
	ctx := ctxT(t)
	ao := gophercloud.AuthOptions{Username: "admin", Password: "admin", DomainName: "Default", TenantName: "admin"}
	plain := login(t, ctx, srv.IdentityURL(), ao)
	ao.AllowReauth = true
	renewing := login(t, ctx, srv.IdentityURL(), ao)

	clk.Add(2 * time.Hour)
	_, err := networks.List(plain.network, nil).AllPages(ctx)
	require.Equal(t, 401, status(err), "the token expired")
	_, err = networks.List(renewing.network, nil).AllPages(ctx)
	require.NoError(t, err, "gophercloud authenticated again")
	var issued int
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/identity/v3/auth/tokens" && r.Status == 201 {
			issued++
		}
	}
	require.Equal(t, 3, issued)

	// The clock drives transitions too: a server builds when time passes.
	ims := listImages(t, ctx, renewing)
	sv, err := servers.Create(ctx, renewing.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	got, ok := srv.Server(sv.ID)
	require.True(t, ok)
	require.Equal(t, "BUILD", got.Status)
	clk.Add(opts.BuildDelay)
	got, _ = srv.Server(sv.ID)
	require.Equal(t, "ACTIVE", got.Status)
}
