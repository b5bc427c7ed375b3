package policies_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/api/policies"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// fakeSMTP is a minimal SMTP server recording each message's recipients
// and body.
type fakeSMTP struct {
	mu   sync.Mutex
	msgs []fakeMail
	port int
}

type fakeMail struct {
	To   []string
	Data string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	s := &fakeSMTP{port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { _, _ = c.Write([]byte(l + "\r\n")) }
	say("220 fake ESMTP")
	var m fakeMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			m = fakeMail{}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<>"))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *fakeSMTP) sent() []fakeMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeMail(nil), s.msgs...)
}

// TestNotifyExternalUser: a project cost policy with notify_external_user
// mails the address of its options through SMTP exactly once per crossing:
// evaluating again (a restarted worker) sends nothing more; the crossing
// ended (limit raised) and crossed again (limit lowered) mails once more.
func TestNotifyExternalUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := newStoreWorld(t, db)
		smtp := newFakeSMTP(t)
		ps := policies.NewStore(w.st)
		p := w.policy(t, &policies.Policy{Kind: policies.KindProjectCost, ScopeID: w.project, Period: policies.PeriodMonth,
			Actions: "notify_external_user", LimitCost: 50, Options: []byte(`{"notify_external_user": "finance@example.org"}`)})
		a := &policies.Activities{Store: w.st, SMTP: activities.SMTPConfig{Host: "127.0.0.1", Port: smtp.port, From: "waldur@example.org"}}
		s, err := a.PolicyEvaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, s.Fired)
		msgs := smtp.sent()
		require.Len(t, msgs, 1)
		require.Equal(t, []string{"finance@example.org"}, msgs[0].To)
		require.Contains(t, msgs[0].Data, p.UUID.String())
		require.Contains(t, msgs[0].Data, "80.00")

		_, err = (&policies.Activities{Store: w.st, SMTP: a.SMTP}).PolicyEvaluate(ctx) // a restarted worker
		require.NoError(t, err)
		require.Len(t, smtp.sent(), 1, "once per crossing")
		fs, err := ps.Firings(ctx, p.ID)
		require.NoError(t, err)
		require.Len(t, fs, 1, "the sent e-mail's outbox row is gone, the crossing stays")

		p.LimitCost = 1000
		require.NoError(t, ps.Save(ctx, p))
		_, err = a.PolicyEvaluate(ctx)
		require.NoError(t, err)
		p.LimitCost = 10
		require.NoError(t, ps.Save(ctx, p))
		_, err = a.PolicyEvaluate(ctx)
		require.NoError(t, err)
		_, err = a.PolicyEvaluate(ctx)
		require.NoError(t, err)
		require.Len(t, smtp.sent(), 2, "a new crossing mails again, once")
	})
}
