package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// TestServerTimeouts: through the real server, a request whose body never
// arrives and a kept-alive connection left idle are closed by the server
// after the configured timeouts instead of being held forever.
func TestServerTimeouts(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	cfg.HTTPReadTimeout, cfg.HTTPIdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv, err := NewAPIConfig(db, nil, quiet, cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveHTTP(ctx, ln, srv, quiet, cfg, func() {}) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	// bound is when the test gives up: far beyond the timeouts, not a wait.
	const bound = 20 * time.Second
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(bound)))
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	// Headers promise a body that never comes.
	c := dial()
	_, err = io.WriteString(c, "POST /api-auth/password/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	require.NoError(t, err)
	_, err = io.ReadAll(c) // returns when the server closes the connection
	require.NoError(t, err, "the server still holds a connection whose body never arrived")

	// A finished request, then silence.
	c = dial()
	_, err = io.WriteString(c, "GET /api/configuration/ HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	rd := bufio.NewReader(c)
	resp, err := http.ReadResponse(rd, nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	_, err = rd.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server closes an idle kept-alive connection")
}
