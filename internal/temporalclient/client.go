// Package temporalclient is the one factory of Temporal clients: every
// process (API, worker, CLI) dials through it, so timeouts, logging and the
// namespace are set in one place.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Options name the cluster to reach.
type Options struct {
	HostPort  string
	Namespace string
	Logger    *slog.Logger
}

func (o Options) sdk() client.Options {
	l := o.Logger
	if l == nil {
		l = slog.Default()
	}
	return client.Options{
		HostPort:  o.HostPort,
		Namespace: o.Namespace,
		// The SDK logs every poll retry at info; warnings are what an operator needs.
		Logger: tlog.NewStructuredLogger(slog.New(levelFilter{h: l.Handler(), min: slog.LevelWarn}).With("component", "temporal-client")),
	}
}

// Dial connects and waits until the frontend answers, retrying until ctx ends
// (a server that is still starting is not an error). Errors are one line.
func Dial(ctx context.Context, o Options) (client.Client, error) {
	var last error
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(attemptCtx, o.sdk())
		cancel()
		if err == nil {
			return c, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("temporal at %s (namespace %q) does not answer: %v", o.HostPort, o.Namespace, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Lazy returns a client that connects on first use: the API stays up while
// Temporal is down (the health check reports it, and work is kept in the
// database until it can be started).
func Lazy(o Options) (client.Client, error) {
	c, err := client.NewLazyClient(o.sdk())
	if err != nil {
		return nil, fmt.Errorf("temporal client: %v", err)
	}
	return c, nil
}

type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(a), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}
