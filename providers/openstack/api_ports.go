package openstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The ports (Waldur's openstack-ports): list and retrieve; create in a
// network, update, delete, enable_port, disable_port,
// enable_port_security, disable_port_security, update_port_ip and
// update_security_groups, each an action on the row run by
// OpenStackAction on the openstack queue (202, or 201 for a create; 409
// when the port is not OK and nothing changes); pull (the port's tenant
// read from the cloud); staff's set_ok, set_erred and unlink; an
// instance's ports. The routers (api_routers.go) and floating IPs
// (api_floating_ips.go) share this file's helpers. Who may act: Waldur's
// is_administrator on the tenant's project; staff alone for set_ok,
// set_erred and unlink.

// portRoutes registers the ports' routes (and the instance's ports).
func (m *routes) portRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-ports", api.RequireUser)
	g.Match(get, "/", api.H(m.listPorts))
	g.Match(get, "/:uuid/", api.H(m.getPort))
	g.POST("/", api.H(m.createPort))
	g.PUT("/:uuid/", api.H(m.updatePort(false)))
	g.PATCH("/:uuid/", api.H(m.updatePort(true)))
	g.DELETE("/:uuid/", api.H(m.deleteObject(KindPort)))
	g.POST("/:uuid/enable_port/", api.H(m.portToggle("enable_port", "Port enabling has been scheduled.")))
	g.POST("/:uuid/disable_port/", api.H(m.portToggle("disable_port", "Port disabling has been scheduled.")))
	g.POST("/:uuid/enable_port_security/", api.H(m.portToggle("enable_port_security", "Port security enabling has been scheduled.")))
	g.POST("/:uuid/disable_port_security/", api.H(m.portToggle("disable_port_security", "Port security disabling has been scheduled.")))
	g.POST("/:uuid/update_port_ip/", api.H(m.updatePortIP))
	g.POST("/:uuid/update_security_groups/", api.H(m.updatePortSecurityGroups))
	g.POST("/:uuid/pull/", api.H(m.pullObject(KindPort)))
	g.POST("/:uuid/set_ok/", api.H(m.setState(KindPort, models.CoreOK)))
	g.POST("/:uuid/set_erred/", api.H(m.setState(KindPort, models.CoreErred)))
	g.POST("/:uuid/unlink/", api.H(m.unlink(KindPort)))
	a.GET("/openstack-instances/:uuid/ports/", api.RequireUser, api.H(m.instancePorts))
}

// l3Object loads a port, router or floating IP of the path if the caller
// sees it (404 otherwise). A port is named by its UUID or its backend id
// (the instances' port URLs).
func (m *routes) l3Object(c *gin.Context, k Kind) (*ActionObject, error) {
	ctx := c.Request.Context()
	var id models.UUID
	switch k {
	case KindPort:
		v, err := m.db.VisiblePort(ctx, c.Param("uuid"))
		if err != nil {
			return nil, err
		}
		id = v.UUID
	case KindRouter:
		ref, err := api.PathUUID(c, "Router")
		if err != nil {
			return nil, err
		}
		if _, err := m.db.VisibleRouter(ctx, ref); err != nil {
			return nil, err
		}
		id = ref
	default:
		ref, err := api.PathUUID(c, CatalogFloatingIPs.Noun())
		if err != nil {
			return nil, err
		}
		if _, err := m.db.VisibleCatalogItem(ctx, CatalogFloatingIPs, ref); err != nil {
			return nil, err
		}
		id = ref
	}
	return m.db.ActionObjectByUUID(ctx, k, id)
}

// Port is the OpenAPI OpenStackPort shape.
type Port struct {
	Common
	FixedIPs            []FixedIP           `json:"fixed_ips"`
	MACAddress          string              `json:"mac_address"`
	AllowedAddressPairs []CloudAddressPair  `json:"allowed_address_pairs"`
	Tenant              string              `json:"tenant"`
	TenantName          string              `json:"tenant_name"`
	TenantUUID          models.UUID         `json:"tenant_uuid"`
	Network             *string             `json:"network"`
	NetworkName         string              `json:"network_name"`
	NetworkUUID         *models.UUID        `json:"network_uuid,omitempty"`
	FloatingIPs         []string            `json:"floating_ips"`
	DeviceID            *string             `json:"device_id"`
	DeviceOwner         *string             `json:"device_owner"`
	PortSecurityEnabled bool                `json:"port_security_enabled"`
	SecurityGroups      []PortSecurityGroup `json:"security_groups"`
	AdminStateUp        *bool               `json:"admin_state_up"`
	Status              *string             `json:"status"`
}

// PortSecurityGroup is the OpenAPI OpenStackPortNestedSecurityGroup shape.
type PortSecurityGroup struct {
	UUID models.UUID `json:"uuid"`
	Name string      `json:"name"`
	URL  string      `json:"url"`
}

// portExtras are loaded once per page: the tenants' security groups (by
// backend id) and the floating IPs on the ports.
type portExtras struct {
	groups   map[int64]map[string]catalogRecord
	floating map[string][]models.UUID
}

func (m *routes) portExtras(c *gin.Context, tenantIDs []int64) (*portExtras, error) {
	ctx := c.Request.Context()
	x := &portExtras{groups: map[int64]map[string]catalogRecord{}}
	groups, _, err := m.db.GroupsAndSubnetsOf(ctx, tenantIDs)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if x.groups[g.TenantID] == nil {
			x.groups[g.TenantID] = map[string]catalogRecord{}
		}
		x.groups[g.TenantID][g.BackendID] = catalogRecord{UUID: g.UUID, Name: g.Name, Description: g.Description}
	}
	if x.floating, err = m.db.floatingIPsOfPorts(ctx, tenantIDs); err != nil {
		return nil, err
	}
	return x, nil
}

func renderPort(c *gin.Context, v *PortView, x *portExtras) Port {
	out := Port{Common: tenantItem(c, "openstack-ports", "OpenStack.Port", &v.CatalogItem, v.Name),
		FixedIPs: []FixedIP{}, MACAddress: v.MACAddress, AllowedAddressPairs: []CloudAddressPair{},
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, TenantUUID: v.TenantUUID,
		FloatingIPs: []string{}, DeviceID: nullable(v.DeviceID), DeviceOwner: nullable(v.DeviceOwner), PortSecurityEnabled: v.PortSecurityEnabled,
		SecurityGroups: []PortSecurityGroup{}, Status: nullable(v.Status)}
	if !isPending(v.BackendID) {
		up := v.AdminStateUp
		out.AdminStateUp = &up
	}
	var ips []CloudFixedIP
	_ = json.Unmarshal(v.FixedIPs, &ips)
	for _, ip := range ips {
		out.FixedIPs = append(out.FixedIPs, FixedIP{IPAddress: ip.IPAddress, SubnetID: ip.SubnetID})
	}
	_ = json.Unmarshal(v.AllowedAddressPairs, &out.AllowedAddressPairs)
	if out.AllowedAddressPairs == nil {
		out.AllowedAddressPairs = []CloudAddressPair{}
	}
	if v.NetworkUUID != nil {
		u := rest.URL(c, "openstack-networks", *v.NetworkUUID)
		out.Network, out.NetworkUUID = &u, v.NetworkUUID
	}
	if v.NetworkName != nil {
		out.NetworkName = *v.NetworkName
	}
	var groups []string
	_ = json.Unmarshal(v.SecurityGroups, &groups)
	for _, g := range groups {
		if rec, ok := x.groups[v.TenantID][g]; ok {
			out.SecurityGroups = append(out.SecurityGroups, PortSecurityGroup{UUID: rec.UUID, Name: rec.Name,
				URL: rest.URL(c, "openstack-security-groups", rec.UUID)})
		}
	}
	for _, f := range x.floating[v.BackendID] {
		out.FloatingIPs = append(out.FloatingIPs, rest.URL(c, "openstack-floating-ips", f))
	}
	return out
}

// @Summary	List OpenStack ports
// @Tags		openstack-ports
// @Param		tenant_uuid				query	string	false	"Tenant"
// @Param		network_uuid			query	string	false	"Network"
// @Param		device_id				query	string	false	"Device"
// @Param		device_owner			query	string	false	"Device owner"
// @Param		admin_state_up			query	bool	false	"Enabled"
// @Param		fixed_ips				query	string	false	"Fixed IP"
// @Param		exclude_subnet_uuids	query	string	false	"Subnets to leave out (comma-separated)"
// @Success	200	{array}	Port
// @Router		/api/openstack-ports/ [get]
func (m *routes) listPorts(c *gin.Context) error {
	f, err := m.portFilter(c)
	if err != nil {
		return err
	}
	q, err := m.db.PortsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("x", map[string]string{"created": "x.created"}), func(vs []PortView) ([]Port, error) {
		return m.renderPorts(c, vs)
	})
}

func (m *routes) renderPorts(c *gin.Context, vs []PortView) ([]Port, error) {
	var tenants []int64
	for _, v := range vs {
		tenants = append(tenants, v.TenantID)
	}
	x, err := m.portExtras(c, tenants)
	if err != nil {
		return nil, err
	}
	out := make([]Port, len(vs))
	for i := range vs {
		out[i] = renderPort(c, &vs[i], x)
	}
	return out, nil
}

func (m *routes) portFilter(c *gin.Context) (PortFilter, error) {
	f := PortFilter{DeviceID: rest.Last(c, "device_id"), DeviceOwner: rest.Last(c, "device_owner"), FixedIP: rest.Last(c, "fixed_ips")}
	var err error
	if f.Filter, err = filter(c, true); err != nil {
		return f, err
	}
	if f.NetworkUUIDs, err = rest.UUIDs(c, "network_uuid"); err != nil {
		return f, err
	}
	if f.AdminStateUp, err = rest.Bool(c, "admin_state_up"); err != nil {
		return f, err
	}
	if ex := rest.Last(c, "exclude_subnet_uuids"); ex != "" {
		for _, s := range strings.Split(ex, ",") {
			id, err := models.ParseUUID(strings.TrimSpace(s))
			if err != nil {
				return f, models.FieldError("exclude_subnet_uuids", "Enter valid UUIDs.")
			}
			var bid []string
			if err := m.db.DB.WithContext(c.Request.Context()).Table("openstack_subnets").Where("uuid = ?", id).Pluck("backend_id", &bid).Error; err != nil {
				return f, models.Internal(err)
			}
			f.ExcludeSubnets = append(f.ExcludeSubnets, bid...)
		}
	}
	return f, nil
}

// @Summary	Get an OpenStack port
// @Tags		openstack-ports
// @Param		uuid	path	string	true	"Port UUID"
// @Success	200	{object}	Port
// @Router		/api/openstack-ports/{uuid}/ [get]
func (m *routes) getPort(c *gin.Context) error {
	return m.renderPortRef(c, http.StatusOK, c.Param("uuid"))
}

func (m *routes) renderPortRef(c *gin.Context, status int, ref string) error {
	v, err := m.db.VisiblePort(c.Request.Context(), ref)
	if err != nil {
		return err
	}
	out, err := m.renderPorts(c, []PortView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// portSpec reads what a port is made with (Waldur's OpenStackPortRequest
// besides name and description): fixed_ips (in the network's subnets),
// mac_address, allowed_address_pairs, port_security_enabled,
// security_groups (of the tenant; by url or name).
func (m *routes) portSpec(c *gin.Context, f *form.Form, tenantID, networkID int64) *CloudPortInfo {
	ctx := c.Request.Context()
	spec := &CloudPortInfo{PortSecurityEnabled: true, FixedIPs: []CloudFixedIP{}, AllowedAddressPairs: []CloudAddressPair{}}
	if items, ok := f.ObjList("fixed_ips", false); ok {
		for _, it := range items {
			it.Require("ip_address", "subnet_id")
			ip, _ := it.Str("ip_address", 45, false)
			sub, _ := it.Str("subnet_id", 255, false)
			if ip == "" || sub == "" {
				f.Fail("fixed_ips", "ip_address and subnet_id are required.")
				continue
			}
			bid, err := m.subnetIn(ctx, networkID, sub, ip)
			if err != "" {
				f.Fail("fixed_ips", err)
				continue
			}
			spec.FixedIPs = append(spec.FixedIPs, CloudFixedIP{IPAddress: ip, SubnetID: bid})
		}
	}
	spec.MACAddress, _ = f.Str("mac_address", 32, true)
	if items, ok := f.ObjList("allowed_address_pairs", false); ok {
		for _, it := range items {
			ip, _ := it.Str("ip_address", 45, false)
			mac, _ := it.Str("mac_address", 32, true)
			if _, err := netip.ParsePrefix(ip); err != nil {
				if _, err := netip.ParseAddr(ip); err != nil {
					f.Fail("allowed_address_pairs", "Enter a valid IP address or network.")
					continue
				}
			}
			spec.AllowedAddressPairs = append(spec.AllowedAddressPairs, CloudAddressPair{IPAddress: ip, MACAddress: mac})
		}
	}
	if f.Has("port_security_enabled") {
		spec.PortSecurityEnabled, _ = f.Bool("port_security_enabled")
	}
	if items, ok := f.ObjList("security_groups", false); ok {
		spec.SecurityGroups = []string{}
		for _, it := range items {
			q := m.db.DB.WithContext(ctx).Table("openstack_security_groups").Where("tenant_id = ?", tenantID)
			if it.Has("url") {
				ref, ok := it.Ref("url", "openstack-security-groups", false, true)
				if !ok {
					f.Fail("security_groups", "Invalid hyperlink.")
					continue
				}
				q = q.Where("uuid = ?", ref)
			} else {
				name, _ := it.Str("name", 150, false)
				q = q.Where("name = ?", name)
			}
			var ids []string
			if err := q.Pluck("backend_id", &ids).Error; err != nil || len(ids) == 0 || isPending(ids[0]) {
				f.Fail("security_groups", "Security group should belong to the same tenant and exist in the cloud.")
				continue
			}
			spec.SecurityGroups = append(spec.SecurityGroups, ids[0])
		}
		if !spec.PortSecurityEnabled && len(spec.SecurityGroups) > 0 {
			f.Fail("security_groups", "Security groups need port security enabled.")
		}
	}
	return spec
}

// subnetIn resolves a subnet (its backend id or UUID) of a network, with
// an address in its CIDR: its backend id, or why not.
func (m *routes) subnetIn(ctx context.Context, networkID int64, ref, ip string) (string, string) {
	var rows []struct {
		BackendID string
		CIDR      string `gorm:"column:cidr"`
	}
	q := m.db.DB.WithContext(ctx).Table("openstack_subnets").Select("backend_id, cidr").Where("network_id = ?", networkID)
	if id, err := models.ParseUUID(ref); err == nil {
		q = q.Where("backend_id = ? OR uuid = ?", ref, id)
	} else {
		q = q.Where("backend_id = ?", ref)
	}
	if err := q.Limit(1).Scan(&rows).Error; err != nil || len(rows) == 0 {
		return "", "The subnet should belong to the port's network."
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", "Enter a valid IPv4 or IPv6 address."
	}
	if p, err := netip.ParsePrefix(rows[0].CIDR); err == nil && !p.Contains(a) {
		return "", "The IP address " + ip + " is not within the subnet's CIDR " + rows[0].CIDR + "."
	}
	return rows[0].BackendID, ""
}

// @Summary	Create an OpenStack port
// @Description	name, description, network (its URL: the port's tenant is the network's), fixed_ips [{ip_address, subnet_id}], mac_address, allowed_address_pairs, port_security_enabled, security_groups. 201 with the port (CREATION_SCHEDULED), then OK with what the cloud made; 409 unless the network is OK; 400 for bad input or a name another port of the network has.
// @Tags		openstack-ports
// @Success	201	{object}	Port
// @Router		/api/openstack-ports/ [post]
func (m *routes) createPort(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name", "network")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	ref, ok := f.Ref("network", "openstack-networks", false, true)
	if !ok {
		return f.Err()
	}
	ctx := c.Request.Context()
	if _, err := m.db.VisibleCatalogItem(ctx, CatalogNetworks, ref); models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("network", rest.MsgDoesNotExist)
	} else if err != nil {
		return err
	}
	n, err := m.db.ActionObjectByUUID(ctx, KindNetwork, ref)
	if err != nil {
		return err
	}
	if err := m.isAdministrator(c, n); err != nil {
		return err
	}
	if f.Has("target_tenant") && !f.IsNull("target_tenant") {
		if t, ok := f.Ref("target_tenant", "openstack-tenants", true, false); ok {
			var ids []int64
			if err := m.db.DB.WithContext(ctx).Table("openstack_tenants").Where("uuid = ?", t).Pluck("id", &ids).Error; err != nil {
				return models.Internal(err)
			}
			if len(ids) == 0 || ids[0] != n.TenantID {
				f.Fail("target_tenant", "Ports of another tenant than the network's are not supported.")
			}
		}
	}
	spec := m.portSpec(c, f, n.TenantID, n.ID)
	if name != "" {
		if err := m.uniqueName(c, f, KindPort, "network_id", n.ID, 0, name); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(n.State); err != nil {
		return err
	}
	o, err := m.db.CreateObject(ctx, KindPort, n.TenantID, map[string]any{"name": name, "description": desc, "network_id": n.ID,
		"mac_address": spec.MACAddress, "fixed_ips": rawJSON(spec.FixedIPs), "allowed_address_pairs": rawJSON(spec.AllowedAddressPairs),
		"security_groups": rawJSON(nonNilSlice(spec.SecurityGroups)), "port_security_enabled": spec.PortSecurityEnabled},
		l3Details(L3Request{Port: spec}))
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderPortRef(c, http.StatusCreated, o.UUID.String())
}

// l3Details is an L3Request as an action's recorded details.
func l3Details(r L3Request) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(rawJSON(r), &out)
	return out
}

// @Summary	Update an OpenStack port
// @Description	name, description: set here at once and in the cloud (UPDATE_SCHEDULED, then OK); 409 unless the port is OK.
// @Tags		openstack-ports
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	Port
// @Router		/api/openstack-ports/{uuid}/ [put]
// @Router		/api/openstack-ports/{uuid}/ [patch]
func (m *routes) updatePort(partial bool) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, KindPort)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		if !partial {
			f.Require("name")
		}
		set := map[string]any{}
		if f.Has("name") {
			if v, ok := f.Str("name", 150, false); ok {
				set["name"] = v
				net, err := columnOf[*int64](c.Request.Context(), m.db, KindPort, o.ID, "network_id")
				if err != nil {
					return err
				}
				if net != nil {
					if err := m.uniqueName(c, f, KindPort, "network_id", *net, o.ID, v); err != nil {
						return err
					}
				}
			}
		}
		if f.Has("description") {
			if v, ok := f.Str("description", 4096, true); ok {
				set["description"] = v
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if len(set) > 0 {
			if err := m.schedule(c, o, ScheduledAction{Action: "update", Set: set}); err != nil {
				return err
			}
		}
		return m.renderPortRef(c, http.StatusOK, o.UUID.String())
	}
}

// @Summary	Enable or disable an OpenStack port, or its port security
// @Description	Sets the port's admin_state_up (enable_port, disable_port) or port_security_enabled (enable_port_security, disable_port_security: disabling drops its security groups) in the cloud. 202 {"status": "..."}; 409 unless the port is OK.
// @Tags		openstack-ports
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-ports/{uuid}/enable_port/ [post]
// @Router		/api/openstack-ports/{uuid}/disable_port/ [post]
// @Router		/api/openstack-ports/{uuid}/enable_port_security/ [post]
// @Router		/api/openstack-ports/{uuid}/disable_port_security/ [post]
func (m *routes) portToggle(action, answer string) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, KindPort)
		if err != nil {
			return err
		}
		if err := m.schedule(c, o, ScheduledAction{Action: action}); err != nil {
			return err
		}
		return rest.Render(c, http.StatusAccepted, gin.H{"status": answer})
	}
}

// @Summary	Change an OpenStack port's IP address
// @Description	subnet (URL of a subnet of the port's network), ip_address (in its CIDR): the port's fixed IPs become this one. 202; 409 unless the port is OK; 400 for an address outside the subnet.
// @Tags		openstack-ports
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-ports/{uuid}/update_port_ip/ [post]
func (m *routes) updatePortIP(c *gin.Context) error {
	o, err := m.administered(c, KindPort)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("subnet", "ip_address")
	ip, _ := f.Str("ip_address", 45, false)
	ref, _ := f.Ref("subnet", "openstack-subnets", false, true)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	net, err := columnOf[*int64](ctx, m.db, KindPort, o.ID, "network_id")
	if err != nil {
		return err
	}
	if net == nil {
		return models.FieldError("subnet", "The port has no network.")
	}
	bid, msg := m.subnetIn(ctx, *net, ref.String(), ip)
	if msg != "" {
		field := "ip_address"
		if bid == "" && !strings.Contains(msg, "IP") {
			field = "subnet"
		}
		return models.FieldError(field, msg)
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_port_ip",
		Details: l3Details(L3Request{FixedIPs: []CloudFixedIP{{IPAddress: ip, SubnetID: bid}}})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Port IP update has been scheduled."})
}

// @Summary	Set an OpenStack port's security groups
// @Description	security_groups: URLs of groups of the port's tenant (in the cloud); the port's groups become exactly these. 202; 409 unless the port is OK.
// @Tags		openstack-ports
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-ports/{uuid}/update_security_groups/ [post]
func (m *routes) updatePortSecurityGroups(c *gin.Context) error {
	o, err := m.administered(c, KindPort)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	groups, err := m.groupRefs(c, f, o.TenantID)
	if err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_security_groups",
		Details: l3Details(L3Request{SecurityGroups: groups})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Security groups update has been scheduled."})
}

// groupRefs reads security_groups: URLs of groups of the tenant made in
// the cloud (their backend ids); 400 otherwise.
func (m *routes) groupRefs(c *gin.Context, f *form.Form, tenantID int64) ([]string, error) {
	f.Require("security_groups")
	urls, _ := f.StrList("security_groups", true, form.Char{Max: 500})
	if err := f.Err(); err != nil {
		return nil, err
	}
	out := []string{}
	for _, u := range urls {
		id, err := rest.ParseRef("security_groups", u, "openstack-security-groups")
		if err != nil {
			return nil, err
		}
		var ids []string
		if err := m.db.DB.WithContext(c.Request.Context()).Table("openstack_security_groups").Where("uuid = ? AND tenant_id = ?", id, tenantID).
			Pluck("backend_id", &ids).Error; err != nil {
			return nil, models.Internal(err)
		}
		if len(ids) == 0 || isPending(ids[0]) {
			return nil, models.FieldError("security_groups", "Security group should belong to the same tenant and exist in the cloud.")
		}
		out = append(out, ids[0])
	}
	return out, nil
}

// @Summary	An OpenStack instance's ports
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{array}	Port
// @Router		/api/openstack-instances/{uuid}/ports/ [get]
func (m *routes) instancePorts(c *gin.Context) error {
	id, err := api.PathUUID(c, "Instance")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	in, err := m.db.VisibleInstance(ctx, id)
	if err != nil {
		return err
	}
	if in.BackendID == "" {
		return rest.Render(c, http.StatusOK, []Port{})
	}
	q, err := m.db.PortsQuery(ctx, PortFilter{DeviceID: in.BackendID, Filter: Filter{TenantUUIDs: []models.UUID{in.TenantUUID}}})
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("x", nil), func(vs []PortView) ([]Port, error) { return m.renderPorts(c, vs) })
}

// l3Routes registers the routes of the ports, routers and floating IPs.
func (m *routes) l3Routes(a *gin.RouterGroup) {
	m.portRoutes(a)
	m.routerRoutes(a)
	m.floatingIPRoutes(a)
}
