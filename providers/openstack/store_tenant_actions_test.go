package openstack_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/openstack"
)

// TestTenantActionsStore: on both databases, set_quotas resolves its
// quotas for the cloud side and, done, records the quotas read back (and
// those the cloud does not read as asked), the new limits of the
// offering's limit components on the marketplace resource (others left
// alone) and a done limits-only Update order for billing, with the
// resource in the billing outbox; a finish repeated changes nothing.
// change_password hands the cloud side the tenant user and the new
// password recorded at once.
func TestTenantActionsStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		for _, c := range []string{"cores", "ram", "storage"} {
			require.NoError(t, db.Table("offering_components").Create(map[string]any{"uuid": models.NewUUID(), "offering_id": w.tenantOffering,
				"type": c, "name": c, "billing_type": "limit"}).Error)
		}
		require.NoError(t, db.Table("resources").Where("id = ?", w.tenantRes.ResourceID).
			Updates(map[string]any{"state": models.ResourceOK, "limits": []byte(`{"cores":20,"ram":2048,"storage":10240}`)}).Error)
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(now)))

		_, err := w.st.ScheduleAction(ctx, openstack.KindTenant, ten.ID, openstack.ScheduledAction{Action: "set_quotas",
			Details: map[string]any{"quotas": map[string]any{"cores": 30, "ram": 4096, "instances": 7, "security_group_count": 9}}})
		require.NoError(t, err)
		req, ok, err := w.st.BeginAction(ctx, openstack.KindTenant, ten.UUID, "set_quotas")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, map[string]int64{"cores": 30, "ram": 4096, "instances": 7, "security_group_count": 9}, req.Quotas)
		require.Equal(t, "proj-1", req.BackendID)
		res := openstack.ActionResult{Quotas: []openstack.CloudQuota{{Name: "cores", Limit: 30, Usage: 1}, {Name: "ram", Limit: 4096},
			{Name: "instances", Limit: 7}}}
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindTenant, ten.UUID, "set_quotas", res))
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindTenant, ten.UUID, "set_quotas", res), "a repeated finish")
		got, err := w.st.TenantByID(ctx, ten.ID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, got.State)
		require.ElementsMatch(t, []openstack.CloudQuota{{Name: "cores", Limit: 30, Usage: 1}, {Name: "ram", Limit: 4096}, {Name: "instances", Limit: 7},
			{Name: "security_group_count", Limit: 9}}, got.QuotaList())
		var r struct {
			Limits       []byte
			BillingDirty bool
		}
		require.NoError(t, db.Table("resources").Select("limits, billing_dirty").Where("id = ?", w.tenantRes.ResourceID).Scan(&r).Error)
		var limits map[string]int64
		require.NoError(t, json.Unmarshal(r.Limits, &limits))
		require.Equal(t, map[string]int64{"cores": 30, "ram": 4096, "storage": 10240}, limits, "instances is no billed component")
		require.True(t, r.BillingDirty)
		require.EqualValues(t, 1, w.count(t, "orders", "resource_id = ? AND type = ? AND state = ? AND plan_id IS NULL",
			w.tenantRes.ResourceID, models.OrderUpdate, models.OrderDone), "one limits-only Update order, done")

		// The same limits again: the quotas are recorded, no order.
		_, err = w.st.ScheduleAction(ctx, openstack.KindTenant, ten.ID, openstack.ScheduledAction{Action: "set_quotas",
			Details: map[string]any{"quotas": map[string]any{"cores": 30}}})
		require.NoError(t, err)
		_, _, err = w.st.BeginAction(ctx, openstack.KindTenant, ten.UUID, "set_quotas")
		require.NoError(t, err)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindTenant, ten.UUID, "set_quotas", res))
		require.EqualValues(t, 1, w.count(t, "orders", "resource_id = ? AND type = ?", w.tenantRes.ResourceID, models.OrderUpdate))

		// change_password.
		_, err = w.st.ScheduleAction(ctx, openstack.KindTenant, ten.ID, openstack.ScheduledAction{Action: "change_password",
			Set: map[string]any{"user_password": "n3w"}})
		require.NoError(t, err)
		req, ok, err = w.st.BeginAction(ctx, openstack.KindTenant, ten.UUID, "change_password")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "t-user", req.UserUsername)
		require.Equal(t, "n3w", req.UserPassword)
		require.NoError(t, w.st.FinishAction(ctx, openstack.KindTenant, ten.UUID, "change_password", openstack.ActionResult{}))
	})
}
