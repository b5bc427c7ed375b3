package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// The read replica settings (README: Read replicas).
const (
	// EnvDatabaseReadURL lists PostgreSQL hot standbys (postgres:// URLs,
	// comma separated) that serve the API's list, retrieve and statistics
	// reads.
	EnvDatabaseReadURL = "WALDUR_DATABASE_READ_URL"
	// EnvDatabaseReadLagWindow is a duration (default 5s): the most a
	// replica may be behind the primary and still serve reads, and how long
	// after a user's write their reads stay on the primary.
	EnvDatabaseReadLagWindow = "WALDUR_DATABASE_READ_LAG_WINDOW"
)

// DefaultReadLagWindow is the default of WALDUR_DATABASE_READ_LAG_WINDOW.
const DefaultReadLagWindow = 5 * time.Second

func (c *Config) replicasFromEnv() {
	for _, u := range strings.Split(os.Getenv(EnvDatabaseReadURL), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.DatabaseReadURLs = append(c.DatabaseReadURLs, u)
		}
	}
	if v, ok := os.LookupEnv(EnvDatabaseReadLagWindow); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
			c.DatabaseReadLagWindow = d
		} else {
			c.DatabaseReadLagWindow = -1 // reported by Validate
		}
	}
}

func (c Config) validateReplicas() error {
	if len(c.DatabaseReadURLs) == 0 {
		return nil
	}
	if kind, _, _ := c.Database(); kind != Postgres {
		return fmt.Errorf("%s needs %s to be a postgres:// URL (replicas are PostgreSQL hot standbys)", EnvDatabaseReadURL, EnvDatabaseURL)
	}
	for i, raw := range c.DatabaseReadURLs {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("%s: URL %d is malformed", EnvDatabaseReadURL, i+1)
		}
		if s := strings.ToLower(u.Scheme); s != "postgres" && s != "postgresql" {
			return fmt.Errorf("%s: URL %d: unsupported scheme %q (use postgres://)", EnvDatabaseReadURL, i+1, u.Scheme)
		}
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return fmt.Errorf("%s: %q needs a host and a database", EnvDatabaseReadURL, redact(u))
		}
	}
	if c.DatabaseReadLagWindow < 100*time.Millisecond || c.DatabaseReadLagWindow > time.Hour {
		return fmt.Errorf("%s: must be a duration from 100ms to 1h (e.g. 5s)", EnvDatabaseReadLagWindow)
	}
	return nil
}
