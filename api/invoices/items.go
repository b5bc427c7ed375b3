package invoices

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// ItemDetail is Waldur's InvoiceItemDetail (the /api/invoice-items/ shape).
type ItemDetail struct {
	Invoice               string         `json:"invoice"`
	Resource              *string        `json:"resource"`
	UUID                  models.UUID    `json:"uuid"`
	ArticleCode           string         `json:"article_code"`
	UnitPrice             string         `json:"unit_price"`
	Unit                  string         `json:"unit"`
	Quantity              string         `json:"quantity"`
	MeasuredUnit          string         `json:"measured_unit"`
	Name                  string         `json:"name"`
	Start                 time.Time      `json:"start"`
	End                   time.Time      `json:"end"`
	Price                 float64        `json:"price"`
	Details               map[string]any `json:"details"`
	OfferingUUID          *models.UUID   `json:"offering_uuid"`
	OfferingName          *string        `json:"offering_name"`
	OfferingComponentType *string        `json:"offering_component_type"`
	ProjectUUID           *string        `json:"project_uuid"`
	ProjectName           string         `json:"project_name"`
	CustomerUUID          models.UUID    `json:"customer_uuid"`
	CustomerName          string         `json:"customer_name"`
}

func renderDetail(c *gin.Context, it *store.ItemView) ItemDetail {
	out := ItemDetail{Invoice: rest.URL(c, colInvoices, it.InvoiceUUID), UUID: it.UUID, ArticleCode: it.ArticleCode,
		UnitPrice: it.UnitPrice.StringFixed(7), Unit: string(it.Unit), Quantity: it.Quantity.StringFixed(7), MeasuredUnit: it.MeasuredUnit,
		Name: it.Name, Start: it.Start.UTC(), End: it.End.UTC(), Price: float(it.Price), Details: details(it.Details),
		OfferingUUID: it.OfferingUUID, OfferingName: it.OfferingName, OfferingComponentType: it.ComponentType,
		ProjectName: it.ProjectName, CustomerUUID: it.CustomerUUID, CustomerName: it.CustomerName}
	if it.ResourceUUID != nil {
		u := rest.URL(c, "marketplace-resources", *it.ResourceUUID)
		out.Resource = &u
	}
	if it.ProjectUUID != "" {
		p := it.ProjectUUID
		out.ProjectUUID = &p
	}
	return out
}

var itemListSpec = rest.ListSpec{
	Ordering:        map[string]string{"project_name": "invoice_items.project_name", "name": "invoice_items.name", "created": "invoice_items.created"},
	DefaultOrdering: []string{"created"},
	TieBreaker:      "invoice_items.id",
}

// itemListFilter reads the filters of the item list (customer_uuid,
// project_uuid, offering_uuid, resource_uuid, credit_uuid, year, month,
// start_year/start_month: items of invoices from that month on).
func itemListFilter(c *gin.Context) (store.ItemFilter, error) {
	f, err := itemFilter(c)
	if err != nil {
		return f, err
	}
	for _, k := range []struct {
		key string
		dst **int
	}{{"year", &f.Year}, {"month", &f.Month}} {
		n, err := intFilter(c, k.key)
		if err != nil {
			return f, err
		}
		*k.dst = n
	}
	if f.StartYear, err = intFilter(c, "start_year"); err != nil {
		return f, err
	}
	if f.StartMonth, err = intFilter(c, "start_month"); err != nil {
		return f, err
	}
	return f, nil
}

// @Summary	List invoice items
// @Tags		invoice-items
// @Param		customer_uuid	query	string	false	"Customer of the invoice"
// @Param		project_uuid	query	string	false	"Project"
// @Param		offering_uuid	query	string	false	"Offering"
// @Param		resource_uuid	query	string	false	"Resource"
// @Param		credit_uuid		query	string	false	"Customer credit (its compensation items)"
// @Param		year			query	int		false	"Year of the invoice"
// @Param		month			query	int		false	"Month of the invoice"
// @Param		start_year		query	int		false	"Invoices from this year on"
// @Param		start_month		query	int		false	"… and this month on"
// @Success	200	{array}	ItemDetail
// @Router		/api/invoice-items/ [get]
func (m *Module) listItems(c *gin.Context) error {
	f, err := itemListFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.ItemsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, itemListSpec, func(it *store.ItemView) ItemDetail { return renderDetail(c, it) })
}

// TotalPrice is Waldur's InvoiceItemTotalPrice.
type TotalPrice struct {
	TotalPrice string `json:"total_price" example:"120.00"`
}

// @Summary	Total price of the filtered items
// @Tags		invoice-items
// @Param		customer_uuid	query	string	false	"Customer of the invoice"
// @Param		project_uuid	query	string	false	"Project"
// @Param		year			query	int		false	"Year of the invoice"
// @Param		month			query	int		false	"Month of the invoice"
// @Success	200	{object}	TotalPrice
// @Router		/api/invoice-items/total_price/ [get]
func (m *Module) totalPrice(c *gin.Context) error {
	f, err := itemListFilter(c)
	if err != nil {
		return err
	}
	total, err := m.st.ItemsTotalPrice(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, TotalPrice{TotalPrice: money(total)})
}

func (m *Module) visibleItem(c *gin.Context) (*store.ItemView, error) {
	id, err := api.PathUUID(c, "InvoiceItem")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleItem(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("InvoiceItem")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve an invoice item
// @Tags		invoice-items
// @Param		uuid	path	string	true	"Item UUID"
// @Success	200	{object}	ItemDetail
// @Router		/api/invoice-items/{uuid}/ [get]
func (m *Module) getItem(c *gin.Context) error {
	v, err := m.visibleItem(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderDetail(c, v))
}

// ItemUpdate is Waldur's InvoiceItemUpdate (request and answer).
type ItemUpdate struct {
	ArticleCode string    `json:"article_code"`
	Quantity    string    `json:"quantity" example:"1.0000000"`
	UnitPrice   string    `json:"unit_price" example:"10.0000000"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// @Summary		Correct an invoice item
// @Description	Staff, on a pending invoice: the price follows quantity × unit price; an item the registrator made is kept as edited.
// @Tags			invoice-items
// @Param			uuid	path	string		true	"Item UUID"
// @Param			body	body	ItemUpdate	true	"Fields to change"
// @Success		200	{object}	ItemUpdate
// @Router			/api/invoice-items/{uuid}/ [put]
// @Router			/api/invoice-items/{uuid}/ [patch]
func (m *Module) updateItem(partial bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleItem(c)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		var ch store.ItemChange
		big := decimal.New(1, 12)
		if f.Has("article_code") {
			if s, ok := f.Str("article_code", 30, true); ok {
				ch.ArticleCode = &s
			}
		}
		if f.Has("quantity") {
			if d, ok := f.Decimal("quantity", 22, 10, big.Neg(), big); ok {
				ch.Quantity = &d
			}
		}
		if f.Has("unit_price") {
			if d, ok := f.Decimal("unit_price", 22, 10, big.Neg(), big); ok {
				ch.UnitPrice = &d
			}
		}
		if f.Has("start") {
			ch.Start, _ = f.Datetime("start", false, false)
		}
		if f.Has("end") {
			ch.End, _ = f.Datetime("end", false, false)
		}
		if err := f.Err(); err != nil {
			return err
		}
		_ = partial // every field is optional in Waldur's InvoiceItemUpdateRequest, for PUT as for PATCH
		if err := m.st.UpdateItem(c.Request.Context(), v.UUID, ch); err != nil {
			return err
		}
		n, err := m.st.ItemViewByUUID(c.Request.Context(), v.UUID)
		if err != nil {
			return err
		}
		return rest.Render(c, http.StatusOK, ItemUpdate{ArticleCode: n.ArticleCode, Quantity: n.Quantity.StringFixed(7),
			UnitPrice: n.UnitPrice.StringFixed(7), Start: n.Start.UTC(), End: n.End.UTC()})
	}
}

// @Summary		Remove an invoice item
// @Description	Staff, on a pending invoice; the registrator does not bring it back.
// @Tags			invoice-items
// @Param			uuid	path	string	true	"Item UUID"
// @Success		204
// @Router			/api/invoice-items/{uuid}/ [delete]
func (m *Module) deleteItem(c *gin.Context) error {
	v, err := m.visibleItem(c)
	if err != nil {
		return err
	}
	if err := m.st.DeleteItem(c.Request.Context(), v.UUID); err != nil {
		return err
	}
	return api.NoContent(c)
}

// Compensation is Waldur's InvoiceItemCompensation (request and answer).
type Compensation struct {
	OfferingComponentName string `json:"offering_component_name"`
}

// @Summary		Compensate an invoice item
// @Description	Staff: adds an item of the opposite price to the item's pending invoice.
// @Tags			invoice-items
// @Param			uuid	path	string			true	"Item UUID"
// @Param			body	body	Compensation	true	"What the compensation is for"
// @Success		200	{object}	Compensation
// @Router			/api/invoice-items/{uuid}/create_compensation/ [post]
func (m *Module) createCompensation(c *gin.Context) error {
	v, err := m.visibleItem(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("offering_component_name")
	name, _ := f.Str("offering_component_name", 150, false)
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := m.st.CompensateItem(c.Request.Context(), v.UUID, name); err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, Compensation{OfferingComponentName: name})
}

// MigrateTo is Waldur's InvoiceItemMigrateTo (request and answer).
type MigrateTo struct {
	Invoice string `json:"invoice"`
}

// @Summary		Move an invoice item to another invoice
// @Description	Staff: both invoices pending and of the same organization.
// @Tags			invoice-items
// @Param			uuid	path	string		true	"Item UUID"
// @Param			body	body	MigrateTo	true	"The target invoice"
// @Success		200	{object}	MigrateTo
// @Router			/api/invoice-items/{uuid}/migrate_to/ [post]
func (m *Module) migrateTo(c *gin.Context) error {
	v, err := m.visibleItem(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("invoice")
	to, _ := f.Ref("invoice", colInvoices, false, true)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.MoveItem(c.Request.Context(), v.UUID, to); err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return models.FieldError("invoice", rest.MsgDoesNotExist)
		}
		return err
	}
	return rest.Render(c, http.StatusOK, MigrateTo{Invoice: rest.URL(c, colInvoices, to)})
}
