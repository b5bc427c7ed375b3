package openstack

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The availability zones of the tenants (Nova's and Cinder's, read by the
// pull): list and retrieve, to whoever may see the tenant. A tenant plays
// Waldur's per-tenant service settings: settings is its URL, and
// ?settings_uuid= and ?tenant_uuid= both filter by it.

// zoneRoutes registers /api/openstack-instance-availability-zones/ and
// /api/openstack-volume-availability-zones/.
func (m *routes) zoneRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	for _, r := range []struct {
		path      string
		list, one api.Handler
	}{
		{"/openstack-instance-availability-zones", m.listInstanceZones, m.getInstanceZone},
		{"/openstack-volume-availability-zones", m.listVolumeZones, m.getVolumeZone},
	} {
		g := a.Group(r.path, api.RequireUser)
		g.Match(get, "/", api.H(r.list))
		g.Match(get, "/:uuid/", api.H(r.one))
	}
}

// AvailabilityZone is the OpenAPI OpenStackInstanceAvailabilityZone and
// OpenStackVolumeAvailabilityZone shape.
type AvailabilityZone struct {
	URL       string      `json:"url"`
	UUID      models.UUID `json:"uuid"`
	Name      string      `json:"name"`
	Settings  *string     `json:"settings"`
	Available bool        `json:"available"`
}

func renderZone(c *gin.Context, k ZoneKind, v *ZoneView) AvailabilityZone {
	collection := "openstack-instance-availability-zones"
	if k == VolumeZones {
		collection = "openstack-volume-availability-zones"
	}
	settings := rest.URL(c, "openstack-tenants", v.TenantUUID)
	return AvailabilityZone{URL: rest.URL(c, collection, v.UUID), UUID: v.UUID, Name: v.Name, Settings: &settings, Available: v.Available}
}

func (m *routes) listZones(c *gin.Context, k ZoneKind) error {
	f, err := filter(c, false)
	if err != nil {
		return err
	}
	q, err := m.db.ZonesQuery(c.Request.Context(), k, f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", nil), func(v *ZoneView) AvailabilityZone { return renderZone(c, k, v) })
}

func (m *routes) getZone(c *gin.Context, k ZoneKind) error {
	id, err := api.PathUUID(c, k.Noun())
	if err != nil {
		return err
	}
	v, err := m.db.VisibleZone(c.Request.Context(), k, id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderZone(c, k, v))
}

// @Summary	List instance availability zones
// @Description	Nova's availability zones of the tenants the caller sees, as the pull read them.
// @Tags		openstack-instance-availability-zones
// @Param		name			query	string	false	"Name contains"
// @Param		name_exact		query	string	false	"Name"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Success	200	{array}	AvailabilityZone
// @Router		/api/openstack-instance-availability-zones/ [get]
func (m *routes) listInstanceZones(c *gin.Context) error { return m.listZones(c, InstanceZones) }

// @Summary	Get an instance availability zone
// @Tags		openstack-instance-availability-zones
// @Param		uuid	path	string	true	"Zone UUID"
// @Success	200	{object}	AvailabilityZone
// @Router		/api/openstack-instance-availability-zones/{uuid}/ [get]
func (m *routes) getInstanceZone(c *gin.Context) error { return m.getZone(c, InstanceZones) }

// @Summary	List volume availability zones
// @Description	Cinder's availability zones of the tenants the caller sees, as the pull read them.
// @Tags		openstack-volume-availability-zones
// @Param		name			query	string	false	"Name contains"
// @Param		name_exact		query	string	false	"Name"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Param		tenant_uuid		query	string	false	"Tenant"
// @Success	200	{array}	AvailabilityZone
// @Router		/api/openstack-volume-availability-zones/ [get]
func (m *routes) listVolumeZones(c *gin.Context) error { return m.listZones(c, VolumeZones) }

// @Summary	Get a volume availability zone
// @Tags		openstack-volume-availability-zones
// @Param		uuid	path	string	true	"Zone UUID"
// @Success	200	{object}	AvailabilityZone
// @Router		/api/openstack-volume-availability-zones/{uuid}/ [get]
func (m *routes) getVolumeZone(c *gin.Context) error { return m.getZone(c, VolumeZones) }
