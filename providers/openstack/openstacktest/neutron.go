package openstacktest

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

func (e *Emulator) networkRoutes() {
	r := func(method, path string, h handler) { e.handle(method+" /network/v2.0"+path, svcNetwork, project, h) }
	r("GET", "/extensions", (*call).listExtensions)
	r("GET", "/extensions/{alias}", (*call).getExtension)

	r("GET", "/networks", (*call).listNetworks)
	r("POST", "/networks", (*call).createNetwork)
	r("GET", "/networks/{id}", (*call).getNetwork)
	r("PUT", "/networks/{id}", (*call).updateNetwork)
	r("DELETE", "/networks/{id}", (*call).deleteNetwork)
	e.rbacRoutes(r)

	r("GET", "/subnets", (*call).listSubnets)
	r("POST", "/subnets", (*call).createSubnet)
	r("GET", "/subnets/{id}", (*call).getSubnet)
	r("PUT", "/subnets/{id}", (*call).updateSubnet)
	r("DELETE", "/subnets/{id}", (*call).deleteSubnet)

	r("GET", "/ports", (*call).listPorts)
	r("POST", "/ports", (*call).createPort)
	r("GET", "/ports/{id}", (*call).getPort)
	r("PUT", "/ports/{id}", (*call).updatePort)
	r("DELETE", "/ports/{id}", (*call).deletePort)

	r("GET", "/routers", (*call).listRouters)
	r("POST", "/routers", (*call).createRouter)
	r("GET", "/routers/{id}", (*call).getRouter)
	r("PUT", "/routers/{id}", (*call).updateRouter)
	r("DELETE", "/routers/{id}", (*call).deleteRouter)
	r("PUT", "/routers/{id}/add_router_interface", (*call).addRouterInterface)
	r("PUT", "/routers/{id}/remove_router_interface", (*call).removeRouterInterface)

	r("GET", "/security-groups", (*call).listSecurityGroups)
	r("POST", "/security-groups", (*call).createSecurityGroup)
	r("GET", "/security-groups/{id}", (*call).getSecurityGroup)
	r("PUT", "/security-groups/{id}", (*call).updateSecurityGroup)
	r("DELETE", "/security-groups/{id}", (*call).deleteSecurityGroup)
	r("GET", "/security-group-rules", (*call).listSecurityGroupRules)
	r("POST", "/security-group-rules", (*call).createSecurityGroupRules)
	r("GET", "/security-group-rules/{id}", (*call).getSecurityGroupRule)
	r("DELETE", "/security-group-rules/{id}", (*call).deleteSecurityGroupRule)

	r("GET", "/floatingips", (*call).listFloatingIPs)
	r("POST", "/floatingips", (*call).createFloatingIP)
	r("GET", "/floatingips/{id}", (*call).getFloatingIP)
	r("PUT", "/floatingips/{id}", (*call).updateFloatingIP)
	r("DELETE", "/floatingips/{id}", (*call).deleteFloatingIP)

	r("GET", "/quotas", (*call).listNetworkQuotas)
	r("GET", "/quotas/{project}", func(c *call) *apiError { return c.getNetworkQuotas(false, false) })
	r("GET", "/quotas/{project}/details.json", func(c *call) *apiError { return c.getNetworkQuotas(true, false) })
	r("GET", "/quotas/{project}/default", func(c *call) *apiError { return c.getNetworkQuotas(false, true) })
	r("PUT", "/quotas/{project}", (*call).updateNetworkQuotas)
	r("DELETE", "/quotas/{project}", (*call).deleteNetworkQuotas)
}

var neutronExtensions = [][2]string{
	{"external-net", "Neutron external network"}, {"router", "Neutron L3 Router"}, {"extraroute", "Neutron Extra Route"},
	{"security-group", "security-group"}, {"quotas", "Quota management support"}, {"quota_details", "Quota details management support"},
	{"standard-attr-timestamp", "Resource timestamps"}, {"standard-attr-revisions", "Resource revision numbers"},
	{"standard-attr-description", "standard-attr-description"}, {"project-id", "project_id field enabled"},
	{"port-security", "Port Security"}, {"net-mtu", "Network MTU"}, {"binding", "Port Binding"},
	{"allowed-address-pairs", "Allowed Address Pairs"}, {"ext-gw-mode", "Neutron L3 Configurable external gateway mode"},
	{"availability_zone", "Availability Zone"}, {"provider", "Provider Network"},
	{"rbac-policies", "RBAC Policies"},
}

func renderExtension(alias, name string) map[string]any {
	return map[string]any{"alias": alias, "name": name, "description": name + " (emulated)", "updated": "2013-01-20T00:00:00-00:00", "links": []any{}}
}

func (c *call) listExtensions() *apiError {
	var items []map[string]any
	for _, x := range neutronExtensions {
		items = append(items, renderExtension(x[0], x[1]))
	}
	c.json(http.StatusOK, map[string]any{"extensions": items})
	return nil
}

func (c *call) getExtension() *apiError {
	alias := c.r.PathValue("alias")
	for _, x := range neutronExtensions {
		if x[0] == alias {
			c.json(http.StatusOK, map[string]any{"extension": renderExtension(x[0], x[1])})
			return nil
		}
	}
	return neutronErr(http.StatusNotFound, "ExtensionNotFound", "Extension with alias %s does not exist", alias)
}

// Ownership and visibility.

// owns tells whether the caller may change a resource of projectID.
func (c *call) owns(projectID string) bool { return projectID == c.projectID() || c.isAdmin() }

// networkVisible is owns for Neutron resources.
func (c *call) networkVisible(projectID string) bool { return c.owns(projectID) }

// networkReadable tells whether the caller sees a network: its own, shared or external ones.
func (c *call) networkReadable(n *Network) bool {
	return c.owns(n.ProjectID) || n.Shared || n.External || c.sharedWithCaller(n.ID) // RBAC: neutron_rbac.go
}

// owner resolves the project a new resource belongs to: the token's, or the
// one in the body for an admin.
func (c *call) owner(projectID, tenantID string) (string, *apiError) {
	p := projectID
	if p == "" {
		p = tenantID
	}
	if p == "" || p == c.projectID() {
		return c.projectID(), nil
	}
	if !c.isAdmin() {
		return "", neutronErr(http.StatusForbidden, "HTTPForbidden", "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges")
	}
	return p, nil
}

func (c *call) checkNetworkQuota(projectID, resource string, n int) *apiError {
	return c.s().checkNetworkQuota(projectID, resource, n)
}

func (s *store) checkNetworkQuota(projectID, resource string, n int) *apiError {
	l, u := s.quotaLimits(projectID, "network"), s.networkUsage(projectID)
	if over := overQuota(l, u, map[string]int{resource: n}); len(over) > 0 {
		return neutronErr(http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['%s'].", resource)
	}
	return nil
}

// common renders the attributes every Neutron resource has.
func common(m map[string]any, id, projectID, description string, revision int, created, updated time.Time) map[string]any {
	m["id"], m["project_id"], m["tenant_id"], m["description"] = id, projectID, projectID, description
	m["revision_number"], m["created_at"], m["updated_at"], m["tags"] = revision, tNova(created), tNova(updated), []string{}
	return m
}

func (c *call) listResponse(collection string, items []map[string]any, extraSkip ...string) *apiError {
	q := c.query()
	items = filterMaps(items, q, extraSkip...)
	items, next, err := page(items, q)
	if err != nil {
		return err
	}
	body := map[string]any{collection: nonNil(onlyFields(items, q))}
	if next != "" {
		body[collection+"_links"] = c.pageLinks(next)
	}
	c.json(http.StatusOK, body)
	return nil
}

// Networks.

func (c *call) renderNetwork(n *Network) map[string]any {
	subnets := []string{}
	for _, s := range c.s().subnets.all() {
		if s.NetworkID == n.ID {
			subnets = append(subnets, s.ID)
		}
	}
	m := common(map[string]any{"name": n.Name, "status": "ACTIVE", "admin_state_up": n.AdminStateUp, "shared": n.Shared,
		"router:external": n.External, "subnets": subnets, "mtu": n.MTU, "availability_zone_hints": []string{},
		"availability_zones": []string{"nova"}, "ipv4_address_scope": nil, "ipv6_address_scope": nil,
		"port_security_enabled": true, "l2_adjacency": true, "is_default": false},
		n.ID, n.ProjectID, n.Description, n.Revision, n.Created, n.Updated)
	if c.isAdmin() {
		if n.External {
			m["provider:network_type"], m["provider:physical_network"], m["provider:segmentation_id"] = "flat", "public", nil
		} else {
			m["provider:network_type"], m["provider:physical_network"], m["provider:segmentation_id"] = "vxlan", nil, 1000+int(c.s().networks.seq[n.ID])
		}
	}
	return m
}

func (c *call) network(id string) (*Network, *apiError) {
	n := c.s().networks.get(id)
	if n == nil || !c.networkReadable(n) {
		return nil, neutronErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", id)
	}
	return n, nil
}

func (c *call) listNetworks() *apiError {
	var items []map[string]any
	for _, n := range c.s().networks.all() {
		if c.networkReadable(n) {
			items = append(items, c.renderNetwork(n))
		}
	}
	return c.listResponse("networks", items)
}

func (c *call) getNetwork() *apiError {
	n, err := c.network(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"network": c.renderNetwork(n)})
	return nil
}

type networkBody struct {
	Network struct {
		Name         *string `json:"name"`
		Description  *string `json:"description"`
		AdminStateUp *bool   `json:"admin_state_up"`
		Shared       *bool   `json:"shared"`
		External     *bool   `json:"router:external"`
		MTU          *int    `json:"mtu"`
		ProjectID    string  `json:"project_id"`
		TenantID     string  `json:"tenant_id"`
	} `json:"network"`
}

func (c *call) createNetwork() *apiError {
	var b networkBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Network
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	if (in.Shared != nil && *in.Shared || in.External != nil && *in.External) && !c.isAdmin() {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:create_network:shared) is disallowed by policy")
	}
	if err := c.checkNetworkQuota(owner, "network", 1); err != nil {
		return err
	}
	n := &Network{ID: uuid.NewString(), ProjectID: owner, AdminStateUp: true, MTU: 1450, Created: c.now, Updated: c.now}
	applyNetwork(n, &b)
	c.e.ensureDefaultSecurityGroup(owner)
	c.s().networks.put(n.ID, n)
	c.json(http.StatusCreated, map[string]any{"network": c.renderNetwork(n)})
	return nil
}

func applyNetwork(n *Network, b *networkBody) {
	in := b.Network
	if in.Name != nil {
		n.Name = *in.Name
	}
	if in.Description != nil {
		n.Description = *in.Description
	}
	if in.AdminStateUp != nil {
		n.AdminStateUp = *in.AdminStateUp
	}
	if in.Shared != nil {
		n.Shared = *in.Shared
	}
	if in.External != nil {
		n.External = *in.External
	}
	if in.MTU != nil {
		n.MTU = *in.MTU
	}
}

func (c *call) updateNetwork() *apiError {
	n, err := c.network(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(n.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:update_network) is disallowed by policy")
	}
	var b networkBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if (b.Network.Shared != nil || b.Network.External != nil) && !c.isAdmin() {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:update_network:shared) is disallowed by policy")
	}
	applyNetwork(n, &b)
	n.Revision++
	n.Updated = c.now
	c.json(http.StatusOK, map[string]any{"network": c.renderNetwork(n)})
	return nil
}

// deleteNetwork refuses while ports are on the network; it deletes the network's subnets.
func (c *call) deleteNetwork() *apiError {
	n, err := c.network(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(n.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:delete_network) is disallowed by policy")
	}
	if c.s().seeded[n.ID] {
		return neutronErr(http.StatusConflict, "NetworkInUse", "The OpenStack emulator keeps its external network %s.", n.ID)
	}
	for _, p := range c.s().ports.all() {
		if p.NetworkID == n.ID {
			return neutronErr(http.StatusConflict, "NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network.", n.ID)
		}
	}
	for _, f := range c.s().floatingIP.all() {
		if f.FloatingNetworkID == n.ID {
			return neutronErr(http.StatusConflict, "NetworkInUse", "Unable to complete operation on network %s. There are one or more floating IPs allocated on the network.", n.ID)
		}
	}
	for _, sub := range c.s().subnets.all() {
		if sub.NetworkID == n.ID {
			c.s().subnets.del(sub.ID)
		}
	}
	c.s().dropPoliciesOf(n.ID) // Neutron deletes a network's RBAC policies with it
	c.s().networks.del(n.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// Subnets.

func (c *call) renderSubnet(s *Subnet) map[string]any {
	pools := s.AllocationPools
	if pools == nil {
		pools = []AllocationPool{}
	}
	return common(map[string]any{"name": s.Name, "network_id": s.NetworkID, "ip_version": s.IPVersion, "cidr": s.CIDR,
		"gateway_ip": orNull(s.GatewayIP), "allocation_pools": pools, "dns_nameservers": nonNilStrings(s.DNSNameservers),
		"host_routes": nonNilRoutes(s.HostRoutes), "enable_dhcp": s.EnableDHCP, "ipv6_address_mode": nil, "ipv6_ra_mode": nil,
		"subnetpool_id": nil, "service_types": []string{}, "segment_id": nil, "dns_publish_fixed_ip": false},
		s.ID, s.ProjectID, s.Description, s.Revision, s.Created, s.Updated)
}

func nonNilRoutes(r []HostRoute) []HostRoute {
	if r == nil {
		return []HostRoute{}
	}
	return r
}

func (c *call) subnet(id string) (*Subnet, *apiError) {
	s := c.s().subnets.get(id)
	if s == nil {
		return nil, neutronErr(http.StatusNotFound, "SubnetNotFound", "Subnet %s could not be found.", id)
	}
	if n := c.s().networks.get(s.NetworkID); !c.owns(s.ProjectID) && (n == nil || !c.networkReadable(n)) {
		return nil, neutronErr(http.StatusNotFound, "SubnetNotFound", "Subnet %s could not be found.", id)
	}
	return s, nil
}

func (c *call) listSubnets() *apiError {
	var items []map[string]any
	for _, s := range c.s().subnets.all() {
		n := c.s().networks.get(s.NetworkID)
		if c.owns(s.ProjectID) || (n != nil && c.networkReadable(n)) {
			items = append(items, c.renderSubnet(s))
		}
	}
	return c.listResponse("subnets", items)
}

func (c *call) getSubnet() *apiError {
	s, err := c.subnet(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"subnet": c.renderSubnet(s)})
	return nil
}

type subnetBody struct {
	Subnet struct {
		NetworkID       string                     `json:"network_id"`
		Name            *string                    `json:"name"`
		Description     *string                    `json:"description"`
		CIDR            string                     `json:"cidr"`
		IPVersion       int                        `json:"ip_version"`
		GatewayIP       nullable[string]           `json:"gateway_ip"`
		AllocationPools nullable[[]AllocationPool] `json:"allocation_pools"`
		DNSNameservers  *[]string                  `json:"dns_nameservers"`
		HostRoutes      *[]HostRoute               `json:"host_routes"`
		EnableDHCP      *bool                      `json:"enable_dhcp"`
		ProjectID       string                     `json:"project_id"`
		TenantID        string                     `json:"tenant_id"`
	} `json:"subnet"`
}

func badInput(format string, args ...any) *apiError {
	return neutronErr(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: "+format, args...)
}

func (c *call) createSubnet() *apiError {
	var b subnetBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Subnet
	n, err := c.network(in.NetworkID)
	if err != nil {
		return err
	}
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	if !c.owns(n.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:create_subnet) is disallowed by policy")
	}
	prefix, perr := netip.ParsePrefix(in.CIDR)
	if perr != nil {
		return badInput("'%s' is not a valid IP subnet.", in.CIDR)
	}
	if prefix.Masked() != prefix {
		return badInput("'%s' isn't a recognized IP subnet cidr, '%s' is recommended", in.CIDR, prefix.Masked())
	}
	ver := 4
	if prefix.Addr().Is6() {
		ver = 6
	}
	if in.IPVersion != 0 && in.IPVersion != ver {
		return badInput("Cidr %s does not match ip_version %d", in.CIDR, in.IPVersion)
	}
	if last := lastAddr(prefix); !prefix.Addr().Next().IsValid() || !prefix.Addr().Next().Less(last) {
		return badInput("Requested subnet %s is too small.", in.CIDR)
	}
	for _, o := range c.s().subnets.all() {
		if op, err := netip.ParsePrefix(o.CIDR); err == nil && o.NetworkID == n.ID && op.Overlaps(prefix) {
			return badInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet.", in.CIDR, n.ID)
		}
	}
	if err := c.checkNetworkQuota(owner, "subnet", 1); err != nil {
		return err
	}
	s := &Subnet{ID: uuid.NewString(), NetworkID: n.ID, ProjectID: owner, IPVersion: ver, CIDR: prefix.String(),
		EnableDHCP: true, DNSNameservers: []string{}, HostRoutes: []HostRoute{}, Created: c.now, Updated: c.now}
	switch {
	case !in.GatewayIP.Set:
		s.GatewayIP = prefix.Addr().Next().String()
	case in.GatewayIP.Null || in.GatewayIP.V == "":
	default:
		gw, err := netip.ParseAddr(in.GatewayIP.V)
		if err != nil || !prefix.Contains(gw) {
			return badInput("Gateway IP %s is not in subnet %s.", in.GatewayIP.V, s.CIDR)
		}
		s.GatewayIP = gw.String()
	}
	if in.AllocationPools.Set && !in.AllocationPools.Null && len(in.AllocationPools.V) > 0 {
		if err := validatePools(prefix, s.GatewayIP, in.AllocationPools.V); err != nil {
			return err
		}
		s.AllocationPools = in.AllocationPools.V
	} else {
		s.AllocationPools = defaultPools(prefix, s.GatewayIP)
	}
	if in.Name != nil {
		s.Name = *in.Name
	}
	if in.Description != nil {
		s.Description = *in.Description
	}
	if in.DNSNameservers != nil {
		s.DNSNameservers = *in.DNSNameservers
	}
	if in.HostRoutes != nil {
		s.HostRoutes = *in.HostRoutes
	}
	if in.EnableDHCP != nil {
		s.EnableDHCP = *in.EnableDHCP
	}
	c.s().subnets.put(s.ID, s)
	c.json(http.StatusCreated, map[string]any{"subnet": c.renderSubnet(s)})
	return nil
}

// lastAddr is the last address of a prefix (the broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 1 << (7 - j)
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// defaultPools is the range of hosts of a prefix without the gateway.
func defaultPools(p netip.Prefix, gateway string) []AllocationPool {
	first, last := p.Masked().Addr().Next(), lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev() // not the broadcast address
	}
	gw, err := netip.ParseAddr(gateway)
	if err != nil || gw.Less(first) || last.Less(gw) {
		return []AllocationPool{{Start: first.String(), End: last.String()}}
	}
	var pools []AllocationPool
	if first.Less(gw) {
		pools = append(pools, AllocationPool{Start: first.String(), End: gw.Prev().String()})
	}
	if gw.Less(last) {
		pools = append(pools, AllocationPool{Start: gw.Next().String(), End: last.String()})
	}
	return pools
}

func validatePools(p netip.Prefix, gateway string, pools []AllocationPool) *apiError {
	gw, _ := netip.ParseAddr(gateway)
	for _, pool := range pools {
		s, err1 := netip.ParseAddr(pool.Start)
		e, err2 := netip.ParseAddr(pool.End)
		if err1 != nil || err2 != nil || !p.Contains(s) || !p.Contains(e) || e.Less(s) {
			return badInput("The allocation pool %s-%s spans beyond the subnet cidr %s.", pool.Start, pool.End, p)
		}
		if gw.IsValid() && !gw.Less(s) && !e.Less(gw) {
			return neutronErr(http.StatusConflict, "GatewayConflictWithAllocationPools", "Gateway ip %s conflicts with allocation pool %s-%s.", gateway, pool.Start, pool.End)
		}
	}
	return nil
}

func (c *call) updateSubnet() *apiError {
	s, err := c.subnet(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(s.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:update_subnet) is disallowed by policy")
	}
	var b subnetBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Subnet
	prefix := netip.MustParsePrefix(s.CIDR)
	if in.GatewayIP.Set {
		gw := ""
		if !in.GatewayIP.Null && in.GatewayIP.V != "" {
			a, err := netip.ParseAddr(in.GatewayIP.V)
			if err != nil || !prefix.Contains(a) {
				return badInput("Gateway IP %s is not in subnet %s.", in.GatewayIP.V, s.CIDR)
			}
			gw = a.String()
		}
		for _, p := range c.s().ports.all() {
			for _, ip := range p.FixedIPs {
				if ip.SubnetID == s.ID && ip.IPAddress == s.GatewayIP && p.DeviceOwner == "network:router_interface" && gw != s.GatewayIP {
					return neutronErr(http.StatusConflict, "SubnetInUse", "Unable to complete operation on subnet %s: Gateway ip %s is in use by a router interface.", s.ID, s.GatewayIP)
				}
			}
		}
		s.GatewayIP = gw
	}
	if in.AllocationPools.Set && !in.AllocationPools.Null {
		if err := validatePools(prefix, s.GatewayIP, in.AllocationPools.V); err != nil {
			return err
		}
		s.AllocationPools = in.AllocationPools.V
	}
	if in.Name != nil {
		s.Name = *in.Name
	}
	if in.Description != nil {
		s.Description = *in.Description
	}
	if in.DNSNameservers != nil {
		s.DNSNameservers = *in.DNSNameservers
	}
	if in.HostRoutes != nil {
		s.HostRoutes = *in.HostRoutes
	}
	if in.EnableDHCP != nil {
		s.EnableDHCP = *in.EnableDHCP
	}
	s.Revision++
	s.Updated = c.now
	c.json(http.StatusOK, map[string]any{"subnet": c.renderSubnet(s)})
	return nil
}

func (c *call) deleteSubnet() *apiError {
	s, err := c.subnet(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(s.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:delete_subnet) is disallowed by policy")
	}
	if c.s().seeded[s.ID] {
		return neutronErr(http.StatusConflict, "SubnetInUse", "The OpenStack emulator keeps its external subnet %s.", s.ID)
	}
	for _, p := range c.s().ports.all() {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == s.ID {
				return neutronErr(http.StatusConflict, "SubnetInUse", "Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", s.ID)
			}
		}
	}
	c.s().subnets.del(s.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// IP address management.

// usedIPs are the addresses taken on a subnet: ports' fixed IPs and floating IPs.
func (e *Emulator) usedIPs(sub *Subnet) map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	prefix := netip.MustParsePrefix(sub.CIDR)
	for _, p := range e.st.ports.all() {
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == sub.ID {
				used[netip.MustParseAddr(ip.IPAddress)] = true
			}
		}
	}
	for _, f := range e.st.floatingIP.all() {
		if a, err := netip.ParseAddr(f.FloatingIP); err == nil && f.FloatingNetworkID == sub.NetworkID && prefix.Contains(a) {
			used[a] = true
		}
	}
	return used
}

// allocateIP takes want (when set) or the first free address of the subnet's
// pools. allowGateway lets a router interface take the gateway address.
func (e *Emulator) allocateIP(sub *Subnet, want string, allowGateway bool) (string, *apiError) {
	used := e.usedIPs(sub)
	if want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !netip.MustParsePrefix(sub.CIDR).Contains(a) {
			return "", badInput("IP address %s is not a valid IP for the specified subnet.", want)
		}
		if used[a] || (a.String() == sub.GatewayIP && !allowGateway) {
			return "", neutronErr(http.StatusConflict, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", want, sub.ID)
		}
		return a.String(), nil
	}
	for _, pool := range sub.AllocationPools {
		start, err1 := netip.ParseAddr(pool.Start)
		end, err2 := netip.ParseAddr(pool.End)
		if err1 != nil || err2 != nil {
			continue
		}
		for a := start; a.IsValid() && !end.Less(a); a = a.Next() {
			if !used[a] && a.String() != sub.GatewayIP {
				return a.String(), nil
			}
		}
	}
	return "", neutronErr(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", sub.NetworkID)
}

// subnetFor finds the subnet of a network that contains ip.
func (e *Emulator) subnetFor(networkID, ip string) *Subnet {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	for _, s := range e.st.subnets.all() {
		if s.NetworkID == networkID && netip.MustParsePrefix(s.CIDR).Contains(a) {
			return s
		}
	}
	return nil
}

type fixedIPRequest struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// allocateFixedIPs turns a port's fixed_ips request into addresses; no request
// means one address from the network's first subnet of each IP version.
func (e *Emulator) allocateFixedIPs(n *Network, req []fixedIPRequest) ([]FixedIP, *apiError) {
	var out []FixedIP
	if req == nil {
		seen := map[int]bool{}
		for _, s := range e.st.subnets.all() {
			if s.NetworkID != n.ID || seen[s.IPVersion] {
				continue
			}
			seen[s.IPVersion] = true
			ip, err := e.allocateIP(s, "", false)
			if err != nil {
				return nil, err
			}
			out = append(out, FixedIP{SubnetID: s.ID, IPAddress: ip})
		}
		return out, nil
	}
	for _, r := range req {
		var s *Subnet
		switch {
		case r.SubnetID != "":
			s = e.st.subnets.get(r.SubnetID)
			if s == nil || s.NetworkID != n.ID {
				return nil, badInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s.", n.ID, r.SubnetID)
			}
		case r.IPAddress != "":
			s = e.subnetFor(n.ID, r.IPAddress)
			if s == nil {
				return nil, badInput("IP address %s is not a valid IP for any subnet on network %s.", r.IPAddress, n.ID)
			}
		default:
			return nil, badInput("Invalid fixed_ips entry: subnet_id or ip_address is required.")
		}
		ip, err := e.allocateIP(s, r.IPAddress, false)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(f FixedIP) bool { return f.IPAddress == ip }) {
			return nil, neutronErr(http.StatusConflict, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", ip, s.ID)
		}
		out = append(out, FixedIP{SubnetID: s.ID, IPAddress: ip})
	}
	return out, nil
}

func (e *Emulator) newMAC() string {
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", e.rnd.IntN(256), e.rnd.IntN(256), e.rnd.IntN(256))
}

// newPort creates a port with addresses and security groups on a network,
// checking the port quota of its project.
func (e *Emulator) newPort(projectID string, n *Network, fixed []fixedIPRequest, groups []string, now time.Time) (*Port, *apiError) {
	if projectID != "" {
		if err := e.st.checkNetworkQuota(projectID, "port", 1); err != nil {
			return nil, err
		}
	}
	ips, err := e.allocateFixedIPs(n, fixed)
	if err != nil {
		return nil, err
	}
	p := &Port{ID: uuid.NewString(), NetworkID: n.ID, ProjectID: projectID, MACAddress: e.newMAC(), FixedIPs: ips,
		SecurityGroups: groups, AllowedAddressPairs: []AddressPair{}, AdminStateUp: true, Created: now, Updated: now}
	if p.FixedIPs == nil {
		p.FixedIPs = []FixedIP{}
	}
	if p.SecurityGroups == nil {
		p.SecurityGroups = []string{}
	}
	e.st.ports.put(p.ID, p)
	return p, nil
}

// removePort deletes a port: its floating IPs are disassociated and a server it was attached to forgets it.
func (e *Emulator) removePort(p *Port) {
	if p == nil {
		return
	}
	s := e.st
	for _, f := range s.floatingIP.all() {
		if f.PortID == p.ID {
			f.PortID, f.FixedIP, f.RouterID, f.Updated = "", "", "", e.now()
			f.Revision++
		}
	}
	if sv := s.servers.get(p.DeviceID); sv != nil {
		sv.Ports = slices.DeleteFunc(sv.Ports, func(id string) bool { return id == p.ID })
		sv.OwnedPorts = slices.DeleteFunc(sv.OwnedPorts, func(id string) bool { return id == p.ID })
	}
	s.ports.del(p.ID)
}

func (c *call) portStatus(p *Port) string {
	switch {
	case strings.HasPrefix(p.DeviceOwner, "network:"):
		return "ACTIVE"
	case strings.HasPrefix(p.DeviceOwner, "compute:"):
		if sv := c.s().servers.get(p.DeviceID); sv != nil && sv.Status != "BUILD" && sv.Status != "SHUTOFF" && sv.Status != "ERROR" {
			return "ACTIVE"
		}
	}
	return "DOWN"
}

func (c *call) renderPort(p *Port) map[string]any {
	m := common(map[string]any{"name": p.Name, "network_id": p.NetworkID, "mac_address": p.MACAddress,
		"admin_state_up": p.AdminStateUp, "status": c.portStatus(p), "device_id": p.DeviceID, "device_owner": p.DeviceOwner,
		"fixed_ips": p.FixedIPs, "security_groups": nonNilStrings(p.SecurityGroups), "allowed_address_pairs": p.AllowedAddressPairs,
		"extra_dhcp_opts": []any{}, "port_security_enabled": true, "binding:vnic_type": "normal", "propagate_uplink_status": false,
		"dns_name": "", "dns_assignment": []any{}},
		p.ID, p.ProjectID, p.Description, p.Revision, p.Created, p.Updated)
	if c.isAdmin() {
		host := ""
		if p.DeviceOwner != "" {
			host = "emulator-compute-1"
		}
		m["binding:host_id"], m["binding:vif_type"], m["binding:profile"], m["binding:vif_details"] = host, "ovs", map[string]any{}, map[string]any{}
	}
	return m
}

func (c *call) port(id string) (*Port, *apiError) {
	p := c.s().ports.get(id)
	if p == nil || !c.owns(p.ProjectID) {
		return nil, neutronErr(http.StatusNotFound, "PortNotFound", "Port %s could not be found.", id)
	}
	return p, nil
}

func (c *call) listPorts() *apiError {
	q := c.query()
	var wantIPs, wantSubnets []string
	for _, f := range q["fixed_ips"] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "ip_address":
			wantIPs = append(wantIPs, v)
		case "subnet_id":
			wantSubnets = append(wantSubnets, v)
		}
	}
	var items []map[string]any
	for _, p := range c.s().ports.all() {
		if !c.owns(p.ProjectID) {
			continue
		}
		if len(wantIPs) > 0 && !slices.ContainsFunc(p.FixedIPs, func(f FixedIP) bool { return slices.Contains(wantIPs, f.IPAddress) }) {
			continue
		}
		if len(wantSubnets) > 0 && !slices.ContainsFunc(p.FixedIPs, func(f FixedIP) bool { return slices.Contains(wantSubnets, f.SubnetID) }) {
			continue
		}
		items = append(items, c.renderPort(p))
	}
	return c.listResponse("ports", items, "fixed_ips")
}

func (c *call) getPort() *apiError {
	p, err := c.port(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"port": c.renderPort(p)})
	return nil
}

type portBody struct {
	Port struct {
		NetworkID           string                     `json:"network_id"`
		Name                *string                    `json:"name"`
		Description         *string                    `json:"description"`
		AdminStateUp        *bool                      `json:"admin_state_up"`
		MACAddress          string                     `json:"mac_address"`
		FixedIPs            nullable[[]fixedIPRequest] `json:"fixed_ips"`
		DeviceID            *string                    `json:"device_id"`
		DeviceOwner         *string                    `json:"device_owner"`
		SecurityGroups      nullable[[]string]         `json:"security_groups"`
		AllowedAddressPairs *[]AddressPair             `json:"allowed_address_pairs"`
		ProjectID           string                     `json:"project_id"`
		TenantID            string                     `json:"tenant_id"`
	} `json:"port"`
}

// securityGroupIDs checks that every group exists in the project.
func (c *call) securityGroupIDs(projectID string, ids []string) ([]string, *apiError) {
	out := []string{}
	for _, id := range ids {
		sg := c.s().secGroups.get(id)
		if sg == nil || sg.ProjectID != projectID {
			return nil, neutronErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (c *call) createPort() *apiError {
	var b portBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Port
	n, err := c.network(in.NetworkID)
	if err != nil {
		return err
	}
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	if !c.owns(n.ProjectID) && !n.Shared && !c.sharedWithCaller(n.ID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:create_port:fixed_ips) is disallowed by policy")
	}
	deviceOwner := ""
	if in.DeviceOwner != nil {
		deviceOwner = *in.DeviceOwner
	}
	var groups []string
	switch {
	case in.SecurityGroups.Set && !in.SecurityGroups.Null:
		if groups, err = c.securityGroupIDs(owner, in.SecurityGroups.V); err != nil {
			return err
		}
	case strings.HasPrefix(deviceOwner, "network:"):
	default:
		groups = []string{c.e.ensureDefaultSecurityGroup(owner).ID}
	}
	var fixed []fixedIPRequest
	if in.FixedIPs.Set && !in.FixedIPs.Null {
		fixed = in.FixedIPs.V
		if fixed == nil {
			fixed = []fixedIPRequest{}
		}
	}
	if in.MACAddress != "" {
		for _, p := range c.s().ports.all() {
			if p.NetworkID == n.ID && strings.EqualFold(p.MACAddress, in.MACAddress) {
				return neutronErr(http.StatusConflict, "MacAddressInUse", "Unable to complete operation for network %s. The mac address %s is in use.", n.ID, in.MACAddress)
			}
		}
	}
	p, err := c.e.newPort(owner, n, fixed, groups, c.now)
	if err != nil {
		return err
	}
	if in.MACAddress != "" {
		p.MACAddress = strings.ToLower(in.MACAddress)
	}
	applyPort(p, &b)
	c.json(http.StatusCreated, map[string]any{"port": c.renderPort(p)})
	return nil
}

func applyPort(p *Port, b *portBody) {
	in := b.Port
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.AdminStateUp != nil {
		p.AdminStateUp = *in.AdminStateUp
	}
	if in.DeviceID != nil {
		p.DeviceID = *in.DeviceID
	}
	if in.DeviceOwner != nil {
		p.DeviceOwner = *in.DeviceOwner
	}
	if in.AllowedAddressPairs != nil {
		p.AllowedAddressPairs = *in.AllowedAddressPairs
	}
}

func (c *call) updatePort() *apiError {
	p, err := c.port(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b portBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Port
	if in.SecurityGroups.Set {
		groups := []string{}
		if !in.SecurityGroups.Null {
			if groups, err = c.securityGroupIDs(p.ProjectID, in.SecurityGroups.V); err != nil {
				return err
			}
		}
		p.SecurityGroups = groups
	}
	if in.FixedIPs.Set {
		old := p.FixedIPs
		p.FixedIPs = nil // free the old addresses, so the port may ask for them again
		req := in.FixedIPs.V
		if req == nil {
			req = []fixedIPRequest{}
		}
		ips, err := c.e.allocateFixedIPs(c.s().networks.get(p.NetworkID), req)
		if err != nil {
			p.FixedIPs = old
			return err
		}
		p.FixedIPs = ips
	}
	applyPort(p, &b)
	p.Revision++
	p.Updated = c.now
	c.json(http.StatusOK, map[string]any{"port": c.renderPort(p)})
	return nil
}

func (c *call) deletePort() *apiError {
	p, err := c.port(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.DeviceOwner == "network:router_interface" || p.DeviceOwner == "network:router_gateway" {
		return neutronErr(http.StatusConflict, "L3PortInUse", "Port %s cannot be deleted directly via the port API: has device owner %s.", p.ID, p.DeviceOwner)
	}
	c.e.removePort(p)
	c.noContent(http.StatusNoContent)
	return nil
}

// Quotas.

func (c *call) networkQuotaProject(write bool) (string, *apiError) {
	id := c.r.PathValue("project")
	if write || id != c.projectID() {
		if !c.isAdmin() {
			return "", neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:get_quota) is disallowed by policy")
		}
	}
	return id, nil
}

func (c *call) renderNetworkQuotas(id string, detail, defaults bool) map[string]any {
	limits := c.s().quotaLimits(id, "network")
	if defaults {
		limits = defaultNetworkQuotas
	}
	usage := c.s().networkUsage(id)
	out := map[string]any{}
	for k, v := range limits {
		if detail {
			out[k] = map[string]any{"limit": v, "used": usage[k], "reserved": 0}
		} else {
			out[k] = v
		}
	}
	return out
}

func (c *call) getNetworkQuotas(detail, defaults bool) *apiError {
	id, err := c.networkQuotaProject(false)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"quota": c.renderNetworkQuotas(id, detail, defaults)})
	return nil
}

func (c *call) listNetworkQuotas() *apiError {
	if !c.isAdmin() {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:get_quota) is disallowed by policy")
	}
	items := []map[string]any{}
	for id, q := range c.s().quotas {
		if len(q.Network) == 0 {
			continue
		}
		m := c.renderNetworkQuotas(id, false, false)
		m["project_id"], m["tenant_id"] = id, id
		items = append(items, m)
	}
	slices.SortFunc(items, func(a, b map[string]any) int {
		return strings.Compare(a["project_id"].(string), b["project_id"].(string))
	})
	c.json(http.StatusOK, map[string]any{"quotas": items})
	return nil
}

func (c *call) updateNetworkQuotas() *apiError {
	id, err := c.networkQuotaProject(true)
	if err != nil {
		return err
	}
	var b struct {
		Quota      map[string]any `json:"quota"`
		CheckLimit bool           `json:"check_limit"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	check := b.CheckLimit
	if v, ok := b.Quota["check_limit"].(bool); ok {
		check = v
		delete(b.Quota, "check_limit")
	}
	in, err := intMap(b.Quota)
	if err != nil {
		return neutronErr(http.StatusBadRequest, "InvalidInput", "%s", err.msg)
	}
	if check {
		usage := c.s().networkUsage(id)
		for k, v := range in {
			if v >= 0 && usage[k] > v {
				return badInput("Quota limit %d for %s must be greater than or equal to already used %d.", v, k, usage[k])
			}
		}
	}
	if err := c.s().setQuotas(id, "network", in); err != nil {
		return neutronErr(http.StatusBadRequest, "InvalidInput", "%s", err.msg)
	}
	c.json(http.StatusOK, map[string]any{"quota": c.renderNetworkQuotas(id, false, false)})
	return nil
}

func (c *call) deleteNetworkQuotas() *apiError {
	id, err := c.networkQuotaProject(true)
	if err != nil {
		return err
	}
	c.s().resetQuotas(id, "network")
	c.noContent(http.StatusNoContent)
	return nil
}
