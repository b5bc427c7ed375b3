package main_test

// End-to-end tests of the real binary: they build cmd/waldur once and run
// it as a user would, in a temporary directory, on free ports.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/migrations"
	"github.com/waldur-go/waldur/workflows"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "waldur-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "waldur")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// proc is a running waldur process.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// cleanEnv drops WALDUR_* from the test's environment so each test says what it means.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WALDUR_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitHealthy polls /health-check/ until 200, failing if the process exits.
func (p *proc) waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health-check/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("process exited (%v) before it was healthy:\n%s", err, p.stderr.String())
		case <-deadline:
			t.Fatalf("not healthy after 90 s:\n%s", p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGINT (Ctrl-C) and expects a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-p.done:
		p.done <- err
		require.NoError(t, err, "exit status after SIGINT:\n%s", p.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after SIGINT:\n%s", p.stderr.String())
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

var tokenLine = regexp.MustCompile(`API token\s+([0-9a-f]{40})`)

// TestServeZeroConfig: `waldur serve` with no configuration creates ./data,
// answers, prints the admin's token once, stops on Ctrl-C and keeps its data.
func TestServeZeroConfig(t *testing.T) {
	dir := t.TempDir()
	httpAddr, temporalAddr, uiAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env := []string{
		config.EnvHTTPAddr + "=" + httpAddr,
		config.EnvEmbeddedTemporal + "=" + temporalAddr,
		config.EnvTemporalUIAddr + "=" + uiAddr,
		config.EnvAdminPassword + "=correct-horse",
	}
	p := start(t, dir, env, "serve")
	p.waitHealthy(t, httpAddr)

	m := tokenLine.FindStringSubmatch(p.stdout.String())
	require.NotNil(t, m, "first start prints a token:\n%s", p.stdout.String())
	token := m[1]
	require.Contains(t, p.stdout.String(), "correct-horse")
	for _, f := range []string{"waldur.db", "temporal.db"} {
		require.FileExists(t, filepath.Join(dir, "data", f))
	}

	code, body := get(t, "http://"+httpAddr+"/api/version/", token)
	require.Equal(t, 200, code, body)
	code, _ = get(t, "http://"+uiAddr+"/", "")
	require.Equal(t, 200, code, "Temporal UI answers")
	code, body = get(t, "http://"+httpAddr+"/health-check/", "")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"database":"working","temporal":"working"}`, body)
	p.stop(t)

	// Restart: no banner, same token.
	p = start(t, dir, env, "serve")
	p.waitHealthy(t, httpAddr)
	require.NotContains(t, p.stdout.String(), "API token", "the banner is shown once")
	code, body = get(t, "http://"+httpAddr+"/api/version/", token)
	require.Equal(t, 200, code, body)
	p.stop(t)
}

// TestSeparateAPIAndWorker: `waldur api` and `waldur worker` run as
// separate processes against one database and one (external) Temporal.
func TestSeparateAPIAndWorker(t *testing.T) {
	ts := temporaltest.Start(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			httpAddr := freeAddr(t)
			env := []string{
				config.EnvDatabaseURL + "=" + dbtest.EmptyURL(t, kind),
				config.EnvTemporalAddress + "=" + ts.Addr,
				config.EnvHTTPAddr + "=" + httpAddr,
			}
			out, err := run(t, dir, env, "api")
			require.Error(t, err, "the API refuses an unmigrated database")
			require.Contains(t, out, "run `waldur migrate up`")

			out, err = run(t, dir, env, "migrate", "up")
			require.NoError(t, err, out)
			out, err = run(t, dir, env, "user", "create", "--username", "ops", "--staff")
			require.NoError(t, err, out)
			token := strings.TrimSpace(out)
			require.Regexp(t, `^[0-9a-f]{40}$`, token)

			api := start(t, dir, env, "api")
			api.waitHealthy(t, httpAddr)
			worker := start(t, dir, env, "worker", "--queue", "core")

			c := ts.Client(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore}, workflows.Ping, workflows.PingInput{Message: "from the test"})
			require.NoError(t, err)
			var res workflows.PingResult
			require.NoError(t, run.Get(ctx, &res), worker.stderr.String())
			require.Equal(t, workflows.PingResult{Message: "from the test", Database: string(kind)}, res)

			code, body := get(t, "http://"+httpAddr+"/api/version/", token)
			require.Equal(t, 200, code, body)
			api.stop(t)
			worker.stop(t)
		})
	}
}

func run(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBadConfiguration: each mistake is one line on stderr and exit status 1.
func TestBadConfiguration(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	closed := freeAddr(t)
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"malformed database URL", []string{config.EnvDatabaseURL + "=postgres://a:%zz@h/db"}, []string{"serve"}, "malformed URL"},
		{"unsupported scheme", []string{config.EnvDatabaseURL + "=mysql://h/db"}, []string{"api"}, "unsupported scheme"},
		{"unreachable PostgreSQL", []string{config.EnvDatabaseURL + "=postgres://postgres@" + closed + "/db"}, []string{"serve", "--http-addr", freeAddr(t)}, "connection refused"},
		{"API port in use", []string{config.EnvHTTPAddr + "=" + busy.Addr().String()}, []string{"serve"}, "address already in use"},
		{"Temporal port in use", []string{config.EnvHTTPAddr + "=" + freeAddr(t), config.EnvEmbeddedTemporal + "=" + busy.Addr().String()}, []string{"serve"}, "address already in use"},
		{"not host:port", []string{config.EnvHTTPAddr + "=8080"}, []string{"api"}, "not host:port"},
		{"unknown queue", []string{config.EnvTemporalAddress + "=" + closed}, []string{"worker", "--queue", "nope"}, `unknown queue "nope"`},
		{"bad log level", []string{config.EnvLogLevel + "=loud"}, []string{"serve"}, "WALDUR_LOG_LEVEL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(binary(t), c.args...)
			cmd.Dir = dir
			cmd.Env = append(cleanEnv(), c.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			require.Error(t, err)
			require.Equal(t, 1, cmd.ProcessState.ExitCode())
			lines := nonEmptyLines(stderr.String())
			require.NotEmpty(t, lines)
			last := lines[len(lines)-1]
			require.True(t, strings.HasPrefix(last, "waldur: "), "last line: %q", last)
			require.Contains(t, last, c.want)
			require.NotContains(t, stderr.String(), "goroutine ", "no stack trace")
			require.NotContains(t, stderr.String(), "panic")
		})
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestMigrateAndUserCommands drives `migrate status|up|down` and `user create`.
func TestMigrateAndUserCommands(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			env := []string{config.EnvDatabaseURL + "=" + dbtest.EmptyURL(t, kind)}
			// The platform's migrations and the plugins', in one order.
			all := append(migrations.All(), plugins.Migrations()...)
			sort.Slice(all, func(i, j int) bool { return all[i].Version < all[j].Version })
			out, err := run(t, dir, env, "migrate", "status")
			require.NoError(t, err, out)
			for _, m := range all {
				require.Regexp(t, fmt.Sprintf(`(?m)^%d\s+pending\s+%s$`, m.Version, m.Name), out)
			}
			out, err = run(t, dir, env, "migrate", "up")
			require.NoError(t, err, out)
			for _, m := range all {
				require.Contains(t, out, fmt.Sprintf("applied %d\n", m.Version))
			}
			out, err = run(t, dir, env, "migrate", "status")
			require.NoError(t, err, out)
			for _, m := range all {
				require.Regexp(t, fmt.Sprintf(`(?m)^%d\s+applied\s+%s$`, m.Version, m.Name), out)
			}
			out, err = run(t, dir, env, "migrate", "up")
			require.NoError(t, err, out)
			require.Contains(t, out, "no pending migrations")

			out, err = run(t, dir, env, "user", "create", "--username", "alice", "--staff", "--password", "pw-123456")
			require.NoError(t, err, out)
			require.Regexp(t, `^[0-9a-f]{40}\n$`, out)
			out, err = run(t, dir, env, "user", "create", "--username", "alice")
			require.Error(t, err)
			require.Contains(t, out, "username: User with this username already exists.")
			out, err = run(t, dir, env, "user", "create", "--username", "Bad Name")
			require.Error(t, err)
			require.Contains(t, out, "username: Enter a valid username")

			for i := len(all) - 1; i >= 0; i-- {
				out, err = run(t, dir, env, "migrate", "down")
				require.NoError(t, err, out)
				require.Equal(t, fmt.Sprintf("rolled back %d\n", all[i].Version), out)
			}
			out, err = run(t, dir, env, "migrate", "down")
			require.NoError(t, err, out)
			require.Contains(t, out, "no migration to roll back")
		})
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := run(t, t.TempDir(), nil, "version")
	require.NoError(t, err)
	require.Regexp(t, `^\S+\n$`, out, "one word on one line")
}
