package openstack

import (
	"context"

	cinderzones "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/availabilityzones"
	novazones "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// What a pull reads about a tenant's surroundings: Nova's and Cinder's
// availability zones (Waldur's pull_tenant_instance_availability_zones and
// pull_tenant_volume_availability_zones) and the external networks the
// tenant's project sees, with their subnets (Waldur's external networks of
// the service settings).

// CloudZone is an availability zone of Nova or Cinder.
type CloudZone struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
}

// CloudExternalNetwork is a network with router:external and its subnets.
type CloudExternalNetwork struct {
	BackendID   string        `json:"backend_id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Shared      bool          `json:"shared"`
	Default     bool          `json:"is_default"`
	Status      string        `json:"status"`
	Subnets     []CloudSubnet `json:"subnets"`
}

// readSurroundings adds the zones and external networks to snap.
func (p *Provider) readSurroundings(ctx context.Context, s *session, snap *Snapshot) error {
	read := func(what string, fn func() error) error { return p.step(ctx, "reading "+what, fn) }
	if err := read("instance availability zones", func() error {
		pages, err := novazones.List(s.compute).AllPages(ctx)
		if err != nil {
			return err
		}
		zs, err := novazones.ExtractAvailabilityZones(pages)
		if err != nil {
			return err
		}
		snap.InstanceZones = []CloudZone{}
		for _, z := range zs {
			snap.InstanceZones = append(snap.InstanceZones, CloudZone{Name: z.ZoneName, Available: z.ZoneState.Available})
		}
		return nil
	}); err != nil {
		return err
	}
	if err := read("volume availability zones", func() error {
		pages, err := cinderzones.List(s.volume).AllPages(ctx)
		if err != nil {
			return err
		}
		zs, err := cinderzones.ExtractAvailabilityZones(pages)
		if err != nil {
			return err
		}
		snap.VolumeZones = []CloudZone{}
		for _, z := range zs {
			snap.VolumeZones = append(snap.VolumeZones, CloudZone{Name: z.ZoneName, Available: z.ZoneState.Available})
		}
		return nil
	}); err != nil {
		return err
	}
	return read("external networks", func() error {
		yes := true
		pages, err := networks.List(s.network, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: &yes}).AllPages(ctx)
		if err != nil {
			return err
		}
		var ns []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Description string `json:"description"`
			Shared      bool   `json:"shared"`
			External    bool   `json:"router:external"`
			IsDefault   bool   `json:"is_default"`
			Status      string `json:"status"`
		}
		if err := networks.ExtractNetworksInto(pages, &ns); err != nil {
			return err
		}
		snap.ExternalNetworks = []CloudExternalNetwork{}
		for _, n := range ns {
			if !n.External {
				continue // a cloud that ignores the filter
			}
			en := CloudExternalNetwork{BackendID: n.ID, Name: n.Name, Description: n.Description, Shared: n.Shared, Default: n.IsDefault,
				Status: n.Status, Subnets: []CloudSubnet{}}
			spages, err := subnets.List(s.network, subnets.ListOpts{NetworkID: n.ID}).AllPages(ctx)
			if err != nil {
				return err
			}
			ss, err := subnets.ExtractSubnets(spages)
			if err != nil {
				return err
			}
			for _, sn := range ss {
				ms := CloudSubnet{BackendID: sn.ID, NetworkBackendID: sn.NetworkID, Name: sn.Name, Description: sn.Description,
					CIDR: sn.CIDR, GatewayIP: sn.GatewayIP, IPVersion: sn.IPVersion, EnableDHCP: sn.EnableDHCP,
					DNSNameservers: nonNilSlice(sn.DNSNameservers), AllocationPools: []CloudAllocationPool{}}
				for _, ap := range sn.AllocationPools {
					ms.AllocationPools = append(ms.AllocationPools, CloudAllocationPool{Start: ap.Start, End: ap.End})
				}
				en.Subnets = append(en.Subnets, ms)
			}
			snap.ExternalNetworks = append(snap.ExternalNetworks, en)
		}
		return nil
	})
}
