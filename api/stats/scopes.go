package stats

import (
	"context"
	"math"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// ComponentsUsage is Waldur's ComponentsUsageStats.
type ComponentsUsage struct {
	Components []ComponentFigures `json:"components"`
}

// ComponentFigures is Waldur's ComponentStats: an offering component of
// the scope's resources with the usage reported for it (all periods, or
// the current month), the usage counted against its limits
// (component_quotas) and the sum of the resources' limits of its type.
type ComponentFigures struct {
	Type         string `json:"type" example:"cpu"`
	Name         string `json:"name" example:"CPU"`
	Description  string `json:"description" example:""`
	MeasuredUnit string `json:"measured_unit" example:"hours"`
	BillingType  string `json:"billing_type" example:"usage"`
	Usage        int64  `json:"usage" example:"15"`
	LimitUsage   int64  `json:"limit_usage" example:"10"`
	Limit        int64  `json:"limit" example:"40"`
	OfferingName string `json:"offering_name" example:"HPC"`
	OfferingUUID string `json:"offering_uuid" example:"e42473f39c844333a80107e139a4dd06"`
}

// ScopeComponents computes the components' figures of the resources (not
// terminated) of a customer (project false) or project, in one query.
// month, when set, counts only that billing period's usage.
func (q *Queries) ScopeComponents(ctx context.Context, project bool, scopeID int64, month *time.Time) (ComponentsUsage, error) {
	scope := "p.customer_id = @scope"
	if project {
		scope = "p.id = @scope"
	}
	period := ""
	args := map[string]any{"scope": scopeID}
	if month != nil {
		period = " AND cu.billing_period >= @from AND cu.billing_period < @to"
		args["from"], args["to"] = dateString(monthStart(*month)), dateString(addMonths(*month, 1))
	}
	res := `FROM resources r JOIN projects p ON p.id = r.project_id WHERE r.offering_id = f.id AND r.state <> 'Terminated' AND ` + scope
	var rows []struct {
		Type, Name, Description, MeasuredUnit, BillingType, OfferingName, OfferingUUID string
		Usage, LimitUsage                                                              float64
		Limit                                                                          int64
	}
	err := q.db.WithContext(ctx).Raw(`SELECT oc.type, oc.name, oc.description, oc.measured_unit, oc.billing_type,
			f.name AS offering_name, f.uuid AS offering_uuid,
			(SELECT COALESCE(SUM(cu.usage), 0) FROM component_usages cu JOIN resources r ON r.id = cu.resource_id
				JOIN projects p ON p.id = r.project_id WHERE cu.component_id = oc.id AND `+scope+period+`) AS usage,
			(SELECT COALESCE(SUM(cq.usage), 0) FROM component_quotas cq JOIN resources r ON r.id = cq.resource_id
				JOIN projects p ON p.id = r.project_id WHERE cq.component_id = oc.id AND r.state <> 'Terminated' AND `+scope+`) AS limit_usage,
			(SELECT COALESCE(SUM(`+q.limitOf("r.limits", "oc.type")+`), 0) `+res+`) AS "limit"
		FROM offering_components oc JOIN offerings f ON f.id = oc.offering_id
		WHERE EXISTS (SELECT 1 `+res+`)
		ORDER BY f.name, f.id, oc.type`, args).Scan(&rows).Error
	out := ComponentsUsage{Components: make([]ComponentFigures, len(rows))}
	if err != nil {
		return out, models.Internal(err)
	}
	for i, r := range rows {
		out.Components[i] = ComponentFigures{Type: r.Type, Name: r.Name, Description: r.Description, MeasuredUnit: r.MeasuredUnit,
			BillingType: r.BillingType, Usage: int64(math.Round(r.Usage)), LimitUsage: int64(math.Round(r.LimitUsage)), Limit: r.Limit,
			OfferingName: r.OfferingName, OfferingUUID: r.OfferingUUID}
	}
	return out, nil
}

// forMonth reads ?for_current_month=: the current month, or nil for all.
func (m *Module) forMonth(c *gin.Context) (*time.Time, error) {
	b, err := rest.Bool(c, "for_current_month")
	if err != nil {
		return nil, err
	}
	if b == nil || !*b {
		return nil, nil
	}
	t := m.now()
	return &t, nil
}

// customerStats godoc
//
//	@Summary		Get customer resource usage statistics
//	@Description	Whoever sees the organization. The offering components of its resources (not terminated): usage reported (all periods, or the current month with for_current_month=true), usage counted against the limits, and the resources' limits summed.
//	@Tags			customers
//	@Produce		json
//	@Param			uuid				path	string	true	"Customer UUID"
//	@Param			for_current_month	query	bool	false	"Only the current month's usage"
//	@Success		200	{object}	ComponentsUsage
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/customers/{uuid}/stats/ [get]
func (m *Module) customerStats(c *gin.Context) error {
	id, err := api.PathUUID(c, "Customer")
	if err != nil {
		return err
	}
	cu, err := m.st.VisibleCustomer(c.Request.Context(), id, m.now())
	if err != nil {
		return err
	}
	month, err := m.forMonth(c)
	if err != nil {
		return err
	}
	s, err := m.q.ScopeComponents(c.Request.Context(), false, cu.ID, month)
	if err != nil {
		return err
	}
	return one(c, s)
}

// projectStats godoc
//
//	@Summary		Get project resource usage statistics
//	@Description	Whoever sees the project. The offering components of its resources (not terminated): usage reported (all periods, or the current month with for_current_month=true), usage counted against the limits, and the resources' limits summed.
//	@Tags			projects
//	@Produce		json
//	@Param			uuid				path	string	true	"Project UUID"
//	@Param			for_current_month	query	bool	false	"Only the current month's usage"
//	@Success		200	{object}	ComponentsUsage
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/projects/{uuid}/stats/ [get]
func (m *Module) projectStats(c *gin.Context) error {
	id, err := api.PathUUID(c, "Project")
	if err != nil {
		return err
	}
	p, _, err := m.st.VisibleProject(c.Request.Context(), id, m.now())
	if err != nil {
		return err
	}
	month, err := m.forMonth(c)
	if err != nil {
		return err
	}
	s, err := m.q.ScopeComponents(c.Request.Context(), true, p.ID, month)
	if err != nil {
		return err
	}
	return one(c, s)
}
