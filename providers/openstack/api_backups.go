package openstack

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The instances' backups (Waldur's openstack-backups and an instance's
// backup action): a snapshot of each of the instance's volumes, taken
// together. The routes are storageRoutes' (api_server_groups.go).

// Backup is the OpenAPI OpenStackBackup shape.
type Backup struct {
	Common
	KeptUntil               *time.Time     `json:"kept_until"`
	Metadata                map[string]any `json:"metadata"`
	Instance                *string        `json:"instance"`
	InstanceName            string         `json:"instance_name"`
	InstanceMarketplaceUUID *models.UUID   `json:"instance_marketplace_uuid,omitempty"`
	Restorations            []NestedEmpty  `json:"restorations"`
	InstanceSecurityGroups  []NestedEmpty  `json:"instance_security_groups"`
	InstancePorts           []NestedEmpty  `json:"instance_ports"`
	InstanceFloatingIPs     []NestedEmpty  `json:"instance_floating_ips"`
	TenantUUID              models.UUID    `json:"tenant_uuid"`
}

func renderBackup(c *gin.Context, v *StorageView) Backup {
	out := Backup{Common: storageCommon(c, KindBackup, v), KeptUntil: v.KeptUntil, Metadata: jsonObject(v.Metadata),
		InstanceMarketplaceUUID: v.InstanceResourceUUID, Restorations: []NestedEmpty{}, InstanceSecurityGroups: []NestedEmpty{},
		InstancePorts: []NestedEmpty{}, InstanceFloatingIPs: []NestedEmpty{}, TenantUUID: v.TenantUUID}
	if v.InstanceUUID != nil {
		u := rest.URL(c, "openstack-instances", *v.InstanceUUID)
		out.Instance = &u
		if v.InstanceName != nil {
			out.InstanceName = *v.InstanceName
		}
	}
	return out
}

// @Summary	List backups of OpenStack instances
// @Tags		openstack-backups
// @Param		name			query	string		false	"Name contains"
// @Param		tenant_uuid		query	string		false	"Tenant"
// @Param		instance_uuid	query	string		false	"Instance"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Success	200	{array}	Backup
// @Router		/api/openstack-backups/ [get]
func (m *routes) listBackups(c *gin.Context) error {
	f, err := storageFilter(c)
	if err != nil {
		return err
	}
	q, err := m.db.StorageQuery(c.Request.Context(), KindBackup, f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", storageOrdering), func(v *StorageView) Backup { return renderBackup(c, v) })
}

// @Summary	Get a backup
// @Tags		openstack-backups
// @Param		uuid	path	string	true	"Backup UUID"
// @Success	200	{object}	Backup
// @Router		/api/openstack-backups/{uuid}/ [get]
func (m *routes) getBackup(c *gin.Context) error {
	id, err := api.PathUUID(c, KindBackup.Noun())
	if err != nil {
		return err
	}
	return m.renderStorage(c, KindBackup, http.StatusOK, id)
}

// @Summary	Back an OpenStack instance up
// @Description	name, description, kept_until. The instance must be OK (409). The backup is answered at once (201, CREATION_SCHEDULED) with a snapshot of each of the instance's volumes (openstack-snapshots?backup_uuid=), taken in Cinder by the backup's create (all OK), or ERRED.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	Backup
// @Router		/api/openstack-instances/{uuid}/backup/ [post]
func (m *routes) createBackup(c *gin.Context) error {
	in, err := m.administered(c, KindInstance)
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
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(in.State); err != nil {
		return err
	}
	o, err := m.db.CreateBackup(c.Request.Context(), in.ID, name, desc, kept)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderStorage(c, KindBackup, http.StatusCreated, o.UUID)
}
