package aws_test

import (
	"sync"
	"testing"
	"time"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/aws/mototest"
)

// BenchmarkAWSInstanceOrder: AWS.Instance create orders from the order's
// transaction to done (RunInstances, the running poll, the resource
// recorded) through the order workflow on the embedded Temporal server and
// moto, one at a time ("sequential") and ten at a time ("concurrent10");
// ms/order is wall time per order.
func BenchmarkAWSInstanceOrder(b *testing.B) {
	srv := temporaltest.Start(b)
	moto := mototest.Start(b)
	e := newAWSEnv(b, srv, moto, dbtest.Migrated(b, config.SQLite))
	e.prov.PollInterval, e.prov.WaitTimeout = aws.DefaultPollInterval, aws.DefaultWaitTimeout
	order := func(b *testing.B) {
		_, st := e.run(b, store.NewOrder{Type: models.OrderCreate, OfferingID: e.instance,
			Attributes: map[string]any{"name": "bench", "image": awsImage, "size": awsSize}})
		if st != models.OrderDone {
			b.Fatalf("order ended %s", st)
		}
	}
	order(b) // warm up: moto loads its AMIs on the first RunInstances
	for _, conc := range []int{1, 10} {
		name := "sequential"
		if conc > 1 {
			name = "concurrent10"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			var wg sync.WaitGroup
			next := make(chan struct{})
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range next {
						order(b)
					}
				}()
			}
			for i := 0; i < b.N; i++ {
				next <- struct{}{}
			}
			close(next)
			wg.Wait()
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/order")
		})
	}
}
