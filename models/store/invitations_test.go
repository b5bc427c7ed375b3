package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func TestInvitationStateTable(t *testing.T) {
	all := store.InvitationStates
	allowed := map[string][]store.InvitationState{
		store.InvitationCancel:   {store.InvitationPending, store.InvitationPendingProject, store.InvitationRequested},
		store.InvitationAccept:   {store.InvitationPending},
		store.InvitationApprove:  {store.InvitationRequested},
		store.InvitationReject:   {store.InvitationRequested},
		store.InvitationExpire:   {store.InvitationPending, store.InvitationRequested},
		store.InvitationResend:   {store.InvitationPending, store.InvitationExpired, store.InvitationCanceled},
		store.InvitationActivate: {store.InvitationPendingProject},
		store.InvitationEdit:     {store.InvitationPending},
	}
	for action, ok := range allowed {
		for _, s := range all {
			inv := store.Invitation{State: s}
			err := inv.Can(action)
			want := false
			for _, o := range ok {
				want = want || o == s
			}
			if want {
				require.NoError(t, err, "%s from %s", action, s)
			} else {
				require.True(t, models.IsCode(err, models.CodeInvalid), "%s from %s: %v", action, s, err)
			}
		}
	}
	require.True(t, models.IsCode((&store.Invitation{}).Can("fly"), models.CodeInternal))
}

func rtInvite(t *testing.T, w *rtWorld, sc models.Scope, role, email string) *store.Invitation {
	t.Helper()
	ctx := context.Background()
	rs, err := w.st.ResolveRoleScope(ctx, sc)
	require.NoError(t, err)
	inv, err := w.st.CreateInvitation(ctx, store.NewInvitation{Scope: rs, Role: rtRole(t, w.st, role), Email: email, CreatedBy: w.users["alice"]})
	require.NoError(t, err)
	return inv
}

// TestAcceptInvitationOnceUnderConcurrency: of several users accepting the
// same invitation at once, exactly one gets the role.
func TestAcceptInvitationOnceUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		inv := rtInvite(t, w, w.project, models.RoleProjectAdmin, "x@example.com")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for _, name := range []string{"alice", "bob", "carol"} {
			wg.Add(1)
			go func(u *models.User) {
				defer wg.Done()
				if _, _, err := w.st.AcceptInvitation(ctx, inv, u, false); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}(w.users[name])
		}
		wg.Wait()
		require.Equal(t, 1, ok)
		var grants int64
		require.NoError(t, db.Table("user_roles").Where("scope_type = ? AND scope_id = ? AND is_active = ?", models.ScopeProject, w.project.ID, true).Count(&grants).Error)
		require.Equal(t, int64(1), grants)
		got, err := w.st.InvitationByUUID(ctx, inv.UUID)
		require.NoError(t, err)
		require.Equal(t, store.InvitationAccepted, got.State)
		require.NotNil(t, got.AcceptedByID)
	})
}

// TestExpireAndActivateInvitations: the daily job expires pending and
// requested invitations older than a week, once, and makes invitations of
// started projects pending.
func TestExpireAndActivateInvitations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := rtNewWorld(t, db)
		old := rtInvite(t, w, w.customer, models.RoleCustomerOwner, "old@example.com")
		accepted := rtInvite(t, w, w.project, models.RoleProjectMember, "acc@example.com")
		_, _, err := w.st.AcceptInvitation(ctx, accepted, w.users["bob"], false)
		require.NoError(t, err)
		start := w.now.Add(72 * time.Hour)
		future := rtInsertProject(t, db, w.customer, "Future", &start, w.now)
		planned := rtInvite(t, w, future, models.RoleProjectMember, "plan@example.com")
		require.Equal(t, store.InvitationPendingProject, planned.State)

		w.now = w.now.Add(6 * 24 * time.Hour)
		fresh := rtInvite(t, w, w.customer, models.RoleCustomerOwner, "fresh@example.com")
		n, err := w.st.ExpireInvitations(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing is a week old yet")

		w.now = w.now.Add(24 * time.Hour)
		n, err = w.st.ExpireInvitations(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = w.st.ExpireInvitations(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		state := func(inv *store.Invitation) store.InvitationState {
			got, err := w.st.InvitationByUUID(ctx, inv.UUID)
			require.NoError(t, err)
			return got.State
		}
		require.Equal(t, store.InvitationExpired, state(old))
		require.Equal(t, store.InvitationAccepted, state(accepted))
		require.Equal(t, store.InvitationPending, state(fresh))

		a, err := w.st.ActivateProjectInvitations(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, a, "the project started 4 days ago")
		require.Equal(t, store.InvitationPending, state(planned))
		got, err := w.st.InvitationByUUID(ctx, planned.UUID)
		require.NoError(t, err)
		require.True(t, got.Created.Equal(w.now), "the lifetime starts when the project does")

		var events int64
		require.NoError(t, db.Table("events").Where("event_type = ?", "invitation_expired").Count(&events).Error)
		require.Equal(t, int64(1), events)
	})
}
