package models

import "context"

// Actor is who makes a change: the user, the staff user impersonating them
// (if any) and the client address. Every event records it.
type Actor struct {
	User         *User
	Impersonator *User
	IP           string
}

type actorKey struct{}

// WithActor attaches the actor to ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx (zero when none: a system job).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}
