package openstacktest

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"

	"github.com/google/uuid"
)

// Server interfaces (os-interface, Nova's "Port interfaces"): a server's
// ports listed, shown, attached and detached, as the compute API reference
// describes them.
//
//   - GET /servers/{id}/os-interface: {"interfaceAttachments": [...]}, each
//     with fixed_ips, mac_addr, net_id, port_id, port_state (and tag from
//     microversion 2.70).
//   - POST /servers/{id}/os-interface {"interfaceAttachment": {port_id | net_id
//     [, fixed_ips: [{ip_address}]] [, tag (2.49)]}}: 200 with the attachment.
//     An existing port is bound to the server (409 when it is bound to
//     something else); a network gets a new port Nova owns, with the
//     server's security groups. Neither: the project's one network (400 when
//     it has none or several). Both, or fixed_ips without net_id: 400. A
//     network or port that does not exist: 404. A server building, being
//     deleted or in a task: 409.
//   - GET /servers/{id}/os-interface/{port_id}: the attachment; 404 when the
//     port is not the server's.
//   - DELETE /servers/{id}/os-interface/{port_id}: 202; a port Nova made is
//     deleted, another one is unbound. 404 when the port is not the server's.

func (e *Emulator) interfaceRoutes(r route) {
	r("GET", "/servers/{id}/os-interface", (*call).listInterfaces)
	r("POST", "/servers/{id}/os-interface", (*call).attachInterface)
	r("GET", "/servers/{id}/os-interface/{port}", (*call).getInterface)
	r("DELETE", "/servers/{id}/os-interface/{port}", (*call).detachInterface)
}

func (c *call) renderInterface(p *Port) map[string]any {
	ips := []map[string]any{}
	for _, ip := range p.FixedIPs {
		ips = append(ips, map[string]any{"ip_address": ip.IPAddress, "subnet_id": ip.SubnetID})
	}
	m := map[string]any{"fixed_ips": ips, "mac_addr": p.MACAddress, "net_id": p.NetworkID, "port_id": p.ID,
		"port_state": c.portStatus(p)}
	if c.novaAtLeast(70) {
		m["tag"] = nil
	}
	return m
}

func (c *call) listInterfaces() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, pid := range sv.Ports {
		if p := c.s().ports.get(pid); p != nil {
			out = append(out, c.renderInterface(p))
		}
	}
	c.json(http.StatusOK, map[string]any{"interfaceAttachments": out})
	return nil
}

// serverPort is a port attached to the server (404 otherwise).
func (c *call) serverPort(sv *Server) (*Port, *apiError) {
	id := c.r.PathValue("port")
	p := c.s().ports.get(id)
	if p == nil || p.DeviceID != sv.ID || !slices.Contains(sv.Ports, id) {
		return nil, errf(http.StatusNotFound, "Network interface %s could not be found.", id)
	}
	return p, nil
}

func (c *call) getInterface() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.serverPort(sv)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"interfaceAttachment": c.renderInterface(p)})
	return nil
}

// interfaceReady is Nova's check_instance_state for attach_interface and
// detach_interface: vm_state active, paused or stopped, and no task.
func interfaceReady(sv *Server, action string) *apiError {
	if sv.Deleting || sv.TaskState != "" {
		task := sv.TaskState
		if sv.Deleting {
			task = "deleting"
		}
		return errf(http.StatusConflict, "Cannot '%s' instance %s while it is in task_state %s", action, sv.ID, task)
	}
	if sv.VMState != "active" && sv.VMState != "paused" && sv.VMState != "stopped" {
		return errf(http.StatusConflict, "Cannot '%s' instance %s while it is in vm_state %s", action, sv.ID, sv.VMState)
	}
	return nil
}

func (c *call) attachInterface() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	var b struct {
		Attachment map[string]json.RawMessage `json:"interfaceAttachment"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Attachment
	if in == nil {
		return schemaError("interfaceAttachment", nil, "'interfaceAttachment' is a required property")
	}
	allowed := []string{"net_id", "port_id", "fixed_ips"}
	if c.novaAtLeast(49) {
		allowed = append(allowed, "tag")
	}
	for k := range in {
		if !slices.Contains(allowed, k) {
			return schemaError("interfaceAttachment", in, "Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	str := func(key string) (string, *apiError) {
		raw, ok := in[key]
		if !ok {
			return "", nil
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", schemaError(key, raw, "%s is not of type 'string'", raw)
		}
		if _, err := uuid.Parse(v); err != nil {
			return "", schemaError(key, v, "'%s' is not a 'uuid'", v)
		}
		return v, nil
	}
	netID, aerr := str("net_id")
	if aerr != nil {
		return aerr
	}
	portID, aerr := str("port_id")
	if aerr != nil {
		return aerr
	}
	var fixed []struct {
		IPAddress string `json:"ip_address"`
	}
	if raw, ok := in["fixed_ips"]; ok {
		if json.Unmarshal(raw, &fixed) != nil {
			return schemaError("fixed_ips", raw, "%s is not of type 'array'", raw)
		}
		if len(fixed) > 1 {
			return schemaError("fixed_ips", raw, "%s is too long", raw)
		}
		for _, f := range fixed {
			if _, err := netip.ParseAddr(f.IPAddress); err != nil {
				return schemaError("fixed_ips/0/ip_address", f.IPAddress, "'%s' is not a 'ip-address'", f.IPAddress)
			}
		}
	}
	if netID != "" && portID != "" {
		return errf(http.StatusBadRequest, "Must not input both network_id and port_id")
	}
	if len(fixed) > 0 && netID == "" {
		return errf(http.StatusBadRequest, "Must input network_id when request IP address")
	}
	if err := interfaceReady(sv, "attach_interface"); err != nil {
		return err
	}
	s := c.s()
	var p *Port
	switch {
	case portID != "":
		p = s.ports.get(portID)
		if p == nil || !c.networkVisible(p.ProjectID) {
			return errf(http.StatusNotFound, "Port %s could not be found.", portID)
		}
		if p.DeviceID != "" {
			return errf(http.StatusConflict, "Port %s is still in use.", portID)
		}
		p.DeviceID, p.DeviceOwner, p.Updated = sv.ID, "compute:"+sv.AvailabilityZone, c.now
		p.Revision++
		sv.Ports = append(sv.Ports, p.ID)
	default:
		var n *Network
		if netID != "" {
			n = s.networks.get(netID)
			if n == nil || !c.networkReadable(n) {
				return errf(http.StatusNotFound, "Network %s could not be found.", netID)
			}
		} else {
			var mine []*Network
			for _, x := range s.networks.all() {
				if x.ProjectID == sv.ProjectID && !x.External {
					mine = append(mine, x)
				}
			}
			switch len(mine) {
			case 0:
				return errf(http.StatusBadRequest, "No specific network was requested and none are available for project '%s'.", sv.ProjectID)
			case 1:
				n = mine[0]
			default:
				return errf(http.StatusBadRequest, "More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
			}
		}
		var req []fixedIPRequest
		for _, f := range fixed {
			req = append(req, fixedIPRequest{IPAddress: f.IPAddress})
		}
		var groups []string
		for _, name := range sv.SecurityGroups {
			if g := c.findSecurityGroup(sv.ProjectID, name); g != nil {
				groups = append(groups, g.ID)
			}
		}
		np, perr := c.e.newPort(sv.ProjectID, n, req, groups, c.now)
		if perr != nil {
			switch {
			case perr.status == http.StatusConflict && perr.kind == "OverQuota":
				return errf(http.StatusForbidden, "Maximum number of ports exceeded")
			case perr.status == http.StatusConflict:
				return errf(http.StatusConflict, "%s", perr.msg)
			}
			return errf(http.StatusBadRequest, "%s", perr.msg)
		}
		np.DeviceID, np.DeviceOwner = sv.ID, "compute:"+sv.AvailabilityZone
		sv.Ports = append(sv.Ports, np.ID)
		sv.OwnedPorts = append(sv.OwnedPorts, np.ID)
		p = np
	}
	sv.Updated = c.now
	c.json(http.StatusOK, map[string]any{"interfaceAttachment": c.renderInterface(p)})
	return nil
}

func (c *call) detachInterface() *apiError {
	sv, err := c.server(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := interfaceReady(sv, "detach_interface"); err != nil {
		return err
	}
	p, err := c.serverPort(sv)
	if err != nil {
		return err
	}
	if slices.Contains(sv.OwnedPorts, p.ID) {
		c.e.removePort(p) // it forgets the port on the server too
	} else {
		sv.Ports = slices.DeleteFunc(sv.Ports, func(id string) bool { return id == p.ID })
		p.DeviceID, p.DeviceOwner, p.Updated = "", "", c.now
		p.Revision++
	}
	sv.Updated = c.now
	c.noContent(http.StatusAccepted)
	return nil
}
