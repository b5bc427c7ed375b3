package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/waldur-go/waldur/providers"
)

// terminateTenant deletes everything in the tenant's project, in Waldur's
// order (floating IPs, servers, server groups, snapshots, volumes, router
// interfaces and routers, ports, subnets, networks, security groups), then
// its user and the project. A project that is gone already is not an error.
func (p *Provider) terminateTenant(ctx context.Context, r providers.Request) error {
	conn, err := ConnectionFrom(r.SecretOptions)
	if err != nil {
		return providers.Permanent(err)
	}
	adm, err := p.session(ctx, conn, "")
	if err != nil {
		return err
	}
	project := r.BackendID
	if project == "" { // the chain may have made the project before the order failed
		a, err := tenantNames(r)
		if err != nil {
			return err
		}
		var found []projects.Project
		if err := p.step(ctx, "looking up the project", func() error {
			found, err = projectsNamed(ctx, adm, a.Name)
			return err
		}); err != nil {
			return err
		}
		for _, pr := range found {
			for _, t := range pr.Tags {
				if t == projectTag(r.ResourceUUID) {
					project = pr.ID
				}
			}
		}
		if project == "" {
			return nil
		}
	}
	err = p.step(ctx, "reading the project", func() error { return projects.Get(ctx, adm.identity, project).Err })
	if notFound(err) {
		p.forget(conn, project)
		return nil
	}
	if err != nil {
		return err
	}
	s, err := p.session(ctx, conn, project)
	if err != nil {
		return err
	}
	each := func(what string, list func() ([]string, error), del func(id string) error) error {
		var ids []string
		if err := p.step(ctx, "listing "+what, func() error {
			var err error
			ids, err = list()
			return err
		}); err != nil {
			return err
		}
		for _, id := range ids {
			if err := del(id); err != nil {
				return err
			}
		}
		return nil
	}
	simple := func(what string, del func(id string) error) func(string) error {
		return func(id string) error {
			return p.step(ctx, "deleting "+what+" "+id, func() error { return ignoreGone(del(id)) })
		}
	}

	if err := each("floating IPs", func() ([]string, error) {
		pages, err := floatingips.List(s.network, floatingips.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		fs, err := floatingips.ExtractFloatingIPs(pages)
		return idsOf(fs, func(f floatingips.FloatingIP) string { return f.ID }), err
	}, simple("floating IP", func(id string) error { return floatingips.Delete(ctx, s.network, id).ExtractErr() })); err != nil {
		return err
	}
	if err := each("servers", func() ([]string, error) {
		pages, err := servers.List(s.compute, servers.ListOpts{}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := servers.ExtractServers(pages)
		return idsOf(ss, func(s servers.Server) string { return s.ID }), err
	}, func(id string) error { return p.deleteServer(ctx, s, id) }); err != nil {
		return err
	}
	// Server groups once their members are gone; snapshots before the
	// volumes they hold (Cinder refuses to delete a volume with snapshots).
	if err := each("server groups", func() ([]string, error) {
		gs, err := listServerGroups(ctx, s)
		return idsOf(gs, func(g CloudServerGroup) string { return g.BackendID }), err
	}, simple("server group", func(id string) error { return servergroups.Delete(ctx, s.compute, id).ExtractErr() })); err != nil {
		return err
	}
	if err := p.deleteVolumeSnapshots(ctx, s, ""); err != nil {
		return err
	}
	if err := each("volumes", func() ([]string, error) {
		pages, err := volumes.List(s.volume, volumes.ListOpts{}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		vs, err := volumes.ExtractVolumes(pages)
		return idsOf(vs, func(v volumes.Volume) string { return v.ID }), err
	}, func(id string) error { return p.deleteVolume(ctx, s, id) }); err != nil {
		return err
	}
	if err := each("routers", func() ([]string, error) {
		pages, err := routers.List(s.network, routers.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		rs, err := routers.ExtractRouters(pages)
		return idsOf(rs, func(r routers.Router) string { return r.ID }), err
	}, func(id string) error {
		if err := each("router interfaces", func() ([]string, error) {
			pages, err := ports.List(s.network, ports.ListOpts{DeviceID: id, DeviceOwner: "network:router_interface"}).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			ps, err := ports.ExtractPorts(pages)
			return idsOf(ps, func(pt ports.Port) string { return pt.ID }), err
		}, func(portID string) error {
			return p.step(ctx, "removing a router interface", func() error {
				_, err := routers.RemoveInterface(ctx, s.network, id, routers.RemoveInterfaceOpts{PortID: portID}).Extract()
				return ignoreGone(err)
			})
		}); err != nil {
			return err
		}
		return simple("router", func(id string) error { return routers.Delete(ctx, s.network, id).ExtractErr() })(id)
	}); err != nil {
		return err
	}
	if err := each("ports", func() ([]string, error) {
		pages, err := ports.List(s.network, ports.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		ps, err := ports.ExtractPorts(pages)
		var out []string
		for _, pt := range ps {
			if pt.DeviceOwner != "network:dhcp" && pt.DeviceOwner != "network:router_gateway" {
				out = append(out, pt.ID)
			}
		}
		return out, err
	}, simple("port", func(id string) error { return ports.Delete(ctx, s.network, id).ExtractErr() })); err != nil {
		return err
	}
	if err := each("subnets", func() ([]string, error) {
		pages, err := subnets.List(s.network, subnets.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := subnets.ExtractSubnets(pages)
		return idsOf(ss, func(s subnets.Subnet) string { return s.ID }), err
	}, simple("subnet", func(id string) error { return subnets.Delete(ctx, s.network, id).ExtractErr() })); err != nil {
		return err
	}
	if err := each("networks", func() ([]string, error) {
		pages, err := networks.List(s.network, networks.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		ns, err := networks.ExtractNetworks(pages)
		return idsOf(ns, func(n networks.Network) string { return n.ID }), err
	}, simple("network", func(id string) error { return networks.Delete(ctx, s.network, id).ExtractErr() })); err != nil {
		return err
	}
	// The default group is the admin's to remove: the admin project's session does it.
	if err := each("security groups", func() ([]string, error) {
		pages, err := groups.List(adm.network, groups.ListOpts{ProjectID: project}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		gs, err := groups.ExtractGroups(pages)
		return idsOf(gs, func(g groups.SecGroup) string { return g.ID }), err
	}, simple("security group", func(id string) error { return groups.Delete(ctx, adm.network, id).ExtractErr() })); err != nil {
		return err
	}
	if err := each("users", func() ([]string, error) {
		pages, err := users.List(adm.identity, users.ListOpts{DomainID: adm.domainID}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		us, err := users.ExtractUsers(pages)
		var out []string
		for _, u := range us {
			if u.DefaultProjectID == project {
				out = append(out, u.ID)
			}
		}
		return out, err
	}, simple("user", func(id string) error { return users.Delete(ctx, adm.identity, id).ExtractErr() })); err != nil {
		return err
	}
	err = p.step(ctx, "deleting the project", func() error { return ignoreGone(projects.Delete(ctx, adm.identity, project).ExtractErr()) })
	p.forget(conn, project)
	return err
}

func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

// deleteVolumeSnapshots deletes the snapshots of a volume (of every volume
// of the session's project when volumeID is empty), each waited for until
// Cinder has it gone; one being made is waited for first (Cinder deletes
// only an available or erred snapshot).
func (p *Provider) deleteVolumeSnapshots(ctx context.Context, s *session, volumeID string) error {
	var found []snapshots.Snapshot
	err := p.step(ctx, "listing snapshots", func() error {
		pages, err := snapshots.List(s.volume, snapshots.ListOpts{VolumeID: volumeID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err = snapshots.ExtractSnapshots(pages)
		return err
	})
	if err != nil {
		return err
	}
	for _, sn := range found {
		if volumeID != "" && sn.VolumeID != volumeID {
			continue
		}
		if sn.Status == "creating" {
			id := sn.ID
			err := p.waitFor(ctx, "snapshot "+id+" to be made", p.opts.VolumeTimeout, func() (bool, error) {
				got, err := snapshots.Get(ctx, s.volume, id).Extract()
				if notFound(err) {
					return true, nil
				} else if err != nil {
					return false, err
				}
				return got.Status != "creating", nil
			})
			if err != nil {
				return err
			}
		}
		if err := p.deleteSnapshots(ctx, s, sn.ID); err != nil {
			return err
		}
	}
	return nil
}

// deleteVolumeWithSnapshots deletes a volume's snapshots, then the volume
// (a volume's termination: Cinder refuses a volume with snapshots).
func (p *Provider) deleteVolumeWithSnapshots(ctx context.Context, s *session, id string) error {
	if id == "" {
		return nil
	}
	if err := p.deleteVolumeSnapshots(ctx, s, id); err != nil {
		return err
	}
	return p.deleteVolume(ctx, s, id)
}
