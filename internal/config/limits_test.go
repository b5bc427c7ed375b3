package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// TestLimits: the request limits and hook networks, from the environment
// and flags, with their defaults and validation.
func TestLimits(t *testing.T) {
	d := Default()
	require.Equal(t, 30*time.Second, d.HTTPReadTimeout)
	require.Equal(t, 90*time.Second, d.HTTPWriteTimeout)
	require.Equal(t, 120*time.Second, d.HTTPIdleTimeout)
	require.Equal(t, 60*time.Second, d.HTTPRequestTimeout)
	require.Zero(t, d.PasswordHashConcurrency)
	require.Empty(t, d.HookAllowedNetworks)

	t.Setenv(EnvHTTPReadTimeout, "5s")
	t.Setenv(EnvHTTPRequestTimeout, "0")
	t.Setenv(EnvPasswordHashConcurrency, "3")
	t.Setenv(EnvHookAllowedNetworks, " 10.1.0.0/16, 127.0.0.1 ,")
	c := FromEnv()
	require.Equal(t, 5*time.Second, c.HTTPReadTimeout)
	require.Zero(t, c.HTTPRequestTimeout)
	require.Equal(t, 3, c.PasswordHashConcurrency)
	require.Equal(t, []string{"10.1.0.0/16", "127.0.0.1"}, c.HookAllowedNetworks)
	require.NoError(t, c.Validate())
	nets, err := ParseNetworks(c.HookAllowedNetworks)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("127.0.0.1/32")}, nets)

	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	c.BindFlags(fs)
	require.NoError(t, fs.Parse([]string{"--http-write-timeout=2m", "--http-idle-timeout=0"}))
	require.Equal(t, 2*time.Minute, c.HTTPWriteTimeout)
	require.Zero(t, c.HTTPIdleTimeout)

	t.Setenv(EnvHTTPWriteTimeout, "soon")
	require.ErrorContains(t, FromEnv().Validate(), EnvHTTPWriteTimeout)
	t.Setenv(EnvHTTPWriteTimeout, "90s")
	t.Setenv(EnvPasswordHashConcurrency, "many")
	require.ErrorContains(t, FromEnv().Validate(), EnvPasswordHashConcurrency)
	t.Setenv(EnvPasswordHashConcurrency, "0")
	t.Setenv(EnvHookAllowedNetworks, "10.0.0.0/33")
	require.ErrorContains(t, FromEnv().Validate(), EnvHookAllowedNetworks)
	t.Setenv(EnvHookAllowedNetworks, "")

	require.Empty(t, d.CORSAllowedOrigins)
	t.Setenv(EnvCORSAllowedOrigins, " https://portal.example.org/, http://localhost:8000")
	require.Equal(t, []string{"https://portal.example.org", "http://localhost:8000"}, FromEnv().CORSAllowedOrigins)
	require.NoError(t, FromEnv().Validate())
	for _, bad := range []string{"portal.example.org", "https://portal.example.org/app", "ftp://x", "*,https://a.example"} {
		t.Setenv(EnvCORSAllowedOrigins, bad)
		require.ErrorContains(t, FromEnv().Validate(), EnvCORSAllowedOrigins, bad)
	}
	t.Setenv(EnvCORSAllowedOrigins, "*")
	require.NoError(t, FromEnv().Validate())
	t.Setenv(EnvCORSAllowedOrigins, "")

	t.Setenv(EnvHTTPRequestTimeout, "90s")
	require.ErrorContains(t, FromEnv().Validate(), EnvHTTPRequestTimeout, "the handler deadline must come before the write deadline")
}
