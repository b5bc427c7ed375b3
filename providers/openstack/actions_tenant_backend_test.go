package openstack_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

// TestActionTenantQuotasAndPassword: set_quotas pushes the quotas and
// reads them back, the same when repeated; change_password lets the
// tenant user sign in with the new password only, repeated too;
// backend_instances and backend_volumes leave out what orders made; a
// tenant gone from the cloud is said to be gone, a request without a user
// refused.
func TestActionTenantQuotasAndPassword(t *testing.T) {
	w := newActionWorld(t, 7)
	sq := w.req("tenant", w.tenant, "set_quotas")
	sq.Quotas = map[string]int64{"cores": 33, "ram": 8192, "storage": 5 * 1024, "instances": 4, "volumes": 6, "snapshots": 8,
		"security_group_count": 12, "security_group_rule_count": 40}
	for range 2 {
		res := w.run(t, sq)
		got := map[string]float64{}
		for _, q := range res.Quotas {
			got[q.Name] = q.Limit
		}
		require.Equal(t, map[string]float64{"cores": 33, "ram": 8192, "storage": 5 * 1024, "instances": 4, "volumes": 6}, got)
	}

	signIn := func(pass string) error {
		_, err := gcos.AuthenticatedClient(w.ctx, gophercloud.AuthOptions{IdentityEndpoint: w.srv.IdentityURL(), Username: "acts-user",
			Password: pass, DomainName: "Default", TenantID: w.tenant})
		return err
	}
	cp := w.req("tenant", w.tenant, "change_password")
	cp.UserUsername, cp.UserPassword = "acts-user", "An0ther-pass"
	for range 2 {
		w.run(t, cp)
		require.NoError(t, signIn("An0ther-pass"))
	}
	require.Error(t, signIn("wrong"))
	noUser := cp
	noUser.UserUsername = ""
	_, err := w.p.RunAction(w.ctx, noUser)
	requireRefused(t, err, models.CodeInvalid, "names no tenant user")

	for _, action := range []string{"backend_instances", "backend_volumes"} {
		res := w.run(t, w.req("tenant", w.tenant, action))
		require.Empty(t, res.Servers, "the order's server is Waldur's")
		require.Empty(t, res.Volumes, "the order's volume is Waldur's")
	}

	for _, r := range []struct{ action string }{{"set_quotas"}, {"change_password"}} {
		gone := sq
		if r.action == "change_password" {
			gone = cp
		}
		gone.BackendID = "0123456789abcdef0123456789abcdef"
		_, err := w.p.RunAction(w.ctx, gone)
		requireRefused(t, err, models.CodeNotFound, "no longer exists in the cloud")
	}
}
