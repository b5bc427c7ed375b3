package store

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// OrderCost is the estimated cost of an order on a plan with these limits
// (billing.OrderCost over the plan's current prices); zero without a plan.
// Codes: internal.
func (s *Store) OrderCost(ctx context.Context, t models.OrderType, planID *int64, limits map[string]int64) (decimal.Decimal, error) {
	if planID == nil {
		return decimal.Zero, nil
	}
	plans, err := s.loadPlans(ctx, []int64{*planID})
	if err != nil {
		return decimal.Zero, err
	}
	return billing.OrderCost(t, plans[*planID], limits), nil
}
