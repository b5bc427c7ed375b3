package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// PaymentFixedPrice is the payment profile type whose invoices are paid
// in advance: finalized straight to paid.
const PaymentFixedPrice = "fixed_price"

// CopyFuturePrices makes every plan component's future price its price, once
// per month m (recorded in billing_months), and returns how many it changed
// and whether month m had done it before. Waldur's
// copy_future_price_to_current_price, run first by the monthly close.
func (s *Store) CopyFuturePrices(ctx context.Context, m billing.Month) (int64, bool, error) {
	var n int64
	already := false
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		period := dateString(m.Start())
		res := db.Table("billing_months").Clauses(clause.OnConflict{DoNothing: true}).
			Create(map[string]any{"period": period})
		if res.Error != nil {
			return models.Internal(res.Error)
		}
		var row struct{ PricesCopiedAt *time.Time }
		if err := forUpdate(db.Table("billing_months").Select("prices_copied_at").Where("period = ?", period)).
			Take(&row).Error; err != nil {
			return models.Internal(err)
		}
		if row.PricesCopiedAt != nil {
			already = true
			return nil
		}
		up := db.Exec(`UPDATE plan_components SET price = future_price, future_price = NULL WHERE future_price IS NOT NULL`)
		if up.Error != nil {
			return models.Internal(up.Error)
		}
		n = up.RowsAffected
		return translate(db.Table("billing_months").Where("period = ?", period).
			Update("prices_copied_at", tx.Now()).Error, "Billing month")
	})
	return n, already, err
}

// MonthClosed reports whether the close of month m (the month that begins)
// has finished.
func (s *Store) MonthClosed(ctx context.Context, m billing.Month) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Table("billing_months").Where("period = ? AND closed_at IS NOT NULL", dateString(m.Start())).Count(&n).Error
	return n > 0, translate(err, "Billing month")
}

// MarkMonthClosed records that the close of month m finished.
func (s *Store) MarkMonthClosed(ctx context.Context, m billing.Month) error {
	db := s.DB.WithContext(ctx)
	period := dateString(m.Start())
	if err := db.Table("billing_months").Clauses(clause.OnConflict{DoNothing: true}).Create(map[string]any{"period": period}).Error; err != nil {
		return models.Internal(err)
	}
	return translate(db.Table("billing_months").Where("period = ? AND closed_at IS NULL", period).
		Update("closed_at", s.Now()).Error, "Billing month")
}

// PendingInvoiceIDs lists the invoices still pending of months before m,
// oldest first: those the close of m finalizes.
func (s *Store) PendingInvoiceIDs(ctx context.Context, m billing.Month) ([]int64, error) {
	var ids []int64
	err := s.DB.WithContext(ctx).Model(&Invoice{}).
		Where("state IN ? AND (year < ? OR (year = ? AND month < ?))",
			[]billing.InvoiceState{billing.InvoicePending, billing.InvoicePendingFinalization}, m.Year, m.Year, int(m.Month)).
		Order("year, month, id").Pluck("id", &ids).Error
	return ids, translate(err, "Invoice")
}

// PendingInvoiceMonths lists the months before m that still have pending invoices.
func (s *Store) PendingInvoiceMonths(ctx context.Context, m billing.Month) ([]billing.Month, error) {
	var rows []struct{ Year, Month int }
	err := s.DB.WithContext(ctx).Model(&Invoice{}).Distinct("year", "month").
		Where("state IN ? AND (year < ? OR (year = ? AND month < ?))",
			[]billing.InvoiceState{billing.InvoicePending, billing.InvoicePendingFinalization}, m.Year, m.Year, int(m.Month)).
		Order("year, month").Scan(&rows).Error
	out := make([]billing.Month, len(rows))
	for i, r := range rows {
		out[i] = billing.Month{Year: r.Year, Month: time.Month(r.Month)}
	}
	return out, translate(err, "Invoice")
}

// creditRow is a customer's credit.
type creditRow struct {
	ID                        int64
	UUID                      models.UUID
	CustomerID                int64
	Value                     decimal.Decimal
	EndDate                   *time.Time
	ExpectedConsumption       decimal.Decimal
	MinimalConsumptionLogic   string
	GraceCoefficient          decimal.Decimal
	ApplyAsMinimalConsumption bool
}

func (c *creditRow) domain(offerings []int64) billing.Credit {
	return billing.Credit{Value: c.Value, Offerings: offerings, EndDate: c.EndDate, ExpectedConsumption: c.ExpectedConsumption,
		Logic: billing.MinimalConsumptionLogic(c.MinimalConsumptionLogic), GraceCoefficient: c.GraceCoefficient,
		ApplyAsMinimal: c.ApplyAsMinimalConsumption}
}

// FinalizeInvoice closes a pending invoice of a past month (the monthly
// close, Waldur's set_created): the customer's credits compensate its
// items (compensation items, credits reduced, reduction_of_* events, the
// minimal consumption), a linear credit's expected consumption is
// recomputed, credits past their end date are set to zero; then the
// invoice becomes paid when the customer has an active fixed-price payment
// profile, else created, with invoice_date = today (invoice_created or
// invoice_paid). One transaction; finalizing a finalized invoice changes
// nothing and reports false.
func (s *Store) FinalizeInvoice(ctx context.Context, invoiceID int64, today time.Time) (bool, error) {
	done := false
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var inv Invoice
		if err := forUpdate(db).Where("id = ?", invoiceID).Take(&inv).Error; err != nil {
			return translate(err, "Invoice")
		}
		if !inv.State.Mutable() {
			return nil
		}
		if err := tx.compensate(ctx, &inv, today); err != nil {
			return err
		}
		var fixed int64
		if err := db.Table("payment_profiles").Where("customer_id = ? AND is_active = ? AND payment_type = ?",
			inv.CustomerID, true, PaymentFixedPrice).Count(&fixed).Error; err != nil {
			return models.Internal(err)
		}
		action, evType := "finalize", "invoice_created"
		if fixed > 0 {
			action, evType = "finalize_fixed", "invoice_paid"
		}
		to, err := billing.InvoiceTransition(action, inv.State)
		if err != nil {
			return err
		}
		if err := db.Model(&Invoice{}).Where("id = ?", inv.ID).Updates(map[string]any{
			"state": to, "invoice_date": dateString(today), "modified": tx.Now(),
			"total_price": gorm.Expr("COALESCE((SELECT SUM(ii.price) FROM invoice_items ii WHERE ii.invoice_id = ?), 0)", inv.ID),
		}).Error; err != nil {
			return models.Internal(err)
		}
		inv.State = to
		done = true
		return tx.EmitEvent(ctx, invoiceEvent(&inv, evType, fmt.Sprintf("Invoice %d for %s has been %s.", inv.Number(), inv.Period(), to)))
	})
	return done, err
}

// FinalizeInvoices finalizes the given invoices as FinalizeInvoice does;
// those of customers without a credit (nothing to compensate) are done 500
// per transaction, the others one by one. It returns how many it finalized.
func (s *Store) FinalizeInvoices(ctx context.Context, ids []int64, today time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var withCredit []int64
	for _, chunk := range chunks(ids, 1000) {
		var part []int64
		if err := s.DB.WithContext(ctx).Table("invoices i").Joins("JOIN customer_credits cc ON cc.customer_id = i.customer_id").
			Where("i.id IN ?", chunk).Pluck("i.id", &part).Error; err != nil {
			return 0, models.Internal(err)
		}
		withCredit = append(withCredit, part...)
	}
	credit := map[int64]bool{}
	for _, id := range withCredit {
		credit[id] = true
	}
	n := 0
	var plain []int64
	for _, id := range ids {
		if !credit[id] {
			plain = append(plain, id)
			continue
		}
		done, err := s.FinalizeInvoice(ctx, id, today)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	for _, chunk := range chunks(plain, 500) {
		err := s.Tx(ctx, func(tx *Store) error {
			db := tx.DB.WithContext(ctx)
			var invs []Invoice
			if err := forUpdate(db.Where("id IN ? AND state IN ?", chunk,
				[]billing.InvoiceState{billing.InvoicePending, billing.InvoicePendingFinalization})).Order("id").Find(&invs).Error; err != nil {
				return models.Internal(err)
			}
			if len(invs) == 0 {
				return nil
			}
			var fixed []int64
			if err := db.Table("payment_profiles").Where("is_active = ? AND payment_type = ?", true, PaymentFixedPrice).
				Distinct().Pluck("customer_id", &fixed).Error; err != nil {
				return models.Internal(err)
			}
			paid := map[int64]bool{}
			for _, c := range fixed {
				paid[c] = true
			}
			byState := map[billing.InvoiceState][]int64{}
			for i := range invs {
				to := billing.InvoiceCreated
				if paid[invs[i].CustomerID] {
					to = billing.InvoicePaid
				}
				invs[i].State = to
				byState[to] = append(byState[to], invs[i].ID)
			}
			for to, ids := range byState {
				if err := db.Model(&Invoice{}).Where("id IN ?", ids).Updates(map[string]any{"state": to, "invoice_date": dateString(today),
					"modified": tx.Now(), "total_price": gorm.Expr("COALESCE((SELECT SUM(ii.price) FROM invoice_items ii WHERE ii.invoice_id = invoices.id), 0)"),
				}).Error; err != nil {
					return models.Internal(err)
				}
			}
			for i := range invs {
				inv := &invs[i]
				evType := "invoice_created"
				if inv.State == billing.InvoicePaid {
					evType = "invoice_paid"
				}
				if err := tx.EmitEvent(ctx, invoiceEvent(inv, evType, fmt.Sprintf("Invoice %d for %s has been %s.", inv.Number(), inv.Period(), inv.State))); err != nil {
					return err
				}
			}
			n += len(invs)
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// compensate applies the customer's credit to the invoice's items.
func (s *Store) compensate(ctx context.Context, inv *Invoice, today time.Time) error {
	db := s.DB.WithContext(ctx)
	var credit creditRow
	err := forUpdate(db.Table("customer_credits")).Where("customer_id = ?", inv.CustomerID).Take(&credit).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return models.Internal(err)
	}
	var offerings []int64
	if err := db.Table("customer_credit_offerings").Where("credit_id = ?", credit.ID).Pluck("offering_id", &offerings).Error; err != nil {
		return models.Internal(err)
	}
	var items []InvoiceItem
	if err := db.Where("invoice_id = ? AND kind <> ? AND resource_id IS NOT NULL AND item_key NOT LIKE ?", inv.ID,
		billing.KindCompensation, keyDeleted+"%").Order("id").Find(&items).Error; err != nil {
		return models.Internal(err)
	}
	var pcs []struct {
		ID                        int64
		ProjectID                 int64
		Value                     decimal.Decimal
		EndDate                   *time.Time
		ExpectedConsumption       decimal.Decimal
		GraceCoefficient          decimal.Decimal
		ApplyAsMinimalConsumption bool
	}
	if err := forUpdate(db.Table("project_credits pc").Select(`pc.id, pc.project_id, pc.value, pc.end_date,
		pc.expected_consumption, pc.grace_coefficient, pc.apply_as_minimal_consumption`).
		Joins("JOIN projects p ON p.id = pc.project_id").Where("p.customer_id = ?", inv.CustomerID)).
		Scan(&pcs).Error; err != nil {
		return models.Internal(err)
	}
	projects := map[int64]billing.Credit{}
	for _, pc := range pcs {
		projects[pc.ProjectID] = billing.Credit{Value: pc.Value, EndDate: pc.EndDate, ExpectedConsumption: pc.ExpectedConsumption,
			GraceCoefficient: pc.GraceCoefficient, ApplyAsMinimal: pc.ApplyAsMinimalConsumption}
	}
	billed := make([]billing.Billed, 0, len(items))
	byID := map[int64]*InvoiceItem{}
	for i := range items {
		it := &items[i]
		b := billing.Billed{Ref: it.ID, Price: it.Price}
		if it.ProjectID != nil {
			b.ProjectID = *it.ProjectID
		}
		if it.OfferingID != nil {
			b.OfferingID = *it.OfferingID
		}
		billed = append(billed, b)
		byID[it.ID] = it
	}
	dc := credit.domain(offerings)
	res := billing.Compensate(billed, dc, projects, inv.TaxPercent, today)
	now := s.Now()
	var rows []InvoiceItem
	for _, c := range res.Compensations {
		it := byID[c.Ref]
		ref := it.ID
		cid := credit.ID
		rows = append(rows, InvoiceItem{UUID: models.NewUUID(), InvoiceID: inv.ID, ResourceID: it.ResourceID, OfferingID: it.OfferingID,
			ProjectID: it.ProjectID, ProjectName: it.ProjectName, ProjectUUID: it.ProjectUUID, Kind: billing.KindCompensation,
			Name: "Credit compensation. " + it.Name, Details: it.Details, Start: it.Start, End: it.End, Unit: models.UnitQuantity,
			UnitPrice: c.Amount.Neg(), Quantity: decimal.NewFromInt(1), Price: billing.RoundPrice(c.Amount.Neg()), MeasuredUnit: it.MeasuredUnit,
			ArticleCode: it.ArticleCode, CreditID: &cid, CompensatedItemID: &ref, Created: now, Modified: now})
	}
	if len(rows) > 0 {
		if err := db.CreateInBatches(&rows, 400).Error; err != nil {
			return models.Internal(err)
		}
	}
	scopes := []models.Scope{{Type: models.ScopeCustomer, ID: inv.CustomerID}}
	consumed := res.Consumed()
	updates := map[string]any{"value": res.CustomerValue, "modified": now}
	if dc.Logic == billing.LogicLinear && dc.EndDate != nil {
		after := dc
		after.Value = res.CustomerValue
		updates["expected_consumption"] = after.LinearExpected(consumed, today)
	}
	if credit.EndDate != nil && !dayStartUTC(*credit.EndDate).After(today) {
		updates["value"] = decimal.Zero
	}
	if err := db.Table("customer_credits").Where("id = ?", credit.ID).Updates(updates).Error; err != nil {
		return models.Internal(err)
	}
	ctxFields := func(extra map[string]any) map[string]any {
		m := map[string]any{"customer_credit_uuid": credit.UUID.String(), "invoice_uuid": inv.UUID.String()}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	if res.Total.IsPositive() {
		if err := s.EmitEvent(ctx, &models.Event{EventType: "reduction_of_customer_credit",
			Message: fmt.Sprintf("Customer credit has been reduced by %s for invoice %d.", res.Total.StringFixed(2), inv.Number()),
			Context: ctxFields(map[string]any{"amount": res.Total.StringFixed(2)}), Scopes: scopes}); err != nil {
			return err
		}
	}
	if res.Tail.IsPositive() {
		if err := s.EmitEvent(ctx, &models.Event{EventType: "reduction_of_customer_credit_due_to_minimal_consumption",
			Message: fmt.Sprintf("Customer credit has been reduced by %s due to minimal consumption.", res.Tail.StringFixed(2)),
			Context: ctxFields(map[string]any{"amount": res.Tail.StringFixed(2)}), Scopes: scopes}); err != nil {
			return err
		}
	}
	if v, ok := updates["value"].(decimal.Decimal); ok && v.IsZero() && res.CustomerValue.IsPositive() {
		if err := s.EmitEvent(ctx, &models.Event{EventType: "set_to_zero_overdue_credit",
			Message: "Customer credit has been set to zero: its end date has passed.",
			Context: ctxFields(nil), Scopes: scopes}); err != nil {
			return err
		}
	}
	for _, pc := range pcs {
		v := res.ProjectValues[pc.ProjectID]
		pu := map[string]any{"value": v, "modified": now}
		used := pc.Value.Sub(v)
		overdue := pc.EndDate != nil && !dayStartUTC(*pc.EndDate).After(today)
		if overdue {
			pu["value"] = decimal.Zero
		}
		if used.IsZero() && !overdue {
			continue
		}
		if err := db.Table("project_credits").Where("id = ?", pc.ID).Updates(pu).Error; err != nil {
			return models.Internal(err)
		}
		tail := res.ProjectTails[pc.ProjectID]
		if used = used.Sub(tail); used.IsPositive() {
			if err := s.EmitEvent(ctx, &models.Event{EventType: "reduction_of_project_credit",
				Message: fmt.Sprintf("Project credit has been reduced by %s for invoice %d.", used.StringFixed(2), inv.Number()),
				Context: ctxFields(map[string]any{"amount": used.StringFixed(2), "project_id": pc.ProjectID}),
				Scopes:  []models.Scope{{Type: models.ScopeProject, ID: pc.ProjectID}, scopes[0]}}); err != nil {
				return err
			}
		}
		if tail.IsPositive() {
			if err := s.EmitEvent(ctx, &models.Event{EventType: "reduction_of_project_credit_due_to_minimal_consumption",
				Message: fmt.Sprintf("Project credit has been reduced by %s due to minimal consumption.", tail.StringFixed(2)),
				Context: ctxFields(map[string]any{"amount": tail.StringFixed(2), "project_id": pc.ProjectID}),
				Scopes:  []models.Scope{{Type: models.ScopeProject, ID: pc.ProjectID}, scopes[0]}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func dayStartUTC(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
