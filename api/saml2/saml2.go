// Package saml2 is the SAML2 service provider (github.com/crewjam/saml)
// with Waldur's paths: /api-auth/saml2/login/ (an AuthnRequest to the
// chosen IdP, HTTP-Redirect or HTTP-POST binding), login/complete/ (the
// assertion consumer service: signature, audience, time window and the
// request answered checked, a replayed assertion refused, the user created
// or updated from the mapped attributes, the token issued as by
// /api-auth/password/), logout/ and logout/complete/ (single logout),
// metadata/ (the SP's metadata) and providers/ (the IdPs known, loaded
// from metadata files or URLs — a federation's aggregate too — and
// reloaded by a Schedule).
package saml2

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// RegistrationMethod is the registration_method of the users SAML2 creates
// (Waldur's WALDUR_AUTH_SAML2 NAME default).
const RegistrationMethod = "saml2"

// Deps are what the module needs.
type Deps struct {
	Store  *store.Store
	Config config.SAML2
	Logger *slog.Logger
	// Now is the clock (tests move it); nil: the store's.
	Now func() time.Time
}

// Module serves the SAML2 routes.
type Module struct {
	store  *Store
	cfg    config.SAML2
	keys   *keys // nil: SAML2 login not configured
	log    *slog.Logger
	now    func() time.Time
	reqTTL time.Duration
	mapper *Mapper
}

var _ api.Module = (*Module)(nil)

// New returns the module; an unreadable key or certificate is an error.
func New(d Deps) (*Module, error) {
	k, err := loadKeys(d.Config)
	if err != nil {
		return nil, err
	}
	m := &Module{store: NewStore(d.Store), cfg: d.Config, keys: k, log: d.Logger, now: d.Now, reqTTL: d.Config.RequestTTL,
		mapper: NewMapper(d.Config.AttributeMap)}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = d.Store.Now
	}
	if m.reqTTL <= 0 {
		m.reqTTL = 10 * time.Minute
	}
	return m, nil
}

// Routes implements api.Module: everything is under /api-auth/saml2/.
func (m *Module) Routes(_ *gin.RouterGroup, root *gin.Engine) {
	h := api.H
	g := root.Group("/api-auth/saml2")
	g.GET("/login/", h(m.login))
	g.POST("/login/", h(m.login))
	g.POST("/login/complete/", h(m.loginComplete))
	g.GET("/logout/", api.RequireUser, h(m.logout))
	g.GET("/logout/complete/", h(m.logoutComplete))
	g.POST("/logout/complete/", h(m.logoutComplete))
	g.GET("/metadata/", h(m.metadata))
	g.GET("/providers/", h(m.providers))
	g.HEAD("/providers/", h(m.providers))
}

// Messages (Waldur's).
const (
	msgNotConfigured  = "SAML2 login is not configured."
	msgResponseErrors = "SAML2 response has errors."
	msgReplayed       = "SAML2 assertion has already been used."
	msgExpired        = "SAML2 assertion has expired or is not yet valid."
	msgAudience       = "SAML2 assertion is meant for another service provider."
	msgSignature      = "SAML2 response signature is not valid."
	msgRequest        = "SAML2 response does not answer a login request of this service."
	msgDenied         = "Authentication request has been denied by identity provider. Please check your credentials."
	msgCannotLogout   = "You cannot be logged out."
)

func notConfigured() error { return models.Errorf(models.CodeNotFound, "%s", msgNotConfigured) }

func refused(msg string) error { return models.Errorf(models.CodeUnauthorized, "%s", msg) }

// Saml2LoginRequest is the body of /api-auth/saml2/login/.
type Saml2LoginRequest struct {
	IdP string `json:"idp" example:"https://idp.example.org/idp/shibboleth"`
}

// Saml2LoginCompleteRequest is the body of /api-auth/saml2/login/complete/
// (the IdP posts it as a form; JSON is accepted too).
type Saml2LoginCompleteRequest struct {
	SAMLResponse string `json:"SAMLResponse"`
}

// Saml2Token is the answer of a login without a front end URL configured:
// the same as /api-auth/password/'s.
type Saml2Token struct {
	Token string `json:"token" example:"c84d653b9ec92c6cbac41c706593e66f567a7fa4"`
}

// Saml2Provider is an identity provider of /api-auth/saml2/providers/.
type Saml2Provider struct {
	Name string `json:"name" example:"Example University"`
	URL  string `json:"url" example:"https://idp.example.org/idp/shibboleth"`
}

// param reads a field of a form, a JSON object or the query.
func param(c *gin.Context, name string) (string, error) {
	if c.Request.Method == http.MethodPost {
		ct := c.ContentType()
		switch {
		case ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data":
			if v, ok := c.GetPostForm(name); ok {
				return strings.TrimSpace(v), nil
			}
		case ct == "application/json" || ct == "":
			body, err := io.ReadAll(c.Request.Body)
			if err != nil {
				return "", models.Errorf(models.CodeInvalid, "Could not read the request body.")
			}
			if len(bytes.TrimSpace(body)) > 0 {
				var obj map[string]any
				if err := json.Unmarshal(body, &obj); err != nil {
					return "", models.Errorf(models.CodeInvalid, "JSON parse error - %s", err.Error())
				}
				if s, ok := obj[name].(string); ok {
					return strings.TrimSpace(s), nil
				}
			}
		}
	}
	return strings.TrimSpace(c.Query(name)), nil
}

// login godoc
//
//	@Summary		Start a SAML2 login
//	@Description	Sends the browser to the chosen identity provider (idp: its entity ID, one of /api-auth/saml2/providers/) with an AuthnRequest: a 302 to it (HTTP-Redirect binding) or, when the IdP takes only HTTP-POST, a page that posts it. The request may be answered for 10 minutes. 404 when SAML2 is not configured.
//	@Tags			auth
//	@Accept			json
//	@Produce		html
//	@Param			body	body	Saml2LoginRequest	true	"The identity provider"
//	@Param			session	query	bool				false	"Also start a browser session (sessionid and csrftoken cookies) when the login completes"
//	@Success		200		"An auto-submitting form (HTTP-POST binding)"
//	@Success		302		"To the IdP (HTTP-Redirect binding)"
//	@Failure		400		{object}	map[string][]string
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api-auth/saml2/login/ [post]
func (m *Module) login(c *gin.Context) error {
	if m.keys == nil {
		return notConfigured()
	}
	idp, err := param(c, "idp")
	if err != nil {
		return err
	}
	if idp == "" {
		return models.FieldError("idp", "This field is required.")
	}
	ctx := c.Request.Context()
	p, err := m.store.Provider(ctx, idp)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("idp", fmt.Sprintf("Identity provider %s is not available.", idp))
	}
	if err != nil {
		return err
	}
	ed, err := parseEntity(p.Metadata)
	if err != nil {
		return models.Internal(fmt.Errorf("metadata of %s: %w", idp, err))
	}
	sp := m.keys.serviceProvider(ed, m.now(), nil)
	binding := saml.HTTPRedirectBinding
	loc := sp.GetSSOBindingLocation(binding)
	if loc == "" {
		binding = saml.HTTPPostBinding
		loc = sp.GetSSOBindingLocation(binding)
	}
	if loc == "" {
		return models.FieldError("idp", "Identity provider does not support available bindings.")
	}
	req, err := sp.MakeAuthenticationRequest(loc, binding, saml.HTTPPostBinding)
	if err != nil {
		return models.Internal(err)
	}
	if err := m.store.AddLoginRequest(ctx, req.ID, idp, m.now().Add(m.reqTTL), api.WantsSession(c)); err != nil {
		return err
	}
	if binding == saml.HTTPPostBinding {
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusOK, "text/html; charset=utf-8", req.Post(""))
		return nil
	}
	u, err := req.Redirect("", sp)
	if err != nil {
		return models.Internal(err)
	}
	c.Redirect(http.StatusFound, u.String())
	return nil
}

// loginComplete godoc
//
//	@Summary		Complete a SAML2 login (assertion consumer service)
//	@Description	Takes the IdP's SAMLResponse (HTTP-POST binding; a form, or JSON). The response and its assertion must be signed by the IdP of its issuer, meant for this SP (audience, destination), within their time window and answer a login request of this service; an assertion is taken once. The first login creates the user (registration_method "saml2"); each login sets the mapped attributes (eduPersonPrincipalName → username, givenName, sn, mail, eduPersonScopedAffiliation / eduPersonAffiliation → affiliations, schacHomeOrganization / o → organization). The answer is the user's token, as /api-auth/password/ gives it, or, with WALDUR_AUTH_LOGIN_COMPLETED_URL set, a 302 to that URL with {token} and {method} filled; a login started with ?session=true gets the browser session cookies too. A response answering no request of this service (IdP-initiated) is taken only with WALDUR_SAML2_ALLOW_UNSOLICITED. An eduPersonPrincipalName outside the IdP's shibmd:Scope is refused (scoped affiliations outside it are dropped). A refused response changes nothing and answers 401 saying why, or, with WALDUR_AUTH_LOGIN_FAILED_URL set, a 302 to it with ?message= saying why.
//	@Tags			auth
//	@Accept			x-www-form-urlencoded
//	@Produce		json
//	@Param			body	body		Saml2LoginCompleteRequest	true	"The IdP's response"
//	@Success		200		{object}	Saml2Token
//	@Success		302		"To the front end, with the token"
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api-auth/saml2/login/complete/ [post]
func (m *Module) loginComplete(c *gin.Context) error {
	if m.keys == nil {
		return notConfigured()
	}
	err := m.completeLogin(c)
	if err == nil || m.cfg.LoginFailedURL == "" {
		return err
	}
	var e *models.Error
	if !errors.As(err, &e) || e.Code == models.CodeInternal || e.Code == models.CodeUnavailable {
		return err
	}
	// A refused login goes back to the front end saying why, as Waldur's
	// login_failed redirects to LOGIN_FAILED_URL?message=.
	msg := e.Message
	for _, fs := range e.Fields {
		if len(fs) > 0 {
			msg = fs[0]
		}
	}
	c.Redirect(http.StatusFound, withQuery(m.cfg.LoginFailedURL, "message", msg))
	return nil
}

// withQuery is u with the query parameter k=v added.
func withQuery(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.Values{k: {v}}.Encode()
}

// completeLogin is the assertion consumer service; its refusals are
// answered by loginComplete.
func (m *Module) completeLogin(c *gin.Context) error {
	raw, err := param(c, "SAMLResponse")
	if err != nil {
		return err
	}
	if raw == "" {
		return models.FieldError("SAMLResponse", "This field is required.")
	}
	ctx := c.Request.Context()
	doc, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return refused(msgResponseErrors)
	}
	issuer, inResponseTo, err := peekMessage(doc)
	if err != nil || issuer == "" {
		return refused(msgResponseErrors)
	}
	p, err := m.store.Provider(ctx, issuer)
	if models.IsCode(err, models.CodeNotFound) {
		m.log.Info("SAML2 response from an unknown identity provider", "issuer", issuer)
		return refused(msgResponseErrors)
	}
	if err != nil {
		return err
	}
	ed, err := parseEntity(p.Metadata)
	if err != nil {
		return models.Internal(fmt.Errorf("metadata of %s: %w", issuer, err))
	}
	var possible []string
	wantSession := false
	if inResponseTo != "" {
		ok, err := m.store.Request(ctx, inResponseTo, issuer)
		if err != nil {
			return err
		}
		if ok {
			possible = []string{inResponseTo}
			if wantSession, err = m.store.WantsSession(ctx, inResponseTo); err != nil {
				return err
			}
		}
	}
	sp := m.keys.serviceProvider(ed, m.now(), replayCache{ctx: ctx, st: m.store})
	// An unsolicited (IdP-initiated) response names no request; it is
	// taken only when the operator allows it. One naming a request must
	// still answer a pending request of this service.
	sp.AllowIDPInitiated = m.cfg.AllowUnsolicited
	assertion, err := sp.ParseXMLResponse(doc, possible, m.keys.acsURL)
	if err != nil {
		return m.refusal(issuer, err)
	}
	mapped, err := m.mapper.Map(assertion, scopes(ed))
	if err != nil {
		m.log.Info("SAML2 assertion refused", "issuer", issuer, "reason", err.Error())
		return err
	}
	sess := Session{IdP: issuer}
	if s := assertion.Subject; s != nil && s.NameID != nil {
		sess.NameID, sess.NameIDFormat = s.NameID.Value, s.NameID.Format
	}
	if len(assertion.AuthnStatements) > 0 {
		sess.SessionIndex = assertion.AuthnStatements[0].SessionIndex
	}
	ip := c.ClientIP()
	u, tok, err := m.store.Login(ctx, inResponseTo, sess, func(tx *store.Store) (*models.User, error) {
		return m.provision(ctx, tx, mapped, ip)
	})
	if errors.Is(err, errReplayed) {
		return refused(msgReplayed)
	}
	if err != nil {
		return err
	}
	m.log.Info("SAML2 login", "user", u.Username, "idp", issuer)
	if wantSession {
		// A browser session too, as Waldur's SAML2 login starts a Django
		// session (the sessionid and csrftoken cookies).
		if err := api.StartSession(c, u, RegistrationMethod); err != nil {
			return err
		}
	}
	federated.Complete(c, m.cfg.LoginCompletedURL, RegistrationMethod, tok.Key)
	return nil
}

// refusal logs why a response was refused and answers what kind of
// refusal it was.
func (m *Module) refusal(issuer string, err error) error {
	detail := err.Error()
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		detail = ire.PrivateErr.Error()
	}
	m.log.Info("SAML2 response refused", "issuer", issuer, "reason", detail)
	var bad saml.ErrBadStatus
	switch {
	case errors.Is(err, saml.ErrAssertionReplayed):
		return refused(msgReplayed)
	case errors.Is(err, saml.ErrExpired), errors.Is(err, saml.ErrNotYetValid):
		return refused(msgExpired)
	case errors.Is(err, saml.ErrAudienceMismatch):
		return refused(msgAudience)
	case errors.Is(err, saml.ErrRequestIDMismatch):
		return refused(msgRequest)
	case errors.Is(err, saml.ErrInvalidSignature), errors.Is(err, saml.ErrUntrustedCertificate):
		return refused(msgSignature)
	case errors.As(err, &bad):
		return refused(msgDenied)
	}
	return refused(msgResponseErrors)
}

// provision creates the user of a first login or updates the mapped
// attributes of a known one, and records the login event.
func (m *Module) provision(ctx context.Context, tx *store.Store, in Mapped, ip string) (*models.User, error) {
	return federated.Provision(ctx, tx, federated.Login{Method: RegistrationMethod, Label: "SAML2",
		EventType: "auth_logged_in_with_saml2", IP: ip}, in)
}

// logout godoc
//
//	@Summary		Start a SAML2 single logout
//	@Description	Ends the caller's SAML2 session here (the token is deleted) and sends the browser to its IdP with a LogoutRequest (302); an IdP without single logout: the answer is the end (200, or a 302 to WALDUR_AUTH_LOGOUT_COMPLETED_URL). 400 when the caller did not log in with SAML2.
//	@Tags			auth
//	@Security		TokenAuth
//	@Success		200
//	@Success		302	"To the IdP"
//	@Failure		400	{object}	api.ErrorBody
//	@Failure		401	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api-auth/saml2/logout/ [get]
func (m *Module) logout(c *gin.Context) error {
	if m.keys == nil {
		return notConfigured()
	}
	u := api.CurrentUser(c)
	ctx := c.Request.Context()
	sess, err := m.store.LatestSession(ctx, u.ID)
	if models.IsCode(err, models.CodeNotFound) {
		return models.Errorf(models.CodeInvalid, "%s", msgCannotLogout)
	}
	if err != nil {
		return err
	}
	ev := func(int64) *models.Event {
		return &models.Event{EventType: "auth_logged_out_with_saml2",
			Message: fmt.Sprintf("User %s with full name %s logged out successfully with SAML2.", u.Username, strings.TrimSpace(u.FirstName+" "+u.LastName)),
			Context: map[string]any{"user_uuid": u.UUID.String(), "user_username": u.Username},
			Scopes:  []models.Scope{{Type: models.ScopeUser, ID: u.ID}}}
	}
	var target *url.URL
	if p, err := m.store.Provider(ctx, sess.IdP); err == nil {
		if ed, err := parseEntity(p.Metadata); err == nil {
			sp := m.keys.serviceProvider(ed, m.now(), nil)
			if loc := sp.GetSLOBindingLocation(saml.HTTPRedirectBinding); loc != "" {
				var opts []saml.LogoutRequestOption
				if sess.SessionIndex != "" {
					opts = append(opts, saml.WithSessionIndex(sess.SessionIndex))
				}
				req, err := sp.MakeLogoutRequest(loc, sess.NameID, opts...)
				if err != nil {
					return models.Internal(err)
				}
				if sess.NameIDFormat != "" && req.NameID != nil {
					req.NameID.Format = sess.NameIDFormat
					if err := sp.SignLogoutRequest(req); err != nil {
						return models.Internal(err)
					}
				}
				if target, err = sp.RedirectLogoutRequestURL(req, ""); err != nil {
					return models.Internal(err)
				}
				if err := m.store.AddRequest(ctx, req.ID, sess.IdP, m.now().Add(m.reqTTL)); err != nil {
					return err
				}
			}
		}
	}
	if err := m.store.EndUserSessions(models.WithActor(ctx, models.Actor{User: u, IP: c.ClientIP()}), u.ID, ev); err != nil {
		return err
	}
	if target != nil {
		c.Redirect(http.StatusFound, target.String())
		return nil
	}
	return m.loggedOut(c)
}

func (m *Module) loggedOut(c *gin.Context) error {
	if m.cfg.LogoutCompletedURL != "" {
		c.Redirect(http.StatusFound, m.cfg.LogoutCompletedURL)
		return nil
	}
	c.JSON(http.StatusOK, gin.H{"detail": "Logged out."})
	return nil
}

// logoutComplete godoc
//
//	@Summary		Complete a SAML2 single logout
//	@Description	Takes the IdP's LogoutResponse to a logout started here (200, or a 302 to WALDUR_AUTH_LOGOUT_COMPLETED_URL), or a LogoutRequest the IdP starts: the subject's sessions and tokens here end and the browser goes back to the IdP with a LogoutResponse (302). HTTP-Redirect (GET) or HTTP-POST binding; signatures are checked, a refused message answers 401.
//	@Tags			auth
//	@Produce		json
//	@Param			SAMLResponse	query	string	false	"A LogoutResponse (HTTP-Redirect binding)"
//	@Param			SAMLRequest		query	string	false	"A LogoutRequest (HTTP-Redirect binding)"
//	@Success		200
//	@Success		302
//	@Failure		400	{object}	api.ErrorBody
//	@Failure		401	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api-auth/saml2/logout/complete/ [get]
//	@Router			/api-auth/saml2/logout/complete/ [post]
func (m *Module) logoutComplete(c *gin.Context) error {
	if m.keys == nil {
		return notConfigured()
	}
	ctx := c.Request.Context()
	if err := c.Request.ParseForm(); err != nil {
		return models.Errorf(models.CodeInvalid, "Could not read the request body.")
	}
	isResponse := c.Request.Form.Get("SAMLResponse") != ""
	key := "SAMLRequest"
	if isResponse {
		key = "SAMLResponse"
	}
	raw := c.Request.Form.Get(key)
	if raw == "" {
		return models.Errorf(models.CodeInvalid, "SAMLResponse or SAMLRequest is required.")
	}
	doc, err := decodeMessage(raw, c.Request.URL.Query().Get(key) != "")
	if err != nil {
		return refused(msgResponseErrors)
	}
	issuer, inResponseTo, err := peekMessage(doc)
	if err != nil || issuer == "" {
		return refused(msgResponseErrors)
	}
	p, err := m.store.Provider(ctx, issuer)
	if err != nil {
		return refused(msgResponseErrors)
	}
	ed, err := parseEntity(p.Metadata)
	if err != nil {
		return models.Internal(err)
	}
	sp := m.keys.serviceProvider(ed, m.now(), replayCache{ctx: ctx, st: m.store})
	if isResponse {
		var possible []string
		if ok, err := m.store.Request(ctx, inResponseTo, issuer); err != nil {
			return err
		} else if ok {
			possible = []string{inResponseTo}
		}
		if _, err := sp.ParseLogoutResponse(c.Request, possible); err != nil {
			return m.refusal(issuer, err)
		}
		if err := m.store.DropRequest(ctx, inResponseTo); err != nil {
			return err
		}
		return m.loggedOut(c)
	}
	req, err := sp.ValidateLogoutRequest(c.Request)
	if err != nil {
		return m.refusal(issuer, err)
	}
	if req.NameID == nil {
		return refused(msgResponseErrors)
	}
	if _, err := m.store.EndSessions(ctx, issuer, req.NameID.Value, nil); err != nil {
		return err
	}
	u, err := sp.MakeRedirectLogoutResponse(req.ID, c.Request.Form.Get("RelayState"))
	if err != nil {
		return models.Internal(err)
	}
	c.Redirect(http.StatusFound, u.String())
	return nil
}

// decodeMessage is a SAML message's XML: base64, deflated too in the
// HTTP-Redirect binding.
func decodeMessage(raw string, deflated bool) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || !deflated {
		return b, err
	}
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), 1<<20))
}

// metadata godoc
//
//	@Summary		The SAML2 service provider's metadata
//	@Description	The SP's EntityDescriptor (entity ID, assertion consumer and single logout services, signing and encryption certificates), for the IdPs and federations to register. 404 when SAML2 is not configured.
//	@Tags			auth
//	@Produce		xml
//	@Success		200	{string}	string	"EntityDescriptor"
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api-auth/saml2/metadata/ [get]
func (m *Module) metadata(c *gin.Context) error {
	if m.keys == nil {
		return notConfigured()
	}
	sp := m.keys.serviceProvider(nil, m.now(), nil)
	out, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return models.Internal(err)
	}
	c.Data(http.StatusOK, "text/xml; charset=utf-8", append([]byte(xml.Header), out...))
	return nil
}

var providersSpec = rest.ListSpec{
	Ordering:        map[string]string{"name": "name", "url": "entity_id"},
	DefaultOrdering: []string{"name"},
}

// providers godoc
//
//	@Summary		List the SAML2 identity providers
//	@Description	The IdPs a login may choose (url: the entity ID to send as idp), loaded from WALDUR_SAML2_IDP_METADATA and reloaded by the waldur-saml2-providers Schedule. name filters by a part of the name (case-insensitive).
//	@Tags			auth
//	@Produce		json
//	@Param			name		query		string	false	"Part of the name"
//	@Param			page		query		int		false	"Page number"
//	@Param			page_size	query		int		false	"Page size (max 300)"
//	@Success		200			{array}		Saml2Provider
//	@Failure		404			{object}	api.ErrorBody
//	@Router			/api-auth/saml2/providers/ [get]
func (m *Module) providers(c *gin.Context) error {
	q := m.store.Providers(c.Request.Context(), rest.Last(c, "name"))
	return rest.List(c, q, providersSpec, func(p *IdentityProvider) Saml2Provider {
		return Saml2Provider{Name: p.Name, URL: p.EntityID}
	})
}
