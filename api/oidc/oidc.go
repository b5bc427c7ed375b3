// Package oidc is the OpenID Connect login (github.com/coreos/go-oidc/v3
// and golang.org/x/oauth2) with Waldur's paths: /api-auth/<provider>/init/
// sends the browser to the provider's authorization endpoint (the
// authorization code flow, PKCE S256, a state and a nonce kept server-side
// for 10 minutes and taken once), /api-auth/<provider>/complete/ takes the
// code back, verifies the ID token (signature through the provider's JWKS,
// issuer, audience, expiry, nonce), reads the userinfo, creates or updates
// the user (registration_method: the provider's slug) and answers the
// password login's token (or redirects to the front end with it). The
// providers, several at once, are configured by staff through
// /api/identity-providers/.
package oidc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/federated"
	"github.com/waldur-go/waldur/internal/egress"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Deps are what the module needs.
type Deps struct {
	Store *store.Store
	// BaseURL is the API's public URL: a provider's redirect URI is
	// BaseURL/api-auth/<provider>/complete/. Empty: the login routes
	// answer 404 (the providers can still be configured).
	BaseURL string
	// LoginCompletedURL is the front end's page a login is redirected to
	// ({token} and {method} filled); empty: the token is answered as JSON.
	LoginCompletedURL string
	// LogoutCompletedURL is where the provider sends the browser back
	// after its logout (post_logout_redirect_uri, for the providers with
	// enable_post_logout_redirect).
	LogoutCompletedURL string
	// RequestTTL is how long an authorization request may be answered
	// (0: 10 minutes).
	RequestTTL time.Duration
	Logger     *slog.Logger
	// Now is the clock (tests move it); nil: the store's.
	Now func() time.Time
	// HTTPClient reaches the providers (nil: a client with a 30 s timeout
	// whose connections go through internal/egress's guard).
	HTTPClient *http.Client
	// AllowedNetworks are the loopback, link-local or private networks the
	// guard lets the providers' URLs reach (WALDUR_OIDC_ALLOWED_NETWORKS).
	AllowedNetworks []netip.Prefix
}

// Module serves /api/identity-providers/ and the OIDC login routes.
type Module struct {
	store   *Store
	base    string
	done    string
	logout  string
	ttl     time.Duration
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	mu      sync.Mutex
	clients map[string]*cached // by provider slug
}

// cached is a provider's discovery, reused while its configuration is
// unchanged and for an hour at most (the JWKS it holds refreshes itself on
// an unknown key id).
type cached struct {
	modified time.Time
	fetched  time.Time
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	client   *http.Client
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module {
	m := &Module{store: NewStore(d.Store), base: strings.TrimRight(d.BaseURL, "/"), done: d.LoginCompletedURL,
		logout: d.LogoutCompletedURL, ttl: d.RequestTTL, log: d.Logger, now: d.Now, client: d.HTTPClient, clients: map[string]*cached{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = d.Store.Now
	}
	if m.ttl <= 0 {
		m.ttl = 10 * time.Minute
	}
	if m.client == nil {
		// Staff configures the discovery URL, and the documents it serves
		// name the token, JWKS and userinfo URLs: none of them may reach
		// the platform's own network unless the operator allows it.
		m.client = egress.Guard{Allowed: d.AllowedNetworks}.HTTPClient(30 * time.Second)
	}
	return m
}

// Routes implements api.Module.
func (m *Module) Routes(a *gin.RouterGroup, root *gin.Engine) {
	h := api.H
	a.GET("/identity-providers/", h(m.list))
	a.HEAD("/identity-providers/", h(m.list))
	a.POST("/identity-providers/", api.RequireStaff, h(m.create))
	a.POST("/identity-providers/discover_metadata/", api.RequireStaff, h(m.discoverMetadata))
	a.POST("/identity-providers/generate-mapping/", api.RequireStaff, h(m.generateMapping))
	a.GET("/identity-providers/:provider/", h(m.retrieve))
	a.PUT("/identity-providers/:provider/", api.RequireStaff, h(m.update))
	a.PATCH("/identity-providers/:provider/", api.RequireStaff, h(m.update))
	a.DELETE("/identity-providers/:provider/", api.RequireStaff, h(m.destroy))

	root.GET("/api-auth/:provider/init/", h(m.init))
	root.GET("/api-auth/:provider/complete/", h(m.complete))
}

// Messages.
const (
	msgNotConfigured = "OpenID Connect login is not configured."
	msgState         = "Authentication request is unknown, expired or already used. Please log in again."
)

// refused is a login refused by the provider's answer: 401 with Waldur's
// OAuthException wording ("<provider> error: <message>").
func refused(p *IdentityProvider, msg string) error {
	return models.Errorf(models.CodeUnauthorized, "%s error: %s", p.Label, msg)
}

// redirectURI is the provider's redirect URI.
func (m *Module) redirectURI(slug string) string { return m.base + "/api-auth/" + slug + "/complete/" }

// issuerOf is the issuer a discovery URL names: the URL without its
// /.well-known/openid-configuration (go-oidc adds it back and checks the
// document's issuer is this one).
func issuerOf(discoveryURL string) string {
	return strings.TrimSuffix(strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration"), "/")
}

// httpClient is the client to reach a provider with.
func (m *Module) httpClient(verifySSL bool) *http.Client {
	if verifySSL {
		return m.client
	}
	c := *m.client
	t, ok := http.DefaultTransport.(*http.Transport)
	if base, ok2 := m.client.Transport.(*http.Transport); ok2 {
		t, ok = base, true
	}
	if ok {
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the provider's verify_ssl=false, set by staff
		c.Transport = t
	}
	return &c
}

// discover returns the provider's discovery (cached), recording the
// endpoints it names.
func (m *Module) discover(ctx context.Context, p *IdentityProvider) (*cached, error) {
	m.mu.Lock()
	c := m.clients[p.Provider]
	m.mu.Unlock()
	now := time.Now()
	if c != nil && c.modified.Equal(p.Modified) && now.Sub(c.fetched) < time.Hour {
		return c, nil
	}
	hc := m.httpClient(p.VerifySSL)
	// The context configures the provider's later requests (JWKS) too: no
	// cancellation, only the HTTP client.
	dctx, cancel := context.WithTimeout(gooidc.ClientContext(context.Background(), hc), 30*time.Second)
	defer cancel()
	prov, err := gooidc.NewProvider(dctx, issuerOf(p.DiscoveryURL))
	if err != nil {
		return nil, err
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = prov.Claims(&extra)
	ep := prov.Endpoint()
	if ep.AuthURL != p.AuthURL || ep.TokenURL != p.TokenURL || prov.UserInfoEndpoint() != p.UserinfoURL || extra.EndSession != p.LogoutURL {
		if err := m.store.SetEndpoints(ctx, p.ID, ep.AuthURL, ep.TokenURL, prov.UserInfoEndpoint(), extra.EndSession); err != nil {
			return nil, err
		}
	}
	c = &cached{modified: p.Modified, fetched: now, provider: prov, client: hc,
		verifier: prov.VerifierContext(gooidc.ClientContext(context.Background(), hc),
			&gooidc.Config{ClientID: p.ClientID, Now: m.now})}
	m.mu.Lock()
	m.clients[p.Provider] = c
	m.mu.Unlock()
	return c, nil
}

func (m *Module) oauth2Config(p *IdentityProvider, c *cached) *oauth2.Config {
	scopes := []string{gooidc.ScopeOpenID}
	extra := "profile email"
	if p.ExtraScope != nil {
		extra = *p.ExtraScope
	}
	for _, s := range strings.Fields(extra) {
		if s != gooidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: c.provider.Endpoint(),
		RedirectURL: m.redirectURI(p.Provider), Scopes: scopes}
}

// activeProvider is the active provider of the path, or 404.
func (m *Module) activeProvider(c *gin.Context) (*IdentityProvider, error) {
	if m.base == "" {
		return nil, models.Errorf(models.CodeNotFound, "%s", msgNotConfigured)
	}
	p, err := m.store.Provider(c.Request.Context(), c.Param("provider"))
	if err != nil {
		return nil, err
	}
	if !p.IsActive {
		return nil, models.Errorf(models.CodeNotFound, "Identity provider %s is not active.", p.Provider)
	}
	return p, nil
}

// init godoc
//
//	@Summary		Start an OpenID Connect login
//	@Description	Redirect user to OIDC authorization endpoint. Sends the browser (302) to the provider's authorization endpoint with the authorization code flow: scopes openid and the provider's extra_scope, a state and a nonce (kept server-side for 10 minutes, answered once) and, unless the provider's enable_pkce is off, a PKCE S256 challenge. session=true asks for a browser session (the sessionid and csrftoken cookies) when the login completes. redirect_url names the front end origin the completed login returns to (WALDUR_AUTH_LOGIN_COMPLETED_URL with its origin replaced); it must be one of the provider's allowed_redirects, else 400. The provider's URLs are fetched through the egress guard: no loopback, link-local or private address unless WALDUR_OIDC_ALLOWED_NETWORKS allows it (503). 404 when the provider is unknown or inactive or the login is not configured (WALDUR_OIDC_BASE_URL).
//	@Tags			api-auth
//	@Param			provider	path	string	true	"Provider slug (keycloak, eduteams, tara, …)"
//	@Param			session		query	bool	false	"Start a browser session on completion"
//	@Param			redirect_url	query	string	false	"The front end origin to return to: one of the provider's allowed_redirects"
//	@Success		302			"To the provider's authorization endpoint"
//	@Failure		404			{object}	api.ErrorBody
//	@Failure		502			{object}	api.ErrorBody
//	@Router			/api-auth/{provider}/init/ [get]
func (m *Module) init(c *gin.Context) error {
	p, err := m.activeProvider(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	dc, err := m.discover(ctx, p)
	if err != nil {
		m.log.Warn("OIDC discovery failed", "provider", p.Provider, "err", err)
		return models.Errorf(models.CodeUnavailable, "%s error: Unable to reach the identity provider.", p.Label)
	}
	redirect, err := m.allowedRedirect(p, c.Query("redirect_url"))
	if err != nil {
		return err
	}
	req := authRequest{State: store.RandomToken(32), Provider: p.Provider, Nonce: store.RandomToken(32),
		WantSession: api.WantsSession(c), Redirect: redirect, Expires: m.now().Add(m.ttl)}
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(req.Nonce)}
	if p.EnablePKCE {
		req.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(req.Verifier))
	}
	if err := m.store.AddRequest(ctx, req); err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, m.oauth2Config(p, dc).AuthCodeURL(req.State, opts...))
	return nil
}

// complete godoc
//
//	@Summary		Complete an OpenID Connect login
//	@Description	The provider's redirect back with code and state. The state must name a pending request of this provider (unknown, expired or reused: 401). The code is exchanged with the PKCE verifier; the ID token must be signed with a key of the provider's JWKS, issued by its issuer for this client, unexpired and carry the request's nonce; the userinfo's subject must be the token's. The first login creates the user (registration_method: the provider slug, the username from user_claim, default sub) with the fields of attribute_mapping; the user is looked up by the provider's user_field (username, or email: user_claim is then the email address); later logins update the mapped fields except the provider's protected_fields; a disabled user is refused (401). The answer is the user's token as /api-auth/password/ gives it, or with WALDUR_AUTH_LOGIN_COMPLETED_URL a 302 to it with {token} and {method} filled; a request that asked for a session gets its cookies too. A refusal changes no user and issues no token.
//	@Tags			api-auth
//	@Produce		json
//	@Param			provider	path		string	true	"Provider slug"
//	@Param			code		query		string	false	"Authorization code"
//	@Param			state		query		string	false	"State of the request"
//	@Success		200			{object}	federated.Token
//	@Success		302			"To the front end, with the token"
//	@Failure		400			{object}	api.ErrorBody
//	@Failure		401			{object}	api.ErrorBody
//	@Failure		404			{object}	api.ErrorBody
//	@Router			/api-auth/{provider}/complete/ [get]
func (m *Module) complete(c *gin.Context) error {
	p, err := m.activeProvider(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	state := c.Query("state")
	if state == "" {
		return models.FieldError("state", "This field is required.")
	}
	req, err := m.store.TakeRequest(ctx, p.Provider, state)
	if errors.Is(err, errState) {
		return models.Errorf(models.CodeUnauthorized, "%s", msgState)
	}
	if err != nil {
		return err
	}
	if e := c.Query("error"); e != "" {
		msg := e
		if d := c.Query("error_description"); d != "" {
			msg += " (" + d + ")"
		}
		return refused(p, msg)
	}
	code := c.Query("code")
	if code == "" {
		return models.FieldError("code", "This field is required.")
	}
	dc, err := m.discover(ctx, p)
	if err != nil {
		m.log.Warn("OIDC discovery failed", "provider", p.Provider, "err", err)
		return models.Errorf(models.CodeUnavailable, "%s error: Unable to reach the identity provider.", p.Label)
	}
	hctx := gooidc.ClientContext(ctx, dc.client)
	var opts []oauth2.AuthCodeOption
	if req.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(req.Verifier))
	}
	tok, err := m.oauth2Config(p, dc).Exchange(hctx, code, opts...)
	if err != nil {
		m.log.Info("OIDC code exchange refused", "provider", p.Provider, "err", err)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return refused(p, re.ErrorCode)
		}
		return refused(p, "Unable to exchange the authorization code.")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refused(p, "Authentication response does not contain an ID token.")
	}
	idt, err := dc.verifier.Verify(hctx, raw)
	if err != nil {
		m.log.Info("OIDC ID token refused", "provider", p.Provider, "err", err)
		return refused(p, "ID token is not valid.")
	}
	if idt.Nonce != req.Nonce {
		m.log.Info("OIDC ID token refused: nonce", "provider", p.Provider)
		return refused(p, "ID token is not valid.")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return refused(p, "ID token is not valid.")
	}
	if dc.provider.UserInfoEndpoint() != "" {
		ui, err := dc.provider.UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			m.log.Info("OIDC userinfo failed", "provider", p.Provider, "err", err)
			return refused(p, "Unable to read user info.")
		}
		if ui.Subject != idt.Subject {
			return refused(p, "User info does not belong to the ID token's subject.")
		}
		info := map[string]any{}
		if err := ui.Claims(&info); err != nil {
			return refused(p, "Unable to parse user info.")
		}
		for k, v := range info {
			claims[k] = v
		}
	}
	attrs, err := mapClaims(p, claims)
	if err != nil {
		return err
	}
	ip := c.ClientIP()
	u, t, err := m.store.Login(ctx, func(tx *store.Store) (*models.User, error) {
		return federated.Provision(ctx, tx, federated.Login{Method: p.Provider, Label: p.Label,
			EventType: "auth_logged_in_with_oauth", IP: ip, Lookup: p.UserField, Protected: p.ProtectedFields}, attrs)
	})
	if err != nil {
		return err
	}
	if req.WantSession {
		if err := api.StartSession(c, u, p.Provider); err != nil {
			return err
		}
	}
	m.log.Info("OIDC login", "user", u.Username, "provider", p.Provider)
	federated.Complete(c, withOrigin(m.done, req.Redirect), p.Provider, t.Key)
	return nil
}

// allowedRedirect checks the front end origin a login asks to return to
// (?redirect_url=): it must be exactly one of the provider's
// allowed_redirects (an origin: scheme, host and port; a trailing slash
// is ignored). Empty: none asked.
func (m *Module) allowedRedirect(p *IdentityProvider, raw string) (string, error) {
	raw = strings.TrimSuffix(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil
	}
	for _, a := range p.AllowedRedirects {
		if strings.TrimSuffix(a, "/") == raw {
			return raw, nil
		}
	}
	return "", models.FieldError("redirect_url", "Redirect URL is not allowed for this identity provider.")
}

// withOrigin is the login completed URL with its scheme, host and port
// replaced by origin (empty: the URL as it is). Without a login completed
// URL the token is answered as JSON, and the origin is not used.
func withOrigin(done, origin string) string {
	if done == "" || origin == "" {
		return done
	}
	u, err := url.Parse(done)
	o, err2 := url.Parse(origin)
	if err != nil || err2 != nil {
		return done
	}
	// {token} and {method} stay as they are: the placeholders are
	// replaced after.
	return o.Scheme + "://" + o.Host + strings.TrimPrefix(done, u.Scheme+"://"+u.Host)
}

var _ api.SingleLogout = (*Module)(nil)

// LogoutURL implements api.SingleLogout: for a user registered by an
// active provider that has an end_session_endpoint, the provider's
// logout (OpenID Connect RP-Initiated Logout 1.0) with client_id and, with
// the provider's enable_post_logout_redirect, post_logout_redirect_uri
// (WALDUR_AUTH_LOGOUT_COMPLETED_URL); "" for any other user.
func (m *Module) LogoutURL(ctx context.Context, u *models.User) (string, error) {
	var method []string
	if err := m.store.st.DB.WithContext(ctx).Table("users").Where("id = ?", u.ID).Pluck("registration_method", &method).Error; err != nil {
		return "", models.Internal(err)
	}
	if len(method) == 0 || method[0] == "" {
		return "", nil
	}
	p, err := m.store.Provider(ctx, method[0])
	if models.IsCode(err, models.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !p.IsActive || p.LogoutURL == "" {
		return "", nil
	}
	q := url.Values{"client_id": {p.ClientID}}
	if p.EnablePostLogoutRedirect && m.logout != "" {
		q.Set("post_logout_redirect_uri", m.logout)
	}
	sep := "?"
	if strings.Contains(p.LogoutURL, "?") {
		sep = "&"
	}
	return p.LogoutURL + sep + q.Encode(), nil
}
