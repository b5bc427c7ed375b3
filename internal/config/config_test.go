package config

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func TestDatabase(t *testing.T) {
	cases := []struct {
		url     string
		kind    DatabaseKind
		dsn     string
		wantErr string
	}{
		{"", SQLite, "data/waldur.db", ""},
		{"/var/lib/waldur/w.db", SQLite, "/var/lib/waldur/w.db", ""},
		{"sqlite:///tmp/x.db", SQLite, "/tmp/x.db", ""},
		{"postgres://u:p@db:5432/waldur?sslmode=disable", Postgres, "postgres://u:p@db:5432/waldur?sslmode=disable", ""},
		{"postgresql://db/waldur", Postgres, "postgresql://db/waldur", ""},
		{"postgres://u:p@db:5432/", "", "", "names no database"},
		{"postgres:///waldur", "", "", "has no host"},
		{"postgres://a:%zz@h/x", "", "", "malformed URL"},
		{"mysql://h/x", "", "", `unsupported scheme "mysql"`},
		{"sqlite://", "", "", "names no file"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			cfg := Default()
			cfg.DatabaseURL = c.url
			kind, dsn, err := cfg.Database()
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				require.NotContains(t, err.Error(), ":p@", "passwords are not echoed")
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.kind, kind)
			require.Equal(t, c.dsn, dsn)
		})
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, Default().Validate())
	bad := map[string]func(*Config){
		"http addr":      func(c *Config) { c.HTTPAddr = "8080" },
		"http port":      func(c *Config) { c.HTTPAddr = ":http-ish" },
		"temporal addr":  func(c *Config) { c.TemporalAddress = "temporal" },
		"ui addr":        func(c *Config) { c.TemporalUIAddr = "nope" },
		"namespace":      func(c *Config) { c.TemporalNamespace = " " },
		"log level":      func(c *Config) { c.LogLevel = "loud" },
		"log format":     func(c *Config) { c.LogFormat = "xml" },
		"temporal level": func(c *Config) { c.TemporalLogLevel = "chatty" },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			c := Default()
			mutate(&c)
			require.Error(t, c.Validate())
		})
	}
	c := Default()
	c.TemporalUIAddr = ""
	require.NoError(t, c.Validate(), "an empty UI address disables the UI")
}

func TestFromEnvAndFlags(t *testing.T) {
	t.Setenv(EnvHTTPAddr, "127.0.0.1:9000")
	t.Setenv(EnvTemporalAddress, "temporal:7233")
	c := FromEnv()
	require.Equal(t, "127.0.0.1:9000", c.HTTPAddr)
	require.False(t, c.Embedded())
	require.Equal(t, "temporal:7233", c.TemporalHostPort())
	require.Equal(t, "default", c.TemporalNamespace)
}

func TestFlagOverridesEnv(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "/from/env.db")
	c := FromEnv()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.BindFlags(fs)
	require.NoError(t, fs.Parse([]string{"--database-url", "postgres://h/db"}))
	kind, dsn, err := c.Database()
	require.NoError(t, err)
	require.Equal(t, Postgres, kind)
	require.Equal(t, "postgres://h/db", dsn)
}

func TestScriptSettings(t *testing.T) {
	c := FromEnv()
	require.Equal(t, "bwrap", c.ScriptRunMode, "scripts are sandboxed unless an operator says otherwise")
	require.Equal(t, "isolated", c.ScriptNetwork, "and cannot reach the machine's loopback services")
	t.Setenv(EnvScriptRunMode, "docker")
	t.Setenv(EnvScriptTimeout, "90s")
	t.Setenv(EnvScriptMemoryMB, "256")
	t.Setenv(EnvScriptImages, "python=registry.local/python:3.12, shell=registry.local/alpine:3")
	c = FromEnv()
	require.NoError(t, c.Validate())
	require.Equal(t, "docker", c.ScriptRunMode)
	require.Equal(t, 90*time.Second, c.ScriptTimeout)
	require.Equal(t, 256, c.ScriptMemoryMB)
	require.Equal(t, map[string]string{"python": "registry.local/python:3.12", "shell": "registry.local/alpine:3"}, c.ScriptImages)

	for name, value := range map[string]string{
		EnvScriptRunMode:   "chroot",
		EnvScriptNetwork:   "bridge",
		EnvScriptTimeout:   "forever",
		EnvScriptCPUTime:   "-1s",
		EnvScriptMemoryMB:  "lots",
		EnvScriptProcesses: "0",
		EnvScriptImages:    "ruby=ruby:3",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			err := FromEnv().Validate()
			require.ErrorContains(t, err, name)
		})
	}
}
