package openstack

import (
	"context"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the routers' actions: create (found by name in the
// tenant's project, or made with a gateway on the external network),
// add_router_interface and remove_router_interface (by subnet or port; an
// interface there already, or gone already, is left alone), set_routes
// (the routes become exactly those asked) and delete (its interfaces
// first; a router gone already is done). Each reads the router back.

func (p *Provider) routerAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	l3 := req.L3
	if l3 == nil {
		l3 = &L3Request{}
	}
	id := req.BackendID
	switch req.Action {
	case "create":
		err := p.step(ctx, "creating the router", func() error {
			pages, err := routers.List(s.network, routers.ListOpts{Name: req.Name, ProjectID: req.TenantBackendID}).AllPages(ctx)
			if err != nil {
				return err
			}
			found, err := routers.ExtractRouters(pages)
			if err != nil {
				return err
			}
			if len(found) > 0 {
				id = found[0].ID
				return nil
			}
			opts := routers.CreateOpts{Name: req.Name, Description: req.Description}
			if l3.ExternalNetworkID != "" {
				opts.GatewayInfo = &routers.GatewayInfo{NetworkID: l3.ExternalNetworkID}
			}
			r, err := routers.Create(ctx, s.network, opts).Extract()
			if err != nil {
				return err
			}
			id = r.ID
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		if l3.SubnetBackendID != "" { // a subnet's connect made the router
			if err := p.changeInterface(ctx, s, id, l3, true); err != nil {
				return ActionResult{}, err
			}
		}
	case "add_router_interface", "remove_router_interface":
		if err := p.changeInterface(ctx, s, id, l3, req.Action == "add_router_interface"); err != nil {
			return ActionResult{}, err
		}
	case "set_routes":
		routes := []routers.Route{}
		for _, r := range l3.Routes {
			routes = append(routes, routers.Route{DestinationCIDR: r.Destination, NextHop: r.NextHop})
		}
		err := p.step(ctx, "setting the router's routes", func() error {
			_, err := routers.Update(ctx, s.network, id, routers.UpdateOpts{Routes: &routes}).Extract()
			return goneIf(err, "router", id)
		})
		if err != nil {
			return ActionResult{}, err
		}
	case "delete":
		if id == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the router", func() error {
			have, err := p.routerInterfaces(ctx, s, id)
			if notFound(err) {
				return nil
			} else if err != nil {
				return err
			}
			for _, pt := range have {
				if _, err := routers.RemoveInterface(ctx, s.network, id, routers.RemoveInterfaceOpts{PortID: pt.ID}).Extract(); err != nil && !notFound(err) {
					return err
				}
			}
			err = routers.Delete(ctx, s.network, id).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	default:
		return ActionResult{}, refuse(models.CodeInvalid, "routers have no action %q", req.Action)
	}
	r, err := p.readRouter(ctx, s, id)
	if err != nil {
		return ActionResult{}, err
	}
	return ActionResult{BackendID: r.BackendID, L3: &L3Result{Router: r}}, nil
}

// changeInterface adds (or removes) the router's interface on l3's subnet
// or port; one there (or gone) already is left alone.
func (p *Provider) changeInterface(ctx context.Context, s *session, id string, l3 *L3Request, adding bool) error {
	if (l3.SubnetBackendID == "") == (l3.PortBackendID == "") {
		return refuse(models.CodeInvalid, "a router interface names a subnet or a port")
	}
	return p.step(ctx, "changing the router's interfaces", func() error {
		have, err := p.routerInterfaces(ctx, s, id)
		if err != nil {
			return err
		}
		there := slices.ContainsFunc(have, func(pt ports.Port) bool {
			return pt.ID == l3.PortBackendID || l3.PortBackendID == "" &&
				slices.ContainsFunc(pt.FixedIPs, func(ip ports.IP) bool { return ip.SubnetID == l3.SubnetBackendID })
		})
		if there == adding {
			return nil // done already (an earlier attempt's answer was lost)
		}
		if adding {
			_, err = routers.AddInterface(ctx, s.network, id, routers.AddInterfaceOpts{SubnetID: l3.SubnetBackendID, PortID: l3.PortBackendID}).Extract()
		} else {
			_, err = routers.RemoveInterface(ctx, s.network, id, routers.RemoveInterfaceOpts{SubnetID: l3.SubnetBackendID, PortID: l3.PortBackendID}).Extract()
		}
		return goneIf(err, "router", id)
	})
}

// routerInterfaces lists a router's interface ports.
func (p *Provider) routerInterfaces(ctx context.Context, s *session, id string) ([]ports.Port, error) {
	if _, err := routers.Get(ctx, s.network, id).Extract(); err != nil {
		return nil, goneIf(err, "router", id)
	}
	pages, err := ports.List(s.network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := ports.ExtractPorts(pages)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(pt ports.Port) bool { return pt.DeviceOwner == "network:router_gateway" }), nil
}

// readRouter reads a router back with its interfaces.
func (p *Provider) readRouter(ctx context.Context, s *session, id string) (*CloudRouter, error) {
	var out *CloudRouter
	err := p.step(ctx, "reading the router", func() error {
		r, err := routers.Get(ctx, s.network, id).Extract()
		if err != nil {
			return goneIf(err, "router", id)
		}
		pages, err := ports.List(s.network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
		if err != nil {
			return err
		}
		var ps []portWithSecurity
		if err := ports.ExtractPortsInto(pages, &ps); err != nil {
			return err
		}
		out = cloudRouter(*r, ps)
		return nil
	})
	return out, err
}

// cloudRouter is a router as its row records it, with its interfaces
// among ps (ports of any device).
func cloudRouter(r routers.Router, ps []portWithSecurity) *CloudRouter {
	out := &CloudRouter{BackendID: r.ID, Name: r.Name, Description: r.Description, Routes: []CloudRoute{}, FixedIPs: []CloudFixedIP{},
		Ports: []CloudPortInfo{}}
	out.ExternalNetworkID = r.GatewayInfo.NetworkID
	for _, ip := range r.GatewayInfo.ExternalFixedIPs {
		out.FixedIPs = append(out.FixedIPs, CloudFixedIP{IPAddress: ip.IPAddress, SubnetID: ip.SubnetID})
	}
	for _, rt := range r.Routes {
		out.Routes = append(out.Routes, CloudRoute{Destination: rt.DestinationCIDR, NextHop: rt.NextHop})
	}
	for _, pt := range ps {
		if pt.DeviceID == r.ID && pt.DeviceOwner != "network:router_gateway" {
			out.Ports = append(out.Ports, *cloudPortInfo(pt))
		}
	}
	return out
}
