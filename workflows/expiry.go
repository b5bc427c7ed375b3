package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/activities"
)

// RoleExpirySchedule runs RevokeExpiredRoles daily at 01:00 UTC (Waldur's
// check-expired-permissions beat).
var RoleExpirySchedule = Schedule{
	ID:        "waldur-role-expiry",
	Cron:      "0 1 * * *",
	Workflow:  RevokeExpiredRoles,
	TaskQueue: QueueCore,
	Note:      "Revokes user roles whose expiration time has passed (role_revoked).",
}

// InvitationExpirySchedule runs ExpireInvitations daily at 01:30 UTC
// (Waldur's cancel-expired-invitations beat).
var InvitationExpirySchedule = Schedule{
	ID:        "waldur-invitation-expiry",
	Cron:      "30 1 * * *",
	Workflow:  ExpireInvitations,
	TaskQueue: QueueCore,
	Note:      "Expires invitations older than a week (invitation_expired); activates invitations of started projects.",
}

// RegisterExpiry registers the expiry workflows and their activities on a
// core-queue worker.
func RegisterExpiry(w worker.Registry, a *activities.Expiry) {
	w.RegisterWorkflow(RevokeExpiredRoles)
	w.RegisterWorkflow(ExpireInvitations)
	w.RegisterActivity(a)
}

// expiryOptions: a scan-and-fix job; each run is idempotent, so it is
// retried a few times and otherwise left to the next day's run.
func expiryOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    5,
		},
	})
}

// RevokeExpiredRolesResult is what RevokeExpiredRoles returns.
type RevokeExpiredRolesResult struct {
	// Revoked is how many user roles were revoked.
	Revoked int
}

// RevokeExpiredRoles revokes the user roles whose expiration time has
// passed, through activities.Expiry.RevokeExpiredRoles.
func RevokeExpiredRoles(ctx workflow.Context) (RevokeExpiredRolesResult, error) {
	var a *activities.Expiry
	var n int
	if err := workflow.ExecuteActivity(expiryOptions(ctx), a.RevokeExpiredRoles).Get(ctx, &n); err != nil {
		return RevokeExpiredRolesResult{}, err
	}
	workflow.GetLogger(ctx).Info("expired roles revoked", "revoked", n)
	return RevokeExpiredRolesResult{Revoked: n}, nil
}

// ExpireInvitations expires the invitations past their lifetime (and
// activates those whose project has started), through
// activities.Expiry.ExpireInvitations.
func ExpireInvitations(ctx workflow.Context) (activities.InvitationExpiryResult, error) {
	var a *activities.Expiry
	var out activities.InvitationExpiryResult
	if err := workflow.ExecuteActivity(expiryOptions(ctx), a.ExpireInvitations).Get(ctx, &out); err != nil {
		return activities.InvitationExpiryResult{}, err
	}
	workflow.GetLogger(ctx).Info("invitations expired", "expired", out.Expired, "activated", out.Activated)
	return out, nil
}
