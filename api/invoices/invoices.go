// Package invoices serves Waldur's billing: monthly invoices
// (/api/invoices/, with their items, staff actions, per-offering stats and
// a CSV export), invoice items (/api/invoice-items/) and credits
// (/api/customer-credits/, /api/project-credits/).
//
// Invoices and items are computed by the registrator (models/billing from
// each resource's history, stored by models/store) and closed by the
// monthly close workflow; this package only shows them and applies staff
// corrections. Visibility: staff and support see everything; a role on a
// customer shows its invoices, items and credits; a project role shows the
// project's credit. Changes are staff's.
package invoices

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// Deps are what the billing endpoints need.
type Deps struct {
	Store *store.Store
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// Module registers the billing routes (an api.Module).
type Module struct {
	st  *store.Store
	now func() time.Time
}

var _ api.Module = (*Module)(nil)

// New returns the billing module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

const (
	colInvoices        = "invoices"
	colItems           = "invoice-items"
	colCustomerCredits = "customer-credits"
	colProjectCredits  = "project-credits"
)

// Routes implements api.Module. Every route needs an authenticated user.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}

	inv := a.Group("/"+colInvoices, api.RequireUser)
	inv.Match(get, "/", api.H(m.listInvoices))
	inv.Match(get, "/:uuid/", api.H(m.getInvoice))
	inv.GET("/:uuid/items/", api.H(m.invoiceItems))
	inv.GET("/:uuid/stats/", api.H(m.invoiceStats))
	inv.GET("/:uuid/csv/", api.H(m.invoiceCSV))
	inv.POST("/:uuid/paid/", api.RequireStaff, api.H(m.paid))
	inv.POST("/:uuid/set_backend_id/", api.RequireStaff, api.H(m.setField("backend_id", 255, false)))
	inv.POST("/:uuid/set_payment_url/", api.RequireStaff, api.H(m.setField("payment_url", 200, true)))
	inv.POST("/:uuid/set_reference_number/", api.RequireStaff, api.H(m.setField("reference_number", 300, false)))

	it := a.Group("/"+colItems, api.RequireUser)
	it.Match(get, "/", api.H(m.listItems))
	it.GET("/total_price/", api.H(m.totalPrice))
	it.Match(get, "/:uuid/", api.H(m.getItem))
	it.PUT("/:uuid/", api.RequireStaff, api.H(m.updateItem(false)))
	it.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateItem(true)))
	it.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteItem))
	it.POST("/:uuid/create_compensation/", api.RequireStaff, api.H(m.createCompensation))
	it.POST("/:uuid/migrate_to/", api.RequireStaff, api.H(m.migrateTo))

	cc := a.Group("/"+colCustomerCredits, api.RequireUser)
	cc.Match(get, "/", api.H(m.listCustomerCredits))
	cc.POST("/", api.RequireStaff, api.H(m.createCustomerCredit))
	cc.Match(get, "/:uuid/", api.H(m.getCustomerCredit))
	cc.PUT("/:uuid/", api.RequireStaff, api.H(m.updateCustomerCredit(false)))
	cc.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateCustomerCredit(true)))
	cc.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteCustomerCredit))
	cc.GET("/:uuid/consumptions/", api.H(m.creditConsumptions))

	pc := a.Group("/"+colProjectCredits, api.RequireUser)
	pc.Match(get, "/", api.H(m.listProjectCredits))
	pc.POST("/", api.RequireStaff, api.H(m.createProjectCredit))
	pc.Match(get, "/:uuid/", api.H(m.getProjectCredit))
	pc.PUT("/:uuid/", api.RequireStaff, api.H(m.updateProjectCredit(false)))
	pc.PATCH("/:uuid/", api.RequireStaff, api.H(m.updateProjectCredit(true)))
	pc.DELETE("/:uuid/", api.RequireStaff, api.H(m.deleteProjectCredit))
}

// CustomerDetails is Waldur's CustomerDetails (the invoice's parties).
type CustomerDetails struct {
	Name        string  `json:"name"`
	Address     string  `json:"address"`
	Country     string  `json:"country"`
	CountryName *string `json:"country_name"`
	Email       string  `json:"email"`
	Postal      string  `json:"postal"`
	PhoneNumber string  `json:"phone_number"`
	BankName    string  `json:"bank_name"`
	BankAccount string  `json:"bank_account"`
	VATCode     string  `json:"vat_code"`
}

// Invoice is Waldur's Invoice: money as decimal strings (price = Σ item
// prices, tax = price × tax percent, total = price + tax); compensations
// is Σ of the credit compensation items (negative), incurred_costs Σ of
// the others.
type Invoice struct {
	URL             string          `json:"url"`
	UUID            models.UUID     `json:"uuid"`
	Number          int64           `json:"number"`
	Customer        string          `json:"customer"`
	Price           string          `json:"price" example:"120.00"`
	Tax             string          `json:"tax" example:"0.00"`
	Total           string          `json:"total" example:"120.00"`
	State           string          `json:"state" enums:"pending,created,paid,canceled"`
	Year            int             `json:"year"`
	Month           int             `json:"month"`
	IssuerDetails   CustomerDetails `json:"issuer_details"`
	InvoiceDate     *string         `json:"invoice_date" example:"2026-02-01"`
	DueDate         *string         `json:"due_date,omitempty" example:"2026-03-03"`
	CustomerDetails CustomerDetails `json:"customer_details"`
	Items           []InvoiceItem   `json:"items"`
	BackendID       string          `json:"backend_id"`
	PaymentURL      string          `json:"payment_url"`
	ReferenceNumber string          `json:"reference_number"`
	Compensations   float64         `json:"compensations"`
	IncurredCosts   float64         `json:"incurred_costs"`
}

// InvoiceItem is Waldur's InvoiceItem (within an invoice): price is a
// number, tax and total strings of cents, unit price and quantity decimal strings.
type InvoiceItem struct {
	UUID         models.UUID    `json:"uuid"`
	URL          string         `json:"url"`
	Name         string         `json:"name"`
	Price        float64        `json:"price"`
	Tax          string         `json:"tax"`
	Total        string         `json:"total"`
	UnitPrice    string         `json:"unit_price"`
	Unit         string         `json:"unit" enums:"month,quarter,half_month,day,hour,quantity"`
	Factor       *int64         `json:"factor,omitempty"`
	MeasuredUnit string         `json:"measured_unit"`
	Start        time.Time      `json:"start"`
	End          time.Time      `json:"end"`
	ArticleCode  string         `json:"article_code"`
	ProjectName  string         `json:"project_name"`
	ProjectUUID  *string        `json:"project_uuid"`
	Quantity     string         `json:"quantity"`
	Details      map[string]any `json:"details"`
	Resource     *string        `json:"resource"`
	ResourceUUID *models.UUID   `json:"resource_uuid,omitempty"`
	ResourceName string         `json:"resource_name"`
	BillingType  string         `json:"billing_type"`
	BackendUUID  *string        `json:"backend_uuid"`
	Credit       bool           `json:"credit"`
}

// billingType is Waldur's billing type of an item.
func billingType(k billing.ItemKind) string {
	switch k {
	case billing.KindPlan, billing.KindFixed:
		return string(models.BillingFixed)
	case billing.KindLimit, billing.KindLimitTotal:
		return string(models.BillingLimit)
	case billing.KindOne, billing.KindFew, billing.KindUsage:
		return string(k)
	}
	return ""
}

func money(d decimal.Decimal) string { return d.StringFixed(2) }

func float(d decimal.Decimal) float64 {
	f, _ := d.Float64()
	return f
}

func details(d store.RawJSON) map[string]any { return d.Map() }

func (m *Module) renderItem(c *gin.Context, it *store.ItemView, taxPercent decimal.Decimal) InvoiceItem {
	tax := billing.RoundTax(it.Price.Mul(taxPercent).Div(decimal.NewFromInt(100)))
	out := InvoiceItem{UUID: it.UUID, URL: rest.URL(c, colItems, it.UUID), Name: it.Name, Price: float(it.Price),
		Tax: money(tax), Total: money(it.Price.Add(tax)), UnitPrice: it.UnitPrice.StringFixed(7), Unit: string(it.Unit),
		MeasuredUnit: it.MeasuredUnit, Start: it.Start.UTC(), End: it.End.UTC(), ArticleCode: it.ArticleCode,
		ProjectName: it.ProjectName, Quantity: it.Quantity.StringFixed(7), Details: details(it.Details),
		BillingType: billingType(it.Kind), BackendUUID: it.BackendUUID, Credit: it.CreditID != nil}
	if it.ProjectUUID != "" {
		p := it.ProjectUUID
		out.ProjectUUID = &p
	}
	if it.Unit == models.UnitDay || it.Unit == models.UnitHour {
		f := it.Quantity.Ceil().IntPart()
		out.Factor = &f
	}
	if it.ResourceUUID != nil {
		u := rest.URL(c, "marketplace-resources", *it.ResourceUUID)
		out.Resource, out.ResourceUUID = &u, it.ResourceUUID
		if it.ResourceName != nil {
			out.ResourceName = *it.ResourceName
		}
	}
	return out
}

// invoiceListSpec orders invoices as Waldur's InvoiceOEnum.
var invoiceListSpec = rest.ListSpec{
	Ordering:        map[string]string{"created": "invoices.created", "year": "invoices.year", "month": "invoices.month"},
	DefaultOrdering: []string{"-year", "-month"},
	TieBreaker:      "invoices.id",
}

var invoiceStates = map[string]bool{}

func init() {
	for _, s := range []billing.InvoiceState{billing.InvoicePending, billing.InvoicePendingFinalization, billing.InvoiceCreated,
		billing.InvoicePaid, billing.InvoiceCanceled} {
		invoiceStates[string(s)] = true
	}
}

// intFilter reads an integer query filter (a 400 on a bad value).
func intFilter(c *gin.Context, key string) (*int, error) {
	v := rest.Last(c, key)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, models.FieldError(key, "Enter a whole number.")
	}
	return &n, nil
}

// @Summary	List invoices
// @Tags		invoices
// @Param		customer		query	string		false	"Customer URL"
// @Param		customer_uuid	query	string		false	"Customer UUID"
// @Param		year			query	int			false	"Year"
// @Param		month			query	int			false	"Month"
// @Param		state			query	[]string	false	"pending, created, paid, canceled (repeatable)"
// @Param		o				query	string		false	"created, year, month (- for descending)"
// @Success	200	{array}	Invoice
// @Router		/api/invoices/ [get]
func (m *Module) listInvoices(c *gin.Context) error {
	var f store.InvoiceFilter
	if v := rest.Last(c, "customer"); v != "" {
		id, err := rest.ParseRef("customer", v, "customers")
		if err != nil {
			return err
		}
		f.Customer = &id
	}
	ids, err := rest.UUIDs(c, "customer_uuid")
	if err != nil {
		return err
	}
	f.CustomerUUIDs = ids
	for _, k := range []struct {
		key string
		dst **int
	}{{"year", &f.Year}, {"month", &f.Month}} {
		n, err := intFilter(c, k.key)
		if err != nil {
			return err
		}
		*k.dst = n
	}
	states := rest.Values(c, "state")
	for _, s := range states {
		if !invoiceStates[s] {
			return models.FieldError("state", fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", s))
		}
	}
	f.States = states
	q, err := m.st.InvoicesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, invoiceListSpec, func(rows []store.InvoiceView) ([]Invoice, error) {
		return m.renderInvoices(c, rows)
	})
}

// wantsItems tells whether ?field= asks for the items (all fields when absent).
func wantsItems(c *gin.Context) bool {
	fs := rest.Fields(c)
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		if f == "items" {
			return true
		}
	}
	return false
}

func (m *Module) renderInvoices(c *gin.Context, rows []store.InvoiceView) ([]Invoice, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	items := map[int64][]store.ItemView{}
	if wantsItems(c) && len(ids) > 0 {
		all, err := m.st.ItemsOfInvoices(c.Request.Context(), ids)
		if err != nil {
			return nil, err
		}
		for _, it := range all {
			items[it.InvoiceID] = append(items[it.InvoiceID], it)
		}
	}
	sums, err := m.st.InvoiceSumsOf(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]Invoice, len(rows))
	for i := range rows {
		v := &rows[i]
		t := v.Totals()
		inv := Invoice{URL: rest.URL(c, colInvoices, v.UUID), UUID: v.UUID, Number: v.Number(), Customer: rest.URL(c, "customers", v.CustomerUUID),
			Price: money(t.Price), Tax: money(t.Tax), Total: money(t.Total), State: string(v.State), Year: v.Year, Month: v.Month,
			CustomerDetails: CustomerDetails{Name: v.CustomerName, Address: v.CustomerAddress, Country: v.CustomerCountry,
				Email: v.CustomerEmail, Postal: v.CustomerPostal, PhoneNumber: v.CustomerPhoneNumber, BankName: v.CustomerBankName,
				BankAccount: v.CustomerBankAccount, VATCode: v.CustomerVATCode},
			Items: []InvoiceItem{}, BackendID: v.BackendID, PaymentURL: v.PaymentURL, ReferenceNumber: v.ReferenceNumber,
			Compensations: float(sums[v.ID].Compensations), IncurredCosts: float(sums[v.ID].Costs)}
		if v.InvoiceDate != nil {
			d := v.InvoiceDate.UTC().Format("2006-01-02")
			due := v.InvoiceDate.UTC().AddDate(0, 0, PaymentInterval).Format("2006-01-02")
			inv.InvoiceDate, inv.DueDate = &d, &due
		}
		for j := range items[v.ID] {
			inv.Items = append(inv.Items, m.renderItem(c, &items[v.ID][j], v.TaxPercent))
		}
		out[i] = inv
	}
	return out, nil
}

// PaymentInterval is the days from the invoice date to its due date (Waldur's PAYMENT_INTERVAL).
const PaymentInterval = 30

// visibleInvoice loads the invoice of the path if the caller may see it (404 otherwise).
func (m *Module) visibleInvoice(c *gin.Context) (*store.InvoiceView, error) {
	id, err := api.PathUUID(c, "Invoice")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleInvoice(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("Invoice")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve an invoice
// @Tags		invoices
// @Param		uuid	path	string	true	"Invoice UUID"
// @Success	200	{object}	Invoice
// @Router		/api/invoices/{uuid}/ [get]
func (m *Module) getInvoice(c *gin.Context) error {
	v, err := m.visibleInvoice(c)
	if err != nil {
		return err
	}
	out, err := m.renderInvoices(c, []store.InvoiceView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

// @Summary		Items of an invoice
// @Description	The invoice's items (a list, as Waldur answers, although its OpenAPI names one item).
// @Tags			invoices
// @Param			uuid			path	string	true	"Invoice UUID"
// @Param			project_uuid	query	string	false	"Project"
// @Param			offering_uuid	query	string	false	"Offering"
// @Param			provider_uuid	query	string	false	"Customer of the offering"
// @Param			conceal_compensation_items	query	bool	false	"Leave compensation items out"
// @Success		200	{array}	InvoiceItem
// @Router			/api/invoices/{uuid}/items/ [get]
func (m *Module) invoiceItems(c *gin.Context) error {
	v, err := m.visibleInvoice(c)
	if err != nil {
		return err
	}
	f, err := itemFilter(c)
	if err != nil {
		return err
	}
	conceal, err := rest.Bool(c, "conceal_compensation_items")
	if err != nil {
		return err
	}
	f.ConcealCompensations = conceal != nil && *conceal
	items, err := m.st.ItemsOfInvoice(c.Request.Context(), v.ID, f)
	if err != nil {
		return err
	}
	out := make([]InvoiceItem, len(items))
	for i := range items {
		out[i] = m.renderItem(c, &items[i], v.TaxPercent)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// itemFilter reads the item filters shared by the item lists.
func itemFilter(c *gin.Context) (store.ItemFilter, error) {
	var f store.ItemFilter
	for key, dst := range map[string]*[]models.UUID{"project_uuid": &f.ProjectUUIDs, "offering_uuid": &f.OfferingUUIDs,
		"provider_uuid": &f.ProviderUUIDs, "resource_uuid": &f.ResourceUUIDs, "customer_uuid": &f.CustomerUUIDs, "credit_uuid": &f.CreditUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return f, err
		}
		*dst = ids
	}
	return f, nil
}

// StatsOffering is Waldur's InvoiceStatsOffering: an invoice's spending on one offering.
type StatsOffering struct {
	OfferingName         string      `json:"offering_name"`
	AggregatedPrice      float64     `json:"aggregated_price"`
	AggregatedTax        float64     `json:"aggregated_tax"`
	AggregatedTotal      float64     `json:"aggregated_total"`
	ServiceCategoryTitle string      `json:"service_category_title"`
	ServiceProviderName  string      `json:"service_provider_name"`
	ServiceProviderUUID  models.UUID `json:"service_provider_uuid"`
}

// @Summary	Spending of an invoice per offering
// @Tags		invoices
// @Param		uuid			path	string	true	"Invoice UUID"
// @Param		provider_uuid	query	string	false	"Customer of the offerings"
// @Success	200	{array}	StatsOffering
// @Router		/api/invoices/{uuid}/stats/ [get]
func (m *Module) invoiceStats(c *gin.Context) error {
	v, err := m.visibleInvoice(c)
	if err != nil {
		return err
	}
	f, err := itemFilter(c)
	if err != nil {
		return err
	}
	f.WithOffering = true
	items, err := m.st.ItemsOfInvoice(c.Request.Context(), v.ID, f)
	if err != nil {
		return err
	}
	var out []StatsOffering
	at := map[int64]int{}
	sums := map[int64]decimal.Decimal{}
	for _, it := range items {
		oid := *it.OfferingID
		if _, ok := at[oid]; !ok {
			at[oid] = len(out)
			s := StatsOffering{}
			if it.OfferingName != nil {
				s.OfferingName = *it.OfferingName
			}
			if it.CategoryTitle != nil {
				s.ServiceCategoryTitle = *it.CategoryTitle
			}
			if it.ProviderName != nil {
				s.ServiceProviderName = *it.ProviderName
			}
			if it.ProviderUUID != nil {
				s.ServiceProviderUUID = *it.ProviderUUID
			}
			out = append(out, s)
		}
		sums[oid] = sums[oid].Add(it.Price)
	}
	for oid, i := range at {
		t := billing.TotalsOf(sums[oid], v.TaxPercent)
		out[i].AggregatedPrice, out[i].AggregatedTax, out[i].AggregatedTotal = float(t.Price), float(t.Tax), float(t.Total)
	}
	if out == nil {
		out = []StatsOffering{}
	}
	c.Header("X-Result-Count", strconv.Itoa(len(out)))
	c.JSON(http.StatusOK, out)
	return nil
}

// csvHeader is the CSV export's first line.
var csvHeader = []string{"invoice_number", "customer", "year", "month", "item_uuid", "name", "project", "resource", "offering",
	"billing_type", "start", "end", "unit", "quantity", "unit_price", "price", "tax", "total", "measured_unit", "article_code"}

// @Summary		An invoice as CSV
// @Description	Our export (Waldur exports through reporting settings): one line per item with its quantity, unit price, price, tax and total; the header names the columns.
// @Tags			invoices
// @Produce		text/csv
// @Param			uuid	path	string	true	"Invoice UUID"
// @Success		200	{string}	string	"CSV"
// @Router			/api/invoices/{uuid}/csv/ [get]
func (m *Module) invoiceCSV(c *gin.Context) error {
	v, err := m.visibleInvoice(c)
	if err != nil {
		return err
	}
	items, err := m.st.ItemsOfInvoice(c.Request.Context(), v.ID, store.ItemFilter{})
	if err != nil {
		return err
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="invoice-%d-%04d-%02d.csv"`, v.Number(), v.Year, v.Month))
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write(csvHeader)
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	for _, it := range items {
		tax := billing.RoundTax(it.Price.Mul(v.TaxPercent).Div(decimal.NewFromInt(100)))
		_ = w.Write([]string{strconv.FormatInt(v.Number(), 10), v.CustomerName, strconv.Itoa(v.Year), strconv.Itoa(v.Month),
			it.UUID.String(), it.Name, it.ProjectName, deref(it.ResourceName), deref(it.OfferingName), billingType(it.Kind),
			it.Start.UTC().Format(time.RFC3339), it.End.UTC().Format(time.RFC3339), string(it.Unit), it.Quantity.String(),
			it.UnitPrice.String(), money(it.Price), money(tax), money(it.Price.Add(tax)), it.MeasuredUnit, it.ArticleCode})
	}
	w.Flush()
	return w.Error()
}

// PaidRequest is the body of paid.
type PaidRequest struct {
	Date string `json:"date" example:"2026-02-10"`
}

// @Summary	Mark an invoice paid
// @Description	Staff: a created invoice becomes paid (invoice_paid).
// @Tags		invoices
// @Param		uuid	path	string		true	"Invoice UUID"
// @Param		body	body	PaidRequest	true	"Date of payment"
// @Success	200	{object}	Invoice
// @Router		/api/invoices/{uuid}/paid/ [post]
func (m *Module) paid(c *gin.Context) error {
	v, err := m.visibleInvoice(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("date")
	date, _ := f.Date("date", false)
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := m.st.MarkInvoicePaid(c.Request.Context(), v.UUID, *date); err != nil {
		return err
	}
	return m.getInvoice(c)
}

// @Summary	Set an invoice's backend ID, payment URL or reference number
// @Tags		invoices
// @Param		uuid	path	string	true	"Invoice UUID"
// @Param		body	body	object	true	"{backend_id} | {payment_url} | {reference_number}"
// @Success	200
// @Router		/api/invoices/{uuid}/set_backend_id/ [post]
// @Router		/api/invoices/{uuid}/set_payment_url/ [post]
// @Router		/api/invoices/{uuid}/set_reference_number/ [post]
func (m *Module) setField(field string, maxLen int, isURL bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.visibleInvoice(c)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		var val string
		if isURL {
			if f.Has(field) && !f.IsNull(field) {
				if s, _ := f.Text(field); s != "" {
					val, _ = f.URL(field, maxLen)
				}
			}
		} else {
			val, _ = f.Str(field, maxLen, true)
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := m.st.SetInvoiceField(c.Request.Context(), v.UUID, field, val); err != nil {
			return err
		}
		c.Status(http.StatusOK)
		return nil
	}
}
