package temporalclient_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
)

func TestCodedErrorsCrossTemporal(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code models.Code
		msg  string
	}{
		{models.Errorf(models.CodeInvalid, "Unknown order event %q.", "bogus"), models.CodeInvalid, `Unknown order event "bogus".`},
		{fmt.Errorf("wrapped: %w", models.Errorf(models.CodeConflict, "Order is already done.")), models.CodeConflict, "Order is already done."},
		{models.Errorf(models.CodeQuotaExceeded, "Quota exceeded."), models.CodeQuotaExceeded, "Quota exceeded."},
		{errors.New("disk on fire"), models.CodeInternal, "disk on fire"},
	} {
		coded := temporalclient.Coded(tc.err)
		var app *temporal.ApplicationError
		require.True(t, errors.As(coded, &app))
		require.True(t, app.NonRetryable())
		require.Equal(t, string(tc.code), app.Type())
		require.Equal(t, tc.msg, app.Message(), "no code prefix in the message")
		back, ok := temporalclient.Decode(fmt.Errorf("update failed: %w", coded))
		require.True(t, ok)
		require.Equal(t, tc.code, back.Code)
		require.Equal(t, tc.msg, back.Message)
	}
	require.Nil(t, temporalclient.Coded(nil))
	_, ok := temporalclient.Decode(temporal.NewApplicationError("x", "SomethingElse"))
	require.False(t, ok, "an untyped application error has no code")
	_, ok = temporalclient.Decode(errors.New("plain"))
	require.False(t, ok)
	busy := temporalclient.Busy("Order is being processed by its provider.")
	require.True(t, temporalclient.IsBusy(fmt.Errorf("x: %w", busy)))
	require.False(t, temporalclient.IsBusy(temporalclient.Coded(models.Errorf(models.CodeConflict, "no"))))
}
