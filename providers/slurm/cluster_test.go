package slurm

// Tests against a real Slurm cluster with accounting (scripts/slurm-up.sh,
// which .ci/run starts). They skip only when sacctmgr is not installed and
// CI is unset; under CI a missing or broken cluster fails them.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// requireCluster skips or fails when no cluster answers, and returns the
// Linux users jobs can be submitted as (SLURM_TEST_USERS, default
// "slurmit1 slurmit2").
func requireCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("sacctmgr"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("sacctmgr is not installed (run scripts/slurm-up.sh for a test cluster)")
		}
		t.Fatal("CI is set but sacctmgr is not installed: .ci/run should have run scripts/slurm-up.sh")
	}
	out, err := exec.Command("sacctmgr", "-n", "-P", "list", "cluster", "format=cluster").CombinedOutput()
	require.NoError(t, err, "the Slurm cluster does not answer (run scripts/slurm-up.sh): %s", out)
	require.NotEmpty(t, strings.TrimSpace(string(out)), "no cluster registered in slurmdbd")
	users := strings.Fields(os.Getenv("SLURM_TEST_USERS"))
	if len(users) == 0 {
		users = []string{"slurmit1", "slurmit2"}
	}
	require.GreaterOrEqual(t, len(users), 2, "SLURM_TEST_USERS needs two users")
	for _, u := range users[:2] {
		_, err := exec.Command("id", u).Output()
		require.NoError(t, err, "Linux user %s is missing: run SLURM_TEST_USERS=%q scripts/slurm-up.sh", u, strings.Join(users, " "))
	}
	require.Equal(t, 0, os.Getuid(), "jobs are submitted as the test users with runuser, which needs root")
	return users[:2]
}

// sh runs a command and returns its stdout.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return string(out)
}

// assocRows is what `sacctmgr show assoc` says about an account: one row
// per association, "account|user|parentname|grptresmins".
func assocRows(t *testing.T, account string) []string {
	t.Helper()
	out := sh(t, "sacctmgr", "-n", "-P", "show", "assoc", "where", "account="+account,
		"format=account,user,parentname,grptresmins")
	return strings.Fields(out)
}

// sbatch submits a job as user under account and returns its id.
func sbatch(t *testing.T, user, account string, args ...string) string {
	t.Helper()
	argv := append([]string{"-u", user, "--", "sbatch", "--parsable", "-A", account, "-o", "/dev/null"}, args...)
	id := strings.TrimSpace(sh(t, "runuser", argv...))
	_, err := strconv.Atoi(id)
	require.NoError(t, err, "sbatch printed %q", id)
	return id
}

// waitFor polls cond every 200 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, last)
		}
		time.Sleep(200 * time.Millisecond) // polling interval, not a wait for "long enough"
	}
}

// jobState is the job's state as sacct lists the account's jobs of this
// month, the way usage is read ("" until it is there). That view can lag
// `sacct -j` by a couple of seconds after a job ends.
func jobState(t *testing.T, account, id string) string {
	start := time.Now().Format("2006-01") + "-01T00:00:00"
	out := sh(t, "sacct", "-n", "-X", "-P", "-a", "-A", account, "-S", start, "-o", "JobIDRaw,State")
	for _, l := range strings.Split(out, "\n") {
		if jid, state, ok := strings.Cut(l, "|"); ok && jid == id {
			return state
		}
	}
	return ""
}

// squeueState is "STATE|REASON" of a queued job ("" once it left the queue).
func squeueState(t *testing.T, id string) string {
	return strings.TrimSpace(sh(t, "squeue", "-h", "-j", id, "-o", "%T|%r"))
}

func clusterRequest(t models.OrderType, limits map[string]int64) providers.Request {
	r := request(t, limits)
	r.ResourceName = "IT alloc " + r.ResourceUUID.String()[:4]
	return r
}

// terminateOnCleanup removes what a test created even when it failed.
func terminateOnCleanup(t *testing.T, p *Provider, r providers.Request) {
	t.Cleanup(func() {
		r.OrderType = models.OrderTerminate
		if _, err := p.Terminate(context.Background(), r); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

func TestClusterAllocationLifecycle(t *testing.T) {
	users := requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()

	r := clusterRequest(models.OrderCreate, map[string]int64{"cpu": 10, "gpu": 2, "ram": 20})
	terminateOnCleanup(t, p, r)
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	cust, proj, alloc, err := cl.names(r)
	require.NoError(t, err)

	start := time.Now()
	res, err := p.Create(ctx, r)
	t.Logf("create chain (customer, project, allocation accounts + limits): %s", time.Since(start))
	require.NoError(t, err)
	require.True(t, res.Done)
	require.Equal(t, alloc, res.BackendID)
	require.Equal(t, map[string]int64{"cpu": 10, "gpu": 2, "ram": 20}, res.Metadata["limits"])

	t.Run("the account chain exists with the limits", func(t *testing.T) {
		require.Equal(t, []string{cust + "||root|"}, assocRows(t, cust))
		require.Equal(t, []string{proj + "||" + cust + "|"}, assocRows(t, proj))
		require.Equal(t, []string{alloc + "||" + proj + "|cpu=600,gres/gpu=120,mem=1200G"}, assocRows(t, alloc))
	})

	t.Run("creating again changes nothing", func(t *testing.T) {
		chain := func() string {
			return sh(t, "sacctmgr", "-n", "-P", "list", "account", "withassoc", "where", "name="+cust+","+proj+","+alloc, accountFormat)
		}
		before := chain()
		start := time.Now()
		again, err := p.Create(ctx, r)
		t.Logf("create chain, all present: %s", time.Since(start))
		require.NoError(t, err)
		require.Equal(t, res.BackendID, again.BackendID)
		require.Equal(t, before, chain())
	})

	t.Run("update sets only the limits given", func(t *testing.T) {
		u := r
		u.OrderType, u.BackendID, u.Limits = models.OrderUpdate, alloc, map[string]int64{"cpu": 5}
		got, err := p.Update(ctx, u)
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"cpu": 5, "gpu": 2, "ram": 20}, got.Metadata["limits"])
		require.Equal(t, []string{alloc + "||" + proj + "|cpu=300,gres/gpu=120,mem=1200G"}, assocRows(t, alloc))
	})

	t.Run("associations follow the members", func(t *testing.T) {
		d, err := cl.SyncAssociations(ctx, alloc, []string{users[0]})
		require.NoError(t, err)
		require.Equal(t, AssociationDiff{Missing: []string{users[0]}}, d)
		require.Contains(t, assocRows(t, alloc), alloc+"|"+users[0]+"||")

		d, err = cl.SyncAssociations(ctx, alloc, []string{strings.ToUpper(users[0])})
		require.NoError(t, err)
		require.True(t, d.Empty(), "second sync is a no-op: %+v", d)

		report, err := cl.AssociationReport(ctx, map[string][]string{alloc: users})
		require.NoError(t, err)
		require.Equal(t, map[string]AssociationDiff{alloc: {Missing: []string{users[1]}}}, report)
		require.NotContains(t, strings.Join(assocRows(t, alloc), " "), users[1], "the report changes nothing")

		d, err = cl.SyncAssociations(ctx, alloc, []string{users[1]})
		require.NoError(t, err)
		require.Equal(t, AssociationDiff{Missing: []string{users[1]}, Extra: []string{users[0]}}, d)
		rows := strings.Join(assocRows(t, alloc), " ")
		require.Contains(t, rows, alloc+"|"+users[1]+"||")
		require.NotContains(t, rows, users[0])

		added, err := cl.AddAssociation(ctx, alloc, users[1])
		require.NoError(t, err)
		require.False(t, added)
		removed, err := cl.RemoveAssociation(ctx, alloc, users[0])
		require.NoError(t, err)
		require.False(t, removed)
	})

	t.Run("a user losing the default account's association gets another default", func(t *testing.T) {
		// Slurm users need no Linux account; a fresh one makes alloc its default.
		user, other := "itu"+alloc[len(DefaultAllocationPrefix):][:5], "it_other_"+alloc[len(DefaultAllocationPrefix):][:5]
		t.Cleanup(func() { _, _ = cl.DeleteAccount(context.Background(), other) })
		defaultOf := func() string {
			return strings.TrimSpace(sh(t, "sacctmgr", "-n", "-P", "show", "user", "where", "name="+user, "format=defaultaccount"))
		}
		_, err := cl.AddAssociation(ctx, alloc, user)
		require.NoError(t, err)
		require.Equal(t, alloc, defaultOf())
		require.NoError(t, cl.EnsureAccounts(ctx, AccountSpec{Name: other}))
		_, err = cl.AddAssociation(ctx, other, user)
		require.NoError(t, err)

		removed, err := cl.RemoveAssociation(ctx, alloc, user)
		require.NoError(t, err)
		require.True(t, removed)
		require.Equal(t, other, defaultOf())
	})

	t.Run("a job's usage is read from sacct", func(t *testing.T) {
		id := sbatch(t, users[1], alloc, "-n", "2", "--mem=100M", "--gres=gpu:1", "-t", "1", "--wrap", "sleep 2")
		waitFor(t, 60*time.Second, "job "+id+" to complete", func() (bool, string) {
			s := jobState(t, alloc, id)
			return s == "COMPLETED", s
		})
		raw := strings.Split(strings.TrimSpace(sh(t, "sacct", "-n", "-X", "-P", "-j", id, "-o", "ElapsedRaw,CPUTimeRAW")), "|")
		elapsed, _ := strconv.ParseInt(raw[0], 10, 64)
		cpuTime, _ := strconv.ParseInt(raw[1], 10, 64)
		require.Positive(t, elapsed)

		start := time.Now()
		u, err := cl.Usage(ctx, alloc, time.Now())
		t.Logf("usage pull (one account, month to date): %s", time.Since(start))
		require.NoError(t, err)
		want := TRESUsage{CPUSeconds: cpuTime, GPUSeconds: elapsed, MemMBSeconds: 100 * elapsed, Jobs: 1}
		require.Equal(t, 2*elapsed, cpuTime)
		require.Equal(t, want, u.Total)
		require.Equal(t, map[string]TRESUsage{users[1]: want}, u.Users)
		comp := u.Total.Components()
		require.Equal(t, fmtHours(cpuTime), comp[ComponentCPU].String())
		require.Equal(t, fmtHours(elapsed), comp[ComponentGPU].String())

		// A month without the job has no usage.
		prev, err := cl.Usage(ctx, alloc, time.Now().AddDate(0, -1, 0))
		require.NoError(t, err)
		require.Zero(t, prev.Total)

		pulled, err := p.Pull(ctx, providers.Request{ResourceUUID: r.ResourceUUID, ProjectUUID: r.ProjectUUID, CustomerUUID: r.CustomerUUID, BackendID: alloc})
		require.NoError(t, err)
		require.Equal(t, comp[ComponentCPU].String(), pulled.Metadata["usage"].(map[string]string)[ComponentCPU])
		require.Equal(t, []string{users[1]}, pulled.Metadata["users"])
	})

	second := clusterRequest(models.OrderCreate, map[string]int64{"cpu": 1, "gpu": 0, "ram": 1})
	second.CustomerUUID, second.ProjectUUID = r.CustomerUUID, r.ProjectUUID
	terminateOnCleanup(t, p, second)
	res2, err := p.Create(ctx, second)
	require.NoError(t, err)

	t.Run("terminate cancels jobs and keeps parents still in use", func(t *testing.T) {
		id := sbatch(t, users[1], alloc, "-n", "1", "-t", "5", "--wrap", "sleep 300")
		waitFor(t, 30*time.Second, "job "+id+" to run", func() (bool, string) {
			s := squeueState(t, id)
			return strings.HasPrefix(s, "RUNNING"), s
		})
		term := r
		term.OrderType, term.BackendID = models.OrderTerminate, alloc
		start := time.Now()
		_, err := p.Terminate(ctx, term)
		t.Logf("terminate with a running job: %s", time.Since(start))
		require.NoError(t, err)
		require.Empty(t, assocRows(t, alloc))
		waitFor(t, 30*time.Second, "job "+id+" to show as cancelled", func() (bool, string) {
			s := strings.TrimSpace(sh(t, "sacct", "-n", "-X", "-P", "-j", id, "-o", "State"))
			return strings.HasPrefix(s, "CANCELLED"), s
		})
		require.Len(t, assocRows(t, proj), 1, "the project still holds %s", res2.BackendID)
		require.Len(t, assocRows(t, cust), 1)

		_, err = p.Terminate(ctx, term)
		require.NoError(t, err, "terminating again is a no-op")
	})

	t.Run("terminating the last allocation removes project and customer", func(t *testing.T) {
		term := second
		term.OrderType, term.BackendID = models.OrderTerminate, res2.BackendID
		_, err := p.Terminate(ctx, term)
		require.NoError(t, err)
		require.Empty(t, assocRows(t, res2.BackendID))
		require.Empty(t, assocRows(t, proj))
		require.Empty(t, assocRows(t, cust))
	})
}

// fmtHours renders seconds as hours with 2 decimals, rounded half up,
// independently of the decimal package.
func fmtHours(sec int64) string {
	cents := (sec*100 + 1800) / 3600
	s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// A GrpTRESMins limit lowered below what the account used so far makes
// Slurm hold the next job (AssocGrpCPUMinutesLimit); raising it again
// lets the job run.
func TestClusterLimitBelowUsageHoldsJobs(t *testing.T) {
	users := requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()
	r := clusterRequest(models.OrderCreate, map[string]int64{"cpu": 10, "gpu": 1, "ram": 10})
	terminateOnCleanup(t, p, r)
	res, err := p.Create(ctx, r)
	require.NoError(t, err)
	alloc := res.BackendID
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	_, err = cl.AddAssociation(ctx, alloc, users[0])
	require.NoError(t, err)

	// 8 CPUs for 10 s: 80 CPU-seconds, more than one CPU-minute.
	id := sbatch(t, users[0], alloc, "-n", "8", "-t", "1", "--wrap", "sleep 10")
	waitFor(t, 60*time.Second, "job "+id+" to complete", func() (bool, string) {
		s := jobState(t, alloc, id)
		return s == "COMPLETED", s
	})
	// slurmctld's own count of used CPU-minutes, which it enforces against.
	waitFor(t, 120*time.Second, "slurmctld to count the job's CPU-minutes", func() (bool, string) {
		used := usedCPUMinutes(t, alloc)
		return used >= 1, strconv.FormatInt(used, 10)
	})
	u, err := cl.Usage(ctx, alloc, time.Now())
	require.NoError(t, err)
	require.GreaterOrEqual(t, u.Total.CPUSeconds, int64(80))

	require.NoError(t, cl.SetLimits(ctx, alloc, Limits{CPU: 1, GPU: 60, Mem: 10 * 60 * 1024}))
	held := sbatch(t, users[0], alloc, "-n", "1", "-t", "1", "--wrap", "true")
	waitFor(t, 30*time.Second, "job "+held+" to be held by the limit", func() (bool, string) {
		s := squeueState(t, held)
		return s == "PENDING|AssocGrpCPUMinutesLimit", s
	})

	// Raising the limit (through an Update order) releases it.
	up := r
	up.OrderType, up.BackendID, up.Limits = models.OrderUpdate, alloc, map[string]int64{"cpu": 10}
	_, err = p.Update(ctx, up)
	require.NoError(t, err)
	waitFor(t, 60*time.Second, "job "+held+" to run once the limit is raised", func() (bool, string) {
		s := jobState(t, alloc, held)
		return s == "COMPLETED" || s == "RUNNING", s
	})
}

// usedCPUMinutes reads the account's used CPU-minutes from slurmctld
// ("GrpTRESMins=cpu=N(12),...": the number in parentheses).
func usedCPUMinutes(t *testing.T, account string) int64 {
	out := sh(t, "scontrol", "show", "assoc_mgr", "accounts="+account, "flags=assoc")
	// The account's own record comes first; its GrpTRESMins line follows.
	i := strings.Index(out, "Account="+account+" UserName= ")
	if i < 0 {
		return -1
	}
	rest := out[i:]
	j := strings.Index(rest, "GrpTRESMins=cpu=")
	if j < 0 {
		return -1
	}
	rest = rest[j+len("GrpTRESMins=cpu="):]
	open, closeAt := strings.Index(rest, "("), strings.Index(rest, ")")
	if open < 0 || closeAt < open {
		return -1
	}
	n, err := strconv.ParseInt(rest[open+1:closeAt], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// The provider reaches a cluster over SSH just as locally (an in-process
// SSH server on this host runs the commands).
func TestClusterOverSSH(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	client := newKey(t)
	srv := startSSHServer(t, client.signer.PublicKey())
	host, port, _ := strings.Cut(srv.Addr, ":")
	r := clusterRequest(models.OrderCreate, map[string]int64{"cpu": 3, "gpu": 0, "ram": 1})
	r.PluginOptions = map[string]any{"hostname": host, "port": port, "username": "root", "ssh_host_key": srv.HostKey}
	r.SecretOptions = map[string]any{"ssh_private_key": string(client.pem)}
	p := New()
	terminateOnCleanup(t, p, r)
	require.NoError(t, p.Validate(ctx, r))

	res, err := p.Create(ctx, r)
	require.NoError(t, err)
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	require.NoError(t, err)
	_, isSSH := cl.Exec.(*SSHExecutor)
	require.True(t, isSSH)
	require.Contains(t, assocRows(t, res.BackendID)[0], "|cpu=180,gres/gpu=0,mem=60G")

	term := r
	term.OrderType, term.BackendID = models.OrderTerminate, res.BackendID
	_, err = p.Terminate(ctx, term)
	require.NoError(t, err)
	require.Empty(t, assocRows(t, res.BackendID))
	require.Positive(t, srv.Conns.Load())
}

// Accounts made outside Waldur can be imported: leaves only, not root nor
// Waldur's customer and project accounts.
func TestClusterImportAccounts(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	tag := models.NewUUID().String()[:8]
	group, leaf := "it_group_"+tag, "it_leaf_"+tag
	t.Cleanup(func() {
		for _, a := range []string{leaf, group} {
			if _, err := cl.DeleteAccount(context.Background(), a); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	require.NoError(t, cl.EnsureAccounts(ctx,
		AccountSpec{Name: group, Description: "Physics", Organization: "uni"},
		AccountSpec{Name: leaf, Parent: group, Description: "Lab One", Organization: "uni"}))
	require.NoError(t, cl.SetLimits(ctx, leaf, Limits{CPU: 6000, GPU: -1, Mem: -1}))

	got, err := cl.ImportAccounts(ctx)
	require.NoError(t, err)
	var names []string
	var found *Account
	for i, a := range got {
		names = append(names, a.Name)
		if a.Name == leaf {
			found = &got[i]
		}
	}
	require.NotContains(t, names, group, "an account with children is not an allocation")
	require.NotContains(t, names, "root")
	for _, n := range names {
		require.False(t, strings.HasPrefix(n, DefaultCustomerPrefix) || strings.HasPrefix(n, DefaultProjectPrefix), n)
	}
	require.NotNil(t, found)
	require.Equal(t, "lab one", found.Description, "Slurm lowercases descriptions")
	require.Equal(t, group, found.Parent)
	require.Equal(t, map[string]int64{"cpu": 100}, found.Limits.Components())
}

// Writes from many goroutines at once all persist (slurmdbd loses
// concurrent sacctmgr writes; the client serializes them).
func TestClusterConcurrentWrites(t *testing.T) {
	users := requireCluster(t)
	t.Parallel()
	ctx := context.Background()
	p := New()
	cl, err := p.Cluster(nil, nil)
	require.NoError(t, err)
	tag := models.NewUUID().String()[:8]
	const n = 6
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("it_conc_%s_%d", tag, i)
	}
	t.Cleanup(func() {
		for _, a := range names {
			_, _ = cl.DeleteAccount(context.Background(), a)
		}
	})
	errs := make(chan error, n)
	for _, a := range names {
		go func() {
			if err := cl.EnsureAccounts(ctx, AccountSpec{Name: a, Description: "concurrent"}); err != nil {
				errs <- err
				return
			}
			_, err := cl.AddAssociation(ctx, a, users[0])
			errs <- err
		}()
	}
	for range names {
		require.NoError(t, <-errs)
	}
	for _, a := range names {
		require.Contains(t, strings.Join(assocRows(t, a), " "), a+"|"+users[0]+"||")
	}
}
