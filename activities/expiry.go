package activities

import (
	"context"

	"github.com/waldur-go/waldur/models/store"
)

// Expiry holds the daily expiry jobs: user roles past their expiration
// time and invitations past their lifetime.
type Expiry struct {
	Store *store.Store
}

// RevokeExpiredRoles revokes every user role whose expiration time has
// passed (is_active=false, history kept; role_revoked and the customer's
// nc_user_count in the same transaction as each revoke) and returns how
// many it revoked. Idempotent: a role is revoked once, however often it
// runs.
func (a *Expiry) RevokeExpiredRoles(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.Store.RevokeExpiredRoles(ctx, store.GrantOfUserRole)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// InvitationExpiryResult counts what ExpireInvitations changed.
type InvitationExpiryResult struct {
	// Expired is how many pending or requested invitations expired.
	Expired int
	// Activated is how many invitations waiting for their project became
	// pending because the project has started.
	Activated int
}

// ExpireInvitations marks pending and requested invitations older than
// store.InvitationLifetime expired (invitation_expired), then makes the
// invitations waiting for a project that has started pending. Idempotent.
func (a *Expiry) ExpireInvitations(ctx context.Context) (InvitationExpiryResult, error) {
	var out InvitationExpiryResult
	var err error
	if out.Expired, err = a.Store.ExpireInvitations(ctx); err != nil {
		return out, err
	}
	out.Activated, err = a.Store.ActivateProjectInvitations(ctx)
	return out, err
}
