package orders

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// OrderPreview is the answer of POST /api/marketplace-orders/preview/
// (ours): what creating the same order would do, without doing it.
type OrderPreview struct {
	// Accepted: creating this order now would succeed.
	Accepted bool `json:"accepted"`
	// State is the state the order would start in (null when refused).
	State *models.OrderState `json:"state" swaggertype:"string" enums:"pending-consumer,pending-provider,pending-project,executing"`
	// Cost is the order's estimated cost (decimal string), as the created order would carry it;
	// null when the plan is not known.
	Cost *string `json:"cost" example:"10.00"`
	// Refusal says what would refuse the order (null when accepted).
	Refusal *Refusal `json:"refusal"`
}

// Refusal is why an order would be refused: the status and body creating it
// would answer with, and for a quota the quotas that would be exceeded.
type Refusal struct {
	Status int                 `json:"status" example:"400"`
	Code   models.Code         `json:"code" swaggertype:"string" enums:"invalid,quota_exceeded,forbidden,not_found,conflict"`
	Detail string              `json:"detail"`
	Fields map[string][]string `json:"fields,omitempty"`
	Quotas []QuotaRefusal      `json:"quotas,omitempty"`
}

// QuotaRefusal is a quota the order would exceed.
type QuotaRefusal struct {
	Scope     string `json:"scope" enums:"customer,project"`
	ScopeUUID string `json:"scope_uuid"`
	Name      string `json:"name" example:"nc_resource_count"`
	Limit     int64  `json:"limit" example:"30"`
	Requires  int64  `json:"requires" example:"31"`
}

// @Summary	Preview an order (ours)
// @Description	Takes the body of POST /api/marketplace-orders/ and runs every check creating the order would run
// @Description	(validation, permissions, offering state and visibility, one pending order per resource, and the
// @Description	quota reservation, in a transaction that is rolled back), without creating anything. Answers 200 with
// @Description	whether the order would be accepted, the state it would start in, its estimated cost, and otherwise
// @Description	the status and message creating it would give, naming each quota that would be exceeded.
// @Description	A body that is not a JSON object is a 400 as for creation.
// @Tags		marketplace-orders
// @Accept		json
// @Produce	json
// @Success	200	{object}	OrderPreview
// @Failure	400	{object}	api.ErrorBody
// @Failure	401	{object}	api.ErrorBody
// @Router		/api/marketplace-orders/preview/ [post]
func (m *Module) previewOrder(c *gin.Context) error {
	ctx := c.Request.Context()
	f, err := form.Read(c)
	if err != nil {
		return err // not a JSON object: answered as creation would
	}
	var in store.NewOrder
	err = m.prepareCreateOrder(c, f, &in)
	out := OrderPreview{}
	if in.Cost != nil {
		s := in.Cost.String()
		out.Cost = &s
	}
	if err == nil {
		var o *models.Order
		if o, err = m.st.PreviewOrder(ctx, in); err == nil {
			out.Accepted, out.State = true, &o.State
		}
	}
	if err != nil {
		var e *models.Error
		if !errors.As(err, &e) || e.Code == models.CodeInternal || e.Code == models.CodeUnauthorized || e.Code == models.CodeUnavailable {
			return err // not a refusal of this order: the usual error answer
		}
		r := &Refusal{Status: api.StatusOf(e.Code), Code: e.Code, Detail: e.Message, Fields: e.Fields}
		for _, q := range e.Quotas {
			scope, id, err := m.scopeUUID(c, q.Scope)
			if err != nil {
				return err
			}
			r.Quotas = append(r.Quotas, QuotaRefusal{Scope: scope, ScopeUUID: id, Name: q.Name, Limit: q.Limit, Requires: q.Requires})
		}
		out.Refusal = r
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// scopeUUID names a quota's scope for the preview.
func (m *Module) scopeUUID(c *gin.Context, s models.Scope) (string, string, error) {
	ctx := c.Request.Context()
	switch s.Type {
	case models.ScopeProject:
		p, err := m.st.ProjectByID(ctx, s.ID)
		if err != nil {
			return "", "", err
		}
		return "project", p.UUID.String(), nil
	case models.ScopeCustomer:
		cu, err := m.st.CustomerByID(ctx, s.ID)
		if err != nil {
			return "", "", err
		}
		return "customer", cu.UUID.String(), nil
	}
	return string(s.Type), "", nil
}
