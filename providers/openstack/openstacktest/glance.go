package openstacktest

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

func (e *Emulator) imageRoutes() {
	e.handle("GET /image/v2/images", svcImage, project, (*call).listImages)
	e.handle("POST /image/v2/images", svcImage, project, (*call).createImage)
	e.handle("GET /image/v2/images/{id}", svcImage, project, (*call).getImage)
	e.handle("DELETE /image/v2/images/{id}", svcImage, project, (*call).deleteImage)
	e.handle("PUT /image/v2/images/{id}/file", svcImage, project, (*call).uploadImage)
}

// The Image API v2's create, upload and delete: POST /v2/images makes a
// queued image of the caller's project (no data); PUT /v2/images/{id}/file
// takes its data (application/octet-stream) once, the image saving until
// VolumeDelay later, then active with its size and checksums; DELETE
// removes it (204).

var (
	diskFormats      = map[string]bool{"ami": true, "ari": true, "aki": true, "vhd": true, "vhdx": true, "vmdk": true, "raw": true, "qcow2": true, "vdi": true, "iso": true, "ploop": true}
	containerFormats = map[string]bool{"ami": true, "ari": true, "aki": true, "bare": true, "ovf": true, "ova": true, "docker": true, "compressed": true}
	visibilities     = map[string]bool{"public": true, "private": true, "shared": true, "community": true}
)

func (c *call) createImage() *apiError {
	var b struct {
		ID              string   `json:"id"`
		Name            string   `json:"name"`
		DiskFormat      string   `json:"disk_format"`
		ContainerFormat string   `json:"container_format"`
		Visibility      string   `json:"visibility"`
		MinDisk         int      `json:"min_disk"`
		MinRAM          int      `json:"min_ram"`
		Tags            []string `json:"tags"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	switch {
	case b.DiskFormat != "" && !diskFormats[b.DiskFormat]:
		return errf(http.StatusBadRequest, "Invalid value '%s' for disk_format", b.DiskFormat)
	case b.ContainerFormat != "" && !containerFormats[b.ContainerFormat]:
		return errf(http.StatusBadRequest, "Invalid value '%s' for container_format", b.ContainerFormat)
	case b.Visibility != "" && !visibilities[b.Visibility]:
		return errf(http.StatusBadRequest, "Invalid value '%s' for visibility", b.Visibility)
	case b.Visibility == "public" && !c.isAdmin():
		return errf(http.StatusForbidden, "You are not authorized to complete publicize_image action.")
	case b.MinDisk < 0 || b.MinRAM < 0:
		return errf(http.StatusBadRequest, "min_disk and min_ram must be non-negative")
	}
	id := b.ID
	if id == "" {
		id = uuid.NewString()
	} else if c.s().images.get(id) != nil {
		return errf(http.StatusConflict, "Image with identifier %s already exists!", id)
	}
	im := &Image{ID: id, Name: b.Name, Status: "queued", Visibility: firstOf(b.Visibility, "shared"), Owner: c.projectID(),
		DiskFormat: b.DiskFormat, ContainerFormat: b.ContainerFormat, MinDisk: b.MinDisk, MinRAM: b.MinRAM, Tags: b.Tags, Created: c.now}
	c.s().images.put(im.ID, im)
	c.w.Header().Set("Location", c.base()+"/image/v2/images/"+im.ID)
	c.json(http.StatusCreated, c.renderImage(im))
	return nil
}

// ownImage is the caller's image id (admins: any).
func (c *call) ownImage() (*Image, *apiError) {
	im := c.s().images.get(c.r.PathValue("id"))
	if im == nil || !c.imageVisible(im) {
		return nil, errf(http.StatusNotFound, "No image found with ID %s", c.r.PathValue("id"))
	}
	if im.Owner != c.projectID() && !c.isAdmin() {
		return nil, errf(http.StatusForbidden, "You are not permitted to modify image %s.", im.ID)
	}
	return im, nil
}

func (c *call) uploadImage() *apiError {
	im, err := c.ownImage()
	if err != nil {
		return err
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/octet-stream") {
		return errf(http.StatusUnsupportedMediaType, "The media type %s is not supported for this request.", ct)
	}
	if im.Status != "queued" {
		return errf(http.StatusConflict, "Image status transition from %s to saving is not allowed", im.Status)
	}
	if im.DiskFormat == "" || im.ContainerFormat == "" {
		return errf(http.StatusBadRequest, "Properties disk_format, container_format must be set prior to saving data.")
	}
	md, sh := md5.New(), sha512.New()
	n, rerr := io.Copy(io.MultiWriter(md, sh), c.r.Body)
	if rerr != nil {
		return errf(http.StatusBadRequest, "cannot read the image data: %v", rerr)
	}
	im.Status, im.Size, im.Checksum = "saving", n, hex.EncodeToString(md.Sum(nil))
	im.hash = hex.EncodeToString(sh.Sum(nil))
	c.s().schedule(c.now.Add(c.e.opts.VolumeDelay), func() {
		if cur := c.s().images.get(im.ID); cur != nil && cur.Status == "saving" {
			cur.Status = "active"
		}
	})
	c.noContent(http.StatusNoContent)
	return nil
}

func (c *call) deleteImage() *apiError {
	im, err := c.ownImage()
	if err != nil {
		return err
	}
	c.s().images.del(im.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

func firstOf(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// imageVisible: public and community images, and the caller's own.
func (c *call) imageVisible(im *Image) bool {
	return im.Visibility == "public" || im.Visibility == "community" || im.Owner == c.projectID() || c.isAdmin()
}

func (c *call) renderImage(im *Image) map[string]any {
	return map[string]any{
		"id": im.ID, "name": im.Name, "status": im.Status, "visibility": im.Visibility, "owner": im.Owner,
		"disk_format": im.DiskFormat, "container_format": im.ContainerFormat, "min_disk": im.MinDisk, "min_ram": im.MinRAM,
		"size": im.Size, "virtual_size": nil, "checksum": im.Checksum, "os_hash_algo": "sha512", "os_hash_value": nilIfEmpty(im.hash),
		"tags": nonNilStrings(im.Tags), "protected": false, "os_hidden": false, "created_at": tNova(im.Created),
		"updated_at": tNova(im.Created), "self": "/v2/images/" + im.ID, "file": "/v2/images/" + im.ID + "/file",
		"schema": "/v2/schemas/image",
	}
}

func (c *call) listImages() *apiError {
	q := c.query()
	var items []map[string]any
	for _, im := range c.s().images.newest() {
		if !c.imageVisible(im) {
			continue
		}
		if tags := q["tag"]; len(tags) > 0 {
			ok := true
			for _, t := range tags {
				ok = ok && strings.Contains(","+strings.Join(im.Tags, ",")+",", ","+t+",")
			}
			if !ok {
				continue
			}
		}
		items = append(items, c.renderImage(im))
	}
	if q.Get("visibility") == "all" {
		q.Del("visibility")
	}
	for _, k := range []string{"status", "container_format", "disk_format"} {
		if v := q.Get(k); strings.HasPrefix(v, "in:") {
			vals := strings.Split(strings.TrimPrefix(v, "in:"), ",")
			q[k] = vals
		}
	}
	items = filterMaps(items, q, "tag", "member_status", "size_min", "size_max", "created_at", "updated_at", "os_hidden")
	items, next, err := page(items, q)
	if err != nil {
		return err
	}
	body := map[string]any{"images": nonNil(items), "schema": "/v2/schemas/images", "first": "/v2/images"}
	if next != "" {
		nq := c.query()
		nq.Set("marker", next)
		body["next"] = "/v2/images?" + nq.Encode()
	}
	c.json(http.StatusOK, body)
	return nil
}

func (c *call) getImage() *apiError {
	im := c.s().images.get(c.r.PathValue("id"))
	if im == nil || !c.imageVisible(im) {
		return errf(http.StatusNotFound, "No image found with ID %s", c.r.PathValue("id"))
	}
	c.json(http.StatusOK, c.renderImage(im))
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
