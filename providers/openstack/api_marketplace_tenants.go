package openstack

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The marketplace view of the tenants (Waldur's
// openstack-marketplace-tenants list and retrieve): the tenants the
// caller sees, with the tenants list's filters and visibility, each as
// its URL, uuid and name only (Waldur's marketplace TenantSerializer).

// MarketplaceTenant is Waldur's Tenant (of the marketplace views).
type MarketplaceTenant struct {
	URL  string      `json:"url"`
	UUID models.UUID `json:"uuid"`
	Name string      `json:"name"`
}

func renderMarketplaceTenant(c *gin.Context, v *TenantView) MarketplaceTenant {
	return MarketplaceTenant{URL: rest.URL(c, "openstack-tenants", v.UUID), UUID: v.UUID, Name: v.Name}
}

// marketplaceTenantRoutes registers the list and the retrieve (the
// create_image and upload_image_data actions are imageRoutes').
func (m *routes) marketplaceTenantRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-marketplace-tenants", api.RequireUser)
	g.Match(get, "/", api.H(m.listMarketplaceTenants))
	g.Match(get, "/:uuid/", api.H(m.getMarketplaceTenant))
}

// @Summary	List OpenStack tenants (marketplace view)
// @Description	The tenants the caller sees, as /api/openstack-tenants/ filters them, each as url, uuid and name.
// @Tags		openstack-marketplace-tenants
// @Param		name					query	string		false	"Name contains"
// @Param		name_exact				query	string		false	"Name"
// @Param		uuid					query	string		false	"UUID"
// @Param		backend_id				query	string		false	"Backend id"
// @Param		project					query	string		false	"Project UUID"
// @Param		project_uuid			query	string		false	"Project UUID"
// @Param		project_name			query	string		false	"Project name"
// @Param		customer				query	string		false	"Customer UUID"
// @Param		customer_uuid			query	string		false	"Customer UUID"
// @Param		customer_name			query	string		false	"Customer name"
// @Param		service_settings_uuid	query	string		false	"Offering UUID"
// @Param		state					query	[]string	false	"State (repeatable)"
// @Success	200	{array}	MarketplaceTenant
// @Router		/api/openstack-marketplace-tenants/ [get]
func (m *routes) listMarketplaceTenants(c *gin.Context) error {
	f, err := filter(c, true)
	if err != nil {
		return err
	}
	q, err := m.db.TenantsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("t", withMain("t", resourceOrdering)), func(v *TenantView) MarketplaceTenant { return renderMarketplaceTenant(c, v) })
}

// @Summary	Get an OpenStack tenant (marketplace view)
// @Description	The tenant as url, uuid and name; 404 unless the caller sees it.
// @Tags		openstack-marketplace-tenants
// @Param		uuid	path	string	true	"Tenant UUID"
// @Success	200	{object}	MarketplaceTenant
// @Router		/api/openstack-marketplace-tenants/{uuid}/ [get]
func (m *routes) getMarketplaceTenant(c *gin.Context) error {
	id, err := api.PathUUID(c, "Tenant")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleTenant(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderMarketplaceTenant(c, v))
}
