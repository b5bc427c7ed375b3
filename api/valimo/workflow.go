package valimo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// Method is the registration_method of the users a Valimo login creates.
const Method = "valimo"

// EventLoggedIn is the event of a successful login. Waldur's event_type
// enum (OpenAPI 8.0.5) has no Mobile ID login type, and clients generated
// from the file refuse a value outside it, so the event is the enum's
// username login; its message names Mobile ID.
const EventLoggedIn = "auth_logged_in_with_username"

// Messages of ended logins.
const (
	msgUnavailable = "Mobile ID service is unavailable, please try again later."
	msgTimedOut    = "Login timed out."
	msgNoCode      = "The signer's certificate names no personal code."
)

// WorkflowID is the workflow of a login: one per result.
func WorkflowID(id models.UUID) string { return "valimo-login-" + id.String() }

// apTransID is the AP's transaction id of a login (an NCName).
func apTransID(id models.UUID) string { return "W" + id.String() }

// LoginInput starts ValimoLogin.
type LoginInput struct {
	UUID models.UUID
	// Timeout is how long the user has to sign; PollInterval the wait
	// between two status queries.
	Timeout, PollInterval time.Duration
}

// SendInput is ValimoSend's; PollInput ValimoPoll's; FinishInput
// ValimoFinish's.
type (
	SendInput struct {
		UUID    models.UUID
		Timeout time.Duration
	}
	SendResult struct {
		MSSPTransID string
		// Done: the MSSP refused the request and the result says so.
		Done bool
	}
	PollInput struct {
		UUID        models.UUID
		MSSPTransID string
	}
	FinishInput struct {
		UUID                  models.UUID
		State, Details, Error string
	}
)

// Activities do the I/O of ValimoLogin and CleanupValimo.
type Activities struct {
	Store *Store
	// Client reaches the MSSP; nil when the login is not configured.
	Client *Client
	// Message is the text signed ({code}: the result's code); Label names
	// the method in events and messages.
	Message, Label string
	Log            *slog.Logger
	// Retention is how long results are kept (0: an hour).
	Retention time.Duration
}

// Register adds the workflows and their activities to a core worker.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflow(ValimoLogin)
	w.RegisterWorkflow(CleanupValimo)
	w.RegisterActivity(a)
}

// retry is the policy of the calls to the MSSP: a service that does not
// answer (network, HTTP 5xx without an MSS fault) is tried four times.
var retry = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
	MaximumAttempts: 4, NonRetryableErrorTypes: []string{errNotConfigured}}

const errNotConfigured = "ValimoNotConfigured"

// ValimoLogin runs one login: the signature request (MSS_Signature,
// asynchronous), then status queries every PollInterval until the user
// signs (the user found or created by the certificate's personal code, the
// token issued: OK), cancels or lets it expire (Canceled), or the service
// fails for good (Erred). Polls for Timeout and as long again (a minute
// at most) before ending the login itself.
func ValimoLogin(ctx workflow.Context, in LoginInput) error {
	if in.PollInterval <= 0 {
		in.PollInterval = 3 * time.Second
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 40 * time.Second, RetryPolicy: retry})
	var a *Activities
	finish := func(state, details, msg string) error {
		return workflow.ExecuteActivity(ctx, a.ValimoFinish, FinishInput{UUID: in.UUID, State: state, Details: details, Error: msg}).Get(ctx, nil)
	}
	var sent SendResult
	if err := workflow.ExecuteActivity(ctx, a.ValimoSend, SendInput{UUID: in.UUID, Timeout: in.Timeout}).Get(ctx, &sent); err != nil {
		workflow.GetLogger(ctx).Warn("Valimo signature request failed", "uuid", in.UUID.String(), "err", err)
		return finish(StateErred, "", msgUnavailable)
	}
	if sent.Done {
		return nil
	}
	// The MSSP ends the transaction after Timeout; the workflow waits as
	// long again (a minute at most) for it to say so.
	grace := min(in.Timeout, time.Minute)
	deadline := workflow.Now(ctx).Add(in.Timeout + grace)
	for {
		if err := workflow.Sleep(ctx, in.PollInterval); err != nil {
			return err
		}
		var done bool
		err := workflow.ExecuteActivity(ctx, a.ValimoPoll, PollInput{UUID: in.UUID, MSSPTransID: sent.MSSPTransID}).Get(ctx, &done)
		if err != nil {
			workflow.GetLogger(ctx).Warn("Valimo status query failed", "uuid", in.UUID.String(), "err", err)
			return finish(StateErred, "", msgUnavailable)
		}
		if done {
			return nil
		}
		if workflow.Now(ctx).After(deadline) {
			return finish(StateCanceled, msgTimedOut, "")
		}
	}
}

func (a *Activities) client() (*Client, error) {
	if a.Client == nil {
		return nil, temporal.NewNonRetryableApplicationError("Valimo login is not configured", errNotConfigured, nil)
	}
	return a.Client, nil
}

func (a *Activities) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// ValimoSend sends the login's signature request and records its
// transaction (Processing); a refusal ends the login (Done).
func (a *Activities) ValimoSend(ctx context.Context, in SendInput) (SendResult, error) {
	c, err := a.client()
	if err != nil {
		return SendResult{}, err
	}
	r, err := a.Store.Get(ctx, in.UUID)
	if models.IsCode(err, models.CodeNotFound) {
		return SendResult{Done: true}, nil
	}
	if err != nil {
		return SendResult{}, err
	}
	if Final(r.State) {
		return SendResult{Done: true}, nil
	}
	if r.State == StateProcessing && r.BackendTransactionID != "" { // a retried workflow task
		return SendResult{MSSPTransID: r.BackendTransactionID}, nil
	}
	text := strings.ReplaceAll(a.Message, "{code}", r.Message)
	id, err := c.Sign(ctx, apTransID(r.UUID), r.Phone, text, in.Timeout)
	var f *Fault
	if errors.As(err, &f) {
		return SendResult{Done: true}, a.end(ctx, r.UUID, f)
	}
	if err != nil {
		return SendResult{}, err
	}
	if err := a.Store.SetProcessing(ctx, r.UUID, id); err != nil {
		return SendResult{}, err
	}
	return SendResult{MSSPTransID: id}, nil
}

// ValimoPoll queries the transaction's status once: true when the login
// has ended (signed: the user provisioned and the token issued, OK;
// canceled, expired or refused: Canceled or Erred).
func (a *Activities) ValimoPoll(ctx context.Context, in PollInput) (bool, error) {
	c, err := a.client()
	if err != nil {
		return false, err
	}
	r, err := a.Store.Get(ctx, in.UUID)
	if models.IsCode(err, models.CodeNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if Final(r.State) {
		return true, nil
	}
	st, err := c.Status(ctx, apTransID(r.UUID), in.MSSPTransID)
	var f *Fault
	switch {
	case errors.As(err, &f):
		return true, a.end(ctx, r.UUID, f)
	case err != nil:
		return false, err
	case st.Code == CodeOutstanding:
		return false, nil
	}
	signer, err := SignerOf(st.Certificate)
	if err != nil {
		a.log().Warn("Valimo signature without a personal code", "uuid", r.UUID.String(), "subject", st.Certificate.Subject.String())
		return true, a.Store.Finish(ctx, r.UUID, StateErred, "", msgNoCode)
	}
	err = a.Store.Succeed(ctx, r.UUID, func(tx *store.Store) (*models.User, error) {
		return federated.ProvisionPerson(ctx, tx, federated.Login{Method: Method, Label: a.Label, EventType: EventLoggedIn},
			federated.Person{CivilNumber: signer.PersonalCode, FirstName: signer.GivenName, LastName: signer.Surname, PhoneNumber: r.Phone})
	})
	if err != nil {
		var me *models.Error
		if errors.As(err, &me) && (me.Code == models.CodeUnauthorized || me.Code == models.CodeInvalid) {
			return true, a.Store.Finish(ctx, r.UUID, StateErred, "", me.Message)
		}
		return false, err
	}
	a.log().Info("Valimo login", "uuid", r.UUID.String())
	return true, nil
}

// ValimoFinish ends a login not ended yet.
func (a *Activities) ValimoFinish(ctx context.Context, in FinishInput) error {
	return a.Store.Finish(ctx, in.UUID, in.State, in.Details, in.Error)
}

// canceled are the MSSP's answers that end a login on the user's side:
// Canceled with these details; any other ends it Erred.
var canceled = map[int]string{
	CodeUserCancel:         "User cancel.",
	CodeExpiredTransaction: "Signature request expired.",
	CodeOTAError:           "The phone could not be reached.",
	CodePINBlocked:         "PIN is blocked.",
	CodeCardBlocked:        "SIM card is blocked.",
	CodeNoKeyFound:         "No mobile ID found for this phone number.",
	CodeNoCertFound:        "No certificate found for this phone number.",
	CodePBSignatureProcess: "Another signature request is in progress on this phone.",
	CodeRevokedCertificate: "The certificate is revoked.",
	CodeInvalidSignature:   "The signature is not valid.",
}

// end records the login's end by the MSSP's fault.
func (a *Activities) end(ctx context.Context, id models.UUID, f *Fault) error {
	if d, ok := canceled[f.Code]; ok {
		return a.Store.Finish(ctx, id, StateCanceled, d, "")
	}
	a.log().Warn("Valimo request refused", "uuid", id.String(), "code", f.Code, "reason", f.Reason, "detail", f.Detail)
	return a.Store.Finish(ctx, id, StateErred, "", fmt.Sprintf("Mobile ID service refused the request: %s (%d).", f.Reason, f.Code))
}

// CleanupSchedule deletes, every hour, the results of logins older than an
// hour (Waldur's valimo cleanup beat).
var CleanupSchedule = workflows.Schedule{
	ID:        "waldur-valimo-cleanup",
	Cron:      "53 * * * *",
	Workflow:  CleanupValimo,
	TaskQueue: workflows.QueueCore,
	Note:      "Deletes the results of Valimo mobile ID logins older than an hour.",
}

// CleanupValimo runs PruneValimoResults.
func CleanupValimo(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Minute, MaximumAttempts: 3},
	})
	var a *Activities
	return workflow.ExecuteActivity(ctx, a.PruneValimoResults).Get(ctx, nil)
}

// PruneValimoResults deletes the results older than the retention.
func (a *Activities) PruneValimoResults(ctx context.Context) (int64, error) {
	keep := a.Retention
	if keep <= 0 {
		keep = time.Hour
	}
	return a.Store.Prune(ctx, a.Store.st.Now().Add(-keep))
}
