// Package config is the one place configuration is read: environment
// variables with flag overrides, defaults for the embedded single-machine
// mode, and validation that turns bad values into one-line errors.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/waldur-go/waldur/models"
)

// Config is the whole runtime configuration.
type Config struct {
	// DatabaseURL is a postgres:// URL or a SQLite file path (default ./data/waldur.db).
	DatabaseURL string
	// DatabaseReadURLs are PostgreSQL hot standbys of DatabaseURL that serve
	// the API's reads (none: the primary serves all); DatabaseReadLagWindow
	// is how far one may lag and still serve them, and how long after a
	// user's write their reads stay on the primary (README: Read replicas).
	DatabaseReadURLs      []string
	DatabaseReadLagWindow time.Duration
	// TemporalAddress is host:port of an existing Temporal frontend. Empty means
	// `serve` embeds a Temporal server (and `api`/`worker` use its default address).
	TemporalAddress string
	// TemporalNamespace is the namespace every workflow and schedule lives in.
	TemporalNamespace string
	// HTTPAddr is where the REST API listens.
	HTTPAddr string
	// DataDir holds the embedded databases (waldur.db, temporal.db).
	DataDir string
	// EmbeddedTemporalAddr and TemporalUIAddr are where the embedded server and its Web UI listen.
	EmbeddedTemporalAddr string
	TemporalUIAddr       string
	// AdminPassword is the password of the first staff user created by `serve`; generated when empty.
	AdminPassword string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text (for people) or json (for log collectors).
	LogFormat string
	// TemporalLogLevel is the level of the embedded Temporal server's own logs.
	TemporalLogLevel string
	// TrustedProxies lists proxies (IPs or CIDRs) whose X-Forwarded-For is trusted.
	TrustedProxies []string
	// SMTP sends email hooks and notifications; without a host they go to the log.
	SMTPHost     string
	SMTPPort     int
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string
	// Script offerings: how their scripts are isolated and bounded
	// (README: Security).
	ScriptRunMode   string            // bwrap (default), docker, podman or none
	ScriptNetwork   string            // bwrap: isolated (default) or host
	ScriptTimeout   time.Duration     // wall time of one run
	ScriptCPUTime   time.Duration     // CPU time of one process
	ScriptMemoryMB  int               // memory of one process (bwrap) or of the container
	ScriptProcesses int               // processes and threads at once
	ScriptOutputMB  int               // stdout + stderr of one run
	ScriptFileMB    int               // largest file a script writes
	ScriptImages    map[string]string // language -> image (docker, podman)
	// Work one request may cause (README: Security). A zero timeout is none.
	HTTPReadTimeout    time.Duration // reading a request, headers and body
	HTTPWriteTimeout   time.Duration // from the end of the headers to the end of the response
	HTTPIdleTimeout    time.Duration // a kept-alive connection between requests
	HTTPRequestTimeout time.Duration // the deadline of a handler's context
	// PasswordHashConcurrency bounds the bcrypt hashes run at once (0: the
	// number of CPUs); logins beyond it wait briefly, then get 429.
	PasswordHashConcurrency int
	// HookAllowedNetworks (IPs or CIDRs) are loopback, link-local or private
	// addresses web hooks may still reach; every other such address is refused.
	HookAllowedNetworks []string
	// CORSAllowedOrigins are the browser origins (scheme://host[:port]) whose
	// scripts may call the API, e.g. the HomePort front end on its own host;
	// none by default (same origin only). "*" allows any origin, without
	// credentials.
	CORSAllowedOrigins []string
	// The Identity Bridge (POST /api/identity-bridge/), Waldur's
	// FEDERATED_IDENTITY_* settings: off by default; the attributes a
	// push may carry; when removal from an ISD deactivates a user
	// (any_isd_removed or all_isds_removed).
	FederatedIdentitySyncEnabled           bool
	FederatedIdentitySyncAllowedAttributes []string
	FederatedIdentityDeactivationPolicy    string
	// badEnv names a variable FromEnv could not read (reported by Validate).
	badEnv string
	// SiteName is the deployment's human-friendly name that the public
	// configuration (/api/configuration/, WALDUR_CORE.SITE_NAME) gives front
	// ends; empty: Waldur's "Waldur".
	SiteName string
	// Features are the front-end feature flags ("section.key", e.g.
	// user.ssh_keys) the public configuration reports switched on; all
	// others are off, as by default in Waldur.
	Features []string
	// SAML2 is the SAML2 login (off unless configured).
	SAML2 SAML2
	// OIDC is the OpenID Connect login; Sessions the browser sessions.
	OIDC     OIDC
	Sessions Sessions
	// Valimo is the Valimo mobile ID login (off unless enabled).
	Valimo Valimo
}

// Env names, one per setting; the README's configuration table lists the same.
const (
	EnvDatabaseURL       = "WALDUR_DATABASE_URL"
	EnvTemporalAddress   = "WALDUR_TEMPORAL_ADDRESS"
	EnvTemporalNamespace = "WALDUR_TEMPORAL_NAMESPACE"
	EnvHTTPAddr          = "WALDUR_HTTP_ADDR"
	EnvDataDir           = "WALDUR_DATA_DIR"
	EnvTemporalUIAddr    = "WALDUR_TEMPORAL_UI_ADDR"
	EnvEmbeddedTemporal  = "WALDUR_EMBEDDED_TEMPORAL_ADDR"
	EnvAdminPassword     = "WALDUR_ADMIN_PASSWORD"
	EnvLogLevel          = "WALDUR_LOG_LEVEL"
	EnvTemporalLogLevel  = "WALDUR_TEMPORAL_LOG_LEVEL"
	EnvLogFormat         = "WALDUR_LOG_FORMAT"
	EnvTrustedProxies    = "WALDUR_TRUSTED_PROXIES"
	EnvSMTPHost          = "WALDUR_SMTP_HOST"
	EnvSMTPPort          = "WALDUR_SMTP_PORT"
	EnvSMTPFrom          = "WALDUR_SMTP_FROM"
	EnvSMTPUsername      = "WALDUR_SMTP_USERNAME"
	EnvSMTPPassword      = "WALDUR_SMTP_PASSWORD"
	EnvScriptRunMode     = "WALDUR_SCRIPT_RUN_MODE"
	EnvScriptNetwork     = "WALDUR_SCRIPT_NETWORK"
	EnvScriptTimeout     = "WALDUR_SCRIPT_TIMEOUT"
	EnvScriptCPUTime     = "WALDUR_SCRIPT_CPU_TIME"
	EnvScriptMemoryMB    = "WALDUR_SCRIPT_MEMORY_MB"
	EnvScriptProcesses   = "WALDUR_SCRIPT_MAX_PROCESSES"
	EnvScriptOutputMB    = "WALDUR_SCRIPT_MAX_OUTPUT_MB"
	EnvScriptFileMB      = "WALDUR_SCRIPT_MAX_FILE_MB"
	EnvScriptImages      = "WALDUR_SCRIPT_DOCKER_IMAGES"

	EnvHTTPReadTimeout         = "WALDUR_HTTP_READ_TIMEOUT"
	EnvHTTPWriteTimeout        = "WALDUR_HTTP_WRITE_TIMEOUT"
	EnvHTTPIdleTimeout         = "WALDUR_HTTP_IDLE_TIMEOUT"
	EnvHTTPRequestTimeout      = "WALDUR_HTTP_REQUEST_TIMEOUT"
	EnvPasswordHashConcurrency = "WALDUR_PASSWORD_HASH_CONCURRENCY"
	EnvHookAllowedNetworks     = "WALDUR_HOOK_ALLOWED_NETWORKS"
	EnvCORSAllowedOrigins      = "WALDUR_CORS_ALLOWED_ORIGINS"
	EnvSiteName                = "WALDUR_SITE_NAME"
	EnvFeatures                = "WALDUR_FEATURES"
)

// Default returns the configuration with no environment at all: everything
// embedded under ./data.
func Default() Config {
	return Config{
		TemporalNamespace:    "default",
		HTTPAddr:             ":8080",
		DataDir:              "data",
		EmbeddedTemporalAddr: "127.0.0.1:7233",
		TemporalUIAddr:       "127.0.0.1:8233",
		LogLevel:             "info",
		LogFormat:            "text",
		TemporalLogLevel:     "warn",
		SMTPPort:             25,
		ScriptRunMode:        "bwrap",
		ScriptNetwork:        "isolated",
		ScriptTimeout:        10 * time.Minute,
		ScriptCPUTime:        5 * time.Minute,
		ScriptMemoryMB:       1024,
		ScriptProcesses:      128,
		ScriptOutputMB:       16,
		ScriptFileMB:         1024,
		HTTPReadTimeout:      30 * time.Second,
		HTTPWriteTimeout:     90 * time.Second,
		HTTPIdleTimeout:      120 * time.Second,
		HTTPRequestTimeout:   60 * time.Second,

		FederatedIdentitySyncAllowedAttributes: slices.Clone(models.DefaultBridgeAllowedAttributes),
		FederatedIdentityDeactivationPolicy:    models.DefaultDeactivationPolicy,
		SAML2:                                  SAML2{RequestTTL: 10 * time.Minute},
		OIDC:                                   OIDC{RequestTTL: 10 * time.Minute},
		Sessions:                               Sessions{Age: time.Hour},
		Valimo:                                 DefaultValimo(),
		DatabaseReadLagWindow:                  DefaultReadLagWindow,
	}
}

// FromEnv returns Default overridden by the WALDUR_* environment variables.
func FromEnv() Config {
	c := Default()
	set := func(dst *string, name string) {
		if v, ok := os.LookupEnv(name); ok {
			*dst = v
		}
	}
	set(&c.DatabaseURL, EnvDatabaseURL)
	set(&c.TemporalAddress, EnvTemporalAddress)
	set(&c.TemporalNamespace, EnvTemporalNamespace)
	set(&c.HTTPAddr, EnvHTTPAddr)
	set(&c.DataDir, EnvDataDir)
	set(&c.TemporalUIAddr, EnvTemporalUIAddr)
	set(&c.EmbeddedTemporalAddr, EnvEmbeddedTemporal)
	set(&c.AdminPassword, EnvAdminPassword)
	set(&c.LogLevel, EnvLogLevel)
	set(&c.TemporalLogLevel, EnvTemporalLogLevel)
	set(&c.LogFormat, EnvLogFormat)
	set(&c.SiteName, EnvSiteName)
	for _, f := range strings.Split(os.Getenv(EnvFeatures), ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.Features = append(c.Features, f)
		}
	}
	if v := os.Getenv(EnvTrustedProxies); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	set(&c.SMTPHost, EnvSMTPHost)
	set(&c.SMTPFrom, EnvSMTPFrom)
	set(&c.SMTPUsername, EnvSMTPUsername)
	set(&c.SMTPPassword, EnvSMTPPassword)
	set(&c.ScriptRunMode, EnvScriptRunMode)
	set(&c.ScriptNetwork, EnvScriptNetwork)
	for name, dst := range map[string]*time.Duration{EnvScriptTimeout: &c.ScriptTimeout, EnvScriptCPUTime: &c.ScriptCPUTime} {
		if v, ok := os.LookupEnv(name); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
				*dst = d
			} else {
				*dst = -1 // reported by Validate
			}
		}
	}
	for name, dst := range map[string]*int{EnvScriptMemoryMB: &c.ScriptMemoryMB, EnvScriptProcesses: &c.ScriptProcesses,
		EnvScriptOutputMB: &c.ScriptOutputMB, EnvScriptFileMB: &c.ScriptFileMB} {
		if v, ok := os.LookupEnv(name); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				*dst = n
			} else {
				*dst = -1 // reported by Validate
			}
		}
	}
	if v := os.Getenv(EnvScriptImages); v != "" {
		c.ScriptImages = map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			lang, image, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				lang, image = "", kv // reported by Validate
			}
			c.ScriptImages[strings.TrimSpace(lang)] = strings.TrimSpace(image)
		}
	}
	if v, ok := os.LookupEnv(EnvSMTPPort); ok {
		if n, err := strconv.Atoi(v); err == nil {
			c.SMTPPort = n
		} else {
			c.SMTPPort = -1 // reported by Validate
		}
	}
	c.limitsFromEnv()
	c.bridgeFromEnv()
	c.saml2FromEnv()
	c.oidcFromEnv()
	c.valimoFromEnv()
	c.replicasFromEnv()
	return c
}

// BindFlags registers one flag per setting on fs, each defaulting to the
// value already in c (so a flag overrides the environment).
func (c *Config) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL or SQLite file path ($"+EnvDatabaseURL+"; default <data-dir>/waldur.db)")
	fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "host:port of an external Temporal frontend ($"+EnvTemporalAddress+"; empty: embedded)")
	fs.StringVar(&c.TemporalNamespace, "temporal-namespace", c.TemporalNamespace, "Temporal namespace ($"+EnvTemporalNamespace+")")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "API listen address ($"+EnvHTTPAddr+")")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded databases ($"+EnvDataDir+")")
	fs.StringVar(&c.TemporalUIAddr, "temporal-ui-addr", c.TemporalUIAddr, "embedded Temporal Web UI listen address ($"+EnvTemporalUIAddr+"; empty: no UI)")
	fs.StringVar(&c.EmbeddedTemporalAddr, "embedded-temporal-addr", c.EmbeddedTemporalAddr, "embedded Temporal frontend listen address ($"+EnvEmbeddedTemporal+")")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error ($"+EnvLogLevel+")")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json ($"+EnvLogFormat+")")
	fs.StringVar(&c.TemporalLogLevel, "temporal-log-level", c.TemporalLogLevel, "level of the embedded Temporal server's logs ($"+EnvTemporalLogLevel+")")
	fs.DurationVar(&c.HTTPReadTimeout, "http-read-timeout", c.HTTPReadTimeout, "longest read of a request, body included ($"+EnvHTTPReadTimeout+"; 0: none)")
	fs.DurationVar(&c.HTTPWriteTimeout, "http-write-timeout", c.HTTPWriteTimeout, "longest time from a request's headers to the end of its response ($"+EnvHTTPWriteTimeout+"; 0: none)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "longest wait for the next request on a kept-alive connection ($"+EnvHTTPIdleTimeout+"; 0: none)")
	fs.DurationVar(&c.HTTPRequestTimeout, "http-request-timeout", c.HTTPRequestTimeout, "deadline of a request's handler ($"+EnvHTTPRequestTimeout+"; 0: none)")
}

// Embedded reports whether `serve` should start its own Temporal server.
func (c Config) Embedded() bool { return c.TemporalAddress == "" }

// TemporalHostPort is the frontend every client dials.
func (c Config) TemporalHostPort() string {
	if c.TemporalAddress != "" {
		return c.TemporalAddress
	}
	return c.EmbeddedTemporalAddr
}

// DatabaseKind names the dialect of DatabaseURL.
type DatabaseKind string

const (
	Postgres DatabaseKind = "postgres"
	SQLite   DatabaseKind = "sqlite"
)

// Database returns the dialect and the DSN to open. A SQLite path is made
// relative to nothing: it is used as given (default <DataDir>/waldur.db).
func (c Config) Database() (DatabaseKind, string, error) {
	raw := strings.TrimSpace(c.DatabaseURL)
	if raw == "" {
		return SQLite, filepath.Join(c.DataDir, "waldur.db"), nil
	}
	if i := strings.Index(raw, "://"); i > 0 {
		scheme := strings.ToLower(raw[:i])
		switch scheme {
		case "postgres", "postgresql":
			u, err := url.Parse(raw)
			if err != nil {
				return "", "", fmt.Errorf("%s: malformed URL: %v", EnvDatabaseURL, errors.Unwrap(err))
			}
			if u.Host == "" {
				return "", "", fmt.Errorf("%s: %q has no host", EnvDatabaseURL, redact(u))
			}
			if strings.Trim(u.Path, "/") == "" {
				return "", "", fmt.Errorf("%s: %q names no database", EnvDatabaseURL, redact(u))
			}
			return Postgres, raw, nil
		case "sqlite", "file":
			p := raw[i+3:]
			if p == "" {
				return "", "", fmt.Errorf("%s: %q names no file", EnvDatabaseURL, raw)
			}
			return SQLite, p, nil
		default:
			return "", "", fmt.Errorf("%s: unsupported scheme %q (use postgres:// or a SQLite file path)", EnvDatabaseURL, scheme)
		}
	}
	return SQLite, raw, nil
}

func redact(u *url.URL) string {
	if _, has := u.User.Password(); has {
		u = &url.URL{Scheme: u.Scheme, User: url.UserPassword(u.User.Username(), "xxxxx"), Host: u.Host, Path: u.Path, RawQuery: u.RawQuery}
	}
	return u.String()
}

// Validate checks every setting that can be checked without I/O.
func (c Config) Validate() error {
	if _, _, err := c.Database(); err != nil {
		return err
	}
	if err := checkAddr(EnvHTTPAddr, c.HTTPAddr); err != nil {
		return err
	}
	if c.TemporalAddress != "" {
		if err := checkAddr(EnvTemporalAddress, c.TemporalAddress); err != nil {
			return err
		}
	} else if err := checkAddr(EnvEmbeddedTemporal, c.EmbeddedTemporalAddr); err != nil {
		return err
	}
	if c.TemporalUIAddr != "" {
		if err := checkAddr(EnvTemporalUIAddr, c.TemporalUIAddr); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.TemporalNamespace) == "" {
		return fmt.Errorf("%s: must not be empty", EnvTemporalNamespace)
	}
	for name, v := range map[string]string{EnvLogLevel: c.LogLevel, EnvTemporalLogLevel: c.TemporalLogLevel} {
		if _, err := ParseLevel(v); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	for _, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("%s: %q is not an IP address or CIDR", EnvTrustedProxies, p)
			}
		}
	}
	if c.SMTPHost != "" && (c.SMTPPort <= 0 || c.SMTPPort > 65535 || c.SMTPFrom == "") {
		return fmt.Errorf("%s needs a valid %s and %s", EnvSMTPHost, EnvSMTPPort, EnvSMTPFrom)
	}
	if c.SMTPPort < 0 {
		return fmt.Errorf("%s: not a port number", EnvSMTPPort)
	}
	if err := c.validateScript(); err != nil {
		return err
	}
	if err := c.validateLimits(); err != nil {
		return err
	}
	if err := c.validateBridge(); err != nil {
		return err
	}
	if err := c.validateSAML2(); err != nil {
		return err
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	if err := c.validateValimo(); err != nil {
		return err
	}
	if err := c.validateReplicas(); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("%s: %q is not text or json", EnvLogFormat, c.LogFormat)
	}
	for _, f := range c.Features {
		if !featureName.MatchString(f) {
			return fmt.Errorf("%s: %q is not a feature flag (section.key, e.g. user.ssh_keys)", EnvFeatures, f)
		}
	}
	return nil
}

// featureName is the form of a feature flag: "section.key".
var featureName = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)

func checkAddr(name, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %q is not host:port", name, addr)
	}
	if port == "" {
		return fmt.Errorf("%s: %q has no port", name, addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%s: %q has an invalid port", name, addr)
	}
	_ = host
	return nil
}

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

// Logger builds the process logger (to stderr).
func (c Config) Logger() *slog.Logger {
	level, _ := ParseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// ScriptRunModes are the values of WALDUR_SCRIPT_RUN_MODE.
var ScriptRunModes = []string{"bwrap", "docker", "podman", "none"}

func (c Config) validateScript() error {
	mode := strings.ToLower(strings.TrimSpace(c.ScriptRunMode))
	if mode != "" && !slices.Contains(ScriptRunModes, mode) {
		return fmt.Errorf("%s: %q is not one of %s", EnvScriptRunMode, c.ScriptRunMode, strings.Join(ScriptRunModes, ", "))
	}
	if n := strings.ToLower(strings.TrimSpace(c.ScriptNetwork)); n != "" && n != "isolated" && n != "host" {
		return fmt.Errorf("%s: %q is not one of isolated, host", EnvScriptNetwork, c.ScriptNetwork)
	}
	for name, d := range map[string]time.Duration{EnvScriptTimeout: c.ScriptTimeout, EnvScriptCPUTime: c.ScriptCPUTime} {
		if d <= 0 {
			return fmt.Errorf("%s: not a positive duration (e.g. 10m, 90s)", name)
		}
	}
	for name, n := range map[string]int{EnvScriptMemoryMB: c.ScriptMemoryMB, EnvScriptProcesses: c.ScriptProcesses,
		EnvScriptOutputMB: c.ScriptOutputMB, EnvScriptFileMB: c.ScriptFileMB} {
		if n <= 0 {
			return fmt.Errorf("%s: not a positive whole number", name)
		}
	}
	for lang, image := range c.ScriptImages {
		if (lang != "python" && lang != "shell") || image == "" {
			return fmt.Errorf("%s: want python=IMAGE,shell=IMAGE", EnvScriptImages)
		}
	}
	return nil
}

// limitsFromEnv reads the request limits and the hook networks.
func (c *Config) limitsFromEnv() {
	for name, dst := range map[string]*time.Duration{EnvHTTPReadTimeout: &c.HTTPReadTimeout, EnvHTTPWriteTimeout: &c.HTTPWriteTimeout,
		EnvHTTPIdleTimeout: &c.HTTPIdleTimeout, EnvHTTPRequestTimeout: &c.HTTPRequestTimeout} {
		if v, ok := os.LookupEnv(name); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
				*dst = d
			} else {
				*dst = -1 // reported by Validate
			}
		}
	}
	if v, ok := os.LookupEnv(EnvPasswordHashConcurrency); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			c.PasswordHashConcurrency = n
		} else {
			c.PasswordHashConcurrency = -1 // reported by Validate
		}
	}
	for _, p := range strings.Split(os.Getenv(EnvHookAllowedNetworks), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.HookAllowedNetworks = append(c.HookAllowedNetworks, p)
		}
	}
	for _, p := range strings.Split(os.Getenv(EnvCORSAllowedOrigins), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, strings.TrimSuffix(p, "/"))
		}
	}
}

func (c Config) validateLimits() error {
	for name, d := range map[string]time.Duration{EnvHTTPReadTimeout: c.HTTPReadTimeout, EnvHTTPWriteTimeout: c.HTTPWriteTimeout,
		EnvHTTPIdleTimeout: c.HTTPIdleTimeout, EnvHTTPRequestTimeout: c.HTTPRequestTimeout} {
		if d < 0 {
			return fmt.Errorf("%s: not a duration (e.g. 30s, 2m; 0: none)", name)
		}
	}
	if c.HTTPWriteTimeout > 0 && c.HTTPRequestTimeout >= c.HTTPWriteTimeout {
		return fmt.Errorf("%s must be shorter than %s, so a handler that runs out of time can still answer", EnvHTTPRequestTimeout, EnvHTTPWriteTimeout)
	}
	if c.PasswordHashConcurrency < 0 {
		return fmt.Errorf("%s: not a whole number (0: the number of CPUs)", EnvPasswordHashConcurrency)
	}
	if _, err := ParseNetworks(c.HookAllowedNetworks); err != nil {
		return fmt.Errorf("%s: %v", EnvHookAllowedNetworks, err)
	}
	for _, o := range c.CORSAllowedOrigins {
		if o == "*" {
			if len(c.CORSAllowedOrigins) > 1 {
				return fmt.Errorf("%s: \"*\" stands alone", EnvCORSAllowedOrigins)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%s: %q is not an origin (scheme://host[:port])", EnvCORSAllowedOrigins, o)
		}
	}
	return nil
}

// ParseNetworks reads IP addresses and CIDRs (an address is a one-address network).
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// The Identity Bridge's settings (Waldur's FEDERATED_IDENTITY_*).
const (
	EnvFederatedIdentitySyncEnabled      = "WALDUR_FEDERATED_IDENTITY_SYNC_ENABLED"
	EnvFederatedIdentityAllowedAttrs     = "WALDUR_FEDERATED_IDENTITY_SYNC_ALLOWED_ATTRIBUTES"
	EnvFederatedIdentityDeactivationPoly = "WALDUR_FEDERATED_IDENTITY_DEACTIVATION_POLICY"
)

// bridgeFromEnv reads the Identity Bridge's settings.
func (c *Config) bridgeFromEnv() {
	if v, ok := os.LookupEnv(EnvFederatedIdentitySyncEnabled); ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			c.FederatedIdentitySyncEnabled = b
		} else {
			c.badEnv = EnvFederatedIdentitySyncEnabled // reported by Validate
		}
	}
	if v, ok := os.LookupEnv(EnvFederatedIdentityAllowedAttrs); ok {
		c.FederatedIdentitySyncAllowedAttributes = []string{}
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.FederatedIdentitySyncAllowedAttributes = append(c.FederatedIdentitySyncAllowedAttributes, p)
			}
		}
	}
	if v, ok := os.LookupEnv(EnvFederatedIdentityDeactivationPoly); ok {
		c.FederatedIdentityDeactivationPolicy = strings.TrimSpace(v)
	}
}

func (c Config) validateBridge() error {
	if c.badEnv == EnvFederatedIdentitySyncEnabled {
		return fmt.Errorf("%s: not a boolean (true or false)", EnvFederatedIdentitySyncEnabled)
	}
	for _, a := range c.FederatedIdentitySyncAllowedAttributes {
		if !models.IsBridgeAttribute(a) {
			return fmt.Errorf("%s: %q is not one of %s", EnvFederatedIdentityAllowedAttrs, a, strings.Join(models.BridgeAttributes, ", "))
		}
	}
	if p := c.FederatedIdentityDeactivationPolicy; p != "" && !slices.Contains(models.DeactivationPolicies, p) {
		return fmt.Errorf("%s: %q is not one of %s", EnvFederatedIdentityDeactivationPoly, p, strings.Join(models.DeactivationPolicies, ", "))
	}
	return nil
}
