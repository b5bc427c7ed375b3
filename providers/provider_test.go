package providers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/fake"
)

func TestRegistry(t *testing.T) {
	r := providers.NewRegistry()
	f := &fake.Provider{}
	r.Register(f, "", "Test.Fake")
	r.Register(f, "basic", models.OfferingBasic)
	p, q, err := r.Lookup("Test.Fake")
	require.NoError(t, err)
	require.Same(t, f, p)
	require.Equal(t, "fake", q)
	_, q, _ = r.Lookup(models.OfferingBasic)
	require.Equal(t, "basic", q)
	_, _, err = r.Lookup("Nope")
	require.True(t, models.IsCode(err, models.CodeInvalid))
	require.Equal(t, []string{"Marketplace.Basic", "Test.Fake"}, r.Types())
	require.Equal(t, []string{"basic", "fake"}, r.Queues())
	require.Panics(t, func() { r.Register(f, "", "Test.Fake") })
}

func TestFakeIsIdempotentAndFailsAsTold(t *testing.T) {
	ctx := context.Background()
	f := &fake.Provider{FailFirst: 2}
	req := providers.Request{OrderUUID: models.NewUUID()}
	for i := 0; i < 2; i++ {
		_, err := f.Create(ctx, req)
		require.Error(t, err)
		var perm *providers.PermanentError
		require.False(t, errors.As(err, &perm), "transient failures are retryable")
	}
	for i := 0; i < 3; i++ {
		res, err := f.Create(ctx, req)
		require.NoError(t, err)
		require.True(t, res.Done)
	}
	require.Equal(t, 1, f.Created(req.OrderUUID), "a retried create creates once")
	require.Len(t, f.Calls(), 5)

	p := &fake.Provider{FailPermanently: true}
	_, err := p.Create(ctx, req)
	var perm *providers.PermanentError
	require.True(t, errors.As(err, &perm))
	require.Zero(t, p.Created(req.OrderUUID))
}

func TestRegistryCapabilities(t *testing.T) {
	r := providers.NewRegistry()
	f := &fake.Provider{}
	r.RegisterWith(f, "q1", providers.Capabilities{ManualCompletion: true, Cancelable: true}, "A.Manual")
	r.Register(f, "q2", "B.Auto")
	caps, ok := r.Capabilities("A.Manual")
	require.True(t, ok)
	require.Equal(t, providers.Capabilities{ManualCompletion: true, Cancelable: true, Pull: true}, caps, "the fake is a Puller")
	caps, ok = r.Capabilities("B.Auto")
	require.True(t, ok)
	require.Equal(t, providers.Capabilities{Pull: true}, caps)
	_, ok = r.Capabilities("C.Unknown")
	require.False(t, ok, "an unknown type has no capabilities")
}
