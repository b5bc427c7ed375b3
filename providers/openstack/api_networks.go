package openstack

import (
	"net/http"
	"net/netip"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The networks and subnets made, changed and deleted through the API
// (Waldur's create_network of a tenant, create_subnet and set_mtu of a
// network, and their update and destroy), as the security groups are
// (api_security_groups.go): the row at once, the cloud by OpenStackAction.

// networkRoutes registers the networks' and subnets' own routes (their
// update, set_ok, set_erred and unlink are actionRoutes').
func (m *routes) networkRoutes(a *gin.RouterGroup) {
	a.POST("/openstack-tenants/:uuid/create_network/", api.RequireUser, api.H(m.createNetwork))
	n := a.Group("/openstack-networks", api.RequireUser)
	n.DELETE("/:uuid/", api.H(m.deleteObject(KindNetwork)))
	n.POST("/:uuid/create_subnet/", api.H(m.createSubnet))
	n.POST("/:uuid/set_mtu/", api.H(m.setMTU))
	a.DELETE("/openstack-subnets/:uuid/", api.RequireUser, api.H(m.deleteObject(KindSubnet)))
}

// renderNetworkByUUID answers a network as GET renders it.
func (m *routes) renderNetworkByUUID(c *gin.Context, status int, id models.UUID) error {
	v, err := m.db.VisibleCatalogItem(c.Request.Context(), CatalogNetworks, id)
	if err != nil {
		return err
	}
	subs, err := m.networkSubnets(c, []CatalogItem{*v})
	if err != nil {
		return err
	}
	out := []Network{renderNetwork(c, v, subs[v.ID])}
	if err := m.withPolicies(c, []CatalogItem{*v}, out); err != nil { // api_rbac_policies.go
		return err
	}
	return rest.Render(c, status, out[0])
}

// @Summary	Create a network in an OpenStack tenant
// @Description	name, description. The network is answered at once (201, CREATION_SCHEDULED) and made in the cloud (OK, with its backend id and MTU), or ERRED. 409 unless the tenant is OK; 400 for a name another network of the tenant has.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	Network
// @Router		/api/openstack-tenants/{uuid}/create_network/ [post]
func (m *routes) createNetwork(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	if name != "" {
		if err := m.uniqueName(c, f, KindNetwork, "tenant_id", t.ID, 0, name); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	o, err := m.db.CreateObject(c.Request.Context(), KindNetwork, t.ID, map[string]any{"name": name, "description": desc}, nil)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderNetworkByUUID(c, http.StatusCreated, o.UUID)
}

// uniqueName is 400 when another row of the kind with the same parent
// (col = parentID) has the name: the cloud side finds an object by name.
func (m *routes) uniqueName(c *gin.Context, f *form.Form, k Kind, col string, parentID, except int64, name string) error {
	var n int64
	if err := m.db.DB.WithContext(c.Request.Context()).Table(k.table()).
		Where(col+" = ? AND name = ? AND id <> ?", parentID, name, except).Count(&n).Error; err != nil {
		return models.Internal(err)
	}
	if n > 0 {
		f.Fail("name", k.Noun()+" name should be unique.")
	}
	return nil
}

// @Summary	Create a subnet in an OpenStack network
// @Description	name, description, cidr (a private IPv4 network not overlapping the network's other subnets), gateway_ip (in the CIDR; the first host when absent), disable_gateway, allocation_pools (in the CIDR; Waldur's .10-.200 for a /24, else every host after the gateway, when absent), dns_nameservers. 201 with the subnet (CREATION_SCHEDULED), then OK. 409 unless the network is OK.
// @Tags		openstack-networks
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	Subnet
// @Router		/api/openstack-networks/{uuid}/create_subnet/ [post]
func (m *routes) createSubnet(c *gin.Context) error {
	n, err := m.administered(c, KindNetwork)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name", "cidr")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	cidr, _ := f.Str("cidr", 43, false)
	sn := CloudSubnet{IPVersion: 4, EnableDHCP: true, AllocationPools: []CloudAllocationPool{}, DNSNameservers: []string{}}
	var prefix netip.Prefix
	if cidr != "" {
		p, err := netip.ParsePrefix(cidr)
		switch {
		case err != nil || !p.Addr().Is4() || p.Masked() != p:
			f.Fail("cidr", "Enter a valid IPv4 network in CIDR notation.")
		case !p.Addr().IsPrivate() || p.Bits() < 8 || p.Bits() > 29:
			f.Fail("cidr", "A private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) with a prefix from /8 to /29 is required.")
		default:
			prefix, sn.CIDR = p, p.String()
		}
	}
	in := func(field, v string) netip.Addr {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			f.Fail(field, "Enter a valid IPv4 address.")
			return netip.Addr{}
		}
		if prefix.IsValid() && !prefix.Contains(a) {
			f.Fail(field, "The address is not within the subnet's CIDR.")
		}
		return a
	}
	noGateway, _ := f.Bool("disable_gateway")
	gw, isNull, _ := f.NullableStr("gateway_ip", 45, false)
	switch {
	case noGateway:
	case gw != "" && !isNull:
		sn.GatewayIP = in("gateway_ip", gw).String()
	case prefix.IsValid():
		sn.GatewayIP = prefix.Addr().Next().String()
	}
	if items, ok := f.ObjList("allocation_pools", false); ok {
		for _, it := range items {
			it.Require("start", "end")
			st, _ := it.Str("start", 45, false)
			en, _ := it.Str("end", 45, false)
			if st != "" && en != "" {
				a, b := in("allocation_pools", st), in("allocation_pools", en)
				if a.IsValid() && b.IsValid() && b.Less(a) {
					f.Fail("allocation_pools", "The pool's end is before its start.")
				}
				sn.AllocationPools = append(sn.AllocationPools, CloudAllocationPool{Start: st, End: en})
			}
			for _, msgs := range it.Errors() {
				for _, msg := range msgs {
					f.Fail("allocation_pools", msg)
				}
			}
		}
	} else if prefix.IsValid() {
		start, end := prefix.Addr().Next().Next(), lastHost(prefix)
		if prefix.Bits() == 24 { // Waldur's pool
			start, end = nth(prefix.Addr(), 10), nth(prefix.Addr(), 200)
		}
		sn.AllocationPools = append(sn.AllocationPools, CloudAllocationPool{Start: start.String(), End: end.String()})
	}
	if dns, ok := f.StrList("dns_nameservers", false, form.Char{Max: 45}); ok {
		for _, d := range dns {
			in2, err := netip.ParseAddr(d)
			if err != nil {
				f.Fail("dns_nameservers", "Enter a valid IPv4 or IPv6 address.")
				continue
			}
			sn.DNSNameservers = append(sn.DNSNameservers, in2.String())
		}
	}
	if routes, ok := f.ObjList("host_routes", false); ok && len(routes) > 0 {
		f.Fail("host_routes", "Host routes are not supported yet.")
	}
	ctx := c.Request.Context()
	if name != "" {
		if err := m.uniqueName(c, f, KindSubnet, "network_id", n.ID, 0, name); err != nil {
			return err
		}
	}
	if prefix.IsValid() {
		var others []string
		if err := m.db.DB.WithContext(ctx).Table("openstack_subnets").Where("network_id = ?", n.ID).Pluck("cidr", &others).Error; err != nil {
			return models.Internal(err)
		}
		for _, o := range others {
			if op, err := netip.ParsePrefix(o); err == nil && op.Overlaps(prefix) {
				f.Fail("cidr", "The CIDR overlaps with subnet "+o+" of the network.")
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(n.State); err != nil {
		return err
	}
	o, err := m.db.CreateObject(ctx, KindSubnet, n.TenantID, map[string]any{"name": name, "description": desc, "network_id": n.ID,
		"cidr": sn.CIDR, "gateway_ip": sn.GatewayIP, "ip_version": 4, "enable_dhcp": true,
		"allocation_pools": rawJSON(sn.AllocationPools), "dns_nameservers": rawJSON(sn.DNSNameservers)},
		map[string]any{"subnet": sn})
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	v, err := m.db.VisibleCatalogItem(ctx, CatalogSubnets, o.UUID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, renderSubnet(c, v))
}

// @Summary	Set an OpenStack network's MTU
// @Description	mtu (68 to 9000). Scheduled on the network (409 unless it is OK); answered with the MTU asked (200, as Waldur's OpenAPI says).
// @Tags		openstack-networks
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	map[string]int
// @Router		/api/openstack-networks/{uuid}/set_mtu/ [post]
func (m *routes) setMTU(c *gin.Context) error {
	o, err := m.administered(c, KindNetwork)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("mtu")
	v, _ := f.Int("mtu", 68, 9000, false)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "set_mtu", Details: map[string]any{"mtu": *v}}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, gin.H{"mtu": *v})
}
