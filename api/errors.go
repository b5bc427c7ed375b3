package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// statusOf is the one table from application error codes to HTTP statuses.
var statusOf = map[models.Code]int{
	models.CodeInvalid:       http.StatusBadRequest,
	models.CodeQuotaExceeded: http.StatusBadRequest, // Waldur reports quota errors as validation errors
	models.CodeUnauthorized:  http.StatusUnauthorized,
	models.CodeForbidden:     http.StatusForbidden,
	models.CodeNotFound:      http.StatusNotFound,
	models.CodeConflict:      http.StatusConflict,
	models.CodeUnavailable:   http.StatusServiceUnavailable,
	models.CodeTooLarge:      http.StatusRequestEntityTooLarge,
	models.CodeThrottled:     http.StatusTooManyRequests,
	models.CodeInternal:      http.StatusInternalServerError,
}

// RetryAfterSeconds is the Retry-After of a 429 (models.CodeThrottled).
const RetryAfterSeconds = 1

// StatusOf returns the HTTP status for an error code.
func StatusOf(code models.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is every error response: Waldur's {"detail": …} or, for
// validation errors on fields, a field → messages map.
type ErrorBody struct {
	Detail string `json:"detail" example:"Not found."`
}

// WriteError renders err in Waldur's shapes and aborts the request.
// Internal errors are logged with the request id and shown as "Internal error".
func WriteError(c *gin.Context, err error) {
	var e *models.Error
	if !errors.As(err, &e) {
		e = models.Internal(err)
	}
	if e.Code == models.CodeInternal && errors.Is(c.Request.Context().Err(), context.DeadlineExceeded) {
		// The request's deadline (Deps.RequestTimeout) cut the work short.
		slog.WarnContext(c.Request.Context(), "request timed out", "request_id", RequestID(c), "err", err)
		e = models.Errorf(models.CodeUnavailable, "Request timed out.")
	}
	if e.Code == models.CodeThrottled {
		c.Header("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	status := StatusOf(e.Code)
	if e.Code == models.CodeInternal {
		slog.ErrorContext(c.Request.Context(), "internal error", "request_id", RequestID(c), "err", err)
	}
	if e.Code == models.CodeInvalid && len(e.Fields) > 0 {
		c.AbortWithStatusJSON(status, e.Fields)
		return
	}
	if e.Code == models.CodeInvalid || e.Code == models.CodeQuotaExceeded {
		c.AbortWithStatusJSON(status, map[string][]string{"non_field_errors": {e.Message}})
		return
	}
	c.AbortWithStatusJSON(status, ErrorBody{Detail: e.Message})
}

// Handler is a gin handler that returns an error instead of writing it.
type Handler func(c *gin.Context) error

// H adapts a Handler to gin, writing any returned error with WriteError.
func H(h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			WriteError(c, err)
		}
	}
}
