// Package temporaltest starts a real Temporal server in the test process
// (in-memory SQLite, a free port) and hands out clients to it.
package temporaltest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/internal/temporalserver"
	"github.com/waldur-go/waldur/workflows"
)

// Server is a running test server.
type Server struct {
	Addr      string
	Namespace string
	srv       *temporalserver.Server
}

// Start starts an in-memory server that stops when the test ends.
func Start(t testing.TB) *Server { return StartFile(t, "") }

// StartFile starts a server persisting to the SQLite file at path (with the
// production pragmas), or in memory when path is empty.
func StartFile(t testing.TB, path string) *Server {
	t.Helper()
	level := slog.LevelError
	if os.Getenv("WALDUR_TEST_TEMPORAL_LOGS") != "" {
		level = slog.LevelInfo
	}
	// The ports are picked free and then bound by the server, so another
	// process (a test package running beside this one) can take one in
	// between: that start fails with "address already in use" and is tried
	// again on other ports.
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		srv, err := temporalserver.Start(temporalserver.Options{
			FrontendAddr:     addr,
			DatabaseFile:     path,
			Namespace:        "default",
			SearchAttributes: workflows.SearchAttributes,
			Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
			LogLevel:         level,
		})
		if err != nil && attempt < 5 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		return &Server{Addr: addr, Namespace: "default", srv: srv}
	}
}

// Client dials the server; the client is closed when the test ends.
func (s *Server) Client(t testing.TB) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: s.Addr, Namespace: s.Namespace,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(fmt.Errorf("dial test temporal: %w", err))
	}
	t.Cleanup(c.Close)
	return c
}
