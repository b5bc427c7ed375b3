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
	f, err := offeringFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.PublicOfferingsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, offeringSpec, func(rows []store.Offering) ([]Offering, error) {
		return m.renderOfferings(c, rows, true)
	})
}

// getPublic godoc
// @Summary Retrieve a public offering
// @Tags marketplace-public-offerings
// @Success 200 {object} Offering
// @Router /api/marketplace-public-offerings/{uuid}/ [get]
func (m *Module) getPublic(c *gin.Context) error {
	o, err := m.visibleOffering(c, m.st.VisiblePublicOffering)
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
	o, err := m.visibleOffering(c, m.st.VisiblePublicOffering)
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
	o, err := m.visibleOffering(c, m.st.VisiblePublicOffering)
	if err != nil {
		return err
	}
	pid, err := models.ParseUUID(c.Param("plan"))
	if err != nil {
		return api.NotFound("Plan")
	}
	p, err := m.st.PublicPlan(c.Request.Context(), o.ID, pid)
	if err != nil {
		return err
	}
	out, err := m.renderPlans(c, []store.Plan{*p}, nil, false)
	if err != nil {
		return err
	}
	out[0].URL = rest.NestedURL(c, colPublic, o.UUID, "plans", p.UUID)
	return rest.Render(c, http.StatusOK, out[0])
}
