package script

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Mode names how a script is isolated from the worker (Waldur's
// SCRIPT_RUN_MODE; WALDUR_SCRIPT_RUN_MODE here).
type Mode string

const (
	// ModeBwrap runs each script under bubblewrap: new user, PID, IPC, UTS,
	// cgroup and mount namespaces, the system directories read-only, a
	// fresh working directory as the only writable place, an unprivileged
	// uid, and resource limits. The default.
	ModeBwrap Mode = "bwrap"
	// ModeDocker runs each script in a container of the language's image.
	ModeDocker Mode = "docker"
	// ModePodman is ModeDocker with podman.
	ModePodman Mode = "podman"
	// ModeNone runs scripts as plain processes of the worker's user: only
	// for operators who isolate the worker themselves.
	ModeNone Mode = "none"
)

// Network says what network a script that may use one gets in the bwrap
// sandbox (WALDUR_SCRIPT_NETWORK). An offering turns the network off
// altogether with plugin_options.sandbox_network = false.
type Network string

const (
	// NetworkIsolated gives the sandbox its own network namespace,
	// connected outwards through slirp4netns (user-mode NAT, as rootless
	// containers do) with the host's loopback unreachable: the script
	// reaches its provider's APIs, not the services the worker's machine
	// serves on 127.0.0.1 (Temporal, the database). The default.
	NetworkIsolated Network = "isolated"
	// NetworkHost shares the worker's network namespace: loopback
	// services are reachable. Only where nothing listens there unguarded.
	NetworkHost Network = "host"
)

// ParseNetwork reads a network name; empty is NetworkIsolated.
func ParseNetwork(s string) (Network, error) {
	switch n := Network(strings.ToLower(strings.TrimSpace(s))); n {
	case "":
		return NetworkIsolated, nil
	case NetworkIsolated, NetworkHost:
		return n, nil
	}
	return "", fmt.Errorf("%q is not one of isolated, host", s)
}

// Addresses of slirp4netns's user-mode network, as a sandbox sees them.
const (
	slirpDNS     = "10.0.2.3"
	slirpTimeout = 10 * time.Second
)

// Modes lists the valid modes.
var Modes = []Mode{ModeBwrap, ModeDocker, ModePodman, ModeNone}

// ParseMode reads a mode name; empty is ModeBwrap.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if m == "" {
		return ModeBwrap, nil
	}
	for _, v := range Modes {
		if m == v {
			return m, nil
		}
	}
	return "", fmt.Errorf("%q is not one of bwrap, docker, podman, none", s)
}

// Limits bound one run of a script. A zero field takes its default.
type Limits struct {
	// CPUTime is the CPU time one process of the script may use
	// (RLIMIT_CPU; a container's --ulimit cpu).
	CPUTime time.Duration
	// Memory is the address space of one process (RLIMIT_AS) in bwrap
	// mode, the container's memory in docker and podman modes, in bytes.
	Memory int64
	// Processes is how many processes and threads the script may have at
	// once (RLIMIT_NPROC inside the sandbox's user namespace; --pids-limit).
	Processes int
	// Output is how many bytes of stdout and stderr together a run may
	// write before it is stopped.
	Output int64
	// FileSize is the largest file the script may write (RLIMIT_FSIZE).
	FileSize int64
}

// Default limits.
const (
	DefaultCPUTime   = 5 * time.Minute
	DefaultMemory    = 1 << 30  // 1 GiB
	DefaultProcesses = 128      //
	DefaultOutput    = 16 << 20 // 16 MiB written in all (MaxOutput of it kept)
	DefaultFileSize  = 1 << 30  // 1 GiB
)

// WithDefaults fills the zero fields.
func (l Limits) WithDefaults() Limits {
	if l.CPUTime <= 0 {
		l.CPUTime = DefaultCPUTime
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.Processes <= 0 {
		l.Processes = DefaultProcesses
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	if l.FileSize <= 0 {
		l.FileSize = DefaultFileSize
	}
	return l
}

// DefaultImages are Waldur's DOCKER_IMAGES: the image per language in
// docker and podman modes.
var DefaultImages = map[string]string{LanguagePython: "python:3.11-alpine", LanguageShell: "alpine:3"}

// DefaultSandboxID is the uid and gid a root worker runs the sandbox as
// (nobody): the script never holds the worker's identity.
const DefaultSandboxID = 65534

// Sandbox says how scripts run. The zero value is bubblewrap with the
// default limits.
type Sandbox struct {
	Mode   Mode
	Limits Limits
	// Images maps a language to its image in docker and podman modes
	// (DefaultImages for missing ones).
	Images map[string]string
	// UID and GID are the unprivileged ids a worker running as root
	// starts the sandbox as (DefaultSandboxID when zero). A worker that is
	// not root runs it as itself, inside a user namespace.
	UID, GID int
	// Program is the bwrap, docker or podman executable (looked up in
	// PATH by the mode's name when empty).
	Program string
	// Network is the bwrap sandbox's network (NetworkIsolated when empty).
	Network Network
	// Slirp is the slirp4netns executable (from PATH when empty).
	Slirp string
}

// sandboxPath is PATH inside a sandbox: the system's, never the worker's.
const sandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Where a run's directories appear inside a sandbox.
const (
	sandboxWork   = "/work"
	sandboxScript = "/waldur"
)

// etcFiles are the parts of /etc a sandbox sees (name resolution, TLS
// roots, the dynamic linker, Debian's alternatives, users and groups);
// the rest of /etc (where configuration and secrets live) is not there.
var etcFiles = []string{
	"alternatives", "ca-certificates", "ca-certificates.conf", "gai.conf", "group", "host.conf", "hosts",
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types", "nsswitch.conf", "passwd",
	"protocols", "resolv.conf", "services", "ssl",
}

// job is one run of one script.
type job struct {
	hook     string
	language string
	// interp runs the script; in bwrap mode it is looked up inside the
	// sandbox (system PATH).
	interp string
	// scriptDir holds the script file, named script; mounted read-only.
	scriptDir string
	// workDir is the run's working directory on the host.
	workDir string
	// env is the script's environment (KEY=value), HOME and TMPDIR
	// included.
	env     []string
	network bool
}

// process is a started run.
type process struct {
	cmd *exec.Cmd
	// status reads bwrap's JSON status (nil in other modes).
	status *os.File
	// containerName names the container (docker and podman modes).
	containerName string
	// block holds an isolated-network sandbox before it runs the script,
	// until its network is up (bwrap --block-fd).
	block *os.File
	// statusc delivers bwrap's status: the sandbox's pid once it exists,
	// then its end.
	pidc   chan int
	statec chan bwrapStatus
	// slirp is the sandbox's network (NetworkIsolated).
	slirp *exec.Cmd
}

// program is the executable of the sandbox.
func (s Sandbox) program() string {
	if s.Program != "" {
		return s.Program
	}
	return string(s.mode())
}

func (s Sandbox) mode() Mode {
	if s.Mode == "" {
		return ModeBwrap
	}
	return s.Mode
}

func (s Sandbox) ids() (int, int) {
	uid, gid := s.UID, s.GID
	if uid <= 0 {
		uid = DefaultSandboxID
	}
	if gid <= 0 {
		gid = DefaultSandboxID
	}
	return uid, gid
}

// dropPrivileges reports whether the sandbox is started as UID/GID: only
// a root worker can, and must.
func dropPrivileges() bool { return os.Geteuid() == 0 }

// prepareDirs hands the run's directories to the sandbox's user.
func (s Sandbox) prepareDirs(j job) error {
	if s.mode() == ModeNone {
		return nil
	}
	if err := os.Chmod(j.scriptDir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(j.scriptDir, "script"), 0o644); err != nil {
		return err
	}
	if !dropPrivileges() {
		return os.Chmod(j.workDir, 0o777) // a container user must be able to write it
	}
	uid, gid := s.ids()
	return os.Chown(j.workDir, uid, gid)
}

// command builds the command of j (not started yet); ctx ends it.
func (s Sandbox) command(ctx context.Context, j job, l Limits) (*process, error) {
	switch s.mode() {
	case ModeNone:
		cmd := exec.CommandContext(ctx, j.interp, filepath.Join(j.scriptDir, "script"))
		cmd.Dir = j.workDir
		cmd.Env = j.env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return &process{cmd: cmd}, nil
	case ModeBwrap:
		return s.bwrap(ctx, j, l)
	case ModeDocker, ModePodman:
		return s.container(ctx, j, l)
	}
	return nil, fmt.Errorf("unknown script run mode %q", s.Mode)
}

// prlimitArgs is the command that sets the limits on itself and then
// runs the script (util-linux's prlimit, inside the sandbox, after the
// user namespace exists: the process count is the sandbox's own).
func prlimitArgs(l Limits) []string {
	cpu := int64(l.CPUTime / time.Second)
	if cpu < 1 {
		cpu = 1
	}
	return []string{"prlimit",
		fmt.Sprintf("--cpu=%d:%d", cpu, cpu+1),
		fmt.Sprintf("--as=%d", l.Memory),
		fmt.Sprintf("--nproc=%d", l.Processes),
		fmt.Sprintf("--fsize=%d", l.FileSize),
		"--core=0", "--nofile=1024", "--"}
}

func (s Sandbox) bwrap(ctx context.Context, j job, l Limits) (*process, error) {
	args := []string{
		"--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try",
		"--uid", strconv.Itoa(DefaultSandboxID), "--gid", strconv.Itoa(DefaultSandboxID),
		"--hostname", "waldur-script",
		"--die-with-parent", "--new-session", "--cap-drop", "ALL",
		"--ro-bind", "/usr", "/usr",
	}
	isolated := j.network && s.network() == NetworkIsolated
	if !j.network || isolated {
		args = append(args, "--unshare-net")
	}
	// Merged-/usr systems have /bin -> usr/bin and so on; others have
	// real directories.
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(d)
			if err == nil {
				args = append(args, "--symlink", target, d)
			}
		case fi.IsDir():
			args = append(args, "--ro-bind", d, d)
		}
	}
	for _, f := range etcFiles {
		if f == "resolv.conf" && isolated {
			// The host's resolver may be on its loopback: ask slirp's.
			resolv := filepath.Join(j.scriptDir, "resolv.conf")
			if err := os.WriteFile(resolv, []byte("nameserver "+slirpDNS+"\n"), 0o644); err != nil {
				return nil, err
			}
			args = append(args, "--ro-bind", resolv, "/etc/resolv.conf")
			continue
		}
		args = append(args, "--ro-bind-try", "/etc/"+f, "/etc/"+f)
	}
	args = append(args,
		"--proc", "/proc", "--dev", "/dev",
		"--bind", j.workDir, sandboxWork,
		"--ro-bind", j.scriptDir, sandboxScript,
		"--chdir", sandboxWork,
		"--remount-ro", "/",
		"--json-status-fd", "3")
	if isolated {
		args = append(args, "--block-fd", "4")
	}
	args = append(args, "--")
	args = append(args, prlimitArgs(l)...)
	args = append(args, j.interp, sandboxScript+"/script")

	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, s.program(), args...)
	cmd.Dir = "/" // the sandbox user may not reach the worker's directory
	cmd.Env = j.env
	cmd.ExtraFiles = []*os.File{w} // fd 3: --json-status-fd
	cmd.SysProcAttr = s.credentials()
	p := &process{cmd: cmd, status: r}
	if isolated {
		br, bw, err := os.Pipe()
		if err != nil {
			r.Close()
			w.Close()
			return nil, err
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, br) // fd 4: --block-fd
		p.block = bw
	}
	return p, nil
}

// credentials start a process of the sandbox in its own process group,
// as the sandbox's user when the worker is root.
func (s Sandbox) credentials() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if dropPrivileges() {
		uid, gid := s.ids()
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	return attr
}

func (s Sandbox) network() Network {
	if s.Network == "" {
		return NetworkIsolated
	}
	return s.Network
}

// watchStatus reads bwrap's status as it comes.
func (p *process) watchStatus() {
	if p.status == nil {
		return
	}
	p.pidc = make(chan int, 1)
	p.statec = make(chan bwrapStatus, 1)
	go func() {
		defer p.status.Close()
		p.statec <- readBwrapStatus(p.status, p.pidc)
	}()
}

// connect gives a started isolated-network sandbox its network, then
// lets it run the script: slirp4netns joins the user namespace that owns
// the sandbox's network namespace (bwrap nests a second one for the
// script), creates tap0 there and configures it.
func (p *process) connect(s Sandbox) error {
	if p.block == nil {
		return nil
	}
	defer p.block.Close()
	var pid int
	select {
	case pid = <-p.pidc:
	case <-time.After(slirpTimeout):
		return errors.New("bwrap did not report its sandbox")
	}
	if pid <= 0 {
		return errors.New("bwrap ended before its sandbox existed")
	}
	// bwrap brings up the sandbox's loopback itself: configuring tap0 at
	// the same time breaks that, so wait until it blocks on fd 4, its
	// set-up done.
	if err := waitBlocked(pid, 4, slirpTimeout); err != nil {
		return err
	}
	netns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return err
	}
	defer netns.Close()
	fd, err := unix.IoctlRetInt(int(netns.Fd()), unix.NS_GET_USERNS)
	if err != nil {
		return fmt.Errorf("the owner of the sandbox's network namespace: %w", err)
	}
	userns := os.NewFile(uintptr(fd), "userns")
	defer userns.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	program := s.Slirp
	if program == "" {
		program = "slirp4netns"
	}
	var stderr tailBuffer
	cmd := exec.Command(program, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-seccomp",
		"--userns-path=/proc/self/fd/3", "--ready-fd=4", strconv.Itoa(pid), "tap0")
	cmd.ExtraFiles = []*os.File{userns, readyW}
	cmd.Stderr = &stderr
	cmd.SysProcAttr = s.credentials()
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	p.slirp = cmd
	ready := make(chan bool, 1)
	go func() {
		b := make([]byte, 1)
		n, _ := readyR.Read(b)
		ready <- n == 1
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			return fmt.Errorf("network: %s", lastLine(stderr.String(), errors.New("slirp4netns failed")))
		}
	case <-time.After(slirpTimeout):
		return errors.New("network: slirp4netns did not start in time")
	}
	_, err = p.block.Write([]byte{1})
	return err
}

// waitBlocked waits until process pid is reading descriptor fd (its
// current system call, from /proc/PID/syscall).
func waitBlocked(pid, fd int, timeout time.Duration) error {
	want := []string{strconv.Itoa(int(unix.SYS_READ)), "0x" + strconv.FormatInt(int64(fd), 16)}
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return fmt.Errorf("the sandbox's set-up: %w", err)
		}
		if f := strings.Fields(string(b)); len(f) >= 2 && f[0] == want[0] && f[1] == want[1] {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the sandbox's set-up did not finish in time")
		}
		time.Sleep(time.Millisecond)
	}
}

// release ends what the run started besides its processes.
func (p *process) release() {
	if p.slirp != nil && p.slirp.Process != nil {
		_ = p.slirp.Process.Kill()
		_ = p.slirp.Wait()
	}
}

// containerEnv are the worker's variables the docker or podman client
// itself needs; they are not passed into the container.
var containerEnv = []string{"PATH", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY",
	"DOCKER_CONFIG", "CONTAINER_HOST", "CONTAINERS_CONF", "XDG_RUNTIME_DIR"}

func (s Sandbox) container(ctx context.Context, j job, l Limits) (*process, error) {
	image := s.Images[j.language]
	if image == "" {
		image = DefaultImages[j.language]
	}
	if image == "" {
		return nil, fmt.Errorf("no image is configured for %s scripts", j.language)
	}
	name := "waldur-script-" + randomHex(8)
	uid, gid := s.ids()
	network := "bridge"
	if !j.network {
		network = "none"
	}
	cpu := int64(l.CPUTime / time.Second)
	if cpu < 1 {
		cpu = 1
	}
	args := []string{"run", "--rm", "-i", "--name", name,
		"--network", network,
		"--user", fmt.Sprintf("%d:%d", uid, gid),
		"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--pids-limit", strconv.Itoa(l.Processes),
		"--memory", strconv.FormatInt(l.Memory, 10), "--memory-swap", strconv.FormatInt(l.Memory, 10),
		"--ulimit", fmt.Sprintf("cpu=%d:%d", cpu, cpu+1),
		"--ulimit", fmt.Sprintf("fsize=%d:%d", l.FileSize, l.FileSize),
		"--ulimit", "core=0:0",
		"-v", j.workDir + ":" + sandboxWork + ":rw",
		"-v", j.scriptDir + ":" + sandboxScript + ":ro",
		"-w", sandboxWork,
	}
	// Values travel in the client's environment, not on its command line
	// (which every local user can read).
	env := append([]string{}, j.env...)
	var names []string
	for _, kv := range j.env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" {
			continue // the image's own
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-e", k)
	}
	for _, k := range containerEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = setEnv(env, k, v)
		}
	}
	if _, ok := os.LookupEnv("DOCKER_CONFIG"); !ok {
		if home, err := os.UserHomeDir(); err == nil {
			env = setEnv(env, "DOCKER_CONFIG", filepath.Join(home, ".docker"))
		}
	}
	args = append(args, image, j.interp, sandboxScript+"/script")
	cmd := exec.CommandContext(ctx, s.program(), args...)
	cmd.Dir = "/"
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return &process{cmd: cmd, containerName: name}, nil
}

// setEnv sets k in env (KEY=value lines).
func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// kill stops the run at once: its process group and, in container
// modes, the container (killing the client would leave it running).
func (p *process) kill(program string) error {
	if p.containerName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = exec.CommandContext(ctx, program, "rm", "-f", p.containerName).Run()
		cancel()
	}
	return killGroup(p.cmd.Process)
}

// bwrapStatus is what bwrap wrote on its status descriptor.
type bwrapStatus struct {
	exitCode *int
}

// readBwrapStatus reads bwrap's status to its end, sending the
// sandbox's pid on pidc as soon as it is known (or 0 if never).
func readBwrapStatus(r io.Reader, pidc chan<- int) bwrapStatus {
	var st bwrapStatus
	sent := false
	defer func() {
		if !sent {
			pidc <- 0
		}
	}()
	dec := json.NewDecoder(r)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return st
		}
		if v, ok := m["child-pid"].(float64); ok && !sent {
			pidc <- int(v)
			sent = true
		}
		if v, ok := m["exit-code"].(float64); ok {
			c := int(v)
			st.exitCode = &c
		}
	}
}

// Exit statuses that mean the container client, not the script, failed.
const (
	containerEngineFailed = 125
	containerCannotInvoke = 126
	containerNotFound     = 127
)

// SandboxError says the sandbox could not run the script at all.
type SandboxError struct {
	Mode   Mode
	Reason string
}

func (e *SandboxError) Error() string {
	return fmt.Sprintf("The script sandbox (%s) could not start, so the script was not run: %s", e.Mode, e.Reason)
}

// Check runs a trivial command in the sandbox, as a worker does at start-up
// to warn early when scripts cannot run.
func (s Sandbox) Check(ctx context.Context) error {
	if s.mode() == ModeNone {
		return nil
	}
	if _, err := exec.LookPath(s.program()); err != nil {
		return &SandboxError{Mode: s.mode(), Reason: err.Error()}
	}
	if s.mode() != ModeBwrap {
		out, err := exec.CommandContext(ctx, s.program(), "version").CombinedOutput()
		if err != nil {
			return &SandboxError{Mode: s.mode(), Reason: lastLine(string(out), err)}
		}
		return nil
	}
	p := Provider{Sandbox: s, Timeout: 30 * time.Second}
	res, err := p.runScript(ctx, job{hook: "check", language: LanguageShell, interp: DefaultShell, network: true}, "echo ok", nil)
	if err != nil {
		return err
	}
	if strings.TrimSpace(res.Output) != "ok" {
		return &SandboxError{Mode: s.mode(), Reason: "unexpected output " + strconv.Quote(res.Output)}
	}
	return nil
}

func lastLine(out string, err error) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return err.Error()
	}
	return out
}

// limitWriter passes writes to w and calls over once when more than max
// bytes went through all the writers sharing count.
type limitWriter struct {
	w     io.Writer
	count *outputCount
}

type outputCount struct {
	n, max int64
	over   func()
	fired  bool
	mu     chan struct{}
}

func newOutputCount(max int64, over func()) *outputCount {
	c := &outputCount{max: max, over: over, mu: make(chan struct{}, 1)}
	c.mu <- struct{}{}
	return c
}

func (c *outputCount) add(n int) bool {
	<-c.mu
	defer func() { c.mu <- struct{}{} }()
	c.n += int64(n)
	if c.n > c.max && !c.fired {
		c.fired = true
		go c.over()
	}
	return c.fired
}

func (c *outputCount) exceeded() bool {
	<-c.mu
	defer func() { c.mu <- struct{}{} }()
	return c.fired
}

func (w limitWriter) Write(p []byte) (int, error) {
	if w.count.add(len(p)) {
		return len(p), nil // stopped: drop what is still in flight
	}
	return w.w.Write(p)
}

// limitHint names the limit a failed run most likely hit, from how it
// ended and what it said (a process killed by SIGXCPU or SIGXFSZ, an
// interpreter's out-of-memory or cannot-fork message).
func limitHint(code int, stderr string, l Limits) string {
	switch code {
	case 128 + int(syscall.SIGXCPU):
		return fmt.Sprintf("the CPU time limit of %s was reached", l.CPUTime)
	case 128 + int(syscall.SIGXFSZ):
		return fmt.Sprintf("the file size limit of %s was reached", bytesText(l.FileSize))
	}
	low := strings.ToLower(stderr)
	for _, m := range []string{"memoryerror", "cannot allocate memory", "memory exhausted", "out of memory", "failed to allocate"} {
		if strings.Contains(low, m) {
			return fmt.Sprintf("the memory limit of %s was reached", bytesText(l.Memory))
		}
	}
	for _, m := range []string{"cannot fork", "fork: retry", "fork: resource temporarily unavailable", "can't fork", "blockingioerror", "resource temporarily unavailable"} {
		if strings.Contains(low, m) {
			return fmt.Sprintf("the limit of %d processes was reached", l.Processes)
		}
	}
	return ""
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// exitCode is the script's exit status, or -1.
func exitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
