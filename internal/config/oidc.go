package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// OIDC is the OpenID Connect login's configuration; the providers
// themselves are configured through /api/identity-providers/.
type OIDC struct {
	// BaseURL is the public URL of the API (https://waldur.example.org):
	// each provider's redirect URI is BaseURL/api-auth/<provider>/complete/.
	// Empty: WALDUR_SAML2_BASE_URL; neither: the OIDC login is off (its
	// init and complete routes answer 404).
	BaseURL string
	// RequestTTL is how long an authorization request may wait for its
	// answer.
	RequestTTL time.Duration
	// AllowedNetworks (IPs or CIDRs) are loopback, link-local or private
	// networks the providers' discovery, JWKS, token and userinfo URLs may
	// reach; every other such address is refused (internal/egress), so a
	// provider configured by staff cannot be made to probe the platform's
	// network. A provider inside the platform's network needs its network
	// here.
	AllowedNetworks []string
}

// Sessions are the browser sessions' settings (Django's SESSION_COOKIE_AGE
// and SESSION_COOKIE_SECURE).
type Sessions struct {
	Age    time.Duration
	Secure bool
}

// The OIDC and session settings.
const (
	EnvOIDCBaseURL         = "WALDUR_OIDC_BASE_URL"
	EnvOIDCAllowedNetworks = "WALDUR_OIDC_ALLOWED_NETWORKS"
	EnvSessionCookieAge    = "WALDUR_SESSION_COOKIE_AGE"
	EnvSessionCookieSecure = "WALDUR_SESSION_COOKIE_SECURE"
)

// OIDCBase is the base of the redirect URIs, "" when the OIDC login is off.
func (c Config) OIDCBase() string {
	if c.OIDC.BaseURL != "" {
		return strings.TrimRight(c.OIDC.BaseURL, "/")
	}
	return strings.TrimRight(c.SAML2.BaseURL, "/")
}

func (c *Config) oidcFromEnv() {
	if v, ok := os.LookupEnv(EnvOIDCBaseURL); ok {
		c.OIDC.BaseURL = strings.TrimSpace(v)
	}
	for _, p := range strings.Split(os.Getenv(EnvOIDCAllowedNetworks), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.OIDC.AllowedNetworks = append(c.OIDC.AllowedNetworks, p)
		}
	}
	if v, ok := os.LookupEnv(EnvSessionCookieAge); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
			c.Sessions.Age = d
		} else {
			c.Sessions.Age = -1 // reported by Validate
		}
	}
	if v, ok := os.LookupEnv(EnvSessionCookieSecure); ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			c.Sessions.Secure = b
		} else {
			c.badEnv = EnvSessionCookieSecure
		}
	}
}

func (c Config) validateOIDC() error {
	if b := c.OIDC.BaseURL; b != "" {
		if u, err := url.Parse(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", EnvOIDCBaseURL, b)
		}
	}
	if _, err := ParseNetworks(c.OIDC.AllowedNetworks); err != nil {
		return fmt.Errorf("%s: %v", EnvOIDCAllowedNetworks, err)
	}
	if c.Sessions.Age < 0 {
		return fmt.Errorf("%s: must be a positive duration (e.g. 1h)", EnvSessionCookieAge)
	}
	return nil
}
