package rbac_test

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/rbac"
)

var update = flag.Bool("update", false, "rewrite docs/roles.md from rbac.DefaultRoles")

// renderRoles is the documentation of the default role → permission mapping.
func renderRoles() string {
	var b strings.Builder
	b.WriteString("# Default roles and permissions\n\n")
	b.WriteString("Generated from `rbac.DefaultRoles` by `go test ./rbac/ -run TestRolesDoc -update`; a test fails when\n")
	b.WriteString("this file and the code disagree. The mapping follows Waldur's `permissions.yaml`. Start-up inserts a\n")
	b.WriteString("missing role with these permissions and never changes an existing one: change the mapping at run time\n")
	b.WriteString("through `/api/roles/` (staff), e.g. `PATCH /api/roles/<uuid>/ {\"permissions\": [...]}` or `POST\n")
	b.WriteString("/api/roles/<uuid>/enable/`. Every API replica picks a change up on its next permission check.\n\n")
	b.WriteString("Staff users hold every permission. Support users see everything and hold no permission.\n\n")
	b.WriteString("| Role | Scope | Active by default | Permissions |\n|---|---|---|---|\n")
	for _, r := range rbac.DefaultRoles {
		ps := make([]string, len(r.Permissions))
		for i, p := range r.Permissions {
			ps[i] = "`" + string(p) + "`"
		}
		sort.Strings(ps)
		list := strings.Join(ps, ", ")
		if list == "" {
			list = "*(none: visibility only)*"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %v | %s |\n", r.Name, r.ContentType, r.IsActive, list)
	}
	return b.String()
}

func TestRolesDoc(t *testing.T) {
	const path = "../docs/roles.md"
	want := renderRoles()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err, "run: go test ./rbac/ -run TestRolesDoc -update")
	require.Equal(t, want, string(got), "docs/roles.md is stale: go test ./rbac/ -run TestRolesDoc -update")
}
