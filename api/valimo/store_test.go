package valimo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/api/valimo"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestStore: a result's life (Scheduled, Processing, one end only), the
// success that provisions the user and issues the token once, and the
// hourly cleanup, on both databases.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st := store.New(db)
		s := valimo.NewStore(st)

		r, err := s.Create(ctx, "+37200000766")
		require.NoError(t, err)
		require.Equal(t, valimo.StateScheduled, r.State)
		require.Regexp(t, `^\d{4}$`, r.Message)
		require.NoError(t, s.SetProcessing(ctx, r.UUID, "mssp1"))
		got, err := s.Get(ctx, r.UUID)
		require.NoError(t, err)
		require.Equal(t, valimo.StateProcessing, got.State)
		require.Equal(t, "mssp1", got.BackendTransactionID)

		// Ended once: a later end changes nothing.
		require.NoError(t, s.Finish(ctx, r.UUID, valimo.StateCanceled, "User cancel.", ""))
		require.NoError(t, s.Finish(ctx, r.UUID, valimo.StateErred, "", "late"))
		got, err = s.Get(ctx, r.UUID)
		require.NoError(t, err)
		require.Equal(t, valimo.StateCanceled, got.State)
		require.Equal(t, "User cancel.", got.Details)
		require.Empty(t, got.ErrorMessage)

		// Success: the user made and the token issued, once.
		ok, err := s.Create(ctx, "+37200000766")
		require.NoError(t, err)
		calls := 0
		provision := func(tx *store.Store) (*models.User, error) {
			calls++
			return federated.ProvisionPerson(ctx, tx, federated.Login{Method: valimo.Method, Label: "Mobile ID", EventType: valimo.EventLoggedIn},
				federated.Person{CivilNumber: "38001085718", FirstName: "Mari", LastName: "Maasikas", PhoneNumber: "+37200000766"})
		}
		require.NoError(t, s.Succeed(ctx, ok.UUID, provision))
		require.NoError(t, s.Succeed(ctx, ok.UUID, provision))
		require.Equal(t, 1, calls, "an ended login is not provisioned again")
		got, err = s.Get(ctx, ok.UUID)
		require.NoError(t, err)
		require.Equal(t, valimo.StateOK, got.State)
		require.Len(t, got.Token, 40)
		require.NotNil(t, got.UserID)
		var p store.UserProfile
		require.NoError(t, db.Where("id = ?", *got.UserID).Take(&p).Error)
		require.Equal(t, "valimo", p.RegistrationMethod)
		require.Equal(t, "38001085718", *p.CivilNumber)
		require.Equal(t, "Maasikas", p.LastName)
		var events int64
		require.NoError(t, db.Table("events").Where("event_type = ?", valimo.EventLoggedIn).Count(&events).Error)
		require.EqualValues(t, 1, events)

		// A refused provisioning ends nothing and writes nothing.
		bad, err := s.Create(ctx, "+37200000999")
		require.NoError(t, err)
		err = s.Succeed(ctx, bad.UUID, func(tx *store.Store) (*models.User, error) {
			return federated.ProvisionPerson(ctx, tx, federated.Login{Method: valimo.Method}, federated.Person{})
		})
		require.True(t, models.IsCode(err, models.CodeInvalid), err)
		got, err = s.Get(ctx, bad.UUID)
		require.NoError(t, err)
		require.Equal(t, valimo.StateScheduled, got.State)

		// The cleanup deletes what is older than an hour.
		require.NoError(t, db.Model(&valimo.Result{}).Where("uuid IN ?", []string{r.UUID.String(), ok.UUID.String()}).
			Update("created", time.Now().UTC().Add(-2*time.Hour)).Error)
		a := &valimo.Activities{Store: s}
		n, err := a.PruneValimoResults(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		_, err = s.Get(ctx, r.UUID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
		_, err = s.Get(ctx, bad.UUID)
		require.NoError(t, err)
	})
}

// TestCleanupSchedule: hourly, on the core queue, under its stable ID.
func TestCleanupSchedule(t *testing.T) {
	require.Equal(t, "waldur-valimo-cleanup", valimo.CleanupSchedule.ID)
	require.Equal(t, "53 * * * *", valimo.CleanupSchedule.Cron)
	require.Equal(t, "core", valimo.CleanupSchedule.TaskQueue)
}
