package billing

import (
	"strings"

	"github.com/waldur-go/waldur/models"
)

// InvoiceState is Waldur's invoice state.
type InvoiceState string

// Invoice states. A pending invoice is the month's running bill (items
// change as resources do); created is final and due; paid and canceled end it.
const (
	InvoicePending  InvoiceState = "pending"
	InvoiceCreated  InvoiceState = "created"
	InvoicePaid     InvoiceState = "paid"
	InvoiceCanceled InvoiceState = "canceled"
	// InvoicePendingFinalization is Waldur's grace-period state; this
	// implementation never enters it but accepts it in filters.
	InvoicePendingFinalization InvoiceState = "pending_finalization"
)

// Valid reports whether s is a known state.
func (s InvoiceState) Valid() bool {
	switch s {
	case InvoicePending, InvoiceCreated, InvoicePaid, InvoiceCanceled, InvoicePendingFinalization:
		return true
	}
	return false
}

// Mutable reports whether items may still change.
func (s InvoiceState) Mutable() bool { return s == InvoicePending || s == InvoicePendingFinalization }

// invoiceMoves is the invoice state machine: finalize at the monthly close
// (to created, or paid for a fixed-price payment profile), paid by staff,
// cancel by staff.
var invoiceMoves = map[string]struct {
	from []InvoiceState
	to   InvoiceState
}{
	"finalize":       {[]InvoiceState{InvoicePending, InvoicePendingFinalization}, InvoiceCreated},
	"finalize_fixed": {[]InvoiceState{InvoicePending, InvoicePendingFinalization}, InvoicePaid},
	"paid":           {[]InvoiceState{InvoiceCreated}, InvoicePaid},
	"cancel":         {[]InvoiceState{InvoicePending, InvoiceCreated}, InvoiceCanceled},
}

// InvoiceTransition checks an invoice action in state from and returns the
// target; a wrong state is a conflict naming the valid ones.
func InvoiceTransition(action string, from InvoiceState) (InvoiceState, error) {
	m, ok := invoiceMoves[action]
	if !ok {
		return from, models.Errorf(models.CodeInvalid, "Unknown invoice action %q.", action)
	}
	for _, s := range m.from {
		if s == from {
			return m.to, nil
		}
	}
	names := make([]string, len(m.from))
	for i, s := range m.from {
		names[i] = string(s)
	}
	return from, models.Errorf(models.CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
}
