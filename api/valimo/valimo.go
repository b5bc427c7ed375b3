// Package valimo is the Valimo mobile ID login (Waldur's
// waldur_auth_valimo) with Waldur's paths: POST /api/auth-valimo/ starts a
// login of a phone number, POST /api/auth-valimo/result/ tells how it goes
// (Scheduled, Processing, OK with the token, Canceled, Erred). Each login
// is a Temporal workflow (ValimoLogin) that sends the MSSP an MSS_Signature
// request (ETSI TS 102 204, asynchronous client-server mode) and queries
// its status until the user signs, cancels or lets it expire; the signer's
// certificate names the person by a personal code, whose user is found by
// civil_number or created (registration_method valimo). Old results are
// deleted hourly (Schedule waldur-valimo-cleanup).
package valimo

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// Deps are what the module needs.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	// Config is the login's configuration; off (Config.On false): the
	// routes answer 404.
	Config config.Valimo
	Logger *slog.Logger
	// TaskQueue runs the login workflows (empty: the core queue).
	TaskQueue string
}

// Module serves /api/auth-valimo/.
type Module struct {
	store *Store
	tc    client.Client
	cfg   config.Valimo
	log   *slog.Logger
	queue string
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module {
	m := &Module{store: NewStore(d.Store), tc: d.Temporal, cfg: d.Config, log: d.Logger, queue: d.TaskQueue}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.queue == "" {
		m.queue = workflows.QueueCore
	}
	return m
}

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	a.POST("/auth-valimo/", api.H(m.start))
	a.POST("/auth-valimo/result/", api.H(m.result))
}

// NewClient is the MSSP client of cfg: its URL and AP credentials, the TLS
// client certificate when configured.
func NewClient(cfg config.Valimo) (*Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return &Client{URL: cfg.URL, APID: cfg.APID, APPassword: cfg.APPassword, SignatureProfile: cfg.SignatureProfile,
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
}

// AuthResult is a login's state (Waldur's AuthResult).
type AuthResult struct {
	UUID models.UUID `json:"uuid" swaggertype:"string" example:"e42473f39c844333a80107e139a4dd06"`
	// Token is the user's API token once the login is OK, else null.
	Token *string `json:"token" example:"c84d653b9ec92c6cbac41c706593e66f567a7fa4"`
	Phone string  `json:"phone" example:"+3725551234"`
	// Message is the code the phone shows: the user checks it is the same.
	Message      string `json:"message" example:"1234"`
	State        string `json:"state" enums:"Scheduled,Processing,OK,Canceled,Erred" example:"OK"`
	ErrorMessage string `json:"error_message" example:""`
	// Details say why a login was canceled.
	Details string `json:"details" example:"User authenticated."`
}

// AuthResultRequest starts a login.
type AuthResultRequest struct {
	Phone string `json:"phone" example:"+3725551234" maxLength:"30"`
}

// AuthResultUUIDRequest asks for a login's result.
type AuthResultUUIDRequest struct {
	UUID string `json:"uuid" example:"e42473f39c844333a80107e139a4dd06"`
}

func render(r *Result) AuthResult {
	out := AuthResult{UUID: r.UUID, Phone: r.Phone, Message: r.Message, State: r.State, ErrorMessage: r.ErrorMessage, Details: r.Details}
	if r.State == StateOK && r.Token != "" {
		t := r.Token
		out.Token = &t
	}
	return out
}

func (m *Module) on() error {
	if !m.cfg.On() {
		return models.Errorf(models.CodeNotFound, "Valimo login is not configured.")
	}
	return nil
}

// start godoc
//
//	@Summary		Start a Valimo mobile ID login
//	@Description	Anonymous. Starts a login of the phone number: a signature request goes to the mobile ID service (as a Temporal workflow), and the phone shows the text to sign with the result's four-digit code (message), which the front end shows too. Poll /api/auth-valimo/result/ with the uuid. The phone number is taken in international form (E.164: +, the country code and the number; spaces, dashes and a leading 00 for + accepted) and answered normalized (+3725551234); anything else is a 400. A phone number may start WALDUR_VALIMO_PHONE_LOGINS logins (5) within WALDUR_VALIMO_PHONE_WINDOW (10m): one more is a 429 saying when to retry (Retry-After). 404 when the login is not configured (WALDUR_VALIMO_ENABLED).
//	@Tags			auth-valimo
//	@Accept			json
//	@Produce		json
//	@Param			body	body		AuthResultRequest	true	"The phone number"
//	@Success		201		{object}	AuthResult
//	@Failure		400		{object}	map[string][]string
//	@Failure		404		{object}	api.ErrorBody
//	@Failure		429		{object}	api.ErrorBody
//	@Failure		503		{object}	api.ErrorBody
//	@Router			/api/auth-valimo/ [post]
func (m *Module) start(c *gin.Context) error {
	if err := m.on(); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	phone, _ := f.RequireStr("phone", 30)
	if err := f.Err(); err != nil {
		return err
	}
	phone, ok := NormalizePhone(phone)
	if !ok {
		return models.FieldError("phone", MsgPhone)
	}
	ctx := c.Request.Context()
	r, retry, err := m.store.CreateThrottled(ctx, phone, m.cfg.PhoneLogins, m.cfg.PhoneWindow)
	if models.IsCode(err, models.CodeThrottled) {
		// DRF's throttled answer, with the real wait.
		wait := int(math.Ceil(retry.Sub(m.store.st.Now()).Seconds()))
		if wait < 1 {
			wait = 1
		}
		c.Header("Retry-After", strconv.Itoa(wait))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, api.ErrorBody{
			Detail: fmt.Sprintf("Request was throttled. Expected available in %d seconds.", wait)})
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.startWorkflow(c, r); err != nil {
		m.log.Warn("Valimo login not started", "uuid", r.UUID.String(), "err", err)
		_ = m.store.Finish(ctx, r.UUID, StateErred, "", msgUnavailable)
		return models.Errorf(models.CodeUnavailable, "%s", msgUnavailable)
	}
	c.JSON(http.StatusCreated, render(r))
	return nil
}

func (m *Module) startWorkflow(c *gin.Context, r *Result) error {
	if m.tc == nil {
		return models.Errorf(models.CodeUnavailable, "no Temporal client")
	}
	_, err := m.tc.ExecuteWorkflow(c.Request.Context(), client.StartWorkflowOptions{
		ID: WorkflowID(r.UUID), TaskQueue: m.queue,
		WorkflowExecutionTimeout: m.cfg.Timeout + 15*time.Minute,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, ValimoLogin, LoginInput{UUID: r.UUID, Timeout: m.cfg.Timeout, PollInterval: m.cfg.PollInterval})
	return err
}

// result godoc
//
//	@Summary		The result of a Valimo mobile ID login
//	@Description	Anonymous. The state of the login of uuid: Scheduled (the request is being sent), Processing (waiting for the user to sign), OK (signed: the user was found by the personal code of the signer's certificate, or created with registration_method valimo; token is the user's API token, as /api-auth/password/ gives it), Canceled (the user canceled, the request expired or the phone refused it; details say which), Erred (the service failed or refused the request; error_message). Results are deleted an hour after their start. 404 when the uuid names no result or the login is not configured.
//	@Tags			auth-valimo
//	@Accept			json
//	@Produce		json
//	@Param			body	body		AuthResultUUIDRequest	true	"The login's uuid"
//	@Success		200		{object}	AuthResult
//	@Failure		400		{object}	map[string][]string
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/auth-valimo/result/ [post]
func (m *Module) result(c *gin.Context) error {
	if err := m.on(); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("uuid")
	id, _ := f.UUID("uuid")
	if err := f.Err(); err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	r, err := m.store.Get(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, render(r))
	return nil
}

// MsgPhone is the refusal of a phone number not in international form.
const MsgPhone = "Enter a phone number in international format, e.g. +3725551234."

// NormalizePhone is a phone number in E.164 form (+ and 8 to 15 digits,
// the first not 0): spaces and dashes between the digits are dropped and a
// leading 00 stands for +; false for anything else.
func NormalizePhone(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	s = strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return "", false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return s, true
}
