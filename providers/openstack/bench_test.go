package openstack_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// BenchmarkInstanceOrders places 50 instance orders at once through the
// API into one tenant on the emulator (its default delays: a server is
// ACTIVE 2s after its create, a volume available after 1s) and waits until
// all are done. It reports the wall time of the 50, and from the orders'
// workflow histories the Temporal activities per order (activity tasks on
// the provider's queue and local activities on the core worker), and the
// OpenStack API calls per order.
func BenchmarkInstanceOrders(b *testing.B) {
	const n = 50
	cl := newCloud(b, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{})
	_, tenant := cl.tenantWith("bench", map[string]any{"cores": 1000, "ram": 4 << 20, "storage": 16 << 20, "instances": 1000, "volumes": 1000})
	attrs := cl.instanceAttrs(tenant, "")
	delete(attrs, "data_volume_size")
	delete(attrs, "data_volume_type")
	delete(attrs, "floating_ips")
	attrs["system_volume_size"] = 1024
	var walls []time.Duration
	var orders []string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		calls := len(cl.emu.Requests())
		start := time.Now()
		batch := make([]string, n)
		for j := range batch {
			a := map[string]any{}
			for k, v := range attrs {
				a[k] = v
			}
			a["name"] = fmt.Sprintf("vm-%d-%d", i, j)
			var o map[string]any
			cl.do("POST", "/api/marketplace-orders/", map[string]any{"offering": cl.vmOffering, "project": cl.project,
				"plan": cl.plans[cl.vmOffering], "attributes": a}, 201, &o)
			batch[j] = o["uuid"].(string)
		}
		var wg sync.WaitGroup
		for _, id := range batch {
			wg.Add(1)
			go func() { defer wg.Done(); cl.wait(id, 5*time.Minute) }()
		}
		wg.Wait()
		walls = append(walls, time.Since(start))
		orders = append(orders, batch...)
		b.ReportMetric(float64(len(cl.emu.Requests())-calls)/n, "openstack-calls/order")
	}
	b.StopTimer()
	var wall time.Duration
	for _, w := range walls {
		wall += w
	}
	b.ReportMetric(wall.Seconds()/float64(len(walls)), "wall-s/50-orders")

	// Activities per order, from the workflow histories.
	var acts, locals, attempts int
	for _, id := range orders {
		it := cl.tc.GetWorkflowHistory(context.Background(), workflows.OrderWorkflowID(mustUUID(b, id)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(b, err)
			switch ev.GetEventType() {
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				acts++
			case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				attempts += int(ev.GetActivityTaskStartedEventAttributes().GetAttempt())
			case enums.EVENT_TYPE_MARKER_RECORDED:
				if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
					locals++
				}
			}
		}
	}
	per := func(v int) float64 { return float64(v) / float64(len(orders)) }
	b.ReportMetric(per(acts), "activities/order")
	b.ReportMetric(per(attempts), "activity-attempts/order")
	b.ReportMetric(per(locals), "local-activities/order")
}

func mustUUID(t testing.TB, s string) models.UUID {
	t.Helper()
	id, err := models.ParseUUID(s)
	require.NoError(t, err)
	return id
}
