// Package basic is the provider of Marketplace.Basic offerings: manual
// services. Nothing is automated: every order waits for the service
// provider, who approves it and, once the service is delivered, marks it
// done (set_state_done) or failed (set_state_erred) through the API.
package basic

import (
	"context"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Queue is the task queue of Basic offerings' workers.
const Queue = "basic"

// Provider is the manual provider.
type Provider struct{}

var _ providers.Provider = Provider{}

// Name implements providers.Provider.
func (Provider) Name() string { return Queue }

// Validate implements providers.Provider: any request is acceptable.
func (Provider) Validate(context.Context, providers.Request) error { return nil }

// Create implements providers.Provider: the provider's operator does the work.
func (Provider) Create(context.Context, providers.Request) (providers.Result, error) {
	return providers.Result{Done: false}, nil
}

// Update implements providers.Provider.
func (Provider) Update(context.Context, providers.Request) (providers.Result, error) {
	return providers.Result{Done: false}, nil
}

// Terminate implements providers.Provider.
func (Provider) Terminate(context.Context, providers.Request) (providers.Result, error) {
	return providers.Result{Done: false}, nil
}

// Register adds the Basic provider to r.
func Register(r *providers.Registry) {
	r.RegisterWith(Provider{}, Queue, providers.Capabilities{ManualCompletion: true, Cancelable: true}, models.OfferingBasic)
}

// AgentQueue is the task queue of agent-driven offerings' (manual) orders.
const AgentQueue = "agent"

// RegisterAgentDriven adds the manual provider for Marketplace.Slurm: a
// remote site agent polls the marketplace for the offering's orders, does
// the work on its cluster and reports through the provider endpoints
// (set_state_executing, set_state_done, set_state_erred).
func RegisterAgentDriven(r *providers.Registry) {
	r.RegisterWith(Provider{}, AgentQueue, providers.Capabilities{ManualCompletion: true, AgentDriven: true}, models.OfferingSlurm)
}
