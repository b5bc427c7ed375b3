package openstacktest

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Routers.

func (c *call) renderRouter(r *Router) map[string]any {
	var gw any
	if r.Gateway != nil {
		ips := r.Gateway.ExternalFixedIPs
		if ips == nil {
			ips = []FixedIP{}
		}
		gw = map[string]any{"network_id": r.Gateway.NetworkID, "enable_snat": r.Gateway.EnableSNAT, "external_fixed_ips": ips}
	}
	return common(map[string]any{"name": r.Name, "status": "ACTIVE", "admin_state_up": r.AdminStateUp,
		"external_gateway_info": gw, "routes": nonNilRoutes(r.Routes), "distributed": false, "ha": false,
		"availability_zone_hints": []string{}, "availability_zones": []string{"nova"}, "flavor_id": nil},
		r.ID, r.ProjectID, r.Description, r.Revision, r.Created, r.Updated)
}

func (c *call) router(id string) (*Router, *apiError) {
	r := c.s().routers.get(id)
	if r == nil || !c.owns(r.ProjectID) {
		return nil, neutronErr(http.StatusNotFound, "RouterNotFound", "Router %s could not be found", id)
	}
	return r, nil
}

func (c *call) listRouters() *apiError {
	var items []map[string]any
	for _, r := range c.s().routers.all() {
		if c.owns(r.ProjectID) {
			items = append(items, c.renderRouter(r))
		}
	}
	return c.listResponse("routers", items)
}

func (c *call) getRouter() *apiError {
	r, err := c.router(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"router": c.renderRouter(r)})
	return nil
}

type gatewayRequest struct {
	NetworkID        string           `json:"network_id"`
	EnableSNAT       *bool            `json:"enable_snat"`
	ExternalFixedIPs []fixedIPRequest `json:"external_fixed_ips"`
}

type routerBody struct {
	Router struct {
		Name         *string                  `json:"name"`
		Description  *string                  `json:"description"`
		AdminStateUp *bool                    `json:"admin_state_up"`
		Gateway      nullable[gatewayRequest] `json:"external_gateway_info"`
		Routes       *[]HostRoute             `json:"routes"`
		ProjectID    string                   `json:"project_id"`
		TenantID     string                   `json:"tenant_id"`
	} `json:"router"`
}

func (c *call) createRouter() *apiError {
	var b routerBody
	if err := c.decode(&b); err != nil {
		return err
	}
	owner, err := c.owner(b.Router.ProjectID, b.Router.TenantID)
	if err != nil {
		return err
	}
	if err := c.checkNetworkQuota(owner, "router", 1); err != nil {
		return err
	}
	r := &Router{ID: uuid.NewString(), ProjectID: owner, AdminStateUp: true, Routes: []HostRoute{}, Created: c.now, Updated: c.now}
	if g := b.Router.Gateway; g.Set && !g.Null && g.V.NetworkID != "" {
		if err := c.setGateway(r, g.V); err != nil {
			return err
		}
	}
	if b.Router.Routes != nil && len(*b.Router.Routes) > 0 {
		return badInput("Routes can be set on an existing router only.")
	}
	applyRouter(r, &b)
	c.s().routers.put(r.ID, r)
	c.json(http.StatusCreated, map[string]any{"router": c.renderRouter(r)})
	return nil
}

func applyRouter(r *Router, b *routerBody) {
	if b.Router.Name != nil {
		r.Name = *b.Router.Name
	}
	if b.Router.Description != nil {
		r.Description = *b.Router.Description
	}
	if b.Router.AdminStateUp != nil {
		r.AdminStateUp = *b.Router.AdminStateUp
	}
}

// setGateway plugs a router into an external network: a gateway port with an
// address on the external subnet (the port belongs to no project, as in Neutron).
func (c *call) setGateway(r *Router, g gatewayRequest) *apiError {
	n := c.s().networks.get(g.NetworkID)
	if n == nil {
		return neutronErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", g.NetworkID)
	}
	if !n.External {
		return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Network %s is not an external network.", n.ID)
	}
	snat := true
	if g.EnableSNAT != nil {
		snat = *g.EnableSNAT
	}
	if r.Gateway != nil && r.Gateway.NetworkID == n.ID && g.ExternalFixedIPs == nil {
		r.Gateway.EnableSNAT = snat
		return nil
	}
	if err := c.clearGateway(r); err != nil {
		return err
	}
	p, err := c.e.newPort("", n, g.ExternalFixedIPs, nil, c.now)
	if err != nil {
		return err
	}
	p.DeviceID, p.DeviceOwner = r.ID, "network:router_gateway"
	r.Gateway = &GatewayInfo{NetworkID: n.ID, EnableSNAT: snat, ExternalFixedIPs: slices.Clone(p.FixedIPs), PortID: p.ID}
	return nil
}

// clearGateway unplugs the router from its external network, unless floating IPs need it.
func (c *call) clearGateway(r *Router) *apiError {
	if r.Gateway == nil {
		return nil
	}
	for _, f := range c.s().floatingIP.all() {
		if f.RouterID == r.ID {
			return neutronErr(http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp",
				"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", r.ID, r.Gateway.NetworkID)
		}
	}
	c.s().ports.del(r.Gateway.PortID)
	r.Gateway = nil
	return nil
}

func (c *call) updateRouter() *apiError {
	r, err := c.router(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b routerBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if g := b.Router.Gateway; g.Set {
		if g.Null || g.V.NetworkID == "" {
			if err := c.clearGateway(r); err != nil {
				return err
			}
		} else if err := c.setGateway(r, g.V); err != nil {
			return err
		}
	}
	if b.Router.Routes != nil {
		for _, rt := range *b.Router.Routes {
			if _, err := netip.ParsePrefix(rt.Destination); err != nil {
				return badInput("Invalid format for routes: %s is not a valid CIDR.", rt.Destination)
			}
			if !c.routerReaches(r, rt.NextHop) {
				return badInput("Invalid format for routes: the nexthop %s is not connected with router %s.", rt.NextHop, r.ID)
			}
		}
		r.Routes = *b.Router.Routes
	}
	applyRouter(r, &b)
	r.Revision++
	r.Updated = c.now
	c.json(http.StatusOK, map[string]any{"router": c.renderRouter(r)})
	return nil
}

// routerReaches tells whether an address is on a subnet the router has an interface on.
func (c *call) routerReaches(r *Router, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, sub := range c.routerSubnets(r) {
		if netip.MustParsePrefix(sub.CIDR).Contains(a) {
			return true
		}
	}
	return false
}

// routerInterfaces are the router's interface ports.
func (c *call) routerInterfaces(r *Router) []*Port {
	var out []*Port
	for _, p := range c.s().ports.all() {
		if p.DeviceID == r.ID && p.DeviceOwner == "network:router_interface" {
			out = append(out, p)
		}
	}
	return out
}

func (c *call) routerSubnets(r *Router) []*Subnet {
	var out []*Subnet
	for _, p := range c.routerInterfaces(r) {
		for _, ip := range p.FixedIPs {
			if s := c.s().subnets.get(ip.SubnetID); s != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

func (c *call) deleteRouter() *apiError {
	r, err := c.router(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(c.routerInterfaces(r)) > 0 {
		return neutronErr(http.StatusConflict, "RouterInUse", "Router %s still has ports", r.ID)
	}
	if err := c.clearGateway(r); err != nil {
		return err
	}
	c.s().routers.del(r.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

type interfaceBody struct {
	SubnetID string `json:"subnet_id"`
	PortID   string `json:"port_id"`
}

func (c *call) interfaceInfo(r *Router, p *Port) map[string]any {
	var subnets []string
	for _, ip := range p.FixedIPs {
		subnets = append(subnets, ip.SubnetID)
	}
	first := ""
	if len(subnets) > 0 {
		first = subnets[0]
	}
	return map[string]any{"id": r.ID, "subnet_id": first, "subnet_ids": nonNilStrings(subnets), "port_id": p.ID,
		"network_id": p.NetworkID, "tenant_id": r.ProjectID, "project_id": r.ProjectID}
}

func (c *call) addRouterInterface() *apiError {
	r, err := c.router(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b interfaceBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if (b.SubnetID == "") == (b.PortID == "") {
		return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.")
	}
	attached := c.routerSubnets(r)
	overlaps := func(sub *Subnet) *apiError {
		p := netip.MustParsePrefix(sub.CIDR)
		for _, o := range attached {
			if o.ID == sub.ID {
				return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Router already has a port on subnet %s.", sub.ID)
			}
			if netip.MustParsePrefix(o.CIDR).Overlaps(p) {
				return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Cidr %s of subnet %s overlaps with cidr %s of subnet %s.", sub.CIDR, sub.ID, o.CIDR, o.ID)
			}
		}
		return nil
	}
	var port *Port
	if b.SubnetID != "" {
		sub, err := c.subnet(b.SubnetID)
		if err != nil {
			return err
		}
		if sub.GatewayIP == "" {
			return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Subnet %s does not have a gateway IP.", sub.ID)
		}
		if err := overlaps(sub); err != nil {
			return err
		}
		ip, err := c.e.allocateIP(sub, sub.GatewayIP, true)
		if err != nil {
			return err
		}
		port = &Port{ID: uuid.NewString(), NetworkID: sub.NetworkID, ProjectID: r.ProjectID, MACAddress: c.e.newMAC(),
			FixedIPs: []FixedIP{{SubnetID: sub.ID, IPAddress: ip}}, SecurityGroups: []string{}, AllowedAddressPairs: []AddressPair{},
			AdminStateUp: true, Created: c.now, Updated: c.now}
		c.s().ports.put(port.ID, port)
	} else {
		if port, err = c.port(b.PortID); err != nil {
			return err
		}
		if port.DeviceID != "" {
			return neutronErr(http.StatusConflict, "PortInUse", "Unable to complete operation on port %s for network %s. Port already has an attached device %s.", port.ID, port.NetworkID, port.DeviceID)
		}
		if len(port.FixedIPs) == 0 {
			return neutronErr(http.StatusBadRequest, "BadRequest", "Bad router request: Router port must have at least one fixed IP.")
		}
		for _, ip := range port.FixedIPs {
			if err := overlaps(c.s().subnets.get(ip.SubnetID)); err != nil {
				return err
			}
		}
		port.SecurityGroups = []string{}
	}
	port.DeviceID, port.DeviceOwner, port.Updated = r.ID, "network:router_interface", c.now
	r.Revision++
	c.json(http.StatusOK, c.interfaceInfo(r, port))
	return nil
}

func (c *call) removeRouterInterface() *apiError {
	r, err := c.router(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b interfaceBody
	if err := c.decode(&b); err != nil {
		return err
	}
	var port *Port
	for _, p := range c.routerInterfaces(r) {
		if p.ID == b.PortID || (b.PortID == "" && slices.ContainsFunc(p.FixedIPs, func(f FixedIP) bool { return f.SubnetID == b.SubnetID })) {
			port = p
		}
	}
	if port == nil {
		if b.PortID != "" {
			return neutronErr(http.StatusNotFound, "RouterInterfaceNotFound", "Router %s does not have an interface with id %s", r.ID, b.PortID)
		}
		return neutronErr(http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", r.ID, b.SubnetID)
	}
	for _, f := range c.s().floatingIP.all() {
		if f.RouterID != r.ID {
			continue
		}
		fp := c.s().ports.get(f.PortID)
		if fp == nil {
			continue
		}
		for _, ip := range fp.FixedIPs {
			if slices.ContainsFunc(port.FixedIPs, func(x FixedIP) bool { return x.SubnetID == ip.SubnetID }) {
				return neutronErr(http.StatusConflict, "RouterInterfaceInUseByFloatingIP",
					"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", ip.SubnetID, r.ID)
			}
		}
	}
	info := c.interfaceInfo(r, port)
	c.s().ports.del(port.ID)
	r.Revision++
	c.json(http.StatusOK, info)
	return nil
}

// Floating IPs.

func (c *call) renderFloatingIP(f *FloatingIP) map[string]any {
	status := "DOWN"
	if f.PortID != "" {
		status = "ACTIVE"
	}
	return common(map[string]any{"floating_ip_address": f.FloatingIP, "floating_network_id": f.FloatingNetworkID,
		"router_id": orNull(f.RouterID), "port_id": orNull(f.PortID), "fixed_ip_address": orNull(f.FixedIP),
		"status": status, "port_details": nil, "port_forwardings": []any{}, "dns_domain": "", "dns_name": ""},
		f.ID, f.ProjectID, f.Description, f.Revision, f.Created, f.Updated)
}

func (c *call) floatingIP(id string) (*FloatingIP, *apiError) {
	f := c.s().floatingIP.get(id)
	if f == nil || !c.owns(f.ProjectID) {
		return nil, neutronErr(http.StatusNotFound, "FloatingIPNotFound", "Floating IP %s could not be found", id)
	}
	return f, nil
}

func (c *call) listFloatingIPs() *apiError {
	var items []map[string]any
	for _, f := range c.s().floatingIP.all() {
		if c.owns(f.ProjectID) {
			items = append(items, c.renderFloatingIP(f))
		}
	}
	return c.listResponse("floatingips", items)
}

func (c *call) getFloatingIP() *apiError {
	f, err := c.floatingIP(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"floatingip": c.renderFloatingIP(f)})
	return nil
}

type floatingIPBody struct {
	FloatingIP struct {
		FloatingNetworkID string           `json:"floating_network_id"`
		FloatingIP        string           `json:"floating_ip_address"`
		SubnetID          string           `json:"subnet_id"`
		PortID            nullable[string] `json:"port_id"`
		FixedIP           string           `json:"fixed_ip_address"`
		Description       *string          `json:"description"`
		ProjectID         string           `json:"project_id"`
		TenantID          string           `json:"tenant_id"`
	} `json:"floatingip"`
}

func (c *call) createFloatingIP() *apiError {
	var b floatingIPBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.FloatingIP
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	n := c.s().networks.get(in.FloatingNetworkID)
	if n == nil {
		return neutronErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", in.FloatingNetworkID)
	}
	if !n.External {
		return neutronErr(http.StatusBadRequest, "BadRequest", "Bad floatingip request: Network %s is not a valid external network.", n.ID)
	}
	if err := c.checkNetworkQuota(owner, "floatingip", 1); err != nil {
		return err
	}
	var addr string
	var lastErr *apiError
	for _, sub := range c.s().subnets.all() {
		if sub.NetworkID != n.ID || (in.SubnetID != "" && sub.ID != in.SubnetID) {
			continue
		}
		if in.FloatingIP != "" && c.e.subnetFor(n.ID, in.FloatingIP) != sub {
			continue
		}
		if addr, lastErr = c.e.allocateIP(sub, in.FloatingIP, false); lastErr == nil {
			break
		}
	}
	if addr == "" {
		if lastErr != nil {
			return lastErr
		}
		return neutronErr(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", n.ID)
	}
	f := &FloatingIP{ID: uuid.NewString(), ProjectID: owner, FloatingNetworkID: n.ID, FloatingIP: addr, Created: c.now, Updated: c.now}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.PortID.Set && !in.PortID.Null && in.PortID.V != "" {
		if err := c.associate(f, in.PortID.V, in.FixedIP); err != nil {
			return err
		}
	}
	c.s().floatingIP.put(f.ID, f)
	c.json(http.StatusCreated, map[string]any{"floatingip": c.renderFloatingIP(f)})
	return nil
}

// associate points a floating IP at a port's fixed address; a router must
// connect the address's subnet to the floating IP's external network.
func (c *call) associate(f *FloatingIP, portID, fixedIP string) *apiError {
	p := c.s().ports.get(portID)
	if p == nil || (p.ProjectID != f.ProjectID && !c.isAdmin()) {
		return neutronErr(http.StatusNotFound, "PortNotFound", "Port %s could not be found.", portID)
	}
	var ip *FixedIP
	for i, x := range p.FixedIPs {
		if (fixedIP == "" && !strings.Contains(x.IPAddress, ":")) || x.IPAddress == fixedIP {
			ip = &p.FixedIPs[i]
			break
		}
	}
	if ip == nil {
		if fixedIP != "" {
			return neutronErr(http.StatusBadRequest, "BadRequest", "Bad floatingip request: Port %s does not have fixed ip %s.", p.ID, fixedIP)
		}
		return neutronErr(http.StatusBadRequest, "BadRequest", "Bad floatingip request: Port %s does not have any IPv4 address.", p.ID)
	}
	for _, o := range c.s().floatingIP.all() {
		if o.ID != f.ID && o.PortID == p.ID && o.FixedIP == ip.IPAddress {
			return neutronErr(http.StatusConflict, "FloatingIPPortAlreadyAssociated",
				"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
				f.FloatingIP, f.ID, p.ID, ip.IPAddress, o.FloatingNetworkID)
		}
	}
	routerID := ""
	for _, r := range c.s().routers.all() {
		if r.Gateway == nil || r.Gateway.NetworkID != f.FloatingNetworkID {
			continue
		}
		if slices.ContainsFunc(c.routerSubnets(r), func(s *Subnet) bool { return s.ID == ip.SubnetID }) {
			routerID = r.ID
			break
		}
	}
	if routerID == "" {
		return neutronErr(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", f.FloatingNetworkID, ip.SubnetID, p.ID)
	}
	f.PortID, f.FixedIP, f.RouterID = p.ID, ip.IPAddress, routerID
	return nil
}

func (c *call) updateFloatingIP() *apiError {
	f, err := c.floatingIP(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b floatingIPBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.FloatingIP
	if in.PortID.Set {
		if in.PortID.Null || in.PortID.V == "" {
			f.PortID, f.FixedIP, f.RouterID = "", "", ""
		} else if err := c.associate(f, in.PortID.V, in.FixedIP); err != nil {
			return err
		}
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	f.Revision++
	f.Updated = c.now
	c.json(http.StatusOK, map[string]any{"floatingip": c.renderFloatingIP(f)})
	return nil
}

func (c *call) deleteFloatingIP() *apiError {
	f, err := c.floatingIP(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.s().floatingIP.del(f.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// Security groups.

// ensureDefaultSecurityGroup returns the project's "default" group, creating
// it with Neutron's four default rules the first time.
func (e *Emulator) ensureDefaultSecurityGroup(projectID string) *SecurityGroup {
	s := e.st
	for _, g := range s.secGroups.all() {
		if g.ProjectID == projectID && g.Name == "default" {
			return g
		}
	}
	now := e.now()
	g := &SecurityGroup{ID: uuid.NewString(), Name: "default", Description: "Default security group", ProjectID: projectID,
		Stateful: true, Created: now, Updated: now}
	s.secGroups.put(g.ID, g)
	for _, r := range []SecurityGroupRule{
		{Direction: "egress", EtherType: "IPv4"}, {Direction: "egress", EtherType: "IPv6"},
		{Direction: "ingress", EtherType: "IPv4", RemoteGroupID: g.ID}, {Direction: "ingress", EtherType: "IPv6", RemoteGroupID: g.ID},
	} {
		r.ID, r.SecurityGroupID, r.ProjectID, r.Created = uuid.NewString(), g.ID, projectID, now
		s.secRules.put(r.ID, &r)
	}
	return g
}

// findSecurityGroup finds a project's group by id or name.
func (c *call) findSecurityGroup(projectID, ref string) *SecurityGroup {
	if g := c.s().secGroups.get(ref); g != nil && g.ProjectID == projectID {
		return g
	}
	if ref == "default" {
		return c.e.ensureDefaultSecurityGroup(projectID)
	}
	for _, g := range c.s().secGroups.all() {
		if g.ProjectID == projectID && g.Name == ref {
			return g
		}
	}
	return nil
}

func (c *call) renderSecurityGroup(g *SecurityGroup) map[string]any {
	rules := []map[string]any{}
	for _, r := range c.s().secRules.all() {
		if r.SecurityGroupID == g.ID {
			rules = append(rules, c.renderRule(r))
		}
	}
	return common(map[string]any{"name": g.Name, "stateful": g.Stateful, "security_group_rules": rules, "shared": false},
		g.ID, g.ProjectID, g.Description, g.Revision, g.Created, g.Updated)
}

func (c *call) securityGroup(id string) (*SecurityGroup, *apiError) {
	g := c.s().secGroups.get(id)
	if g == nil || !c.owns(g.ProjectID) {
		return nil, neutronErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
	}
	return g, nil
}

// listSecurityGroups makes sure the project listed has its default group,
// as Neutron does: the caller's project, or the project an admin filters on.
func (c *call) listSecurityGroups() *apiError {
	q := c.query()
	filter := q.Get("project_id")
	if filter == "" {
		filter = q.Get("tenant_id")
	}
	switch {
	case !c.isAdmin():
		c.e.ensureDefaultSecurityGroup(c.projectID())
	case filter != "" && c.s().projects.get(filter) != nil:
		c.e.ensureDefaultSecurityGroup(filter)
	}
	var items []map[string]any
	for _, g := range c.s().secGroups.all() {
		if c.owns(g.ProjectID) {
			items = append(items, c.renderSecurityGroup(g))
		}
	}
	return c.listResponse("security_groups", items)
}

func (c *call) getSecurityGroup() *apiError {
	g, err := c.securityGroup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"security_group": c.renderSecurityGroup(g)})
	return nil
}

type securityGroupBody struct {
	SecurityGroup struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Stateful    *bool   `json:"stateful"`
		ProjectID   string  `json:"project_id"`
		TenantID    string  `json:"tenant_id"`
	} `json:"security_group"`
}

func (c *call) createSecurityGroup() *apiError {
	var b securityGroupBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.SecurityGroup
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	if in.Name == nil {
		return badInput("security_group name is required.")
	}
	c.e.ensureDefaultSecurityGroup(owner)
	if *in.Name == "default" {
		return neutronErr(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	if err := c.checkNetworkQuota(owner, "security_group", 1); err != nil {
		return err
	}
	g := &SecurityGroup{ID: uuid.NewString(), Name: *in.Name, ProjectID: owner, Stateful: true, Created: c.now, Updated: c.now}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.Stateful != nil {
		g.Stateful = *in.Stateful
	}
	c.s().secGroups.put(g.ID, g)
	for _, et := range []string{"IPv4", "IPv6"} {
		r := &SecurityGroupRule{ID: uuid.NewString(), SecurityGroupID: g.ID, ProjectID: owner, Direction: "egress", EtherType: et, Created: c.now}
		c.s().secRules.put(r.ID, r)
	}
	c.json(http.StatusCreated, map[string]any{"security_group": c.renderSecurityGroup(g)})
	return nil
}

func (c *call) updateSecurityGroup() *apiError {
	g, err := c.securityGroup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b securityGroupBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.SecurityGroup
	if in.Name != nil && *in.Name != g.Name {
		if g.Name == "default" || *in.Name == "default" {
			return neutronErr(http.StatusConflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
		}
		g.Name = *in.Name
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.Stateful != nil {
		g.Stateful = *in.Stateful
	}
	g.Revision++
	g.Updated = c.now
	c.json(http.StatusOK, map[string]any{"security_group": c.renderSecurityGroup(g)})
	return nil
}

// deleteSecurityGroup refuses while ports use the group; its rules and rules
// of other groups that point at it go with it.
func (c *call) deleteSecurityGroup() *apiError {
	g, err := c.securityGroup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if g.Name == "default" && !c.isAdmin() {
		return neutronErr(http.StatusConflict, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
	}
	for _, p := range c.s().ports.all() {
		if slices.Contains(p.SecurityGroups, g.ID) {
			return neutronErr(http.StatusConflict, "SecurityGroupInUse", "Security Group %s in use.", g.ID)
		}
	}
	for _, r := range c.s().secRules.all() {
		if r.SecurityGroupID == g.ID || r.RemoteGroupID == g.ID {
			c.s().secRules.del(r.ID)
		}
	}
	c.s().secGroups.del(g.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// Security group rules.

func (c *call) renderRule(r *SecurityGroupRule) map[string]any {
	intOrNull := func(n int, set bool) any {
		if !set {
			return nil
		}
		return n
	}
	ranged := r.PortRangeMin != 0 || r.PortRangeMax != 0
	return common(map[string]any{"security_group_id": r.SecurityGroupID, "direction": r.Direction, "ethertype": r.EtherType,
		"protocol": orNull(r.Protocol), "port_range_min": intOrNull(r.PortRangeMin, ranged), "port_range_max": intOrNull(r.PortRangeMax, ranged),
		"remote_ip_prefix": orNull(r.RemoteIPPrefix), "remote_group_id": orNull(r.RemoteGroupID), "remote_address_group_id": nil,
		"normalized_cidr": orNull(r.RemoteIPPrefix), "belongs_to_default_sg": false},
		r.ID, r.ProjectID, r.Description, 0, r.Created, r.Created)
}

func (c *call) listSecurityGroupRules() *apiError {
	var items []map[string]any
	for _, r := range c.s().secRules.all() {
		if c.owns(r.ProjectID) {
			items = append(items, c.renderRule(r))
		}
	}
	return c.listResponse("security_group_rules", items)
}

func (c *call) getSecurityGroupRule() *apiError {
	r := c.s().secRules.get(c.r.PathValue("id"))
	if r == nil || !c.owns(r.ProjectID) {
		return neutronErr(http.StatusNotFound, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", c.r.PathValue("id"))
	}
	c.json(http.StatusOK, map[string]any{"security_group_rule": c.renderRule(r)})
	return nil
}

type ruleRequest struct {
	SecurityGroupID string           `json:"security_group_id"`
	Direction       string           `json:"direction"`
	EtherType       string           `json:"ethertype"`
	Protocol        nullable[any]    `json:"protocol"`
	PortRangeMin    nullable[int]    `json:"port_range_min"`
	PortRangeMax    nullable[int]    `json:"port_range_max"`
	RemoteIPPrefix  nullable[string] `json:"remote_ip_prefix"`
	RemoteGroupID   nullable[string] `json:"remote_group_id"`
	Description     string           `json:"description"`
	ProjectID       string           `json:"project_id"`
	TenantID        string           `json:"tenant_id"`
}

// createSecurityGroupRules serves one rule ("security_group_rule") or a bulk
// ("security_group_rules"); a bulk is all or nothing.
func (c *call) createSecurityGroupRules() *apiError {
	var b struct {
		Rule  *ruleRequest  `json:"security_group_rule"`
		Rules []ruleRequest `json:"security_group_rules"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	reqs := b.Rules
	if b.Rule != nil {
		reqs = []ruleRequest{*b.Rule}
	}
	if len(reqs) == 0 {
		return badInput("security_group_rule is required.")
	}
	var made []*SecurityGroupRule
	for _, in := range reqs {
		r, err := c.newRule(in, made)
		if err != nil {
			return err
		}
		made = append(made, r)
	}
	perProject := map[string]int{}
	for _, r := range made {
		perProject[r.ProjectID]++
	}
	for p, n := range perProject {
		if err := c.checkNetworkQuota(p, "security_group_rule", n); err != nil {
			return err
		}
	}
	var out []map[string]any
	for _, r := range made {
		c.s().secRules.put(r.ID, r)
		if g := c.s().secGroups.get(r.SecurityGroupID); g != nil {
			g.Revision++
			g.Updated = c.now
		}
		out = append(out, c.renderRule(r))
	}
	if b.Rule != nil {
		c.json(http.StatusCreated, map[string]any{"security_group_rule": out[0]})
	} else {
		c.json(http.StatusCreated, map[string]any{"security_group_rules": out})
	}
	return nil
}

// newRule validates a rule request as Neutron does (without storing it).
func (c *call) newRule(in ruleRequest, pending []*SecurityGroupRule) (*SecurityGroupRule, *apiError) {
	g, err := c.securityGroup(in.SecurityGroupID)
	if err != nil {
		return nil, err
	}
	if _, err := c.owner(in.ProjectID, in.TenantID); err != nil {
		return nil, err
	}
	r := &SecurityGroupRule{ID: uuid.NewString(), SecurityGroupID: g.ID, ProjectID: g.ProjectID, Direction: in.Direction,
		EtherType: in.EtherType, Description: in.Description, Created: c.now}
	if r.Direction != "ingress" && r.Direction != "egress" {
		return nil, badInput("Invalid input for direction. Reason: '%s' is not in ['ingress', 'egress'].", r.Direction)
	}
	if r.EtherType == "" {
		r.EtherType = "IPv4"
	}
	if r.EtherType != "IPv4" && r.EtherType != "IPv6" {
		return nil, neutronErr(http.StatusBadRequest, "SecurityGroupRuleInvalidEtherType", "Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", r.EtherType)
	}
	if in.Protocol.Set && !in.Protocol.Null {
		switch p := in.Protocol.V.(type) {
		case string:
			r.Protocol = strings.ToLower(p)
		case float64:
			r.Protocol = strconv.Itoa(int(p))
		}
	}
	switch r.Protocol {
	case "", "tcp", "udp", "icmp", "ipv6-icmp", "icmpv6", "sctp", "gre", "esp", "ah", "any":
		if r.Protocol == "any" {
			r.Protocol = ""
		}
	default:
		if n, err := strconv.Atoi(r.Protocol); err != nil || n < 0 || n > 255 {
			return nil, neutronErr(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol %s not supported.", r.Protocol)
		}
	}
	if in.PortRangeMin.Set && !in.PortRangeMin.Null {
		r.PortRangeMin = in.PortRangeMin.V
	}
	if in.PortRangeMax.Set && !in.PortRangeMax.Null {
		r.PortRangeMax = in.PortRangeMax.V
	}
	if r.PortRangeMin != 0 || r.PortRangeMax != 0 {
		switch r.Protocol {
		case "tcp", "udp", "sctp", "6", "17", "132":
			if r.PortRangeMin < 1 || r.PortRangeMax > 65535 || r.PortRangeMax < r.PortRangeMin {
				return nil, neutronErr(http.StatusBadRequest, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
			}
		case "icmp", "ipv6-icmp", "icmpv6", "1", "58":
			if r.PortRangeMin > 255 || r.PortRangeMax > 255 {
				return nil, neutronErr(http.StatusBadRequest, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type or code: must be 0-255.")
			}
		case "":
			return nil, neutronErr(http.StatusBadRequest, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
		default:
			return nil, neutronErr(http.StatusBadRequest, "SecurityGroupInvalidPortRange", "Port range is not supported for protocol %s.", r.Protocol)
		}
	}
	if in.RemoteIPPrefix.Set && !in.RemoteIPPrefix.Null && in.RemoteIPPrefix.V != "" {
		p, err := netip.ParsePrefix(in.RemoteIPPrefix.V)
		if err != nil {
			if a, aerr := netip.ParseAddr(in.RemoteIPPrefix.V); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			return nil, badInput("'%s' is not a valid IP prefix.", in.RemoteIPPrefix.V)
		}
		if p.Addr().Is4() != (r.EtherType == "IPv4") {
			return nil, neutronErr(http.StatusBadRequest, "SecurityGroupRuleParameterConflict", "Conflicting value ethertype %s for CIDR %s", r.EtherType, in.RemoteIPPrefix.V)
		}
		r.RemoteIPPrefix = p.Masked().String()
	}
	if in.RemoteGroupID.Set && !in.RemoteGroupID.Null && in.RemoteGroupID.V != "" {
		if r.RemoteIPPrefix != "" {
			return nil, neutronErr(http.StatusBadRequest, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only remote_ip_prefix or remote_group_id may be provided.")
		}
		if rg := c.s().secGroups.get(in.RemoteGroupID.V); rg == nil || rg.ProjectID != g.ProjectID {
			return nil, neutronErr(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", in.RemoteGroupID.V)
		}
		r.RemoteGroupID = in.RemoteGroupID.V
	}
	same := func(o *SecurityGroupRule) bool {
		return o.SecurityGroupID == r.SecurityGroupID && o.Direction == r.Direction && o.EtherType == r.EtherType &&
			o.Protocol == r.Protocol && o.PortRangeMin == r.PortRangeMin && o.PortRangeMax == r.PortRangeMax &&
			o.RemoteIPPrefix == r.RemoteIPPrefix && o.RemoteGroupID == r.RemoteGroupID
	}
	for _, o := range append(c.s().secRules.all(), pending...) {
		if same(o) {
			return nil, neutronErr(http.StatusConflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", o.ID)
		}
	}
	return r, nil
}

func (c *call) deleteSecurityGroupRule() *apiError {
	r := c.s().secRules.get(c.r.PathValue("id"))
	if r == nil || !c.owns(r.ProjectID) {
		return neutronErr(http.StatusNotFound, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", c.r.PathValue("id"))
	}
	c.s().secRules.del(r.ID)
	if g := c.s().secGroups.get(r.SecurityGroupID); g != nil {
		g.Revision++
		g.Updated = c.now
	}
	c.noContent(http.StatusNoContent)
	return nil
}
