package rbac_test

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/rbac"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/roles.md from rbac.DefaultRoles")

// departuresMark starts the hand-written part of docs/roles.md.
const departuresMark = "## Departures from Waldur"

// renderRoles is the generated part of docs/roles.md: the default role →
// permission mapping.
func renderRoles() string {
	var b strings.Builder
	b.WriteString("# Default roles and permissions\n\n")
	b.WriteString("The table is generated from `rbac.DefaultRoles` by `go test ./rbac/ -run TestRolesDoc -update` (a test\n")
	b.WriteString("fails when it and the code disagree; the departures below are written by hand). It equals Waldur's default\n")
	b.WriteString("roles (`rbac/testdata/waldur-default-roles.md`, a copy of Waldur's `permissions.yaml` in 8.x names; a\n")
	b.WriteString("test compares them). A permission no role holds is staff's alone: `CUSTOMER.CREATE_PERMISSION`,\n")
	b.WriteString("`CUSTOMER.UPDATE_PERMISSION`, `CUSTOMER.DELETE_PERMISSION` (a customer's team, owners included) and\n")
	b.WriteString("`SERVICE_PROVIDER.REGISTER`, among those the API checks.\n\n")
	b.WriteString("Start-up inserts a missing role with these permissions and never changes an existing one; migration 15\n")
	b.WriteString("moved the system roles of databases created before it from the earlier defaults to these (operators'\n")
	b.WriteString("own additions kept). Change the mapping at run time through `/api/roles/` (staff), e.g. `PATCH\n")
	b.WriteString("/api/roles/<uuid>/ {\"permissions\": [...]}` or `POST /api/roles/<uuid>/enable/`. Every API replica\n")
	b.WriteString("picks a change up on its next permission check.\n\n")
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

// TestRolesDoc: docs/roles.md is the generated table followed by the
// hand-written departures.
func TestRolesDoc(t *testing.T) {
	const path = "../docs/roles.md"
	want := renderRoles()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	i := strings.Index(string(got), departuresMark)
	require.GreaterOrEqual(t, i, 0, "docs/roles.md lists the departures from Waldur under %q", departuresMark)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want+"\n"+string(got[i:])), 0o644))
		got, err = os.ReadFile(path)
		require.NoError(t, err)
		i = strings.Index(string(got), departuresMark)
	}
	require.Equal(t, want+"\n", string(got[:i]), "docs/roles.md is stale: go test ./rbac/ -run TestRolesDoc -update")
}

// TestDefaultRolesAreWaldurs: every default role carries exactly the
// permissions of Waldur's role of that name, on the scope Waldur grants it
// (CUSTOMER.MANAGER: a customer here, Waldur's service provider; a
// documented departure), and every Waldur role left out is a call role.
func TestDefaultRolesAreWaldurs(t *testing.T) {
	text, err := os.ReadFile("testdata/waldur-default-roles.md")
	require.NoError(t, err)
	head := regexp.MustCompile("(?m)^## (\\S+) — [^(]*\\(scope: ([a-z_]+)(, inactive by default)?\\)\n\n(.*)$")
	waldur := map[string][]string{}
	scope := map[string]string{}
	active := map[string]bool{}
	for _, m := range head.FindAllStringSubmatch(string(text), -1) {
		var ps []string
		for _, p := range strings.Split(m[4], ",") {
			ps = append(ps, strings.Trim(p, "` "))
		}
		sort.Strings(ps)
		waldur[m[1]], scope[m[1]], active[m[1]] = ps, m[2], m[3] == ""
	}
	require.Len(t, waldur, 11, "the reference lists eleven roles")
	departures := map[string]string{"CUSTOMER.MANAGER": "service_provider"}
	seen := map[string]bool{}
	for _, r := range rbac.DefaultRoles {
		seen[r.Name] = true
		want, ok := waldur[r.Name]
		require.True(t, ok, "%s is not a Waldur role", r.Name)
		got := make([]string, len(r.Permissions))
		for i, p := range r.Permissions {
			got[i] = string(p)
		}
		sort.Strings(got)
		require.Equal(t, want, got, "permissions of %s", r.Name)
		if d, ok := departures[r.Name]; ok {
			require.Equal(t, d, scope[r.Name])
		} else {
			require.Equal(t, scope[r.Name], string(r.ContentType), "scope of %s", r.Name)
		}
	}
	for name := range waldur {
		if !seen[name] {
			require.Contains(t, []string{"CALL.REVIEWER", "CALL.MANAGER", "PROPOSAL.MANAGER", "CUSTOMER.CALL_ORGANIZER"}, name,
				"Waldur's %s is missing from rbac.DefaultRoles", name)
		}
	}
	// Active by default as in Waldur, but for the documented departures
	// (CUSTOMER.MANAGER off, PROJECT.MEMBER on).
	for _, r := range rbac.DefaultRoles {
		want := active[r.Name]
		switch r.Name {
		case "CUSTOMER.MANAGER":
			want = false
		case "PROJECT.MEMBER":
			want = true
		}
		require.Equal(t, want, r.IsActive, "is_active of %s", r.Name)
	}
}
