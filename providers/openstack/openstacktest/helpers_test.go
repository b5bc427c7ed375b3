package openstacktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// fast are options with delays of a few milliseconds.
func fast() openstacktest.Options {
	return openstacktest.Options{BuildDelay: 5 * time.Millisecond, VolumeDelay: 5 * time.Millisecond,
		ActionDelay: 5 * time.Millisecond, DeleteDelay: 5 * time.Millisecond, Seed: 42}
}

func start(t *testing.T, opts openstacktest.Options) *openstacktest.HTTPServer {
	t.Helper()
	srv := openstacktest.NewTestServer(opts)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clients are the service clients of one authenticated session.
type clients struct {
	provider *gophercloud.ProviderClient
	identity *gophercloud.ServiceClient
	compute  *gophercloud.ServiceClient
	volume   *gophercloud.ServiceClient
	network  *gophercloud.ServiceClient
	image    *gophercloud.ServiceClient
}

func login(t *testing.T, ctx context.Context, endpoint string, ao gophercloud.AuthOptions) clients {
	t.Helper()
	ao.IdentityEndpoint = endpoint
	p, err := openstack.AuthenticatedClient(ctx, ao)
	require.NoError(t, err)
	var c clients
	c.provider = p
	c.identity, err = openstack.NewIdentityV3(p, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	c.compute, err = openstack.NewComputeV2(p, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	c.volume, err = openstack.NewBlockStorageV3(p, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	c.network, err = openstack.NewNetworkV2(p, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	c.image, err = openstack.NewImageV2(p, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	return c
}

// admin logs in as the seeded admin, scoped to the admin project.
func admin(t *testing.T, ctx context.Context, srv *openstacktest.HTTPServer) clients {
	t.Helper()
	return login(t, ctx, srv.IdentityURL(), gophercloud.AuthOptions{Username: "admin", Password: "admin",
		DomainName: "Default", TenantName: "admin"})
}

// eventually polls check every few milliseconds until it returns true or the test times out.
func eventually(t *testing.T, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := check()
		require.NoError(t, err, what)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// gone polls get until it answers 404.
func gone(t *testing.T, what string, get func() error) {
	t.Helper()
	eventually(t, what+" to be gone", func() (bool, error) {
		err := get()
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return false, err
	})
}

func ptr[T any](v T) *T { return &v }

// status is the HTTP status of a gophercloud error (0 when there is none).
func status(err error) int {
	if err == nil {
		return 0
	}
	for _, code := range []int{400, 401, 403, 404, 406, 409, 413, 500, 502, 503} {
		if gophercloud.ResponseCodeIs(err, code) {
			return code
		}
	}
	return -1
}
