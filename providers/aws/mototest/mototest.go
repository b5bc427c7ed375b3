// Package mototest runs moto_server (a local emulation of the AWS APIs) for
// tests: each Start gets its own server on a free loopback port, stopped
// with its whole process group when the test ends.
//
// When moto_server is not on PATH the test is skipped, except in CI
// (CI=true), where a missing moto_server is a failure: CI must run the AWS
// tests, not pass without them.
package mototest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the moto server's command.
const Binary = "moto_server"

// Credentials moto accepts (it accepts any).
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
	Region          = "us-east-1"
)

// Server is a running moto_server.
type Server struct {
	// URL is its endpoint, e.g. http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
	log *syncBuffer
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

// Start starts moto_server and waits until it answers (at most 30 s).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH (CI=true: the AWS tests must run; .ci/run puts pyenv's shims on PATH)", Binary)
		}
		t.Skipf("%s is not on PATH; the AWS tests need it (pip install 'moto[server]')", Binary)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(bin)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err // most likely the port was taken between picking and binding it
	}
	t.Fatalf("moto_server did not start: %v", lastErr)
	return nil
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), log: &syncBuffer{}}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("moto_server exited: %s", lastLines(s.log.String()))
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto_server did not answer on %s within 30 s: %s", s.URL, lastLines(s.log.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server's process group.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// Reset drops everything the server holds (moto's reset API).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// SecretOptions are an AWS offering's secret_options pointing at s.
func (s *Server) SecretOptions() map[string]any {
	return map[string]any{"access_key_id": AccessKeyID, "secret_access_key": SecretAccessKey, "region": Region, "endpoint_url": s.URL}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewBufferString(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
