package openstack

import (
	"context"
	"errors"
	"io"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// The Glance calls of a tenant's own images (api_images.go): an image
// made queued in the tenant's project, and its data streamed to it.

// ImageSpec is what a tenant's new image is.
type ImageSpec struct {
	Name                        string
	MinRAM, MinDisk             int
	DiskFormat, ContainerFormat string
	Visibility                  string
}

// errNotOwnImage: the image is another project's.
var errNotOwnImage = errors.New("the image is not the tenant's")

// CreateTenantImage makes a queued image in project (tagged waldur) and
// answers its id and status.
func (p *Provider) CreateTenantImage(ctx context.Context, conn Connection, project string, in ImageSpec) (id, status string, err error) {
	s, err := p.session(ctx, conn, project)
	if err != nil {
		return "", "", err
	}
	vis := images.ImageVisibility(in.Visibility)
	im, err := images.Create(ctx, s.image, images.CreateOpts{Name: in.Name, Visibility: &vis, DiskFormat: in.DiskFormat,
		ContainerFormat: in.ContainerFormat, MinDisk: in.MinDisk, MinRAM: in.MinRAM, Tags: []string{"waldur"}}).Extract()
	if err != nil {
		return "", "", err
	}
	return im.ID, string(im.Status), nil
}

// UploadTenantImage streams data to image id of project (read once: the
// session's retries do not repeat it); errNotOwnImage when the image is
// another project's.
func (p *Provider) UploadTenantImage(ctx context.Context, conn Connection, project, id string, data io.Reader) error {
	s, err := p.session(ctx, conn, project)
	if err != nil {
		return err
	}
	im, err := images.Get(ctx, s.image, id).Extract()
	if err != nil {
		return err
	}
	if im.Owner != project {
		return errNotOwnImage
	}
	return imagedata.Upload(ctx, s.image, id, data).ExtractErr()
}
