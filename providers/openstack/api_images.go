package openstack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// A tenant's own Glance images (Waldur's openstack-marketplace-tenants
// create_image and upload_image_data): create_image makes a queued image
// in the tenant's project (Image API v2 POST /v2/images) and answers its
// id and the URL its data goes to; upload_image_data streams the request
// body to PUT /v2/images/{id}/file (Glance then saves it: saving, then
// active). Both are answered when Glance answered, as Waldur's are, and are
// not Temporal workflows: the data is a stream from the caller, which no
// activity can carry, and the create is the one call that names it. The
// API process calls Glance with the tenant offering's connection, scoped to
// the tenant's project (images_backend.go); Waldur's is_administrator of the tenant's project.
// The next pull of the tenant records the image in its catalog.

// imageProvider is the API process's OpenStack client (its sessions cached).
var imageProvider = sync.OnceValue(func() *Provider { return New(Options{}) })

// imageRoutes registers the image routes.
func (m *routes) imageRoutes(a *gin.RouterGroup) {
	g := a.Group("/openstack-marketplace-tenants", api.RequireUser)
	g.POST("/:uuid/create_image/", api.H(m.createImage))
	g.POST("/:uuid/upload_image_data/:image_id/", api.H(m.uploadImageData))
}

// ImageCreated is the OpenAPI ImageCreateResponse.
type ImageCreated struct {
	ImageID   string `json:"image_id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	UploadURL string `json:"upload_url"`
}

// ImageUploaded is the OpenAPI ImageUploadResponse.
type ImageUploaded struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var (
	imageDiskFormats = map[string]bool{"qcow2": true, "raw": true, "vhd": true, "vmdk": true, "vdi": true, "iso": true,
		"aki": true, "ami": true, "ari": true}
	imageContainerFormats = map[string]bool{"bare": true, "ovf": true, "aki": true, "ami": true, "ari": true}
	imageVisibilities     = map[string]bool{"private": true, "public": true, "shared": true, "community": true}
)

// imageTenant loads the tenant of the path for an image call: seen by the
// caller (404), administered by them (403), in the cloud (409); with its
// connection.
func (m *routes) imageTenant(c *gin.Context) (*ActionObject, Connection, error) {
	o, err := m.administered(c, KindTenant)
	if err != nil {
		return nil, Connection{}, err
	}
	if o.State != models.CoreOK || o.BackendID == "" || isPending(o.BackendID) {
		return nil, Connection{}, models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
	}
	secrets, err := m.db.TenantSecrets(c.Request.Context(), o.ID)
	if err != nil {
		return nil, Connection{}, err
	}
	conn, err := ConnectionFrom(secrets)
	return o, conn, err
}

// glanceError is the API's answer to a refusal of Glance.
func glanceError(err error) error {
	switch statusOf(err) {
	case http.StatusNotFound:
		return models.Errorf(models.CodeNotFound, "Image not found.")
	case http.StatusConflict:
		return models.Errorf(models.CodeConflict, "The image does not take data now (its data was uploaded already).")
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		return models.Errorf(models.CodeInvalid, "Glance refused the image: %v", err)
	case http.StatusForbidden:
		return models.Errorf(models.CodeForbidden, "Glance refused the call: %v", err)
	}
	return models.Errorf(models.CodeUnavailable, "OpenStack Glance is not available: %v", err)
}

// @Summary	Create an image in an OpenStack tenant
// @Description	name, min_ram, min_disk, disk_format (qcow2), container_format (bare), visibility (private; public is staff's). A queued Glance image in the tenant's project; its data goes to upload_url. Waldur's is_administrator of the tenant's project; 409 unless the tenant is OK.
// @Tags		openstack-marketplace-tenants
// @Param		uuid	path	string	true	"Tenant UUID"
// @Success	201	{object}	ImageCreated
// @Router		/api/openstack-marketplace-tenants/{uuid}/create_image/ [post]
func (m *routes) createImage(c *gin.Context) error {
	o, conn, err := m.imageTenant(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	name, _ := f.RequireStr("name", 255)
	var minRAM, minDisk int64
	if v, ok := f.Int("min_ram", 0, 1<<31-1, false); ok && v != nil {
		minRAM = *v
	}
	if v, ok := f.Int("min_disk", 0, 1<<31-1, false); ok && v != nil {
		minDisk = *v
	}
	disk, container, visibility := "qcow2", "bare", "private"
	if f.Has("disk_format") {
		disk, _ = f.Choice("disk_format", imageDiskFormats, false)
	}
	if f.Has("container_format") {
		container, _ = f.Choice("container_format", imageContainerFormats, false)
	}
	if f.Has("visibility") {
		visibility, _ = f.Choice("visibility", imageVisibilities, false)
	}
	if visibility == "public" && !api.CurrentUser(c).IsStaff {
		f.Fail("visibility", "Only staff can create public images.")
	}
	if err := f.Err(); err != nil {
		return err
	}
	id, status, err := imageProvider().CreateTenantImage(c.Request.Context(), conn, o.BackendID, ImageSpec{Name: name, MinRAM: int(minRAM),
		MinDisk: int(minDisk), DiskFormat: disk, ContainerFormat: container, Visibility: visibility})
	if err != nil {
		return glanceError(err)
	}
	return rest.Render(c, http.StatusCreated, ImageCreated{ImageID: id, Name: name, Status: status,
		UploadURL: rest.URL(c, "openstack-marketplace-tenants", o.UUID) + "upload_image_data/" + id + "/"})
}

// @Summary	Upload an image's data to an OpenStack tenant
// @Description	The request body is the image's data (application/octet-stream), streamed to Glance; the image must be one of the tenant's, queued (409 once its data is there). Waldur's is_administrator of the tenant's project.
// @Tags		openstack-marketplace-tenants
// @Param		uuid		path	string	true	"Tenant UUID"
// @Param		image_id	path	string	true	"Glance image id"
// @Success	200	{object}	ImageUploaded
// @Router		/api/openstack-marketplace-tenants/{uuid}/upload_image_data/{image_id}/ [post]
func (m *routes) uploadImageData(c *gin.Context) error {
	o, conn, err := m.imageTenant(c)
	if err != nil {
		return err
	}
	id, err := models.ParseUUID(c.Param("image_id"))
	if err != nil {
		return models.Errorf(models.CodeNotFound, "Image not found.")
	}
	imageID := dashed(id)
	var body io.Reader = c.Request.Body
	if body == nil {
		body = http.NoBody
	}
	err = imageProvider().UploadTenantImage(context.WithoutCancel(c.Request.Context()), conn, o.BackendID, imageID, body)
	if errors.Is(err, errNotOwnImage) {
		return models.Errorf(models.CodeNotFound, "Image not found.") // another project's
	} else if err != nil {
		return glanceError(err)
	}
	return rest.Render(c, http.StatusOK, ImageUploaded{Status: "success", Message: "Image data uploaded successfully."})
}

// dashed is a UUID in Glance's spelling (8-4-4-4-12).
func dashed(id models.UUID) string {
	h := id.String()
	if len(h) != 32 {
		return h
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
