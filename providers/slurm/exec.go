package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Executor runs one Slurm command (argv[0] is the program: sacctmgr, sacct,
// scancel, squeue) where the cluster's accounting commands are available.
//
// Run returns the command's output whenever the command ran, whatever its
// exit status (Output.ExitCode); the error is for failures to run it at all
// (program missing, SSH connection refused, context done).
type Executor interface {
	Run(ctx context.Context, argv []string) (Output, error)
}

// Output is what a command printed and how it ended.
type Output struct {
	Stdout, Stderr string
	ExitCode       int
}

// DefaultCommandTimeout bounds one command when an executor's Timeout is zero.
const DefaultCommandTimeout = 2 * time.Minute

// maxOutput caps what is kept of a command's stdout and stderr (each).
const maxOutput = 16 << 20

// LocalExecutor runs commands on this host.
type LocalExecutor struct {
	// Timeout bounds one command (DefaultCommandTimeout when zero).
	Timeout time.Duration
	// Sudo prefixes every command with "sudo -n" (Waldur's use_sudo).
	Sudo bool
}

// Run implements Executor.
func (e LocalExecutor) Run(ctx context.Context, argv []string) (Output, error) {
	if len(argv) == 0 {
		return Output{}, errors.New("slurm: empty command")
	}
	if e.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var stdout, stderr capped
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	out := Output{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out, ctx.Err()
	case runCtx.Err() != nil:
		return out, fmt.Errorf("%s timed out after %s", argv[0], timeout)
	case errors.As(err, &exitErr):
		out.ExitCode = exitErr.ExitCode()
		if out.ExitCode < 0 { // killed by a signal
			out.ExitCode = 128
		}
		return out, nil
	case err != nil:
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.EACCES) {
			return out, &unavailableError{err: err}
		}
		return out, err
	}
	return out, nil
}

// unavailableError marks a command that cannot run on this executor at all
// (not installed, not allowed): retrying will not help.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// CommandError is a command that ran and failed. Its message carries the
// command line and the command's stderr (stdout when stderr is empty), so
// an order that fails on it shows why in its error_message.
type CommandError struct {
	Argv []string
	Output
}

func (e *CommandError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(e.Stdout)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return fmt.Sprintf("%s failed (exit status %d): %s", strings.Join(e.Argv, " "), e.ExitCode, msg)
}

// capped keeps the first maxOutput bytes written and discards the rest
// (still accepting them, so the command never blocks on a full pipe).
type capped struct{ buf bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }
