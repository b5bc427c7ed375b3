package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// Invoice is a customer's bill for one month.
type Invoice struct {
	ID              int64 `gorm:"primaryKey"`
	UUID            models.UUID
	CustomerID      int64
	Year            int
	Month           int
	State           billing.InvoiceState
	TaxPercent      decimal.Decimal
	TotalPrice      decimal.Decimal // Σ item price, kept current by every change of the items
	InvoiceDate     *time.Time
	BackendID       string
	PaymentURL      string
	ReferenceNumber string
	Created         time.Time
	Modified        time.Time
}

// TableName is the GORM table.
func (Invoice) TableName() string { return "invoices" }

// Period is the invoice's month.
func (i *Invoice) Period() billing.Month {
	return billing.Month{Year: i.Year, Month: time.Month(i.Month)}
}

// Number is Waldur's invoice number, 100000 + id.
func (i *Invoice) Number() int64 { return 100000 + i.ID }

// Totals are the invoice's price, tax and total.
func (i *Invoice) Totals() billing.Totals { return billing.TotalsOf(i.TotalPrice, i.TaxPercent) }

// InvoiceItem is one line of an invoice.
type InvoiceItem struct {
	ID                int64 `gorm:"primaryKey"`
	UUID              models.UUID
	InvoiceID         int64
	ResourceID        *int64
	OfferingID        *int64
	ProjectID         *int64
	ProjectName       string
	ProjectUUID       string
	ItemKey           string
	Fingerprint       string
	Kind              billing.ItemKind
	Name              string
	Details           RawJSON
	Start             time.Time
	End               time.Time `gorm:"column:end"`
	Unit              models.PlanUnit
	UnitPrice         decimal.Decimal
	Quantity          decimal.Decimal
	Price             decimal.Decimal
	MeasuredUnit      string
	ArticleCode       string
	BackendUUID       *string
	CreditID          *int64
	CompensatedItemID *int64
	Created           time.Time
	Modified          time.Time
}

// TableName is the GORM table.
func (InvoiceItem) TableName() string { return "invoice_items" }

// RawJSON is a JSON column kept as its text (items write their details
// once, already encoded, and read them only to show them).
type RawJSON []byte

// Value implements driver.Valuer.
func (j RawJSON) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *RawJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(RawJSON(nil), v...)
	case string:
		*j = RawJSON(v)
	default:
		return fmt.Errorf("RawJSON: cannot scan %T", src)
	}
	return nil
}

// Map decodes the JSON object (an empty map when there is none).
func (j RawJSON) Map() map[string]any {
	out := map[string]any{}
	if len(j) > 0 {
		_ = json.Unmarshal(j, &out)
		if out == nil {
			out = map[string]any{}
		}
	}
	return out
}

// Item keys of registrator items that staff changed or removed: the
// registrator leaves them as they are instead of recomputing them.
const (
	keyManual  = "manual:"
	keyDeleted = "deleted:"
)

// dateString renders a DATE value; DATE columns are written and compared
// as "YYYY-MM-DD" text on both dialects (no time zone conversion).
func dateString(t time.Time) string { return t.UTC().Format("2006-01-02") }

// ensureInvoices makes sure each customer has an invoice for month m
// (pending, with the customer's default tax percent) and returns them by
// customer id. Creating one that exists changes nothing.
func (s *Store) ensureInvoices(ctx context.Context, customerIDs []int64, m billing.Month) (map[int64]*Invoice, error) {
	out := map[int64]*Invoice{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	db := s.DB.WithContext(ctx)
	var existing []Invoice
	for _, chunk := range chunks(customerIDs, 1000) {
		var part []Invoice
		if err := db.Where("year = ? AND month = ? AND customer_id IN ?", m.Year, int(m.Month), chunk).Find(&part).Error; err != nil {
			return nil, models.Internal(err)
		}
		existing = append(existing, part...)
	}
	for i := range existing {
		out[existing[i].CustomerID] = &existing[i]
	}
	var missing []int64
	for _, id := range customerIDs {
		if out[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	var taxes []struct {
		ID                int64
		DefaultTaxPercent decimal.Decimal
	}
	for _, chunk := range chunks(missing, 1000) {
		var part []struct {
			ID                int64
			DefaultTaxPercent decimal.Decimal
		}
		if err := db.Table("customers").Select("id, default_tax_percent").Where("id IN ?", chunk).Order("id").Scan(&part).Error; err != nil {
			return nil, models.Internal(err)
		}
		taxes = append(taxes, part...)
	}
	now := s.Now()
	rows := make([]Invoice, 0, len(taxes))
	for _, t := range taxes {
		rows = append(rows, Invoice{UUID: models.NewUUID(), CustomerID: t.ID, Year: m.Year, Month: int(m.Month),
			State: billing.InvoicePending, TaxPercent: t.DefaultTaxPercent, Created: now, Modified: now})
	}
	if len(rows) > 0 {
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
			return nil, models.Internal(err)
		}
	}
	// Read back: a concurrent close may have created some of them first.
	for _, chunk := range chunks(missing, 1000) {
		var part []Invoice
		if err := db.Where("year = ? AND month = ? AND customer_id IN ?", m.Year, int(m.Month), chunk).Find(&part).Error; err != nil {
			return nil, models.Internal(err)
		}
		for i := range part {
			out[part[i].CustomerID] = &part[i]
		}
	}
	return out, nil
}

// EnsureMonthInvoices gives every customer that is not archived an invoice
// for month m (Waldur creates one per customer on the 1st, empty or not)
// and returns how many it created. Idempotent.
func (s *Store) EnsureMonthInvoices(ctx context.Context, m billing.Month) (int, error) {
	var ids []int64
	err := s.DB.WithContext(ctx).Table("customers").
		Where("archived = ? AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = customers.id AND i.year = ? AND i.month = ?)",
			false, m.Year, int(m.Month)).Order("id").Pluck("id", &ids).Error
	if err != nil {
		return 0, models.Internal(err)
	}
	if _, err := s.ensureInvoices(ctx, ids, m); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// RefreshInvoiceTotals recomputes the cached total_price of the given
// invoices (all of month m when ids is nil) from their items.
func (s *Store) RefreshInvoiceTotals(ctx context.Context, m billing.Month, ids []int64) error {
	q := s.DB.WithContext(ctx).Model(&Invoice{})
	if ids != nil {
		if len(ids) == 0 {
			return nil
		}
		q = q.Where("id IN ?", ids)
	} else {
		q = q.Where("year = ? AND month = ?", m.Year, int(m.Month))
	}
	err := q.Updates(map[string]any{
		"total_price": gorm.Expr("COALESCE((SELECT SUM(ii.price) FROM invoice_items ii WHERE ii.invoice_id = invoices.id), 0)"),
		"modified":    s.Now(),
	}).Error
	return translate(err, "Invoice")
}

// InvoiceByUUID loads an invoice. Codes: not_found.
func (s *Store) InvoiceByUUID(ctx context.Context, id models.UUID) (*Invoice, error) {
	var inv Invoice
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&inv).Error; err != nil {
		return nil, translate(err, "Invoice")
	}
	return &inv, nil
}

// InvoiceFor loads the invoice of a customer for a month. Codes: not_found.
func (s *Store) InvoiceFor(ctx context.Context, customerID int64, m billing.Month) (*Invoice, error) {
	var inv Invoice
	err := s.DB.WithContext(ctx).Where("customer_id = ? AND year = ? AND month = ?", customerID, m.Year, int(m.Month)).Take(&inv).Error
	if err != nil {
		return nil, translate(err, "Invoice")
	}
	return &inv, nil
}

// InvoiceItems lists the items of an invoice in id order (staff-removed
// registrator items are not shown).
func (s *Store) InvoiceItems(ctx context.Context, invoiceID int64) ([]InvoiceItem, error) {
	var items []InvoiceItem
	err := s.DB.WithContext(ctx).Where("invoice_id = ? AND item_key NOT LIKE ?", invoiceID, keyDeleted+"%").Order("id").Find(&items).Error
	return items, translate(err, "Invoice item")
}

// SetInvoiceField sets backend_id, payment_url or reference_number of an
// invoice (staff actions). Codes: not_found, invalid.
func (s *Store) SetInvoiceField(ctx context.Context, id models.UUID, field, value string) error {
	switch field {
	case "backend_id", "payment_url", "reference_number":
	default:
		return models.Errorf(models.CodeInvalid, "Unknown invoice field %q.", field)
	}
	res := s.DB.WithContext(ctx).Model(&Invoice{}).Where("uuid = ?", id).Updates(map[string]any{field: value, "modified": s.Now()})
	if res.Error != nil {
		return translate(res.Error, "Invoice")
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Invoice not found.")
	}
	return nil
}

// MarkInvoicePaid moves a created invoice to paid (staff) and emits
// invoice_paid. Codes: not_found, conflict.
func (s *Store) MarkInvoicePaid(ctx context.Context, id models.UUID, paidOn time.Time) (*Invoice, error) {
	var out *Invoice
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var inv Invoice
		if err := forUpdate(db).Where("uuid = ?", id).Take(&inv).Error; err != nil {
			return translate(err, "Invoice")
		}
		to, err := billing.InvoiceTransition("paid", inv.State)
		if err != nil {
			return err
		}
		if err := db.Model(&Invoice{}).Where("id = ?", inv.ID).Updates(map[string]any{"state": to, "modified": tx.Now()}).Error; err != nil {
			return translate(err, "Invoice")
		}
		inv.State = to
		out = &inv
		return tx.EmitEvent(ctx, invoiceEvent(&inv, "invoice_paid", fmt.Sprintf("Invoice %d for %s has been paid on %s.",
			inv.Number(), inv.Period(), dateString(paidOn))))
	})
	return out, err
}

func invoiceEvent(inv *Invoice, typ, msg string) *models.Event {
	return &models.Event{EventType: typ, Message: msg,
		Context: map[string]any{"invoice_uuid": inv.UUID.String(), "invoice_year": inv.Year, "invoice_month": inv.Month,
			"invoice_state": string(inv.State)},
		Scopes: []models.Scope{{Type: models.ScopeCustomer, ID: inv.CustomerID}}}
}

func chunks(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
