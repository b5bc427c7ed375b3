// Package fake is a provider for tests: configurable delay and failures,
// and a record of every backend call, so tests can check that a retried or
// restarted order never created twice.
package fake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Provider is the fake. The zero value is usable; set the knobs before use.
type Provider struct {
	// Delay is how long each call takes (it honours ctx cancellation).
	Delay time.Duration
	// FailFirst makes the first n calls per order fail with a retryable error.
	FailFirst int
	// FailPermanently makes every call fail with a permanent error.
	FailPermanently bool
	// Manual makes Create report "not done" (as Basic offerings do).
	Manual bool

	mu       sync.Mutex
	attempts map[models.UUID]int
	// created counts the resources actually created per order (after the
	// idempotency check): it must never exceed 1.
	created map[models.UUID]int
	calls   []string
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Puller   = (*Provider)(nil)
)

// Name implements providers.Provider.
func (p *Provider) Name() string { return "fake" }

func (p *Provider) init() {
	if p.attempts == nil {
		p.attempts = map[models.UUID]int{}
		p.created = map[models.UUID]int{}
	}
}

func (p *Provider) step(ctx context.Context, op string, r providers.Request) error {
	p.mu.Lock()
	p.init()
	p.attempts[r.OrderUUID]++
	n := p.attempts[r.OrderUUID]
	p.calls = append(p.calls, fmt.Sprintf("%s %s", op, r.OrderUUID))
	p.mu.Unlock()
	if p.Delay > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.Delay):
		}
	}
	if p.FailPermanently {
		return providers.Permanent(errors.New("fake: refused"))
	}
	if n <= p.FailFirst {
		return fmt.Errorf("fake: transient failure %d of %d", n, p.FailFirst)
	}
	return nil
}

// Validate implements providers.Provider.
func (p *Provider) Validate(ctx context.Context, r providers.Request) error { return nil }

// Create implements providers.Provider; it is idempotent per order.
func (p *Provider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	if err := p.step(ctx, "create", r); err != nil {
		return providers.Result{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.created[r.OrderUUID] == 0 { // look up before create
		p.created[r.OrderUUID]++
	}
	return providers.Result{Done: !p.Manual, BackendID: "fake-" + r.OrderUUID.String()[:12]}, nil
}

// Update implements providers.Provider.
func (p *Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	return providers.Result{Done: !p.Manual}, p.step(ctx, "update", r)
}

// Terminate implements providers.Provider.
func (p *Provider) Terminate(ctx context.Context, r providers.Request) (providers.Result, error) {
	return providers.Result{Done: !p.Manual}, p.step(ctx, "terminate", r)
}

// Pull implements providers.Puller: metadata naming the backend id and
// counting the pulls of the resource so far.
func (p *Provider) Pull(ctx context.Context, r providers.Request) (providers.Result, error) {
	key := r
	key.OrderUUID = r.ResourceUUID // a pull has no order: counted per resource
	if err := p.step(ctx, "pull", key); err != nil {
		return providers.Result{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c == "pull "+r.ResourceUUID.String() {
			n++
		}
	}
	return providers.Result{Done: true, BackendID: r.BackendID,
		Metadata: map[string]any{"backend_id": r.BackendID, "pulls": n}}, nil
}

// Created returns how many resources were created for an order.
func (p *Provider) Created(order models.UUID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.created[order]
}

// Calls returns every call made, in order.
func (p *Provider) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}
