package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Classify makes application errors that a retry cannot change
// non-retryable, as the platform's activities do: for plugins' activities.
func Classify(err error) error { return classify(err) }

// ProviderError turns a provider's permanent error into a non-retryable
// application error carrying its code (an unreachable backend is retried):
// for plugins' activities that call their provider.
func ProviderError(err error) error {
	var perm *providers.PermanentError
	if errors.As(err, &perm) {
		code := string(models.ErrorCode(perm.Err))
		if code == string(models.CodeInternal) {
			code = ErrTypeProviderRefused
		}
		return temporal.NewNonRetryableApplicationError(AppMessage(perm.Err), code, perm)
	}
	var app *models.Error
	if errors.As(err, &app) {
		return temporal.NewNonRetryableApplicationError(app.Message, string(app.Code), err)
	}
	return err
}

// AppMessage is an application error's caller-safe message, or the error's text.
func AppMessage(err error) string {
	var app *models.Error
	if errors.As(err, &app) {
		return app.Message
	}
	return err.Error()
}
