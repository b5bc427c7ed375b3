package openstack

import (
	"context"
	"fmt"
	"regexp"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/waldur-go/waldur/models"
)

// The backend half of a backup's restore (Waldur's BackupRestoration): an
// instance row made by the API (CREATION_SCHEDULED, action "create") is
// made in the cloud from the backup's snapshots: a volume from each
// snapshot (found by name and snapshot when an earlier attempt made it),
// its ports in the subnets asked (found by name and marker), a server
// booted from the system volume with the flavor asked (found by its
// metadata), the other volumes attached, floating IPs on the ports asked.
// It reads the server back with its volumes.

// MetaRestoredInstance is the server metadata key naming the instance a
// backup's restore makes (a retried restore finds the server by it).
const MetaRestoredInstance = "waldur_restored_instance_uuid"

// BackupRestoreRequest is what a backup's restore needs.
type BackupRestoreRequest struct {
	Name            string `json:"name"`
	FlavorBackendID string `json:"flavor_backend_id"`
	// Volumes are made from the backup's snapshots; Boot marks the system one.
	Volumes []RestoreVolume `json:"volumes"`
	// Ports are made in these subnets; FloatingIPSubnets are the subnets
	// whose port gets a floating IP.
	Ports             []SubnetRef `json:"ports"`
	FloatingIPSubnets []string    `json:"floating_ip_subnets,omitempty"`
	// SecurityGroups are the groups of the ports (backend ids).
	SecurityGroups    []string `json:"security_groups,omitempty"`
	AvailabilityZone  string   `json:"availability_zone,omitempty"`
	ExternalNetworkID string   `json:"external_network_id,omitempty"`
	// Marker is the restored instance's UUID (server metadata, ports' description).
	Marker string `json:"marker,omitempty"`
}

// RestoreVolume is a volume to make from a snapshot (size in MiB).
type RestoreVolume struct {
	SnapshotBackendID string `json:"snapshot_backend_id"`
	Name              string `json:"name"`
	Size              int64  `json:"size"`
	TypeName          string `json:"type_name,omitempty"`
	Boot              bool   `json:"boot,omitempty"`
}

func (p *Provider) restoreBackup(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	r := req.Restore
	if r == nil || r.FlavorBackendID == "" || len(r.Volumes) == 0 || r.Marker == "" {
		return ActionResult{}, refuse(models.CodeInvalid, "the restore names no flavor or snapshots")
	}
	var boot string
	var data []string
	for _, v := range r.Volumes {
		res, err := p.restoreSnapshot(ctx, s, v.SnapshotBackendID, &CloudVolume{Name: v.Name, Size: v.Size, TypeName: v.TypeName})
		if err != nil {
			return ActionResult{}, err
		}
		if v.Boot && boot == "" {
			boot = res.Storage.Volume.BackendID
		} else {
			data = append(data, res.Storage.Volume.BackendID)
		}
	}
	if boot == "" {
		boot, data = data[0], data[1:]
	}
	portBySubnet := map[string]string{}
	var portIDs []string
	for i, sn := range r.Ports {
		pt, err := p.ensurePort(ctx, s, fmt.Sprintf("%s-port-%d", r.Name, i), "waldur-instance-"+r.Marker, sn, r.SecurityGroups)
		if err != nil {
			return ActionResult{}, err
		}
		portIDs = append(portIDs, pt.ID)
		if _, ok := portBySubnet[sn.SubnetID]; !ok {
			portBySubnet[sn.SubnetID] = pt.ID
		}
	}
	var server *servers.Server
	err := p.step(ctx, "creating the server", func() error {
		pages, err := servers.List(s.compute, servers.ListOpts{Name: "^" + regexp.QuoteMeta(r.Name) + "$"}).AllPages(ctx)
		if err != nil {
			return err
		}
		all, err := servers.ExtractServers(pages)
		if err != nil {
			return err
		}
		for i := range all {
			if all[i].Metadata[MetaRestoredInstance] == r.Marker {
				server = &all[i] // made by an earlier attempt
				return nil
			}
		}
		opts := servers.CreateOpts{Name: r.Name, FlavorRef: r.FlavorBackendID, AvailabilityZone: r.AvailabilityZone,
			Metadata: map[string]string{MetaRestoredInstance: r.Marker},
			BlockDevice: []servers.BlockDevice{{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
				UUID: boot, BootIndex: 0}}}
		for _, id := range portIDs {
			opts.Networks = append(asNetworks(opts.Networks), servers.Network{Port: id})
		}
		server, err = servers.Create(ctx, s.compute, opts, nil).Extract()
		if code := statusOf(err); code == 400 || code == 403 || code == 409 {
			return refuse(models.CodeInvalid, "the server cannot be made: %v", err)
		}
		return err
	})
	if err != nil {
		return ActionResult{}, err
	}
	if err := p.waitServer(ctx, s, server.ID); err != nil {
		return ActionResult{}, err
	}
	for _, id := range data {
		if err := p.attach(ctx, s, server.ID, id); err != nil {
			return ActionResult{}, err
		}
	}
	for _, sub := range r.FloatingIPSubnets {
		pid, ok := portBySubnet[sub]
		if !ok || r.ExternalNetworkID == "" {
			continue
		}
		if err := p.ensureFloatingIP(ctx, s, r.ExternalNetworkID, pid, "waldur-instance-"+r.Marker); err != nil {
			return ActionResult{}, err
		}
	}
	snap, err := p.readInstance(ctx, s, server.ID)
	if err != nil {
		return ActionResult{}, err
	}
	res := ActionResult{BackendID: server.ID, Servers: snap.Servers, Volumes: snap.Volumes}
	if len(snap.Servers) > 0 {
		res.RuntimeState = snap.Servers[0].Status
	}
	return res, nil
}
