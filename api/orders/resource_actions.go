package orders

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// The resource actions that reach past the resource's own columns: pull
// (a workflow reads the resource back from its backend) and unlink
// (staff remove a resource from the database, its backend untouched).

// Waldur's answers.
const (
	MsgPullScheduled   = "Pull operation was successfully scheduled."
	MsgPullUnsupported = "Pull operation is not supported for resources of this offering type."
)

// actionRoutes registers pull and unlink on both views.
func (m *Module) actionRoutes(r, p *gin.RouterGroup) {
	for _, g := range []struct {
		grp *gin.RouterGroup
		s   side
	}{{r, consumerSide}, {p, providerSide}} {
		g.grp.POST("/:uuid/pull/", api.H(m.pullResource(g.s)))
		g.grp.POST("/:uuid/unlink/", api.H(m.unlinkResource(g.s)))
	}
}

// @Summary	Pull resource data
// @Description	Schedules a workflow that reads the resource back from its backend through its provider's worker (the offering type's provider must be able to: Script with a pull script, AWS, SLURM): its backend metadata and last_sync are recorded, an Erred resource comes back to OK, a pull that fails for good marks it Erred. A second pull while one runs joins it. Anyone who sees the resource may ask. 409 unless the resource is OK or Erred, or when its type cannot pull; 503 without Temporal.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	202	{object}	Detail
// @Failure	409	{object}	api.ErrorBody
// @Router		/api/marketplace-resources/{uuid}/pull/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/pull/ [post]
func (m *Module) pullResource(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleResource(c, s)
		if err != nil {
			return err
		}
		if v.State != models.ResourceOK && v.State != models.ResourceErred {
			return models.Errorf(models.CodeConflict, "Valid states for operation: %s.",
				strings.Join([]string{string(models.ResourceOK), string(models.ResourceErred)}, ", "))
		}
		if caps, ok := m.svc.Caps(v.OfferingType); !ok || !caps.Pull {
			return models.Errorf(models.CodeConflict, MsgPullUnsupported)
		}
		if m.tc == nil {
			return &models.Error{Code: models.CodeUnavailable, Message: workflows.MsgTemporalUnavailable}
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), m.timeout)
		defer cancel()
		if err := workflows.StartResourcePull(ctx, m.tc, v.UUID); err != nil {
			return &models.Error{Code: models.CodeUnavailable, Message: workflows.MsgTemporalUnavailable, Err: err}
		}
		c.JSON(http.StatusAccepted, Detail{Detail: MsgPullScheduled})
		return nil
	}
}

// @Summary	Unlink a resource (staff only)
// @Description	Deletes the resource from the database without touching its backend, for a resource stuck in a transitional state: its orders (their workflows are stopped), usages and endpoints go with it, invoice items keep their figures, a resource that was not Terminated gives its nc_resource_count back; emits marketplace_resource_unlinked. 403 for anyone but staff.
// @Tags		marketplace-resources
// @Param		uuid	path	string	true	"Resource UUID"
// @Success	204
// @Failure	403	{object}	api.ErrorBody
// @Router		/api/marketplace-resources/{uuid}/unlink/ [post]
// @Router		/api/marketplace-provider-resources/{uuid}/unlink/ [post]
func (m *Module) unlinkResource(s side) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.staffResource(c, s)
		if err != nil {
			return err
		}
		running, err := m.st.UnlinkResource(c.Request.Context(), v.UUID)
		if err != nil {
			return err
		}
		if m.tc != nil && len(running) > 0 {
			ctx, cancel := context.WithTimeout(c.Request.Context(), m.timeout)
			defer cancel()
			workflows.StopOrders(ctx, m.tc, running, "resource unlinked by staff")
		}
		c.Status(http.StatusNoContent)
		return nil
	}
}
