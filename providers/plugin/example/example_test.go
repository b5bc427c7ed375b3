package example_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/plugin"
	"github.com/waldur-go/waldur/providers/plugin/example"
)

// TestExamplePlugin: the guide's plugin joins a set like any other and its
// provider is idempotent.
func TestExamplePlugin(t *testing.T) {
	b := &example.Backend{}
	set := plugin.Set{example.Plugin{Backend: b}}
	r := set.Providers()
	p, queue, err := r.Lookup(example.OfferingType)
	require.NoError(t, err)
	require.Equal(t, example.Queue, queue)
	require.Equal(t, "waldur-example-pull", set.Schedules()[0].ID)
	require.Len(t, set.Workers(plugin.Deps{}), 1)

	ctx := context.Background()
	req := providers.Request{ResourceUUID: models.NewUUID(), Limits: map[string]int64{"value": 3}}
	require.NoError(t, p.Validate(ctx, req))
	a, err := p.Create(ctx, req)
	require.NoError(t, err)
	again, err := p.Create(ctx, req)
	require.NoError(t, err)
	require.Equal(t, a.BackendID, again.BackendID, "a retried create finds the same counter")
	req.BackendID = a.BackendID
	out, err := p.(providers.Puller).Pull(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "3", out.Output)
	_, err = p.Terminate(ctx, req)
	require.NoError(t, err)
	_, err = p.Terminate(ctx, req)
	require.NoError(t, err, "already gone is success")
	require.True(t, models.IsCode(p.Validate(ctx, providers.Request{Limits: map[string]int64{"value": -1}}), models.CodeInvalid))
}
