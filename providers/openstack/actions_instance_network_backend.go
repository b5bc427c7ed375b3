package openstack

import (
	"context"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/remoteconsoles"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/waldur-go/waldur/models"
)

// The backend half of an instance's network actions (Waldur's
// update_security_groups, update_ports, update_allowed_address_pairs of an
// instance, and its console URL). Each looks before it acts, so a retried
// run does not act twice: a security group the server has is not added
// again, a port it has is not attached again, a port made for it by an
// earlier attempt (found by its marker description) is attached rather
// than made again. Each reads the server back with its ports.

// InstanceNetRequest is what an instance's network actions need besides
// ActionRequest's common fields.
type InstanceNetRequest struct {
	// SecurityGroups are update_security_groups' groups (backend ids): the
	// server ends with exactly these.
	SecurityGroups []string `json:"security_groups,omitempty"`
	// Ports are update_ports' ports: the server ends with exactly these.
	Ports []InstancePortSpec `json:"ports,omitempty"`
	// PortBackendID and AddressPairs are update_allowed_address_pairs': the
	// server's port and the pairs it ends with.
	PortBackendID string             `json:"port_backend_id,omitempty"`
	AddressPairs  []CloudAddressPair `json:"address_pairs,omitempty"`
	// Marker is the description of the ports made for the instance (a
	// retried update_ports finds them by it).
	Marker string `json:"marker,omitempty"`
	// PortName is the name given to a port made for the instance.
	PortName string `json:"port_name,omitempty"`
}

// InstancePortSpec is one port an instance is to have: a given port
// (PortBackendID), or one in a subnet (with the addresses asked, if any).
type InstancePortSpec struct {
	PortBackendID    string         `json:"port_backend_id,omitempty"`
	NetworkBackendID string         `json:"network_backend_id,omitempty"`
	SubnetBackendID  string         `json:"subnet_backend_id,omitempty"`
	FixedIPs         []CloudFixedIP `json:"fixed_ips,omitempty"`
}

// InstanceNetResult is the server read back after a network action: its
// ports (as CloudServer records them), and the ports the action touched
// as the ports' rows record them (those detached and still there too).
type InstanceNetResult struct {
	Server CloudServer     `json:"server"`
	Ports  []CloudPortInfo `json:"ports"`
}

// consoleProtocol and consoleType are the remote console asked for (Waldur's
// default console type, noVNC).
const consoleProtocol, consoleType = "vnc", "novnc"

func (p *Provider) instanceNetworkAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	n := req.InstanceNet
	if n == nil {
		n = &InstanceNetRequest{}
	}
	id := req.BackendID
	var touched []string
	var err error
	switch req.Action {
	case "console":
		var url string
		err = p.step(ctx, "reading the console URL", func() error {
			if _, err := getServer(ctx, s, id); err != nil {
				return err
			}
			cc := *s.compute
			cc.Microversion = "2.6" // remote-consoles
			rc, err := remoteconsoles.Create(ctx, &cc, id, remoteconsoles.CreateOpts{Protocol: consoleProtocol, Type: consoleType}).Extract()
			if err != nil {
				return err
			}
			url = rc.URL
			return nil
		})
		return ActionResult{Output: url}, err
	case "update_security_groups":
		err = p.setServerGroups(ctx, s, id, nonNilSlice(n.SecurityGroups))
	case "update_ports":
		touched, err = p.setServerPorts(ctx, s, id, n)
	case "update_allowed_address_pairs":
		if n.PortBackendID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "update_allowed_address_pairs names no port")
		}
		touched = []string{n.PortBackendID}
		err = p.step(ctx, "setting the port's allowed address pairs", func() error {
			pt, err := ports.Get(ctx, s.network, n.PortBackendID).Extract()
			if err != nil {
				return goneIf(err, "port", n.PortBackendID)
			}
			if pt.DeviceID != id {
				return refuse(models.CodeInvalid, "port %s is not the server's", n.PortBackendID)
			}
			pairs := []ports.AddressPair{}
			for _, ap := range n.AddressPairs {
				pairs = append(pairs, ports.AddressPair{IPAddress: ap.IPAddress, MACAddress: ap.MACAddress})
			}
			_, err = ports.Update(ctx, s.network, n.PortBackendID, ports.UpdateOpts{AllowedAddressPairs: &pairs}).Extract()
			return goneIf(err, "port", n.PortBackendID)
		})
	default:
		return ActionResult{}, refuse(models.CodeInvalid, "instances have no network action %q", req.Action)
	}
	if err != nil {
		return ActionResult{}, err
	}
	return p.serverNetResult(ctx, s, id, touched)
}

// serverPorts lists the ports bound to a server.
func serverPorts(ctx context.Context, s *session, serverID string) ([]portWithSecurity, error) {
	pages, err := ports.List(s.network, ports.ListOpts{DeviceID: serverID}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	var out []portWithSecurity
	err = ports.ExtractPortsInto(pages, &out)
	return out, err
}

// setServerGroups makes the server's security groups want: a group no
// port of it has is added (Nova's addSecurityGroup), one it has and is not
// wanted is removed (removeSecurityGroup).
func (p *Provider) setServerGroups(ctx context.Context, s *session, id string, want []string) error {
	return p.step(ctx, "setting the server's security groups", func() error {
		if _, err := getServer(ctx, s, id); err != nil {
			return err
		}
		ps, err := serverPorts(ctx, s, id)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return refuse(models.CodeInvalid, "the server has no ports to set security groups on")
		}
		have := map[string]bool{}
		for _, pt := range ps {
			for _, g := range pt.SecurityGroups {
				have[g] = true
			}
		}
		for _, g := range want {
			if have[g] {
				continue
			}
			if err := secgroups.AddServer(ctx, s.compute, id, g).ExtractErr(); err != nil {
				if notFound(err) {
					return refuse(models.CodeInvalid, "security group %s is not in the cloud: %v", g, err)
				}
				return err
			}
		}
		for g := range have {
			if slices.Contains(want, g) {
				continue
			}
			if err := secgroups.RemoveServer(ctx, s.compute, id, g).ExtractErr(); err != nil && !notFound(err) {
				return err
			}
		}
		return nil
	})
}

// madeForInstance reports whether Waldur made a port for the instance
// (its update_ports' marker, or an instance order's description): such a
// port is deleted when detached.
func madeForInstance(desc, marker string) bool {
	return desc != "" && (desc == marker || strings.HasPrefix(desc, "waldur-resource-"))
}

// setServerPorts makes the server's ports those asked: a port asked that
// it has (by id, or one in the subnet asked with the addresses asked) is
// kept; the others are detached (and deleted when Waldur made them for the
// instance); the missing ones are attached (a port asked by id), or made
// in their subnet and attached. It returns the ports it detached.
func (p *Provider) setServerPorts(ctx context.Context, s *session, id string, n *InstanceNetRequest) ([]string, error) {
	var detached []string
	err := p.step(ctx, "setting the server's ports", func() error {
		if _, err := getServer(ctx, s, id); err != nil {
			return err
		}
		pages, err := attachinterfaces.List(s.compute, id).AllPages(ctx)
		if err != nil {
			return goneIf(err, "server", id)
		}
		cur, err := attachinterfaces.ExtractInterfaces(pages)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		var missing []InstancePortSpec
		for _, spec := range n.Ports {
			found := ""
			for _, in := range cur {
				if keep[in.PortID] {
					continue
				}
				if spec.PortBackendID != "" && in.PortID == spec.PortBackendID || spec.PortBackendID == "" && fixedIPsMatch(in.FixedIPs, spec) {
					found = in.PortID
					break
				}
			}
			if found != "" {
				keep[found] = true
				continue
			}
			missing = append(missing, spec)
		}
		// New ports get the server's groups (those of a port it has now).
		groups := []string{}
		if len(cur) > 0 {
			if pt, err := ports.Get(ctx, s.network, cur[0].PortID).Extract(); err == nil {
				groups = nonNilSlice(pt.SecurityGroups)
			} else if !notFound(err) {
				return err
			}
		}
		for _, in := range cur {
			if keep[in.PortID] {
				continue
			}
			pt, err := ports.Get(ctx, s.network, in.PortID).Extract()
			if err != nil && !notFound(err) {
				return err
			}
			if err := attachinterfaces.Delete(ctx, s.compute, id, in.PortID).ExtractErr(); err != nil && !notFound(err) {
				return err
			}
			if err := p.waitDetached(ctx, s, id, in.PortID); err != nil {
				return err
			}
			if pt != nil && madeForInstance(pt.Description, n.Marker) {
				if err := ports.Delete(ctx, s.network, in.PortID).ExtractErr(); err != nil && !notFound(err) {
					return err
				}
			} else if pt != nil {
				detached = append(detached, in.PortID)
			}
		}
		for _, spec := range missing {
			portID := spec.PortBackendID
			if portID == "" {
				if portID, err = p.instancePort(ctx, s, n, spec, groups); err != nil {
					return err
				}
			}
			_, err := attachinterfaces.Create(ctx, s.compute, id, attachinterfaces.CreateOpts{PortID: portID}).Extract()
			switch {
			case notFound(err):
				return refuse(models.CodeInvalid, "port %s cannot be attached: %v", portID, err)
			case statusOf(err) == 409 && spec.PortBackendID != "":
				return refuse(models.CodeInvalid, "port %s is in use: %v", portID, err)
			case err != nil:
				return err
			}
		}
		return nil
	})
	return detached, err
}

// fixedIPsMatch reports whether an interface's addresses are those spec
// asks for: one in its subnet, and each address it names.
func fixedIPsMatch(ips []attachinterfaces.FixedIP, spec InstancePortSpec) bool {
	inSubnet := false
	for _, ip := range ips {
		inSubnet = inSubnet || ip.SubnetID == spec.SubnetBackendID
	}
	if !inSubnet {
		return false
	}
	for _, want := range spec.FixedIPs {
		if want.IPAddress == "" {
			continue
		}
		if !slices.ContainsFunc(ips, func(ip attachinterfaces.FixedIP) bool { return ip.IPAddress == want.IPAddress }) {
			return false
		}
	}
	return true
}

// instancePort finds the free port an earlier attempt made for spec (by
// the marker), or makes it in the spec's subnet.
func (p *Provider) instancePort(ctx context.Context, s *session, n *InstanceNetRequest, spec InstancePortSpec, groups []string) (string, error) {
	if spec.NetworkBackendID == "" || spec.SubnetBackendID == "" {
		return "", refuse(models.CodeInvalid, "a port to make names no subnet")
	}
	pages, err := ports.List(s.network, ports.ListOpts{NetworkID: spec.NetworkBackendID, Description: n.Marker}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	found, err := ports.ExtractPorts(pages)
	if err != nil {
		return "", err
	}
	for _, pt := range found {
		ips := make([]attachinterfaces.FixedIP, 0, len(pt.FixedIPs))
		for _, ip := range pt.FixedIPs {
			ips = append(ips, attachinterfaces.FixedIP{SubnetID: ip.SubnetID, IPAddress: ip.IPAddress})
		}
		if pt.DeviceID == "" && pt.Description == n.Marker && fixedIPsMatch(ips, spec) {
			return pt.ID, nil
		}
	}
	fixed := []ports.IP{}
	for _, ip := range spec.FixedIPs {
		fixed = append(fixed, ports.IP{SubnetID: firstNonEmpty(ip.SubnetID, spec.SubnetBackendID), IPAddress: ip.IPAddress})
	}
	if len(fixed) == 0 {
		fixed = append(fixed, ports.IP{SubnetID: spec.SubnetBackendID})
	}
	opts := ports.CreateOpts{NetworkID: spec.NetworkBackendID, Name: n.PortName, Description: n.Marker, FixedIPs: fixed}
	if len(groups) > 0 {
		opts.SecurityGroups = &groups
	}
	pt, err := ports.Create(ctx, s.network, opts).Extract()
	if err != nil {
		if code := statusOf(err); code == 400 || code == 409 {
			return "", refuse(models.CodeInvalid, "the port cannot be made: %v", err)
		}
		return "", err
	}
	return pt.ID, nil
}

// waitDetached waits until a port is no longer the server's (Nova detaches
// an interface after answering).
func (p *Provider) waitDetached(ctx context.Context, s *session, serverID, portID string) error {
	return p.waitFor(ctx, "port "+portID+" to be detached", p.opts.ServerTimeout, func() (bool, error) {
		err := attachinterfaces.Get(ctx, s.compute, serverID, portID).Err
		if notFound(err) {
			return true, nil
		}
		return false, err
	})
}

// serverNetResult reads the server back with its ports and floating IPs,
// and the ports also (those detached).
func (p *Provider) serverNetResult(ctx context.Context, s *session, id string, also []string) (ActionResult, error) {
	var res ActionResult
	err := p.step(ctx, "reading the server's ports back", func() error {
		sv, err := getServer(ctx, s, id)
		if err != nil {
			return err
		}
		ps, err := serverPorts(ctx, s, id)
		if err != nil {
			return err
		}
		floating := map[string][]string{}
		infos := []CloudPortInfo{}
		plain := make([]ports.Port, 0, len(ps))
		for _, pt := range ps {
			plain = append(plain, pt.Port)
			infos = append(infos, *cloudPortInfo(pt))
			fpages, err := floatingips.List(s.network, floatingips.ListOpts{PortID: pt.ID}).AllPages(ctx)
			if err != nil {
				return err
			}
			fs, err := floatingips.ExtractFloatingIPs(fpages)
			if err != nil {
				return err
			}
			for _, f := range fs {
				floating[pt.ID] = append(floating[pt.ID], f.FloatingIP)
			}
		}
		for _, pid := range also {
			if slices.ContainsFunc(ps, func(pt portWithSecurity) bool { return pt.ID == pid }) {
				continue
			}
			var pt portWithSecurity
			if err := ports.Get(ctx, s.network, pid).ExtractInto(&pt); err == nil {
				infos = append(infos, *cloudPortInfo(pt))
			} else if !notFound(err) {
				return err
			}
		}
		res = ActionResult{RuntimeState: sv.Status,
			InstanceNet: &InstanceNetResult{Server: serverOf(*sv, nil, nil, plain, floating), Ports: infos}}
		return nil
	})
	return res, err
}
