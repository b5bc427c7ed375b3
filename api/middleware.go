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
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waldur-go/waldur/internal/database"
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

// ReadRouting lets the reads of safe requests (GET, HEAD, OPTIONS: lists,
// retrieves, statistics) go to the read replicas of r (nil: none, and the
// middleware does nothing). Unsafe requests read and write on the primary.
// A request that writes anyway (a GET touching a last-seen time) reads
// from the primary from its first write on. After a user's request that
// wrote, their reads use only a replica proved to have replayed it, which
// is the primary until one has (at most the lag window, since a replica
// further behind serves nobody).
//
// The last writes are remembered per API process: with several API
// processes behind a load balancer, a user's next read on another process
// does not know of their write and may be served by a replica at most the
// lag window behind. A load balancer with client affinity (hash on the
// Authorization header and sessionid cookie) keeps read-your-writes exact;
// without it reads are at worst one window stale, as for any other user.
func ReadRouting(r *database.Router, now func() time.Time) gin.HandlerFunc {
	if r == nil {
		return func(c *gin.Context) {}
	}
	if now == nil {
		now = time.Now
	}
	w := &lastWrites{window: r.Window(), at: map[models.UUID]time.Time{}}
	return func(c *gin.Context) {
		u := CurrentUser(c)
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			c.Next()
			if u != nil {
				w.record(u.UUID, now())
			}
			return
		}
		var notBefore time.Time
		if u != nil {
			notBefore = w.last(u.UUID)
		}
		ctx, st := database.ReplicaReads(c.Request.Context(), notBefore)
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		if st.Wrote() && u != nil {
			w.record(u.UUID, now())
		}
	}
}

// lastWrites remembers when each user's last writing request ended, for
// the lag window (older ones no longer matter: every usable replica has
// them).
type lastWrites struct {
	window time.Duration
	mu     sync.Mutex
	at     map[models.UUID]time.Time
	swept  time.Time
}

func (w *lastWrites) record(user models.UUID, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.at[user] = t
	if t.Sub(w.swept) > w.window {
		w.swept = t
		for k, v := range w.at {
			if t.Sub(v) > w.window {
				delete(w.at, k)
			}
		}
	}
}

func (w *lastWrites) last(user models.UUID) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at[user]
}
