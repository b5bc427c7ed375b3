package openstack

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// backendFiles are the backend half (see the package doc): they run where
// the cloud is reachable and read no database.
var backendFiles = []string{"openstack.go", "session.go", "tenant.go", "instance.go", "volume.go", "teardown.go",
	"pull.go", "import.go", "backend.go", "cloud.go", "actions_backend.go",
	"actions_security_group_backend.go", "actions_network_backend.go",
	"actions_port_backend.go", "actions_router_backend.go", "actions_floating_ip_backend.go",
	"actions_server_group_backend.go", "actions_snapshot_backend.go", "actions_backup_backend.go",
	"actions_instance_network_backend.go", "actions_push_security_groups_backend.go", "actions_backup_restore_backend.go", "pull_zones.go",
	"actions_rbac_policy_backend.go", "migrate_backend.go", "images_backend.go", "pull_storage.go"}

// TestBackendHalfReadsNoDatabase: no backend file imports the store, GORM
// or a database driver, and every non-test file of the package is listed
// in one half (or is the wiring) so a new file takes a side.
func TestBackendHalfReadsNoDatabase(t *testing.T) {
	core := func(name string) bool {
		for _, p := range []string{"store", "keeper", "workflow", "api", "migration"} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	backend := map[string]bool{}
	for _, f := range backendFiles {
		backend[f] = true
	}
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		require.True(t, backend[name] || core(name) || name == "plugin.go" || name == "command.go",
			"%s belongs to no half: name it store*/keeper*/workflow*/api*/migration* (core) or list it in backendFiles", name)
		if !backend[name] {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, banned := range []string{"gorm.io/", "/models/store", "/internal/database", "database/sql", "/api"} {
				require.NotContains(t, path, banned, "%s (backend half) imports %s", name, path)
			}
		}
	}
}
