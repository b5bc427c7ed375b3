package openstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/waldur-go/waldur/providers"
)

// createVolume creates a volume (found again by name and metadata on a
// retry), waits until it is available and, when the order names an
// instance, attaches it and waits until it is in-use. A volume that ends
// in error is deleted before the order fails.
func (p *Provider) createVolume(ctx context.Context, r providers.Request) (providers.Result, error) {
	refs, err := refsOf(r)
	if err != nil {
		return providers.Result{}, err
	}
	if refs.Size <= 0 {
		return providers.Result{}, providers.Permanent(errors.New("the order gives no volume size (attribute size, MiB)"))
	}
	s, err := p.session(ctx, refs.Connection, refs.TenantBackendID)
	if err != nil {
		return providers.Result{}, err
	}
	name := firstNonEmpty(r.ResourceName, "waldur-volume-"+r.ResourceUUID.String()[:8])
	vol, err := p.ensureVolume(ctx, s, name, volumes.CreateOpts{Size: GiB(refs.Size), VolumeType: refs.VolumeType,
		AvailabilityZone: refs.AvailabilityZone, ImageID: refs.ImageBackendID, Metadata: meta(r, "")})
	if err == nil && refs.InstanceBackendID != "" {
		err = p.attach(ctx, s, refs.InstanceBackendID, vol.ID)
	}
	var perm *providers.PermanentError
	if errors.As(err, &perm) && vol != nil {
		if cerr := p.deleteVolume(ctx, s, vol.ID); cerr != nil {
			return providers.Result{}, fmt.Errorf("%v (and deleting the volume: %v)", err, cerr)
		}
	}
	if err != nil {
		return providers.Result{}, err
	}
	v, err := p.readVolume(ctx, s, vol.ID)
	if err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, BackendID: vol.ID, Metadata: map[string]any{"volume_id": vol.ID, "tenant_id": refs.TenantBackendID},
		Pulled: providers.MustEncode(Snapshot{Volumes: []CloudVolume{v}})}, nil
}

// extendVolume grows a volume to the order's size (limit or attribute
// "size", MiB); a volume as large already is left alone.
func (p *Provider) extendVolume(ctx context.Context, r providers.Request) (providers.Result, error) {
	refs, err := refsOf(r)
	if err != nil {
		return providers.Result{}, err
	}
	if r.BackendID == "" {
		return providers.Result{}, providers.Permanent(errors.New("the volume has no backend id"))
	}
	size := refs.Size
	if v, ok := r.Limits["size"]; ok {
		size = v
	}
	s, err := p.session(ctx, refs.Connection, refs.TenantBackendID)
	if err != nil {
		return providers.Result{}, err
	}
	if err := p.extend(ctx, s, r.BackendID, size); err != nil {
		return providers.Result{}, err
	}
	v, err := p.readVolume(ctx, s, r.BackendID)
	if err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, Pulled: providers.MustEncode(Snapshot{Volumes: []CloudVolume{v}})}, nil
}

// extend grows a volume to size MiB (whole GiB, rounded up) unless it is
// that large already or extending, and waits until it is available or
// in-use again. An in-use volume is extended online (Cinder 3.42).
func (p *Provider) extend(ctx context.Context, s *session, id string, size int64) error {
	err := p.step(ctx, "extending the volume", func() error {
		v, err := volumes.Get(ctx, s.volume, id).Extract()
		if err != nil {
			return err
		}
		if GiB(size) < v.Size {
			return providers.Permanent(fmt.Errorf("a volume cannot shrink (%d GiB to %d MiB)", v.Size, size))
		}
		if GiB(size) == v.Size || v.Status == "extending" {
			return nil
		}
		vc := *s.volume
		vc.Microversion = "3.42" // extending an in-use volume
		return volumes.ExtendSize(ctx, &vc, id, volumes.ExtendSizeOpts{NewSize: GiB(size)}).ExtractErr()
	})
	if err != nil {
		return err
	}
	return p.waitVolume(ctx, s, id, "available", "in-use")
}

// terminateVolume detaches the volume if it is attached, deletes it and
// waits until it is gone.
func (p *Provider) terminateVolume(ctx context.Context, r providers.Request) error {
	refs, err := refsOf(r)
	if err != nil {
		return err
	}
	s, err := p.session(ctx, refs.Connection, refs.TenantBackendID)
	if err != nil {
		if notFound(err) || statusOf(err) == 401 {
			return nil // the tenant is gone, and the volume with it
		}
		return err
	}
	id := r.BackendID
	if id == "" {
		var found []volumes.Volume
		err := p.step(ctx, "looking up the volume", func() error {
			var err error
			found, err = findVolumes(ctx, s, "", map[string]string{MetaResourceUUID: r.ResourceUUID.String()})
			return err
		})
		if err != nil {
			return err
		}
		for _, v := range found {
			if err := p.deleteVolumeWithSnapshots(ctx, s, v.ID); err != nil {
				return err
			}
		}
		return nil
	}
	return p.deleteVolumeWithSnapshots(ctx, s, id)
}

func (p *Provider) readVolume(ctx context.Context, s *session, id string) (CloudVolume, error) {
	var v *volumes.Volume
	err := p.step(ctx, "reading the volume", func() error {
		var err error
		v, err = volumes.Get(ctx, s.volume, id).Extract()
		return err
	})
	if err != nil {
		return CloudVolume{}, err
	}
	return volumeOf(*v), nil
}

func volumeOf(v volumes.Volume) CloudVolume {
	out := CloudVolume{BackendID: v.ID, Name: v.Name, Description: v.Description, Size: MiB(v.Size), Status: v.Status,
		Bootable: v.Bootable == "true", TypeName: v.VolumeType, AvailabilityZone: v.AvailabilityZone, Metadata: v.Metadata, Created: v.CreatedAt}
	if id := v.VolumeImageMetadata["image_id"]; id != "" {
		out.ImageBackendID = id
	}
	if len(v.Attachments) > 0 {
		out.ServerBackendID, out.Device = v.Attachments[0].ServerID, v.Attachments[0].Device
	}
	return out
}
