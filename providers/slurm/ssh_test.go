package slurm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// sshServer is an in-process SSH server that runs each exec request with
// `sh -c` on this host: the real SSH protocol, for the SSH executor.
type sshServer struct {
	Addr    string
	HostKey string // authorized_keys line
	Conns   atomic.Int32
	mu      sync.Mutex
	lines   []string // command lines received
}

func (s *sshServer) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines[len(s.lines)-1]
}

type keyPair struct {
	signer ssh.Signer
	pem    []byte
}

func newKey(t *testing.T) keyPair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	return keyPair{signer: signer, pem: pem.EncodeToMemory(block)}
}

func startSSHServer(t *testing.T, client ssh.PublicKey) *sshServer {
	t.Helper()
	host := newKey(t)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(client.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(host.signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	s := &sshServer{Addr: ln.Addr().String(), HostKey: string(ssh.MarshalAuthorizedKey(host.signer.PublicKey()))}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc, cfg)
		}
	}()
	return s
}

func (s *sshServer) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	conn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	s.Conns.Add(1)
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				if req.Type != "exec" || len(req.Payload) < 4 {
					_ = req.Reply(false, nil)
					continue
				}
				n := binary.BigEndian.Uint32(req.Payload)
				line := string(req.Payload[4 : 4+n])
				s.mu.Lock()
				s.lines = append(s.lines, line)
				s.mu.Unlock()
				_ = req.Reply(true, nil)
				cmd := exec.Command("sh", "-c", line)
				cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						status = uint32(ee.ExitCode())
					} else {
						status = 127
					}
				}
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
				return
			}
		}()
	}
}

func TestSSHExecutor(t *testing.T) {
	ctx := context.Background()
	client := newKey(t)
	srv := startSSHServer(t, client.signer.PublicKey())

	e, err := NewSSHExecutor(srv.Addr, "root", client.pem, srv.HostKey, false)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })

	t.Run("output, stderr and exit status", func(t *testing.T) {
		out, err := e.Run(ctx, []string{"sh", "-c", "echo out; echo err >&2; exit 3"})
		require.NoError(t, err)
		require.Equal(t, Output{Stdout: "out\n", Stderr: "err\n", ExitCode: 3}, out)
	})
	t.Run("arguments arrive as they were", func(t *testing.T) {
		args := []string{"a b", "it's", "$HOME", "`id`", "x;y", "", "description=Project One", "é"}
		out, err := e.Run(ctx, append([]string{"printf", "%s|"}, args...))
		require.NoError(t, err)
		require.Equal(t, 0, out.ExitCode, out.Stderr)
		require.Equal(t, strings.Join(args, "|")+"|", out.Stdout)
	})
	t.Run("a missing program cannot run", func(t *testing.T) {
		_, err := e.Run(ctx, []string{"no-such-program-here"})
		var ue *unavailableError
		require.True(t, errors.As(err, &ue), "%v", err)
	})
	t.Run("the connection is reused", func(t *testing.T) {
		require.Equal(t, int32(1), srv.Conns.Load())
	})
	t.Run("a dropped connection is dialed again", func(t *testing.T) {
		e.drop()
		out, err := e.Run(ctx, []string{"true"})
		require.NoError(t, err)
		require.Equal(t, 0, out.ExitCode)
		require.Equal(t, int32(2), srv.Conns.Load())
	})
	t.Run("sudo prefix", func(t *testing.T) {
		withSudo := &SSHExecutor{Addr: e.Addr, Config: e.Config, Sudo: true}
		defer withSudo.Close()
		_, _ = withSudo.Run(ctx, []string{"sacctmgr", "list", "description=a b"}) // sudo may be missing here
		require.Equal(t, "sudo -n -- sacctmgr list 'description=a b'", srv.last())
	})

	for _, tc := range []struct {
		name    string
		key     []byte
		hostKey string
	}{
		{"wrong host key", client.pem, string(ssh.MarshalAuthorizedKey(newKey(t).signer.PublicKey()))},
		{"key the server does not know", newKey(t).pem, srv.HostKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, err := NewSSHExecutor(srv.Addr, "root", tc.key, tc.hostKey, false)
			require.NoError(t, err)
			_, err = bad.Run(ctx, []string{"true"})
			var ue *unavailableError
			require.True(t, errors.As(err, &ue), "refused, not retried: %v", err)
		})
	}

	t.Run("no host key is refused unless insecure", func(t *testing.T) {
		_, err := NewSSHExecutor(srv.Addr, "root", client.pem, "", false)
		require.ErrorContains(t, err, "ssh_host_key")
		insecure, err := NewSSHExecutor(srv.Addr, "root", client.pem, "", true)
		require.NoError(t, err)
		defer insecure.Close()
		out, err := insecure.Run(ctx, []string{"echo", "ok"})
		require.NoError(t, err)
		require.Equal(t, "ok\n", out.Stdout)
	})

	t.Run("nothing listening is retried", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		gone, err := NewSSHExecutor(addr, "root", client.pem, srv.HostKey, false)
		require.NoError(t, err)
		_, err = gone.Run(ctx, []string{"true"})
		require.Error(t, err)
		var ue *unavailableError
		require.False(t, errors.As(err, &ue), "%v", err)
	})
}

var _ io.Writer = (*capped)(nil)
