package orders

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
	"github.com/waldur-go/waldur/workflows"
)

// Imports of backend objects made outside Waldur (importable_resources,
// import_resource). The backend is only reachable from its provider's
// worker, so each request runs a workflow (workflows.ListImportableResources,
// workflows.ImportResource) and waits for its result.

const permListImportable models.Permission = "RESOURCE.LIST_IMPORTABLE"

// importTimeout bounds one import request (the backend read is bounded
// to a minute by the workflow).
const importTimeout = 90 * time.Second

func (m *Module) importRoutes(a *gin.RouterGroup) {
	g := a.Group("/marketplace-provider-offerings", api.RequireUser)
	g.Match([]string{http.MethodGet, http.MethodHead}, "/:uuid/importable_resources/", api.H(m.importableResources))
	g.POST("/:uuid/import_resource/", api.H(m.importResource))
}

// importOffering loads the offering of the path for a provider-side import
// action (Waldur's user_can_list_importable_resources): staff; nobody else
// for a shared offering ("Import is limited to staff for shared
// offerings."); otherwise RESOURCE.LIST_IMPORTABLE on the offering's
// customer (403). Users with no role on the offering or its customer do not
// see it (404).
func (m *Module) importOffering(c *gin.Context) (*store.ImportOffering, error) {
	id, err := api.PathUUID(c, "Offering")
	if err != nil {
		return nil, err
	}
	o, err := m.st.ImportOfferingByUUID(c.Request.Context(), id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, api.NotFound("Offering")
		}
		return nil, err
	}
	ctx, u := c.Request.Context(), api.CurrentUser(c)
	scopes := []models.Scope{scopeOf(models.ScopeCustomer, o.CustomerID), scopeOf(models.ScopeOffering, o.ID)}
	if !rbac.SeesEverything(u) {
		// As the provider offering views: only the provider's people see it.
		roles, err := m.rbac.RolesOn(ctx, u.ID, scopes...)
		if err != nil {
			return nil, models.Internal(err)
		}
		if len(roles) == 0 {
			return nil, api.NotFound("Offering")
		}
	}
	if u.IsStaff {
		return o, nil
	}
	if o.Shared {
		return nil, models.Errorf(models.CodeForbidden, "Import is limited to staff for shared offerings.")
	}
	if err := m.rbac.Require(ctx, u, permListImportable, scopeOf(models.ScopeCustomer, o.CustomerID)); err != nil {
		return nil, err
	}
	return o, nil
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
	var items []providers.ImportableResource
	err = m.runImportWorkflow(c.Request.Context(), client.StartWorkflowOptions{
		ID: workflows.ImportableResourcesWorkflowID(o.UUID),
		// Concurrent requests share one listing.
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ListImportableResources, workflows.ListImportableInput{OfferingUUID: o.UUID}, &items)
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
	backendID = strings.TrimSpace(backendID)
	if backendID == "" {
		return models.FieldError("backend_id", form.MsgRequired)
	}
	ctx := c.Request.Context()
	p, err := m.st.ProjectByUUID(ctx, projectID)
	if err != nil || p.IsRemoved {
		if err == nil || models.IsCode(err, models.CodeNotFound) {
			return models.FieldError("project", rest.MsgDoesNotExist)
		}
		return err
	}
	if err := m.rbac.Require(ctx, api.CurrentUser(c), permListImportable,
		scopeOf(models.ScopeProject, p.ID), scopeOf(models.ScopeCustomer, p.CustomerID)); err != nil {
		return err
	}
	var id models.UUID
	err = m.runImportWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ImportResourceWorkflowID(o.UUID, backendID),
		// One import of an object at a time; a second one is refused.
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.ImportResource, workflows.ImportResourceInput{OfferingUUID: o.UUID, ProjectUUID: projectID, PlanUUID: planID,
		BackendID: backendID}, &id)
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

// runImportWorkflow runs an import workflow on the core queue and waits
// for its result, mapping its failure onto the API's errors: the
// provider's or the store's refusal keeps its code; a backend that did
// not answer and Temporal being down are 503.
func (m *Module) runImportWorkflow(ctx context.Context, opts client.StartWorkflowOptions, wf any, in any, out any) error {
	if m.tc == nil {
		return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable}
	}
	ctx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	opts.TaskQueue = workflows.QueueCore
	opts.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	opts.WorkflowExecutionTimeout = importTimeout
	run, err := m.tc.ExecuteWorkflow(ctx, opts, wf, in)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return models.Errorf(models.CodeConflict, "This backend resource is being imported already.")
		}
		return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable, Err: err}
	}
	err = run.Get(ctx, out)
	if err == nil {
		return nil
	}
	if e, ok := temporalclient.Decode(err); ok {
		switch e.Code {
		case models.CodeInvalid, models.CodeConflict, models.CodeQuotaExceeded, models.CodeForbidden:
			return e
		case models.CodeNotFound:
			return models.Errorf(models.CodeInvalid, "%s", e.Message) // the object named in the body, not the URL, is missing
		}
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return &models.Error{Code: models.CodeUnavailable, Message: "The offering's backend refused the request: " + app.Message(), Err: err}
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) || ctx.Err() != nil {
		return &models.Error{Code: models.CodeUnavailable,
			Message: "The offering's backend did not answer in time (is a worker for its queue running?).", Err: err}
	}
	return &models.Error{Code: models.CodeUnavailable, Message: MsgTemporalUnavailable, Err: err}
}
