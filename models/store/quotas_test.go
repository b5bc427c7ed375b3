package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestQuotaNoOverrunUnderConcurrency: 200 concurrent increments against a
// limit of 20 succeed exactly 20 times, and the usage ends at 20.
func TestQuotaNoOverrunUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		scope := models.Scope{Type: models.ScopeCustomer, ID: 1}
		require.NoError(t, st.InitQuotas(ctx, scope))
		require.NoError(t, st.SetQuotaLimit(ctx, scope, models.QuotaProjectCount, 20))

		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: scope, Name: models.QuotaProjectCount, Delta: 1}})
				switch {
				case err == nil:
					ok.Add(1)
				case models.IsCode(err, models.CodeQuotaExceeded):
					refused.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 20, ok.Load())
		require.EqualValues(t, 180, refused.Load())
		qs, err := st.Quotas(ctx, scope)
		require.NoError(t, err)
		require.Contains(t, qs, models.Quota{Name: models.QuotaProjectCount, Usage: 20, Limit: 20})
	})
}

func TestQuotaChangesAreAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		c := models.Scope{Type: models.ScopeCustomer, ID: 7}
		p := models.Scope{Type: models.ScopeProject, ID: 9}
		require.NoError(t, st.SetQuotaLimit(ctx, p, models.QuotaResourceCount, 1))
		both := []models.QuotaDelta{{Scope: c, Name: models.QuotaResourceCount, Delta: 1}, {Scope: p, Name: models.QuotaResourceCount, Delta: 1}}
		require.NoError(t, st.AddQuotaUsage(ctx, both))
		err := st.AddQuotaUsage(ctx, both)
		require.True(t, models.IsCode(err, models.CodeQuotaExceeded), "%v", err)
		require.Contains(t, err.Error(), "One or more quotas were exceeded")
		qs, err := st.Quotas(ctx, c)
		require.NoError(t, err)
		require.Equal(t, []models.Quota{{Name: models.QuotaResourceCount, Usage: 1, Limit: -1}}, qs, "the customer's increment rolled back with the project's refusal")
		// Decreases always pass and never go below zero.
		require.NoError(t, st.AddQuotaUsage(ctx, []models.QuotaDelta{{Scope: p, Name: models.QuotaResourceCount, Delta: -5}}))
		qs, err = st.Quotas(ctx, p)
		require.NoError(t, err)
		require.Equal(t, []models.Quota{{Name: models.QuotaResourceCount, Usage: 0, Limit: 1}}, qs)
		require.Error(t, st.SetQuotaLimit(ctx, p, models.QuotaResourceCount, -2))
	})
}
