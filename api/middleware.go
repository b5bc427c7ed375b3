package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waldur-go/waldur/models"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-ID"

const ctxRequestID = "waldur.request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// RequestID returns the id of the current request.
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// requestID keeps a well-formed incoming X-Request-ID (so a proxy's id
// carries through) or makes one, and echoes it in the response.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Header(HeaderRequestID, id)
		c.Next()
	}
}

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("remote", c.ClientIP()),
		}
		if u := CurrentUser(c); u != nil {
			attrs = append(attrs, slog.String("user", u.Username))
		}
		log.LogAttrs(c.Request.Context(), level, "http", attrs...)
	}
}

// recovery turns a panic into a JSON 500 without internals; the stack goes
// to the log with the request id.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic", "request_id", RequestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, ErrorBody{Detail: "Internal error"})
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// Metrics are the API's Prometheus collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waldur_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "waldur_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath() // the pattern, so UUIDs do not explode the label set
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// MaxBody bounds a request body (1 MiB); form.MaxBody is the same limit.
const MaxBody = 1 << 20

// limitBody answers 413 to a body over max on every route, before any
// handler reads it: a declared Content-Length at once, a chunked body when
// it has been read past max (it is buffered, as every handler reads the
// whole body anyway). The body a handler gets can never exceed max.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody {
			return
		}
		if r.ContentLength > max {
			tooLarge(c)
			return
		}
		if r.ContentLength >= 0 {
			r.Body = http.MaxBytesReader(c.Writer, r.Body, max)
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			WriteError(c, models.Errorf(models.CodeInvalid, "Could not read the request body."))
			return
		}
		if int64(len(b)) > max {
			tooLarge(c)
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
}

func tooLarge(c *gin.Context) {
	// The rest of the body is not read: the connection is not reused.
	c.Header("Connection", "close")
	c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, ErrorBody{Detail: "Request body is too large."})
}

// deadline gives each request's context a deadline of d (0: none), so
// the database calls and waits of a handler end with it.
func deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if d <= 0 {
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
