package workflows_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/workflows"
)

// benchStarters is how many clients start workflows at once.
const benchStarters = 64

// runThroughput executes b.N workflows with benchStarters concurrent
// starters on the embedded server persisting to a WAL SQLite file (the
// `waldur serve` default) and reports workflows per second.
func runThroughput(b *testing.B, wf any, args ...any) {
	srv := temporaltest.StartFile(b, filepath.Join(b.TempDir(), "temporal.db"))
	c := srv.Client(b)
	ws, err := registry(b).Start(c, []string{workflows.QueueCore}, worker.Options{
		MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ws.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Warm up: the first workflows create the task queue and fill caches.
	for i := 0; i < 20; i++ {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore}, wf, args...)
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchStarters)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < benchStarters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore}, wf, args...)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "workflows/s")
}

// BenchmarkEmptyWorkflow is the baseline: workflow overhead alone.
func BenchmarkEmptyWorkflow(b *testing.B) { runThroughput(b, workflows.Empty) }

// BenchmarkPingWorkflow adds one activity that touches the database.
func BenchmarkPingWorkflow(b *testing.B) {
	runThroughput(b, workflows.Ping, workflows.PingInput{Message: "bench"})
}
