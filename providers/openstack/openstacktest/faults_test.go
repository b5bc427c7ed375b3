package openstacktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// createNetworks creates n networks, retrying each create until it succeeds,
// and returns the number of attempts.
func createNetworks(t *testing.T, ctx context.Context, c clients, n int) int {
	t.Helper()
	attempts := 0
	for i := range n {
		for {
			attempts++
			require.Less(t, attempts, 100*n, "too many injected errors")
			_, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: fmt.Sprintf("net-%d", i)}).Extract()
			if err == nil {
				break
			}
			require.Equal(t, 503, status(err), err)
		}
	}
	return attempts
}

func TestInjectedErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		afterEffect bool
	}{
		{"before the request takes effect a retry is safe", false},
		{"after the request took effect a retry duplicates", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, fast())
			ctx := ctxT(t)
			c := admin(t, ctx, srv)
			require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 0.5, Services: []string{"network"}, AfterEffect: tc.afterEffect}))

			attempts := createNetworks(t, ctx, c, 10)
			require.Greater(t, attempts, 10, "some creates failed")
			if tc.afterEffect {
				require.Equal(t, attempts, srv.Counts().Networks, "every attempt made a network")
			} else {
				require.Equal(t, 10, srv.Counts().Networks, "failed attempts changed nothing")
			}
			injected := 0
			for _, r := range srv.Requests() {
				if r.Injected {
					injected++
					require.Equal(t, "network", r.Service)
					require.Equal(t, 503, r.Status)
				}
			}
			require.Equal(t, attempts-10, injected)
		})
	}
}

func TestGophercloudRetryFuncRidesOutInjectedErrors(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	retries := 0
	c.provider.RetryFunc = func(ctx context.Context, method, url string, opts *gophercloud.RequestOpts, err error, failCount uint) error {
		if failCount > 20 || !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
			return err
		}
		retries++
		return nil
	}
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 0.4}))

	net, err := networks.Create(ctx, c.network, networks.CreateOpts{Name: "n"}).Extract()
	require.NoError(t, err)
	images := listImages(t, ctx, c)
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: images[0].ID,
		Networks: []servers.Network{{UUID: net.ID}}}, nil).Extract()
	require.NoError(t, err)
	for range 20 {
		_, err := flavors.Get(ctx, c.compute, "1").Extract()
		require.NoError(t, err)
	}
	require.Positive(t, retries)
	require.Equal(t, 1, srv.Counts().Servers)
	_, ok := srv.Server(sv.ID)
	require.True(t, ok)
}

func listImages(t *testing.T, ctx context.Context, c clients) []images.Image {
	t.Helper()
	page, err := images.List(c.image, nil).AllPages(ctx)
	require.NoError(t, err)
	out, err := images.ExtractImages(page)
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func TestFaultsAreDeterministicForASeed(t *testing.T) {
	pattern := func(seed uint64) []bool {
		opts := fast()
		opts.Seed = seed
		srv := start(t, opts)
		ctx := ctxT(t)
		c := admin(t, ctx, srv)
		require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 0.5, Services: []string{"compute"}}))
		var out []bool
		for range 40 {
			_, err := flavors.Get(ctx, c.compute, "1").Extract()
			out = append(out, err != nil)
		}
		return out
	}
	a, b, other := pattern(7), pattern(7), pattern(8)
	require.Equal(t, a, b)
	require.NotEqual(t, a, other)
	require.Contains(t, a, true)
	require.Contains(t, a, false)
}

func TestLatency(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	require.NoError(t, srv.SetFaults(openstacktest.Faults{LatencyMS: 60, Services: []string{"image"}}))

	began := time.Now()
	listImages(t, ctx, c)
	require.GreaterOrEqual(t, time.Since(began), 60*time.Millisecond)

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err := images.List(c.image, nil).AllPages(short)
	require.True(t, errors.Is(err, context.DeadlineExceeded), err)
}

func TestServerAndVolumeErrorRates(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ServerErrorRate: 1, VolumeErrorRate: 1}))
	ims := listImages(t, ctx, c)

	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "doomed", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	eventually(t, "server ERROR", func() (bool, error) {
		s, err := servers.Get(ctx, c.compute, sv.ID).Extract()
		return err == nil && s.Status == "ERROR", err
	})
	s, err := servers.Get(ctx, c.compute, sv.ID).Extract()
	require.NoError(t, err)
	require.Contains(t, s.Fault.Message, "No valid host was found")
	require.Equal(t, 500, s.Fault.Code)

	vol, err := volumes.Create(ctx, c.volume, volumes.CreateOpts{Size: 1}, nil).Extract()
	require.NoError(t, err)
	waitVolume(t, c, vol.ID, "error")
	require.NoError(t, volumes.Delete(ctx, c.volume, vol.ID, nil).ExtractErr(), "a volume in error can be deleted")

	// Without the fault, a server hit by a hypervisor failure recovers with a hard reboot.
	require.NoError(t, srv.SetFaults(openstacktest.Faults{}))
	ok, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "fine", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	waitServer(t, c, ok.ID, "ACTIVE")
	require.NoError(t, srv.ForceServerError(ok.ID, "hypervisor lost"))
	s, err = servers.Get(ctx, c.compute, ok.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, "ERROR", s.Status)
	require.Equal(t, "hypervisor lost", s.Fault.Message)
	require.NoError(t, servers.Reboot(ctx, c.compute, ok.ID, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr())
	waitServer(t, c, ok.ID, "ACTIVE")
}

func waitServer(t *testing.T, c clients, id, want string) {
	t.Helper()
	eventually(t, "server "+want, func() (bool, error) {
		s, err := servers.Get(t.Context(), c.compute, id).Extract()
		if err != nil {
			return false, err
		}
		return s.Status == want, nil
	})
}

func TestAdminHTTPEndpoints(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	post := func(path, body string) *http.Response {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewBufferString(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	for _, bad := range []string{`{"error_rate": 2}`, `{"status": 200, "error_rate": 1}`, `{"services": ["dns"]}`, `{"eror_rate": 1}`, `not json`} {
		require.Equal(t, http.StatusBadRequest, post("/_emulator/faults", bad).StatusCode, bad)
	}
	resp := post("/_emulator/faults", `{"error_rate": 1, "status": 500, "services": ["image"]}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, openstacktest.Faults{ErrorRate: 1, Status: 500, Services: []string{"image"}}, srv.Faults())
	_, err := images.List(c.image, nil).AllPages(ctx)
	require.Equal(t, 500, status(err))
	_, err = flavors.Get(ctx, c.compute, "1").Extract()
	require.NoError(t, err, "other services are not failed")

	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, srv.URL+"/_emulator/faults", nil)
	require.NoError(t, err)
	del, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, del.Body.Close())
	require.Equal(t, http.StatusNoContent, del.StatusCode)
	listImages(t, ctx, c)

	_, err = networks.Create(ctx, c.network, networks.CreateOpts{Name: "seen"}).Extract()
	require.NoError(t, err)
	get, err := http.Get(srv.URL + "/_emulator/state")
	require.NoError(t, err)
	var st openstacktest.State
	require.NoError(t, json.NewDecoder(get.Body).Decode(&st))
	require.NoError(t, get.Body.Close())
	require.Equal(t, 1, st.Counts.Networks)
	var names []string
	for _, n := range st.Networks {
		names = append(names, n.Name)
	}
	require.ElementsMatch(t, []string{"public", "seen"}, names)

	require.Equal(t, http.StatusNoContent, post("/_emulator/reset", "").StatusCode)
	require.Zero(t, srv.Counts().Total())
	_, err = networks.List(c.network, nil).AllPages(ctx)
	require.Equal(t, 401, status(err), "tokens do not survive a reset")
}

func TestFaultsLimitedToMethods(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 1, Status: 502, Methods: []string{"post"}, Services: []string{"network"}}))
	_, err := networks.List(c.network, nil).AllPages(ctx)
	require.NoError(t, err, "reads pass")
	_, err = networks.Create(ctx, c.network, networks.CreateOpts{Name: "x"}).Extract()
	var bad gophercloud.ErrUnexpectedResponseCode
	require.ErrorAs(t, err, &bad)
	require.Equal(t, 502, bad.Actual)
	require.Contains(t, string(bad.Body), "NeutronError", "Neutron's error envelope")
	require.Zero(t, srv.Counts().Networks)
}

func TestListenAndServeAndStart(t *testing.T) {
	ctx, cancel := context.WithCancel(ctxT(t))
	ready := make(chan *openstacktest.HTTPServer, 1)
	done := make(chan error, 1)
	go func() {
		done <- openstacktest.ListenAndServe(ctx, "127.0.0.1:0", fast(), func(s *openstacktest.HTTPServer) { ready <- s })
	}()
	var srv *openstacktest.HTTPServer
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	}
	c := admin(t, ctx, srv)
	listImages(t, ctx, c)
	cancel()
	require.NoError(t, <-done)

	started, err := openstacktest.Start("127.0.0.1:0", fast())
	require.NoError(t, err)
	c = admin(t, ctxT(t), started)
	listImages(t, ctxT(t), c)
	require.NoError(t, started.Close())
	_, err = openstacktest.Start("256.0.0.1:1", fast())
	require.Error(t, err)
}
