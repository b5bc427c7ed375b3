package openstack

import (
	"context"
	"fmt"
	"time"

	cinderquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	novaquotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Pull reads everything of a tenant: its catalog (flavors, images, volume
// types), networks, subnets, security groups, floating IPs, servers,
// volumes and quotas. A tenant whose project is gone from the cloud gives
// a snapshot with Gone set.
func (p *Provider) Pull(ctx context.Context, conn Connection, tenantBackendID string) (Snapshot, error) {
	taken := time.Now().UTC()
	adm, err := p.session(ctx, conn, "")
	if err != nil {
		return Snapshot{}, err
	}
	err = p.step(ctx, "reading the project", func() error {
		return projects.Get(ctx, adm.identity, tenantBackendID).Err
	})
	if notFound(err) {
		p.forget(conn, tenantBackendID)
		return Snapshot{Taken: taken, Gone: true}, nil
	}
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := p.snapshot(ctx, conn, tenantBackendID)
	snap.Taken = taken
	return snap, err
}

// snapshot reads a tenant through a session scoped to its project.
func (p *Provider) snapshot(ctx context.Context, conn Connection, project string) (Snapshot, error) {
	snap := Snapshot{Taken: time.Now().UTC(), Full: true}
	s, err := p.session(ctx, conn, project)
	if err != nil {
		return snap, err
	}
	read := func(what string, fn func() error) error { return p.step(ctx, "reading "+what, fn) }

	flavorByID := map[string]CloudFlavor{}
	if err := read("flavors", func() error {
		pages, err := flavors.ListDetail(s.compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
		if err != nil {
			return err
		}
		fs, err := flavors.ExtractFlavors(pages)
		if err != nil {
			return err
		}
		snap.Flavors = snap.Flavors[:0]
		for _, f := range fs {
			mf := CloudFlavor{BackendID: f.ID, Name: f.Name, Cores: f.VCPUs, RAM: int64(f.RAM), Disk: MiB(f.Disk)}
			snap.Flavors = append(snap.Flavors, mf)
			flavorByID[f.ID] = mf
		}
		return nil
	}); err != nil {
		return snap, err
	}
	imageName := map[string]string{}
	if err := read("images", func() error {
		pages, err := images.List(s.image, images.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		is, err := images.ExtractImages(pages)
		if err != nil {
			return err
		}
		snap.Images = snap.Images[:0]
		for _, im := range is {
			created := im.CreatedAt
			snap.Images = append(snap.Images, CloudImage{BackendID: im.ID, Name: im.Name, MinDisk: MiB(im.MinDiskGigabytes),
				MinRAM: int64(im.MinRAMMegabytes), Created: &created})
			imageName[im.ID] = im.Name
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("volume types", func() error {
		pages, err := volumetypes.List(s.volume, volumetypes.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		ts, err := volumetypes.ExtractVolumeTypes(pages)
		if err != nil {
			return err
		}
		snap.VolumeTypes = snap.VolumeTypes[:0]
		for _, t := range ts {
			snap.VolumeTypes = append(snap.VolumeTypes, CloudVolumeType{BackendID: t.ID, Name: t.Name, Description: t.Description})
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("networks", func() error {
		pages, err := networks.List(s.network, networks.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		ns, err := networks.ExtractNetworks(pages)
		if err != nil {
			return err
		}
		// Read apart: networks.Network's UnmarshalJSON, promoted from an
		// embedded field, would drop router:external and mtu.
		var ext []struct {
			External bool `json:"router:external"`
			MTU      int  `json:"mtu"`
		}
		if err := networks.ExtractNetworksInto(pages, &ext); err != nil {
			return err
		}
		snap.Networks = snap.Networks[:0]
		for i, n := range ns {
			cn := CloudNetwork{BackendID: n.ID, Name: n.Name, Description: n.Description, Shared: n.Shared}
			if i < len(ext) {
				cn.External, cn.MTU = ext[i].External, ext[i].MTU
			}
			snap.Networks = append(snap.Networks, cn)
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("subnets", func() error {
		pages, err := subnets.List(s.network, subnets.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		ss, err := subnets.ExtractSubnets(pages)
		if err != nil {
			return err
		}
		snap.Subnets = snap.Subnets[:0]
		for _, sn := range ss {
			ms := CloudSubnet{BackendID: sn.ID, NetworkBackendID: sn.NetworkID, Name: sn.Name, Description: sn.Description,
				CIDR: sn.CIDR, GatewayIP: sn.GatewayIP, IPVersion: sn.IPVersion, EnableDHCP: sn.EnableDHCP, DNSNameservers: sn.DNSNameservers}
			for _, ap := range sn.AllocationPools {
				ms.AllocationPools = append(ms.AllocationPools, CloudAllocationPool{Start: ap.Start, End: ap.End})
			}
			snap.Subnets = append(snap.Subnets, ms)
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("security groups", func() error {
		pages, err := groups.List(s.network, groups.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		gs, err := groups.ExtractGroups(pages)
		if err != nil {
			return err
		}
		snap.SecurityGroups = snap.SecurityGroups[:0]
		for _, g := range gs {
			snap.SecurityGroups = append(snap.SecurityGroups, cloudSecurityGroup(g))
		}
		return nil
	}); err != nil {
		return snap, err
	}
	floatingByPort := map[string][]string{}
	if err := read("floating IPs", func() error {
		pages, err := floatingips.List(s.network, floatingips.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		fs, err := floatingips.ExtractFloatingIPs(pages)
		if err != nil {
			return err
		}
		snap.FloatingIPs = snap.FloatingIPs[:0]
		clear(floatingByPort)
		for _, f := range fs {
			snap.FloatingIPs = append(snap.FloatingIPs, CloudFloatingIP{BackendID: f.ID, Address: f.FloatingIP, RuntimeState: f.Status,
				NetworkBackendID: f.FloatingNetworkID, PortBackendID: f.PortID, FixedIP: f.FixedIP, Description: f.Description})
			if f.PortID != "" {
				floatingByPort[f.PortID] = append(floatingByPort[f.PortID], f.FloatingIP)
			}
		}
		return nil
	}); err != nil {
		return snap, err
	}
	portsByDevice := map[string][]ports.Port{}
	var allPorts []portWithSecurity
	if err := read("ports", func() error {
		pages, err := ports.List(s.network, ports.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		ps, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		var full []portWithSecurity
		if err := ports.ExtractPortsInto(pages, &full); err != nil {
			return err
		}
		snap.Ports, allPorts = []CloudPortInfo{}, full
		for _, pt := range full {
			snap.Ports = append(snap.Ports, *cloudPortInfo(pt))
		}
		clear(portsByDevice)
		for _, pt := range ps {
			if pt.DeviceID != "" {
				portsByDevice[pt.DeviceID] = append(portsByDevice[pt.DeviceID], pt)
			}
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("routers", func() error {
		pages, err := routers.List(s.network, routers.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return err
		}
		rs, err := routers.ExtractRouters(pages)
		if err != nil {
			return err
		}
		snap.Routers = []CloudRouter{}
		for _, r := range rs {
			snap.Routers = append(snap.Routers, *cloudRouter(r, allPorts))
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := read("servers", func() error {
		pages, err := servers.List(s.compute, servers.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		svs, err := servers.ExtractServers(pages)
		if err != nil {
			return err
		}
		snap.Servers = snap.Servers[:0]
		for _, sv := range svs {
			snap.Servers = append(snap.Servers, serverOf(sv, flavorByID, imageName, portsByDevice[sv.ID], floatingByPort))
		}
		return nil
	}); err != nil {
		return snap, err
	}
	if err := p.readSurroundings(ctx, s, &snap); err != nil { // zones and external networks: pull_zones.go
		return snap, err
	}
	if err := p.readStorage(ctx, s, project, &snap); err != nil { // server groups, snapshots, RBAC policies: pull_storage.go
		return snap, err
	}
	if err := read("volumes", func() error {
		pages, err := volumes.List(s.volume, volumes.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		vs, err := volumes.ExtractVolumes(pages)
		if err != nil {
			return err
		}
		snap.Volumes = snap.Volumes[:0]
		for _, v := range vs {
			snap.Volumes = append(snap.Volumes, volumeOf(v))
		}
		return nil
	}); err != nil {
		return snap, err
	}
	err = read("quotas", func() error {
		var err error
		snap.Quotas, err = readQuotas(ctx, s, project)
		return err
	})
	return snap, err
}

// readQuotas reads a tenant's quotas (limits and usage): Nova's cores,
// ram (MiB) and instances, Cinder's storage (MiB) and volumes.
func readQuotas(ctx context.Context, s *session, project string) ([]CloudQuota, error) {
	nq, err := novaquotas.GetDetail(ctx, s.compute, project).Extract()
	if err != nil {
		return nil, err
	}
	out := []CloudQuota{
		{Name: "cores", Limit: float64(nq.Cores.Limit), Usage: float64(nq.Cores.InUse)},
		{Name: "ram", Limit: float64(nq.RAM.Limit), Usage: float64(nq.RAM.InUse)},
		{Name: "instances", Limit: float64(nq.Instances.Limit), Usage: float64(nq.Instances.InUse)}}
	cq, err := cinderquotas.GetUsage(ctx, s.volume, project).Extract()
	if err != nil {
		return nil, err
	}
	storage := func(q cinderquotas.QuotaUsage) (limit, usage float64) {
		limit = float64(q.Limit)
		if q.Limit > 0 {
			limit = float64(MiB(q.Limit))
		}
		return limit, float64(MiB(q.InUse))
	}
	l, u := storage(cq.Gigabytes)
	return append(out, CloudQuota{Name: "storage", Limit: l, Usage: u},
		CloudQuota{Name: "volumes", Limit: float64(cq.Volumes.Limit), Usage: float64(cq.Volumes.InUse)}), nil
}

func serverOf(sv servers.Server, flavorByID map[string]CloudFlavor, imageName map[string]string, ps []ports.Port, floating map[string][]string) CloudServer {
	out := CloudServer{BackendID: sv.ID, Name: sv.Name, Status: sv.Status, KeyName: sv.KeyName, AvailabilityZone: sv.AvailabilityZone,
		Metadata: sv.Metadata, Created: sv.Created, InternalIPs: []string{}, ExternalIPs: []string{}, Ports: []CloudPort{},
		SecurityGroups: []string{}, VolumeBackendIDs: []string{}, Fault: sv.Fault.Message}
	if id, ok := sv.Flavor["id"].(string); ok {
		out.FlavorBackendID = id
		if f, ok := flavorByID[id]; ok {
			out.FlavorName, out.Cores, out.RAM, out.Disk = f.Name, f.Cores, f.RAM, f.Disk
		}
	}
	if id, ok := sv.Image["id"].(string); ok {
		out.ImageBackendID, out.ImageName = id, imageName[id]
	}
	for _, pt := range ps {
		mp := CloudPort{BackendID: pt.ID, NetworkBackendID: pt.NetworkID, MACAddress: pt.MACAddress, SecurityGroups: pt.SecurityGroups}
		if len(pt.FixedIPs) > 0 {
			mp.SubnetBackendID, mp.IPAddress = pt.FixedIPs[0].SubnetID, pt.FixedIPs[0].IPAddress
		}
		for _, ip := range pt.FixedIPs {
			out.InternalIPs = append(out.InternalIPs, ip.IPAddress)
		}
		out.ExternalIPs = append(out.ExternalIPs, floating[pt.ID]...)
		out.Ports = append(out.Ports, mp)
	}
	for _, g := range sv.SecurityGroups {
		if n, ok := g["name"].(string); ok {
			out.SecurityGroups = append(out.SecurityGroups, n)
		}
	}
	for _, v := range sv.AttachedVolumes {
		out.VolumeBackendIDs = append(out.VolumeBackendIDs, v.ID)
	}
	return out
}

// readInstance reads one server back with its ports, floating IPs and
// volumes (the result of an instance order).
func (p *Provider) readInstance(ctx context.Context, s *session, serverID string) (Snapshot, error) {
	var snap Snapshot
	err := p.step(ctx, "reading the instance back", func() error {
		snap = Snapshot{Taken: time.Now().UTC()}
		sv, err := servers.Get(ctx, s.compute, serverID).Extract()
		if err != nil {
			return err
		}
		pages, err := ports.List(s.network, ports.ListOpts{DeviceID: serverID}).AllPages(ctx)
		if err != nil {
			return err
		}
		ps, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		floating := map[string][]string{}
		for _, pt := range ps {
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
				snap.FloatingIPs = append(snap.FloatingIPs, CloudFloatingIP{BackendID: f.ID, Address: f.FloatingIP,
					RuntimeState: f.Status, NetworkBackendID: f.FloatingNetworkID, PortBackendID: f.PortID, FixedIP: f.FixedIP, Description: f.Description})
			}
		}
		flavorByID := map[string]CloudFlavor{}
		if id, ok := sv.Flavor["id"].(string); ok {
			f, err := flavors.Get(ctx, s.compute, id).Extract()
			if err != nil {
				return err
			}
			flavorByID[id] = CloudFlavor{BackendID: f.ID, Name: f.Name, Cores: f.VCPUs, RAM: int64(f.RAM), Disk: MiB(f.Disk)}
		}
		imageName := map[string]string{}
		if id, ok := sv.Image["id"].(string); ok && id != "" {
			if im, err := images.Get(ctx, s.image, id).Extract(); err == nil {
				imageName[id] = im.Name
			} else if !notFound(err) {
				return err
			}
		}
		snap.Servers = []CloudServer{serverOf(*sv, flavorByID, imageName, ps, floating)}
		snap.Volumes = nil
		for _, av := range sv.AttachedVolumes {
			v, err := volumes.Get(ctx, s.volume, av.ID).Extract()
			if err != nil {
				return err
			}
			snap.Volumes = append(snap.Volumes, volumeOf(*v))
		}
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("reading server %s: %w", serverID, err)
	}
	return snap, nil
}

// cloudSecurityGroup is a Neutron security group as Waldur records it.
func cloudSecurityGroup(g groups.SecGroup) CloudSecurityGroup {
	mg := CloudSecurityGroup{BackendID: g.ID, Name: g.Name, Description: g.Description, Rules: []CloudRule{}}
	for _, r := range g.Rules {
		mr := CloudRule{BackendID: r.ID, Direction: r.Direction, EtherType: r.EtherType, Protocol: r.Protocol,
			CIDR: r.RemoteIPPrefix, RemoteGroupBackendID: r.RemoteGroupID, Description: r.Description}
		if r.PortRangeMin != 0 || r.PortRangeMax != 0 {
			mr.FromPort, mr.ToPort = ptr(r.PortRangeMin), ptr(r.PortRangeMax)
		}
		mg.Rules = append(mg.Rules, mr)
	}
	return mg
}
