package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// Browser sessions (Waldur's waldurCookieAuth): a login that asks for one
// sets the sessionid cookie (HttpOnly) and the csrftoken cookie (readable
// by the page's scripts). A request with no Authorization header is
// authenticated by its sessionid; an unsafe one (not GET, HEAD, OPTIONS or
// TRACE) must repeat the csrftoken cookie in the X-CSRFToken header, and
// both must be the session's token (Django's double submit, bound to the
// session), else 403. As Django's CsrfViewMiddleware, an unsafe request
// is also refused when its Origin (else its Referer) is not the API's own
// origin nor one of the allowed origins (WALDUR_CORS_ALLOWED_ORIGINS), and
// an HTTPS one with neither header is refused; requests authenticated by
// a token are not concerned.
const (
	CookieSession = "sessionid"
	CookieCSRF    = "csrftoken"
	HeaderCSRF    = "X-CSRFToken"
	// DefaultSessionAge is Waldur's SESSION_COOKIE_AGE.
	DefaultSessionAge = time.Hour

	ctxSessionKey = "waldur.session_key"
	ctxServer     = "waldur.server"
)

// SessionConfig is how sessions are kept.
type SessionConfig struct {
	// Age is a session's lifetime from its login (0: DefaultSessionAge).
	Age time.Duration
	// Secure marks the cookies Secure (sent over HTTPS only).
	Secure bool
}

// Django's CSRF refusals, as DRF words them.
const (
	msgCSRFMissing   = "CSRF Failed: CSRF token missing."
	msgCSRFIncorrect = "CSRF Failed: CSRF token incorrect."
	msgCSRFCookie    = "CSRF Failed: CSRF cookie not set."
	msgCSRFOrigin    = "CSRF Failed: Origin checking failed - %s does not match any trusted origins."
	msgCSRFReferer   = "CSRF Failed: Referer checking failed - %s does not match any trusted origins."
	msgCSRFNoReferer = "CSRF Failed: Referer checking failed - no Referer."
)

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// sessionUser authenticates a request by its sessionid cookie: nil user
// (anonymous) without a cookie or with an unknown or expired one, as
// Django ignores a stale session; an error for a CSRF failure.
func (s *Server) sessionUser(c *gin.Context) (*models.User, string, error) {
	if s.deps.Sessions == nil {
		return nil, "", nil
	}
	key, err := c.Cookie(CookieSession)
	if err != nil || key == "" {
		return nil, "", nil
	}
	u, sess, err := s.deps.Sessions.UserBySession(c.Request.Context(), key)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !safeMethod(c.Request.Method) {
		cookie, err := c.Cookie(CookieCSRF)
		if err != nil || cookie == "" {
			return nil, "", models.Errorf(models.CodeForbidden, msgCSRFCookie)
		}
		header := c.GetHeader(HeaderCSRF)
		if header == "" {
			return nil, "", models.Errorf(models.CodeForbidden, msgCSRFMissing)
		}
		want := []byte(sess.CSRFHash)
		if subtle.ConstantTimeCompare([]byte(header), []byte(cookie)) != 1 ||
			subtle.ConstantTimeCompare([]byte(digest(header)), want) != 1 {
			return nil, "", models.Errorf(models.CodeForbidden, msgCSRFIncorrect)
		}
		if err := s.checkOrigin(c); err != nil {
			return nil, "", err
		}
	}
	return u, key, nil
}

// checkOrigin is the defence in depth of an unsafe request authenticated
// by its session cookie: where it comes from must be trusted. The Origin
// header is checked when sent, else the Referer's origin; a request over
// HTTPS must send one of them (Django: a Referer is required on HTTPS).
func (s *Server) checkOrigin(c *gin.Context) error {
	if o := c.GetHeader("Origin"); o != "" {
		if !s.trustedOrigin(c, o) {
			return models.Errorf(models.CodeForbidden, msgCSRFOrigin, o)
		}
		return nil
	}
	ref := c.GetHeader("Referer")
	if ref == "" {
		if c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
			return models.Errorf(models.CodeForbidden, msgCSRFNoReferer)
		}
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" || u.Host == "" || !s.trustedOrigin(c, u.Scheme+"://"+u.Host) {
		return models.Errorf(models.CodeForbidden, msgCSRFReferer, ref)
	}
	return nil
}

// trustedOrigin tells whether origin (scheme://host[:port]) is the API's
// own (the request's Host) or one of the allowed origins; "*" among them
// trusts no one more than the API itself.
func (s *Server) trustedOrigin(c *gin.Context, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, c.Request.Host) {
		return true
	}
	for _, o := range s.deps.CORSOrigins {
		if o != "*" && strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// digest is the hex SHA-256 the store keeps of a token (store.Digest).
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SessionKey is the key of the session that authenticated the request, ""
// when a token did (or nothing).
func SessionKey(c *gin.Context) string { return c.GetString(ctxSessionKey) }

// SessionsEnabled tells whether the API keeps browser sessions.
func SessionsEnabled(c *gin.Context) bool {
	s, ok := c.Get(ctxServer)
	return ok && s.(*Server).deps.Sessions != nil
}

// StartSession starts a browser session of u after a successful login
// (method: how it logged in) and sets its cookies on the answer. Without a
// session store it does nothing.
func StartSession(c *gin.Context, u *models.User, method string) error {
	v, ok := c.Get(ctxServer)
	if !ok {
		return nil
	}
	s := v.(*Server)
	if s.deps.Sessions == nil {
		return nil
	}
	age := s.deps.Session.Age
	if age <= 0 {
		age = DefaultSessionAge
	}
	sess, err := s.deps.Sessions.CreateSession(c.Request.Context(), u.ID, method, age)
	if err != nil {
		return err
	}
	maxAge := int(age / time.Second)
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieSession, Value: sess.Key, Path: "/", MaxAge: maxAge,
		Expires: sess.Expires, HttpOnly: true, Secure: s.deps.Session.Secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieCSRF, Value: sess.CSRF, Path: "/", MaxAge: maxAge,
		Expires: sess.Expires, Secure: s.deps.Session.Secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// EndSession ends the request's browser session, if any, and clears its
// cookies.
func EndSession(c *gin.Context) error {
	v, ok := c.Get(ctxServer)
	if !ok {
		return nil
	}
	s := v.(*Server)
	key, err := c.Cookie(CookieSession)
	if s.deps.Sessions == nil || err != nil || key == "" {
		return nil
	}
	if err := s.deps.Sessions.DeleteSession(c.Request.Context(), key); err != nil {
		return err
	}
	for _, name := range []string{CookieSession, CookieCSRF} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			Secure: s.deps.Session.Secure, HttpOnly: name == CookieSession, SameSite: http.SameSiteLaxMode})
	}
	return nil
}

// WantsSession tells whether a login request asks for a browser session
// (?session=true, or 1).
func WantsSession(c *gin.Context) bool {
	switch c.Query("session") {
	case "true", "True", "1":
		return true
	}
	return false
}

// SingleLogout is a module whose logins also end at their identity
// provider (OIDC's end_session_endpoint): /api-auth/logout/ answers the
// URL to send the browser to, as Waldur's answers logout_url.
type SingleLogout interface {
	// LogoutURL is where u's browser ends its session at the provider
	// u logged in with; "" when the module has nothing to end.
	LogoutURL(ctx context.Context, u *models.User) (string, error)
}

// LogoutURL is the identity provider's logout URL of u, from the first
// module that has one; "" when none has.
func LogoutURL(c *gin.Context, u *models.User) (string, error) {
	v, ok := c.Get(ctxServer)
	if !ok || u == nil {
		return "", nil
	}
	for _, m := range v.(*Server).modules {
		if sl, ok := m.(SingleLogout); ok {
			out, err := sl.LogoutURL(c.Request.Context(), u)
			if err != nil || out != "" {
				return out, err
			}
		}
	}
	return "", nil
}
