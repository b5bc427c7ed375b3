package store

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// InvoiceView is an invoice with its customer's details, as the API shows it.
type InvoiceView struct {
	Invoice
	CustomerUUID        models.UUID
	CustomerName        string
	CustomerAddress     string
	CustomerCountry     string
	CustomerEmail       string
	CustomerPostal      string
	CustomerPhoneNumber string
	CustomerBankName    string
	CustomerBankAccount string
	CustomerVATCode     string
}

// invoiceViews is the query over invoices joined with their customer (c);
// the caller adds filters and ordering.
func (s *Store) invoiceViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("invoices").Select(`invoices.*, c.uuid AS customer_uuid, c.name AS customer_name,
		c.address AS customer_address, c.country AS customer_country, c.email AS customer_email, c.postal AS customer_postal,
		c.phone_number AS customer_phone_number, c.bank_name AS customer_bank_name, c.bank_account AS customer_bank_account,
		c.vat_code AS customer_vat_code`).Joins("JOIN customers c ON c.id = invoices.customer_id")
}

// InvoiceViewByUUID loads one invoice view. Codes: not_found.
func (s *Store) InvoiceViewByUUID(ctx context.Context, id models.UUID) (*InvoiceView, error) {
	var v InvoiceView
	if err := s.invoiceViews(ctx).Where("invoices.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Invoice")
	}
	return &v, nil
}

// ItemView is an invoice item with its invoice, resource, offering and
// customer, as the item endpoints show it.
type ItemView struct {
	InvoiceItem
	InvoiceUUID      models.UUID
	InvoiceYear      int
	InvoiceMonth     int
	InvoiceState     billing.InvoiceState
	TaxPercent       decimal.Decimal
	CustomerID       int64
	CustomerUUID     models.UUID
	CustomerName     string
	ResourceUUID     *models.UUID
	ResourceName     *string
	OfferingUUID     *models.UUID
	OfferingName     *string
	OfferingType     *string
	ProviderUUID     *models.UUID
	ProviderName     *string
	CategoryTitle    *string
	ComponentType    *string
	CreditUUID       *models.UUID
	OfferingCustomer *int64
}

// itemViews is the query over invoice items (staff-removed ones left out)
// joined with their invoice (inv), customer (c), resource (r), offering
// (f), the offering's customer (pr) and category (cat).
func (s *Store) itemViews(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("invoice_items").Select(`invoice_items.*, inv.uuid AS invoice_uuid, inv.year AS invoice_year,
		inv.month AS invoice_month, inv.state AS invoice_state, inv.tax_percent, c.id AS customer_id, c.uuid AS customer_uuid,
		c.name AS customer_name, r.uuid AS resource_uuid, r.name AS resource_name, f.uuid AS offering_uuid, f.name AS offering_name,
		f.type AS offering_type, f.customer_id AS offering_customer, pr.uuid AS provider_uuid, pr.name AS provider_name,
		cat.title AS category_title, oc.type AS component_type, cc.uuid AS credit_uuid`).
		Joins("JOIN invoices inv ON inv.id = invoice_items.invoice_id").
		Joins("JOIN customers c ON c.id = inv.customer_id").
		Joins("LEFT JOIN resources r ON r.id = invoice_items.resource_id").
		Joins("LEFT JOIN offerings f ON f.id = invoice_items.offering_id").
		Joins("LEFT JOIN customers pr ON pr.id = f.customer_id").
		Joins("LEFT JOIN categories cat ON cat.id = f.category_id").
		Joins("LEFT JOIN offering_components oc ON oc.id = "+componentIDExpr(s.DB)).
		Joins("LEFT JOIN customer_credits cc ON cc.id = invoice_items.credit_id").
		Where("invoice_items.item_key NOT LIKE ?", keyDeleted+"%")
}

// componentIDExpr extracts details.plan_component_id (the offering
// component's id) in the dialect's JSON syntax.
func componentIDExpr(db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return "(invoice_items.details->>'plan_component_id')::bigint"
	}
	return "json_extract(invoice_items.details, '$.plan_component_id')"
}

// ItemViewByUUID loads one item view. Codes: not_found.
func (s *Store) ItemViewByUUID(ctx context.Context, id models.UUID) (*ItemView, error) {
	var v ItemView
	if err := s.itemViews(ctx).Where("invoice_items.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Invoice item")
	}
	return &v, nil
}

// ItemChange is a staff edit of an item (nil fields stay).
type ItemChange struct {
	ArticleCode *string
	Quantity    *decimal.Decimal
	UnitPrice   *decimal.Decimal
	Start, End  *time.Time
}

// UpdateItem edits an item of a pending invoice (staff): its price is
// recomputed, an item the registrator made is kept as edited from then on,
// the invoice total follows; invoice_item_updated. Codes: not_found,
// conflict (the invoice is finalized).
func (s *Store) UpdateItem(ctx context.Context, id models.UUID, ch ItemChange) error {
	return s.Tx(ctx, func(tx *Store) error {
		it, inv, err := tx.lockedItem(ctx, id)
		if err != nil {
			return err
		}
		fields := map[string]any{"modified": tx.Now()}
		if ch.ArticleCode != nil {
			fields["article_code"] = *ch.ArticleCode
		}
		if ch.Start != nil {
			fields["start"] = ch.Start.UTC()
		}
		if ch.End != nil {
			fields["end"] = ch.End.UTC()
		}
		q, up := it.Quantity, it.UnitPrice
		if ch.Quantity != nil {
			q = *ch.Quantity
			fields["quantity"] = q
		}
		if ch.UnitPrice != nil {
			up = *ch.UnitPrice
			fields["unit_price"] = up
		}
		fields["price"] = billing.Price(up, q)
		if it.ItemKey != "" && !strings.HasPrefix(it.ItemKey, keyManual) {
			fields["item_key"] = keyManual + it.ItemKey
		}
		if err := tx.DB.WithContext(ctx).Model(&InvoiceItem{}).Where("id = ?", it.ID).Updates(fields).Error; err != nil {
			return models.Internal(err)
		}
		if err := tx.RefreshInvoiceTotals(ctx, inv.Period(), []int64{inv.ID}); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, itemEvent(it, inv, "invoice_item_updated", "updated"))
	})
}

// DeleteItem removes an item of a pending invoice (staff); an item the
// registrator made stays removed (the registrator does not bring it back).
// Codes: not_found, conflict.
func (s *Store) DeleteItem(ctx context.Context, id models.UUID) error {
	return s.Tx(ctx, func(tx *Store) error {
		it, inv, err := tx.lockedItem(ctx, id)
		if err != nil {
			return err
		}
		db := tx.DB.WithContext(ctx)
		key := strings.TrimPrefix(it.ItemKey, keyManual)
		if key == "" {
			if err := db.Where("id = ?", it.ID).Delete(&InvoiceItem{}).Error; err != nil {
				return models.Internal(err)
			}
		} else if err := db.Model(&InvoiceItem{}).Where("id = ?", it.ID).Updates(map[string]any{"item_key": keyDeleted + key,
			"quantity": decimal.Zero, "price": decimal.Zero, "modified": tx.Now()}).Error; err != nil {
			return models.Internal(err)
		}
		if err := tx.RefreshInvoiceTotals(ctx, inv.Period(), []int64{inv.ID}); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, itemEvent(it, inv, "invoice_item_deleted", "deleted"))
	})
}

// MoveItem moves an item to another pending invoice of the same customer
// (staff, Waldur's migrate_to). Codes: not_found, conflict.
func (s *Store) MoveItem(ctx context.Context, id, to models.UUID) error {
	return s.Tx(ctx, func(tx *Store) error {
		it, inv, err := tx.lockedItem(ctx, id)
		if err != nil {
			return err
		}
		var dst Invoice
		if err := forUpdate(tx.DB.WithContext(ctx)).Where("uuid = ?", to).Take(&dst).Error; err != nil {
			return translate(err, "Invoice")
		}
		if !dst.State.Mutable() {
			return models.Errorf(models.CodeConflict, "The target invoice is not pending.")
		}
		if dst.CustomerID != inv.CustomerID {
			return models.FieldError("invoice", "The target invoice belongs to another organization.")
		}
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		fields := map[string]any{"invoice_id": dst.ID, "modified": now}
		if key := strings.TrimPrefix(it.ItemKey, keyManual); key != "" {
			// The registrator must neither bring it back to the source
			// invoice nor recompute it in the target: a tombstone stays.
			fields["item_key"] = keyManual + key
			tomb := *it
			tomb.ID, tomb.UUID, tomb.ItemKey = 0, models.NewUUID(), keyDeleted+key
			tomb.Quantity, tomb.Price, tomb.Created, tomb.Modified = decimal.Zero, decimal.Zero, now, now
			if err := db.Model(&InvoiceItem{}).Where("id = ?", it.ID).Updates(fields).Error; err != nil {
				return translate(err, "Invoice item")
			}
			if err := db.Create(&tomb).Error; err != nil {
				return translate(err, "Invoice item")
			}
		} else if err := db.Model(&InvoiceItem{}).Where("id = ?", it.ID).Updates(fields).Error; err != nil {
			return translate(err, "Invoice item")
		}
		if err := tx.RefreshInvoiceTotals(ctx, inv.Period(), []int64{inv.ID, dst.ID}); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, itemEvent(it, inv, "invoice_item_updated", "moved"))
	})
}

// CompensateItem adds a compensation item cancelling the item's price on
// its invoice (staff, Waldur's create_compensation). Codes: not_found,
// conflict, invalid (a compensation of a compensation).
func (s *Store) CompensateItem(ctx context.Context, id models.UUID, name string) (*InvoiceItem, error) {
	var out *InvoiceItem
	err := s.Tx(ctx, func(tx *Store) error {
		it, inv, err := tx.lockedItem(ctx, id)
		if err != nil {
			return err
		}
		if it.Kind == billing.KindCompensation || !it.Price.IsPositive() {
			return models.Errorf(models.CodeInvalid, "Only an item with a positive price can be compensated.")
		}
		now := tx.Now()
		ref := it.ID
		c := InvoiceItem{UUID: models.NewUUID(), InvoiceID: inv.ID, ResourceID: it.ResourceID, OfferingID: it.OfferingID,
			ProjectID: it.ProjectID, ProjectName: it.ProjectName, ProjectUUID: it.ProjectUUID, Kind: billing.KindCompensation,
			Name: "Compensation. " + it.Name, Details: it.Details, Start: it.Start, End: it.End, Unit: models.UnitQuantity,
			UnitPrice: it.Price.Neg(), Quantity: decimal.NewFromInt(1), Price: it.Price.Neg(), MeasuredUnit: it.MeasuredUnit,
			ArticleCode: it.ArticleCode, CompensatedItemID: &ref, Created: now, Modified: now}
		if name != "" {
			c.Name = "Compensation for " + name + ". " + it.Name
		}
		if err := tx.DB.WithContext(ctx).Create(&c).Error; err != nil {
			return models.Internal(err)
		}
		out = &c
		if err := tx.RefreshInvoiceTotals(ctx, inv.Period(), []int64{inv.ID}); err != nil {
			return err
		}
		return tx.EmitEvent(ctx, itemEvent(&c, inv, "invoice_item_created", "created"))
	})
	return out, err
}

func (s *Store) lockedItem(ctx context.Context, id models.UUID) (*InvoiceItem, *Invoice, error) {
	db := s.DB.WithContext(ctx)
	var it InvoiceItem
	if err := db.Where("uuid = ? AND item_key NOT LIKE ?", id, keyDeleted+"%").Take(&it).Error; err != nil {
		return nil, nil, translate(err, "Invoice item")
	}
	var inv Invoice
	if err := forUpdate(db).Where("id = ?", it.InvoiceID).Take(&inv).Error; err != nil {
		return nil, nil, translate(err, "Invoice")
	}
	if !inv.State.Mutable() {
		return nil, nil, models.Errorf(models.CodeConflict, "The invoice is %s: its items can no longer change.", inv.State)
	}
	return &it, &inv, nil
}

func itemEvent(it *InvoiceItem, inv *Invoice, typ, verb string) *models.Event {
	return &models.Event{EventType: typ, Message: "Invoice item " + it.Name + " has been " + verb + ".",
		Context: map[string]any{"invoice_item_uuid": it.UUID.String(), "invoice_uuid": inv.UUID.String(), "invoice_item_name": it.Name},
		Scopes:  []models.Scope{{Type: models.ScopeCustomer, ID: inv.CustomerID}}}
}

// PriceEstimate is the current month's bill of a project or customer
// (Waldur's NestedPriceEstimate): total is what the month's items cost,
// current what they cost up to now (hour and day items accrue), tax on each.
type PriceEstimate struct {
	Total, Current, Tax, TaxCurrent decimal.Decimal
}

// PriceEstimates computes the billing_price_estimate of the given
// projects (scope project) or customers (scope customer) for the month of
// now, from their items in that month's invoices; scopes without items get
// zeros. One query for all ids.
func (s *Store) PriceEstimates(ctx context.Context, scope models.ScopeType, ids []int64, now time.Time) (map[int64]PriceEstimate, error) {
	out := make(map[int64]PriceEstimate, len(ids))
	for _, id := range ids {
		out[id] = PriceEstimate{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	m := billing.MonthOf(now)
	col := "inv.customer_id"
	if scope == models.ScopeProject {
		col = "ii.project_id"
	}
	var rows []struct {
		ScopeID    int64
		Kind       billing.ItemKind
		Unit       models.PlanUnit
		Start      time.Time
		End        time.Time `gorm:"column:end"`
		UnitPrice  decimal.Decimal
		Quantity   decimal.Decimal
		Price      decimal.Decimal
		TaxPercent decimal.Decimal
	}
	err := s.DB.WithContext(ctx).Table("invoice_items ii").Select(col+` AS scope_id, ii.kind, ii.unit, ii.start, ii."end",
		ii.unit_price, ii.quantity, ii.price, inv.tax_percent`).Joins("JOIN invoices inv ON inv.id = ii.invoice_id").
		Where("inv.year = ? AND inv.month = ? AND "+col+" IN ?", m.Year, int(m.Month), ids).Find(&rows).Error // Find: Scan explains its SQL every time
	if err != nil {
		return nil, models.Internal(err)
	}
	type acc struct{ total, current, tax decimal.Decimal }
	sums := map[int64]*acc{}
	for _, r := range rows {
		a := sums[r.ScopeID]
		if a == nil {
			a = &acc{tax: r.TaxPercent}
			sums[r.ScopeID] = a
		}
		a.total = a.total.Add(r.Price)
		q := billing.CurrentQuantity(r.Kind, r.Unit, r.Start, r.End, now, r.Quantity)
		a.current = a.current.Add(billing.Price(r.UnitPrice, q))
	}
	for id, a := range sums {
		t, c := billing.TotalsOf(a.total, a.tax), billing.TotalsOf(a.current, a.tax)
		out[id] = PriceEstimate{Total: a.total, Current: a.current, Tax: t.Tax, TaxCurrent: c.Tax}
	}
	return out, nil
}
