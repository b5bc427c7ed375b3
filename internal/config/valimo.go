package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Valimo is the Valimo mobile ID login's configuration (Waldur's
// WALDUR_AUTH_VALIMO): the MSSP's SOAP endpoint, the application
// provider's credentials and TLS client certificate, and the text the
// user's phone shows. Off unless enabled with a URL and an AP id: its
// routes answer 404.
type Valimo struct {
	Enabled bool
	// URL is the MSSP's SOAP endpoint (MSS_Signature and MSS_StatusQuery).
	URL string
	// APID and APPassword are the application provider's AP_ID and AP_PWD.
	APID, APPassword string
	// CertFile and KeyFile are the PEM client certificate and key of the
	// TLS connection to the MSSP (optional).
	CertFile, KeyFile string
	// Message is the text signed on the phone (DataToBeSigned); {code} is
	// replaced by the result's four-digit code the front end shows too
	// (Waldur's message_prefix, followed by the code).
	Message string
	// Label names the method in the front end and in messages.
	Label string
	// SignatureProfile is the MSSP's signature profile URI.
	SignatureProfile string
	// Timeout is how long the user has to sign (the request's TimeOut).
	Timeout time.Duration
	// PollInterval is the wait between two MSS_StatusQuery requests.
	PollInterval time.Duration
	// PhoneLogins is how many logins one phone number may start within
	// PhoneWindow (0: no limit); one more is refused with 429, so the
	// login cannot be used to flood a person's phone with requests.
	PhoneLogins int
	// PhoneWindow is the throttle's sliding window (at most an hour: the
	// results it counts are kept an hour).
	PhoneWindow time.Duration
}

// The Valimo settings.
const (
	EnvValimoEnabled          = "WALDUR_VALIMO_ENABLED"
	EnvValimoURL              = "WALDUR_VALIMO_URL"
	EnvValimoAPID             = "WALDUR_VALIMO_AP_ID"
	EnvValimoAPPassword       = "WALDUR_VALIMO_AP_PASSWORD"
	EnvValimoCertFile         = "WALDUR_VALIMO_CERT_FILE"
	EnvValimoKeyFile          = "WALDUR_VALIMO_KEY_FILE"
	EnvValimoMessage          = "WALDUR_VALIMO_MESSAGE"
	EnvValimoLabel            = "WALDUR_VALIMO_LABEL"
	EnvValimoSignatureProfile = "WALDUR_VALIMO_SIGNATURE_PROFILE"
	EnvValimoTimeout          = "WALDUR_VALIMO_TIMEOUT"
	EnvValimoPollInterval     = "WALDUR_VALIMO_POLL_INTERVAL"
	EnvValimoPhoneLogins      = "WALDUR_VALIMO_PHONE_LOGINS"
	EnvValimoPhoneWindow      = "WALDUR_VALIMO_PHONE_WINDOW"
)

// DefaultValimo is the Valimo login's default configuration (off).
func DefaultValimo() Valimo {
	return Valimo{Message: "Login code: {code}", Label: "Mobile ID",
		SignatureProfile: "http://mss.ficom.fi/TS102204/v1.0.0#PKI", Timeout: 2 * time.Minute, PollInterval: 3 * time.Second,
		PhoneLogins: 5, PhoneWindow: 10 * time.Minute}
}

// On tells whether the Valimo login is served.
func (v Valimo) On() bool { return v.Enabled && v.URL != "" && v.APID != "" }

func (c *Config) valimoFromEnv() {
	v := &c.Valimo
	if s, ok := os.LookupEnv(EnvValimoEnabled); ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			v.Enabled = b
		} else {
			c.badEnv = EnvValimoEnabled
		}
	}
	for name, dst := range map[string]*string{EnvValimoURL: &v.URL, EnvValimoAPID: &v.APID, EnvValimoAPPassword: &v.APPassword,
		EnvValimoCertFile: &v.CertFile, EnvValimoKeyFile: &v.KeyFile, EnvValimoLabel: &v.Label,
		EnvValimoSignatureProfile: &v.SignatureProfile} {
		if s, ok := os.LookupEnv(name); ok {
			*dst = strings.TrimSpace(s)
		}
	}
	if s, ok := os.LookupEnv(EnvValimoMessage); ok {
		v.Message = s
	}
	if s, ok := os.LookupEnv(EnvValimoPhoneLogins); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			v.PhoneLogins = n
		} else {
			v.PhoneLogins = -1 // reported by Validate
		}
	}
	for name, dst := range map[string]*time.Duration{EnvValimoTimeout: &v.Timeout, EnvValimoPollInterval: &v.PollInterval,
		EnvValimoPhoneWindow: &v.PhoneWindow} {
		if s, ok := os.LookupEnv(name); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil && d > 0 {
				*dst = d
			} else {
				*dst = -1 // reported by Validate
			}
		}
	}
}

func (c Config) validateValimo() error {
	v := c.Valimo
	if c.badEnv == EnvValimoEnabled {
		return fmt.Errorf("%s: not a boolean (true or false)", EnvValimoEnabled)
	}
	if v.Timeout < 0 {
		return fmt.Errorf("%s: must be a positive duration (e.g. 2m)", EnvValimoTimeout)
	}
	if v.PollInterval < 0 {
		return fmt.Errorf("%s: must be a positive duration (e.g. 3s)", EnvValimoPollInterval)
	}
	if v.PhoneLogins < 0 {
		return fmt.Errorf("%s: must be a whole number, 0 for no limit", EnvValimoPhoneLogins)
	}
	if v.PhoneWindow < 0 || v.PhoneWindow > time.Hour {
		return fmt.Errorf("%s: must be a positive duration of at most 1h (e.g. 10m)", EnvValimoPhoneWindow)
	}
	if !v.Enabled {
		return nil
	}
	if v.URL == "" || v.APID == "" {
		return fmt.Errorf("%s needs %s and %s", EnvValimoEnabled, EnvValimoURL, EnvValimoAPID)
	}
	if u, err := url.Parse(v.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http(s) URL", EnvValimoURL, v.URL)
	}
	if (v.CertFile == "") != (v.KeyFile == "") {
		return fmt.Errorf("%s and %s go together", EnvValimoCertFile, EnvValimoKeyFile)
	}
	for _, f := range []string{v.CertFile, v.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("Valimo: %v", err)
		}
	}
	return nil
}
