// Package workflows holds the Temporal workflows (orchestration only, no
// I/O), the registry that says which workflows and activities run on which
// task queue, and the registrar of Temporal Schedules.
package workflows

import (
	"fmt"
	"sort"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// Task queues. Each provider has its own, so its workers can run where the
// provider is reachable (a cloud's worker inside the provider's network,
// a SLURM worker on the cluster's login node).
const (
	// QueueCore runs the platform's own workflows: schedules, billing, orders' orchestration.
	QueueCore = "core"
)

// Registration adds workflows and activities to one worker.
type Registration func(r worker.Registry)

// Registry maps task queues to what their workers run.
type Registry struct {
	regs map[string][]Registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{regs: map[string][]Registration{}} }

// Add registers reg on queue; a queue may have several registrations.
func (r *Registry) Add(queue string, reg Registration) { r.regs[queue] = append(r.regs[queue], reg) }

// Queues lists the known queues, sorted.
func (r *Registry) Queues() []string {
	qs := make([]string, 0, len(r.regs))
	for q := range r.regs {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	return qs
}

// Resolve expands "all" and rejects unknown queue names.
func (r *Registry) Resolve(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		for _, q := range strings.Split(n, ",") {
			q = strings.TrimSpace(q)
			switch {
			case q == "":
				continue
			case q == "all":
				for _, k := range r.Queues() {
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
			case r.regs[q] == nil:
				return nil, fmt.Errorf("unknown queue %q (known: %s, all)", q, strings.Join(r.Queues(), ", "))
			case !seen[q]:
				seen[q] = true
				out = append(out, q)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no queue given (known: %s, all)", strings.Join(r.Queues(), ", "))
	}
	return out, nil
}

// Workers are started workers, one per queue.
type Workers struct{ ws []worker.Worker }

// Start starts one worker per queue on c. On error nothing is left running.
func (r *Registry) Start(c client.Client, queues []string, opts worker.Options) (*Workers, error) {
	ws := &Workers{}
	for _, q := range queues {
		regs, ok := r.regs[q]
		if !ok {
			ws.Stop()
			return nil, fmt.Errorf("unknown queue %q", q)
		}
		w := worker.New(c, q, opts)
		for _, reg := range regs {
			reg(w)
		}
		if err := w.Start(); err != nil {
			ws.Stop()
			return nil, fmt.Errorf("worker %s: %w", q, err)
		}
		ws.ws = append(ws.ws, w)
	}
	return ws, nil
}

// Stop stops every worker, waiting for running activities to finish or time out.
func (w *Workers) Stop() {
	if w == nil {
		return
	}
	for _, x := range w.ws {
		x.Stop()
	}
}
