package activities

import (
	"context"
	"time"

	"github.com/waldur-go/waldur/models/store"
)

// DefaultAgentTimeout is how long an offering's site agent may stay silent
// before its integration status is Disconnected: twice the longest default
// period of the agent's modes (report, every 30 minutes).
const DefaultAgentTimeout = time.Hour

// SiteAgent holds the site agent jobs: marking the integration statuses of
// silent agents Disconnected.
type SiteAgent struct {
	Store *store.Store
	// Timeout is how long an agent may stay silent (0: DefaultAgentTimeout).
	Timeout time.Duration
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// DisconnectStaleIntegrations marks Disconnected every Active integration
// status whose last request is older than the timeout, and returns how
// many. Idempotent: a status is marked once, and is Active again with the
// agent's next request.
func (a *SiteAgent) DisconnectStaleIntegrations(ctx context.Context) (int64, error) {
	now := time.Now().UTC()
	if a.Now != nil {
		now = a.Now().UTC()
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultAgentTimeout
	}
	return a.Store.DisconnectStaleIntegrations(ctx, now.Add(-timeout))
}
