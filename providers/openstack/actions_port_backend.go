package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the ports' actions (Waldur's openstack-ports: create,
// update, enable_port, disable_port, enable_port_security,
// disable_port_security, update_port_ip, update_security_groups, delete),
// and the shapes the ports', routers' and floating IPs' actions share
// (ActionRequest.L3, ActionResult.L3). Each looks before it acts: a port
// is made once (found by name in its network), an update sets what is
// asked whatever the port had, and a delete of a port already gone is done.

// CloudFixedIP is a fixed address of a port (Neutron's fixed_ips item).
type CloudFixedIP struct {
	IPAddress string `json:"ip_address"`
	SubnetID  string `json:"subnet_id"`
}

// CloudAddressPair is an allowed address pair of a port.
type CloudAddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

// CloudPortInfo is a Neutron port as the ports' rows record it.
type CloudPortInfo struct {
	BackendID           string             `json:"backend_id"`
	NetworkBackendID    string             `json:"network_backend_id"`
	Name                string             `json:"name"`
	Description         string             `json:"description"`
	MACAddress          string             `json:"mac_address"`
	FixedIPs            []CloudFixedIP     `json:"fixed_ips"`
	AllowedAddressPairs []CloudAddressPair `json:"allowed_address_pairs"`
	SecurityGroups      []string           `json:"security_groups"` // backend ids
	DeviceID            string             `json:"device_id"`
	DeviceOwner         string             `json:"device_owner"`
	AdminStateUp        bool               `json:"admin_state_up"`
	PortSecurityEnabled bool               `json:"port_security_enabled"`
	Status              string             `json:"status"`
}

// CloudRoute is a static route of a router.
type CloudRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// CloudRouter is a Neutron router with its interface ports.
type CloudRouter struct {
	BackendID         string          `json:"backend_id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	ExternalNetworkID string          `json:"external_network_id"`
	Routes            []CloudRoute    `json:"routes"`
	FixedIPs          []CloudFixedIP  `json:"fixed_ips"` // the gateway's external addresses
	Ports             []CloudPortInfo `json:"ports"`     // the interfaces
}

// L3Request is what the actions of ports, routers and floating IPs need
// besides ActionRequest's common fields.
type L3Request struct {
	// Port is a port to make (create) or the values an update sets.
	Port *CloudPortInfo `json:"port,omitempty"`
	// AdminStateUp and PortSecurity are enable/disable_port's and
	// enable/disable_port_security's value.
	AdminStateUp *bool `json:"admin_state_up,omitempty"`
	PortSecurity *bool `json:"port_security,omitempty"`
	// FixedIPs are update_port_ip's addresses.
	FixedIPs []CloudFixedIP `json:"fixed_ips,omitempty"`
	// SecurityGroups are update_security_groups' groups (backend ids).
	SecurityGroups []string `json:"security_groups,omitempty"`
	// SubnetBackendID and PortBackendID are a router interface's (one of
	// them) or a floating IP's port (attach_to_port).
	SubnetBackendID string `json:"subnet_backend_id,omitempty"`
	PortBackendID   string `json:"port_backend_id,omitempty"`
	// Routes are set_routes' routes (the router ends with exactly these).
	Routes []CloudRoute `json:"routes,omitempty"`
	// ExternalNetworkID is the external network of a floating IP or of a
	// router's gateway.
	ExternalNetworkID string `json:"external_network_id,omitempty"`
	// Marker names a floating IP being made (its description until made),
	// so a retried create finds it.
	Marker string `json:"marker,omitempty"`
	// Assignments are an instance's update_floating_ips: the floating IPs
	// its ports end with.
	Assignments []FloatingIPAssignment `json:"assignments,omitempty"`
}

// FloatingIPAssignment is a floating IP an instance's port is to have: a
// given one (FloatingIPBackendID) or any (one it has, or a new one).
type FloatingIPAssignment struct {
	SubnetBackendID     string `json:"subnet_backend_id"`
	PortBackendID       string `json:"port_backend_id"`
	FloatingIPBackendID string `json:"floating_ip_backend_id,omitempty"`
}

// L3Result is what the actions of ports, routers and floating IPs read back.
type L3Result struct {
	Port       *CloudPortInfo   `json:"port,omitempty"`
	Router     *CloudRouter     `json:"router,omitempty"`
	FloatingIP *CloudFloatingIP `json:"floating_ip,omitempty"`
	// FloatingIPs are the tenant's floating IPs after an instance's
	// update_floating_ips.
	FloatingIPs []CloudFloatingIP `json:"floating_ips,omitempty"`
}

// portWithSecurity is a port read with its port_security_enabled.
type portWithSecurity struct {
	ports.Port
	portsecurity.PortSecurityExt
}

func cloudPortInfo(p portWithSecurity) *CloudPortInfo {
	out := &CloudPortInfo{BackendID: p.ID, NetworkBackendID: p.NetworkID, Name: p.Name, Description: p.Description, MACAddress: p.MACAddress,
		FixedIPs: []CloudFixedIP{}, AllowedAddressPairs: []CloudAddressPair{}, SecurityGroups: nonNilSlice(p.SecurityGroups),
		DeviceID: p.DeviceID, DeviceOwner: p.DeviceOwner, AdminStateUp: p.AdminStateUp, PortSecurityEnabled: p.PortSecurityEnabled,
		Status: p.Status}
	for _, ip := range p.FixedIPs {
		out.FixedIPs = append(out.FixedIPs, CloudFixedIP{IPAddress: ip.IPAddress, SubnetID: ip.SubnetID})
	}
	for _, ap := range p.AllowedAddressPairs {
		out.AllowedAddressPairs = append(out.AllowedAddressPairs, CloudAddressPair{IPAddress: ap.IPAddress, MACAddress: ap.MACAddress})
	}
	return out
}

// readPort reads a port back; one gone is a permanent error.
func (p *Provider) readPort(ctx context.Context, s *session, id string) (*CloudPortInfo, error) {
	var out *CloudPortInfo
	err := p.step(ctx, "reading the port", func() error {
		var pt portWithSecurity
		if err := ports.Get(ctx, s.network, id).ExtractInto(&pt); err != nil {
			return goneIf(err, "port", id)
		}
		out = cloudPortInfo(pt)
		return nil
	})
	return out, err
}

func fixedIPOpts(ips []CloudFixedIP) []ports.IP {
	out := []ports.IP{}
	for _, ip := range ips {
		out = append(out, ports.IP{SubnetID: ip.SubnetID, IPAddress: ip.IPAddress})
	}
	return out
}

func (p *Provider) portAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	l3 := req.L3
	if l3 == nil {
		l3 = &L3Request{}
	}
	id := req.BackendID
	var update ports.UpdateOptsBuilder
	switch req.Action {
	case "create":
		if l3.Port == nil || l3.Port.NetworkBackendID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the port names no network")
		}
		spec := l3.Port
		err := p.step(ctx, "creating the port", func() error {
			pages, err := ports.List(s.network, ports.ListOpts{Name: req.Name, NetworkID: spec.NetworkBackendID}).AllPages(ctx)
			if err != nil {
				return err
			}
			found, err := ports.ExtractPorts(pages)
			if err != nil {
				return err
			}
			if req.Name != "" && len(found) > 0 {
				id = found[0].ID // made by an earlier attempt
				return nil
			}
			opts := ports.CreateOpts{NetworkID: spec.NetworkBackendID, Name: req.Name, Description: req.Description,
				MACAddress: spec.MACAddress}
			if len(spec.FixedIPs) > 0 {
				opts.FixedIPs = fixedIPOpts(spec.FixedIPs)
			}
			if spec.SecurityGroups != nil {
				groups := spec.SecurityGroups
				opts.SecurityGroups = &groups
			}
			for _, ap := range spec.AllowedAddressPairs {
				opts.AllowedAddressPairs = append(opts.AllowedAddressPairs, ports.AddressPair{IPAddress: ap.IPAddress, MACAddress: ap.MACAddress})
			}
			var b ports.CreateOptsBuilder = opts
			if !spec.PortSecurityEnabled {
				off := false
				b = portsecurity.PortCreateOptsExt{CreateOptsBuilder: opts, PortSecurityEnabled: &off}
			}
			pt, err := ports.Create(ctx, s.network, b).Extract()
			if err != nil {
				return err
			}
			id = pt.ID
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		return p.portResult(ctx, s, id, &spec.PortSecurityEnabled)
	case "update":
		update = ports.UpdateOpts{Name: &req.Name, Description: &req.Description}
	case "enable_port", "disable_port":
		up := req.Action == "enable_port"
		update = ports.UpdateOpts{AdminStateUp: &up}
	case "enable_port_security", "disable_port_security":
		on := req.Action == "enable_port_security"
		opts := ports.UpdateOpts{}
		if !on { // Neutron refuses port security off on a port with security groups
			none := []string{}
			opts.SecurityGroups = &none
		}
		update = portsecurity.PortUpdateOptsExt{UpdateOptsBuilder: opts, PortSecurityEnabled: &on}
	case "update_port_ip":
		if len(l3.FixedIPs) == 0 {
			return ActionResult{}, refuse(models.CodeInvalid, "update_port_ip names no address")
		}
		update = ports.UpdateOpts{FixedIPs: fixedIPOpts(l3.FixedIPs)}
	case "update_security_groups":
		groups := nonNilSlice(l3.SecurityGroups)
		update = ports.UpdateOpts{SecurityGroups: &groups}
	case "delete":
		if id == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the port", func() error {
			err := ports.Delete(ctx, s.network, id).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	default:
		return ActionResult{}, refuse(models.CodeInvalid, "ports have no action %q", req.Action)
	}
	err := p.step(ctx, "updating the port", func() error {
		_, err := ports.Update(ctx, s.network, id, update).Extract()
		return goneIf(err, "port", id)
	})
	if err != nil {
		return ActionResult{}, err
	}
	var security *bool
	if req.Action == "enable_port_security" || req.Action == "disable_port_security" {
		on := req.Action == "enable_port_security"
		security = &on
	}
	return p.portResult(ctx, s, id, security)
}

// portResult reads the port back; security, when set, is the port
// security the action set (a cloud without the extension answers none).
func (p *Provider) portResult(ctx context.Context, s *session, id string, security *bool) (ActionResult, error) {
	pt, err := p.readPort(ctx, s, id)
	if err != nil {
		return ActionResult{}, err
	}
	if security != nil {
		pt.PortSecurityEnabled = *security
	}
	return ActionResult{BackendID: pt.BackendID, L3: &L3Result{Port: pt}}, nil
}
