package topology_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is one OS process of the topology, restartable with the same
// command, environment and ports. Its stdout and stderr go to a file in
// the test's directory (appended on every start), printed when the test
// fails.
type proc struct {
	name    string
	path    string
	args    []string
	env     []string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	offset  int64 // the log's size when the current run started
	starts  int
}

func newProc(dir, name, path string, env []string, args ...string) *proc {
	return &proc{name: name, path: path, args: args, env: env, logPath: filepath.Join(dir, name+".log")}
}

// start runs the process (again); the previous run must have ended.
func (p *proc) start(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.starts++
	fmt.Fprintf(f, "\n===== %s: start %d at %s\n", p.name, p.starts, time.Now().Format(time.RFC3339Nano))
	st, _ := f.Stat()
	p.offset = st.Size()
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	// A group of its own: the cleanup kills what it started (a script
	// worker's sandboxes too), nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(done)
	}()
}

// kill sends SIGKILL to the process (its group: nothing it started
// survives it) and waits until it is gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30 s after SIGKILL", p.name)
	}
}

// stop ends the process at the end of the test: SIGTERM, then SIGKILL
// after a few seconds.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// exited reports whether the current run has ended, and how.
func (p *proc) exited() (bool, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.waitErr
	default:
		return false, nil
	}
}

// output is what the current run has written so far.
func (p *proc) output() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	p.mu.Lock()
	off := p.offset
	p.mu.Unlock()
	if off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}

// waitFor polls until ready says yes, failing the test when the process
// exits first or within is over.
func (p *proc) waitFor(t *testing.T, what string, within time.Duration, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ready() {
		if ok, err := p.exited(); ok {
			t.Fatalf("%s exited (%v) before %s:\n%s", p.name, err, what, tail(p.output(), 60))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s after %s:\n%s", p.name, what, within, tail(p.output(), 60))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the current run's output contains s.
func (p *proc) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("logging %q", s), within, func() bool { return strings.Contains(p.output(), s) })
}

// run runs a one-shot command to its end, its output in the log file.
func (p *proc) run(t *testing.T, within time.Duration) string {
	t.Helper()
	p.start(t)
	p.waitFor(t, "done", within, func() bool { ok, _ := p.exited(); return ok })
	_, err := p.exited()
	if err != nil {
		t.Fatalf("%s: %v:\n%s", p.name, err, tail(p.output(), 60))
	}
	return p.output()
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// printLogs writes the tail of every process's log to the test log.
func printLogs(t *testing.T, procs []*proc) {
	for _, p := range procs {
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			continue
		}
		t.Logf("----- %s (%s) -----\n%s", p.name, p.logPath, tail(string(bytes.TrimSpace(b)), 150))
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1 (held open
// together while choosing, so none is returned twice).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out
}

// cleanEnv is the test's environment without WALDUR_* and the topology's
// own variables, so each process gets exactly what the test gives it.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WALDUR_") {
			out = append(out, kv)
		}
	}
	return out
}
