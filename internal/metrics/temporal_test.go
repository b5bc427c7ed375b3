package metrics_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/metrics"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
)

// TestScheduleMetricsOnTemporal reads the Schedule series from a real
// Temporal server: a Schedule that has started its workflow has a last-run
// age, a paused one that never ran is reported paused and has no age.
func TestScheduleMetricsOnTemporal(t *testing.T) {
	tc := temporaltest.Start(t).Client(t)
	ctx := context.Background()
	sc := tc.ScheduleClient()
	action := func(id string) *client.ScheduleWorkflowAction {
		return &client.ScheduleWorkflowAction{ID: id + "-run", Workflow: "NoWorkerNeeded", TaskQueue: "metrics-test"}
	}
	ran, err := sc.Create(ctx, client.ScheduleOptions{ID: "metrics-test-ran", Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
		Action: action("ran")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Create(ctx, client.ScheduleOptions{ID: "metrics-test-paused", Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
		Action: action("paused"), Paused: true}); err != nil {
		t.Fatal(err)
	}
	if err := ran.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	triggered := time.Now()

	db := dbtest.Migrated(t, config.SQLite)
	clock := time.Now()
	c := metrics.New(metrics.Options{DB: db, Schedules: sc, TTL: time.Nanosecond, Now: func() time.Time { return clock }})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	// Schedules are listed from Temporal's visibility store, which follows the writes by a moment.
	var got string
	deadline := time.Now().Add(30 * time.Second)
	for {
		clock = time.Now()
		got = gather(t, reg, "waldur_schedule_last_run_age_seconds", "waldur_schedule_paused", "waldur_business_metrics_up")
		if strings.Contains(got, `waldur_schedule_last_run_age_seconds{schedule="metrics-test-ran"}`) &&
			strings.Contains(got, `waldur_schedule_paused{schedule="metrics-test-paused"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Schedules are not in the metrics within 30s:\n%s", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(got, `waldur_schedule_last_run_age_seconds{schedule="metrics-test-paused"}`) {
		t.Errorf("a Schedule that never ran has a last-run age:\n%s", got)
	}
	if !strings.Contains(got, `waldur_schedule_paused{schedule="metrics-test-ran"} 0`) ||
		!strings.Contains(got, `waldur_business_metrics_up{source="temporal"} 1`) {
		t.Errorf("metrics:\n%s", got)
	}
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, `waldur_schedule_last_run_age_seconds{schedule="metrics-test-ran"} `) {
			age, err := strconv.ParseFloat(strings.Fields(line)[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			if limit := time.Since(triggered).Seconds() + 1; age < 0 || age > limit {
				t.Errorf("last-run age %v s, want between 0 and %v", age, limit)
			}
		}
	}
}
