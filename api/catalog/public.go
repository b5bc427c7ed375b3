package catalog

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// listPublic godoc
// @Summary List the public catalog (Active and Paused offerings the caller may order from)
// @Tags marketplace-public-offerings
// @Success 200 {array} Offering
// @Router /api/marketplace-public-offerings/ [get]
func (m *Module) listPublic(c *gin.Context) error {
	q, err := m.filterPublicOfferings(c, m.db(c).Model(&store.Offering{}))
	if err != nil {
		return err
	}
	q, err = m.applyOfferingFilters(c, q)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, store.QueryOf(q), offeringSpec, func(rows []store.Offering) ([]Offering, error) {
		return m.renderOfferings(c, rows, true)
	})
}

// getPublic godoc
// @Summary Retrieve a public offering
// @Tags marketplace-public-offerings
// @Success 200 {object} Offering
// @Router /api/marketplace-public-offerings/{uuid}/ [get]
func (m *Module) getPublic(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.filterPublicOfferings)
	if err != nil {
		return err
	}
	return m.renderOne(c, http.StatusOK, o, true)
}

// listPublicPlans godoc
// @Summary The active plans of a public offering
// @Tags marketplace-public-offerings
// @Success 200 {array} Plan
// @Router /api/marketplace-public-offerings/{uuid}/plans/ [get]
func (m *Module) listPublicPlans(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.filterPublicOfferings)
	if err != nil {
		return err
	}
	plans, err := m.st.PlansOf(c.Request.Context(), []int64{o.ID}, false)
	if err != nil {
		return err
	}
	out, err := m.renderPlans(c, plans[o.ID], nil, false)
	if err != nil {
		return err
	}
	if out == nil {
		out = []Plan{}
	}
	for i := range out {
		out[i].URL = rest.NestedURL(c, colPublic, o.UUID, "plans", plans[o.ID][i].UUID)
	}
	return rest.Render(c, http.StatusOK, out)
}

// getPublicPlan godoc
// @Summary An active plan of a public offering
// @Tags marketplace-public-offerings
// @Success 200 {object} Plan
// @Router /api/marketplace-public-offerings/{uuid}/plans/{plan_uuid}/ [get]
func (m *Module) getPublicPlan(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.filterPublicOfferings)
	if err != nil {
		return err
	}
	pid, err := models.ParseUUID(c.Param("plan"))
	if err != nil {
		return api.NotFound("Plan")
	}
	var rows []store.Plan
	if err := m.db(c).Where("uuid = ? AND offering_id = ? AND archived = ?", pid, o.ID, false).Limit(1).Find(&rows).Error; err != nil {
		return models.Internal(err)
	}
	if len(rows) == 0 {
		return api.NotFound("Plan")
	}
	out, err := m.renderPlans(c, rows, nil, false)
	if err != nil {
		return err
	}
	out[0].URL = rest.NestedURL(c, colPublic, o.UUID, "plans", rows[0].UUID)
	return rest.Render(c, http.StatusOK, out[0])
}
