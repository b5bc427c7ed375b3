package openstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	netquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// TenantAttributes are the attributes of an OpenStack.Tenant order
// (Waldur's tenant create form).
type TenantAttributes struct {
	Name                        string         `json:"name"`
	Description                 string         `json:"description"`
	SubnetCIDR                  string         `json:"subnet_cidr"`
	UserUsername                string         `json:"user_username"`
	UserPassword                string         `json:"user_password"`
	SkipConnectionExtnet        bool           `json:"skip_connection_extnet"`
	SkipCreationOfDefaultRouter bool           `json:"skip_creation_of_default_router"`
	AvailabilityZone            string         `json:"availability_zone"`
	SecurityGroups              []GroupSpec    `json:"security_groups"`
	Extra                       map[string]any `json:"-"`
}

// GroupSpec is a security group a tenant starts with.
type GroupSpec struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Rules       []RuleSpec `json:"rules"`
}

// RuleSpec is an ingress rule of a GroupSpec; nil ports mean any.
type RuleSpec struct {
	Protocol string `json:"protocol"` // tcp, udp, icmp or "" (any)
	FromPort *int   `json:"from_port"`
	ToPort   *int   `json:"to_port"`
	CIDR     string `json:"cidr"`
}

func port(n int) *int { return &n }

// DefaultSecurityGroups are the groups a tenant gets when its order names
// none (Waldur's DEFAULT_SECURITY_GROUPS).
var DefaultSecurityGroups = []GroupSpec{
	{Name: "ssh", Description: "Security group for secure shell access", Rules: []RuleSpec{{Protocol: "tcp", FromPort: port(22), ToPort: port(22), CIDR: "0.0.0.0/0"}}},
	{Name: "ping", Description: "Security group for ping", Rules: []RuleSpec{{Protocol: "icmp", CIDR: "0.0.0.0/0"}}},
	{Name: "web", Description: "Security group for web servers", Rules: []RuleSpec{
		{Protocol: "tcp", FromPort: port(80), ToPort: port(80), CIDR: "0.0.0.0/0"},
		{Protocol: "tcp", FromPort: port(443), ToPort: port(443), CIDR: "0.0.0.0/0"}}},
}

// DefaultSubnetCIDR is a tenant's internal subnet unless the order says otherwise.
const DefaultSubnetCIDR = "192.168.42.0/24"

func projectTag(resource models.UUID) string { return "waldur-resource-" + resource.String() }

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(slugRe.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 30 {
		s = strings.TrimRight(s[:30], "-")
	}
	return s
}

func password() string {
	const chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		b[i] = chars[n.Int64()]
	}
	return string(b)
}

func tenantNames(r providers.Request) (TenantAttributes, error) {
	var a TenantAttributes
	if err := convert(r.Attributes, &a); err != nil {
		return a, providers.Permanent(fmt.Errorf("tenant attributes are malformed: %v", err))
	}
	if a.Name == "" {
		a.Name = r.ResourceName
	}
	if a.Name == "" {
		a.Name = "waldur-tenant-" + r.ResourceUUID.String()[:8]
	}
	if a.UserUsername == "" {
		a.UserUsername = slug(a.Name) + "-user"
	}
	if a.SubnetCIDR == "" {
		a.SubnetCIDR = DefaultSubnetCIDR
	}
	if _, err := netip.ParsePrefix(a.SubnetCIDR); err != nil {
		return a, providers.Permanent(fmt.Errorf("subnet_cidr %q is not a CIDR", a.SubnetCIDR))
	}
	if a.SecurityGroups == nil {
		a.SecurityGroups = DefaultSecurityGroups
	}
	return a, nil
}

// createTenant runs the tenant chain: project, the admin's role in it, the
// tenant user, quotas, network, subnet, router to the external network,
// security groups; then it reads the tenant back (flavors, images, volume
// types, networks, ... for the catalog).
func (p *Provider) createTenant(ctx context.Context, r providers.Request) (providers.Result, error) {
	conn, err := ConnectionFrom(r.SecretOptions)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	a, err := tenantNames(r)
	if err != nil {
		return providers.Result{}, err
	}
	adm, err := p.session(ctx, conn, "")
	if err != nil {
		return providers.Result{}, err
	}
	tag := projectTag(r.ResourceUUID)
	var project *projects.Project
	err = p.step(ctx, "creating the project", func() error {
		found, err := projectsNamed(ctx, adm, a.Name)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			if !slices.Contains(found[0].Tags, tag) {
				return providers.Permanent(fmt.Errorf("a project named %q exists in the cloud already", a.Name))
			}
			project = &found[0]
			return nil
		}
		project, err = projects.Create(ctx, adm.identity, projects.CreateOpts{Name: a.Name, DomainID: adm.domainID,
			Description: a.Description, Tags: []string{"waldur", tag}}).Extract()
		return err
	})
	if err != nil {
		return providers.Result{}, err
	}
	info := CloudTenant{BackendID: project.ID, UserUsername: a.UserUsername,
		AvailabilityZone: firstNonEmpty(a.AvailabilityZone, conn.AvailabilityZone)}

	if err := p.assignRole(ctx, adm, adm.userID, project.ID, "admin"); err != nil {
		return providers.Result{}, err
	}
	info.UserPassword = firstNonEmpty(a.UserPassword, password())
	if err := p.ensureTenantUser(ctx, adm, project.ID, a.UserUsername, info.UserPassword); err != nil {
		return providers.Result{}, err
	}
	if err := p.pushQuotas(ctx, adm, project.ID, r.Limits); err != nil {
		return providers.Result{}, err
	}

	ten, err := p.session(ctx, conn, project.ID)
	if err != nil {
		return providers.Result{}, err
	}
	net, sub, err := p.ensureNetwork(ctx, ten, project.ID, a.Name, a.SubnetCIDR, conn.DNSNameservers)
	if err != nil {
		return providers.Result{}, err
	}
	info.InternalNetworkID, info.SubnetID = net.ID, sub.ID
	if conn.ExternalNetworkID != "" && !a.SkipConnectionExtnet && !a.SkipCreationOfDefaultRouter {
		router, err := p.ensureRouter(ctx, ten, project.ID, a.Name+"-router", conn.ExternalNetworkID, net.ID, sub.ID)
		if err != nil {
			return providers.Result{}, err
		}
		info.RouterID, info.ExternalNetworkID = router.ID, conn.ExternalNetworkID
	}
	for _, g := range a.SecurityGroups {
		if err := p.ensureSecurityGroup(ctx, ten, project.ID, g); err != nil {
			return providers.Result{}, err
		}
	}

	snap, err := p.snapshot(ctx, conn, project.ID)
	if err != nil {
		return providers.Result{}, err
	}
	snap.Tenant = &info
	return providers.Result{Done: true, BackendID: project.ID,
		Metadata: map[string]any{"tenant_id": project.ID, "internal_network_id": info.InternalNetworkID, "subnet_id": info.SubnetID,
			"router_id": info.RouterID, "external_network_id": info.ExternalNetworkID, "user_username": info.UserUsername},
		Pulled: providers.MustEncode(snap)}, nil
}

// updateTenant pushes the order's limits as the tenant's quotas.
func (p *Provider) updateTenant(ctx context.Context, r providers.Request) (providers.Result, error) {
	conn, err := ConnectionFrom(r.SecretOptions)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	if r.BackendID == "" {
		return providers.Result{}, providers.Permanent(errors.New("the tenant has no backend id"))
	}
	adm, err := p.session(ctx, conn, "")
	if err != nil {
		return providers.Result{}, err
	}
	if err := p.pushQuotas(ctx, adm, r.BackendID, r.Limits); err != nil {
		return providers.Result{}, err
	}
	snap, err := p.snapshot(ctx, conn, r.BackendID)
	if err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, Pulled: providers.MustEncode(snap)}, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func projectsNamed(ctx context.Context, s *session, name string) ([]projects.Project, error) {
	pages, err := projects.List(s.identity, projects.ListOpts{Name: name, DomainID: s.domainID}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return projects.ExtractProjects(pages)
}

func (p *Provider) roleID(ctx context.Context, s *session, names ...string) (string, error) {
	for _, name := range names {
		pages, err := roles.List(s.identity, roles.ListOpts{Name: name}).AllPages(ctx)
		if err != nil {
			return "", err
		}
		rs, err := roles.ExtractRoles(pages)
		if err != nil {
			return "", err
		}
		if len(rs) > 0 {
			return rs[0].ID, nil
		}
	}
	return "", providers.Permanent(fmt.Errorf("the cloud has no role %s", strings.Join(names, " or ")))
}

// assignRole grants a role on a project (a PUT: repeating it is harmless).
func (p *Provider) assignRole(ctx context.Context, s *session, userID, projectID string, role ...string) error {
	return p.step(ctx, "granting "+role[0]+" on the project", func() error {
		id, err := p.roleID(ctx, s, role...)
		if err != nil {
			return err
		}
		return roles.Assign(ctx, s.identity, id, roles.AssignOpts{UserID: userID, ProjectID: projectID}).ExtractErr()
	})
}

// ensureTenantUser creates the tenant's user (or, found from an earlier
// attempt, sets its password) and makes it a member of the project.
func (p *Provider) ensureTenantUser(ctx context.Context, s *session, projectID, name, pass string) error {
	var userID string
	err := p.step(ctx, "creating the tenant user", func() error {
		pages, err := users.List(s.identity, users.ListOpts{Name: name, DomainID: s.domainID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := users.ExtractUsers(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			if found[0].DefaultProjectID != projectID {
				return providers.Permanent(fmt.Errorf("a user named %q exists in the cloud already", name))
			}
			userID = found[0].ID
			return users.Update(ctx, s.identity, userID, users.UpdateOpts{Password: pass}).Err
		}
		u, err := users.Create(ctx, s.identity, users.CreateOpts{Name: name, DomainID: s.domainID, Password: pass,
			DefaultProjectID: projectID, Description: "Waldur tenant user"}).Extract()
		if err != nil {
			return err
		}
		userID = u.ID
		return nil
	})
	if err != nil {
		return err
	}
	return p.assignRole(ctx, s, userID, projectID, "member", "_member_")
}

// pushQuotas sets Nova cores and ram and Cinder gigabytes from the limits
// cores, ram (MiB) and storage (MiB), and Nova instances, Cinder volumes
// and snapshots and Neutron security groups and rules from the optional
// limits instances, volumes, snapshots, security_group_count and
// security_group_rule_count (a tenant's set_quotas); absent limits are
// left alone.
func (p *Provider) pushQuotas(ctx context.Context, s *session, projectID string, limits map[string]int64) error {
	nova := novaquotas.UpdateOpts{}
	set := false
	if v, ok := limits["cores"]; ok {
		nova.Cores, set = ptr(int(v)), true
	}
	if v, ok := limits["ram"]; ok {
		nova.RAM, set = ptr(int(v)), true
	}
	if v, ok := limits["instances"]; ok { // optional components beyond Waldur's three
		nova.Instances, set = ptr(int(v)), true
	}
	if set {
		if err := p.step(ctx, "setting compute quotas", func() error {
			return novaquotas.Update(ctx, s.compute, projectID, nova).Err
		}); err != nil {
			return err
		}
	}
	cinder := cinderquotas.UpdateOpts{}
	if v, ok := limits["storage"]; ok {
		gb := GiB(v)
		if v < 0 {
			gb = -1
		}
		cinder.Gigabytes = &gb
	}
	if v, ok := limits["volumes"]; ok {
		cinder.Volumes = ptr(int(v))
	}
	if v, ok := limits["snapshots"]; ok {
		cinder.Snapshots = ptr(int(v))
	}
	if cinder.Gigabytes != nil || cinder.Volumes != nil || cinder.Snapshots != nil {
		if err := p.step(ctx, "setting volume quotas", func() error {
			return cinderquotas.Update(ctx, s.volume, projectID, cinder).Err
		}); err != nil {
			return err
		}
	}
	neutron := netquotas.UpdateOpts{}
	if v, ok := limits["security_group_count"]; ok {
		neutron.SecurityGroup = ptr(int(v))
	}
	if v, ok := limits["security_group_rule_count"]; ok {
		neutron.SecurityGroupRule = ptr(int(v))
	}
	if neutron.SecurityGroup == nil && neutron.SecurityGroupRule == nil {
		return nil
	}
	return p.step(ctx, "setting network quotas", func() error {
		return netquotas.Update(ctx, s.network, projectID, neutron).Err
	})
}

func ptr[T any](v T) *T { return &v }

// ensureNetwork makes the tenant's internal network and its subnet.
func (p *Provider) ensureNetwork(ctx context.Context, s *session, projectID, name, cidr string, dns []string) (*networks.Network, *subnets.Subnet, error) {
	net, err := p.ensureNamedNetwork(ctx, s, "creating the internal network", projectID, name+"-int-net", "Internal network of "+name)
	if err != nil {
		return nil, nil, err
	}
	prefix := netip.MustParsePrefix(cidr).Masked()
	gw := prefix.Addr().Next()
	start, end := gw.Next(), lastHost(prefix)
	if prefix.Bits() == 24 { // Waldur's pool
		start, end = nth(prefix.Addr(), 10), nth(prefix.Addr(), 200)
	}
	gwIP := gw.String()
	sub, err := p.ensureSubnet(ctx, s, "creating the internal subnet", subnets.ListOpts{NetworkID: net.ID},
		subnets.CreateOpts{NetworkID: net.ID, Name: name + "-sub-net", CIDR: prefix.String(),
			IPVersion: gophercloud.IPv4, GatewayIP: &gwIP, AllocationPools: []subnets.AllocationPool{{Start: start.String(), End: end.String()}},
			DNSNameservers: dns})
	return net, sub, err
}

// ensureNamedNetwork finds the project's network named name or makes it
// (so a retried create finds what an earlier attempt made).
func (p *Provider) ensureNamedNetwork(ctx context.Context, s *session, step, projectID, name, description string) (*networks.Network, error) {
	var net *networks.Network
	err := p.step(ctx, step, func() error {
		pages, err := networks.List(s.network, networks.ListOpts{Name: name, ProjectID: projectID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := networks.ExtractNetworks(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			net = &found[0]
			return nil
		}
		net, err = networks.Create(ctx, s.network, networks.CreateOpts{Name: name, Description: description}).Extract()
		return err
	})
	return net, err
}

// ensureSubnet finds the subnet lookup names or makes it as opts say.
func (p *Provider) ensureSubnet(ctx context.Context, s *session, step string, lookup subnets.ListOpts, opts subnets.CreateOpts) (*subnets.Subnet, error) {
	var sub *subnets.Subnet
	err := p.step(ctx, step, func() error {
		pages, err := subnets.List(s.network, lookup).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := subnets.ExtractSubnets(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			sub = &found[0]
			return nil
		}
		sub, err = subnets.Create(ctx, s.network, opts).Extract()
		return err
	})
	return sub, err
}

func nth(a netip.Addr, n int) netip.Addr {
	for range n {
		a = a.Next()
	}
	return a
}

func lastHost(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	v-- // not the broadcast address
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ensureRouter makes the tenant's router with a gateway on the external
// network and an interface on the internal subnet.
func (p *Provider) ensureRouter(ctx context.Context, s *session, projectID, name, extNet, netID, subnetID string) (*routers.Router, error) {
	var router *routers.Router
	err := p.step(ctx, "creating the router", func() error {
		pages, err := routers.List(s.network, routers.ListOpts{Name: name, ProjectID: projectID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := routers.ExtractRouters(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			router = &found[0]
			return nil
		}
		router, err = routers.Create(ctx, s.network, routers.CreateOpts{Name: name, GatewayInfo: &routers.GatewayInfo{NetworkID: extNet}}).Extract()
		return err
	})
	if err != nil {
		return nil, err
	}
	connected := func() (bool, error) {
		pages, err := ports.List(s.network, ports.ListOpts{DeviceID: router.ID, NetworkID: netID}).AllPages(ctx)
		if err != nil {
			return false, err
		}
		found, err := ports.ExtractPorts(pages)
		if err != nil {
			return false, err
		}
		for _, pt := range found {
			for _, ip := range pt.FixedIPs {
				if ip.SubnetID == subnetID {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return router, p.step(ctx, "connecting the router to the subnet", func() error {
		if ok, err := connected(); err != nil || ok {
			return err
		}
		_, err := routers.AddInterface(ctx, s.network, router.ID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract()
		if err != nil { // a lost answer to an interface that was added
			if ok, cerr := connected(); cerr == nil && ok {
				return nil
			}
		}
		return err
	})
}

// ensureSecurityGroup makes a group and the ingress rules it lacks.
func (p *Provider) ensureSecurityGroup(ctx context.Context, s *session, projectID string, g GroupSpec) error {
	sg, err := p.ensureGroup(ctx, s, projectID, g.Name, g.Description)
	if err != nil {
		return err
	}
	for _, rs := range g.Rules {
		want := rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.RuleProtocol(rs.Protocol), RemoteIPPrefix: rs.CIDR}
		if rs.FromPort != nil && *rs.FromPort >= 0 {
			want.PortRangeMin = *rs.FromPort
		}
		if rs.ToPort != nil && *rs.ToPort >= 0 {
			want.PortRangeMax = *rs.ToPort
		}
		err := p.step(ctx, "adding a rule to security group "+g.Name, func() error {
			pages, err := rules.List(s.network, rules.ListOpts{SecGroupID: sg.ID}).AllPages(ctx)
			if err != nil {
				return err
			}
			have, err := rules.ExtractRules(pages)
			if err != nil {
				return err
			}
			for _, h := range have {
				if h.Direction == string(want.Direction) && h.Protocol == string(want.Protocol) && h.PortRangeMin == want.PortRangeMin &&
					h.PortRangeMax == want.PortRangeMax && h.RemoteIPPrefix == want.RemoteIPPrefix && h.EtherType == string(want.EtherType) {
					return nil
				}
			}
			_, err = rules.Create(ctx, s.network, want).Extract()
			if gophercloud.ResponseCodeIs(err, 409) { // the same rule exists: an earlier attempt made it
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ensureGroup finds the project's security group named name or makes it
// (so a retried create finds what an earlier attempt made).
func (p *Provider) ensureGroup(ctx context.Context, s *session, projectID, name, description string) (*groups.SecGroup, error) {
	var sg *groups.SecGroup
	err := p.step(ctx, "creating security group "+name, func() error {
		pages, err := groups.List(s.network, groups.ListOpts{Name: name, ProjectID: projectID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := groups.ExtractGroups(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			sg = &found[0]
			return nil
		}
		sg, err = groups.Create(ctx, s.network, groups.CreateOpts{Name: name, Description: description}).Extract()
		return err
	})
	return sg, err
}
