package openstacktest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	novalimits "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/remoteconsoles"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
)

// at is a copy of a service client that asks for a microversion.
func at(c *gophercloud.ServiceClient, mv string) *gophercloud.ServiceClient {
	cc := *c
	cc.Microversion = mv
	return &cc
}

func adminProjectID(t *testing.T, srv *openstacktest.HTTPServer) string {
	t.Helper()
	for _, p := range srv.Projects() {
		if p.Name == "admin" {
			return p.ID
		}
	}
	t.Fatal("no admin project")
	return ""
}

// member creates a project named after a new user with the member role on it
// and logs the user in there.
func member(t *testing.T, ctx context.Context, srv *openstacktest.HTTPServer, adm clients, name string) clients {
	t.Helper()
	p, err := projects.Create(ctx, adm.identity, projects.CreateOpts{Name: name + "-project", DomainID: "default"}).Extract()
	require.NoError(t, err)
	u, err := users.Create(ctx, adm.identity, users.CreateOpts{Name: name, DomainID: "default", Password: "pw"}).Extract()
	require.NoError(t, err)
	rp, err := roles.List(adm.identity, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	rs, err := roles.ExtractRoles(rp)
	require.NoError(t, err)
	require.NoError(t, roles.Assign(ctx, adm.identity, rs[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr())
	return login(t, ctx, srv.IdentityURL(), gophercloud.AuthOptions{Username: name, Password: "pw", DomainName: "Default", TenantID: p.ID})
}

// emulatorState reads GET /_emulator/state.
func emulatorState(t *testing.T, ctx context.Context, srv *openstacktest.HTTPServer) openstacktest.State {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/_emulator/state", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var st openstacktest.State
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func listGroups(t *testing.T, ctx context.Context, c *gophercloud.ServiceClient, opts servergroups.ListOpts) []servergroups.ServerGroup {
	t.Helper()
	page, err := servergroups.List(c, opts).AllPages(ctx)
	require.NoError(t, err)
	out, err := servergroups.ExtractServerGroups(page)
	require.NoError(t, err)
	return out
}

// TestServerGroups: policies before 2.64 and policy with rules from 2.64,
// Nova's 400s for bad policies, members joining with the scheduler hint and
// leaving with the server, the server_groups and server_group_members quotas.
func TestServerGroups(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	v264, v215 := at(c.compute, "2.64"), at(c.compute, "2.15")

	legacy, err := servergroups.Create(ctx, c.compute, servergroups.CreateOpts{Name: "spread", Policies: []string{"anti-affinity"}}).Extract()
	require.NoError(t, err)
	require.Equal(t, []string{"anti-affinity"}, legacy.Policies)
	require.Empty(t, legacy.Members)
	require.Nil(t, legacy.Policy, "policy shows from 2.64")
	require.Empty(t, legacy.ProjectID, "project_id shows from 2.13")

	modern, err := servergroups.Create(ctx, v264, servergroups.CreateOpts{Name: "packed", Policy: "anti-affinity",
		Rules: &servergroups.Rules{MaxServerPerHost: 2}}).Extract()
	require.NoError(t, err)
	require.Equal(t, "anti-affinity", *modern.Policy)
	require.Equal(t, 2, modern.Rules.MaxServerPerHost)
	require.Equal(t, adminProjectID(t, srv), modern.ProjectID)
	require.Nil(t, modern.Policies, "policies are gone in 2.64")
	old, err := servergroups.Get(ctx, c.compute, modern.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, []string{"anti-affinity"}, old.Policies, "an older microversion sees the policy as policies")

	for _, tc := range []struct {
		name   string
		client *gophercloud.ServiceClient
		opts   servergroups.CreateOpts
	}{
		{"an unknown policy", c.compute, servergroups.CreateOpts{Name: "x", Policies: []string{"spread"}}},
		{"two policies", c.compute, servergroups.CreateOpts{Name: "x", Policies: []string{"affinity", "anti-affinity"}}},
		{"no policy", c.compute, servergroups.CreateOpts{Name: "x"}},
		{"a soft policy before 2.15", c.compute, servergroups.CreateOpts{Name: "x", Policies: []string{"soft-affinity"}}},
		{"policy before 2.64", c.compute, servergroups.CreateOpts{Name: "x", Policy: "affinity"}},
		{"policies from 2.64", v264, servergroups.CreateOpts{Name: "x", Policies: []string{"affinity"}}},
		{"rules with affinity", v264, servergroups.CreateOpts{Name: "x", Policy: "affinity", Rules: &servergroups.Rules{MaxServerPerHost: 1}}},
		{"a name with leading blanks", c.compute, servergroups.CreateOpts{Name: " x", Policies: []string{"affinity"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 400, status(servergroups.Create(ctx, tc.client, tc.opts).Err))
		})
	}
	soft, err := servergroups.Create(ctx, v215, servergroups.CreateOpts{Name: "soft", Policies: []string{"soft-affinity"}}).Extract()
	require.NoError(t, err)
	require.Len(t, listGroups(t, ctx, c.compute, servergroups.ListOpts{}), 3)
	require.Len(t, listGroups(t, ctx, c.compute, servergroups.ListOpts{Limit: 1, Offset: 2}), 1)
	require.NoError(t, servergroups.Delete(ctx, c.compute, soft.ID).ExtractErr())

	// Members: a server created with the group hint joins, a bad hint is a 400.
	ims := listImages(t, ctx, c)
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "member", FlavorRef: "1", ImageRef: ims[0].ID},
		servers.SchedulerHintOpts{Group: modern.ID}).Extract()
	require.NoError(t, err)
	g, err := servergroups.Get(ctx, c.compute, modern.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, []string{sv.ID}, g.Members)
	got, err := servers.Get(ctx, at(c.compute, "2.71"), sv.ID).Extract()
	require.NoError(t, err)
	require.Equal(t, []string{modern.ID}, *got.ServerGroups)
	require.Equal(t, 400, status(servers.Create(ctx, c.compute, servers.CreateOpts{Name: "x", FlavorRef: "1", ImageRef: ims[0].ID},
		servers.SchedulerHintOpts{Group: "2a4e6c4f-8d7c-4d5f-9e1a-3b2c1d0e9f8a"}).Err), "no such group")

	project := adminProjectID(t, srv)
	_, err = novaquotas.Update(ctx, c.compute, project, novaquotas.UpdateOpts{ServerGroupMembers: ptr(1), ServerGroups: ptr(2)}).Extract()
	require.NoError(t, err)
	require.Equal(t, 403, status(servers.Create(ctx, c.compute, servers.CreateOpts{Name: "x", FlavorRef: "1", ImageRef: ims[0].ID},
		servers.SchedulerHintOpts{Group: modern.ID}).Err), "server_group_members")
	err = servergroups.Create(ctx, c.compute, servergroups.CreateOpts{Name: "third", Policies: []string{"affinity"}}).Err
	require.Equal(t, 403, status(err), "server_groups")
	require.Contains(t, err.Error(), "Quota exceeded, too many server groups.")
	lim, err := novalimits.Get(ctx, c.compute, nil).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, lim.Absolute.TotalServerGroupsUsed)
	detail, err := novaquotas.GetDetail(ctx, c.compute, project).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, detail.ServerGroups.InUse)
	require.Len(t, emulatorState(t, ctx, srv).ServerGroups, 2)

	// The member leaves with its server; a group goes with or without members.
	waitServer(t, c, sv.ID, "ACTIVE")
	require.NoError(t, servers.Delete(ctx, c.compute, sv.ID).ExtractErr())
	gone(t, "server", func() error { return servers.Get(ctx, c.compute, sv.ID).Err })
	g, err = servergroups.Get(ctx, c.compute, modern.ID).Extract()
	require.NoError(t, err)
	require.Empty(t, g.Members)
	require.NoError(t, servergroups.Delete(ctx, c.compute, modern.ID).ExtractErr())
	require.NoError(t, servergroups.Delete(ctx, c.compute, legacy.ID).ExtractErr())
	require.Equal(t, 404, status(servergroups.Get(ctx, c.compute, legacy.ID).Err))
	require.Equal(t, 404, status(servergroups.Delete(ctx, c.compute, legacy.ID).ExtractErr()))

	st := emulatorState(t, ctx, srv)
	require.Empty(t, st.ServerGroups)
	require.Zero(t, st.Counts.Total(), "%+v", st.Counts)
	require.Equal(t, 3, st.Created.ServerGroups)
}

// TestServerGroupsOfOtherProjects: a member sees its project's groups only; all_projects is for admins.
func TestServerGroupsOfOtherProjects(t *testing.T) {
	srv := start(t, fast())
	ctx := ctxT(t)
	adm := admin(t, ctx, srv)
	bob := member(t, ctx, srv, adm, "bob")
	mine, err := servergroups.Create(ctx, bob.compute, servergroups.CreateOpts{Name: "bobs", Policies: []string{"affinity"}}).Extract()
	require.NoError(t, err)
	theirs, err := servergroups.Create(ctx, adm.compute, servergroups.CreateOpts{Name: "admins", Policies: []string{"affinity"}}).Extract()
	require.NoError(t, err)

	require.Len(t, listGroups(t, ctx, bob.compute, servergroups.ListOpts{}), 1)
	require.Equal(t, 404, status(servergroups.Get(ctx, bob.compute, theirs.ID).Err))
	_, err = servergroups.List(bob.compute, servergroups.ListOpts{AllProjects: true}).AllPages(ctx)
	require.Equal(t, 403, status(err))
	require.Len(t, listGroups(t, ctx, adm.compute, servergroups.ListOpts{AllProjects: true}), 2)
	require.Len(t, listGroups(t, ctx, adm.compute, servergroups.ListOpts{}), 1)
	_, err = servergroups.Get(ctx, adm.compute, mine.ID).Extract()
	require.NoError(t, err, "an admin sees every group")
}

// TestRemoteConsolesAndConsoleOutput: Nova's remote-consoles (2.6) and os-getConsoleOutput.
func TestRemoteConsolesAndConsoleOutput(t *testing.T) {
	opts := fast()
	opts.BuildDelay = 300 * time.Millisecond // long enough to see BUILD
	srv := start(t, opts)
	ctx := ctxT(t)
	c := admin(t, ctx, srv)
	v26, v28 := at(c.compute, "2.6"), at(c.compute, "2.8")
	ims := listImages(t, ctx, c)
	sv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "vm", FlavorRef: "1", ImageRef: ims[0].ID}, nil).Extract()
	require.NoError(t, err)
	vnc := remoteconsoles.CreateOpts{Protocol: remoteconsoles.ConsoleProtocolVNC, Type: remoteconsoles.ConsoleTypeNoVNC}
	require.Equal(t, 409, status(remoteconsoles.Create(ctx, v26, sv.ID, vnc).Err), "a building server has no console")
	require.Equal(t, 409, status(servers.ShowConsoleOutput(ctx, c.compute, sv.ID, servers.ShowConsoleOutputOpts{}).Err))
	waitServer(t, c, sv.ID, "ACTIVE")

	require.Equal(t, 404, status(remoteconsoles.Create(ctx, c.compute, sv.ID, vnc).Err), "remote-consoles needs 2.6")
	con, err := remoteconsoles.Create(ctx, v26, sv.ID, vnc).Extract()
	require.NoError(t, err)
	require.Equal(t, "vnc", con.Protocol)
	require.Equal(t, "novnc", con.Type)
	require.Regexp(t, `^http://127\.0\.0\.1:6080/vnc_lite\.html\?path=%3Ftoken%3D[0-9a-f-]{36}$`, con.URL)
	again, err := remoteconsoles.Create(ctx, v26, sv.ID, vnc).Extract()
	require.NoError(t, err)
	require.NotEqual(t, con.URL, again.URL, "every console gets its own token")
	spice, err := remoteconsoles.Create(ctx, v26, sv.ID, remoteconsoles.CreateOpts{Protocol: remoteconsoles.ConsoleProtocolSPICE,
		Type: remoteconsoles.ConsoleTypeSPICEHTML5}).Extract()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(spice.URL, "http://127.0.0.1:6082/spice_auto.html?token="), spice.URL)
	serial, err := remoteconsoles.Create(ctx, v26, sv.ID, remoteconsoles.CreateOpts{Protocol: remoteconsoles.ConsoleProtocolSerial,
		Type: remoteconsoles.ConsoleTypeSerial}).Extract()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(serial.URL, "ws://127.0.0.1:6083/?token="), serial.URL)

	for _, tc := range []struct {
		name   string
		client *gophercloud.ServiceClient
		opts   remoteconsoles.CreateOpts
		want   int
	}{
		{"a type of another protocol", v26, remoteconsoles.CreateOpts{Protocol: "vnc", Type: "spice-html5"}, 400},
		{"the removed xvpvnc", v26, remoteconsoles.CreateOpts{Protocol: "vnc", Type: "xvpvnc"}, 400},
		{"an unknown protocol", v26, remoteconsoles.CreateOpts{Protocol: "telnet", Type: "novnc"}, 400},
		{"mks before 2.8", v26, remoteconsoles.CreateOpts{Protocol: "mks", Type: "webmks"}, 400},
		{"mks is not enabled", v28, remoteconsoles.CreateOpts{Protocol: "mks", Type: "webmks"}, 400},
		{"rdp is not enabled", v26, remoteconsoles.CreateOpts{Protocol: "rdp", Type: "rdp-html5"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, status(remoteconsoles.Create(ctx, tc.client, sv.ID, tc.opts).Err))
		})
	}
	require.Equal(t, 404, status(remoteconsoles.Create(ctx, v26, "00000000-0000-0000-0000-000000000000", vnc).Err))

	out, err := servers.ShowConsoleOutput(ctx, c.compute, sv.ID, servers.ShowConsoleOutputOpts{}).Extract()
	require.NoError(t, err)
	require.Contains(t, out, "Linux version")
	require.True(t, strings.HasSuffix(out, "vm login: "), out)
	last, err := servers.ShowConsoleOutput(ctx, c.compute, sv.ID, servers.ShowConsoleOutputOpts{Length: 1}).Extract()
	require.NoError(t, err)
	require.Equal(t, "vm login: ", last)
	two, err := servers.ShowConsoleOutput(ctx, c.compute, sv.ID, servers.ShowConsoleOutputOpts{Length: 2}).Extract()
	require.NoError(t, err)
	require.Equal(t, 2, len(strings.Split(two, "\n")))

	// Faults apply to the new routes as to every other.
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 1, Services: []string{"compute"}, Methods: []string{"POST"}}))
	require.Equal(t, 503, status(remoteconsoles.Create(ctx, v26, sv.ID, vnc).Err))
	require.Equal(t, 503, status(servergroups.Create(ctx, c.compute, servergroups.CreateOpts{Name: "x", Policies: []string{"affinity"}}).Err))
	require.Zero(t, srv.Counts().ServerGroups)
	require.NoError(t, srv.SetFaults(openstacktest.Faults{ErrorRate: 1, AfterEffect: true, Services: []string{"compute"}, Methods: []string{"POST"}}))
	require.Equal(t, 503, status(servergroups.Create(ctx, c.compute, servergroups.CreateOpts{Name: "x", Policies: []string{"affinity"}}).Err))
	require.Equal(t, 1, srv.Counts().ServerGroups, "the lost answer's group was made")
}
