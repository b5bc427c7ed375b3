package slurm_test

import (
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/providers/slurm"
	"github.com/waldur-go/waldur/workflows/replaytest"
)

// TestReplaySlurmHistories replays the recorded histories of the SLURM
// workflows (testdata/histories: a usage pull and a full membership sync,
// written by TestSlurmEndToEnd with -record-histories) against today's
// code, as the platform's own are (docs/workflow-versioning.md).
func TestReplaySlurmHistories(t *testing.T) {
	replaytest.ReplayAll(t, func(r worker.Registry) { slurm.RegisterSlurm(r, &slurm.Activities{}) })
}
