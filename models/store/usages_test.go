package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/models/store"
)

// TestSetUsage: set_usage upserts per resource, component and billing
// period (a second report replaces), keeps component quotas and
// current_usages in step, enforces limit_amount per limit period, and
// refuses closed or future billing periods and resources in other states.
func TestSetUsage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		now := time.Now().UTC()
		st := store.New(db)
		st.Now = func() time.Time { return now }
		for _, c := range []map[string]any{
			{"type": "cpu", "name": "CPU", "billing_type": "usage"},
			{"type": "gpu", "name": "GPU", "billing_type": "usage", "limit_period": "month", "limit_amount": 10},
			{"type": "storage", "name": "Storage", "billing_type": "usage", "limit_period": "total", "limit_amount": 100},
		} {
			c["uuid"], c["offering_id"] = models.NewUUID(), m.offering
			require.NoError(t, db.Table("offering_components").Create(c).Error)
		}
		o, err := m.create(ctx)
		require.NoError(t, err)
		var resHex string
		require.NoError(t, db.Table("resources").Select("uuid").Where("id = ?", o.ResourceID).Row().Scan(&resHex))
		resUUID := models.MustParseUUID(resHex)
		set := func(date time.Time, items ...store.UsageItem) error {
			return st.SetUsage(ctx, store.SetUsageInput{ResourceUUID: resUUID, Date: date, Items: items})
		}
		d := decimal.RequireFromString
		require.True(t, models.IsCode(set(now, store.UsageItem{Type: "cpu", Amount: d("1")}), models.CodeInvalid), "a Creating resource takes no usage")

		_, err = st.ApplyOrderEvent(ctx, store.OrderEvent{OrderUUID: o.UUID, Event: "approve_by_provider"}, nil)
		require.NoError(t, err)
		require.NoError(t, st.CompleteOrder(ctx, o.UUID, "b", nil, ""))
		require.NoError(t, set(now, store.UsageItem{Type: "cpu", Amount: d("3.25")}, store.UsageItem{Type: "gpu", Amount: d("4")}))
		require.NoError(t, set(now, store.UsageItem{Type: "cpu", Amount: d("5.5")}), "a second report for the period replaces")

		usage := func(typ string, period billing.Month) string {
			var v []string
			require.NoError(t, db.Table("component_usages cu").Joins("JOIN offering_components oc ON oc.id = cu.component_id").
				Where("oc.type = ? AND cu.billing_period = ?", typ, period.Start().Format("2006-01-02")).Pluck("cu.usage", &v).Error)
			require.LessOrEqual(t, len(v), 1, "one row per resource, component and period")
			if len(v) == 0 {
				return ""
			}
			return d(v[0]).String()
		}
		this := billing.MonthOf(now)
		require.Equal(t, "5.5", usage("cpu", this))
		require.Equal(t, "4", usage("gpu", this))
		var raw []byte
		require.NoError(t, db.Table("resources").Select("current_usages").Where("id = ?", o.ResourceID).Row().Scan(&raw))
		cur := map[string]float64{}
		require.NoError(t, json.Unmarshal(raw, &cur))
		require.Equal(t, map[string]float64{"cpu": 5.5, "gpu": 4}, cur)
		var quota []struct {
			Usage string
			Limit int64
		}
		require.NoError(t, db.Table("component_quotas q").Joins("JOIN offering_components oc ON oc.id = q.component_id").
			Where("oc.type = 'cpu'").Select(`q.usage, q."limit" AS "limit"`).Scan(&quota).Error)
		require.Len(t, quota, 1)
		require.Equal(t, "5.5", d(quota[0].Usage).String())
		require.EqualValues(t, -1, quota[0].Limit, "no cpu limit on the resource")

		// Limits: gpu 10 per month (replacing 4 by 10 is fine, 11 is not);
		// storage 100 in total across months.
		require.NoError(t, set(now, store.UsageItem{Type: "gpu", Amount: d("10")}))
		require.True(t, models.IsCode(set(now, store.UsageItem{Type: "gpu", Amount: d("11")}), models.CodeInvalid))
		prev := this.Prev()
		require.NoError(t, set(prev.Start().Add(time.Hour), store.UsageItem{Type: "storage", Amount: d("60")}))
		require.NoError(t, set(now, store.UsageItem{Type: "storage", Amount: d("40")}))
		err = set(now, store.UsageItem{Type: "storage", Amount: d("41")})
		require.True(t, models.IsCode(err, models.CodeInvalid), "60 + 41 > 100 in total: %v", err)
		require.Equal(t, "40", usage("storage", this), "a refused report changes nothing")

		// Unknown component, future period, negative amount.
		require.True(t, models.IsCode(set(now, store.UsageItem{Type: "nope", Amount: d("1")}), models.CodeInvalid))
		require.True(t, models.IsCode(set(this.Next().Start(), store.UsageItem{Type: "cpu", Amount: d("1")}), models.CodeInvalid))
		require.True(t, models.IsCode(set(now, store.UsageItem{Type: "cpu", Amount: d("-1")}), models.CodeInvalid))

		// A closed billing period takes no more usage.
		require.NoError(t, st.MarkMonthClosed(ctx, this))
		err = set(prev.Start().Add(time.Hour), store.UsageItem{Type: "cpu", Amount: d("1")})
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
		require.Equal(t, "", usage("cpu", prev))

		// Per-user usages: upsert by username.
		var cuHex string
		require.NoError(t, db.Table("component_usages cu").Joins("JOIN offering_components oc ON oc.id = cu.component_id").
			Where("oc.type = 'cpu'").Select("cu.uuid").Row().Scan(&cuHex))
		cuUUID := models.MustParseUUID(cuHex)
		require.NoError(t, st.SetUserUsages(ctx, cuUUID, []store.UserUsageInput{{Username: "alice", Usage: d("2")}, {Username: "bob", Usage: d("1")}}))
		require.NoError(t, st.SetUserUsages(ctx, cuUUID, []store.UserUsageInput{{Username: "alice", Usage: d("3")}}))
		var views []store.ComponentUserUsageView
		require.NoError(t, st.ComponentUserUsageViews(ctx).Order("uu.username").Find(&views).Error)
		require.Len(t, views, 2)
		require.Equal(t, "alice", views[0].Username)
		require.Equal(t, "3", views[0].Usage.String())
		require.Equal(t, "cpu", views[0].ComponentType)
		require.Equal(t, this.Start(), views[0].BillingPeriod.UTC())
	})
}
