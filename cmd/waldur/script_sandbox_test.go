package main_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// attackScript is the create script of the reported attack: it reads the
// worker's environment through its parent's /proc (the staff password is
// there), the SQLite database of the data directory (the staff tokens are
// there), and looks at every process; then it prints a backend id.
const attackScript = `
echo "uid=$(id -u)"
echo "parent=$(tr '\0' ' ' < /proc/$PPID/environ 2>&1)"
for f in /proc/[0-9]*/environ; do tr '\0' ' ' < "$f" 2>/dev/null; echo; done | grep -c WALDUR_ | sed 's/^/environs-with-waldur=/'
echo "db=$(head -c 200 "$DATA_DIR/waldur.db" 2>&1 | tr -cd '[:print:]')"
echo "processes=$(ls -d /proc/[0-9]* | wc -l)"
if touch "$DATA_DIR/pwned" 2>/dev/null; then echo "wrote data"; else echo "cannot write data"; fi
python3 -c '
import os, socket
host, port = os.environ["TEMPORAL"].rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=3); print("temporal=reachable")
except OSError as e:
    print("temporal=unreachable", e)
'
echo attack-backend-1
`

// presetFor is a Waldur demo preset: a customer already registered as a
// service provider, its owner (not staff) with a token, a project and a
// category.
const sandboxPreset = `{
  "_metadata": {"title": "script sandbox"},
  "users": [{"uuid": "5a000000000000000000000000000001", "username": "mallory", "email": "m@example.com",
             "first_name": "Mal", "last_name": "Lory", "is_staff": false, "is_active": true, "password": "mallory-password"}],
  "auth_tokens": [{"key": "5a00000000000000000000000000000000000001", "user_uuid": "5a000000000000000000000000000001", "user_username": "mallory"}],
  "customers": [{"uuid": "5ac00000000000000000000000000001", "name": "Mallory Org", "abbreviation": "MO"}],
  "service_providers": [{"uuid": "5ae00000000000000000000000000001", "customer_uuid": "5ac00000000000000000000000000001"}],
  "projects": [{"uuid": "5ab00000000000000000000000000001", "name": "Mallory Project", "customer_uuid": "5ac00000000000000000000000000001"}],
  "category_groups": [],
  "categories": [{"uuid": "5ad00000000000000000000000000001", "title": "Scripts"}],
  "user_roles": [{"uuid": "5a000000000000000000000000000021", "user_uuid": "5a000000000000000000000000000001", "user_username": "mallory",
                  "role_name": "CUSTOMER.OWNER", "scope_type": "structure.customer", "scope_uuid": "5ac00000000000000000000000000001", "is_active": true}]
}`

const malloryToken = "5a00000000000000000000000000000000000001"

func call(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	_ = json.Unmarshal(raw.Bytes(), &out)
	if out == nil {
		out = map[string]any{"raw": raw.String()}
	}
	return resp.StatusCode, out
}

// TestScriptOfferingAttackIsContained replays the reported attack through
// the real binary and its HTTP API, on both databases: an organization
// owner (not staff) creates a Marketplace.Script offering whose create
// script hunts for the staff password and tokens, and orders it. The
// order runs in the sandbox: the script's own output shows it saw neither.
func TestScriptOfferingAttackIsContained(t *testing.T) {
	type variant struct {
		kind config.DatabaseKind
		mode string
	}
	var runs []variant
	for _, kind := range dbtest.Kinds() {
		runs = append(runs, variant{kind, "bwrap"})
	}
	// The control: with the sandbox turned off (an operator's explicit
	// choice, warned about at start-up) the same attack succeeds, so the
	// checks below can tell a sandbox from none.
	runs = append(runs, variant{config.SQLite, "none"})
	for _, tc := range runs {
		kind := tc.kind
		t.Run(string(kind)+"/"+tc.mode, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "waldur-sandbox-e2e-")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			require.NoError(t, os.Chmod(dir, 0o755)) // even a data directory others could enter stays out of reach
			dataDir := filepath.Join(dir, "data")
			httpAddr, temporalAddr := freeAddr(t), freeAddr(t)
			password := "staff-" + strings.ReplaceAll(t.Name(), "/", "-") + "-secret"
			env := []string{
				config.EnvHTTPAddr + "=" + httpAddr,
				config.EnvEmbeddedTemporal + "=" + temporalAddr,
				config.EnvTemporalUIAddr + "=",
				config.EnvAdminPassword + "=" + password,
				config.EnvDataDir + "=" + dataDir,
				config.EnvScriptRunMode + "=" + tc.mode,
			}
			if kind == config.Postgres {
				env = append(env, config.EnvDatabaseURL+"="+dbtest.EmptyURL(t, kind))
			}
			presetFile := filepath.Join(dir, "preset.json")
			require.NoError(t, os.WriteFile(presetFile, []byte(sandboxPreset), 0o600))
			out, err := run(t, dir, env, "preset", "load", presetFile)
			require.NoError(t, err, out)

			p := start(t, dir, env, "serve")
			p.waitHealthy(t, httpAddr)
			m := tokenLine.FindStringSubmatch(p.stdout.String())
			require.NotNil(t, m, p.stdout.String())
			staffToken := m[1]
			if kind == config.SQLite {
				require.FileExists(t, filepath.Join(dataDir, "waldur.db"))
			}
			base := "http://" + httpAddr

			// The owner creates the offering with the attack as its create script.
			code, off := call(t, "POST", base+"/api/marketplace-provider-offerings/", malloryToken, map[string]any{
				"name": "Innocent VMs", "type": "Marketplace.Script", "shared": true,
				"category": base + "/api/marketplace-categories/5ad00000000000000000000000000001/",
				"customer": base + "/api/customers/5ac00000000000000000000000000001/",
				"secret_options": map[string]any{"language": "shell", "create": attackScript,
					"environ": map[string]any{"DATA_DIR": dataDir, "TEMPORAL": temporalAddr}},
				"plans": []any{map[string]any{"name": "default", "unit": "month"}},
			})
			require.Equal(t, 201, code, "%v", off)
			offering, _ := off["uuid"].(string)
			code, body := call(t, "POST", base+"/api/marketplace-provider-offerings/"+offering+"/activate/", staffToken, nil)
			require.Equal(t, 200, code, "%v", body)
			plans, _ := off["plans"].([]any)
			require.Len(t, plans, 1)
			plan, _ := plans[0].(map[string]any)["url"].(string)

			code, order := call(t, "POST", base+"/api/marketplace-orders/", malloryToken, map[string]any{
				"offering": offering, "project": "5ab00000000000000000000000000001", "plan": plan,
				"attributes": map[string]any{"name": "vm"},
			})
			require.Equal(t, 201, code, "%v", order)
			orderUUID, _ := order["uuid"].(string)
			deadline := time.Now().Add(90 * time.Second)
			for {
				code, order = call(t, "GET", base+"/api/marketplace-orders/"+orderUUID+"/", malloryToken, nil)
				require.Equal(t, 200, code, "%v", order)
				if s := order["state"]; s == "done" || s == "erred" || s == "canceled" || s == "rejected" {
					break
				}
				require.True(t, time.Now().Before(deadline), "order still %v:\n%s", order["state"], p.stderr.String())
				time.Sleep(100 * time.Millisecond)
			}
			output, _ := order["output"].(string)
			t.Logf("order %v, output:\n%s", order["state"], output)
			require.Equal(t, "done", order["state"], "%v", order["error_message"])
			lines := map[string]string{}
			for _, l := range strings.Split(output, "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					lines[k] = v
				}
			}
			const warning = "Script offerings run WITHOUT a sandbox"
			if tc.mode == "none" {
				require.Contains(t, p.stderr.String(), warning, "serve warns at start-up")
				require.Contains(t, output, password, "without a sandbox the script reads the worker's environment")
				require.Contains(t, output, "wrote data")
				require.Equal(t, "reachable", lines["temporal"], "and reaches the Temporal frontend on the loopback")
				p.stop(t)
				return
			}
			require.NotContains(t, p.stderr.String(), warning)
			require.NotContains(t, output, password, "the staff password did not leak")
			require.NotContains(t, output, staffToken, "no staff token leaked")
			require.NotContains(t, lines["parent"], "WALDUR_")
			require.Equal(t, "0", lines["environs-with-waldur"])
			require.Contains(t, lines["db"], "No such file or directory", "the data directory is not in the sandbox")
			require.Contains(t, output, "cannot write data")
			require.Contains(t, lines["temporal"], "unreachable", "the worker machine's loopback services are out of reach")
			require.NoFileExists(t, filepath.Join(dataDir, "pwned"))
			require.NotEqual(t, "0", lines["uid"], "the script is not root")
			require.NotEmpty(t, lines["uid"])

			// The resource has the script's backend id.
			res, _ := order["marketplace_resource_uuid"].(string)
			code, r := call(t, "GET", base+"/api/marketplace-resources/"+res+"/", malloryToken, nil)
			require.Equal(t, 200, code, "%v", r)
			require.Equal(t, "attack-backend-1", r["backend_id"])
			p.stop(t)
		})
	}
}
