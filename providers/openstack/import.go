package openstack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Import of servers and volumes made outside Waldur into OpenStack.Instance
// and OpenStack.Volume offerings (importable_resources, import_resource).
// The provider reads no database: the tenants an offering imports from
// arrive resolved in Request.Resolved (ImportSource, filled by the core's
// Keeper). What an order made carries the metadata
// waldur_resource_uuid (meta); everything else in those tenants can become a
// resource. Nothing is changed in the cloud.

var _ providers.Importer = (*Provider)(nil)

// ImportSource is Request.Resolved of an instance or volume offering's
// import: the tenants it imports from, with their clouds' credentials.
// Error, when set, is why the offering cannot import.
type ImportSource struct {
	Error   string         `json:"error,omitempty"`
	Tenants []ImportTenant `json:"tenants"`
}

// ImportTenant is a tenant an import reads.
type ImportTenant struct {
	UUID       string     `json:"uuid"` // the openstack_tenants row's
	Name       string     `json:"name"`
	BackendID  string     `json:"backend_id"`
	Connection Connection `json:"connection"`
}

// Imported is ImportedResource.Pulled of an OpenStack import: the tenant
// the object is in and what was read of it (the server with its ports,
// floating IPs and attached volumes; or the volume).
type Imported struct {
	TenantUUID string   `json:"tenant_uuid"`
	Snapshot   Snapshot `json:"snapshot"`
}

func importSourceOf(r providers.Request) (ImportSource, error) {
	if r.OfferingType != OfferingInstance && r.OfferingType != OfferingVolume {
		return ImportSource{}, providers.Permanent(models.Errorf(models.CodeInvalid, "Offering type %s does not support importing resources.", r.OfferingType))
	}
	src, err := providers.Decode[ImportSource](r.Resolved)
	if err != nil {
		return src, providers.Permanent(fmt.Errorf("the import's tenants are malformed: %v", err))
	}
	if src.Error != "" {
		return src, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", src.Error))
	}
	return src, nil
}

// tenantSession is a session in the tenant; nil (no error) when the
// tenant is gone from its cloud (its project answers 404 or refuses the
// token), which the pull reports.
func (p *Provider) tenantSession(ctx context.Context, t ImportTenant) (*session, error) {
	s, err := p.session(ctx, t.Connection, t.BackendID)
	if err != nil && (notFound(err) || statusOf(err) == 401) {
		return nil, nil
	}
	return s, classify(err)
}

// Importable implements providers.Importer: the servers (OpenStack.Instance)
// or volumes (OpenStack.Volume) of the source's tenants without Waldur's
// metadata, tenant by tenant in the cloud's order; deleted servers and
// volumes being deleted are left out.
func (p *Provider) Importable(ctx context.Context, r providers.Request) ([]providers.ImportableResource, error) {
	src, err := importSourceOf(r)
	if err != nil {
		return nil, err
	}
	out := []providers.ImportableResource{}
	for _, t := range src.Tenants {
		s, err := p.tenantSession(ctx, t)
		if err != nil {
			return nil, err
		}
		if s == nil {
			continue
		}
		if r.OfferingType == OfferingInstance {
			svs, err := p.foreignServers(ctx, s, t.Name)
			if err != nil {
				return nil, classify(err)
			}
			for _, sv := range svs {
				out = append(out, providers.ImportableResource{BackendID: sv.ID, Name: firstNonEmpty(sv.Name, sv.ID),
					Type: OfferingInstance, Description: fmt.Sprintf("tenant %s, %s", t.Name, sv.Status)})
			}
			continue
		}
		vs, err := p.foreignVolumes(ctx, s, t.Name)
		if err != nil {
			return nil, classify(err)
		}
		for _, v := range vs {
			out = append(out, providers.ImportableResource{BackendID: v.ID, Name: firstNonEmpty(v.Name, v.ID),
				Type: OfferingVolume, Description: volumeSummary(t.Name, volumeOf(v))})
		}
	}
	return out, nil
}

// foreignServers lists the servers of a tenant's session that no order
// made (without Waldur's metadata), deleted ones left out, in the cloud's
// order: what can be imported (Importable, a tenant's backend_instances).
func (p *Provider) foreignServers(ctx context.Context, s *session, tenant string) ([]servers.Server, error) {
	var all []servers.Server
	err := p.step(ctx, "listing the servers of tenant "+tenant, func() error {
		pages, err := servers.List(s.compute, servers.ListOpts{}).AllPages(ctx)
		if err == nil {
			all, err = servers.ExtractServers(pages)
		}
		return err
	})
	out := []servers.Server{}
	for _, sv := range all {
		if sv.Metadata[MetaResourceUUID] == "" && !serverDeleted(sv.Status) {
			out = append(out, sv)
		}
	}
	return out, err
}

// foreignVolumes lists the volumes of a tenant's session that no order
// made, those being deleted left out (see foreignServers).
func (p *Provider) foreignVolumes(ctx context.Context, s *session, tenant string) ([]volumes.Volume, error) {
	var all []volumes.Volume
	err := p.step(ctx, "listing the volumes of tenant "+tenant, func() error {
		pages, err := volumes.List(s.volume, volumes.ListOpts{}).AllPages(ctx)
		if err == nil {
			all, err = volumes.ExtractVolumes(pages)
		}
		return err
	})
	out := []volumes.Volume{}
	for _, v := range all {
		if v.Metadata[MetaResourceUUID] == "" && !volumeDeleted(v.Status) {
			out = append(out, v)
		}
	}
	return out, err
}

// DescribeImport implements providers.Importer: the server or volume
// r.BackendID, found in the first of the source's tenants that has it,
// read with what the plugin rows record (Pulled: Imported) and summed up
// as the resource's backend_metadata. An object none of the tenants has
// is not_found; one an order made (Waldur's metadata) is invalid.
func (p *Provider) DescribeImport(ctx context.Context, r providers.Request) (providers.ImportedResource, error) {
	src, err := importSourceOf(r)
	if err != nil {
		return providers.ImportedResource{}, err
	}
	id := strings.TrimSpace(r.BackendID)
	what := "Server"
	if r.OfferingType == OfferingVolume {
		what = "Volume"
	}
	for _, t := range src.Tenants {
		s, err := p.tenantSession(ctx, t)
		if err != nil {
			return providers.ImportedResource{}, err
		}
		if s == nil {
			continue
		}
		var out providers.ImportedResource
		var found bool
		if r.OfferingType == OfferingInstance {
			out, found, err = p.describeServer(ctx, s, t, id)
		} else {
			out, found, err = p.describeVolume(ctx, s, t, id)
		}
		if err != nil || found {
			return out, classify(err)
		}
	}
	return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeNotFound,
		"%s %s is not in the offering's tenants.", what, id))
}

func (p *Provider) describeServer(ctx context.Context, s *session, t ImportTenant, id string) (providers.ImportedResource, bool, error) {
	var sv *servers.Server
	err := p.step(ctx, "reading server "+id, func() error {
		var err error
		sv, err = servers.Get(ctx, s.compute, id).Extract()
		return err
	})
	if notFound(err) {
		return providers.ImportedResource{}, false, nil
	}
	if err != nil {
		return providers.ImportedResource{}, false, err
	}
	if (sv.TenantID != "" && sv.TenantID != t.BackendID) || serverDeleted(sv.Status) {
		return providers.ImportedResource{}, false, nil // an admin sees other tenants' servers too
	}
	if owner := sv.Metadata[MetaResourceUUID]; owner != "" {
		return providers.ImportedResource{}, false, providers.Permanent(models.Errorf(models.CodeInvalid,
			"Server %s was made by Waldur (resource %s); it cannot be imported.", id, owner))
	}
	snap, err := p.readInstance(ctx, s, id)
	if err != nil {
		return providers.ImportedResource{}, false, err
	}
	if len(snap.Servers) == 0 {
		return providers.ImportedResource{}, false, errors.New("the server was not read back")
	}
	srv := snap.Servers[0]
	meta := map[string]any{"server_id": srv.BackendID, "tenant_id": t.BackendID, "tenant_uuid": t.UUID, "tenant_name": t.Name,
		"runtime_state": srv.Status, "flavor_name": srv.FlavorName, "image_name": srv.ImageName, "availability_zone": srv.AvailabilityZone,
		"internal_ips": srv.InternalIPs, "external_ips": srv.ExternalIPs, "volume_ids": srv.VolumeBackendIDs, "imported": true}
	desc := fmt.Sprintf("tenant %s, %s", t.Name, srv.Status)
	if srv.FlavorName != "" {
		desc += ", " + srv.FlavorName
	}
	return providers.ImportedResource{BackendID: srv.BackendID, Name: firstNonEmpty(srv.Name, srv.BackendID), Description: desc,
		Metadata: meta, Pulled: providers.MustEncode(Imported{TenantUUID: t.UUID, Snapshot: snap})}, true, nil
}

func (p *Provider) describeVolume(ctx context.Context, s *session, t ImportTenant, id string) (providers.ImportedResource, bool, error) {
	var v *volumes.Volume
	err := p.step(ctx, "reading volume "+id, func() error {
		var err error
		v, err = volumes.Get(ctx, s.volume, id).Extract()
		return err
	})
	if notFound(err) {
		return providers.ImportedResource{}, false, nil
	}
	if err != nil {
		return providers.ImportedResource{}, false, err
	}
	if (v.TenantID != "" && v.TenantID != t.BackendID) || volumeDeleted(v.Status) {
		return providers.ImportedResource{}, false, nil
	}
	if owner := v.Metadata[MetaResourceUUID]; owner != "" {
		return providers.ImportedResource{}, false, providers.Permanent(models.Errorf(models.CodeInvalid,
			"Volume %s was made by Waldur (resource %s); it cannot be imported.", id, owner))
	}
	mv := volumeOf(*v)
	meta := map[string]any{"volume_id": mv.BackendID, "tenant_id": t.BackendID, "tenant_uuid": t.UUID, "tenant_name": t.Name,
		"runtime_state": mv.Status, "size": mv.Size, "type_name": mv.TypeName, "bootable": mv.Bootable,
		"availability_zone": mv.AvailabilityZone, "server_id": mv.ServerBackendID, "device": mv.Device, "imported": true}
	return providers.ImportedResource{BackendID: mv.BackendID, Name: firstNonEmpty(mv.Name, mv.BackendID), Description: volumeSummary(t.Name, mv),
		Metadata: meta, Pulled: providers.MustEncode(Imported{TenantUUID: t.UUID, Snapshot: Snapshot{Volumes: []CloudVolume{mv}}})}, true, nil
}

func serverDeleted(status string) bool { return status == "DELETED" || status == "SOFT_DELETED" }

func volumeDeleted(status string) bool { return status == "deleting" || status == "error_deleting" }

func volumeSummary(tenant string, v CloudVolume) string {
	s := fmt.Sprintf("tenant %s, %d MiB, %s", tenant, v.Size, v.Status)
	if v.TypeName != "" {
		s += ", " + v.TypeName
	}
	if v.ServerBackendID != "" {
		s += ", attached to " + v.ServerBackendID
	}
	return s
}
