package openstack

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/models"
)

// Waldur's statistics of the per-tenant catalogs: how many instances the
// caller sees run and were made from each flavor or image name
// (usage_stats), and the distinct volume type names (names). The catalog's
// list filters narrow the names.

// usageStatsRoutes registers the flavors' and images' usage_stats and the
// volume types' names (before their /:uuid/ routes take the segment).
func (m *routes) usageStatsRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	a.Match(get, "/openstack-flavors/usage_stats/", api.RequireUser, api.H(m.flavorUsageStats))
	a.Match(get, "/openstack-images/usage_stats/", api.RequireUser, api.H(m.imageUsageStats))
	a.Match(get, "/openstack-volume-types/names/", api.RequireUser, api.H(m.volumeTypeNames))
}

// UsageStats is one row of usage_stats (Waldur's OpenStackUsageStatsResponse).
type UsageStats struct {
	Name                  string `json:"name"`
	RunningInstancesCount int64  `json:"running_instances_count"`
	CreatedInstancesCount int64  `json:"created_instances_count"`
}

// renderArray writes v (a JSON array) with status 200; HEAD gets no body.
func renderArray(c *gin.Context, v any) error {
	if c.Request.Method == http.MethodHead {
		c.Header("Content-Type", "application/json; charset=utf-8")
		c.Status(http.StatusOK)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return models.Internal(err)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
	return nil
}

func (m *routes) usageStats(c *gin.Context, k Catalog) error {
	f, err := filter(c, false)
	if err != nil {
		return err
	}
	stats, err := m.db.UsageStats(c.Request.Context(), k, f)
	if err != nil {
		return err
	}
	out := make([]UsageStats, len(stats))
	for i, s := range stats {
		out[i] = UsageStats{Name: s.Name, RunningInstancesCount: s.Running, CreatedInstancesCount: s.Created}
	}
	return renderArray(c, out)
}

// @Summary	Flavor usage statistics
// @Description	For each flavor name of the tenants the caller sees (narrowed by the list's filters): how many of the caller's visible instances were made with it and how many run (ACTIVE).
// @Tags		openstack-flavors
// @Param		settings_uuid	query	string	false	"Tenant"
// @Success	200	{array}	UsageStats
// @Router		/api/openstack-flavors/usage_stats/ [get]
func (m *routes) flavorUsageStats(c *gin.Context) error { return m.usageStats(c, CatalogFlavors) }

// @Summary	Image usage statistics
// @Description	For each image name of the tenants the caller sees (narrowed by the list's filters): how many of the caller's visible instances were made from it and how many run (ACTIVE).
// @Tags		openstack-images
// @Param		settings_uuid	query	string	false	"Tenant"
// @Success	200	{array}	UsageStats
// @Router		/api/openstack-images/usage_stats/ [get]
func (m *routes) imageUsageStats(c *gin.Context) error { return m.usageStats(c, CatalogImages) }

// @Summary	Volume type names
// @Description	The distinct names of the volume types of the tenants the caller sees (narrowed by the list's filters), in order.
// @Tags		openstack-volume-types
// @Param		settings_uuid	query	string	false	"Tenant"
// @Success	200	{array}	string
// @Router		/api/openstack-volume-types/names/ [get]
func (m *routes) volumeTypeNames(c *gin.Context) error {
	f, err := filter(c, false)
	if err != nil {
		return err
	}
	names, err := m.db.CatalogNames(c.Request.Context(), CatalogVolumeTypes, f)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return renderArray(c, names)
}
