package orders

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Imports of backend objects made outside Waldur (importable_resources,
// import_resource): the handlers decode the request, call the marketplace
// service (ImportOffering, Importable, ImportResource: the permission
// checks and the import workflows) and render its answer.

func (m *Module) importRoutes(a *gin.RouterGroup) {
	g := a.Group("/marketplace-provider-offerings", api.RequireUser)
	g.Match([]string{http.MethodGet, http.MethodHead}, "/:uuid/importable_resources/", api.H(m.importableResources))
	g.POST("/:uuid/import_resource/", api.H(m.importResource))
}

// importOffering loads the offering of the path for a provider-side import
// action (marketplace.Service.ImportOffering: 404 for users with no role on
// it or its customer, 403 without the permission).
func (m *Module) importOffering(c *gin.Context) (*store.ImportOffering, error) {
	id, err := api.PathUUID(c, "Offering")
	if err != nil {
		return nil, err
	}
	return m.svc.ImportOffering(c.Request.Context(), api.CurrentUser(c), id)
}

// @Summary		List importable resources
// @Description	The backend objects of the offering made outside Waldur that no resource has yet (SLURM: the cluster's leaf accounts other than Waldur's customer and project accounts; AWS: the region's instances or volumes without Waldur's tags, not terminated; OpenStack instance and volume offerings: the servers or volumes without Waldur's metadata of the offering's tenants, i.e. its plugin_options tenant, else the tenants of its customer's OpenStack.Tenant offerings). Read from the backend through the offering provider's worker. Staff only for a shared offering; otherwise RESOURCE.LIST_IMPORTABLE on the offering's customer (or staff).
// @Tags			marketplace-provider-offerings
// @Param			uuid	path	string	true	"Offering UUID"
// @Success		200	{array}	providers.ImportableResource
// @Router			/api/marketplace-provider-offerings/{uuid}/importable_resources/ [get]
func (m *Module) importableResources(c *gin.Context) error {
	o, err := m.importOffering(c)
	if err != nil {
		return err
	}
	number, size, err := rest.Page(c)
	if err != nil {
		return err
	}
	items, err := m.svc.Importable(c.Request.Context(), o)
	if err != nil {
		return err
	}
	total := len(items)
	start := min((number-1)*size, total)
	if number > 1 && start >= total {
		return models.Errorf(models.CodeNotFound, "Invalid page.")
	}
	page := items[start:min(start+size, total)]
	if page == nil {
		page = []providers.ImportableResource{}
	}
	c.Header("X-Result-Count", strconv.Itoa(total))
	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		return nil
	}
	return rest.Render(c, http.StatusOK, page)
}

// @Summary		Import a resource
// @Description	Body {backend_id, project, plan?}. Reads the backend object through the offering provider's worker and records it as a resource of the offering in the project, state OK, billed from now on its plan (the offering's only plan when none is given) and limits. Staff only for a shared offering; otherwise RESOURCE.LIST_IMPORTABLE on the offering's customer and on the project or its customer (or staff). For SLURM offerings the account then follows the project's members (its associations are synced). AWS and OpenStack resources are then kept by the state pulls (an object deleted behind Waldur's back makes its resource Erred); an OpenStack object goes into its tenant's project only, and takes over the row the pull recorded for it.
// @Tags			marketplace-provider-offerings
// @Param			uuid	path	string	true	"Offering UUID"
// @Success		200	{object}	Resource
// @Router			/api/marketplace-provider-offerings/{uuid}/import_resource/ [post]
func (m *Module) importResource(c *gin.Context) error {
	o, err := m.importOffering(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("backend_id", "project")
	backendID, _ := f.Char("backend_id", form.Char{Max: 255})
	projectID, _ := f.UUID("project")
	var planID *models.UUID
	if f.Has("plan") && !f.IsNull("plan") {
		if id, ok := f.UUID("plan"); ok {
			planID = &id
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	id, err := m.svc.ImportResource(ctx, api.CurrentUser(c), o,
		marketplace.ImportInput{ProjectUUID: projectID, PlanUUID: planID, BackendID: backendID})
	if err != nil {
		return err
	}
	v, err := m.st.ResourceViewByUUID(ctx, id)
	if err != nil {
		return err
	}
	x, err := m.extrasOf(c, []store.ResourceView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderResource(c, v, x))
}
