package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SAML2 is the SAML2 service provider's configuration (Waldur's
// WALDUR_AUTH_SAML2 and the login URLs of WALDUR_AUTH_SOCIAL). Without a
// base URL, a key and a certificate the SAML2 login is off: its routes
// answer 404, and /api-auth/saml2/providers/ lists the IdPs loaded so far.
type SAML2 struct {
	// BaseURL is the public URL of the API (https://waldur.example.org);
	// the metadata, ACS and SLO URLs are under it.
	BaseURL string
	// EntityID is the SP's entity ID; empty: BaseURL/api-auth/saml2/metadata/.
	EntityID string
	// KeyFile and CertFile are the PEM files of the SP's signing key and
	// certificate; EncryptionKeyFile and EncryptionCertFile, when set, a
	// separate key pair for encrypted assertions (else the signing pair).
	KeyFile, CertFile                     string
	EncryptionKeyFile, EncryptionCertFile string
	// IdPMetadata are the sources of the known IdPs: files or http(s)
	// URLs, each a single IdP's metadata or a federation's aggregate
	// (Waldur's IDP_METADATA_LOCAL and IDP_METADATA_REMOTE).
	IdPMetadata []string
	// LoginCompletedURL is the front end's page a successful login is
	// redirected to, with {token} and {method} replaced (Waldur's
	// LOGIN_COMPLETED_URL); empty: the token is answered as JSON, as
	// /api-auth/password/ answers it. LogoutCompletedURL is where a
	// finished single logout goes (empty: 200 JSON).
	LoginCompletedURL, LogoutCompletedURL string
	// RequestTTL is how long an AuthnRequest may wait for its answer.
	RequestTTL time.Duration
	// MetadataCertFile is a PEM file of the certificates a metadata
	// source must be signed with (a federation's aggregate signing
	// certificate, pysaml2's remote metadata "cert"); set, a source whose
	// root element carries no valid signature by one of them is refused
	// and its IdPs are kept as they were. Empty: no check.
	MetadataCertFile string
	// AttributeMap maps a SAML attribute name (or FriendlyName) to the user
	// field it fills (username, first_name, last_name, full_name, email,
	// affiliations, organization), as Waldur's SAML_ATTRIBUTE_MAPPING; a
	// field named here is read only from the attributes mapped to it, the
	// others keep their default attributes.
	AttributeMap map[string][]string
	// LoginFailedURL is the front end's page a failed login is redirected
	// to, with ?message= saying why (Waldur's LOGIN_FAILED_URL); empty: the
	// failure is answered as JSON (401).
	LoginFailedURL string
	// AllowUnsolicited accepts IdP-initiated logins (a response answering
	// no request of this service; pysaml2's allow_unsolicited). Off: such
	// a response is refused.
	AllowUnsolicited bool
}

// SAML2Fields are the user fields WALDUR_SAML2_ATTRIBUTE_MAP may fill.
var SAML2Fields = []string{"username", "first_name", "last_name", "full_name", "email", "affiliations", "organization"}

// The SAML2 settings.
const (
	EnvSAML2BaseURL            = "WALDUR_SAML2_BASE_URL"
	EnvSAML2EntityID           = "WALDUR_SAML2_ENTITY_ID"
	EnvSAML2KeyFile            = "WALDUR_SAML2_KEY_FILE"
	EnvSAML2CertFile           = "WALDUR_SAML2_CERT_FILE"
	EnvSAML2EncryptionKeyFile  = "WALDUR_SAML2_ENCRYPTION_KEY_FILE"
	EnvSAML2EncryptionCertFile = "WALDUR_SAML2_ENCRYPTION_CERT_FILE"
	EnvSAML2IdPMetadata        = "WALDUR_SAML2_IDP_METADATA"
	EnvAuthLoginCompletedURL   = "WALDUR_AUTH_LOGIN_COMPLETED_URL"
	EnvAuthLogoutCompletedURL  = "WALDUR_AUTH_LOGOUT_COMPLETED_URL"
	EnvAuthLoginFailedURL      = "WALDUR_AUTH_LOGIN_FAILED_URL"
	EnvSAML2MetadataCertFile   = "WALDUR_SAML2_METADATA_CERT_FILE"
	EnvSAML2AttributeMap       = "WALDUR_SAML2_ATTRIBUTE_MAP"
	EnvSAML2AllowUnsolicited   = "WALDUR_SAML2_ALLOW_UNSOLICITED"
)

// Enabled tells whether the SAML2 login is configured.
func (s SAML2) Enabled() bool { return s.BaseURL != "" && s.KeyFile != "" && s.CertFile != "" }

// Entity is the SP's entity ID.
func (s SAML2) Entity() string {
	if s.EntityID != "" {
		return s.EntityID
	}
	return strings.TrimRight(s.BaseURL, "/") + "/api-auth/saml2/metadata/"
}

func (c *Config) saml2FromEnv() {
	s := &c.SAML2
	for name, dst := range map[string]*string{EnvSAML2BaseURL: &s.BaseURL, EnvSAML2EntityID: &s.EntityID,
		EnvSAML2KeyFile: &s.KeyFile, EnvSAML2CertFile: &s.CertFile, EnvSAML2EncryptionKeyFile: &s.EncryptionKeyFile,
		EnvSAML2EncryptionCertFile: &s.EncryptionCertFile,
		EnvAuthLoginCompletedURL:   &s.LoginCompletedURL, EnvAuthLogoutCompletedURL: &s.LogoutCompletedURL,
		EnvAuthLoginFailedURL: &s.LoginFailedURL, EnvSAML2MetadataCertFile: &s.MetadataCertFile} {
		if v, ok := os.LookupEnv(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	for _, p := range strings.Split(os.Getenv(EnvSAML2IdPMetadata), ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.IdPMetadata = append(s.IdPMetadata, p)
		}
	}
	if v, ok := os.LookupEnv(EnvSAML2AllowUnsolicited); ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			s.AllowUnsolicited = b
		} else {
			c.badEnv = EnvSAML2AllowUnsolicited
		}
	}
	if v := strings.TrimSpace(os.Getenv(EnvSAML2AttributeMap)); v != "" {
		s.AttributeMap = ParseSAML2AttributeMap(v)
	}
}

// ParseSAML2AttributeMap reads WALDUR_SAML2_ATTRIBUTE_MAP: comma-separated
// attribute=field pairs (uid=username,mail=email). A pair without "=" maps
// to the field "" (reported by Validate).
func ParseSAML2AttributeMap(v string) map[string][]string {
	out := map[string][]string{}
	for _, pair := range strings.Split(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		attr, field, _ := strings.Cut(pair, "=")
		attr, field = strings.TrimSpace(attr), strings.TrimSpace(field)
		out[attr] = append(out[attr], field)
	}
	return out
}

func (c Config) validateSAML2() error {
	s := c.SAML2
	if s.BaseURL != "" {
		if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", EnvSAML2BaseURL, s.BaseURL)
		}
		if s.KeyFile == "" || s.CertFile == "" {
			return fmt.Errorf("%s needs %s and %s (the SP's PEM key and certificate)", EnvSAML2BaseURL, EnvSAML2KeyFile, EnvSAML2CertFile)
		}
	}
	if c.badEnv == EnvSAML2AllowUnsolicited {
		return fmt.Errorf("%s: not a boolean (true or false)", EnvSAML2AllowUnsolicited)
	}
	for attr, fields := range s.AttributeMap {
		for _, f := range fields {
			if attr == "" || !slices.Contains(SAML2Fields, f) {
				return fmt.Errorf("%s: %q=%q is not attribute=field (fields: %s)", EnvSAML2AttributeMap, attr, f, strings.Join(SAML2Fields, ", "))
			}
		}
	}
	if u := s.LoginFailedURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", EnvAuthLoginFailedURL, u)
		}
	}
	if (s.EncryptionKeyFile == "") != (s.EncryptionCertFile == "") {
		return fmt.Errorf("%s and %s go together", EnvSAML2EncryptionKeyFile, EnvSAML2EncryptionCertFile)
	}
	if f := s.MetadataCertFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s: %v", EnvSAML2MetadataCertFile, err)
		}
	}
	for _, f := range []string{s.KeyFile, s.CertFile, s.EncryptionKeyFile, s.EncryptionCertFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("SAML2: %v", err)
		}
	}
	return nil
}
