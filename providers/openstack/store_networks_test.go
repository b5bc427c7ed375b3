package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/openstack"
)

// TestNetworkActionsStore: on both databases, a network made through the
// API begins (CREATING) and finishes OK with its backend id and MTU; a
// subnet made in it hands the cloud side the network's backend id and
// the subnet asked, and finishes with what the cloud read back; a
// network's delete finished takes its subnets' rows along; set_mtu hands
// the MTU over.
func TestNetworkActionsStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(now)))

		n, err := w.st.CreateObject(ctx, openstack.KindNetwork, ten.ID, map[string]any{"name": "lab", "description": ""}, nil)
		require.NoError(t, err)
		require.Equal(t, w.project, n.ProjectID)
		_, ok, err := w.st.BeginAction(ctx, openstack.KindNetwork, n.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindNetwork, n.UUID, "create", openstack.ActionResult{BackendID: "net-lab", MTU: 1450}))
		n, err = w.st.ActionObjectByUUID(ctx, openstack.KindNetwork, n.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, n.State)
		require.Equal(t, "net-lab", n.BackendID)

		sn := openstack.CloudSubnet{CIDR: "10.1.0.0/24", GatewayIP: "10.1.0.1", IPVersion: 4, EnableDHCP: true,
			AllocationPools: []openstack.CloudAllocationPool{{Start: "10.1.0.10", End: "10.1.0.200"}}, DNSNameservers: []string{}}
		s, err := w.st.CreateObject(ctx, openstack.KindSubnet, ten.ID, map[string]any{"name": "s1", "network_id": n.ID, "cidr": sn.CIDR,
			"allocation_pools": `[]`, "dns_nameservers": `[]`}, map[string]any{"subnet": sn})
		require.NoError(t, err)
		req, ok, err := w.st.BeginAction(ctx, openstack.KindSubnet, s.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "net-lab", req.NetworkBackendID)
		require.Equal(t, "10.1.0.0/24", req.Subnet.CIDR)
		require.Equal(t, "s1", req.Subnet.Name)
		back := sn
		back.BackendID = "sub-1b"
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindSubnet, s.UUID, "create", openstack.ActionResult{BackendID: "sub-1b", Subnet: &back}))
		var gw []string
		require.NoError(t, db.Table("openstack_subnets").Where("uuid = ?", s.UUID).Pluck("gateway_ip", &gw).Error)
		require.Equal(t, []string{"10.1.0.1"}, gw)

		_, err = w.st.ScheduleAction(ctx, openstack.KindNetwork, n.ID, openstack.ScheduledAction{Action: "set_mtu", Details: map[string]any{"mtu": 1400}})
		require.NoError(t, err)
		req, _, err = w.st.BeginAction(ctx, openstack.KindNetwork, n.UUID, "set_mtu")
		require.NoError(t, err)
		require.Equal(t, 1400, req.MTU)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindNetwork, n.UUID, "set_mtu", openstack.ActionResult{BackendID: "net-lab", MTU: 1400}))

		_, err = w.st.ScheduleAction(ctx, openstack.KindNetwork, n.ID, openstack.ScheduledAction{Action: "delete", To: models.CoreDeletionScheduled})
		require.NoError(t, err)
		_, _, err = w.st.BeginAction(ctx, openstack.KindNetwork, n.UUID, "delete")
		require.NoError(t, err)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindNetwork, n.UUID, "delete", openstack.ActionResult{}))
		var left int64
		require.NoError(t, db.Table("openstack_subnets").Where("uuid = ?", s.UUID).Count(&left).Error)
		require.Zero(t, left, "the subnet went with its network")
		_, err = w.st.ActionObjectByUUID(ctx, openstack.KindNetwork, n.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}
