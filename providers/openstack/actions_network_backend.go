package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/mtu"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the networks' and subnets' actions: create (found
// by name, a network's in the tenant's project and a subnet's in its
// network, through the tenant chain's ensureNamedNetwork and ensureSubnet,
// or made), update (name and description), set_mtu and delete (one already
// gone is deleted; a network takes its subnets along).

func (p *Provider) networkAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	sub := req.Kind == "subnet"
	switch {
	case req.Action == "create" && !sub:
		net, err := p.ensureNamedNetwork(ctx, s, "creating the network", req.TenantBackendID, req.Name, req.Description)
		if err != nil {
			return ActionResult{}, err
		}
		return p.readNetwork(ctx, s, net.ID)
	case req.Action == "create":
		if req.Subnet == nil || req.NetworkBackendID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the subnet names no network or CIDR")
		}
		sn := req.Subnet
		opts := subnets.CreateOpts{NetworkID: req.NetworkBackendID, Name: req.Name, Description: req.Description, CIDR: sn.CIDR,
			IPVersion: gophercloud.IPv4, DNSNameservers: sn.DNSNameservers}
		if sn.IPVersion == 6 {
			opts.IPVersion = gophercloud.IPv6
		}
		gw := sn.GatewayIP
		opts.GatewayIP = &gw // "" is no gateway
		for _, pl := range sn.AllocationPools {
			opts.AllocationPools = append(opts.AllocationPools, subnets.AllocationPool{Start: pl.Start, End: pl.End})
		}
		created, err := p.ensureSubnet(ctx, s, "creating the subnet", subnets.ListOpts{NetworkID: req.NetworkBackendID, Name: req.Name}, opts)
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{BackendID: created.ID, Subnet: cloudSubnet(*created)}, nil
	case req.Action == "update":
		err := p.step(ctx, "updating the "+req.Kind, func() error {
			if sub {
				_, err := subnets.Update(ctx, s.network, req.BackendID, subnets.UpdateOpts{Name: &req.Name, Description: &req.Description}).Extract()
				return goneIf(err, "subnet", req.BackendID)
			}
			_, err := networks.Update(ctx, s.network, req.BackendID, networks.UpdateOpts{Name: &req.Name, Description: &req.Description}).Extract()
			return goneIf(err, "network", req.BackendID)
		})
		return ActionResult{}, err
	case req.Action == "set_mtu":
		err := p.step(ctx, "setting the network's MTU", func() error {
			_, err := networks.Update(ctx, s.network, req.BackendID, mtu.UpdateOptsExt{UpdateOptsBuilder: networks.UpdateOpts{}, MTU: req.MTU}).Extract()
			return goneIf(err, "network", req.BackendID)
		})
		if err != nil {
			return ActionResult{}, err
		}
		return p.readNetwork(ctx, s, req.BackendID)
	case req.Action == "delete":
		if req.BackendID == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the "+req.Kind, func() error {
			var err error
			if sub {
				err = subnets.Delete(ctx, s.network, req.BackendID).ExtractErr()
			} else {
				err = networks.Delete(ctx, s.network, req.BackendID).ExtractErr()
			}
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	}
	return ActionResult{}, refuse(models.CodeInvalid, "%ss have no action %q", req.Kind, req.Action)
}

// goneIf is a not-found answer as the object's being gone.
func goneIf(err error, what, id string) error {
	if notFound(err) {
		return goneError(what, id)
	}
	return err
}

// readNetwork reads a network's id and MTU back.
func (p *Provider) readNetwork(ctx context.Context, s *session, id string) (ActionResult, error) {
	var res ActionResult
	err := p.step(ctx, "reading the network", func() error {
		var n struct { // not networks.Network embedded: its UnmarshalJSON would hide MTU
			ID  string `json:"id"`
			MTU int    `json:"mtu"`
		}
		if err := networks.Get(ctx, s.network, id).ExtractInto(&n); err != nil {
			return goneIf(err, "network", id)
		}
		res = ActionResult{BackendID: n.ID, MTU: n.MTU}
		return nil
	})
	return res, err
}

// cloudSubnet is a Neutron subnet as Waldur records it.
func cloudSubnet(sn subnets.Subnet) *CloudSubnet {
	out := &CloudSubnet{BackendID: sn.ID, NetworkBackendID: sn.NetworkID, Name: sn.Name, Description: sn.Description, CIDR: sn.CIDR,
		GatewayIP: sn.GatewayIP, IPVersion: sn.IPVersion, EnableDHCP: sn.EnableDHCP, AllocationPools: []CloudAllocationPool{},
		DNSNameservers: nonNilSlice(sn.DNSNameservers)}
	for _, pl := range sn.AllocationPools {
		out.AllocationPools = append(out.AllocationPools, CloudAllocationPool{Start: pl.Start, End: pl.End})
	}
	return out
}
