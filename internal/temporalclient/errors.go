package temporalclient

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
)

// ErrTypeBusy is the application error type of a refusal that holds only
// for a moment (an order whose provider activity is still being
// recorded): the caller may retry.
const ErrTypeBusy = "busy"

// Coded turns err into an application error that keeps its models code
// across Temporal: the error type is the code and the message is the
// models.Error's own (no "code: " prefix). Errors without a code are
// internal. Non-retryable: a retry does not change a coded refusal.
func Coded(err error) error {
	if err == nil {
		return nil
	}
	code, msg := models.ErrorCode(err), err.Error()
	var me *models.Error
	if errors.As(err, &me) {
		msg = me.Message
	}
	return temporal.NewNonRetryableApplicationError(msg, string(code), nil)
}

// Busy is an application error of type ErrTypeBusy.
func Busy(msg string) error { return temporal.NewApplicationError(msg, ErrTypeBusy) }

// IsBusy reports whether err is (or wraps) an ErrTypeBusy application error.
func IsBusy(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == ErrTypeBusy
}

// Decode is the models error an application error that crossed Temporal
// stands for: its type names the code (see Coded). ok is false for other
// errors (Temporal's own, untyped application errors).
func Decode(err error) (e *models.Error, ok bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return nil, false
	}
	code := models.Code(app.Type())
	if !code.Valid() {
		return nil, false
	}
	return &models.Error{Code: code, Message: app.Message()}, true
}
