package openstack_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// upload posts raw data to an upload_image_data URL as staff.
func (cl *cloud) upload(p string, data []byte, want int) map[string]any {
	cl.t.Helper()
	req := httptest.NewRequest("POST", p, bytes.NewReader(data))
	req.Header.Set("Authorization", "Token "+cl.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	w := httptest.NewRecorder()
	cl.api.ServeHTTP(w, req)
	require.Equal(cl.t, want, w.Code, "POST %s: %s", p, w.Body.String())
	if want == 200 {
		apitest.ValidateResponse(cl.t, req, w)
	}
	var out map[string]any
	require.NoError(cl.t, json.Unmarshal(w.Body.Bytes(), &out))
	return out
}

func cloudImage(emu *openstacktest.HTTPServer, id string) (openstacktest.Image, bool) {
	for _, im := range emu.State().Images {
		if im.ID == id {
			return im, true
		}
	}
	return openstacktest.Image{}, false
}

// TestTenantImageCreateAndUpload: create_image makes a queued Glance image
// in the tenant's project (the emulator's Image API v2) and answers its
// upload URL; upload_image_data streams the body to it (saving, then
// active, with its size and checksum); a second upload is 409; bad input
// (no name, an unknown format, another tenant's image, an unknown image)
// is refused with nothing made. Both databases; answers validate against
// the OpenAPI file.
func TestTenantImageCreateAndUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 100 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			_, tenant := cl.tenant("images")
			_, other := cl.tenant("images-2")
			base := "/api/openstack-marketplace-tenants/" + tenant["uuid"].(string) + "/"
			before := len(cl.emu.State().Images)

			cl.do("POST", base+"create_image/", map[string]any{}, 400, nil)
			cl.do("POST", base+"create_image/", map[string]any{"name": "x", "disk_format": "floppy"}, 400, nil)
			cl.do("POST", "/api/openstack-marketplace-tenants/"+strings.Repeat("0", 32)+"/create_image/", map[string]any{"name": "x"}, 404, nil)
			require.Len(t, cl.emu.State().Images, before, "refusals make nothing")

			var made map[string]any
			cl.checked("POST", base+"create_image/", map[string]any{"name": "ubuntu-custom", "min_ram": 512, "min_disk": 2, "disk_format": "raw"}, 201, &made)
			require.Equal(t, "queued", made["status"])
			require.Equal(t, "ubuntu-custom", made["name"])
			id := made["image_id"].(string)
			im, ok := cloudImage(cl.emu, id)
			require.True(t, ok)
			require.Equal(t, tenant["backend_id"], im.Owner)
			require.Equal(t, "raw", im.DiskFormat)
			require.Equal(t, "bare", im.ContainerFormat)
			require.Equal(t, "private", im.Visibility)
			require.Equal(t, 512, im.MinRAM)
			upload := path(made["upload_url"].(string))
			require.Equal(t, base+"upload_image_data/"+id+"/", upload)

			// Another tenant's image, an unknown one: not found.
			cl.upload("/api/openstack-marketplace-tenants/"+other["uuid"].(string)+"/upload_image_data/"+id+"/", []byte("x"), 404)
			cl.upload(base+"upload_image_data/"+strings.Repeat("1", 32)+"/", []byte("x"), 404)

			data := bytes.Repeat([]byte("disk-image-bytes "), 4096)
			res := cl.upload(upload, data, 200)
			require.Equal(t, "success", res["status"])
			sum := md5.Sum(data)
			deadline := time.Now().Add(time.Minute)
			for {
				im, _ = cloudImage(cl.emu, id)
				require.Contains(t, []string{"saving", "active"}, im.Status)
				if im.Status == "active" {
					break
				}
				require.True(t, time.Now().Before(deadline), "image still %s", im.Status)
				time.Sleep(20 * time.Millisecond)
			}
			require.Equal(t, int64(len(data)), im.Size)
			require.Equal(t, hex.EncodeToString(sum[:]), im.Checksum)
			cl.upload(upload, data, 409)
		})
	}
}
