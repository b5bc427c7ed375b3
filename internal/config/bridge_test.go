package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBridgeSettings: the Identity Bridge is off by default with Waldur's
// defaults; the environment turns it on and sets its attributes and
// policy; bad values are one-line errors.
func TestBridgeSettings(t *testing.T) {
	c := FromEnv()
	require.False(t, c.FederatedIdentitySyncEnabled)
	require.Equal(t, []string{"first_name", "last_name", "email", "organization", "affiliations"}, c.FederatedIdentitySyncAllowedAttributes)
	require.Equal(t, "any_isd_removed", c.FederatedIdentityDeactivationPolicy)
	require.NoError(t, c.validateBridge())

	t.Setenv(EnvFederatedIdentitySyncEnabled, "true")
	t.Setenv(EnvFederatedIdentityAllowedAttrs, "first_name, email,nationality")
	t.Setenv(EnvFederatedIdentityDeactivationPoly, "all_isds_removed")
	c = FromEnv()
	require.True(t, c.FederatedIdentitySyncEnabled)
	require.Equal(t, []string{"first_name", "email", "nationality"}, c.FederatedIdentitySyncAllowedAttributes)
	require.Equal(t, "all_isds_removed", c.FederatedIdentityDeactivationPolicy)
	require.NoError(t, c.validateBridge())

	for env, val := range map[string]string{
		EnvFederatedIdentitySyncEnabled:      "maybe",
		EnvFederatedIdentityAllowedAttrs:     "first_name,password",
		EnvFederatedIdentityDeactivationPoly: "never",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, val)
			err := FromEnv().validateBridge()
			require.Error(t, err)
			require.Contains(t, err.Error(), env)
		})
	}
}
