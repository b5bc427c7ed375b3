package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// fastPolicies are the order policies of the tests: quick retries.
func fastPolicies() workflows.OrderPolicies {
	p := workflows.DefaultOrderPolicies()
	p.DB = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond}
	p.Provider = &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumInterval: 100 * time.Millisecond, MaximumAttempts: 3}
	p.HeartbeatTimeout = 2 * time.Second
	p.ProviderTimeout = 30 * time.Second
	return p
}

// market is a consumer's project and a provider's offering with a plan.
type market struct {
	st                              *store.Store
	customer, project, offering, pl int64
}

func seedMarket(t *testing.T, db *gorm.DB, offeringState models.OfferingState) *market {
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	m := &market{st: store.New(db)}
	m.customer = ins("customers", map[string]any{"name": "consumer", "accounting_start_date": now, "created": now, "modified": now})
	m.project = ins("projects", map[string]any{"name": "p", "customer_id": m.customer, "created": now, "modified": now})
	provider := ins("customers", map[string]any{"name": "provider", "accounting_start_date": now, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "HPC", "created": now, "modified": now})
	m.offering = ins("offerings", map[string]any{"name": "Compute", "customer_id": provider, "category_id": cat, "type": models.OfferingBasic,
		"state": offeringState, "created": now, "modified": now})
	m.pl = ins("plans", map[string]any{"name": "Small", "offering_id": m.offering, "created": now, "modified": now})
	ctx := context.Background()
	require.NoError(t, m.st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: m.customer}))
	require.NoError(t, m.st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: m.project}))
	return m
}

func (m *market) create(ctx context.Context) (*models.Order, error) {
	return m.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: m.project, OfferingID: m.offering, PlanID: &m.pl,
		Attributes: map[string]any{"name": "vm"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: models.OfferingBasic, ProviderCompletes: true, CreatorHasApprove: true}})
}
