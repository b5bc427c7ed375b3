package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// TestBillableResourceRanges: the monthly close's split of the billable
// resources into ranges by customer covers each of them exactly once, in
// (customer, id) order, a range's worth at a time, and a resource made
// after the split still falls in exactly one range.
func TestBillableResourceRanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedBilling(t, db) // R1…R6 of the consumer, billable in March 2024
		now := time.Now().UTC()
		ins := func(table string, v map[string]any) int64 {
			v["uuid"] = models.NewUUID()
			require.NoError(t, db.Table(table).Create(v).Error)
			var id int64
			require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", v["uuid"]).Scan(&id).Error)
			return id
		}
		resource := func(project int64, state models.ResourceState) int64 {
			return ins("resources", map[string]any{"name": "r", "project_id": project, "offering_id": w.offering, "plan_id": w.plans["B"],
				"state": state, "limits": "{}", "created": at("2024-01-01 00:00"), "modified": now})
		}
		// A later customer whose resource comes between two of the consumer's by id.
		other := ins("customers", map[string]any{"name": "other", "accounting_start_date": now, "created": now, "modified": now})
		q := ins("projects", map[string]any{"name": "Q", "customer_id": other, "created": now, "modified": now})
		x1 := resource(q, models.ResourceOK)
		r7 := resource(w.project, models.ResourceOK)
		resource(q, models.ResourceCreating) // not billable

		byID, err := w.st.BillableResourceIDs(ctx, march, 0, 100)
		require.NoError(t, err)
		require.Equal(t, append(w.ids(), x1, r7), byID)
		want := append(w.ids(), r7, x1) // by customer, then id

		walk := func(m billing.Month, ranges []store.ResourceRange) ([]int64, []int) {
			var ids []int64
			var sizes []int
			for _, r := range ranges {
				n := 0
				for after := r.After; ; {
					keys, err := w.st.BillableResourceKeys(ctx, m, r, after, 2)
					require.NoError(t, err)
					for _, k := range keys {
						ids = append(ids, k.ID)
					}
					n += len(keys)
					if len(keys) < 2 {
						break
					}
					after = keys[len(keys)-1]
				}
				sizes = append(sizes, n)
			}
			return ids, sizes
		}
		ranges, err := w.st.BillableResourceRanges(ctx, march, 3)
		require.NoError(t, err)
		require.Len(t, ranges, 3)
		require.Nil(t, ranges[2].To, "the last range is open-ended")
		ids, sizes := walk(march, ranges)
		require.Equal(t, want, ids)
		require.Equal(t, []int{3, 3, 2}, sizes)

		// Made after the split: in the last range, once.
		r8 := resource(w.project, models.ResourceOK)
		ids, sizes = walk(march, ranges)
		require.Equal(t, append(append(w.ids(), r7, r8), x1), ids)
		require.Equal(t, []int{3, 3, 3}, sizes)

		// Nothing billable: one open range, empty.
		early := billing.Month{Year: 2023, Month: time.January}
		none, err := w.st.BillableResourceRanges(ctx, early, 3)
		require.NoError(t, err)
		require.Equal(t, []store.ResourceRange{{}}, none)
		ids, _ = walk(early, none)
		require.Empty(t, ids)
	})
}
