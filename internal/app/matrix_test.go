package app_test

// The RBAC matrix: every served route × every kind of caller (matrixCallers)
// → the expected status, on both databases. No status is written per caller:
// each row names the rule its expectations are derived from.
//
//   - xperm: the operation's x-permissions in Waldur's OpenAPI file (read at
//     run time): a caller may act iff it is staff, or holds one of the named
//     permissions on one of the scopes the row's object resolves to (through
//     a grant in force — active, not expired — of an active role; which role
//     holds which permission is rbac.DefaultRoles). A caller that may not is
//     refused with 403 if it sees the object, else 404.
//   - the named rules below (rule* and perm) for operations that carry no
//     x-permissions: Waldur's documented rule for them, or a departure of
//     docs/roles.md (the row says which).
//
// TestRBACMatrixCoversServedRoutes fails when a served route has no row, when
// a row names a route that is not served, and when an operation with
// x-permissions is not checked by them (unless the row names a departure).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// matrixEdges are the attributes that lead from an object of the matrix
// world to another: the x-permissions scope paths ("project.customer",
// "offering.customer.serviceprovider") are walked over them to the scope a
// grant must be on. "*" is the object itself. A service provider is one per
// customer here and has no role scope: its customer stands for it
// (docs/roles.md).
var matrixEdges = map[string]map[string]string{
	"C1":               {},
	"C2":               {},
	"PROV":             {"serviceprovider": "PROV"},
	"P1":               {"customer": "C1"},
	"O":                {"customer": "PROV"},
	"HPC":              {"customer": "PROV"},
	"service-provider": {"customer": "PROV"},
	"plan":             {"offering": "O"},
	"order":            {"project": "P1", "offering": "O"}, // r2's create order, created by c-owner
	"resource":         {"project": "P1", "offering": "O"}, // r1
	"usage":            {"resource": "resource"},
	"offering-user":    {"offering": "HPC"},
	"agent":            {"offering": "HPC"},
	"agent-service":    {"identity": "agent"},
	"agent-processor":  {"service": "agent-service"},
	"invitation":       {"project": "P1", "customer": "C1"},
	"os-tenant":        {"project": "P1"},
	"os-instance":      {"project": "P1"},
	"os-volume":        {"project": "P1"},
}

func resolve(obj, path string) (string, error) {
	if path == "*" {
		return obj, nil
	}
	at := obj
	for _, attr := range strings.Split(path, ".") {
		next, ok := matrixEdges[at][attr]
		if !ok {
			return "", fmt.Errorf("%s has no attribute %q (resolving %q from %s)", at, attr, path, obj)
		}
		at = next
	}
	return at, nil
}

// inForce tells whether the grant counts for what its holder sees: active
// and not expired, whatever its role (a disabled role's holders still see,
// docs/roles.md).
func (g mgrant) inForce() bool { return !g.expired }

// seen is who sees an object (else 404, or 400 where the object is named in
// the request body): staff and global support always.
type seen struct {
	name string
	f    func(c *mcaller) bool
}

// everyone signed in sees the object (a public catalog entry; or a check
// made before the object is looked up).
var everyone = seen{"everyone", func(*mcaller) bool { return true }}

// staffAndSupport alone see it.
var staffAndSupport = seen{"staff and support", func(*mcaller) bool { return false }}

// via: holders of a grant in force on one of scopes (any role).
func via(scopes ...string) seen {
	return seen{"a role on " + strings.Join(scopes, " or "), func(c *mcaller) bool {
		for _, g := range c.grants {
			for _, s := range scopes {
				if g.inForce() && g.scope == s {
					return true
				}
			}
		}
		return false
	}}
}

// users: the named users (an object of theirs: keys, hooks).
func users(names ...string) seen {
	return seen{"its user " + strings.Join(names, ", "), func(c *mcaller) bool {
		for _, n := range names {
			if c.name == n {
				return true
			}
		}
		return false
	}}
}

// holders: those who hold perm on one of the object's scopes (Waldur's
// invitations show to those who may manage them).
func holders(obj, perm string, scopes ...string) seen {
	r := mrule{obj: obj, perms: []apitest.Permission{{Permission: perm, Scopes: scopes}}}
	return seen{"holders of " + perm, func(c *mcaller) bool {
		ok, err := r.allowed(c)
		return err == nil && ok
	}}
}

func (s seen) sees(c *mcaller) bool { return c.staff || c.support || s.f(c) }

// The views of the world's objects.
var (
	seeConsumer = via("C1", "P1")              // C1, P1 and what is in P1: customer's and project's roles
	seeCustomer = via("C1")                    // a customer's billing: its own roles
	seeProvider = via("PROV", "O", "HPC")      // the provider's side: its roles and its offerings' managers
	seeBoth     = via("C1", "P1", "PROV", "O") // an order, usage, an AWS instance: either side
	// OpenStack rows: the project's and its customer's roles, and the roles
	// of the customer whose offering the tenant was ordered from (not its
	// offering managers): store.RoleScopes.OpenStackFilter.
	seeTenant = via("C1", "P1", "PROV")
	// Invitations: those who may manage them (Waldur's can_manage_invitation_with).
	seeInvitation = holders("invitation", "PROJECT.CREATE_PERMISSION", "project", "customer")
	seeOwnKey     = users("c-owner")   // c-owner's key and hooks
	seeHPC        = via("PROV", "HPC") // HPC's offering users and agents
	seeC2         = via("C2")          // C2: c-owner's other customer
)

// mrule derives a row's expectations.
type mrule struct {
	kind  string // "public", "signed-in", "visible", "staff", "own", "x-permissions", "permission", "role"
	obj   string // what the permission's scopes resolve from
	perms []apitest.Permission
	sees  seen
	// hidden is the answer to a caller that does not see the object: 404,
	// or 400 where the object is named in the body.
	hidden int
	ok     int
	// why: the source of a rule that is not x-permissions (Waldur's
	// documented rule, or a docs/roles.md departure); required for "permission".
	why string
	// except: callers with another outcome, each explained in why.
	except map[string]int
	// also: other users allowed (an object's creator).
	also []string
	// roles: the rule names roles, not a permission (Waldur's legacy checks,
	// e.g. structure's is_administrator): a grant of one of them on a
	// scope perms' paths resolve to.
	roles map[string]bool
}

func rulePublic(ok int) mrule   { return mrule{kind: "public", ok: ok} }
func ruleSignedIn(ok int) mrule { return mrule{kind: "signed-in", sees: everyone, ok: ok} }

// ruleVisible: a retrieve answers ok to whoever sees the object, 404 to others.
func ruleVisible(s seen, ok int) mrule { return mrule{kind: "visible", sees: s, hidden: 404, ok: ok} }

// ruleStaff: staff only; others 403 when they see the object, else 404.
func ruleStaff(s seen, ok int) mrule { return mrule{kind: "staff", sees: s, hidden: 404, ok: ok} }

// ruleOwn: the object's user (and staff); others 403 when they see it.
func ruleOwn(s seen, ok int) mrule { return mrule{kind: "own", sees: s, hidden: 404, ok: ok} }

// xperm: the x-permissions of the row's operation, resolved from obj.
func xperm(obj string, s seen, ok int) mrule {
	return mrule{kind: "x-permissions", obj: obj, sees: s, hidden: 404, ok: ok}
}

// perm: a permission rule stated here (why says whose rule it is).
func perm(obj string, s seen, ok int, why string, p string, scopes ...string) mrule {
	return mrule{kind: "permission", obj: obj, sees: s, hidden: 404, ok: ok, why: why,
		perms: []apitest.Permission{{Permission: p, Scopes: scopes}}}
}

// ruleRoles: staff, or a grant in force of one of roles on a scope the
// paths resolve to from obj (why names Waldur's rule).
func ruleRoles(obj string, s seen, ok int, why string, roles []string, scopes ...string) mrule {
	r := mrule{kind: "role", obj: obj, sees: s, hidden: 404, ok: ok, why: why, roles: map[string]bool{},
		perms: []apitest.Permission{{Permission: "*", Scopes: scopes}}}
	for _, role := range roles {
		r.roles[role] = true
	}
	return r
}

// inBody: the object is named in the request body, so a caller that does not see it gets 400.
func (r mrule) inBody() mrule { r.hidden = 400; return r }

// because names the rule's source.
func (r mrule) because(why string) mrule { r.why = strings.TrimSpace(r.why + " " + why); return r }

// by: other users allowed too (the object's creator).
func (r mrule) by(users ...string) mrule { r.also = append(r.also, users...); return r }

func (r mrule) with(caller string, status int, why string) mrule {
	if r.except == nil {
		r.except = map[string]int{}
	}
	r.except[caller] = status
	r.why = strings.TrimSpace(r.why + " " + why)
	return r
}

var matrixRoles = rolePermissions()

// allowed: staff, or a grant in force of an active role holding one of
// perms on a scope they resolve to.
func (r mrule) allowed(c *mcaller) (bool, error) {
	if c.staff {
		return true, nil
	}
	for _, n := range r.also {
		if c.name == n {
			return true, nil
		}
	}
	for _, g := range c.grants {
		role, ok := matrixRoles[g.role]
		if !ok {
			return false, fmt.Errorf("role %s is not in the role table", g.role)
		}
		if !g.inForce() || !role.active || (r.roles != nil && !r.roles[g.role]) {
			continue
		}
		for _, p := range r.perms {
			if p.Permission != "*" && !role.perms[models.Permission(p.Permission)] {
				continue
			}
			for _, path := range p.Scopes {
				s, err := resolve(r.obj, path)
				if err != nil {
					return false, err
				}
				if s == g.scope {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// expect is the status the rule gives c.
func (r mrule) expect(c *mcaller) (int, error) {
	if r.kind == "public" {
		return r.ok, nil
	}
	if c.anonymous {
		return http.StatusUnauthorized, nil
	}
	if s, ok := r.except[c.name]; ok {
		return s, nil
	}
	if !r.sees.sees(c) {
		return r.hidden, nil
	}
	switch r.kind {
	case "signed-in", "visible":
		return r.ok, nil
	case "staff":
		if c.staff {
			return r.ok, nil
		}
		return http.StatusForbidden, nil
	case "own":
		if c.staff || r.sees.f(c) {
			return r.ok, nil
		}
		return http.StatusForbidden, nil
	}
	ok, err := r.allowed(c)
	if err != nil || !ok {
		return http.StatusForbidden, err
	}
	return r.ok, nil
}

// mrow is one route of the matrix with its request.
type mrow struct {
	method, pattern, path, body string
	rule                        mrule
}

func row(method, pattern, path, body string, rule mrule) mrow {
	return mrow{method: method, pattern: pattern, path: path, body: body, rule: rule}
}

// get is a row with the same pattern and path (placeholders aside).
func get(pattern, path string, rule mrule) mrow { return row("GET", pattern, path, "", rule) }

// specPath is the request path of a row, placeholders filled with a value
// that matches no literal segment.
func (r mrow) specPath() string {
	p := r.path
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	for strings.Contains(p, "{") {
		i := strings.IndexByte(p, '{')
		j := strings.IndexByte(p[i:], '}')
		p = p[:i] + "0123456789abcdef0123456789abcdef" + p[i+j+1:]
	}
	return p
}

// resolveRules fills each x-permissions row's permissions from Waldur's
// OpenAPI file and checks that the table and the file agree: a row whose
// operation has x-permissions uses them (or names a departure), and a row
// that claims x-permissions has them.
func resolveRules(rows []mrow) ([]mrow, []string) {
	var problems []string
	out := make([]mrow, len(rows))
	for i, r := range rows {
		out[i] = r
		id, perms, found, err := apitest.Operation(r.method, r.specPath())
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		switch {
		case r.rule.kind == "x-permissions" && len(perms) == 0:
			problems = append(problems, fmt.Sprintf("%s %s: the row says x-permissions, but %q has none", r.method, r.pattern, id))
		case r.rule.kind == "x-permissions":
			out[i].rule.perms = perms
		case len(perms) > 0 && !strings.Contains(r.rule.why, "docs/roles.md"):
			problems = append(problems, fmt.Sprintf("%s %s: %q has x-permissions %v, but the row follows rule %q without naming a departure (docs/roles.md)",
				r.method, r.pattern, id, perms, r.rule.kind))
		case !found && r.rule.kind != "public" && !apitest.Ours(r.method, r.specPath()) && !strings.Contains(r.rule.why, "not in Waldur's API"):
			problems = append(problems, fmt.Sprintf("%s %s: not in Waldur's OpenAPI file; say why the rule holds (\"not in Waldur's API: …\")", r.method, r.pattern))
		}
		if (r.rule.kind == "permission" || r.rule.kind == "role") && r.rule.why == "" {
			problems = append(problems, fmt.Sprintf("%s %s: a permission rule without its source", r.method, r.pattern))
		}
	}
	return out, problems
}

// matrixSkip are served routes the matrix cannot exercise, each with why.
// (None: the health check answers 503 without Temporal, which is its rule.)
var matrixSkip = map[string]string{}

func TestRBACMatrixCoversServedRoutes(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	srv, err := app.NewAPI(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "default")
	require.NoError(t, err)
	rows := map[string]bool{}
	for _, r := range matrixRows {
		rows[r.method+" "+r.pattern] = true
	}
	served := map[string]bool{}
	var missing []string
	for _, ri := range srv.Engine().Routes() {
		if ri.Method == http.MethodHead {
			continue
		}
		key := ri.Method + " " + ri.Path
		served[key] = true
		if !rows[key] && matrixSkip[key] == "" {
			missing = append(missing, key)
		}
	}
	var stale []string
	for key := range rows {
		if !served[key] {
			stale = append(stale, key)
		}
	}
	for key := range matrixSkip {
		if !served[key] || rows[key] {
			stale = append(stale, key+" (skip list)")
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	_, problems := resolveRules(matrixRows)
	for _, m := range missing {
		t.Errorf("served route without a matrix row: %s", m)
	}
	for _, s := range stale {
		t.Errorf("matrix row of a route that is not served: %s", s)
	}
	for _, p := range problems {
		t.Errorf("row disagrees with Waldur's OpenAPI file: %s", p)
	}
}

func TestRBACMatrix(t *testing.T) {
	rows, problems := resolveRules(matrixRows)
	require.Empty(t, problems)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		start := time.Now()
		w := seedMatrix(t, db)
		var failures []string
		tally := map[string]map[int]int{} // caller -> expected status -> rows
		for _, r := range rows {
			for i := range matrixCallers {
				c := &matrixCallers[i]
				want, err := r.rule.expect(c)
				require.NoError(t, err, "%s %s", r.method, r.pattern)
				if tally[c.name] == nil {
					tally[c.name] = map[int]int{}
				}
				tally[c.name][want]++
				got, body := runMatrixCase(t, db, quiet, w, r, c)
				if got != want {
					failures = append(failures, fmt.Sprintf("%s %s as %s (%s): got %d, want %d by rule %s%s: %s",
						r.method, w.expand(r.path), c.name, c.description, got, want, r.rule.kind, whyOf(r.rule), truncateBody(body)))
				}
				if got >= 400 && got != 503 && r.pattern != "/metrics" {
					var v any
					if json.Unmarshal([]byte(body), &v) != nil {
						failures = append(failures, fmt.Sprintf("%s %s as %s: error body is not JSON: %s", r.method, r.path, c.name, truncateBody(body)))
					}
				}
			}
		}
		t.Logf("%s: %d routes × %d callers in %v", kind, len(rows), len(matrixCallers), time.Since(start).Round(time.Millisecond))
		if kind == config.SQLite {
			for _, c := range matrixCallers {
				t.Logf("  %-10s expected 401: %3d, 403: %3d, 404: %3d, other: %3d", c.name, tally[c.name][401], tally[c.name][403], tally[c.name][404],
					len(rows)-tally[c.name][401]-tally[c.name][403]-tally[c.name][404])
			}
		}
		if os.Getenv("MATRIX_DUMP") != "" {
			for _, f := range failures {
				fmt.Println(f)
			}
		}
		require.Empty(t, failures, "%d of %d cases differ from their rule", len(failures), len(rows)*len(matrixCallers))
	})
}

func whyOf(r mrule) string {
	if r.why == "" {
		return ""
	}
	return " (" + r.why + ")"
}

func truncateBody(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// runMatrixCase serves one request in a transaction that is rolled back.
func runMatrixCase(t *testing.T, db *gorm.DB, log *slog.Logger, w *mworld, r mrow, c *mcaller) (int, string) {
	tx := db.Begin()
	require.NoError(t, tx.Error)
	defer tx.Rollback()
	srv, err := app.NewAPI(tx, nil, log, "default")
	require.NoError(t, err)
	var body io.Reader
	if r.body != "" {
		body = bytes.NewBufferString(w.expand(r.body))
	}
	req := httptest.NewRequest(r.method, w.expand(r.path), body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if !c.anonymous {
		req.Header.Set("Authorization", "Token "+w.tokens[c.name])
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}
