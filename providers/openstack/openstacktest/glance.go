package openstacktest

import (
	"net/http"
	"strings"
)

func (e *Emulator) imageRoutes() {
	e.handle("GET /image/v2/images", svcImage, project, (*call).listImages)
	e.handle("GET /image/v2/images/{id}", svcImage, project, (*call).getImage)
}

// imageVisible: public and community images, and the caller's own.
func (c *call) imageVisible(im *Image) bool {
	return im.Visibility == "public" || im.Visibility == "community" || im.Owner == c.projectID() || c.isAdmin()
}

func (c *call) renderImage(im *Image) map[string]any {
	return map[string]any{
		"id": im.ID, "name": im.Name, "status": im.Status, "visibility": im.Visibility, "owner": im.Owner,
		"disk_format": im.DiskFormat, "container_format": im.ContainerFormat, "min_disk": im.MinDisk, "min_ram": im.MinRAM,
		"size": im.Size, "virtual_size": nil, "checksum": im.Checksum, "os_hash_algo": "sha512", "os_hash_value": nil,
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
