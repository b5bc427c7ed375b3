package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// This file holds the reads of the billing and usage endpoints: invoices,
// invoice items, customer and project credits, component usages. Each list
// is narrowed here to what the caller (caller(ctx)) may see: staff and
// support see everything; anyone else what a role in force on a customer
// (or project, or offering) shows.

// viewerSeesCustomer reports whether the caller sees the objects of the
// customer (a role on it, or staff and support).
func (s *Store) viewerSeesCustomer(ctx context.Context, customerID int64) (bool, error) {
	rs, err := s.callerRoleScopes(ctx)
	if err != nil || rs == nil {
		return err == nil, err
	}
	return slices.Contains(rs.Customers, customerID), nil
}

// InvoiceFilter narrows InvoicesQuery (Waldur's InvoiceFilter).
type InvoiceFilter struct {
	// Customer is ?customer= (the customer's URL), CustomerUUIDs ?customer_uuid=.
	Customer      *models.UUID
	CustomerUUIDs []models.UUID
	Year, Month   *int
	// States are the invoice states to keep (validated by the caller).
	States []string
}

// InvoicesQuery returns the invoices (rows scan into InvoiceView) the
// caller may see, narrowed by f: staff and support see all, others the
// invoices of the customers where they hold a role. Table alias c is the
// invoice's customer.
func (s *Store) InvoicesQuery(ctx context.Context, f InvoiceFilter) (Query, error) {
	q := s.invoiceViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		q = q.Where("invoices.customer_id IN ?", nonEmpty(rs.Customers))
	}
	if f.Customer != nil {
		q = q.Where("c.uuid = ?", *f.Customer)
	}
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("c.uuid IN ?", f.CustomerUUIDs)
	}
	if f.Year != nil {
		q = q.Where("invoices.year = ?", *f.Year)
	}
	if f.Month != nil {
		q = q.Where("invoices.month = ?", *f.Month)
	}
	if len(f.States) > 0 {
		q = q.Where("invoices.state IN ?", f.States)
	}
	return QueryOf(q), nil
}

// VisibleInvoice loads an invoice the caller may see. Codes: not_found
// (also when hidden).
func (s *Store) VisibleInvoice(ctx context.Context, id models.UUID) (*InvoiceView, error) {
	v, err := s.InvoiceViewByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.viewerSeesCustomer(ctx, v.CustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Invoice not found.")
	}
	return v, nil
}

// ItemsOfInvoices loads the items of the invoices (staff-removed ones left
// out), in id order.
func (s *Store) ItemsOfInvoices(ctx context.Context, invoiceIDs []int64) ([]ItemView, error) {
	var all []ItemView
	if err := s.itemViews(ctx).Where("invoice_items.invoice_id IN ?", invoiceIDs).Order("invoice_items.id").
		Find(&all).Error; err != nil {
		return nil, models.Internal(err)
	}
	return all, nil
}

// InvoiceSums are what an invoice's items add up to: Compensations the
// compensation items, Costs the others.
type InvoiceSums struct{ Compensations, Costs decimal.Decimal }

// InvoiceSumsOf computes the sums of the invoices, by invoice id (an
// invoice without items is absent).
func (s *Store) InvoiceSumsOf(ctx context.Context, invoiceIDs []int64) (map[int64]InvoiceSums, error) {
	out := map[int64]InvoiceSums{}
	if len(invoiceIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		InvoiceID int64
		Comp      decimal.Decimal
		Costs     decimal.Decimal
	}
	err := s.DB.WithContext(ctx).Table("invoice_items").
		Select("invoice_id, SUM(CASE WHEN kind = ? THEN price ELSE 0 END) AS comp, SUM(CASE WHEN kind = ? THEN 0 ELSE price END) AS costs",
			billing.KindCompensation, billing.KindCompensation).Where("invoice_id IN ?", invoiceIDs).Group("invoice_id").Scan(&rows).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.InvoiceID] = InvoiceSums{Compensations: r.Comp, Costs: r.Costs}
	}
	return out, nil
}

// ItemFilter narrows the invoice item lists (Waldur's InvoiceItemFilter).
type ItemFilter struct {
	ProjectUUIDs, OfferingUUIDs, ProviderUUIDs, ResourceUUIDs, CustomerUUIDs, CreditUUIDs []models.UUID
	// Year and Month are the invoice's; StartYear (and StartMonth, 1 when
	// nil) keep the invoices of that month and later.
	Year, Month, StartYear, StartMonth *int
	// ConcealCompensations leaves the compensation items out.
	ConcealCompensations bool
	// WithOffering keeps the items of an offering only.
	WithOffering bool
}

// apply narrows q (an itemViews query) by f.
func (f ItemFilter) apply(q *gorm.DB) *gorm.DB {
	if len(f.ProjectUUIDs) > 0 {
		// invoice_items.project_uuid is the project's UUID as 32 hex digits.
		hex := make([]string, len(f.ProjectUUIDs))
		for i, id := range f.ProjectUUIDs {
			hex[i] = id.String()
		}
		q = q.Where("invoice_items.project_uuid IN ?", hex)
	}
	for _, c := range []struct {
		col string
		ids []models.UUID
	}{{"f.uuid", f.OfferingUUIDs}, {"pr.uuid", f.ProviderUUIDs}, {"r.uuid", f.ResourceUUIDs}, {"c.uuid", f.CustomerUUIDs},
		{"cc.uuid", f.CreditUUIDs}} {
		if len(c.ids) > 0 {
			q = q.Where(c.col+" IN ?", c.ids)
		}
	}
	if f.Year != nil {
		q = q.Where("inv.year = ?", *f.Year)
	}
	if f.Month != nil {
		q = q.Where("inv.month = ?", *f.Month)
	}
	if f.StartYear != nil {
		month := 1
		if f.StartMonth != nil {
			month = *f.StartMonth
		}
		q = q.Where("(inv.year > ? OR (inv.year = ? AND inv.month >= ?))", *f.StartYear, *f.StartYear, month)
	}
	if f.ConcealCompensations {
		q = q.Where("invoice_items.kind <> ?", billing.KindCompensation)
	}
	if f.WithOffering {
		q = q.Where("invoice_items.offering_id IS NOT NULL")
	}
	return q
}

// visibleItems is the items the caller may see (those of the invoices of
// customers where they hold a role; all for staff and support), narrowed by f.
func (s *Store) visibleItems(ctx context.Context, f ItemFilter) (*gorm.DB, error) {
	q := s.itemViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		q = q.Where("inv.customer_id IN ?", nonEmpty(rs.Customers))
	}
	return f.apply(q), nil
}

// ItemsQuery returns the invoice items (rows scan into ItemView) the caller
// may see, narrowed by f. Table aliases as in itemViews.
func (s *Store) ItemsQuery(ctx context.Context, f ItemFilter) (Query, error) {
	q, err := s.visibleItems(ctx, f)
	if err != nil {
		return Query{}, err
	}
	return QueryOf(q), nil
}

// ItemsTotalPrice is Σ of the prices of the items ItemsQuery selects.
func (s *Store) ItemsTotalPrice(ctx context.Context, f ItemFilter) (decimal.Decimal, error) {
	q, err := s.visibleItems(ctx, f)
	if err != nil {
		return decimal.Zero, err
	}
	var sum struct{ Total decimal.Decimal }
	if err := q.Select("COALESCE(SUM(invoice_items.price), 0) AS total").Scan(&sum).Error; err != nil {
		return decimal.Zero, models.Internal(err)
	}
	return sum.Total, nil
}

// ItemsOfInvoice loads the items of one invoice narrowed by f, in id
// order. The caller has checked the invoice is visible (VisibleInvoice).
func (s *Store) ItemsOfInvoice(ctx context.Context, invoiceID int64, f ItemFilter) ([]ItemView, error) {
	var items []ItemView
	q := f.apply(s.itemViews(ctx).Where("invoice_items.invoice_id = ?", invoiceID))
	if err := q.Order("invoice_items.id").Find(&items).Error; err != nil {
		return nil, models.Internal(err)
	}
	return items, nil
}

// VisibleItem loads an invoice item the caller may see. Codes: not_found
// (also when hidden).
func (s *Store) VisibleItem(ctx context.Context, id models.UUID) (*ItemView, error) {
	v, err := s.ItemViewByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.viewerSeesCustomer(ctx, v.CustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Invoice item not found.")
	}
	return v, nil
}

// CustomerCreditFilter narrows CustomerCreditsQuery.
type CustomerCreditFilter struct {
	CustomerUUIDs []models.UUID
	// CustomerName is contained in the customer's name (case-insensitive).
	CustomerName string
	CustomerSlug string
}

// CustomerCreditsQuery returns the customer credits (rows scan into
// CustomerCreditView) the caller may see, narrowed by f: those of customers
// where the caller holds a role (all for staff and support). Alias c is the
// credit's customer.
func (s *Store) CustomerCreditsQuery(ctx context.Context, f CustomerCreditFilter) (Query, error) {
	q := s.customerCreditViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		q = q.Where("customer_credits.customer_id IN ?", nonEmpty(rs.Customers))
	}
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("c.uuid IN ?", f.CustomerUUIDs)
	}
	if f.CustomerName != "" {
		q = q.Where("LOWER(c.name) LIKE ?", "%"+strings.ToLower(f.CustomerName)+"%")
	}
	if f.CustomerSlug != "" {
		q = q.Where("c.slug = ?", f.CustomerSlug)
	}
	return QueryOf(q), nil
}

// VisibleCustomerCredit loads a customer credit the caller may see.
// Codes: not_found (also when hidden).
func (s *Store) VisibleCustomerCredit(ctx context.Context, id models.UUID) (*CustomerCreditView, error) {
	v, err := s.CustomerCreditByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.viewerSeesCustomer(ctx, v.CustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeNotFound, "Customer credit not found.")
	}
	return v, nil
}

// ProjectCreditFilter narrows ProjectCreditsQuery.
type ProjectCreditFilter struct {
	ProjectUUIDs, CustomerUUIDs []models.UUID
	// ProjectName is contained in the project's name (case-insensitive).
	ProjectName string
}

// ProjectCreditsQuery returns the project credits (rows scan into
// ProjectCreditView) the caller may see, narrowed by f: those of projects
// where the caller holds a role or of their customers' projects (all for
// staff and support). Aliases p (project) and c (customer).
func (s *Store) ProjectCreditsQuery(ctx context.Context, f ProjectCreditFilter) (Query, error) {
	q := s.projectCreditViews(ctx)
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return Query{}, err
	}
	if rs != nil {
		q = q.Where("(p.customer_id IN ? OR project_credits.project_id IN ?)", nonEmpty(rs.Customers), nonEmpty(rs.Projects))
	}
	if len(f.ProjectUUIDs) > 0 {
		q = q.Where("p.uuid IN ?", f.ProjectUUIDs)
	}
	if len(f.CustomerUUIDs) > 0 {
		q = q.Where("c.uuid IN ?", f.CustomerUUIDs)
	}
	if f.ProjectName != "" {
		q = q.Where("LOWER(p.name) LIKE ?", "%"+strings.ToLower(f.ProjectName)+"%")
	}
	return QueryOf(q), nil
}

// VisibleProjectCredit loads a project credit the caller may see (a role
// on its customer or on its project). Codes: not_found (also when hidden).
func (s *Store) VisibleProjectCredit(ctx context.Context, id models.UUID) (*ProjectCreditView, error) {
	v, err := s.ProjectCreditByUUID(ctx, id)
	if err != nil {
		return nil, err
	}
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil && !slices.Contains(rs.Customers, v.CustomerID) && !slices.Contains(rs.Projects, v.ProjectID) {
		return nil, models.Errorf(models.CodeNotFound, "Project credit not found.")
	}
	return v, nil
}

// UsageFilter narrows the component usage and per-user usage lists
// (Waldur's ComponentUsageFilter and ComponentUserUsageFilter).
type UsageFilter struct {
	ResourceUUIDs, OfferingUUIDs, ProjectUUIDs, CustomerUUIDs []models.UUID
	// Resource is ?resource= (the resource's URL).
	Resource *models.UUID
	// Types are component types.
	Types []string
	// BillingPeriod is the first day of the billing period.
	BillingPeriod *time.Time
	// PeriodYear and PeriodMonth (both set) name the billing period too.
	PeriodYear, PeriodMonth *int
	// DateAfter and DateBefore bound the usage's date, both days inclusive.
	DateAfter, DateBefore *time.Time
	// Username is the per-user usage's username (per-user lists only).
	Username string
}

// usageFilter narrows q (aliases cu, r, oc, f, p, c) to the usages the
// caller sees from either side and by f.
func (s *Store) usageFilter(ctx context.Context, q *gorm.DB, f UsageFilter) (*gorm.DB, error) {
	rs, err := s.callerRoleScopes(ctx)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		q = rs.UsageScopeFilter(q)
	}
	for _, c := range []struct {
		col string
		ids []models.UUID
	}{{"r.uuid", f.ResourceUUIDs}, {"f.uuid", f.OfferingUUIDs}, {"p.uuid", f.ProjectUUIDs}, {"c.uuid", f.CustomerUUIDs}} {
		if len(c.ids) > 0 {
			q = q.Where(c.col+" IN ?", c.ids)
		}
	}
	if f.Resource != nil {
		q = q.Where("r.uuid = ?", *f.Resource)
	}
	if len(f.Types) > 0 {
		q = q.Where("oc.type IN ?", f.Types)
	}
	if f.BillingPeriod != nil {
		q = q.Where("cu.billing_period = ?", f.BillingPeriod.Format("2006-01-02"))
	}
	if f.PeriodYear != nil && f.PeriodMonth != nil {
		q = q.Where("cu.billing_period = ?", fmt.Sprintf("%04d-%02d-01", *f.PeriodYear, *f.PeriodMonth))
	}
	if f.DateAfter != nil {
		q = q.Where("cu.date >= ?", *f.DateAfter)
	}
	if f.DateBefore != nil {
		q = q.Where("cu.date < ?", f.DateBefore.AddDate(0, 0, 1))
	}
	return q, nil
}

// ComponentUsagesQuery returns the component usages (rows scan into
// ComponentUsageView) the caller sees, narrowed by f: those of resources
// of their projects and customers, or of the offerings they provide (all
// for staff and support). Aliases as in ComponentUsageViews.
func (s *Store) ComponentUsagesQuery(ctx context.Context, f UsageFilter) (Query, error) {
	q, err := s.usageFilter(ctx, s.ComponentUsageViews(ctx), f)
	if err != nil {
		return Query{}, err
	}
	return QueryOf(q), nil
}

// VisibleComponentUsage loads a component usage the caller sees and f
// keeps. Codes: not_found (also when hidden).
func (s *Store) VisibleComponentUsage(ctx context.Context, id models.UUID, f UsageFilter) (*ComponentUsageView, error) {
	q, err := s.usageFilter(ctx, s.ComponentUsageViews(ctx).Where("cu.uuid = ?", id), f)
	if err != nil {
		return nil, err
	}
	var v ComponentUsageView
	if err := q.Take(&v).Error; err != nil {
		return nil, translate(err, "Component usage")
	}
	return &v, nil
}

// ComponentUserUsagesQuery returns the per-user usages (rows scan into
// ComponentUserUsageView) the caller sees, narrowed by f, as
// ComponentUsagesQuery. Aliases as in ComponentUserUsageViews.
func (s *Store) ComponentUserUsagesQuery(ctx context.Context, f UsageFilter) (Query, error) {
	q, err := s.usageFilter(ctx, s.ComponentUserUsageViews(ctx), f)
	if err != nil {
		return Query{}, err
	}
	if f.Username != "" {
		q = q.Where("uu.username = ?", f.Username)
	}
	return QueryOf(q), nil
}

// VisibleComponentUserUsage loads a per-user usage the caller sees and f
// keeps. Codes: not_found (also when hidden).
func (s *Store) VisibleComponentUserUsage(ctx context.Context, id models.UUID, f UsageFilter) (*ComponentUserUsageView, error) {
	q, err := s.usageFilter(ctx, s.ComponentUserUsageViews(ctx).Where("uu.uuid = ?", id), f)
	if err != nil {
		return nil, err
	}
	if f.Username != "" {
		q = q.Where("uu.username = ?", f.Username)
	}
	var v ComponentUserUsageView
	if err := q.Take(&v).Error; err != nil {
		return nil, translate(err, "Component user usage")
	}
	return &v, nil
}

// ResourceSeenFromEitherSide reports whether the caller sees the resource
// as a consumer (a role on its project or customer) or as its provider (a
// role on its offering or the offering's customer); staff and support see
// every resource.
func (s *Store) ResourceSeenFromEitherSide(ctx context.Context, v *ResourceView) (bool, error) {
	rs, err := s.callerRoleScopes(ctx)
	if err != nil || rs == nil {
		return err == nil, err
	}
	return slices.Contains(rs.Customers, v.CustomerID) || slices.Contains(rs.Projects, v.ProjectID) ||
		slices.Contains(rs.Customers, v.OfferingCustomerID) || slices.Contains(rs.Offerings, v.OfferingID), nil
}
