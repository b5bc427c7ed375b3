package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestValimoSettings: the Valimo login is off by default; the environment
// turns it on with its service, credentials and files; bad values are
// one-line errors naming the variable.
func TestValimoSettings(t *testing.T) {
	c := FromEnv()
	require.False(t, c.Valimo.On())
	require.Equal(t, "Login code: {code}", c.Valimo.Message)
	require.Equal(t, 2*time.Minute, c.Valimo.Timeout)
	require.NoError(t, c.validateValimo())

	dir := t.TempDir()
	cert, key := filepath.Join(dir, "ap.crt"), filepath.Join(dir, "ap.key")
	require.NoError(t, os.WriteFile(cert, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(key, []byte("x"), 0o600))
	t.Setenv(EnvValimoEnabled, "true")
	t.Setenv(EnvValimoURL, "https://mssp.example.org/soap")
	t.Setenv(EnvValimoAPID, "http://waldur.example.org")
	t.Setenv(EnvValimoAPPassword, "secret")
	t.Setenv(EnvValimoCertFile, cert)
	t.Setenv(EnvValimoKeyFile, key)
	t.Setenv(EnvValimoMessage, "Waldur: {code}")
	t.Setenv(EnvValimoTimeout, "90s")
	c = FromEnv()
	require.True(t, c.Valimo.On())
	require.Equal(t, "secret", c.Valimo.APPassword)
	require.Equal(t, "Waldur: {code}", c.Valimo.Message)
	require.Equal(t, 90*time.Second, c.Valimo.Timeout)
	require.NoError(t, c.validateValimo())

	for env, val := range map[string]string{
		EnvValimoEnabled:      "maybe",
		EnvValimoURL:          "mssp.example.org",
		EnvValimoTimeout:      "soon",
		EnvValimoPollInterval: "-1s",
		EnvValimoKeyFile:      "",
		EnvValimoCertFile:     filepath.Join(dir, "missing.crt"),
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, val)
			err := FromEnv().validateValimo()
			require.Error(t, err)
		})
	}
}
