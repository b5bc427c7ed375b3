// Package models holds the domain: entity types, validation, state machines,
// the store interfaces the API and activities depend on, and the one
// application error type every layer returns.
package models

import (
	"errors"
	"fmt"
)

// Code classifies an application error. The API maps each code to exactly one
// HTTP status (api/errors.go); nothing else decides a status.
type Code string

const (
	CodeInvalid       Code = "invalid"        // bad input: 400
	CodeUnauthorized  Code = "unauthorized"   // no or bad credentials: 401
	CodeForbidden     Code = "forbidden"      // authenticated, not allowed: 403
	CodeNotFound      Code = "not_found"      // no such object (or not visible): 404
	CodeConflict      Code = "conflict"       // wrong state for the operation: 409
	CodeQuotaExceeded Code = "quota_exceeded" // a quota would be exceeded: 400 as in Waldur
	CodeUnavailable   Code = "unavailable"    // a dependency is down: 503
	CodeTooLarge      Code = "too_large"      // the request body is over the limit: 413
	CodeThrottled     Code = "throttled"      // too much work in flight, retry shortly: 429 with Retry-After
	CodeInternal      Code = "internal"       // a bug or unexpected failure: 500
)

// Error is the application error. Message is safe to show to the caller;
// Fields carries per-field validation messages (rendered as Waldur's
// field → [messages] map); Err is the wrapped cause, logged but never shown.
type Error struct {
	Code    Code
	Message string
	Fields  map[string][]string
	// Quotas names the quotas a quota_exceeded error refused (for the order preview).
	Quotas []QuotaRefusal
	Err    error
}

// QuotaRefusal is one quota that would be exceeded: its scope, name,
// limit, and the usage the change would need.
type QuotaRefusal struct {
	Scope    Scope
	Name     string
	Limit    int64
	Requires int64
}

// Valid reports whether c is one of the codes above.
func (c Code) Valid() bool {
	switch c {
	case CodeInvalid, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict, CodeQuotaExceeded, CodeUnavailable,
		CodeTooLarge, CodeThrottled, CodeInternal:
		return true
	}
	return false
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an application error with a formatted, caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError is a 400 with one message on one field, as Waldur's serializers report.
func FieldError(field, message string) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: map[string][]string{field: {message}}}
}

// Internal wraps an unexpected error; its text is logged, never shown.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "Internal error", Err: err}
}

// ErrorCode returns the code of err, CodeInternal for any non-application error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err is an application error with the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }
