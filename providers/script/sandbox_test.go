package script

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

// attack is what an offering owner's create script tried: the worker's
// environment through its parent's /proc, the data directory, other
// processes, writes outside its directory, root.
const attack = `
echo "uid=$(id -u)"
echo "parent-environ=$(tr '\0' ' ' < /proc/$PPID/environ 2>&1)"
echo "data=$(cat "$DATA_FILE" 2>&1)"
echo "processes=$(ls -d /proc/[0-9]* | wc -l)"
if kill -0 "$WORKER_PID" 2>/dev/null; then echo "worker=visible"; else echo "worker=hidden"; fi
for f in /etc/x /usr/x /x /tmp/x "$(dirname "$DATA_FILE")/x"; do
  if touch "$f" 2>/dev/null; then echo "wrote $f"; else echo "cannot write $f"; fi
done
touch ./mine && echo "wrote work"
`

func TestSandboxStopsTheAttack(t *testing.T) {
	t.Setenv("WALDUR_ADMIN_PASSWORD", "the-staff-password")
	// A data directory anyone could read, to show it is not there at all.
	dataDir := reachableDir(t)
	data := filepath.Join(dataDir, "waldur.db")
	require.NoError(t, os.WriteFile(data, []byte("staff tokens"), 0o644))

	opts := map[string]any{"language": "shell", "create": attack,
		"environ": map[string]any{"DATA_FILE": data, "WORKER_PID": strconv.Itoa(os.Getpid())}}

	// Without the sandbox (an operator's explicit choice) the attack
	// works: the test below would notice a sandbox that did nothing.
	res, err := Provider{Sandbox: Sandbox{Mode: ModeNone}}.Create(context.Background(), request(models.OrderCreate, opts))
	require.NoError(t, err)
	require.Contains(t, res.Output, "data=staff tokens")
	require.Contains(t, res.Output, "worker=visible")
	os.Remove(filepath.Join(dataDir, "x"))

	res, err = Provider{}.Create(context.Background(), request(models.OrderCreate, opts))
	require.NoError(t, err, "the script itself runs")
	out := envLines(res.Output)
	t.Logf("sandboxed output:\n%s", res.Output)
	require.NotEqual(t, "0", out["uid"], "not root")
	require.NotEmpty(t, out["uid"])
	require.NotContains(t, res.Output, "the-staff-password")
	require.NotContains(t, out["parent-environ"], "WALDUR_")
	require.NotContains(t, res.Output, "staff tokens")
	require.Contains(t, out["data"], "No such file or directory", "the data directory is not in the sandbox")
	require.Equal(t, "hidden", out["worker"])
	n, err := strconv.Atoi(out["processes"])
	require.NoError(t, err)
	require.Less(t, n, 10, "only the sandbox's own processes are in /proc")
	for _, f := range []string{"/etc/x", "/usr/x", "/x", "/tmp/x", dataDir + "/x"} {
		require.Contains(t, res.Output, "cannot write "+f+"\n")
	}
	require.Contains(t, res.Output, "wrote work")
	require.NoFileExists(t, filepath.Join(dataDir, "x"))
}

// healthy shows the worker still runs scripts after a run hit a limit,
// and that nothing of that run is left.
func healthy(t *testing.T, p Provider) {
	t.Helper()
	res, err := p.Update(context.Background(), request(models.OrderUpdate, map[string]any{"language": "shell", "update": "echo fine"}))
	require.NoError(t, err)
	require.Equal(t, "fine\n", res.Output)
}

func TestSandboxLimits(t *testing.T) {
	limits := Limits{CPUTime: 2 * time.Second, Memory: 256 << 20, Processes: 32, Output: 4 << 20}
	p := Provider{Timeout: time.Minute, Sandbox: Sandbox{Limits: limits}}
	for _, tc := range []struct {
		name, language, src string
		want                []string
		maxTime             time.Duration
	}{
		{"fork bomb", "shell", "marker=FORKBOMB; while :; do sleep 1000 & done", []string{"exit status 2", "the limit of 32 processes was reached", "Cannot fork"}, 30 * time.Second},
		{"fork bomb in python", "python", "import os\nwhile True:\n    if os.fork() == 0:\n        import time; time.sleep(1000)\n",
			[]string{"the limit of 32 processes was reached", "BlockingIOError"}, 30 * time.Second},
		{"memory hog", "python", "x = []\nwhile True:\n    x.append(bytearray(16 << 20))\n", []string{"exit status 1", "the memory limit of 256 MiB was reached", "MemoryError"}, 30 * time.Second},
		{"endless loop", "shell", "while :; do :; done", []string{"exit status 152", "the CPU time limit of 2s was reached"}, 30 * time.Second},
		{"100 MB of output", "python", "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\n", []string{"Script for create was stopped: it wrote more than 4 MiB of output."}, 30 * time.Second},
		{"a large file", "shell", "head -c 2G /dev/zero > big", []string{"the file size limit of 1 GiB was reached"}, 60 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := time.Now()
			res, err := p.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": tc.language, "create": tc.src}))
			requirePermanent(t, err, tc.want...)
			require.Empty(t, res.BackendID)
			t.Logf("%s: %v after %s", tc.name, err, time.Since(started).Round(time.Millisecond))
			require.Less(t, time.Since(started), tc.maxTime, "ended by its limit, not by the timeout")
			healthy(t, p)
		})
	}
	// A fork bomb's processes die with its run: none of it is left.
	require.Eventually(t, func() bool { return len(hostProcesses("sleep 1000")) == 0 }, 10*time.Second, 10*time.Millisecond)
}

// The process limit is the sandbox's own: two runs at once each get it.
func TestProcessLimitIsPerRun(t *testing.T) {
	p := Provider{Timeout: time.Minute, Sandbox: Sandbox{Limits: Limits{Processes: 20}}}
	src := "i=0; while [ $i -lt 12 ]; do sleep 2 & i=$((i+1)); done; wait; echo ok"
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := p.Update(context.Background(), request(models.OrderUpdate, map[string]any{"language": "shell", "update": src}))
			errs <- err
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
}

func TestSandboxThatCannotStartFailsTheOrder(t *testing.T) {
	// No bwrap at all.
	p := Provider{Sandbox: Sandbox{Program: "/nonexistent/bwrap"}}
	_, err := p.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": "shell", "create": "echo ran > /dev/stderr"}))
	requirePermanent(t, err, "The script sandbox (bwrap) could not start, so the script was not run:", "/nonexistent/bwrap")
	var se *SandboxError
	require.True(t, errors.As(err, &se))
	require.Error(t, p.Sandbox.Check(context.Background()))

	// bwrap there, but its mounts fail (a working directory its user cannot reach).
	dir := filepath.Join(t.TempDir(), "work") // below a directory only root may enter
	require.NoError(t, os.Mkdir(dir, 0o777))
	if os.Geteuid() == 0 {
		_, err = Provider{WorkDir: dir}.Create(context.Background(), request(models.OrderCreate, map[string]any{"language": "shell", "create": "echo ran"}))
		requirePermanent(t, err, "The script sandbox (bwrap) could not start, so the script was not run:", "bwrap:")
	}
	require.NoError(t, Sandbox{}.Check(context.Background()))
}

// TestSandboxNetworks: by default a script has a network of its own
// (slirp4netns: an interface and a default route) from which the worker's
// loopback services cannot be reached, neither at 127.0.0.1 nor through
// the gateway; NetworkHost shares the worker's network; an offering's
// plugin_options.sandbox_network = false leaves only a loopback.
func TestSandboxNetworks(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n"))
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	src := strings.ReplaceAll(`import socket
for host in ["127.0.0.1", "10.0.2.2"]:
    try:
        s = socket.create_connection((host, PORT), timeout=3)
        print(host, "connected", s.recv(10).decode().strip())
    except OSError as e:
        print(host, "unreachable:", e)
routes = [l.split()[0] for l in open("/proc/net/route").read().splitlines()[1:]]
print("interfaces:", " ".join(sorted(set(routes))) or "none")
print("resolver:", open("/etc/resolv.conf").read().split())
`, "PORT", strconv.Itoa(port))
	for _, tc := range []struct {
		name    string
		network Network
		opts    map[string]any
		want    []string
	}{
		{"isolated", "", nil, []string{"127.0.0.1 unreachable:", "10.0.2.2 unreachable:", "interfaces: tap0", "'nameserver', '10.0.2.3'"}},
		{"isolated explicitly", NetworkIsolated, map[string]any{PluginOptionNetwork: true}, []string{"127.0.0.1 unreachable:", "interfaces: tap0"}},
		{"host", NetworkHost, nil, []string{"127.0.0.1 connected hello"}},
		{"off", "", map[string]any{PluginOptionNetwork: false}, []string{"127.0.0.1 unreachable:", "10.0.2.2 unreachable:", "interfaces: none"}},
		{"off on host", NetworkHost, map[string]any{PluginOptionNetwork: "false"}, []string{"127.0.0.1 unreachable:", "interfaces: none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(models.OrderUpdate, map[string]any{"language": "python", "update": src})
			r.PluginOptions = tc.opts
			res, err := Provider{Sandbox: Sandbox{Network: tc.network}}.Update(context.Background(), r)
			require.NoError(t, err)
			for _, w := range tc.want {
				require.Contains(t, res.Output, w)
			}
		})
	}
	// slirp4netns is gone with its run.
	require.Eventually(t, func() bool { return len(hostProcesses("slirp4netns")) == 0 }, 10*time.Second, 10*time.Millisecond)

	// Without slirp4netns an isolated network cannot be made: the order fails, saying so.
	_, err = Provider{Sandbox: Sandbox{Slirp: "/nonexistent/slirp4netns"}}.Create(context.Background(),
		request(models.OrderCreate, map[string]any{"language": "shell", "create": "echo ran"}))
	requirePermanent(t, err, "The script sandbox (bwrap) could not start, so the script was not run: network:", "/nonexistent/slirp4netns")
}

// fakeEngine is a docker/podman client that records its arguments and
// environment, then answers as an engine that is down (exit 125) or runs
// the script itself.
func fakeEngine(t *testing.T, exit int) (program, record string) {
	t.Helper()
	dir := reachableDir(t)
	record = filepath.Join(dir, "record")
	program = filepath.Join(dir, "docker")
	script := `#!/bin/sh
if [ "$1" = "rm" ]; then exit 0; fi
printf '%s\n' "$@" > ` + record + `.args
env > ` + record + `.env
echo "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
exit ` + strconv.Itoa(exit) + `
`
	require.NoError(t, os.WriteFile(program, []byte(script), 0o755))
	return program, record
}

func TestContainerModes(t *testing.T) {
	for _, mode := range []Mode{ModeDocker, ModePodman} {
		t.Run(string(mode), func(t *testing.T) {
			program, record := fakeEngine(t, 125)
			p := Provider{Sandbox: Sandbox{Mode: mode, Program: program, Limits: Limits{Memory: 512 << 20, Processes: 50, CPUTime: time.Minute},
				Images: map[string]string{LanguagePython: "registry.example/python:3.12"}}}
			r := request(models.OrderCreate, map[string]any{"language": "python", "create": "print(1)",
				"environ": map[string]any{"API_TOKEN": "s3cret"}})
			r.PluginOptions = map[string]any{PluginOptionNetwork: false}
			_, err := p.Create(context.Background(), r)
			requirePermanent(t, err, "The script sandbox ("+string(mode)+") could not start, so the script was not run:", "Cannot connect to the Docker daemon")

			b, err := os.ReadFile(record + ".args")
			require.NoError(t, err)
			args := strings.Split(strings.TrimSpace(string(b)), "\n")
			joined := " " + strings.Join(args, " ") + " "
			for _, want := range []string{" run --rm -i ", " --network none ", " --user 65534:65534 ", " --read-only ", " --cap-drop ALL ",
				" --security-opt no-new-privileges ", " --pids-limit 50 ", " --memory 536870912 ", " --ulimit cpu=60:61 ",
				" -w /work ", " -e API_TOKEN ", " -e ORDER_UUID ", " registry.example/python:3.12 python3 /waldur/script "} {
				require.Contains(t, joined, want)
			}
			require.NotContains(t, joined, "s3cret", "values are not on the command line")
			env, err := os.ReadFile(record + ".env")
			require.NoError(t, err)
			require.Contains(t, string(env), "API_TOKEN=s3cret")
		})
	}
	// The image of a language without one configured is Waldur's default.
	program, record := fakeEngine(t, 0)
	_, err := Provider{Sandbox: Sandbox{Mode: ModeDocker, Program: program}}.Update(context.Background(),
		request(models.OrderUpdate, map[string]any{"language": "shell", "update": "echo"}))
	require.NoError(t, err)
	b, err := os.ReadFile(record + ".args")
	require.NoError(t, err)
	require.Contains(t, string(b), "\nalpine:3\n/bin/sh\n/waldur/script\n")
	require.Contains(t, string(b), "\n--network\nbridge\n")
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeBwrap, "bwrap": ModeBwrap, "Docker": ModeDocker, "podman": ModePodman, " none ": ModeNone} {
		got, err := ParseMode(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ParseMode("chroot")
	require.ErrorContains(t, err, `"chroot" is not one of bwrap, docker, podman, none`)
}

// BenchmarkScriptRun: one trivial shell script per iteration, unsandboxed
// (the baseline) and in each sandbox network, to show what isolation costs.
func BenchmarkScriptRun(b *testing.B) {
	for _, bc := range []struct {
		name string
		sb   Sandbox
	}{
		{"none", Sandbox{Mode: ModeNone}},
		{"bwrap-no-network", Sandbox{}},
		{"bwrap-host-network", Sandbox{Network: NetworkHost}},
		{"bwrap-isolated-network", Sandbox{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := request(models.OrderUpdate, map[string]any{"language": "shell", "update": "echo ok"})
			if bc.name == "bwrap-no-network" {
				r.PluginOptions = map[string]any{PluginOptionNetwork: false}
			}
			p := Provider{Sandbox: bc.sb}
			for b.Loop() {
				if _, err := p.Update(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
