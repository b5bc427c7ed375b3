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

func TestResourceSlug(t *testing.T) {
	id := models.MustParseUUID("3f2a9c0000000000000000000000abcd")
	for name, want := range map[string]string{
		"Allocation 1":                      "allocation-1-3f2a9c",
		"  ":                                "resource-3f2a9c",
		"Genomics pipeline for the big lab": "genomics-pipeline-fo-3f2a9c",
		"Élan — vm":                         "elan-vm-3f2a9c",
	} {
		require.Equal(t, want, resourceSlug(name, id), name)
		require.Regexp(t, `^[-a-zA-Z0-9_]+$`, resourceSlug(name, id), "the API's slug pattern")
	}
}
