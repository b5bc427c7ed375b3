package config

import (
	"strings"
	"testing"
	"time"
)

func TestReadReplicaSettings(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "postgres://waldur@db:5432/waldur")
	t.Setenv(EnvDatabaseReadURL, " postgres://waldur@replica1:5432/waldur , postgres://waldur@replica2/waldur,")
	t.Setenv(EnvDatabaseReadLagWindow, "2s")
	c := FromEnv()
	if len(c.DatabaseReadURLs) != 2 || c.DatabaseReadURLs[1] != "postgres://waldur@replica2/waldur" || c.DatabaseReadLagWindow != 2*time.Second {
		t.Fatalf("read %q, window %s", c.DatabaseReadURLs, c.DatabaseReadLagWindow)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := Default(); d.DatabaseReadURLs != nil || d.DatabaseReadLagWindow != DefaultReadLagWindow {
		t.Fatalf("defaults: %q, %s", d.DatabaseReadURLs, d.DatabaseReadLagWindow)
	}
	for _, tc := range []struct {
		db, read, window, want string
	}{
		{"", "postgres://h/db", "5s", "needs WALDUR_DATABASE_URL to be a postgres:// URL"},
		{"postgres://h/db", "mysql://h/db", "5s", "unsupported scheme"},
		{"postgres://h/db", "postgres://h", "5s", "needs a host and a database"},
		{"postgres://h/db", "postgres://u:secret@h", "5s", "xxxxx"},
		{"postgres://h/db", "postgres://h/db", "soon", "WALDUR_DATABASE_READ_LAG_WINDOW"},
		{"postgres://h/db", "postgres://h/db", "10ms", "from 100ms to 1h"},
	} {
		t.Setenv(EnvDatabaseURL, tc.db)
		t.Setenv(EnvDatabaseReadURL, tc.read)
		t.Setenv(EnvDatabaseReadLagWindow, tc.window)
		err := FromEnv().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s %s %s: %v, want %q", tc.db, tc.read, tc.window, err, tc.want)
		}
	}
}
