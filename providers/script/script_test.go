package script

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

func request(t models.OrderType, opts map[string]any) providers.Request {
	return providers.Request{
		OrderUUID:     models.NewUUID(),
		OrderType:     t,
		ResourceUUID:  models.NewUUID(),
		ResourceName:  "my vm",
		BackendID:     "vm-7",
		OfferingType:  OfferingType,
		SecretOptions: opts,
		Attributes:    map[string]any{"name": "my vm", "ssh-key": "ssh-rsa AAA", "count": 3, "tags": []any{"a", "b"}},
		Limits:        map[string]int64{"cpu": 4, "ram": 8192},
		OldLimits:     map[string]int64{"cpu": 2},
		PlanName:      "small",
		ProjectUUID:   models.NewUUID(),
		ProjectName:   "Science",
		CustomerUUID:  models.NewUUID(),
		CustomerName:  "University",
		OfferingUUID:  models.NewUUID(),
		OfferingName:  "Scripted VMs",
	}
}

// envLines parses "KEY=value" lines.
func envLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func requirePermanent(t *testing.T, err error, contains ...string) {
	t.Helper()
	require.Error(t, err)
	var perm *providers.PermanentError
	require.True(t, errors.As(err, &perm), "want a permanent error, got %T: %v", err, err)
	for _, c := range contains {
		require.Contains(t, err.Error(), c)
	}
}

const shellEnv = `for v in ORDER_UUID ORDER_TYPE OFFERING_TYPE RESOURCE_UUID RESOURCE_NAME RESOURCE_BACKEND_ID \
PROJECT_UUID PROJECT_NAME CUSTOMER_UUID CUSTOMER_NAME OFFERING_UUID OFFERING_NAME PLAN_NAME ATTRIBUTES LIMITS OLD_LIMITS ATTR_NAME ATTR_SSH_KEY ATTR_COUNT ATTR_TAGS \
LIMITS_CPU LIMITS_RAM HOME LANG LEAKED_FROM_WORKER; do eval "printf '%s=%s\n' $v \"\${$v}\""; done
echo "PWD=$(pwd)"
`

const pythonEnv = `import os
for v in ["ORDER_UUID", "ORDER_TYPE", "OFFERING_TYPE", "RESOURCE_UUID", "RESOURCE_NAME", "RESOURCE_BACKEND_ID",
          "PROJECT_UUID", "PROJECT_NAME", "CUSTOMER_UUID", "CUSTOMER_NAME", "OFFERING_UUID", "OFFERING_NAME", "PLAN_NAME", "ATTRIBUTES", "LIMITS", "OLD_LIMITS", "ATTR_NAME",
          "ATTR_SSH_KEY", "ATTR_COUNT", "ATTR_TAGS", "LIMITS_CPU", "LIMITS_RAM", "HOME", "LANG", "LEAKED_FROM_WORKER"]:
    print(v + "=" + os.environ.get(v, ""))
print("PWD=" + os.getcwd())
`

// reachableDir is a fresh directory the sandbox's user can reach (a
// test's TempDir sits below a directory only its owner may enter).
func reachableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "waldur-script-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o777))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestScriptsSeeTheOrder(t *testing.T) {
	t.Setenv("LEAKED_FROM_WORKER", "secret")
	for _, mode := range []Mode{ModeBwrap, ModeNone} {
		for _, tc := range []struct{ language, src string }{
			{"shell", shellEnv + "echo\necho vm-backend-42\necho\n"},
			{"python", pythonEnv + "print()\nprint('vm-backend-42')\nprint()\n"},
		} {
			t.Run(string(mode)+"/"+tc.language, func(t *testing.T) {
				dir := reachableDir(t)
				p := Provider{WorkDir: dir, Sandbox: Sandbox{Mode: mode}}
				r := request(models.OrderCreate, map[string]any{"language": tc.language, "create": tc.src})
				require.NoError(t, p.Validate(context.Background(), r))
				res, err := p.Create(context.Background(), r)
				require.NoError(t, err)
				require.True(t, res.Done)
				require.Equal(t, "vm-backend-42", res.BackendID)
				require.Nil(t, res.Metadata)
				require.Contains(t, res.Output, "vm-backend-42")

				env := envLines(res.Output)
				// In a sandbox the working directory is mounted at /work.
				home := "/work"
				if mode == ModeNone {
					home = dir
				}
				for k, v := range map[string]string{
					"ORDER_UUID":          r.OrderUUID.String(),
					"ORDER_TYPE":          "Create",
					"OFFERING_TYPE":       "Marketplace.Script",
					"RESOURCE_UUID":       r.ResourceUUID.String(),
					"RESOURCE_NAME":       "my vm",
					"RESOURCE_BACKEND_ID": "vm-7",
					"PROJECT_UUID":        r.ProjectUUID.String(),
					"CUSTOMER_UUID":       r.CustomerUUID.String(),
					"PROJECT_NAME":        "Science",
					"CUSTOMER_NAME":       "University",
					"OFFERING_UUID":       r.OfferingUUID.String(),
					"OFFERING_NAME":       "Scripted VMs",
					"PLAN_NAME":           "small",
					"ATTRIBUTES":          `{"count":3,"name":"my vm","ssh-key":"ssh-rsa AAA","tags":["a","b"]}`,
					"LIMITS":              `{"cpu":4,"ram":8192}`,
					"OLD_LIMITS":          `{"cpu":2}`,
					"ATTR_NAME":           "my vm",
					"ATTR_SSH_KEY":        "ssh-rsa AAA",
					"ATTR_COUNT":          "3",
					"ATTR_TAGS":           `["a","b"]`,
					"LIMITS_CPU":          "4",
					"LIMITS_RAM":          "8192",
					"HOME":                home,
					"LANG":                "C.UTF-8",
					"LEAKED_FROM_WORKER":  "",
				} {
					require.Equal(t, v, env[k], k)
				}
				gotPwd, err := filepath.EvalSymlinks(env["PWD"])
				require.NoError(t, err)
				wantPwd, err := filepath.EvalSymlinks(dir)
				require.NoError(t, err)
				if mode != ModeNone {
					wantPwd = "/work"
				}
				require.Equal(t, wantPwd, gotPwd)
			})
		}
	}
}

func TestBackendIDAndMetadata(t *testing.T) {
	meta := base64.StdEncoding.EncodeToString([]byte(`{"ip":"10.0.0.5","cores":2}`))
	for _, tc := range []struct {
		name, out, id string
		meta          map[string]any
		err           string
	}{
		{name: "single word", out: "creating\nvm-1\n", id: "vm-1"},
		{name: "trailing blank lines", out: "vm-2\n\n  \n", id: "vm-2"},
		{name: "id and metadata", out: "vm-3 " + meta + "\n", id: "vm-3", meta: map[string]any{"ip": "10.0.0.5", "cores": float64(2)}},
		{name: "whole last line", out: "created resource vm-4\n", id: "created resource vm-4"},
		{name: "two words not metadata", out: "vm 5\n", id: "vm 5"},
		{name: "no output", out: "", id: ""},
		{name: "null", out: "null\n", err: "Backend id returned as null"},
		{name: "too long", out: strings.Repeat("x", 256) + "\n", err: "longer than 255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "printf '%s' '" + tc.out + "'"
			r := request(models.OrderCreate, map[string]any{"language": "shell", "create": src})
			res, err := Provider{}.Create(context.Background(), r)
			if tc.err != "" {
				requirePermanent(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.id, res.BackendID)
			require.Equal(t, tc.meta, res.Metadata)
			require.Equal(t, tc.out, res.Output)
		})
	}
}

func TestUpdateTerminatePull(t *testing.T) {
	ctx := context.Background()
	opts := map[string]any{
		"language":  "shell",
		"update":    `echo "update $ORDER_TYPE $LIMITS_CPU $OLD_LIMITS"`,
		"terminate": `echo "terminate $ORDER_TYPE $RESOURCE_BACKEND_ID"`,
		"pull":      `echo "pull $ORDER_TYPE $RESOURCE_BACKEND_ID"`,
	}
	res, err := Provider{}.Update(ctx, request(models.OrderUpdate, opts))
	require.NoError(t, err)
	require.Equal(t, providers.Result{Done: true, Output: "update Update 4 {\"cpu\":2}\n"}, res)

	res, err = Provider{}.Terminate(ctx, request(models.OrderTerminate, opts))
	require.NoError(t, err)
	require.Equal(t, providers.Result{Done: true, Output: "terminate Terminate vm-7\n"}, res)

	res, err = Provider{}.Pull(ctx, request(models.OrderCreate, opts))
	require.NoError(t, err)
	require.Equal(t, providers.Result{Done: true, Output: "pull Pull vm-7\n"}, res)

	// Waldur names the terminate hook "delete".
	res, err = Provider{}.Terminate(ctx, request(models.OrderTerminate, map[string]any{"language": "python", "delete": "print('deleted')"}))
	require.NoError(t, err)
	require.Equal(t, "deleted\n", res.Output)
}

func TestEnviron(t *testing.T) {
	src := `echo "$USERNAME/$PASSWORD/$PLAN_NAME/$OBJ"`
	for name, environ := range map[string]any{
		"object": map[string]any{"USERNAME": "admin", "PASSWORD": "s3cret", "PLAN_NAME": "overridden", "OBJ": map[string]any{"a": 1}, "BAD=NAME": "x"},
		"list": []any{
			map[string]any{"name": "USERNAME", "value": "admin"},
			map[string]any{"name": "PASSWORD", "value": "s3cret"},
			map[string]any{"name": "PLAN_NAME", "value": "overridden"},
			map[string]any{"name": "OBJ", "value": map[string]any{"a": 1}},
			"not an object",
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := request(models.OrderUpdate, map[string]any{"language": "shell", "update": src, "environ": environ})
			res, err := Provider{}.Update(context.Background(), r)
			require.NoError(t, err)
			require.Equal(t, "admin/s3cret/overridden/{\"a\":1}\n", res.Output)
		})
	}
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts map[string]any
		want []string
	}{
		{"non-zero exit shell", map[string]any{"language": "shell", "create": "echo partial; echo 'quota exceeded on backend' >&2; exit 3"},
			[]string{"Script for create failed: exit status 3.", "quota exceeded on backend"}},
		{"python exception", map[string]any{"language": "python", "create": "raise RuntimeError('backend refused')"},
			[]string{"exit status 1", "RuntimeError: backend refused"}},
		{"stdout when stderr is empty", map[string]any{"language": "shell", "create": "echo only-stdout; exit 2"},
			[]string{"exit status 2", "only-stdout"}},
		{"missing script", map[string]any{"language": "shell", "update": "echo"},
			[]string{"Script for create is not defined."}},
		{"blank script", map[string]any{"language": "shell", "create": "  \n"},
			[]string{"Script for create is not defined."}},
		{"no secret options", nil, []string{"Script for create is not defined."}},
		{"unknown language", map[string]any{"language": "ruby", "create": "puts 1"},
			[]string{`Script language "ruby" is not supported.`}},
		{"missing language", map[string]any{"create": "echo"}, []string{"Script language is not defined."}},
		{"script too large", map[string]any{"language": "shell", "create": strings.Repeat("#", MaxScript+1)},
			[]string{"more than 1 MB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(models.OrderCreate, tc.opts)
			_, err := Provider{}.Create(ctx, r)
			requirePermanent(t, err, tc.want...)
		})
	}
}

func TestValidate(t *testing.T) {
	ctx := context.Background()
	ok := request(models.OrderTerminate, map[string]any{"language": "python", "terminate": "pass"})
	require.NoError(t, Provider{}.Validate(ctx, ok))

	err := Provider{}.Validate(ctx, request(models.OrderUpdate, map[string]any{"language": "python", "create": "pass"}))
	require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
	require.Contains(t, err.Error(), "Script for update is not defined.")

	err = Provider{}.Validate(ctx, request(models.OrderCreate, map[string]any{"language": "perl", "create": "1"}))
	require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
}

func TestErrorCarriesTheTailOfStderr(t *testing.T) {
	src := `import sys
sys.stderr.write("x" * 100000 + "THE END")
sys.exit(4)`
	_, err := Provider{}.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": "python", "create": src}))
	requirePermanent(t, err, "exit status 4", "THE END")
	require.Less(t, len(err.Error()), errorTail+200)
}

// hostProcesses lists the live (not zombie) processes of the whole
// machine whose command line holds marker: a sandbox's processes have
// other pids inside, so they are found from the host's /proc.
func hostProcesses(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), marker) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) S ...": the state follows the last ')'.
		st := string(stat)
		if i := strings.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) && (st[i+2] == 'Z' || st[i+2] == 'X') {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// backgroundChild starts a marked background process that would outlive
// the script, and reports once it runs.
func backgroundChild(marker string) string {
	return `sh -c 'sleep 1000; true ` + marker + `' &
while ! grep -q ` + marker + ` /proc/[0-9]*/cmdline 2>/dev/null; do sleep 0.01; done
echo started
`
}

func TestTimeoutKillsTheProcessTree(t *testing.T) {
	for _, mode := range []Mode{ModeBwrap, ModeNone} {
		t.Run(string(mode), func(t *testing.T) {
			marker := "marker" + models.NewUUID().String()
			p := Provider{Timeout: 2 * time.Second, Sandbox: Sandbox{Mode: mode}}
			src := backgroundChild(marker) + "sleep 100\necho never"
			_, err := p.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": "shell", "create": src}))
			requirePermanent(t, err, "Script for create timed out after 2s.")
			// SIGKILL was sent before Create returned; the kernel may take
			// a moment to finish the child off.
			require.Eventually(t, func() bool { return len(hostProcesses(marker)) == 0 }, 10*time.Second, 10*time.Millisecond,
				"the script's child survived the timeout")
		})
	}
}

func TestBackgroundChildDoesNotOutliveASuccessfulRun(t *testing.T) {
	for _, mode := range []Mode{ModeBwrap, ModeNone} {
		t.Run(string(mode), func(t *testing.T) {
			marker := "marker" + models.NewUUID().String()
			src := backgroundChild(marker) + "echo vm-9"
			res, err := Provider{Sandbox: Sandbox{Mode: mode}}.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": "shell", "create": src}))
			require.NoError(t, err)
			require.Equal(t, "vm-9", res.BackendID)
			require.Eventually(t, func() bool { return len(hostProcesses(marker)) == 0 }, 10*time.Second, 10*time.Millisecond)
		})
	}
}

func TestCancelledActivityIsNotPermanent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Provider{Timeout: time.Minute}.Update(ctx, request(models.OrderUpdate, map[string]any{"language": "shell", "update": "sleep 100"}))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var perm *providers.PermanentError
	require.False(t, errors.As(err, &perm))

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = Provider{}.Update(done, request(models.OrderUpdate, map[string]any{"language": "shell", "update": "echo"}))
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.As(err, &perm))
}

func TestLargeOutputIsCapped(t *testing.T) {
	src := `import sys
sys.stdout.write("a" * (3 * 1024 * 1024))
sys.stderr.write("b" * (3 * 1024 * 1024))`
	res, err := Provider{}.Update(context.Background(), request(models.OrderUpdate, map[string]any{"language": "python", "update": src}))
	require.NoError(t, err)
	require.Len(t, res.Output, MaxOutput)
	require.Equal(t, strings.Repeat("a", MaxOutput), res.Output)
}

func TestTempWorkDirIsRemoved(t *testing.T) {
	base := reachableDir(t)
	t.Setenv("TMPDIR", base) // where the run's directories are made
	res, err := Provider{}.Update(context.Background(), request(models.OrderUpdate, map[string]any{"language": "shell",
		"update": "set -e; touch \"$HOME/left-behind\"; ls \"$HOME\""}))
	require.NoError(t, err)
	require.Equal(t, "left-behind\n", res.Output)
	left, err := os.ReadDir(base)
	require.NoError(t, err)
	require.Empty(t, left, "the run's directories are removed")
}

func TestBuffers(t *testing.T) {
	var h headBuffer
	for i := 0; i < 3; i++ {
		n, err := h.Write(make([]byte, MaxOutput/2+1))
		require.NoError(t, err)
		require.Equal(t, MaxOutput/2+1, n)
	}
	require.Len(t, h.String(), MaxOutput)

	var tb tailBuffer
	for i := 0; i < 5; i++ {
		_, _ = tb.Write([]byte(strings.Repeat(strconv.Itoa(i), MaxOutput/2)))
	}
	s := tb.String()
	require.Len(t, s, MaxOutput)
	require.Equal(t, strings.Repeat("3", MaxOutput/2)+strings.Repeat("4", MaxOutput/2), s)
}

func TestRegister(t *testing.T) {
	r := providers.NewRegistry()
	Register(r)
	p, queue, err := r.Lookup(OfferingType)
	require.NoError(t, err)
	require.Equal(t, "script", queue)
	require.Equal(t, "script", p.Name())
	_, isPuller := p.(providers.Puller)
	require.True(t, isPuller)
}
