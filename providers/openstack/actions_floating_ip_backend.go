package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the floating IPs' actions: create (on the tenant's
// external network; the address is made with the row's marker as its
// description, so a retried create finds it, then given the description
// asked), attach_to_port and detach_from_port (the port set or cleared,
// whatever it was), update_description and delete (one gone already is
// done). Each reads the floating IP back.

func (p *Provider) floatingIPAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	l3 := req.L3
	if l3 == nil {
		l3 = &L3Request{}
	}
	id := req.BackendID
	var update floatingips.UpdateOpts
	switch req.Action {
	case "create":
		if l3.ExternalNetworkID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the tenant has no external network for a floating IP")
		}
		err := p.step(ctx, "creating the floating IP", func() error {
			if l3.Marker != "" {
				pages, err := floatingips.List(s.network, floatingips.ListOpts{ProjectID: req.TenantBackendID, Description: l3.Marker}).AllPages(ctx)
				if err != nil {
					return err
				}
				found, err := floatingips.ExtractFloatingIPs(pages)
				if err != nil {
					return err
				}
				for _, f := range found {
					if f.Description == l3.Marker {
						id = f.ID // made by an earlier attempt
						return nil
					}
				}
			}
			f, err := floatingips.Create(ctx, s.network, floatingips.CreateOpts{FloatingNetworkID: l3.ExternalNetworkID,
				Description: firstNonEmpty(l3.Marker, req.Description)}).Extract()
			if err != nil {
				return err
			}
			id = f.ID
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		if l3.Marker == "" {
			break
		}
		desc := req.Description
		update = floatingips.UpdateOpts{Description: &desc}
	case "attach_to_port":
		if l3.PortBackendID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "attach_to_port names no port")
		}
		update = floatingips.UpdateOpts{PortID: &l3.PortBackendID}
	case "detach_from_port":
		none := ""
		update = floatingips.UpdateOpts{PortID: &none}
	case "update_description":
		desc := req.Description
		update = floatingips.UpdateOpts{Description: &desc}
	case "delete":
		if id == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the floating IP", func() error {
			err := floatingips.Delete(ctx, s.network, id).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	default:
		return ActionResult{}, refuse(models.CodeInvalid, "floating IPs have no action %q", req.Action)
	}
	if update.PortID != nil || update.Description != nil {
		err := p.step(ctx, "updating the floating IP", func() error {
			_, err := floatingips.Update(ctx, s.network, id, update).Extract()
			return goneIf(err, "floating IP", id)
		})
		if err != nil {
			return ActionResult{}, err
		}
	}
	var res ActionResult
	err := p.step(ctx, "reading the floating IP", func() error {
		f, err := floatingips.Get(ctx, s.network, id).Extract()
		if err != nil {
			return goneIf(err, "floating IP", id)
		}
		res = ActionResult{BackendID: f.ID, L3: &L3Result{FloatingIP: &CloudFloatingIP{BackendID: f.ID, Address: f.FloatingIP,
			RuntimeState: f.Status, NetworkBackendID: f.FloatingNetworkID, PortBackendID: f.PortID, FixedIP: f.FixedIP, Description: f.Description}}}
		return nil
	})
	return res, err
}

// updateInstanceFloatingIPs makes a server's floating IPs those asked
// (Waldur's update_floating_ips of an instance): each assignment's port
// gets the floating IP named (moved from where it was) or keeps one it has
// (or gets a new one on the external network); the server's other
// floating IPs are detached (kept in the tenant). It reads the tenant's
// floating IPs back.
func (p *Provider) updateInstanceFloatingIPs(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	l3 := req.L3
	if l3 == nil {
		l3 = &L3Request{}
	}
	list := func() ([]floatingips.FloatingIP, error) {
		pages, err := floatingips.List(s.network, floatingips.ListOpts{ProjectID: req.TenantBackendID}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return floatingips.ExtractFloatingIPs(pages)
	}
	err := p.step(ctx, "setting the server's floating IPs", func() error {
		pages, err := ports.List(s.network, ports.ListOpts{DeviceID: req.BackendID}).AllPages(ctx)
		if err != nil {
			return err
		}
		own, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		mine := map[string]bool{}
		for _, pt := range own {
			mine[pt.ID] = true
		}
		all, err := list()
		if err != nil {
			return err
		}
		assign := append([]FloatingIPAssignment{}, l3.Assignments...)
		keep := map[string]bool{} // floating IPs the server ends with
		for _, a := range assign {
			if !mine[a.PortBackendID] {
				return refuse(models.CodeInvalid, "port %s is not the server's", a.PortBackendID)
			}
			if a.FloatingIPBackendID != "" {
				keep[a.FloatingIPBackendID] = true
			}
		}
		for i, a := range assign {
			if a.FloatingIPBackendID != "" {
				continue
			}
			for _, f := range all {
				if f.PortID == a.PortBackendID && !keep[f.ID] {
					keep[f.ID] = true // one it has
					assign[i].FloatingIPBackendID = f.ID
					break
				}
			}
		}
		for _, f := range all { // the others first: a port's address is free for the one asked
			if mine[f.PortID] && !keep[f.ID] {
				none := ""
				if _, err := floatingips.Update(ctx, s.network, f.ID, floatingips.UpdateOpts{PortID: &none}).Extract(); err != nil && !notFound(err) {
					return err
				}
			}
		}
		for _, a := range assign {
			if a.FloatingIPBackendID == "" {
				if l3.ExternalNetworkID == "" {
					return refuse(models.CodeInvalid, "the tenant has no external network for a floating IP")
				}
				if _, err := floatingips.Create(ctx, s.network, floatingips.CreateOpts{FloatingNetworkID: l3.ExternalNetworkID,
					PortID: a.PortBackendID}).Extract(); err != nil {
					return err
				}
				continue
			}
			var cur *floatingips.FloatingIP
			for i := range all {
				if all[i].ID == a.FloatingIPBackendID {
					cur = &all[i]
				}
			}
			if cur == nil {
				return goneError("floating IP", a.FloatingIPBackendID)
			}
			if cur.PortID == a.PortBackendID {
				continue
			}
			port := a.PortBackendID
			if _, err := floatingips.Update(ctx, s.network, cur.ID, floatingips.UpdateOpts{PortID: &port}).Extract(); err != nil {
				return goneIf(err, "floating IP", cur.ID)
			}
		}
		return nil
	})
	if err != nil {
		return ActionResult{}, err
	}
	var res ActionResult
	err = p.step(ctx, "reading the floating IPs", func() error {
		all, err := list()
		if err != nil {
			return err
		}
		out := []CloudFloatingIP{}
		for _, f := range all {
			out = append(out, CloudFloatingIP{BackendID: f.ID, Address: f.FloatingIP, RuntimeState: f.Status, NetworkBackendID: f.FloatingNetworkID,
				PortBackendID: f.PortID, FixedIP: f.FixedIP, Description: f.Description})
		}
		res = ActionResult{L3: &L3Result{FloatingIPs: out}}
		return nil
	})
	return res, err
}
