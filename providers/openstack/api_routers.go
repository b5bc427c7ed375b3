package openstack

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The routers (Waldur's openstack-routers): list and retrieve; create in a
// tenant (with a gateway on the tenant's external network), delete,
// add_router_interface and remove_router_interface (by subnet or port),
// set_routes, staff's set_ok and set_erred; and the subnets' connect and
// disconnect (to and from the tenant's router, one made when the tenant
// has none). Each change is an action on the router's row run by
// OpenStackAction; what Neutron would refuse and can be seen here (a
// subnet of another tenant or without a gateway, one connected already, a
// next hop on no connected subnet) is a 400 and changes nothing.

// routerRoutes registers the routers' routes and the subnets' connect
// and disconnect.
func (m *routes) routerRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-routers", api.RequireUser)
	g.Match(get, "/", api.H(m.listRouters))
	g.Match(get, "/:uuid/", api.H(m.getRouter))
	g.POST("/", api.H(m.createRouter))
	g.DELETE("/:uuid/", api.H(m.deleteObject(KindRouter)))
	g.POST("/:uuid/add_router_interface/", api.H(m.routerInterface("add_router_interface")))
	g.POST("/:uuid/remove_router_interface/", api.H(m.routerInterface("remove_router_interface")))
	g.POST("/:uuid/set_routes/", api.H(m.setRoutes))
	g.POST("/:uuid/set_ok/", api.H(m.setState(KindRouter, models.CoreOK)))
	g.POST("/:uuid/set_erred/", api.H(m.setState(KindRouter, models.CoreErred)))
	s := a.Group("/openstack-subnets", api.RequireUser)
	s.POST("/:uuid/connect/", api.H(m.connectSubnet(true)))
	s.POST("/:uuid/disconnect/", api.H(m.connectSubnet(false)))
}

// Router is the OpenAPI OpenStackRouter shape.
type Router struct {
	Common
	Tenant     string       `json:"tenant"`
	TenantName string       `json:"tenant_name"`
	TenantUUID models.UUID  `json:"tenant_uuid"`
	Routes     []CloudRoute `json:"routes"`
	FixedIPs   []FixedIP    `json:"fixed_ips"`
	Ports      []NestedPort `json:"ports"`
}

// subnetRecords are a tenant's subnets by backend id (for rendering
// routers' interfaces).
func (m *routes) subnetRecords(c *gin.Context, tenantIDs []int64) (map[int64]map[string]catalogRecord, error) {
	_, subnets, err := m.db.GroupsAndSubnetsOf(c.Request.Context(), tenantIDs)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]catalogRecord{}
	for _, s := range subnets {
		if out[s.TenantID] == nil {
			out[s.TenantID] = map[string]catalogRecord{}
		}
		out[s.TenantID][s.BackendID] = catalogRecord{UUID: s.UUID, Name: s.Name, Description: s.Description, CIDR: s.CIDR}
	}
	return out, nil
}

func renderRouter(c *gin.Context, v *RouterView, subnets map[string]catalogRecord) Router {
	out := Router{Common: tenantItem(c, "openstack-routers", "OpenStack.Router", &v.CatalogItem, v.Name),
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, TenantUUID: v.TenantUUID,
		Routes: []CloudRoute{}, FixedIPs: []FixedIP{}, Ports: []NestedPort{}}
	_ = json.Unmarshal(v.Routes, &out.Routes)
	if out.Routes == nil {
		out.Routes = []CloudRoute{}
	}
	var ips []CloudFixedIP
	_ = json.Unmarshal(v.FixedIPs, &ips)
	for _, ip := range ips {
		out.FixedIPs = append(out.FixedIPs, FixedIP{IPAddress: ip.IPAddress, SubnetID: ip.SubnetID})
	}
	var ports []CloudPortInfo
	_ = json.Unmarshal(v.Ports, &ports)
	for _, p := range ports {
		dev, owner := p.DeviceID, p.DeviceOwner
		np := NestedPort{URL: rest.Origin(c) + "/api/openstack-ports/" + p.BackendID + "/", FixedIPs: []FixedIP{}, MACAddress: p.MACAddress,
			AllowedAddressPairs: []any{}, SecurityGroups: []any{}, DeviceID: &dev, DeviceOwner: &owner}
		for _, ip := range p.FixedIPs {
			np.FixedIPs = append(np.FixedIPs, FixedIP{IPAddress: ip.IPAddress, SubnetID: ip.SubnetID})
			if rec, ok := subnets[ip.SubnetID]; ok && np.Subnet == nil {
				u := rest.URL(c, "openstack-subnets", rec.UUID)
				id, name, cidr := rec.UUID, rec.Name, rec.CIDR
				np.Subnet, np.SubnetUUID, np.SubnetName, np.SubnetCIDR = &u, &id, &name, &cidr
			}
		}
		out.Ports = append(out.Ports, np)
	}
	return out
}

// @Summary	List OpenStack routers
// @Tags		openstack-routers
// @Param		name		query	string		false	"Name contains"
// @Param		tenant_uuid	query	string		false	"Tenant"
// @Param		state		query	[]string	false	"State (repeatable)"
// @Success	200	{array}	Router
// @Router		/api/openstack-routers/ [get]
func (m *routes) listRouters(c *gin.Context) error {
	f, err := filter(c, true)
	if err != nil {
		return err
	}
	q, err := m.db.RoutersQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("x", nil), func(vs []RouterView) ([]Router, error) {
		var tenants []int64
		for _, v := range vs {
			tenants = append(tenants, v.TenantID)
		}
		subs, err := m.subnetRecords(c, tenants)
		if err != nil {
			return nil, err
		}
		out := make([]Router, len(vs))
		for i := range vs {
			out[i] = renderRouter(c, &vs[i], subs[vs[i].TenantID])
		}
		return out, nil
	})
}

// @Summary	Get an OpenStack router
// @Tags		openstack-routers
// @Param		uuid	path	string	true	"Router UUID"
// @Success	200	{object}	Router
// @Router		/api/openstack-routers/{uuid}/ [get]
func (m *routes) getRouter(c *gin.Context) error {
	id, err := api.PathUUID(c, "Router")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleRouter(c.Request.Context(), id)
	if err != nil {
		return err
	}
	subs, err := m.subnetRecords(c, []int64{v.TenantID})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderRouter(c, v, subs[v.TenantID]))
}

// CreatedRouter is the OpenAPI CreateRouter shape.
type CreatedRouter struct {
	URL             string      `json:"url"`
	UUID            models.UUID `json:"uuid"`
	Tenant          string      `json:"tenant"`
	Name            string      `json:"name"`
	Project         string      `json:"project"`
	ServiceSettings string      `json:"service_settings"`
}

// @Summary	Create an OpenStack router
// @Description	tenant (URL), name (unique in the tenant). 201 with the router (CREATION_SCHEDULED), then made in the cloud with a gateway on the tenant's external network (OK), or ERRED. 409 unless the tenant is OK.
// @Tags		openstack-routers
// @Success	201	{object}	CreatedRouter
// @Router		/api/openstack-routers/ [post]
func (m *routes) createRouter(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("tenant", "name")
	name, _ := f.Str("name", 150, false)
	ref, ok := f.Ref("tenant", "openstack-tenants", false, true)
	if !ok {
		return f.Err()
	}
	ctx := c.Request.Context()
	tv, err := m.db.VisibleTenant(ctx, ref)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("tenant", rest.MsgDoesNotExist)
	} else if err != nil {
		return err
	}
	t, err := m.db.ActionObjectByUUID(ctx, KindTenant, ref)
	if err != nil {
		return err
	}
	if err := m.isAdministrator(c, t); err != nil {
		return err
	}
	if name != "" {
		if err := m.uniqueName(c, f, KindRouter, "tenant_id", t.ID, 0, name); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	o, err := m.db.CreateObject(ctx, KindRouter, t.ID, map[string]any{"name": name, "description": "", "routes": rawJSON([]CloudRoute{}),
		"fixed_ips": rawJSON([]CloudFixedIP{}), "ports": rawJSON([]CloudPortInfo{})}, nil)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	out := CreatedRouter{URL: rest.URL(c, "openstack-routers", o.UUID), UUID: o.UUID, Tenant: rest.URL(c, "openstack-tenants", ref), Name: name,
		Project: rest.URL(c, "projects", tv.ProjectUUID)}
	if tv.OfferingUUID != nil {
		out.ServiceSettings = rest.URL(c, "marketplace-public-offerings", *tv.OfferingUUID)
	}
	return rest.Render(c, http.StatusCreated, out)
}

// routerInterfaces reads a router's recorded interfaces.
func (m *routes) routerPorts(c *gin.Context, routerID int64) ([]CloudPortInfo, error) {
	raw, err := columnOf[[]byte](c.Request.Context(), m.db, KindRouter, routerID, "ports")
	if err != nil {
		return nil, err
	}
	var out []CloudPortInfo
	_ = json.Unmarshal(raw, &out)
	return out, nil
}

func onSubnet(ports []CloudPortInfo, subnet string) bool {
	return slices.ContainsFunc(ports, func(p CloudPortInfo) bool {
		return slices.ContainsFunc(p.FixedIPs, func(ip CloudFixedIP) bool { return ip.SubnetID == subnet })
	})
}

// subnetOfTenant resolves a subnet UUID of the tenant made in the cloud:
// its backend id and gateway (400 on field otherwise).
func (m *routes) subnetOfTenant(c *gin.Context, field string, tenantID int64, id models.UUID) (backendID, gateway string, err error) {
	var rows []struct {
		BackendID string
		GatewayIP string `gorm:"column:gateway_ip"`
	}
	if err := m.db.DB.WithContext(c.Request.Context()).Table("openstack_subnets").Select("backend_id, gateway_ip").
		Where("uuid = ? AND tenant_id = ?", id, tenantID).Scan(&rows).Error; err != nil {
		return "", "", models.Internal(err)
	}
	if len(rows) == 0 || isPending(rows[0].BackendID) {
		return "", "", models.FieldError(field, "The subnet should belong to the router's tenant and exist in the cloud.")
	}
	return rows[0].BackendID, rows[0].GatewayIP, nil
}

// @Summary	Add or remove an OpenStack router's interface
// @Description	subnet or port (a URL: one of them). add_router_interface: the subnet (with a gateway, not connected yet) or the port (of no device) of the router's tenant becomes an interface; remove_router_interface: the router's interface on the subnet, or the port, goes. 202; 409 unless the router is OK; 400 for what Neutron would refuse.
// @Tags		openstack-routers
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-routers/{uuid}/add_router_interface/ [post]
// @Router		/api/openstack-routers/{uuid}/remove_router_interface/ [post]
func (m *routes) routerInterface(action string) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, KindRouter)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		hasSubnet, hasPort := f.Has("subnet") && !f.IsNull("subnet"), f.Has("port") && !f.IsNull("port")
		if hasSubnet == hasPort {
			return models.Errorf(models.CodeInvalid, "Either subnet or port must be specified, but not both.")
		}
		have, err := m.routerPorts(c, o.ID)
		if err != nil {
			return err
		}
		adding := action == "add_router_interface"
		var l3 L3Request
		if hasSubnet {
			ref, ok := f.Ref("subnet", "openstack-subnets", false, true)
			if !ok {
				return f.Err()
			}
			bid, gw, err := m.subnetOfTenant(c, "subnet", o.TenantID, ref)
			if err != nil {
				return err
			}
			switch {
			case adding && gw == "":
				return models.FieldError("subnet", "The subnet has no gateway IP.")
			case adding && onSubnet(have, bid):
				return models.FieldError("subnet", "The router has an interface on the subnet already.")
			case !adding && !onSubnet(have, bid):
				return models.FieldError("subnet", "The router has no interface on the subnet.")
			}
			l3.SubnetBackendID = bid
		} else {
			raw, _ := f.Str("port", 500, false)
			if err := f.Err(); err != nil {
				return err
			}
			port, err := m.portOfRef(c, "port", raw)
			if err != nil {
				return err
			}
			if port.TenantID != o.TenantID || isPending(port.BackendID) {
				return models.FieldError("port", "The port should belong to the router's tenant and exist in the cloud.")
			}
			mine := slices.ContainsFunc(have, func(p CloudPortInfo) bool { return p.BackendID == port.BackendID })
			switch {
			case adding && port.DeviceID != "":
				return models.FieldError("port", "The port is in use by device "+port.DeviceID+".")
			case !adding && !mine:
				return models.FieldError("port", "The port is not an interface of the router.")
			}
			l3.PortBackendID = port.BackendID
		}
		if err := m.schedule(c, o, ScheduledAction{Action: action, Details: l3Details(l3)}); err != nil {
			return err
		}
		if adding {
			return rest.Render(c, http.StatusAccepted, gin.H{"status": "Router interface adding has been scheduled."})
		}
		return rest.Render(c, http.StatusAccepted, gin.H{"status": "Router interface removal has been scheduled."})
	}
}

// @Summary	Set an OpenStack router's static routes
// @Description	routes: [{destination (a CIDR), nexthop (an address on a subnet the router has an interface on)}]; the router's routes become exactly these. 202 with the routes; 409 unless the router is OK; 400 for a bad route.
// @Tags		openstack-routers
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]any
// @Router		/api/openstack-routers/{uuid}/set_routes/ [post]
func (m *routes) setRoutes(c *gin.Context) error {
	o, err := m.administered(c, KindRouter)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("routes")
	items, _ := f.ObjList("routes", true)
	if err := f.Err(); err != nil {
		return err
	}
	have, err := m.routerPorts(c, o.ID)
	if err != nil {
		return err
	}
	var cidrs []netip.Prefix
	if len(have) > 0 {
		var subs []string
		for _, p := range have {
			for _, ip := range p.FixedIPs {
				subs = append(subs, ip.SubnetID)
			}
		}
		var raw []string
		if err := m.db.DB.WithContext(c.Request.Context()).Table("openstack_subnets").Where("tenant_id = ? AND backend_id IN ?", o.TenantID, subs).
			Pluck("cidr", &raw).Error; err != nil {
			return models.Internal(err)
		}
		for _, r := range raw {
			if p, err := netip.ParsePrefix(r); err == nil {
				cidrs = append(cidrs, p)
			}
		}
	}
	routes := []CloudRoute{}
	for i, it := range items {
		it.Require("destination", "nexthop")
		dst, _ := it.Str("destination", 43, false)
		hop, _ := it.Str("nexthop", 45, false)
		if _, err := netip.ParsePrefix(dst); dst != "" && err != nil {
			f.Fail("routes", "Route "+itoa(i+1)+": destination: Enter a valid network in CIDR notation.")
		}
		if hop != "" {
			a, err := netip.ParseAddr(hop)
			if err != nil {
				f.Fail("routes", "Route "+itoa(i+1)+": nexthop: Enter a valid IP address.")
			} else if !slices.ContainsFunc(cidrs, func(p netip.Prefix) bool { return p.Contains(a) }) {
				f.Fail("routes", "Route "+itoa(i+1)+": nexthop: "+hop+" is not on a subnet the router is connected to.")
			}
		}
		for field, msgs := range it.Errors() {
			for _, msg := range msgs {
				f.Fail("routes", "Route "+itoa(i+1)+": "+field+": "+msg)
			}
		}
		routes = append(routes, CloudRoute{Destination: dst, NextHop: hop})
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "set_routes", Details: l3Details(L3Request{Routes: routes})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"routes": routes})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// @Summary	Connect or disconnect an OpenStack subnet to or from the tenant's router
// @Description	connect: the subnet (OK, with a gateway) becomes an interface of the tenant's router (a router is made, with a gateway on the external network, when the tenant has none); disconnect: its interface goes. 202; 409 unless the subnet and the router are OK; 400 when connected already (connect) or not connected (disconnect).
// @Tags		openstack-subnets
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-subnets/{uuid}/connect/ [post]
// @Router		/api/openstack-subnets/{uuid}/disconnect/ [post]
func (m *routes) connectSubnet(connect bool) api.Handler {
	return func(c *gin.Context) error {
		sub, err := m.administered(c, KindSubnet)
		if err != nil {
			return err
		}
		if err := requireOK(sub.State); err != nil {
			return err
		}
		ctx := c.Request.Context()
		bid, gw, err := m.subnetOfTenant(c, "subnet", sub.TenantID, sub.UUID)
		if err != nil {
			return err
		}
		r, err := m.db.tenantRouter(ctx, sub.TenantID)
		if err != nil {
			return err
		}
		if r == nil {
			if !connect {
				return models.Errorf(models.CodeInvalid, "The tenant has no router.")
			}
			if gw == "" {
				return models.Errorf(models.CodeInvalid, "The subnet has no gateway IP.")
			}
			tname, err := columnOf[string](ctx, m.db, KindTenant, sub.TenantID, "name")
			if err != nil {
				return err
			}
			o, err := m.db.CreateObject(ctx, KindRouter, sub.TenantID, map[string]any{"name": tname + "-router", "description": "",
				"routes": rawJSON([]CloudRoute{}), "fixed_ips": rawJSON([]CloudFixedIP{}), "ports": rawJSON([]CloudPortInfo{})},
				l3Details(L3Request{SubnetBackendID: bid}))
			if err != nil {
				return err
			}
			m.start(c, o, "create")
			return rest.Render(c, http.StatusAccepted, gin.H{"status": "Subnet connecting has been scheduled."})
		}
		have, err := m.routerPorts(c, r.ID)
		if err != nil {
			return err
		}
		action := "add_router_interface"
		switch {
		case connect && gw == "":
			return models.Errorf(models.CodeInvalid, "The subnet has no gateway IP.")
		case connect && onSubnet(have, bid):
			return models.Errorf(models.CodeInvalid, "The subnet is connected to the router already.")
		case !connect && !onSubnet(have, bid):
			return models.Errorf(models.CodeInvalid, "The subnet is not connected to the router.")
		case !connect:
			action = "remove_router_interface"
		}
		if err := m.schedule(c, r, ScheduledAction{Action: action, Details: l3Details(L3Request{SubnetBackendID: bid})}); err != nil {
			return err
		}
		if connect {
			return rest.Render(c, http.StatusAccepted, gin.H{"status": "Subnet connecting has been scheduled."})
		}
		return rest.Render(c, http.StatusAccepted, gin.H{"status": "Subnet disconnecting has been scheduled."})
	}
}
