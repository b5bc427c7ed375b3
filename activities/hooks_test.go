package activities_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// world: customer Alpha owned by "owner", customer Beta with project
// beta-1 where "member" is a member, "staff", "support", an inactive user
// "gone" (once staff), and one event fed to Alpha.
type world struct {
	ctx   context.Context
	st    *store.Store
	db    *gorm.DB
	now   time.Time
	users map[string]*models.User
	alpha models.Scope
	beta1 models.Scope
	ev    *models.Event
}

func newWorld(t *testing.T, db *gorm.DB) *world {
	w := &world{ctx: context.Background(), st: store.New(db), db: db, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), users: map[string]*models.User{}}
	w.st.Now = func() time.Time { return w.now }
	for _, u := range []models.User{
		{Username: "owner", IsActive: true}, {Username: "member", IsActive: true},
		{Username: "staff", IsStaff: true, IsActive: true}, {Username: "support", IsSupport: true, IsActive: true},
		{Username: "gone", IsStaff: true, IsActive: false},
	} {
		u := u
		require.NoError(t, w.st.CreateUser(w.ctx, &u, ""))
		w.users[u.Username] = &u
	}
	insert := func(table string, cols map[string]any) int64 {
		require.NoError(t, db.Table(table).Create(cols).Error)
		var id int64
		require.NoError(t, db.Table(table).Where("uuid = ?", cols["uuid"]).Pluck("id", &id).Error)
		return id
	}
	w.alpha = models.Scope{Type: models.ScopeCustomer, ID: insert("customers", map[string]any{"uuid": models.NewUUID(), "name": "Alpha",
		"accounting_start_date": w.now, "created": w.now, "modified": w.now})}
	beta := insert("customers", map[string]any{"uuid": models.NewUUID(), "name": "Beta", "accounting_start_date": w.now, "created": w.now, "modified": w.now})
	w.beta1 = models.Scope{Type: models.ScopeProject, ID: insert("projects", map[string]any{"uuid": models.NewUUID(), "customer_id": beta,
		"name": "beta-1", "created": w.now, "modified": w.now})}
	for user, grant := range map[string]struct {
		role  string
		scope models.Scope
	}{"owner": {models.RoleCustomerOwner, w.alpha}, "member": {models.RoleProjectMember, w.beta1}} {
		r, err := w.st.RoleByName(w.ctx, grant.role)
		require.NoError(t, err)
		insert("user_roles", map[string]any{"uuid": models.NewUUID(), "user_id": w.users[user].ID, "role_id": r.ID,
			"scope_type": grant.scope.Type, "scope_id": grant.scope.ID, "created": w.now, "modified": w.now, "is_active": true})
	}
	w.ev = w.emit(t, "customer_update_succeeded", "Customer Alpha has been updated.", w.alpha)
	return w
}

func (w *world) emit(t *testing.T, typ, msg string, scopes ...models.Scope) *models.Event {
	ev := &models.Event{EventType: typ, Message: msg, Scopes: scopes, Context: map[string]any{"customer_name": "Alpha"}}
	require.NoError(t, w.st.Tx(w.ctx, func(tx *store.Store) error { return tx.EmitEvent(w.ctx, ev) }))
	return ev
}

func (w *world) hook(t *testing.T, user string, h store.Hook) *store.Hook {
	h.UserID = w.users[user].ID
	if h.HookType == "" {
		h.HookType = store.HookTypeWeb
	}
	require.NoError(t, w.st.CreateHook(w.ctx, &h))
	return &h
}

func appErr(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %v", err)
	return ae
}

func TestMatchHooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db)
		a := &activities.Hooks{Store: w.st}
		byType := store.Hook{IsActive: true, EventTypes: []string{"customer_update_succeeded"}, DestinationURL: "http://x.example/"}
		byGroup := store.Hook{IsActive: true, EventGroups: []string{"customers"}, DestinationURL: "http://x.example/"}
		ownerType := w.hook(t, "owner", byType)
		ownerGroupEmail := w.hook(t, "owner", store.Hook{HookType: store.HookTypeEmail, IsActive: true, EventGroups: []string{"customers"}, Email: "o@example.com"})
		w.hook(t, "owner", store.Hook{IsActive: false, EventTypes: []string{"customer_update_succeeded"}}) // inactive
		w.hook(t, "owner", store.Hook{IsActive: true, EventTypes: []string{"project_update_succeeded"}})   // other type
		w.hook(t, "owner", store.Hook{IsActive: true, EventGroups: []string{"projects"}})                  // other group
		w.hook(t, "member", byType)                                                                        // cannot see Alpha
		staff := w.hook(t, "staff", byGroup)                                                               // sees all
		support := w.hook(t, "support", byType)                                                            // sees all
		w.hook(t, "gone", byType)                                                                          // inactive user

		got, err := a.MatchHooks(w.ctx, w.ev.ID)
		require.NoError(t, err)
		require.Equal(t, []activities.MatchedHook{
			{ID: ownerType.ID, Type: store.HookTypeWeb},
			{ID: ownerGroupEmail.ID, Type: store.HookTypeEmail},
			{ID: staff.ID, Type: store.HookTypeWeb},
			{ID: support.ID, Type: store.HookTypeWeb},
		}, got)

		// A type outside Waldur's list still matches through its group.
		users := w.hook(t, "member", store.Hook{IsActive: true, EventGroups: []string{"users"}})
		self := w.emit(t, "user_profile_changed", "Profile changed.", models.Scope{Type: models.ScopeUser, ID: w.users["member"].ID})
		got, err = a.MatchHooks(w.ctx, self.ID)
		require.NoError(t, err)
		require.Equal(t, []activities.MatchedHook{{ID: users.ID, Type: store.HookTypeWeb}}, got)

		none := w.emit(t, "role_granted", "Nobody wants this.", w.beta1)
		got, err = a.MatchHooks(w.ctx, none.ID)
		require.NoError(t, err)
		require.Empty(t, got)

		_, err = a.MatchHooks(w.ctx, 987654)
		ae := appErr(t, err)
		require.Equal(t, activities.ErrEventNotFound, ae.Type())
		require.True(t, ae.NonRetryable())
	})
}

// receiver records web hook requests and answers with the statuses given, then 200.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	bodies   [][]byte
	types    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, b)
	r.types = append(r.types, req.Header.Get("Content-Type"))
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	for k, vs := range r.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
}

// loopback lets the default hook client reach this test's servers, as
// WALDUR_HOOK_ALLOWED_NETWORKS=127.0.0.0/8,::1 would.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func TestDeliverWebHook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db)
		published := func(id int64) *time.Time {
			h, err := w.st.HookByID(w.ctx, id)
			require.NoError(t, err)
			return h.LastPublished
		}
		cases := []struct {
			name      string
			status    int
			header    http.Header
			retryable bool // an error that Temporal retries
			ok        bool
			delay     time.Duration
		}{
			{"200", 200, nil, false, true, 0},
			{"204", 204, nil, false, true, 0},
			{"500 is retried", 500, nil, true, false, 0},
			{"502 is retried", 502, nil, true, false, 0},
			{"503 with Retry-After", 503, http.Header{"Retry-After": {"7"}}, true, false, 7 * time.Second},
			{"408 is retried", 408, nil, true, false, 0},
			{"429 with a long Retry-After", 429, http.Header{"Retry-After": {"3600"}}, true, false, 5 * time.Minute},
			{"404 is not retried", 404, nil, false, false, 0},
			{"400 is not retried", 400, nil, false, false, 0},
			{"410 is not retried", 410, nil, false, false, 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rec := &receiver{statuses: []int{c.status}, header: c.header}
				srv := httptest.NewServer(rec)
				defer srv.Close()
				h := w.hook(t, "owner", store.Hook{IsActive: true, EventTypes: []string{"customer_update_succeeded"}, DestinationURL: srv.URL + "/in", ContentType: store.HookContentJSON})
				a := &activities.Hooks{Store: w.st, HTTP: srv.Client(), Now: func() time.Time { return w.now.Add(time.Minute) }}
				err := a.DeliverWebHook(w.ctx, h.ID, w.ev.ID)
				require.Len(t, rec.bodies, 1)
				if c.ok {
					require.NoError(t, err)
					require.NotNil(t, published(h.ID))
					require.True(t, w.now.Add(time.Minute).Equal(*published(h.ID)))
					return
				}
				ae := appErr(t, err)
				require.Nil(t, published(h.ID), "a failed delivery is not a publication")
				require.Equal(t, !c.retryable, ae.NonRetryable())
				if c.retryable {
					require.Equal(t, activities.ErrWebHookFailed, ae.Type())
				} else {
					require.Equal(t, activities.ErrWebHookRejected, ae.Type())
				}
				require.Equal(t, c.delay, ae.NextRetryDelay())
			})
		}

		t.Run("JSON body", func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			h := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: srv.URL, ContentType: store.HookContentJSON})
			require.NoError(t, (&activities.Hooks{Store: w.st, AllowedNetworks: loopback}).DeliverWebHook(w.ctx, h.ID, w.ev.ID))
			require.Equal(t, "application/json", rec.types[0])
			var p activities.WebHookPayload
			require.NoError(t, json.Unmarshal(rec.bodies[0], &p))
			require.Equal(t, w.ev.UUID.String(), p.UUID)
			require.Equal(t, "customer_update_succeeded", p.EventType)
			require.Equal(t, "Customer Alpha has been updated.", p.Message)
			require.Equal(t, "Alpha", p.Context["customer_name"])
			require.Equal(t, "customers", p.Context["event_group"])
			created, err := time.Parse(time.RFC3339Nano, p.Created)
			require.NoError(t, err)
			require.True(t, w.ev.Created.Equal(created))
		})

		t.Run("form body", func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			h := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: srv.URL, ContentType: store.HookContentForm})
			require.NoError(t, (&activities.Hooks{Store: w.st, AllowedNetworks: loopback}).DeliverWebHook(w.ctx, h.ID, w.ev.ID))
			require.Equal(t, "application/x-www-form-urlencoded", rec.types[0])
			form, err := url.ParseQuery(string(rec.bodies[0]))
			require.NoError(t, err)
			require.Equal(t, w.ev.UUID.String(), form.Get("uuid"))
			require.Equal(t, "customer_update_succeeded", form.Get("event_type"))
			require.Equal(t, "Customer Alpha has been updated.", form.Get("message"))
			var ctx map[string]any
			require.NoError(t, json.Unmarshal([]byte(form.Get("context")), &ctx))
			require.Equal(t, "Alpha", ctx["customer_name"])
		})

		t.Run("network error is retried", func(t *testing.T) {
			srv := httptest.NewServer(&receiver{})
			addr := srv.URL
			srv.Close()
			h := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: addr})
			ae := appErr(t, (&activities.Hooks{Store: w.st, AllowedNetworks: loopback}).DeliverWebHook(w.ctx, h.ID, w.ev.ID))
			require.False(t, ae.NonRetryable())
			require.Equal(t, activities.ErrWebHookFailed, ae.Type())
		})

		t.Run("deleted, deactivated hook or deleted event: nothing to send", func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			a := &activities.Hooks{Store: w.st, AllowedNetworks: loopback}
			off := w.hook(t, "owner", store.Hook{IsActive: false, DestinationURL: srv.URL})
			require.NoError(t, a.DeliverWebHook(w.ctx, off.ID, w.ev.ID))
			del := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: srv.URL})
			require.NoError(t, w.st.DeleteHook(w.ctx, del.ID))
			require.NoError(t, a.DeliverWebHook(w.ctx, del.ID, w.ev.ID))
			on := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: srv.URL})
			require.NoError(t, a.DeliverWebHook(w.ctx, on.ID, 987654))
			require.Empty(t, rec.bodies)
		})
	})
}

// TestWebHookRefusesInternalAddresses: the reproducer (a hook pointed at
// a loopback service, e.g. the Temporal UI) and its variants. By default
// the hook client refuses loopback addresses when it connects, whether
// the URL names an address or a host name that resolves to one, and a
// redirect from an allowed address to a refused one; the refusal is final
// (not retried) and the service receives nothing. Allowed networks pass.
func TestWebHookRefusesInternalAddresses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := newWorld(t, db)
		internal := &receiver{}
		srv := httptest.NewServer(internal)
		defer srv.Close()
		_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
		require.NoError(t, err)
		refused := func(a *activities.Hooks, url string) {
			t.Helper()
			h := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: url})
			ae := appErr(t, a.DeliverWebHook(w.ctx, h.ID, w.ev.ID))
			require.True(t, ae.NonRetryable(), url)
			require.Equal(t, activities.ErrWebHookRejected, ae.Type())
			require.Contains(t, ae.Error(), "not allowed")
		}
		def := &activities.Hooks{Store: w.st}
		refused(def, srv.URL+"/api/namespaces")
		refused(def, "http://localhost:"+port+"/")
		refused(def, "http://[::ffff:127.0.0.1]:"+port+"/")
		require.Empty(t, internal.bodies, "nothing reached the loopback service")

		// An allowed address redirecting to a refused one.
		other, err := net.Listen("tcp", "127.0.0.2:0")
		require.NoError(t, err)
		behind := httptest.NewUnstartedServer(internal)
		behind.Listener = other
		behind.Start()
		defer behind.Close()
		hop := httptest.NewServer(http.RedirectHandler(behind.URL+"/", http.StatusTemporaryRedirect))
		defer hop.Close()
		one := &activities.Hooks{Store: w.st, AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		refused(one, hop.URL)
		require.Empty(t, internal.bodies)

		ok := &activities.Hooks{Store: w.st, AllowedNetworks: loopback}
		h := w.hook(t, "owner", store.Hook{IsActive: true, DestinationURL: "http://localhost:" + port + "/"})
		require.NoError(t, ok.DeliverWebHook(w.ctx, h.ID, w.ev.ID))
		require.Len(t, internal.bodies, 1, "an allowed network is reached")
	})
}

func TestSendEmailHookToLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db)
		var buf bytes.Buffer
		a := &activities.Hooks{Store: w.st, Log: slog.New(slog.NewJSONHandler(&buf, nil))}
		h := w.hook(t, "owner", store.Hook{HookType: store.HookTypeEmail, IsActive: true, Email: "olga@example.com"})
		require.NoError(t, a.SendEmailHook(w.ctx, h.ID, w.ev.ID))
		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
		require.Equal(t, "INFO", line["level"])
		require.Equal(t, "olga@example.com", line["to"])
		require.Equal(t, "Notifications from Waldur", line["subject"])
		require.Contains(t, line["body"], "Customer Alpha has been updated.")
		got, err := w.st.HookByID(w.ctx, h.ID)
		require.NoError(t, err)
		require.NotNil(t, got.LastPublished)
	})
}

// fakeSMTP is a minimal SMTP server: it records one message per
// connection and refuses recipients at refuse.example.
type fakeSMTP struct {
	addr string
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func startSMTP(t *testing.T) *fakeSMTP {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	s := &fakeSMTP{addr: l.Addr().String()}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch cmd {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-fake\r\n250 8BITMIME")
		case "MAIL":
			_ = tp.PrintfLine("250 OK")
		case "RCPT":
			if strings.Contains(line, "refuse.example") {
				_ = tp.PrintfLine("550 no such user")
				continue
			}
			s.mu.Lock()
			s.rcpt = append(s.rcpt, line)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 OK")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(b))
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func TestSendEmailHookThroughSMTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db)
		srv := startSMTP(t)
		host, port, err := net.SplitHostPort(srv.addr)
		require.NoError(t, err)
		var p int
		for _, r := range port {
			p = p*10 + int(r-'0')
		}
		a := &activities.Hooks{Store: w.st, SMTP: activities.SMTPConfig{Host: host, Port: p, From: "waldur@example.com"}}
		h := w.hook(t, "owner", store.Hook{HookType: store.HookTypeEmail, IsActive: true, Email: "olga@example.com"})
		require.NoError(t, a.SendEmailHook(w.ctx, h.ID, w.ev.ID))
		srv.mu.Lock()
		require.Len(t, srv.msgs, 1)
		msg := srv.msgs[0]
		require.Equal(t, []string{"RCPT TO:<olga@example.com>"}, srv.rcpt)
		srv.mu.Unlock()
		hdr, err := textproto.NewReader(bufio.NewReader(strings.NewReader(msg))).ReadMIMEHeader()
		require.NoError(t, err)
		require.Equal(t, "Notifications from Waldur", hdr.Get("Subject"))
		require.Equal(t, "olga@example.com", hdr.Get("To"))
		require.Equal(t, "waldur@example.com", hdr.Get("From"))
		require.Contains(t, msg, "Customer Alpha has been updated.")
		got, err := w.st.HookByID(w.ctx, h.ID)
		require.NoError(t, err)
		require.NotNil(t, got.LastPublished)

		refused := w.hook(t, "owner", store.Hook{HookType: store.HookTypeEmail, IsActive: true, Email: "x@refuse.example"})
		ae := appErr(t, a.SendEmailHook(w.ctx, refused.ID, w.ev.ID))
		require.True(t, ae.NonRetryable())
		require.Equal(t, activities.ErrEmailRejected, ae.Type())

		down := &activities.Hooks{Store: w.st, SMTP: activities.SMTPConfig{Host: "127.0.0.1", Port: 1, From: "waldur@example.com"}}
		err = down.SendEmailHook(w.ctx, h.ID, w.ev.ID)
		require.Error(t, err)
		var ae2 *temporal.ApplicationError
		require.False(t, errors.As(err, &ae2) && ae2.NonRetryable(), "a server that is down is retried")
	})
}

func TestMarkDispatched(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		w := newWorld(t, db)
		a := &activities.Hooks{Store: w.st}
		require.NoError(t, a.MarkDispatched(w.ctx, w.ev.ID))
		require.NoError(t, a.MarkDispatched(w.ctx, w.ev.ID))
		r, err := w.st.EventByID(w.ctx, w.ev.ID)
		require.NoError(t, err)
		require.True(t, r.HooksDispatched)
	})
}
