// Package oidctest is an OpenID Connect provider for tests, written from
// the specifications (OpenID Connect Core 1.0 and Discovery 1.0, RFC 6749,
// RFC 7636), not from the client: discovery, JWKS, the authorization
// endpoint (authorization code flow; it authenticates the user the test
// names, as if the person had signed in), the token endpoint (client
// authentication, redirect URI and PKCE checked, codes taken once) and
// userinfo. Tests can make it misbehave (a wrong nonce, audience or
// issuer, an expired token, a foreign signature) to check the client
// refuses.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Client is a registered relying party.
type Client struct {
	ID, Secret   string
	RedirectURIs []string
}

// Provider is a running OpenID provider.
type Provider struct {
	Server *httptest.Server
	// Issuer is its issuer identifier (the server's URL).
	Issuer string
	// Tamper, when set, changes the claims of each ID token before it is
	// signed (a test's misbehaving provider).
	Tamper func(claims map[string]any)
	// SignWith, when set, signs ID tokens with this key instead of the
	// published one (under the published key id).
	SignWith *rsa.PrivateKey
	// Now is the provider's clock.
	Now func() time.Time

	key *rsa.PrivateKey
	kid string

	mu      sync.Mutex
	clients map[string]Client
	users   map[string]map[string]any // sub → claims
	current string                    // the sub the browser is signed in as
	codes   map[string]*grant
	tokens  map[string]string // access token → sub
	// Requests counts the requests per endpoint path.
	Requests map[string]int
}

type grant struct {
	client, redirect, sub, nonce, challenge, method string
	scopes                                          []string
	expires                                         time.Time
}

// New starts a provider; it stops with the test.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key, kid: randomString(8), clients: map[string]Client{}, users: map[string]map[string]any{},
		codes: map[string]*grant{}, tokens: map[string]string{}, Requests: map[string]int{}, Now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("POST /userinfo", p.userinfo)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.Requests[r.URL.Path]++
		p.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	p.Issuer = p.Server.URL
	t.Cleanup(p.Server.Close)
	return p
}

// DiscoveryURL is the provider's discovery document's URL.
func (p *Provider) DiscoveryURL() string { return p.Issuer + "/.well-known/openid-configuration" }

// AddClient registers a relying party.
func (p *Provider) AddClient(c Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c.ID] = c
}

// AddUser registers a user (claims other than sub, e.g. given_name, email).
func (p *Provider) AddUser(sub string, claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := map[string]any{}
	for k, v := range claims {
		c[k] = v
	}
	c["sub"] = sub
	p.users[sub] = c
}

// SignIn makes the browser signed in as sub: the next authorization
// requests are granted for that user.
func (p *Provider) SignIn(sub string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = sub
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// discovery is OpenID Connect Discovery 1.0 §4.
func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"userinfo_endpoint":                     p.Issuer + "/userinfo",
		"jwks_uri":                              p.Issuer + "/jwks",
		"end_session_endpoint":                  p.Issuer + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nonce", "given_name", "family_name", "email", "schac_home_organization", "voperson_external_affiliation"},
		"code_challenge_methods_supported":      []string{"S256", "plain"},
		"grant_types_supported":                 []string{"authorization_code"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
}

// authorize is OpenID Connect Core §3.1.2: a request that does not name a
// registered client and one of its redirect URIs is answered here (never
// redirected, RFC 6749 §4.1.2.1); other errors go back to the client.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	cl, ok := p.clients[q.Get("client_id")]
	redirect := q.Get("redirect_uri")
	if !ok || !slices.Contains(cl.RedirectURIs, redirect) {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		u, _ := url.Parse(redirect)
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, desc string) { back(url.Values{"error": {code}, "error_description": {desc}}) }
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only code is supported")
		return
	case !slices.Contains(scopes, "openid"):
		fail("invalid_scope", "openid is required")
		return
	}
	method := q.Get("code_challenge_method")
	challenge := q.Get("code_challenge")
	if challenge != "" && method == "" {
		method = "plain" // RFC 7636 §4.3
	}
	if challenge != "" && method != "S256" && method != "plain" {
		fail("invalid_request", "transform algorithm not supported")
		return
	}
	if p.current == "" || p.users[p.current] == nil {
		fail("login_required", "no user is signed in")
		return
	}
	code := randomString(24)
	p.codes[code] = &grant{client: cl.ID, redirect: redirect, sub: p.current, nonce: q.Get("nonce"),
		challenge: challenge, method: method, scopes: scopes, expires: p.Now().Add(time.Minute)}
	back(url.Values{"code": {code}})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token is OpenID Connect Core §3.1.3 and RFC 7636 §4.6.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cl, ok := p.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(cl.Secret), []byte(secret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	code := r.PostForm.Get("code")
	g := p.codes[code]
	delete(p.codes, code) // a code is used once
	if g == nil || g.client != cl.ID || !p.Now().Before(g.expires) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirect {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
		return
	}
	verifier := r.PostForm.Get("code_verifier")
	if g.challenge != "" {
		want := verifier
		if g.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if verifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
	} else if verifier != "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier without a challenge")
		return
	}
	now := p.Now()
	claims := map[string]any{"iss": p.Issuer, "sub": g.sub, "aud": cl.ID, "azp": cl.ID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "auth_time": now.Unix()}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range p.users[g.sub] {
		if _, set := claims[k]; !set {
			claims[k] = v
		}
	}
	if p.Tamper != nil {
		p.Tamper(claims)
	}
	idToken, err := p.sign(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	access := randomString(24)
	p.tokens[access] = g.sub
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300,
		"id_token": idToken, "scope": strings.Join(g.scopes, " ")})
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	key := p.key
	if p.SignWith != nil {
		key = p.SignWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// userinfo is OpenID Connect Core §5.3 (the Bearer token in the header).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	kw, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, ok := p.tokens[tok]
	if !strings.EqualFold(kw, "Bearer") || !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, p.users[sub])
}
