package slurm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHExecutor runs commands on a Slurm login or head node over SSH (Waldur:
// `ssh -i KEY root@host`, optionally with sudo). One connection is kept and
// reused; it is re-dialed when it breaks.
type SSHExecutor struct {
	// Addr is host:port.
	Addr string
	// Config carries the user, the key and the host key check.
	Config *ssh.ClientConfig
	// Timeout bounds one command (DefaultCommandTimeout when zero).
	Timeout time.Duration
	// Sudo prefixes every command with "sudo -n".
	Sudo bool

	mu     sync.Mutex
	client *ssh.Client
}

// NewSSHExecutor builds an executor for user@addr authenticating with the
// PEM private key. hostKey is the server's public key in authorized_keys
// format ("ssh-ed25519 AAAA..."); an empty hostKey is refused unless
// insecureHostKey is set (then any host key is accepted).
func NewSSHExecutor(addr, user string, privateKeyPEM []byte, hostKey string, insecureHostKey bool) (*SSHExecutor, error) {
	signer, err := ssh.ParsePrivateKey(privateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("SSH private key: %v", err)
	}
	var check ssh.HostKeyCallback
	switch {
	case strings.TrimSpace(hostKey) != "":
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hostKey))
		if err != nil {
			return nil, fmt.Errorf("SSH host key: %v", err)
		}
		check = ssh.FixedHostKey(pub)
	case insecureHostKey:
		check = ssh.InsecureIgnoreHostKey()
	default:
		return nil, errors.New("SSH host key is not set (ssh_host_key), and ssh_insecure_host_key is not enabled")
	}
	return &SSHExecutor{
		Addr: addr,
		Config: &ssh.ClientConfig{
			User:            user,
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: check,
			Timeout:         15 * time.Second,
		},
	}, nil
}

// Run implements Executor.
func (e *SSHExecutor) Run(ctx context.Context, argv []string) (Output, error) {
	if len(argv) == 0 {
		return Output{}, errors.New("slurm: empty command")
	}
	if e.Sudo {
		argv = append([]string{"sudo", "-n", "--"}, argv...)
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	line := strings.Join(quoted, " ")

	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	sess, err := e.session(runCtx)
	if err != nil {
		return Output{}, err
	}
	defer sess.Close()
	var stdout, stderr capped
	sess.Stdout, sess.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(line) }()
	select {
	case err = <-done:
	case <-runCtx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		_ = sess.Close()
		<-done
		if ctx.Err() != nil {
			return Output{}, ctx.Err()
		}
		return Output{}, fmt.Errorf("%s timed out after %s on %s", argv[0], timeout, e.Addr)
	}
	out := Output{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *ssh.ExitError
	switch {
	case errors.As(err, &exitErr):
		out.ExitCode = exitErr.ExitStatus()
		if out.ExitCode == 127 { // the remote shell could not find the program
			return out, &unavailableError{err: fmt.Errorf("%s: command not found on %s", argv[0], e.Addr)}
		}
	case err != nil:
		e.drop()
		return out, fmt.Errorf("ssh %s: %w", e.Addr, err)
	}
	return out, nil
}

// session opens a session on the cached connection, dialing (once more
// after a broken connection) as needed.
func (e *SSHExecutor) session(ctx context.Context) (*ssh.Session, error) {
	for attempt := 0; ; attempt++ {
		c, err := e.conn(ctx)
		if err != nil {
			return nil, err
		}
		s, err := c.NewSession()
		if err == nil {
			return s, nil
		}
		e.drop()
		if attempt > 0 {
			return nil, fmt.Errorf("ssh %s: %w", e.Addr, err)
		}
	}
}

func (e *SSHExecutor) conn(ctx context.Context) (*ssh.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return e.client, nil
	}
	d := net.Dialer{Timeout: e.Config.Timeout}
	nc, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", e.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, e.Addr, e.Config)
	if err != nil {
		nc.Close()
		err = fmt.Errorf("ssh %s: %w", e.Addr, err)
		// Authentication and host key failures will not pass on a retry.
		if msg := err.Error(); strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "host key") {
			return nil, &unavailableError{err: err}
		}
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	e.client = ssh.NewClient(cc, chans, reqs)
	return e.client, nil
}

// drop forgets a broken connection.
func (e *SSHExecutor) drop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		_ = e.client.Close()
		e.client = nil
	}
}

// Close closes the cached connection.
func (e *SSHExecutor) Close() error { e.drop(); return nil }

// shellQuote quotes s for a POSIX shell (the remote side runs the command
// line through the user's shell).
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=./,:@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
