package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// An instance's network actions (Waldur's update_security_groups,
// update_ports and update_allowed_address_pairs of an instance) and its
// console URL. Each change is an action on the instance's row
// (store_actions.go; UPDATE_SCHEDULED, then OK or ERRED), run by
// OpenStackAction; the answer is 202 with Waldur's status. 409 unless the
// instance is OK; 400 for what does not belong to its tenant. Who may:
// Waldur's is_administrator.

// instanceNetworkRoutes registers the routes.
func (m *routes) instanceNetworkRoutes(a *gin.RouterGroup) {
	g := a.Group("/openstack-instances", api.RequireUser)
	g.POST("/:uuid/update_security_groups/", api.H(m.updateInstanceSecurityGroups))
	g.POST("/:uuid/update_ports/", api.H(m.updateInstancePorts))
	g.POST("/:uuid/update_allowed_address_pairs/", api.H(m.updateInstanceAddressPairs))
	g.GET("/:uuid/console/", api.H(m.instanceConsole))
}

// instanceInCloud loads the instance for a network action: administered,
// and with a server in the cloud (409 otherwise).
func (m *routes) instanceInCloud(c *gin.Context) (*ActionObject, error) {
	o, err := m.administered(c, KindInstance)
	if err != nil {
		return nil, err
	}
	if o.BackendID == "" {
		return nil, models.Errorf(models.CodeConflict, "The instance has no server in the cloud yet.")
	}
	return o, nil
}

// instanceCloudPorts are the instance's ports as its row records them.
func (m *routes) instanceCloudPorts(ctx context.Context, o *ActionObject) ([]CloudPort, error) {
	raw, err := columnOf[[]byte](ctx, m.db, KindInstance, o.ID, "ports")
	if err != nil {
		return nil, err
	}
	var ps []CloudPort
	_ = json.Unmarshal(raw, &ps)
	return ps, nil
}

// @Summary	Set an OpenStack instance's security groups
// @Description	security_groups: URLs of security groups of the instance's tenant, made in the cloud; the server ends with exactly these (Nova's addSecurityGroup and removeSecurityGroup). 202 {"status": "security groups update was scheduled"}; 409 unless the instance is OK; 400 for a group of another tenant.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/update_security_groups/ [post]
func (m *routes) updateInstanceSecurityGroups(c *gin.Context) error {
	o, err := m.instanceInCloud(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	refs, _ := f.StrList("security_groups", true, form.Char{Max: 500})
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	groups := []string{}
	for _, raw := range refs {
		id, err := rest.ParseRef("security_groups", raw, "openstack-security-groups")
		if err != nil {
			return err
		}
		var rows []struct {
			BackendID string
			TenantID  int64
			Name      string
		}
		if err := m.db.DB.WithContext(ctx).Table("openstack_security_groups").Select("backend_id, tenant_id, name").
			Where("uuid = ?", id).Scan(&rows).Error; err != nil {
			return models.Internal(err)
		}
		switch {
		case len(rows) == 0:
			return models.FieldError("security_groups", rest.MsgDoesNotExist)
		case rows[0].TenantID != o.TenantID:
			return models.FieldError("security_groups", fmt.Sprintf("Security group %s does not belong to the same tenant as the instance.", rows[0].Name))
		case isPending(rows[0].BackendID):
			return models.FieldError("security_groups", fmt.Sprintf("Security group %s is not in the cloud yet.", rows[0].Name))
		}
		if !contains(groups, rows[0].BackendID) {
			groups = append(groups, rows[0].BackendID)
		}
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_security_groups",
		Details: instanceNetDetails(InstanceNetRequest{SecurityGroups: groups})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "security groups update was scheduled"})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// @Summary	Set an OpenStack instance's ports
// @Description	ports: [{subnet (URL of a subnet of the instance's tenant), fixed_ips ([{ip_address, subnet_id}], optional), port (URL of a free port of the tenant, instead of a subnet)}]. The server ends with exactly these: a port it has in the subnet (with the addresses asked) or the port named is kept, others are detached (a port Waldur made for it is deleted), the missing ones are made in their subnet and attached (Nova's os-interface). 202 {"status": "ports update was scheduled"}; 409 unless the instance is OK; 400 for a subnet or port of another tenant, a port in use, or an address outside its subnet.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/update_ports/ [post]
func (m *routes) updateInstancePorts(c *gin.Context) error {
	o, err := m.instanceInCloud(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	items, _ := f.ObjList("ports", true)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var specs []InstancePortSpec
	for i, it := range items {
		fail := func(msg string) { f.Fail("ports", fmt.Sprintf("Port %d: %s", i+1, msg)) }
		spec := InstancePortSpec{}
		hasPort := it.Has("port") && !it.IsNull("port")
		hasSubnet := it.Has("subnet") && !it.IsNull("subnet")
		switch {
		case hasPort:
			raw, _ := it.Str("port", 500, false)
			if it.Failed("port") {
				fail("port: Invalid hyperlink.")
				continue
			}
			pv, err := m.portOfRef(c, "ports", raw)
			if models.IsCode(err, models.CodeInvalid) {
				fail("port: " + rest.MsgDoesNotExist)
				continue
			} else if err != nil {
				return err
			}
			switch {
			case pv.TenantID != o.TenantID || isPending(pv.BackendID):
				fail("The port should belong to the instance's tenant and exist in the cloud.")
				continue
			case pv.DeviceID != "" && pv.DeviceID != o.BackendID:
				fail("The port is in use by another device.")
				continue
			}
			spec.PortBackendID = pv.BackendID
		case hasSubnet:
			sref, ok := it.Ref("subnet", "openstack-subnets", false, true)
			if !ok {
				fail("subnet: Invalid hyperlink.")
				continue
			}
			var rows []struct {
				BackendID string
				CIDR      string `gorm:"column:cidr"`
				NetBID    string `gorm:"column:net_bid"`
			}
			if err := m.db.DB.WithContext(ctx).Table("openstack_subnets s").Select("s.backend_id, s.cidr, n.backend_id AS net_bid").
				Joins("JOIN openstack_networks n ON n.id = s.network_id").
				Where("s.uuid = ? AND s.tenant_id = ?", sref, o.TenantID).Scan(&rows).Error; err != nil {
				return models.Internal(err)
			}
			if len(rows) == 0 || isPending(rows[0].BackendID) || isPending(rows[0].NetBID) {
				fail("The subnet should belong to the instance's tenant and exist in the cloud.")
				continue
			}
			spec.SubnetBackendID, spec.NetworkBackendID = rows[0].BackendID, rows[0].NetBID
			pfx, _ := netip.ParsePrefix(rows[0].CIDR)
			ips, _ := it.ObjList("fixed_ips", false)
			for _, ipf := range ips {
				addr, _ := ipf.Str("ip_address", 64, false)
				sub, _ := ipf.Str("subnet_id", 255, true)
				a, err := netip.ParseAddr(addr)
				switch {
				case err != nil:
					fail("fixed_ips: Enter a valid IPv4 or IPv6 address.")
				case sub != "" && sub != spec.SubnetBackendID:
					fail("fixed_ips: The address should be in the port's subnet.")
				case pfx.IsValid() && !pfx.Contains(a):
					fail(fmt.Sprintf("fixed_ips: %s is not in subnet %s.", addr, rows[0].CIDR))
				default:
					spec.FixedIPs = append(spec.FixedIPs, CloudFixedIP{IPAddress: a.String(), SubnetID: spec.SubnetBackendID})
				}
			}
		default:
			fail("Either subnet or port should be provided.")
			continue
		}
		specs = append(specs, spec)
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_ports",
		Details: instanceNetDetails(InstanceNetRequest{Ports: specs})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "ports update was scheduled"})
}

// @Summary	Set the allowed address pairs of an OpenStack instance's port
// @Description	subnet (URL of a subnet the instance has a port in), allowed_address_pairs ([{ip_address (an address or a network), mac_address (optional)}]): the port ends with exactly these. 202 {"status": "allowed address pairs update was scheduled"}; 409 unless the instance is OK; 400 for a subnet the instance is not in, or a malformed pair.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/update_allowed_address_pairs/ [post]
func (m *routes) updateInstanceAddressPairs(c *gin.Context) error {
	o, err := m.instanceInCloud(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("subnet", "allowed_address_pairs")
	sref, _ := f.Ref("subnet", "openstack-subnets", false, false)
	items, _ := f.ObjList("allowed_address_pairs", false)
	pairs := []CloudAddressPair{}
	for i, it := range items {
		ip, _ := it.Str("ip_address", 64, false)
		mac, _ := it.Str("mac_address", 32, true)
		_, perr := netip.ParsePrefix(ip)
		_, aerr := netip.ParseAddr(ip)
		if it.Failed("ip_address") || perr != nil && aerr != nil {
			f.Fail("allowed_address_pairs", fmt.Sprintf("Pair %d: ip_address should be an IP address or a network.", i+1))
			continue
		}
		pairs = append(pairs, CloudAddressPair{IPAddress: ip, MACAddress: mac})
	}
	if err := f.Err(); err != nil {
		return err
	}
	sbid, _, err := m.subnetOfTenant(c, "subnet", o.TenantID, sref)
	if err != nil {
		return err
	}
	ps, err := m.instanceCloudPorts(c.Request.Context(), o)
	if err != nil {
		return err
	}
	port := ""
	for _, p := range ps {
		if p.SubnetBackendID == sbid {
			port = p.BackendID
		}
	}
	if port == "" {
		return models.FieldError("subnet", "The instance is not connected to the subnet.")
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_allowed_address_pairs",
		Details: instanceNetDetails(InstanceNetRequest{PortBackendID: port, AddressPairs: pairs})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "allowed address pairs update was scheduled"})
}

// @Summary	An OpenStack instance's console URL
// @Description	A noVNC console URL of the server (Nova's remote-consoles), read from the cloud. 409 unless the instance is OK; 400 when the cloud refuses.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/console/ [get]
func (m *routes) instanceConsole(c *gin.Context) error {
	o, err := m.administered(c, KindInstance)
	if err != nil {
		return err
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if o.BackendID == "" {
		return models.Errorf(models.CodeConflict, "The instance has no server in the cloud yet.")
	}
	if m.tc == nil {
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 90*time.Second)
	defer cancel()
	run, err := m.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore, WorkflowExecutionTimeout: 2 * time.Minute},
		OpenStackRead, ActionInput{Kind: KindInstance, UUID: o.UUID, Action: "console"})
	if err != nil {
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	var res ActionResult
	if err := run.Get(ctx, &res); err != nil {
		msg, _ := workflows.FailureOf(err)
		return models.Errorf(models.CodeInvalid, "Unable to get the console URL: %s", msg)
	}
	return rest.Render(c, http.StatusOK, gin.H{"url": res.Output})
}
