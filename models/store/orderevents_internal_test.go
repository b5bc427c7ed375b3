package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

// TestEveryOrderEventHasAnEventType: each order event maps to one of
// Waldur's marketplace_order_* types (an unmapped one would panic).
func TestEveryOrderEventHasAnEventType(t *testing.T) {
	info := &OrderInfo{Order: models.Order{Type: models.OrderCreate}}
	for _, ev := range append(models.OrderEvents(), "completed") {
		require.NotPanics(t, func() {
			evs := orderEvents(info, ev, models.OrderExecuting)
			require.Regexp(t, `^marketplace_order_(created|approved|rejected|completed|terminated|failed)$`, evs[0].EventType, ev)
		}, ev)
	}
}
