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

// TestStoreL3 on both databases: a port made through the API hands the
// cloud side its network's backend id and the port asked, and finishes
// with what the cloud read back; a port's update keeps its port security
// unless the action set it; a floating IP's create gets the tenant's
// external network and a marker, and finishes with its address; a
// router's interface change records the interface as a port; a tenant
// pull imports ports and routers, updates them, leaves a busy row alone
// and deletes what the cloud no longer has; a pending action is listed
// for the dispatcher.
func TestStoreL3(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(now)))
		var netID int64
		require.NoError(t, db.Table("openstack_networks").Where("tenant_id = ? AND backend_id = ?", ten.ID, "net-1").Pluck("id", &netID).Error)

		// A port: create, begin, finish.
		p, err := w.st.CreateObject(ctx, openstack.KindPort, ten.ID, map[string]any{"name": "p1", "network_id": netID,
			"fixed_ips": `[]`, "allowed_address_pairs": `[]`, "security_groups": `[]`},
			map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "192.168.42.20", "subnet_id": "sub-1"}},
				"port_security_enabled": true}})
		require.NoError(t, err)
		require.Equal(t, models.CoreCreationScheduled, p.State)
		require.Equal(t, w.project, p.ProjectID)
		req, ok, err := w.st.BeginAction(ctx, openstack.KindPort, p.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "p1", req.Name)
		require.Equal(t, "net-1", req.L3.Port.NetworkBackendID)
		require.Equal(t, []openstack.CloudFixedIP{{IPAddress: "192.168.42.20", SubnetID: "sub-1"}}, req.L3.Port.FixedIPs)
		back := openstack.CloudPortInfo{BackendID: "port-1", NetworkBackendID: "net-1", Name: "p1", MACAddress: "fa:16:3e:00:00:01",
			FixedIPs: []openstack.CloudFixedIP{{IPAddress: "192.168.42.20", SubnetID: "sub-1"}}, AdminStateUp: true, PortSecurityEnabled: true,
			Status: "DOWN", SecurityGroups: []string{"sg-1"}}
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindPort, p.UUID, "create",
			openstack.ActionResult{BackendID: "port-1", L3: &openstack.L3Result{Port: &back}}))
		var row struct {
			BackendID           string
			MACAddress          string
			State               string
			PortSecurityEnabled bool
			AdminStateUp        bool
		}
		readPort := func() {
			t.Helper()
			require.NoError(t, db.Table("openstack_ports").Select("backend_id, mac_address, state, port_security_enabled, admin_state_up").
				Where("uuid = ?", p.UUID).Scan(&row).Error)
		}
		readPort()
		require.Equal(t, "port-1", row.BackendID)
		require.Equal(t, "fa:16:3e:00:00:01", row.MACAddress)
		require.Equal(t, "OK", row.State)

		// disable_port_security sets it; a later update does not undo it.
		_, err = w.st.ScheduleAction(ctx, openstack.KindPort, p.ID, openstack.ScheduledAction{Action: "disable_port_security"})
		require.NoError(t, err)
		_, err = w.st.ScheduleAction(ctx, openstack.KindPort, p.ID, openstack.ScheduledAction{Action: "update"})
		require.True(t, models.IsCode(err, models.CodeConflict), "busy: %v", err)
		_, _, err = w.st.BeginAction(ctx, openstack.KindPort, p.UUID, "disable_port_security")
		require.NoError(t, err)
		off := back
		off.PortSecurityEnabled, off.SecurityGroups = false, []string{}
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindPort, p.UUID, "disable_port_security",
			openstack.ActionResult{BackendID: "port-1", L3: &openstack.L3Result{Port: &off}}))
		_, err = w.st.ScheduleAction(ctx, openstack.KindPort, p.ID, openstack.ScheduledAction{Action: "disable_port"})
		require.NoError(t, err)
		_, _, err = w.st.BeginAction(ctx, openstack.KindPort, p.UUID, "disable_port")
		require.NoError(t, err)
		down := back // the cloud says port security is on: not this action's business
		down.AdminStateUp = false
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindPort, p.UUID, "disable_port",
			openstack.ActionResult{BackendID: "port-1", L3: &openstack.L3Result{Port: &down}}))
		readPort()
		require.False(t, row.PortSecurityEnabled)
		require.False(t, row.AdminStateUp)

		// A floating IP: the tenant's external network and a marker.
		f, err := w.st.CreateObject(ctx, openstack.KindFloatingIP, ten.ID, map[string]any{"description": "web"}, nil)
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindFloatingIP, f.UUID, "create")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "ext", req.L3.ExternalNetworkID)
		require.NotEmpty(t, req.L3.Marker)
		require.Equal(t, "web", req.Description)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindFloatingIP, f.UUID, "create", openstack.ActionResult{BackendID: "fip-9",
			L3: &openstack.L3Result{FloatingIP: &openstack.CloudFloatingIP{BackendID: "fip-9", Address: "172.24.4.9", RuntimeState: "DOWN",
				NetworkBackendID: "ext", Description: "web"}}}))
		f, err = w.st.ActionObjectByUUID(ctx, openstack.KindFloatingIP, f.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, f.State)
		require.Equal(t, "172.24.4.9", f.Name)
		require.Equal(t, "fip-9", f.BackendID)

		// A pull: the tenant's router and its interface imported, port-1 updated.
		iface := openstack.CloudPortInfo{BackendID: "port-r", NetworkBackendID: "net-1", DeviceID: "router-1", DeviceOwner: "network:router_interface",
			FixedIPs: []openstack.CloudFixedIP{{IPAddress: "192.168.42.1", SubnetID: "sub-1"}}, AdminStateUp: true, PortSecurityEnabled: true}
		snap := fullSnapshot(time.Now().UTC())
		renamed := back
		renamed.Name = "p1-cloud"
		snap.Ports = []openstack.CloudPortInfo{renamed, iface}
		snap.Routers = []openstack.CloudRouter{{BackendID: "router-1", Name: "t-router", ExternalNetworkID: "ext",
			Routes: []openstack.CloudRoute{}, Ports: []openstack.CloudPortInfo{iface}}}
		_, err = w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		var names []string
		require.NoError(t, db.Table("openstack_ports").Where("tenant_id = ?", ten.ID).Order("backend_id").Pluck("name", &names).Error)
		require.Equal(t, []string{"p1-cloud", ""}, names)
		var routers []string
		require.NoError(t, db.Table("openstack_routers").Where("tenant_id = ?", ten.ID).Pluck("backend_id", &routers).Error)
		require.Equal(t, []string{"router-1"}, routers)

		// A router's interface added: recorded on the router and as a port.
		var rid int64
		require.NoError(t, db.Table("openstack_routers").Where("backend_id = ?", "router-1").Pluck("id", &rid).Error)
		_, err = w.st.ScheduleAction(ctx, openstack.KindRouter, rid, openstack.ScheduledAction{Action: "add_router_interface",
			Details: map[string]any{"subnet_backend_id": "sub-2"}})
		require.NoError(t, err)
		r, err := w.st.ActionObjectByUUID(ctx, openstack.KindRouter, l3RowUUID(t, db, "openstack_routers", rid))
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindRouter, r.UUID, "add_router_interface")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "sub-2", req.L3.SubnetBackendID)

		// While the router is busy, a pull leaves it alone (and deletes port-1, gone from the cloud).
		snap2 := fullSnapshot(time.Now().UTC())
		snap2.Ports = []openstack.CloudPortInfo{iface}
		snap2.Routers = []openstack.CloudRouter{}
		_, err = w.st.ApplyPull(ctx, ten.UUID, snap2)
		require.NoError(t, err)
		require.NoError(t, db.Table("openstack_routers").Where("tenant_id = ?", ten.ID).Pluck("backend_id", &routers).Error)
		require.Equal(t, []string{"router-1"}, routers, "busy: left alone")
		var left int64
		require.NoError(t, db.Table("openstack_ports").Where("uuid = ?", p.UUID).Count(&left).Error)
		require.Zero(t, left)

		iface2 := openstack.CloudPortInfo{BackendID: "port-r2", NetworkBackendID: "net-1", DeviceID: "router-1", DeviceOwner: "network:router_interface",
			FixedIPs: []openstack.CloudFixedIP{{IPAddress: "10.9.0.1", SubnetID: "sub-2"}}}
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindRouter, r.UUID, "add_router_interface", openstack.ActionResult{BackendID: "router-1",
			L3: &openstack.L3Result{Router: &openstack.CloudRouter{BackendID: "router-1", Name: "t-router", ExternalNetworkID: "ext",
				Ports: []openstack.CloudPortInfo{iface, iface2}}}}))
		var ports []string
		require.NoError(t, db.Table("openstack_ports").Where("tenant_id = ?", ten.ID).Order("backend_id").Pluck("backend_id", &ports).Error)
		require.Equal(t, []string{"port-r", "port-r2"}, ports)

		// A pending action is the dispatcher's.
		_, err = w.st.ScheduleAction(ctx, openstack.KindRouter, rid, openstack.ScheduledAction{Action: "set_routes"})
		require.NoError(t, err)
		pending, err := w.st.PendingActions(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		require.Contains(t, pending, openstack.PendingAction{Kind: openstack.KindRouter, UUID: r.UUID, Action: "set_routes"})
	})
}

func l3RowUUID(t *testing.T, db *gorm.DB, table string, id int64) models.UUID {
	t.Helper()
	var u []models.UUID
	require.NoError(t, db.Table(table).Where("id = ?", id).Pluck("uuid", &u).Error)
	require.Len(t, u, 1)
	return u[0]
}
