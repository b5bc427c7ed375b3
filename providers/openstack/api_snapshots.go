package openstack

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The volumes' snapshots (Waldur's openstack-snapshots and a volume's
// snapshot action) and their restore into new volumes. The routes are
// storageRoutes' (api_server_groups.go).

// VolumeSnapshot is the OpenAPI OpenStackSnapshot shape.
type VolumeSnapshot struct {
	Common
	SourceVolume                *string               `json:"source_volume"`
	Size                        int64                 `json:"size"`
	Metadata                    any                   `json:"metadata"`
	RuntimeState                string                `json:"runtime_state"`
	SourceVolumeName            string                `json:"source_volume_name"`
	SourceVolumeMarketplaceUUID *models.UUID          `json:"source_volume_marketplace_uuid,omitempty"`
	Action                      string                `json:"action"`
	ActionDetails               map[string]any        `json:"action_details"`
	Restorations                []SnapshotRestoration `json:"restorations"`
	KeptUntil                   *time.Time            `json:"kept_until"`
}

// SnapshotRestoration is the OpenAPI OpenStackSnapshotRestoration shape.
type SnapshotRestoration struct {
	UUID               models.UUID `json:"uuid"`
	Created            time.Time   `json:"created"`
	Description        string      `json:"description"`
	Volume             string      `json:"volume"`
	VolumeName         string      `json:"volume_name"`
	VolumeState        string      `json:"volume_state"`
	VolumeRuntimeState string      `json:"volume_runtime_state"`
	VolumeSize         int64       `json:"volume_size"`
	VolumeDevice       string      `json:"volume_device"`
}

func renderRestorations(c *gin.Context, rs []RestorationView) []SnapshotRestoration {
	out := []SnapshotRestoration{}
	for _, r := range rs {
		out = append(out, SnapshotRestoration{UUID: r.UUID, Created: r.Created, Description: r.Description,
			Volume: rest.URL(c, "openstack-volumes", r.VolumeUUID), VolumeName: r.VolumeName, VolumeState: r.VolumeState,
			VolumeRuntimeState: r.VolumeRuntimeState, VolumeSize: r.VolumeSize, VolumeDevice: r.VolumeDevice})
	}
	return out
}

func jsonObject(raw []byte) map[string]any {
	out := map[string]any{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func renderSnapshot(c *gin.Context, v *StorageView, rs []RestorationView) VolumeSnapshot {
	out := VolumeSnapshot{Common: storageCommon(c, KindSnapshot, v), Size: v.Size, RuntimeState: v.RuntimeState, Action: v.Action,
		ActionDetails: jsonObject(v.ActionDetails), Restorations: renderRestorations(c, rs), KeptUntil: v.KeptUntil,
		SourceVolumeMarketplaceUUID: v.SourceVolumeResourceUUID}
	var md any = map[string]any{}
	if len(v.Metadata) > 0 {
		_ = json.Unmarshal(v.Metadata, &md)
	}
	out.Metadata = md
	if v.SourceVolumeUUID != nil {
		u := rest.URL(c, "openstack-volumes", *v.SourceVolumeUUID)
		out.SourceVolume = &u
		if v.SourceVolumeName != nil {
			out.SourceVolumeName = *v.SourceVolumeName
		}
	}
	return out
}

// @Summary	List snapshots of OpenStack volumes
// @Tags		openstack-snapshots
// @Param		name				query	string		false	"Name contains"
// @Param		tenant_uuid			query	string		false	"Tenant"
// @Param		source_volume_uuid	query	string		false	"Source volume"
// @Param		backup_uuid			query	string		false	"Backup"
// @Param		state				query	[]string	false	"State (repeatable)"
// @Param		runtime_state		query	string		false	"Runtime state"
// @Success	200	{array}	VolumeSnapshot
// @Router		/api/openstack-snapshots/ [get]
func (m *routes) listSnapshots(c *gin.Context) error {
	f, err := storageFilter(c)
	if err != nil {
		return err
	}
	q, err := m.db.StorageQuery(c.Request.Context(), KindSnapshot, f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, spec("x", storageOrdering), func(vs []StorageView) ([]VolumeSnapshot, error) {
		ids := make([]int64, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
		}
		rs, err := m.db.RestorationsOf(c.Request.Context(), ids)
		if err != nil {
			return nil, err
		}
		out := make([]VolumeSnapshot, len(vs))
		for i := range vs {
			out[i] = renderSnapshot(c, &vs[i], rs[vs[i].ID])
		}
		return out, nil
	})
}

// @Summary	Get a snapshot
// @Tags		openstack-snapshots
// @Param		uuid	path	string	true	"Snapshot UUID"
// @Success	200	{object}	VolumeSnapshot
// @Router		/api/openstack-snapshots/{uuid}/ [get]
func (m *routes) getSnapshot(c *gin.Context) error {
	id, err := api.PathUUID(c, KindSnapshot.Noun())
	if err != nil {
		return err
	}
	return m.renderStorage(c, KindSnapshot, http.StatusOK, id)
}

// readKeptUntil reads kept_until (a datetime or null).
func readKeptUntil(f *form.Form) *time.Time {
	if !f.Has("kept_until") {
		return nil
	}
	v, _ := f.Datetime("kept_until", true, false)
	return v
}

// @Summary	Take a snapshot of an OpenStack volume
// @Description	name, description, metadata, kept_until. The volume must be OK and available or in use (409). The snapshot is answered at once (201, CREATION_SCHEDULED, the volume's size) and taken in Cinder (OK with its backend id and runtime state), or ERRED.
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	VolumeSnapshot
// @Router		/api/openstack-volumes/{uuid}/snapshot/ [post]
func (m *routes) createSnapshot(c *gin.Context) error {
	vol, err := m.administered(c, KindVolume)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	kept := readKeptUntil(f)
	md := []byte("{}")
	if raw, ok := f.Raw("metadata"); ok && !f.IsNull("metadata") {
		md = []byte(raw)
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(vol.State); err != nil {
		return err
	}
	if err := requireRuntime(vol, "available", "in-use"); err != nil {
		return err
	}
	ctx := c.Request.Context()
	size, err := columnOf[int64](ctx, m.db, KindVolume, vol.ID, "size")
	if err != nil {
		return err
	}
	o, err := m.db.CreateObject(ctx, KindSnapshot, vol.TenantID, map[string]any{"name": name, "description": desc,
		"source_volume_id": vol.ID, "size": size, "metadata": md, "kept_until": kept, "runtime_state": ""}, nil)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderStorage(c, KindSnapshot, http.StatusCreated, o.UUID)
}

// @Summary	Restore an OpenStack snapshot into a new volume
// @Description	name (of the new volume), description. The snapshot must be OK (409). A volume (CREATION_SCHEDULED, the snapshot's size) and a restoration are made at once and the volume is answered (201); the snapshot's restore action makes it in Cinder from the snapshot (the volume OK with its backend id, or ERRED).
// @Tags		openstack-snapshots
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	Volume
// @Router		/api/openstack-snapshots/{uuid}/restore/ [post]
func (m *routes) restoreSnapshot(c *gin.Context) error {
	o, err := m.administered(c, KindSnapshot)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 2000, true)
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	ctx := c.Request.Context()
	_, volUUID, err := m.db.RestoreSnapshot(ctx, o.ID, name, desc)
	if err != nil {
		return err
	}
	m.start(c, o, "restore")
	v, err := m.db.VisibleVolume(ctx, volUUID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, renderVolume(c, v))
}

// @Summary	An OpenStack snapshot's restorations
// @Tags		openstack-snapshots
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{array}	SnapshotRestoration
// @Router		/api/openstack-snapshots/{uuid}/restorations/ [get]
func (m *routes) snapshotRestorations(c *gin.Context) error {
	id, err := api.PathUUID(c, KindSnapshot.Noun())
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	v, err := m.db.VisibleStorage(ctx, KindSnapshot, id)
	if err != nil {
		return err
	}
	rs, err := m.db.RestorationsOf(ctx, []int64{v.ID})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderRestorations(c, rs[v.ID]))
}
