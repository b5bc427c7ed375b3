package activities

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/internal/egress"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// DeliverEventHooksWorkflow is the registered name of the workflow that
// delivers one event to its hooks (workflows.DeliverEventHooks).
const DeliverEventHooksWorkflow = "DeliverEventHooks"

// EventHooksWorkflowID is the workflow ID of an event's delivery: one
// delivery workflow per event.
func EventHooksWorkflowID(event models.UUID) string { return "event-hooks-" + event.String() }

// Application error types the hook activities return.
const (
	// ErrEventNotFound: the event to deliver does not exist (non-retryable).
	ErrEventNotFound = "EventNotFound"
	// ErrWebHookRejected: the receiver answered with a 4xx other than 408
	// and 429, so sending the same request again will not help (non-retryable).
	ErrWebHookRejected = "WebHookRejected"
	// ErrWebHookFailed: a network error or a 408, 429, 3xx or 5xx answer (retried).
	ErrWebHookFailed = "WebHookFailed"
	// ErrEmailRejected: the SMTP server refused the message permanently (5xx, non-retryable).
	ErrEmailRejected = "EmailRejected"
)

// DeliverEventHooksInput is the input of the DeliverEventHooks workflow.
type DeliverEventHooksInput struct {
	// EventID is the internal id of the event (events.id).
	EventID int64
}

// DeliverEventHooksResult is what DeliverEventHooks returns.
type DeliverEventHooksResult struct {
	// Matched hooks, of which Delivered succeeded and Failed gave up
	// (retries exhausted or a permanent refusal).
	Matched, Delivered, Failed int
}

// SMTPConfig is the mail server email hooks are sent through. Without Host,
// Port and From, email hooks are written to the log instead.
type SMTPConfig struct {
	Host     string
	Port     int
	From     string
	Username string
	Password string
	// Subject of hook emails; default "Notifications from Waldur" (Waldur's NOTIFICATION_SUBJECT).
	Subject string
}

// Enabled reports whether mail is sent through SMTP.
func (c SMTPConfig) Enabled() bool { return c.Host != "" && c.Port > 0 && c.From != "" }

// Hooks holds the activities that deliver events to web and email hooks
// and the outbox dispatcher that starts the deliveries.
type Hooks struct {
	Store *store.Store
	// HTTP sends web hooks; nil means a client with a 30 s timeout that
	// refuses loopback, link-local and private addresses when it connects
	// (internal/egress) except in AllowedNetworks.
	HTTP *http.Client
	// AllowedNetworks are the internal networks the default client may
	// reach (WALDUR_HOOK_ALLOWED_NETWORKS).
	AllowedNetworks []netip.Prefix
	SMTP            SMTPConfig
	// Now is the clock for last_published; nil means time.Now in UTC.
	Now func() time.Time
	// Log receives email hooks when SMTP is not configured; nil means slog.Default().
	Log *slog.Logger
	// Temporal starts the delivery workflows in DispatchPendingEvents; nil
	// means the client of the worker running the activity.
	Temporal client.Client

	guarded     sync.Once
	guardedHTTP *http.Client
}

func (a *Hooks) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now().UTC()
}

func (a *Hooks) logger() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

func (a *Hooks) httpClient() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	a.guarded.Do(func() { a.guardedHTTP = egress.Guard{Allowed: a.AllowedNetworks}.HTTPClient(30 * time.Second) })
	return a.guardedHTTP
}

// MatchedHook is a hook an event is to be delivered to.
type MatchedHook struct {
	ID   int64
	Type string // store.HookTypeWeb or store.HookTypeEmail
}

// MatchHooks returns the active hooks of active users that want the event:
// its type is one of the hook's event types or its group one of the hook's
// groups, and the hook's owner can see one of the scopes the event is fed
// to (staff and support see every event), as Waldur's process_event.
// A missing event is a non-retryable ErrEventNotFound.
func (a *Hooks) MatchHooks(ctx context.Context, eventID int64) ([]MatchedHook, error) {
	ev, err := a.Store.EventByID(ctx, eventID)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("event %d not found", eventID), ErrEventNotFound, err)
		}
		return nil, err
	}
	hooks, err := a.Store.ActiveHooks(ctx)
	if err != nil {
		return nil, err
	}
	var candidates []store.Hook
	var owners []int64
	for _, h := range hooks {
		if h.Matches(ev.EventType) {
			candidates = append(candidates, h)
			owners = append(owners, h.UserID)
		}
	}
	if len(candidates) == 0 {
		return []MatchedHook{}, nil
	}
	users, err := a.Store.HookAuthors(ctx, owners)
	if err != nil {
		return nil, err
	}
	visible := map[int64]bool{}
	out := []MatchedHook{}
	for _, h := range candidates {
		ok, seen := visible[h.UserID]
		if !seen {
			if ok, err = a.Store.EventVisibleTo(ctx, ev.ID, users[h.UserID]); err != nil {
				return nil, err
			}
			visible[h.UserID] = ok
		}
		if ok {
			out = append(out, MatchedHook{ID: h.ID, Type: h.HookType})
		}
	}
	return out, nil
}

// hookAndEvent loads what a delivery needs; skip is set when there is
// nothing to deliver any more (the hook was deleted or deactivated, or the
// event deleted, since the match).
func (a *Hooks) hookAndEvent(ctx context.Context, hookID, eventID int64) (h *store.Hook, ev *store.EventRecord, skip bool, err error) {
	h, err = a.Store.HookByID(ctx, hookID)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	if !h.IsActive {
		return nil, nil, true, nil
	}
	ev, err = a.Store.EventByID(ctx, eventID)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return h, ev, false, nil
}

// WebHookPayload is the body a web hook receives.
type WebHookPayload struct {
	Created   string         `json:"created"`
	Message   string         `json:"message"`
	Context   map[string]any `json:"context"`
	EventType string         `json:"event_type"`
	UUID      string         `json:"uuid"`
}

func payloadOf(ev *store.EventRecord) WebHookPayload {
	return WebHookPayload{Created: ev.Created.UTC().Format(time.RFC3339Nano), Message: ev.Message, Context: ev.ContextMap(),
		EventType: ev.EventType, UUID: ev.UUID.String()}
}

// DeliverWebHook POSTs the event to the hook's destination URL, as JSON or
// as a form (the context JSON-encoded in one field) by the hook's content
// type, and records last_published on a 2xx answer. A 4xx answer other
// than 408 and 429 is a non-retryable ErrWebHookRejected; a network error
// or any other answer is a retryable ErrWebHookFailed (honouring
// Retry-After in seconds on 429 and 503). A deleted or deactivated hook is
// skipped.
func (a *Hooks) DeliverWebHook(ctx context.Context, hookID, eventID int64) error {
	h, ev, skip, err := a.hookAndEvent(ctx, hookID, eventID)
	if err != nil || skip {
		return err
	}
	p := payloadOf(ev)
	var body []byte
	contentType := "application/json"
	if h.ContentType == store.HookContentForm {
		ctxJSON, err := json.Marshal(p.Context)
		if err != nil {
			return temporal.NewNonRetryableApplicationError("encode context", ErrWebHookRejected, err)
		}
		body = []byte(url.Values{"created": {p.Created}, "message": {p.Message}, "context": {string(ctxJSON)},
			"event_type": {p.EventType}, "uuid": {p.UUID}}.Encode())
		contentType = "application/x-www-form-urlencoded"
	} else if body, err = json.Marshal(p); err != nil {
		return temporal.NewNonRetryableApplicationError("encode payload", ErrWebHookRejected, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.DestinationURL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad destination URL", ErrWebHookRejected, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Waldur-Webhook")
	resp, err := a.httpClient().Do(req)
	if errors.Is(err, egress.ErrRefused) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("web hook %s: %v", h.UUID, err), ErrWebHookRejected, err)
	}
	if err != nil {
		return temporal.NewApplicationErrorWithCause(fmt.Sprintf("web hook %s: %v", h.UUID, err), ErrWebHookFailed, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return a.Store.SetHookPublished(ctx, h.ID, a.now())
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("web hook %s: %s refused with %d", h.UUID, h.DestinationURL, s), ErrWebHookRejected, nil)
	default:
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("web hook %s: %s answered %d", h.UUID, h.DestinationURL, s), ErrWebHookFailed,
			temporal.ApplicationErrorOptions{NextRetryDelay: retryAfter(resp)})
	}
}

// retryAfter reads a Retry-After in seconds on 429 and 503 (at most 5 min); 0 when absent.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 5*time.Minute)
}

// SendEmailHook mails the event to the hook's address through SMTP when
// configured, or writes the message to the log at info level otherwise, and
// records last_published. A permanent SMTP refusal (5xx) is a
// non-retryable ErrEmailRejected; other failures are retried.
func (a *Hooks) SendEmailHook(ctx context.Context, hookID, eventID int64) error {
	h, ev, skip, err := a.hookAndEvent(ctx, hookID, eventID)
	if err != nil || skip || h.Email == "" {
		return err
	}
	subject := a.SMTP.Subject
	if subject == "" {
		subject = "Notifications from Waldur"
	}
	text := fmt.Sprintf("%s\n\nEvent: %s\nTime: %s\nID: %s\n", ev.Message, ev.EventType, ev.Created.UTC().Format(time.RFC3339), ev.UUID)
	if !a.SMTP.Enabled() {
		a.logger().InfoContext(ctx, "email hook (SMTP not configured)", "to", h.Email, "subject", subject, "body", text,
			"hook_uuid", h.UUID.String(), "event_uuid", ev.UUID.String())
		return a.Store.SetHookPublished(ctx, h.ID, a.now())
	}
	msg := buildMail(a.SMTP.From, h.Email, subject, text, a.now(), ev.UUID)
	if err := sendMail(ctx, a.SMTP, h.Email, msg); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code >= 500 {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("email hook %s: %v", h.UUID, err), ErrEmailRejected, err)
		}
		return err
	}
	return a.Store.SetHookPublished(ctx, h.ID, a.now())
}

// buildMail renders a plain-text RFC 5322 message.
func buildMail(from, to, subject, text string, now time.Time, id models.UUID) []byte {
	clean := func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", clean(from))
	fmt.Fprintf(&b, "To: %s\r\n", clean(to))
	fmt.Fprintf(&b, "Subject: %s\r\n", clean(subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@waldur>\r\n", id)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String())
}

// sendMail is net/smtp's SendMail with a context: dial, STARTTLS when
// offered, AUTH PLAIN when a username is set, one recipient.
func sendMail(ctx context.Context, cfg SMTPConfig, to string, msg []byte) error {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		_ = conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// MarkDispatched records that the event's hooks were dispatched.
func (a *Hooks) MarkDispatched(ctx context.Context, eventID int64) error {
	return a.Store.MarkEventsDispatched(ctx, eventID)
}

// DispatchResult counts what one dispatch did.
type DispatchResult struct {
	// Started delivery workflows; AlreadyStarted found their workflow
	// running or completed (a second dispatch of the same event); Skipped
	// events matched no active hook and were marked dispatched directly.
	Started, AlreadyStarted, Skipped int
}

func (r *DispatchResult) add(o DispatchResult) {
	r.Started += o.Started
	r.AlreadyStarted += o.AlreadyStarted
	r.Skipped += o.Skipped
}

// DispatchPendingEvents is the outbox relay: it takes up to limit events
// whose hooks were not dispatched yet, oldest first, and starts a
// DeliverEventHooks workflow on taskQueue for each event that some active
// hook could want (by type or group), with the workflow ID
// event-hooks-<event uuid>, so starting the same event twice is a no-op
// (counted as AlreadyStarted). Events no active hook wants are marked
// dispatched without a workflow. Once Temporal holds an event's workflow,
// the event is marked dispatched too, so events whose deliveries are still
// retrying do not hold back newer ones; the workflow marks it again when
// it ends. On an error the events handled so far stay marked.
func DispatchPendingEvents(ctx context.Context, c client.Client, st *store.Store, taskQueue string, limit int) (res DispatchResult, err error) {
	if limit <= 0 {
		limit = 100
	}
	events, err := st.PendingEvents(ctx, limit)
	if err != nil || len(events) == 0 {
		return res, err
	}
	hooks, err := st.ActiveHooks(ctx)
	if err != nil {
		return res, err
	}
	var done []int64
	defer func() {
		// Best effort with a fresh context: the loop may stop on a cancelled one.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if merr := st.MarkEventsDispatched(mctx, done...); merr != nil && err == nil {
			err = merr
		}
	}()
	for _, ev := range events {
		wanted := false
		for i := range hooks {
			if hooks[i].Matches(ev.EventType) {
				wanted = true
				break
			}
		}
		if !wanted {
			res.Skipped++
			done = append(done, ev.ID)
			continue
		}
		_, serr := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                    EventHooksWorkflowID(ev.UUID),
			TaskQueue:             taskQueue,
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
			// A running delivery of the same event is a conflict, reported
			// (with a closed one) as WorkflowExecutionAlreadyStarted.
			WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
		}, DeliverEventHooksWorkflow, DeliverEventHooksInput{EventID: ev.ID})
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case serr == nil:
			res.Started++
		case errors.As(serr, &already):
			res.AlreadyStarted++
		default:
			err = fmt.Errorf("start %s: %w", EventHooksWorkflowID(ev.UUID), serr)
			return res, err
		}
		done = append(done, ev.ID)
	}
	return res, err
}

// DispatchPendingEvents is the activity of the DispatchEvents workflow: it
// relays pending events in batches of limit until none is left (at most
// 50 batches a run), starting the deliveries on the activity's own task
// queue and heartbeating after each batch.
func (a *Hooks) DispatchPendingEvents(ctx context.Context, limit int) (DispatchResult, error) {
	c := a.Temporal
	if c == nil {
		c = activity.GetClient(ctx)
	}
	if limit <= 0 {
		limit = 100
	}
	queue := activity.GetInfo(ctx).TaskQueue
	var total DispatchResult
	for range 50 {
		r, err := DispatchPendingEvents(ctx, c, a.Store, queue, limit)
		total.add(r)
		if err != nil {
			return total, err
		}
		activity.RecordHeartbeat(ctx, total)
		if r.Started+r.AlreadyStarted+r.Skipped < limit {
			break
		}
	}
	return total, nil
}

// SendMail sends one plain-text message to one address through cfg (the
// sending of the email hooks, for senders outside the hooks: the
// marketplace policies' notify_external_user).
func SendMail(ctx context.Context, cfg SMTPConfig, to, subject, text string, now time.Time, id models.UUID) error {
	return sendMail(ctx, cfg, to, buildMail(cfg.From, to, subject, text, now, id))
}
