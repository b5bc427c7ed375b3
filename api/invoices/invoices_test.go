package invoices_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/invoices"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

var people = []string{"staff", "support", "owner", "admin", "outsider"}

type env struct {
	t        *testing.T
	db       *gorm.DB
	st       *store.Store
	srv      *api.Server
	toks     map[string]string
	customer *models.Customer
	project  *models.Project
	month    billing.Month
	resource models.UUID
}

// newEnv: customer Consumer (owner; admin of its project Science) with one
// resource of a monthly offering (100 a month plus a fixed component of
// 20) running since the start of this month, registered in this month's
// invoice.
func newEnv(t *testing.T, db *gorm.DB) *env {
	ctx := context.Background()
	e := &env{t: t, db: db, st: store.New(db), toks: map[string]string{}, month: billing.MonthOf(time.Now())}
	e.srv = api.New(api.Deps{DB: db, Users: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		invoices.New(invoices.Deps{Store: e.st}))
	users := map[string]*models.User{}
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[name], e.toks[name] = u, tok.Key
	}
	actx := models.WithActor(ctx, models.Actor{User: users["staff"]})
	e.customer = &models.Customer{Name: "Consumer"}
	require.NoError(t, e.st.CreateCustomer(actx, e.customer))
	e.project = &models.Project{Name: "Science"}
	require.NoError(t, e.st.CreateProject(actx, e.project, e.customer))
	grant := func(user, role string, scope models.Scope) {
		r, err := e.st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = e.st.GrantRole(ctx, store.Grant{User: users[user], Role: r, Scope: scope, CustomerID: e.customer.ID})
		require.NoError(t, err)
	}
	grant("owner", models.RoleCustomerOwner, e.customer.Scope())
	grant("admin", models.RoleProjectAdmin, e.project.Scope())

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	provider, _ := ins("customers", map[string]any{"name": "Provider", "accounting_start_date": now, "created": now, "modified": now})
	_, _ = ins("service_providers", map[string]any{"customer_id": provider, "created": now, "modified": now})
	cat, _ := ins("categories", map[string]any{"title": "VMs", "created": now, "modified": now})
	off, _ := ins("offerings", map[string]any{"name": "Cloud", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
		"state": models.OfferingActive, "billable": true, "created": now, "modified": now})
	plan, _ := ins("plans", map[string]any{"name": "Monthly", "offering_id": off, "unit": "month", "unit_price": "100", "created": now, "modified": now})
	comp, _ := ins("offering_components", map[string]any{"offering_id": off, "type": "support", "name": "Support", "billing_type": "fixed",
		"measured_unit": "units"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": plan, "component_id": comp, "price": "20", "amount": 1}).Error)
	// The plan's unit price is its estimate; the fixed "Base" component is what is billed (Waldur).
	base, _ := ins("offering_components", map[string]any{"offering_id": off, "type": "base", "name": "Base", "billing_type": "fixed",
		"measured_unit": "units"})
	require.NoError(t, db.Table("plan_components").Create(map[string]any{"plan_id": plan, "component_id": base, "price": "100", "amount": 1}).Error)
	start := e.month.Start()
	res, resUUID := ins("resources", map[string]any{"name": "vm1", "project_id": e.project.ID, "offering_id": off, "plan_id": plan,
		"state": models.ResourceOK, "limits": "{}", "created": start, "modified": start})
	e.resource = resUUID
	_, _ = ins("orders", map[string]any{"type": models.OrderCreate, "state": models.OrderDone, "resource_id": res, "offering_id": off,
		"project_id": e.project.ID, "plan_id": plan, "limits": "{}", "attributes": "{}", "workflow_started": true,
		"completed_at": start, "created": start, "modified": start})
	_, err := e.st.RegisterResource(ctx, resUUID, e.month)
	require.NoError(t, err)
	return e
}

// do sends a request and validates every 2xx JSON answer against Waldur's OpenAPI file.
func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.raw(method, path, user, body)
	if w.Code >= 200 && w.Code < 300 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		apitest.ValidateResponse(e.t, httptest.NewRequest(method, path, nil), w)
	}
	return w
}

func (e *env) raw(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

type invoiceOut struct {
	UUID          string  `json:"uuid"`
	State         string  `json:"state"`
	Price         string  `json:"price"`
	Total         string  `json:"total"`
	Year          int     `json:"year"`
	Month         int     `json:"month"`
	BackendID     string  `json:"backend_id"`
	InvoiceDate   *string `json:"invoice_date"`
	DueDate       *string `json:"due_date"`
	Compensations float64 `json:"compensations"`
	Items         []struct {
		UUID        string  `json:"uuid"`
		Name        string  `json:"name"`
		Price       float64 `json:"price"`
		Quantity    string  `json:"quantity"`
		BillingType string  `json:"billing_type"`
	} `json:"items"`
}

func TestInvoicesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		ctx := context.Background()

		// Visibility: the customer's owner, staff and support see the invoice; a project admin and an outsider do not.
		for who, n := range map[string]int{"owner": 1, "staff": 2, "support": 2, "admin": 0, "outsider": 0} {
			w := e.do(http.MethodGet, "/api/invoices/?customer_uuid="+e.customer.UUID.String()+"&year="+itoa(e.month.Year), who, nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			if who == "staff" || who == "support" {
				n = 1 // the filter keeps the consumer's only
			}
			require.Len(t, decode[[]invoiceOut](t, w), n, who)
		}
		w := e.do(http.MethodGet, "/api/invoices/?state=pending&state=created", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code)
		inv := decode[[]invoiceOut](t, w)[0]
		require.Equal(t, "pending", inv.State)
		require.Equal(t, "120.00", inv.Price)
		require.Len(t, inv.Items, 2)
		require.Nil(t, inv.InvoiceDate)
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodGet, "/api/invoices/?state=bogus", "owner", nil).Code)
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/api/invoices/"+inv.UUID+"/", "outsider", nil).Code)
		only := decode[map[string]any](t, e.do(http.MethodGet, "/api/invoices/"+inv.UUID+"/?field=uuid&field=total", "owner", nil))
		require.Equal(t, map[string]any{"uuid": inv.UUID, "total": "120.00"}, only)

		// Items, stats, CSV.
		items := decode[[]map[string]any](t, e.raw(http.MethodGet, "/api/invoices/"+inv.UUID+"/items/", "owner", nil))
		require.Len(t, items, 2)
		w = e.do(http.MethodGet, "/api/invoices/"+inv.UUID+"/stats/", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		stats := decode[[]map[string]any](t, w)
		require.Len(t, stats, 1)
		require.Equal(t, "Cloud", stats[0]["offering_name"])
		require.Equal(t, 120.0, stats[0]["aggregated_total"])
		w = e.raw(http.MethodGet, "/api/invoices/"+inv.UUID+"/csv/", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv"))
		rows, err := csv.NewReader(w.Body).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "invoice_number", rows[0][0])
		byName := map[string]string{rows[1][5]: rows[1][15], rows[2][5]: rows[2][15]}
		require.Equal(t, map[string]string{"vm1 (Cloud / Monthly) / Base": "100.00", "vm1 (Cloud / Monthly) / Support": "20.00"}, byName)

		// The item list, with filters, and the total price.
		w = e.do(http.MethodGet, "/api/invoice-items/?project_uuid="+e.project.UUID.String()+"&month="+itoa(int(e.month.Month)), "owner", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Len(t, decode[[]map[string]any](t, w), 2)
		require.Len(t, decode[[]map[string]any](t, e.do(http.MethodGet, "/api/invoice-items/", "outsider", nil)), 0)
		w = e.do(http.MethodGet, "/api/invoice-items/total_price/?customer_uuid="+e.customer.UUID.String(), "owner", nil)
		require.Equal(t, "120.00", decode[map[string]string](t, w)["total_price"])

		// Staff corrections: the support item's quantity halves; the
		// registrator keeps the edit; removing the base item sticks too.
		var support, base string
		for _, it := range inv.Items {
			if strings.HasSuffix(it.Name, "/ Support") {
				support = it.UUID
			} else {
				base = it.UUID
			}
		}
		require.Equal(t, http.StatusForbidden, e.do(http.MethodPatch, "/api/invoice-items/"+support+"/", "owner", map[string]any{"quantity": "0.5"}).Code)
		w = e.do(http.MethodPatch, "/api/invoice-items/"+support+"/", "staff", map[string]any{"quantity": "0.5"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "0.5000000", decode[map[string]any](t, w)["quantity"])
		require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/api/invoice-items/"+base+"/", "staff", nil).Code)
		_, err = e.st.RegisterResource(ctx, e.resource, e.month)
		require.NoError(t, err)
		inv = decode[invoiceOut](t, e.do(http.MethodGet, "/api/invoices/"+inv.UUID+"/", "owner", nil))
		require.Equal(t, "10.00", inv.Price, "the edit and the removal survive registration")
		require.Len(t, inv.Items, 1)

		// A compensation, and a move to another pending invoice of the customer.
		w = e.do(http.MethodPost, "/api/invoice-items/"+support+"/create_compensation/", "staff", map[string]any{"offering_component_name": "Support"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		inv = decode[invoiceOut](t, e.do(http.MethodGet, "/api/invoices/"+inv.UUID+"/", "owner", nil))
		require.Equal(t, "0.00", inv.Price)
		_, err = e.st.EnsureMonthInvoices(ctx, e.month.Next())
		require.NoError(t, err)
		next, err := e.st.InvoiceFor(ctx, e.customer.ID, e.month.Next())
		require.NoError(t, err)
		w = e.do(http.MethodPost, "/api/invoice-items/"+support+"/migrate_to/", "staff", map[string]any{"invoice": "http://x/api/invoices/" + next.UUID.String() + "/"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "10.00", decode[invoiceOut](t, e.do(http.MethodGet, "/api/invoices/"+next.UUID.String()+"/", "owner", nil)).Price)

		// Staff fields and payment.
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/set_backend_id/", "staff", map[string]any{"backend_id": "erp-7"}).Code)
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/set_payment_url/", "staff", map[string]any{"payment_url": "https://pay.example.com/7"}).Code)
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/set_payment_url/", "staff", map[string]any{"payment_url": "not a url"}).Code)
		require.Equal(t, http.StatusForbidden, e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/set_backend_id/", "owner", map[string]any{"backend_id": "x"}).Code)
		require.Equal(t, http.StatusConflict, e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/paid/", "staff", map[string]any{"date": "2026-01-05"}).Code,
			"a pending invoice cannot be paid")
		var invID int64
		require.NoError(t, db.Raw("SELECT id FROM invoices WHERE uuid = ?", inv.UUID).Scan(&invID).Error)
		_, err = e.st.FinalizeInvoice(ctx, invID, e.month.Next().Start())
		require.NoError(t, err)
		w = e.do(http.MethodPost, "/api/invoices/"+inv.UUID+"/paid/", "staff", map[string]any{"date": "2026-01-05"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		paid := decode[invoiceOut](t, w)
		require.Equal(t, "paid", paid.State)
		require.Equal(t, "erp-7", paid.BackendID)
		require.NotNil(t, paid.DueDate)
		require.NotEmpty(t, paid.Items)
		require.Equal(t, http.StatusConflict, e.do(http.MethodPatch, "/api/invoice-items/"+paid.Items[0].UUID+"/", "staff",
			map[string]any{"quantity": "1"}).Code, "items of a finalized invoice do not change")
		require.Equal(t, http.StatusNotFound, e.do(http.MethodPatch, "/api/invoice-items/"+base+"/", "staff", map[string]any{"quantity": "1"}).Code,
			"a removed item is gone")
	})
}

func TestCreditsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		customer := "http://x/api/customers/" + e.customer.UUID.String() + "/"
		body := map[string]any{"customer": customer, "value": "500", "end_date": "2030-01-01", "expected_consumption": "50",
			"minimal_consumption_logic": "linear", "grace_coefficient": "10", "apply_as_minimal_consumption": true}
		require.Equal(t, http.StatusForbidden, e.do(http.MethodPost, "/api/customer-credits/", "owner", body).Code)
		w := e.do(http.MethodPost, "/api/customer-credits/", "staff", body)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		cc := decode[map[string]any](t, w)
		require.Equal(t, "500.00", cc["value"])
		require.Equal(t, 45.0, cc["minimal_consumption"], "90% of 50")
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/customer-credits/", "staff", body).Code, "one credit per customer")
		bad := map[string]any{"customer": customer, "value": "1", "end_date": "2030-01-15"}
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/customer-credits/", "staff", bad).Code)

		for who, n := range map[string]int{"owner": 1, "support": 1, "admin": 0, "outsider": 0} {
			w := e.do(http.MethodGet, "/api/customer-credits/", who, nil)
			require.Equal(t, http.StatusOK, w.Code)
			require.Len(t, decode[[]map[string]any](t, w), n, who)
		}
		id := cc["uuid"].(string)
		w = e.do(http.MethodPatch, "/api/customer-credits/"+id+"/", "staff", map[string]any{"value": "600"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "600.00", decode[map[string]any](t, w)["value"])
		require.Equal(t, http.StatusOK, e.raw(http.MethodGet, "/api/customer-credits/"+id+"/consumptions/", "owner", nil).Code)

		// Project credits share the customer's.
		project := "http://x/api/projects/" + e.project.UUID.String() + "/"
		w = e.do(http.MethodPost, "/api/project-credits/", "staff", map[string]any{"project": project, "value": "700"})
		require.Equal(t, http.StatusBadRequest, w.Code, "more than the customer's credit")
		w = e.do(http.MethodPost, "/api/project-credits/", "staff", map[string]any{"project": project, "value": "200"})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		pc := decode[map[string]any](t, w)
		require.Equal(t, true, pc["apply_as_minimal_consumption"], "Waldur's default when not sent")
		require.Equal(t, "600.00", pc["customer_credit"])
		require.Equal(t, 200.0, pc["allocated_customer_credit"])
		for who, n := range map[string]int{"owner": 1, "admin": 1, "outsider": 0} {
			require.Len(t, decode[[]map[string]any](t, e.do(http.MethodGet, "/api/project-credits/", who, nil)), n, who)
		}
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPatch, "/api/customer-credits/"+id+"/", "staff", map[string]any{"value": "100"}).Code,
			"the customer credit cannot drop below its projects' shares")
		require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/api/project-credits/"+pc["uuid"].(string)+"/", "staff", nil).Code)
		require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, "/api/customer-credits/"+id+"/", "staff", nil).Code)
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/api/customer-credits/"+id+"/", "staff", nil).Code)

		// apply_as_minimal_consumption not sent: true (Waldur's default); sent false: false.
		w = e.do(http.MethodPost, "/api/customer-credits/", "staff", map[string]any{"customer": customer, "value": "10"})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		cc = decode[map[string]any](t, w)
		require.Equal(t, true, cc["apply_as_minimal_consumption"])
		w = e.do(http.MethodPatch, "/api/customer-credits/"+cc["uuid"].(string)+"/", "staff", map[string]any{"apply_as_minimal_consumption": false})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, false, decode[map[string]any](t, w)["apply_as_minimal_consumption"])
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
