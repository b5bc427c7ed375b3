package openstack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// The names of what an instance order makes, derived from the marketplace
// resource, so a retried step finds what an earlier attempt made.
func portDescription(res models.UUID) string { return "waldur-resource-" + res.String() }
func keypairName(res models.UUID) string     { return "waldur-" + res.String() }

func meta(r providers.Request, role string) map[string]string {
	m := map[string]string{MetaResourceUUID: r.ResourceUUID.String(), MetaOrderUUID: r.OrderUUID.String()}
	if role != "" {
		m[MetaVolumeRole] = role
	}
	return m
}

// createInstance runs the instance chain: system and data volumes (waited
// for until available), ports on the chosen subnets with the security
// groups, a key pair, the server (booted from the system volume, or from
// the image when there is none), the wait until ACTIVE or ERROR, the data
// volume's attachment and a floating IP. A failure that retrying cannot
// fix removes what the order made (the saga's compensation) before the
// order fails.
func (p *Provider) createInstance(ctx context.Context, r providers.Request) (providers.Result, error) {
	refs, err := refsOf(r)
	if err != nil {
		return providers.Result{}, err
	}
	if refs.Flavor.BackendID == "" {
		return providers.Result{}, providers.Permanent(errors.New("the order names no flavor"))
	}
	if refs.ImageBackendID == "" {
		return providers.Result{}, providers.Permanent(errors.New("the order names no image"))
	}
	if len(refs.Subnets) == 0 {
		return providers.Result{}, providers.Permanent(errors.New("the order names no subnet and the tenant has none"))
	}
	s, err := p.session(ctx, refs.Connection, refs.TenantBackendID)
	if err != nil {
		return providers.Result{}, err
	}
	res, err := p.buildInstance(ctx, s, r, refs)
	var perm *providers.PermanentError
	if errors.As(err, &perm) {
		// Compensation: nothing of a failed order stays in the cloud.
		if cerr := p.removeInstance(ctx, s, r, ""); cerr != nil {
			return res, fmt.Errorf("%v (and removing what it made: %v)", err, cerr)
		}
	}
	return res, err
}

func (p *Provider) buildInstance(ctx context.Context, s *session, r providers.Request, refs Refs) (providers.Result, error) {
	name := firstNonEmpty(r.ResourceName, "waldur-instance-"+r.ResourceUUID.String()[:8])
	az := refs.AvailabilityZone
	var sysVol, dataVol *volumes.Volume
	var err error
	if refs.SystemVolumeSize > 0 {
		sysVol, err = p.ensureVolume(ctx, s, name+"-system", volumes.CreateOpts{Size: GiB(refs.SystemVolumeSize),
			VolumeType: refs.SystemVolumeType, ImageID: refs.ImageBackendID, AvailabilityZone: az, Metadata: meta(r, "system")})
		if err != nil {
			return providers.Result{}, err
		}
	}
	if refs.DataVolumeSize > 0 {
		dataVol, err = p.ensureVolume(ctx, s, name+"-data", volumes.CreateOpts{Size: GiB(refs.DataVolumeSize),
			VolumeType: refs.DataVolumeType, AvailabilityZone: az, Metadata: meta(r, "data")})
		if err != nil {
			return providers.Result{}, err
		}
	}
	var portIDs []string
	for i, sn := range refs.Subnets {
		pt, err := p.ensurePort(ctx, s, fmt.Sprintf("%s-port-%d", name, i), portDescription(r.ResourceUUID), sn, refs.SecurityGroups)
		if err != nil {
			return providers.Result{}, err
		}
		portIDs = append(portIDs, pt.ID)
	}
	keyName := ""
	if refs.PublicKey != "" {
		keyName = keypairName(r.ResourceUUID)
		err := p.step(ctx, "creating the key pair", func() error {
			if _, err := keypairs.Get(ctx, s.compute, keyName, nil).Extract(); err == nil || !notFound(err) {
				return err
			}
			_, err := keypairs.Create(ctx, s.compute, keypairs.CreateOpts{Name: keyName, PublicKey: refs.PublicKey}).Extract()
			return err
		})
		if err != nil {
			return providers.Result{}, err
		}
	}

	var server *servers.Server
	err = p.step(ctx, "creating the server", func() error {
		found, err := p.findServer(ctx, s, r.ResourceUUID, name)
		if err != nil || found != nil {
			server = found
			return err
		}
		opts := servers.CreateOpts{Name: name, FlavorRef: refs.Flavor.BackendID, AvailabilityZone: az, Metadata: meta(r, "")}
		for _, id := range portIDs {
			opts.Networks = append(asNetworks(opts.Networks), servers.Network{Port: id})
		}
		if refs.UserData != "" {
			opts.UserData = []byte(refs.UserData)
		}
		if sysVol != nil {
			opts.BlockDevice = []servers.BlockDevice{{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
				UUID: sysVol.ID, BootIndex: 0}}
		} else {
			opts.ImageRef = refs.ImageBackendID
		}
		var builder servers.CreateOptsBuilder = opts
		if keyName != "" {
			builder = keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: keyName}
		}
		server, err = servers.Create(ctx, s.compute, builder, nil).Extract()
		return err
	})
	if err != nil {
		return providers.Result{}, err
	}
	if err := p.waitServer(ctx, s, server.ID); err != nil {
		return providers.Result{}, err
	}
	if dataVol != nil {
		if err := p.attach(ctx, s, server.ID, dataVol.ID); err != nil {
			return providers.Result{}, err
		}
	}
	if refs.FloatingIP && refs.ExternalNetworkID != "" && len(portIDs) > 0 {
		if err := p.ensureFloatingIP(ctx, s, refs.ExternalNetworkID, portIDs[0], portDescription(r.ResourceUUID)); err != nil {
			return providers.Result{}, err
		}
	}
	if keyName != "" { // the key is in the server now; the pair was only the way in
		if err := p.step(ctx, "removing the key pair", func() error { return ignoreGone(keypairs.Delete(ctx, s.compute, keyName, nil).ExtractErr()) }); err != nil {
			return providers.Result{}, err
		}
	}
	snap, err := p.readInstance(ctx, s, server.ID)
	if err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, BackendID: server.ID,
		Metadata: map[string]any{"server_id": server.ID, "tenant_id": refs.TenantBackendID, "port_ids": portIDs},
		Pulled:   providers.MustEncode(snap)}, nil
}

func asNetworks(v any) []servers.Network {
	if n, ok := v.([]servers.Network); ok {
		return n
	}
	return nil
}

func ignoreGone(err error) error {
	if notFound(err) {
		return nil
	}
	return err
}

// findServer finds the server of a marketplace resource by its metadata
// (nil when there is none).
func (p *Provider) findServer(ctx context.Context, s *session, res models.UUID, name string) (*servers.Server, error) {
	opts := servers.ListOpts{}
	if name != "" {
		opts.Name = "^" + regexp.QuoteMeta(name) + "$"
	}
	pages, err := servers.List(s.compute, opts).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Metadata[MetaResourceUUID] == res.String() {
			return &all[i], nil
		}
	}
	return nil, nil
}

// waitServer waits until the server is ACTIVE; ERROR fails the order.
func (p *Provider) waitServer(ctx context.Context, s *session, id string) error {
	return p.waitServerIn(ctx, s, id, "ACTIVE")
}

// waitServerIn waits until the server's status is one of states; ERROR
// fails for good.
func (p *Provider) waitServerIn(ctx context.Context, s *session, id string, states ...string) error {
	return p.waitFor(ctx, "the server to become "+strings.Join(states, " or "), p.opts.ServerTimeout, func() (bool, error) {
		sv, err := servers.Get(ctx, s.compute, id).Extract()
		if err != nil {
			return false, err
		}
		if slices.Contains(states, sv.Status) {
			return true, nil
		}
		if sv.Status == "ERROR" {
			msg := sv.Fault.Message
			if msg == "" {
				msg = "no fault given"
			}
			return false, providers.Permanent(fmt.Errorf("server %s went to ERROR: %s", sv.Name, msg))
		}
		return false, nil
	})
}

// ensureVolume finds (by name and metadata) or creates a volume and waits
// until it is available.
func (p *Provider) ensureVolume(ctx context.Context, s *session, name string, opts volumes.CreateOpts) (*volumes.Volume, error) {
	opts.Name = name
	var vol *volumes.Volume
	err := p.step(ctx, "creating volume "+name, func() error {
		found, err := findVolumes(ctx, s, name, opts.Metadata)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			vol = &found[0]
			return nil
		}
		vol, err = volumes.Create(ctx, s.volume, opts, nil).Extract()
		return err
	})
	if err != nil {
		return nil, err
	}
	return vol, p.waitVolume(ctx, s, vol.ID, "available", "in-use")
}

// findVolumes lists the volumes of the project named name ("" for any)
// whose metadata holds every pair of want.
func findVolumes(ctx context.Context, s *session, name string, want map[string]string) ([]volumes.Volume, error) {
	pages, err := volumes.List(s.volume, volumes.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, err
	}
	var out []volumes.Volume
	for _, v := range all {
		ok := true
		for k, val := range want {
			if k == MetaOrderUUID {
				continue // a volume belongs to its resource, whichever order made it
			}
			if v.Metadata[k] != val {
				ok = false
			}
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// waitVolume waits until the volume is in one of the states; error fails the order.
func (p *Provider) waitVolume(ctx context.Context, s *session, id string, states ...string) error {
	return p.waitFor(ctx, "volume "+id+" to become "+states[0], p.opts.VolumeTimeout, func() (bool, error) {
		v, err := volumes.Get(ctx, s.volume, id).Extract()
		if err != nil {
			return false, err
		}
		if v.Status == "error" || v.Status == "error_extending" {
			return false, providers.Permanent(fmt.Errorf("volume %s went to %s", v.Name, v.Status))
		}
		for _, st := range states {
			if v.Status == st {
				return true, nil
			}
		}
		return false, nil
	})
}

// waitVolumeGone waits until the volume answers 404.
func (p *Provider) waitVolumeGone(ctx context.Context, s *session, id string) error {
	return p.waitFor(ctx, "volume "+id+" to be deleted", p.opts.VolumeTimeout, func() (bool, error) {
		_, err := volumes.Get(ctx, s.volume, id).Extract()
		if notFound(err) {
			return true, nil
		}
		return false, err
	})
}

// ensurePort finds (by name, network and description) or creates a port
// on a subnet.
func (p *Provider) ensurePort(ctx context.Context, s *session, name, desc string, sn SubnetRef, groups []string) (*ports.Port, error) {
	var pt *ports.Port
	err := p.step(ctx, "creating port "+name, func() error {
		pages, err := ports.List(s.network, ports.ListOpts{Name: name, NetworkID: sn.NetworkID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		for i := range found {
			if found[i].Description == desc {
				pt = &found[i]
				return nil
			}
		}
		opts := ports.CreateOpts{NetworkID: sn.NetworkID, Name: name, Description: desc,
			FixedIPs: []ports.IP{{SubnetID: sn.SubnetID}}}
		if len(groups) > 0 {
			opts.SecurityGroups = &groups
		}
		pt, err = ports.Create(ctx, s.network, opts).Extract()
		return err
	})
	return pt, err
}

// attach attaches a volume to a server unless it is attached, and waits until it is in-use.
func (p *Provider) attach(ctx context.Context, s *session, serverID, volumeID string) error {
	err := p.step(ctx, "attaching volume "+volumeID, func() error {
		v, err := volumes.Get(ctx, s.volume, volumeID).Extract()
		if err != nil {
			return err
		}
		for _, a := range v.Attachments {
			if a.ServerID == serverID {
				return nil
			}
		}
		if v.Status == "attaching" || v.Status == "in-use" {
			return nil
		}
		_, err = volumeattach.Create(ctx, s.compute, serverID, volumeattach.CreateOpts{VolumeID: volumeID}).Extract()
		return err
	})
	if err != nil {
		return err
	}
	return p.waitVolume(ctx, s, volumeID, "in-use")
}

// detach detaches a volume from every server it is attached to and waits until it is available.
func (p *Provider) detach(ctx context.Context, s *session, volumeID string) error {
	err := p.step(ctx, "detaching volume "+volumeID, func() error {
		v, err := volumes.Get(ctx, s.volume, volumeID).Extract()
		if err != nil || v.Status == "detaching" {
			return err
		}
		for _, a := range v.Attachments {
			if err := ignoreGone(volumeattach.Delete(ctx, s.compute, a.ServerID, volumeID).ExtractErr()); err != nil {
				// A DELETE repeated after its answer was lost finds the volume
				// detaching (or detached by now).
				if cur, gerr := volumes.Get(ctx, s.volume, volumeID).Extract(); gerr == nil && (cur.Status == "detaching" || cur.Status == "available") {
					return nil
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.waitVolume(ctx, s, volumeID, "available")
}

// ensureFloatingIP gives a port a floating IP on the external network unless it has one.
func (p *Provider) ensureFloatingIP(ctx context.Context, s *session, extNet, portID, desc string) error {
	return p.step(ctx, "allocating a floating IP", func() error {
		pages, err := floatingips.List(s.network, floatingips.ListOpts{PortID: portID}).AllPages(ctx)
		if err != nil {
			return err
		}
		found, err := floatingips.ExtractFloatingIPs(pages)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			return nil
		}
		_, err = floatingips.Create(ctx, s.network, floatingips.CreateOpts{FloatingNetworkID: extNet, PortID: portID, Description: desc}).Extract()
		return err
	})
}

// terminateInstance removes an instance in reverse order: floating IPs,
// the server (waited for until it is gone), its ports, its volumes and
// key pair.
func (p *Provider) terminateInstance(ctx context.Context, r providers.Request) ([]CloudVolume, error) {
	refs, err := refsOf(r)
	if err != nil {
		return nil, err
	}
	s, err := p.session(ctx, refs.Connection, refs.TenantBackendID)
	if err != nil {
		if notFound(err) || statusOf(err) == 401 {
			return nil, nil // the tenant is gone, and the instance with it
		}
		return nil, err
	}
	// The instance's backups go with it: their snapshots first (Cinder
	// keeps a volume that has snapshots).
	if err := p.deleteSnapshots(ctx, s, refs.BackupSnapshots...); err != nil {
		return nil, err
	}
	opts := removeOptions{deleteVolumes: true, releaseFloatingIPs: true}
	if v, ok := r.Attributes["delete_volumes"].(bool); ok {
		opts.deleteVolumes = v
	}
	if v, ok := r.Attributes["release_floating_ips"].(bool); ok {
		opts.releaseFloatingIPs = v
	}
	return p.removeInstanceWith(ctx, s, r, r.BackendID, opts)
}

// removeOptions are Waldur's options of an instance's termination (the
// Terminate order's attributes delete_volumes and release_floating_ips,
// both true by default): false keeps the data volumes (detached; the
// system volume goes with the server) or the floating IPs (taken off the
// port, kept in the tenant).
type removeOptions struct {
	deleteVolumes, releaseFloatingIPs bool
}

func (p *Provider) removeInstance(ctx context.Context, s *session, r providers.Request, serverID string) error {
	_, err := p.removeInstanceWith(ctx, s, r, serverID, removeOptions{deleteVolumes: true, releaseFloatingIPs: true})
	return err
}

// removeInstanceWith removes the server, its ports, floating IPs and
// volumes as opts say, and answers the volumes it kept.
func (p *Provider) removeInstanceWith(ctx context.Context, s *session, r providers.Request, serverID string, opts removeOptions) ([]CloudVolume, error) {
	desc := portDescription(r.ResourceUUID)
	if serverID == "" {
		var found *servers.Server
		err := p.step(ctx, "looking up the server", func() error {
			var err error
			found, err = p.findServer(ctx, s, r.ResourceUUID, "")
			return err
		})
		if err != nil {
			return nil, err
		}
		if found != nil {
			serverID = found.ID
		}
	}
	// Ports: the ones the order made, and whatever else the server has.
	var portIDs []string
	err := p.step(ctx, "listing the ports", func() error {
		portIDs = nil
		pages, err := ports.List(s.network, ports.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := ports.ExtractPorts(pages)
		if err != nil {
			return err
		}
		for _, pt := range all {
			if pt.Description == desc || (serverID != "" && pt.DeviceID == serverID) {
				portIDs = append(portIDs, pt.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range portIDs {
		what := "releasing floating IPs"
		if !opts.releaseFloatingIPs {
			what = "taking the floating IPs off the port"
		}
		err := p.step(ctx, what, func() error {
			pages, err := floatingips.List(s.network, floatingips.ListOpts{PortID: id}).AllPages(ctx)
			if err != nil {
				return err
			}
			fips, err := floatingips.ExtractFloatingIPs(pages)
			if err != nil {
				return err
			}
			for _, f := range fips {
				if !opts.releaseFloatingIPs {
					empty := ""
					if _, err := floatingips.Update(ctx, s.network, f.ID, floatingips.UpdateOpts{PortID: &empty}).Extract(); err != nil && !notFound(err) {
						return err
					}
					continue
				}
				if err := ignoreGone(floatingips.Delete(ctx, s.network, f.ID).ExtractErr()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if serverID != "" {
		if err := p.deleteServer(ctx, s, serverID); err != nil {
			return nil, err
		}
	}
	for _, id := range portIDs {
		if err := p.step(ctx, "deleting port "+id, func() error { return ignoreGone(ports.Delete(ctx, s.network, id).ExtractErr()) }); err != nil {
			return nil, err
		}
	}
	var vols []volumes.Volume
	err = p.step(ctx, "listing the volumes", func() error {
		var err error
		vols, err = findVolumes(ctx, s, "", map[string]string{MetaResourceUUID: r.ResourceUUID.String()})
		return err
	})
	if err != nil {
		return nil, err
	}
	var kept []CloudVolume
	for _, v := range vols {
		if !opts.deleteVolumes && v.Bootable != "true" {
			if err := p.detach(ctx, s, v.ID); err != nil {
				return nil, err
			}
			var got *volumes.Volume
			if err := p.step(ctx, "reading volume "+v.ID, func() error {
				var err error
				got, err = volumes.Get(ctx, s.volume, v.ID).Extract()
				return err
			}); err != nil {
				return nil, err
			}
			kept = append(kept, volumeOf(*got))
			continue
		}
		if err := p.deleteVolume(ctx, s, v.ID); err != nil {
			return nil, err
		}
	}
	return kept, p.step(ctx, "removing the key pair", func() error {
		return ignoreGone(keypairs.Delete(ctx, s.compute, keypairName(r.ResourceUUID), nil).ExtractErr())
	})
}

// deleteServer deletes a server and waits until it answers 404.
func (p *Provider) deleteServer(ctx context.Context, s *session, id string) error {
	err := p.step(ctx, "deleting server "+id, func() error { return ignoreGone(servers.Delete(ctx, s.compute, id).ExtractErr()) })
	if err != nil {
		return err
	}
	return p.waitFor(ctx, "server "+id+" to be deleted", p.opts.ServerTimeout, func() (bool, error) {
		_, err := servers.Get(ctx, s.compute, id).Extract()
		if notFound(err) {
			return true, nil
		}
		return false, err
	})
}

// deleteVolume detaches a volume if it is attached, deletes it and waits until it is gone.
func (p *Provider) deleteVolume(ctx context.Context, s *session, id string) error {
	var v *volumes.Volume
	err := p.step(ctx, "reading volume "+id, func() error {
		var err error
		v, err = volumes.Get(ctx, s.volume, id).Extract()
		return err
	})
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	switch v.Status {
	case "deleting":
		return p.waitVolumeGone(ctx, s, id)
	case "in-use", "attaching", "detaching":
		if err := p.detach(ctx, s, id); err != nil {
			return err
		}
	case "creating", "extending", "downloading":
		if err := p.waitVolume(ctx, s, id, "available", "in-use"); err != nil && !errors.As(err, new(*providers.PermanentError)) {
			return err
		}
	}
	err = p.step(ctx, "deleting volume "+id, func() error { return ignoreGone(volumes.Delete(ctx, s.volume, id, nil).ExtractErr()) })
	if err != nil {
		return err
	}
	return p.waitVolumeGone(ctx, s, id)
}
