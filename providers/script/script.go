// Package script is the provider of Marketplace.Script offerings: it runs
// the offering's scripts, each in a sandbox (sandbox.go; Waldur runs them
// in a container, its SCRIPT_RUN_MODE).
//
// The scripts live in the offering's secret_options, as in Waldur:
//
//	language:  "shell" (run by Provider.Shell) or "python" (run by Provider.Python)
//	create:    script text run for Create orders
//	update:    script text run for Update orders
//	terminate: script text run for Terminate orders ("delete", Waldur's key, is accepted too)
//	pull:      script text run to refresh a resource (Provider.Pull)
//	environ:   extra environment variables: an object {"NAME": value} or
//	           Waldur's list [{"name": "NAME", "value": value}]
//
// Sandbox. Whoever may create an offering writes these scripts, so none
// runs with the worker's identity. By default (ModeBwrap) each run gets,
// through bubblewrap: new user, PID, IPC, UTS, cgroup and mount
// namespaces; /usr (and the /bin, /lib links) read-only and of /etc only
// what name resolution, TLS, the dynamic linker and user names need; the
// script read-only at /waldur/script; a fresh working directory at /work,
// the only writable place; its own /proc (no other process is visible)
// and a minimal /dev; the unprivileged uid 65534, no capabilities; limits
// on CPU time, memory, processes (counted in its own user namespace),
// file size and output (Limits). Its network is a namespace of its own
// connected outwards by slirp4netns, the worker machine's loopback out of
// reach (NetworkIsolated), unless the operator shares the worker's
// (NetworkHost) or the offering's plugin_options.sandbox_network is false
// (no network). ModeDocker and ModePodman run the language's image with
// the same limits; ModeNone runs a plain process (an operator's explicit
// choice). A sandbox that cannot start fails the order, saying so
// (SandboxError): a script never runs unsandboxed by accident.
//
// Each run gets a clean environment and a working directory (a fresh
// temporary directory unless Provider.WorkDir is set), and is killed with
// its whole process tree when Provider.Timeout expires.
//
// Environment. Waldur passes the order's serialized fields as UPPERCASE
// variables (values that are objects or lists as JSON, others as text);
// the same names are used here for the fields a providers.Request carries:
//
//	ORDER_UUID, ORDER_TYPE (Create|Update|Terminate|Pull), OFFERING_TYPE,
//	RESOURCE_UUID, RESOURCE_NAME, RESOURCE_BACKEND_ID, PROJECT_UUID,
//	PROJECT_NAME, CUSTOMER_UUID, CUSTOMER_NAME, OFFERING_UUID, OFFERING_NAME,
//	PLAN_NAME, ATTRIBUTES (JSON object), LIMITS (JSON object),
//	OLD_LIMITS (JSON object; the limits before an Update)
//
// UUIDs are 32 hex digits, as the API renders them. For convenience every
// attribute is also passed as ATTR_<NAME> and every limit as
// LIMITS_<COMPONENT> (names upper-cased, characters other than A-Z, 0-9 and
// _ replaced by _; string values as they are, others as JSON). Besides
// these, only PATH (the system's in a sandbox; the worker's in ModeNone),
// HOME and TMPDIR (the working directory: /work in a sandbox) and
// LANG=C.UTF-8 are set; the worker's own environment never leaks into a
// script. The offering's environ is applied last and may override any of
// them.
//
// Results. Exit status 0 completes the order; stdout (its first 1 MiB)
// becomes the order's output; a run that writes more than Limits.Output
// is stopped. On create, Waldur's convention gives the backend id:
// the last non-empty line of stdout is the resource's backend_id, or, when
// that line is two words "BACKEND_ID BASE64", the backend_id followed by a
// base64-encoded JSON object stored as the resource's backend_metadata.
// A non-zero exit status, a timeout, a missing script and an unknown
// language fail the order at once (providers.Permanent) with a message that
// holds the exit status and the tail of stderr.
//
// Idempotency. An activity may run a script more than once for the same
// order (a worker that dies mid-run, a lost completion report), so scripts
// MUST be idempotent, keyed on ORDER_UUID (or RESOURCE_UUID): look the
// resource up before creating it, tag what you create with the UUID, treat
// "already gone" as success when terminating.
package script

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Queue is the task queue of Script offerings' workers.
const Queue = "script"

// OfferingType is the offering type this plugin serves.
const OfferingType = "Marketplace.Script"

// Defaults of the Provider's knobs.
const (
	DefaultTimeout = 10 * time.Minute
	DefaultShell   = "/bin/sh"
	DefaultPython  = "python3"
	// MaxOutput caps what is kept of stdout and of stderr (each).
	MaxOutput = 1 << 20
	// MaxScript is the largest script accepted (Waldur: 1 MB).
	MaxScript = 1 << 20
	// errorTail is how much of stderr an error message carries.
	errorTail = 4096
	// waitDelay is how long output pipes may stay open after the script
	// exits (a background child holding them) before they are closed.
	waitDelay = 2 * time.Second
	// maxBackendID is the length of resources.backend_id.
	maxBackendID = 255
)

// Script languages (secret_options.language).
const (
	LanguageShell  = "shell"
	LanguagePython = "python"
)

// Provider runs scripts. The zero value uses the defaults.
type Provider struct {
	// Timeout bounds one run (DefaultTimeout when zero).
	Timeout time.Duration
	// Shell runs "shell" scripts (DefaultShell when empty).
	Shell string
	// Python runs "python" scripts (DefaultPython when empty).
	Python string
	// WorkDir is the scripts' working directory and HOME; when empty each
	// run gets a fresh temporary directory, removed afterwards. In a
	// sandbox it is mounted at /work.
	WorkDir string
	// Sandbox isolates each run (the zero value: bubblewrap, default
	// limits).
	Sandbox Sandbox
}

var (
	_ providers.Provider = Provider{}
	_ providers.Puller   = Provider{}
)

// Register adds the Script provider, with its defaults, to r on queue
// "script".
func Register(r *providers.Registry) { RegisterProvider(r, Provider{}) }

// RegisterProvider adds p to r on queue "script".
func RegisterProvider(r *providers.Registry, p Provider) {
	r.Register(p, Queue, OfferingType)
}

// Name implements providers.Provider.
func (Provider) Name() string { return Queue }

// Validate implements providers.Provider: the offering must define a script
// for the order's type in a known language (Waldur's validate_order).
func (p Provider) Validate(_ context.Context, r providers.Request) error {
	hook, err := hookOf(r.OrderType)
	if err != nil {
		return models.Errorf(models.CodeInvalid, "%s", err.Error())
	}
	if _, _, err := p.prepare(r, hook); err != nil {
		return models.Errorf(models.CodeInvalid, "%s", err.Error())
	}
	return nil
}

// Create implements providers.Provider: runs the create script; the last
// line of its output is the backend id.
func (p Provider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	res, err := p.run(ctx, r, "create")
	if err != nil {
		return res, err
	}
	id, meta, err := parseBackendID(res.Output)
	if err != nil {
		return res, providers.Permanent(err)
	}
	res.BackendID, res.Metadata = id, meta
	return res, nil
}

// Update implements providers.Provider: runs the update script.
func (p Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	return p.run(ctx, r, "update")
}

// Terminate implements providers.Provider: runs the terminate script.
func (p Provider) Terminate(ctx context.Context, r providers.Request) (providers.Result, error) {
	return p.run(ctx, r, "terminate")
}

// Pull implements providers.Puller: runs the pull script; its output is
// returned as Result.Output.
func (p Provider) Pull(ctx context.Context, r providers.Request) (providers.Result, error) {
	return p.run(ctx, r, "pull")
}

func hookOf(t models.OrderType) (string, error) {
	switch t {
	case models.OrderCreate:
		return "create", nil
	case models.OrderUpdate:
		return "update", nil
	case models.OrderTerminate:
		return "terminate", nil
	}
	return "", fmt.Errorf("Order type %q is not supported by script offerings.", t)
}

// prepare finds the script of hook and the interpreter of its language.
func (p Provider) prepare(r providers.Request, hook string) (src, interp string, err error) {
	opts := r.SecretOptions
	src, _ = opts[hook].(string)
	if hook == "terminate" && strings.TrimSpace(src) == "" {
		src, _ = opts["delete"].(string) // Waldur's name of the terminate hook
	}
	if strings.TrimSpace(src) == "" {
		return "", "", fmt.Errorf("Script for %s is not defined.", hook)
	}
	if len(src) > MaxScript {
		return "", "", fmt.Errorf("The length of script is more than 1 MB.")
	}
	lang, _ := opts["language"].(string)
	switch strings.ToLower(strings.TrimSpace(lang)) {
	case LanguageShell, "sh":
		interp = p.Shell
		if interp == "" {
			interp = DefaultShell
		}
	case LanguagePython, "python3":
		interp = p.Python
		if interp == "" {
			interp = DefaultPython
		}
	case "":
		return "", "", fmt.Errorf("Script language is not defined.")
	default:
		return "", "", fmt.Errorf("Script language %q is not supported.", lang)
	}
	return src, interp, nil
}

// run executes hook's script for r and returns its stdout as the output.
func (p Provider) run(ctx context.Context, r providers.Request, hook string) (providers.Result, error) {
	src, interp, err := p.prepare(r, hook)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	lang, _ := r.SecretOptions["language"].(string)
	j := job{hook: hook, language: canonicalLanguage(lang), interp: interp, network: networkAllowed(r.PluginOptions)}
	return p.runScript(ctx, j, src, func(home, path string) []string { return environment(r, hook, home, path) })
}

// networkAllowed reads the offering's plugin_options.sandbox_network
// (default true: scripts call their provider's APIs).
func networkAllowed(opts map[string]any) bool {
	switch v := opts[PluginOptionNetwork].(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "false", "0", "no", "off":
			return false
		}
	}
	return true
}

// PluginOptionNetwork is the offering's plugin_options key that, when
// false, runs its scripts without any network.
const PluginOptionNetwork = "sandbox_network"

func canonicalLanguage(lang string) string {
	switch strings.ToLower(strings.TrimSpace(lang)) {
	case LanguagePython, "python3":
		return LanguagePython
	}
	return LanguageShell
}

// runScript runs src as j in the provider's sandbox. env builds the
// environment from the script's HOME and PATH (nil: only those).
func (p Provider) runScript(ctx context.Context, j job, src string, env func(home, path string) []string) (providers.Result, error) {
	sb := p.Sandbox
	limits := sb.Limits.WithDefaults()
	var err error
	dir := p.WorkDir
	if dir == "" {
		dir, err = os.MkdirTemp("", "waldur-script-")
		if err != nil {
			return providers.Result{}, fmt.Errorf("script: work dir: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if dir, err = filepath.Abs(dir); err != nil {
		return providers.Result{}, fmt.Errorf("script: work dir: %w", err)
	}
	// The script lives outside the working directory (read-only in a sandbox).
	scriptDir, err := os.MkdirTemp("", "waldur-script-src-")
	if err != nil {
		return providers.Result{}, fmt.Errorf("script: write script: %w", err)
	}
	defer os.RemoveAll(scriptDir)
	if err := os.WriteFile(filepath.Join(scriptDir, "script"), []byte(src), 0o600); err != nil {
		return providers.Result{}, fmt.Errorf("script: write script: %w", err)
	}
	j.workDir, j.scriptDir = dir, scriptDir
	home, path := sandboxWork, sandboxPath
	if sb.mode() == ModeNone {
		home, path = dir, os.Getenv("PATH")
		if path == "" {
			path = sandboxPath
		}
	}
	if env != nil {
		j.env = env(home, path)
	} else {
		j.env = []string{"PATH=" + path, "HOME=" + home, "TMPDIR=" + home, "LANG=C.UTF-8"}
	}
	if err := sb.prepareDirs(j); err != nil {
		return providers.Result{}, fmt.Errorf("script: prepare directories: %w", err)
	}

	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	proc, err := sb.command(runCtx, j, limits)
	if err != nil {
		return providers.Result{}, providers.Permanent(&SandboxError{Mode: sb.mode(), Reason: err.Error()})
	}
	cmd := proc.cmd
	var stdout headBuffer
	var stderr tailBuffer
	count := newOutputCount(limits.Output, func() { _ = proc.kill(sb.program()) })
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = limitWriter{w: &stdout, count: count}
	cmd.Stderr = limitWriter{w: &stderr, count: count}
	// On timeout or cancellation kill the whole run, not only its first
	// process: children would otherwise outlive it.
	cmd.Cancel = func() error { return proc.kill(sb.program()) }
	cmd.WaitDelay = waitDelay

	err = cmd.Start()
	if len(cmd.ExtraFiles) > 0 {
		for _, f := range cmd.ExtraFiles {
			f.Close() // the child holds its copy
		}
	}
	if err != nil {
		if proc.status != nil {
			proc.status.Close()
		}
		if ctx.Err() != nil {
			return providers.Result{}, ctx.Err()
		}
		if sb.mode() != ModeNone {
			return providers.Result{}, providers.Permanent(&SandboxError{Mode: sb.mode(), Reason: err.Error()})
		}
		return providers.Result{}, providers.Permanent(fmt.Errorf("Script for %s could not be started: %v", j.hook, err))
	}
	proc.watchStatus()
	defer proc.release()
	if err := proc.connect(sb); err != nil {
		_ = proc.kill(sb.program())
		_ = cmd.Wait()
		if ctx.Err() != nil {
			return providers.Result{}, ctx.Err()
		}
		return providers.Result{}, providers.Permanent(&SandboxError{Mode: sb.mode(), Reason: err.Error() + tail(&stderr, &stdout)})
	}
	err = cmd.Wait()
	// The script's processes die with it, as a container's do when its
	// main process exits: no background child outlives the run. (A
	// container is removed by its client, or by Cancel when stopped.)
	_ = killGroup(cmd.Process)

	code := exitCode(err)
	if errors.Is(err, exec.ErrWaitDelay) {
		err, code = nil, 0 // exited with status 0; a background child held the pipes
	}
	var status bwrapStatus
	if proc.status != nil {
		select {
		case status = <-proc.statec:
		case <-time.After(waitDelay):
		}
		if status.exitCode != nil {
			code = *status.exitCode
		}
	}
	res := providers.Result{Done: true, Output: stdout.String()}
	switch {
	case ctx.Err() != nil:
		// The activity was cancelled (worker shutdown, workflow gone):
		// not the script's fault, let the workflow decide.
		return providers.Result{}, ctx.Err()
	case count.exceeded():
		return providers.Result{}, providers.PermanentWithOutput(fmt.Errorf("Script for %s was stopped: it wrote more than %s of output.", j.hook, bytesText(limits.Output)), stdout.String())
	case runCtx.Err() != nil:
		return providers.Result{}, providers.PermanentWithOutput(fmt.Errorf("Script for %s timed out after %s.%s", j.hook, timeout, tail(&stderr, &stdout)), stdout.String())
	case proc.status != nil && status.exitCode == nil:
		// bwrap reports the exit of what it ran; without it the sandbox
		// itself failed (namespaces, mounts) before the script ran.
		return providers.Result{}, providers.Permanent(&SandboxError{Mode: sb.mode(), Reason: sandboxReason(&stderr, err)})
	case proc.containerName != "" && code == containerEngineFailed:
		return providers.Result{}, providers.Permanent(&SandboxError{Mode: sb.mode(), Reason: sandboxReason(&stderr, err)})
	case err != nil:
		st := err.Error()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			st = exitErr.ProcessState.String() // "exit status 3", "signal: killed"
		}
		if proc.status != nil && status.exitCode != nil {
			st = "exit status " + strconv.Itoa(code)
		}
		if hint := limitHint(code, stderr.String(), limits); hint != "" && sb.mode() != ModeNone {
			st += " (" + hint + ")"
		}
		return providers.Result{}, providers.PermanentWithOutput(fmt.Errorf("Script for %s failed: %s.%s", j.hook, st, tail(&stderr, &stdout)), stdout.String())
	}
	return res, nil
}

// sandboxReason is why a sandbox did not start: the end of what it wrote.
func sandboxReason(stderr *tailBuffer, err error) string {
	s := strings.TrimSpace(stderr.String())
	if len(s) > errorTail {
		s = s[len(s)-errorTail:]
	}
	if s == "" && err != nil {
		return err.Error()
	}
	return s
}

// killGroup kills the process group led by proc (Setpgid makes the
// script's pid its group id).
func killGroup(proc *os.Process) error {
	if proc == nil {
		return nil
	}
	err := syscall.Kill(-proc.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// tail renders the end of stderr (or of stdout when stderr is empty) for
// an error message.
func tail(stderr *tailBuffer, stdout *headBuffer) string {
	s := strings.TrimSpace(stderr.String())
	if s == "" {
		s = strings.TrimSpace(stdout.String())
	}
	if s == "" {
		return ""
	}
	if len(s) > errorTail {
		s = s[len(s)-errorTail:]
		for i := 0; i < utf8.UTFMax && len(s) > 0 && !utf8.RuneStart(s[0]); i++ {
			s = s[1:]
		}
		s = "…" + s
	}
	return " " + s
}

// parseBackendID reads Waldur's create convention from the output's last
// non-empty line: "BACKEND_ID" or "BACKEND_ID BASE64(JSON object)".
func parseBackendID(out string) (string, map[string]any, error) {
	lines := strings.Split(out, "\n")
	var last string
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			last = l
			break
		}
	}
	if last == "" {
		return "", nil, nil
	}
	id := last
	var meta map[string]any
	if words := strings.Fields(last); len(words) == 2 {
		if raw, err := base64.StdEncoding.DecodeString(words[1]); err == nil {
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil && m != nil {
				id, meta = words[0], m
			}
		}
	}
	if id == "null" {
		return "", nil, errors.New("Backend id returned as null, will not proceed.")
	}
	if len(id) > maxBackendID {
		return "", nil, fmt.Errorf("Backend id returned by the script is longer than %d characters.", maxBackendID)
	}
	return id, meta, nil
}

// environment builds the script's clean environment; home is its working
// directory as the script sees it.
func environment(r providers.Request, hook, home, path string) []string {
	orderType := string(r.OrderType)
	if hook == "pull" {
		orderType = "Pull"
	}
	env := map[string]string{
		"PATH":                path,
		"HOME":                home,
		"TMPDIR":              home,
		"LANG":                "C.UTF-8",
		"ORDER_UUID":          uuidString(r.OrderUUID),
		"ORDER_TYPE":          orderType,
		"OFFERING_TYPE":       r.OfferingType,
		"RESOURCE_UUID":       uuidString(r.ResourceUUID),
		"RESOURCE_NAME":       r.ResourceName,
		"RESOURCE_BACKEND_ID": r.BackendID,
		"PROJECT_UUID":        uuidString(r.ProjectUUID),
		"PROJECT_NAME":        r.ProjectName,
		"CUSTOMER_UUID":       uuidString(r.CustomerUUID),
		"CUSTOMER_NAME":       r.CustomerName,
		"OFFERING_UUID":       uuidString(r.OfferingUUID),
		"OFFERING_NAME":       r.OfferingName,
		"PLAN_NAME":           r.PlanName,
		"ATTRIBUTES":          jsonObject(r.Attributes),
		"LIMITS":              jsonObject(r.Limits),
		"OLD_LIMITS":          jsonObject(r.OldLimits),
	}
	for k, v := range r.Attributes {
		if name := envName(k); name != "" {
			env["ATTR_"+name] = envValue(v)
		}
	}
	for k, v := range r.Limits {
		if name := envName(k); name != "" {
			env["LIMITS_"+name] = fmt.Sprint(v)
		}
	}
	switch environ := r.SecretOptions["environ"].(type) {
	case map[string]any:
		for k, v := range environ {
			if validName(k) {
				env[k] = envValue(v)
			}
		}
	case []any: // Waldur's [{"name": ..., "value": ...}]
		for _, item := range environ {
			if m, ok := item.(map[string]any); ok {
				if k, _ := m["name"].(string); validName(k) {
					env[k] = envValue(m["value"])
				}
			}
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+strings.ReplaceAll(v, "\x00", ""))
	}
	sort.Strings(out)
	return out
}

func uuidString(u models.UUID) string {
	if u == (models.UUID{}) {
		return ""
	}
	return u.String()
}

func jsonObject[V any](m map[string]V) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// envValue renders a JSON value as Waldur does: strings as they are,
// null as empty, anything else as JSON.
func envValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// envName upper-cases key and replaces characters other than A-Z, 0-9 and
// _ by _.
func envName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func validName(k string) bool {
	return k != "" && !strings.ContainsAny(k, "=\x00")
}

// headBuffer keeps the first MaxOutput bytes written and drops the rest
// (still accepting it, so the script never blocks on a full pipe).
type headBuffer struct{ buf bytes.Buffer }

func (b *headBuffer) Write(p []byte) (int, error) {
	if room := MaxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *headBuffer) String() string { return b.buf.String() }

// tailBuffer keeps the last MaxOutput bytes written.
type tailBuffer struct{ buf []byte }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*MaxOutput {
		b.buf = append(b.buf[:0:0], b.buf[len(b.buf)-MaxOutput:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	if len(b.buf) > MaxOutput {
		return string(b.buf[len(b.buf)-MaxOutput:])
	}
	return string(b.buf)
}
