package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFederatedHardeningSettings: the SAML2 attribute map, unsolicited
// flag and login-failed URL, the OIDC allowed networks and the Valimo
// phone throttle are read from the environment; bad values are one-line
// errors naming the variable.
func TestFederatedHardeningSettings(t *testing.T) {
	c := FromEnv()
	require.False(t, c.SAML2.AllowUnsolicited)
	require.Equal(t, 5, c.Valimo.PhoneLogins)
	require.Equal(t, 10*time.Minute, c.Valimo.PhoneWindow)
	require.NoError(t, c.Validate())

	t.Setenv(EnvSAML2AttributeMap, " uid=username, mail=email,mail=affiliations ")
	t.Setenv(EnvSAML2AllowUnsolicited, "true")
	t.Setenv(EnvAuthLoginFailedURL, "https://portal.example.org/#/login_failed/")
	t.Setenv(EnvOIDCAllowedNetworks, "10.0.0.0/8, 127.0.0.1")
	t.Setenv(EnvValimoPhoneLogins, "3")
	t.Setenv(EnvValimoPhoneWindow, "30m")
	c = FromEnv()
	require.Equal(t, map[string][]string{"uid": {"username"}, "mail": {"email", "affiliations"}}, c.SAML2.AttributeMap)
	require.True(t, c.SAML2.AllowUnsolicited)
	require.Equal(t, "https://portal.example.org/#/login_failed/", c.SAML2.LoginFailedURL)
	require.Equal(t, []string{"10.0.0.0/8", "127.0.0.1"}, c.OIDC.AllowedNetworks)
	require.Equal(t, 3, c.Valimo.PhoneLogins)
	require.Equal(t, 30*time.Minute, c.Valimo.PhoneWindow)
	require.NoError(t, c.Validate())

	for env, bad := range map[string]string{
		EnvSAML2AttributeMap:     "uid=password",
		EnvSAML2AllowUnsolicited: "maybe",
		EnvAuthLoginFailedURL:    "portal/login_failed",
		EnvOIDCAllowedNetworks:   "not-a-network",
		EnvValimoPhoneLogins:     "-1",
		EnvValimoPhoneWindow:     "2h",
		EnvSAML2MetadataCertFile: "/nonexistent/federation.pem",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			require.ErrorContains(t, FromEnv().Validate(), env)
		})
	}
}
