package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
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
// from the primary from its first write on.
//
// Read-your-writes holds across API processes: before a user's request
// that wrote answers, the primary's WAL position is stored as the user's
// last write (Router.RecordWrite, a row on the primary every process
// sees); a user's read is served only by a replica that has replayed past
// it, which is the primary until one has (at most the lag window, since a
// replica further behind serves nobody). No load balancer affinity is
// needed. Anonymous requests have no writes of their own to wait for.
func ReadRouting(r *database.Router, log *slog.Logger) gin.HandlerFunc {
	if r == nil {
		return func(c *gin.Context) {}
	}
	if log == nil {
		log = slog.Default()
	}
	return func(c *gin.Context) {
		u := CurrentUser(c)
		safe := false
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			safe = true
		}
		var st *database.ReadState
		if safe {
			var after uint64
			if u != nil {
				var err error
				if after, err = r.LastWrite(c.Request.Context(), u.ID); err != nil {
					// Unknown: the primary is always fresh enough.
					log.Warn("read replicas: cannot read the user's last write; reading from the primary", "err", err)
					c.Next()
					return
				}
			}
			var ctx context.Context
			ctx, st = database.ReplicaReadsAfter(c.Request.Context(), after)
			c.Request = c.Request.WithContext(ctx)
		}
		if u == nil {
			c.Next()
			return
		}
		// The mark is stored before the answer's first byte leaves, so a
		// client that reads right after seeing it finds it on any process.
		mw := &markingWriter{ResponseWriter: c.Writer, mark: func() {
			if safe && !st.Wrote() {
				return
			}
			if err := r.RecordWrite(context.WithoutCancel(c.Request.Context()), u.ID); err != nil {
				log.Warn("read replicas: cannot record the user's last write; their next reads may be up to the lag window stale", "err", err)
			}
		}}
		c.Writer = mw
		c.Next()
		mw.before()
		c.Writer = mw.ResponseWriter
	}
}

// markingWriter runs mark once, before the first header or byte of the
// answer is written.
type markingWriter struct {
	gin.ResponseWriter
	mark func()
	once sync.Once
}

func (w *markingWriter) before() { w.once.Do(w.mark) }

func (w *markingWriter) WriteHeaderNow() { w.before(); w.ResponseWriter.WriteHeaderNow() }

func (w *markingWriter) Write(b []byte) (int, error) { w.before(); return w.ResponseWriter.Write(b) }

func (w *markingWriter) WriteString(s string) (int, error) {
	w.before()
	return w.ResponseWriter.WriteString(s)
}

func (w *markingWriter) Flush() { w.before(); w.ResponseWriter.Flush() }

func (w *markingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.before()
	return w.ResponseWriter.Hijack()
}
