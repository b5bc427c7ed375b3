package slurm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

func TestNaming(t *testing.T) {
	res := models.MustParseUUID("abcdef0123456789abcdef0123456789")
	cust := models.MustParseUUID("11111111111111111111111111111111")
	for _, tc := range []struct {
		name   string
		naming Naming
		input  string
		want   string
	}{
		{"sanitized and lower case", Naming{}, "My Alloc!", "waldur_allocation_abcde_myalloc"},
		{"cut to 34", Naming{}, "a-very-long-allocation-name", "waldur_allocation_abcde_a-very-lon"},
		{"no trailing separator after the cut", Naming{}, "abcdefghi_xyz", "waldur_allocation_abcde_abcdefghi"},
		{"nothing left of the name", Naming{}, "¡¿ !", "waldur_allocation_abcde"},
		{"empty name", Naming{}, "", "waldur_allocation_abcde"},
		{"own prefix and length", Naming{AllocationPrefix: "hpc_", MaxLen: 20}, "Physics Lab", "hpc_abcde_physicslab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.naming.validate())
			got := tc.naming.Allocation(res, tc.input)
			require.Equal(t, tc.want, got)
			require.True(t, ValidAccount(got))
			require.LessOrEqual(t, len(got), tc.naming.withDefaults().MaxLen)
		})
	}
	require.Equal(t, "waldur_customer_11111111111111111111111111111111", Naming{}.Customer(cust))
	require.Equal(t, "waldur_project_11111111111111111111111111111111", Naming{}.Project(cust))

	for _, bad := range []Naming{
		{CustomerPrefix: "Bad Prefix"},
		{ProjectPrefix: "1abc"},
		{AllocationPrefix: "waldur_allocation_", MaxLen: 20}, // no room for the UUID part
		{MaxLen: 65},
	} {
		require.Error(t, bad.validate(), "%+v", bad)
	}
}

func TestNormalizeUsername(t *testing.T) {
	for in, want := range map[string]string{"Alice": "alice", " bob_1 ": "bob_1", "j.doe-2": "j.doe-2"} {
		got, err := NormalizeUsername(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "1abc", "a b", "x|y", "a,b", "root;rm", strings.Repeat("a", 33)} {
		_, err := NormalizeUsername(bad)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%q: %v", bad, err)
	}
}

func TestParseLimits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Limits
	}{
		{"", NoLimits},
		{"cpu=600,gres/gpu=60,mem=100000M", Limits{CPU: 600, GPU: 60, Mem: 100000}},
		{"cpu=1", Limits{CPU: 1, GPU: -1, Mem: -1}},
		{"mem=2G,node=4,billing=9", Limits{CPU: -1, GPU: -1, Mem: 2048}},
		{"mem=1536K", Limits{CPU: -1, GPU: -1, Mem: 2}},
		{"mem=3", Limits{CPU: -1, GPU: -1, Mem: 3}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimits(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"cpu=x", "mem=12Q", "mem=-5M", "gres/gpu=1.5"} {
		_, err := ParseLimits(bad)
		require.Error(t, err, bad)
	}
	require.Equal(t, "cpu=600,mem=-1,gres/gpu=60", Limits{CPU: 600, GPU: 60, Mem: -1}.String())
	require.Equal(t, "", NoLimits.diff(NoLimits))
	require.Equal(t, "cpu=5", Limits{CPU: 1, GPU: -1, Mem: 7}.diff(Limits{CPU: 5, GPU: -1, Mem: 7}))
	require.Equal(t, "mem=-1,gres/gpu=3", Limits{CPU: 1, GPU: -1, Mem: 7}.diff(Limits{CPU: 1, GPU: 3, Mem: -1}))
}

// Real `sacctmgr list account withassoc` output of the test cluster.
const accountsOutput = `root|default root account|root|||
root|default root account|root|root||
zz_a|a one|orga||root|
zz_b|b|orga||zz_a|cpu=600,gres/gpu=60,mem=1000M
zz_b|b|orga|slurmit2||
zz_b|b|orga|slurmit1||
zz_b|b|orga|slurmit1||
`

func TestParseAccounts(t *testing.T) {
	accs, err := parseAccounts(accountsOutput)
	require.NoError(t, err)
	require.Equal(t, []Account{
		{Name: "root", Description: "default root account", Organization: "root", Limits: NoLimits, Users: []string{"root"}},
		{Name: "zz_a", Description: "a one", Organization: "orga", Parent: "root", Limits: NoLimits},
		{Name: "zz_b", Description: "b", Organization: "orga", Parent: "zz_a",
			Limits: Limits{CPU: 600, GPU: 60, Mem: 1000}, Users: []string{"slurmit1", "slurmit2"}},
	}, accs)

	_, err = parseAccounts("a|b\n")
	require.Error(t, err)
}

func TestParseJobsAndUsage(t *testing.T) {
	// Real `sacct ... --format=JobIDRaw,Account,User,State,ElapsedRaw,AllocTRES` lines.
	const out = `10|acc_a|slurmit1|COMPLETED|2|billing=2,cpu=2,gres/gpu=1,mem=100M,node=1
11|acc_a|slurmit2|COMPLETED|60|billing=4,cpu=4,mem=1G,node=1
12|acc_a|slurmit1|CANCELLED by 0|0|
13|acc_b|slurmit1|RUNNING|3600|billing=1,cpu=1,gres/gpu=2,gres/gpu:tesla=2,mem=256M,node=1
`
	jobs, err := parseJobs(out)
	require.NoError(t, err)
	require.Len(t, jobs, 4)
	require.Equal(t, JobUsage{JobID: "13", Account: "acc_b", User: "slurmit1", State: "RUNNING",
		ElapsedSeconds: 3600, CPUs: 1, GPUs: 2, MemMB: 256}, jobs[3])

	c := &Client{Exec: scripted{"sacct": {Stdout: out}}}
	rep, err := c.UsageReport(context.Background(), []string{"acc_a", "acc_b", "acc_c"}, time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	a := rep["acc_a"]
	require.Equal(t, TRESUsage{CPUSeconds: 2*2 + 4*60, GPUSeconds: 2, MemMBSeconds: 100*2 + 1024*60, Jobs: 3}, a.Total)
	require.Equal(t, TRESUsage{CPUSeconds: 4, GPUSeconds: 2, MemMBSeconds: 200, Jobs: 2}, a.Users["slurmit1"])
	require.Equal(t, []string{"slurmit1", "slurmit2"}, a.Usernames())
	require.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), a.Month)
	b := rep["acc_b"].Total.Components()
	require.Equal(t, "1", b[ComponentCPU].String())
	require.Equal(t, "2", b[ComponentGPU].String())
	require.Equal(t, "0.25", b[ComponentRAM].String())
	require.Zero(t, rep["acc_c"].Total)

	_, err = parseJobs("1|a|u|COMPLETED|x|cpu=1\n")
	require.Error(t, err)
}

func TestUsageWindowAndNoAccounts(t *testing.T) {
	rec := &recorder{out: Output{}}
	c := &Client{Exec: rec}
	_, err := c.UsageReport(context.Background(), []string{"acc_a", "acc_b"}, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, rec.calls, 1)
	line := strings.Join(rec.calls[0], " ")
	require.Contains(t, line, "--starttime=2026-12-01T00:00:00 --endtime=2027-01-01T00:00:00 --accounts=acc_a,acc_b")
	require.Contains(t, line, "--truncate")

	// No accounts: sacct is not asked (it would report everyone's jobs).
	rec.calls = nil
	rep, err := c.UsageReport(context.Background(), nil, time.Now())
	require.NoError(t, err)
	require.Empty(t, rep)
	require.Empty(t, rec.calls)
}

func TestUsageComponentsRounding(t *testing.T) {
	u := TRESUsage{CPUSeconds: 7200 + 18, GPUSeconds: 1, MemMBSeconds: 1024 * 3600 * 3 / 2}
	c := u.Components()
	require.Equal(t, "2.01", c[ComponentCPU].String()) // 2.005 h rounds half up
	require.Equal(t, "0", c[ComponentGPU].String())
	require.Equal(t, "1.5", c[ComponentRAM].String())
}

func TestLimitsFromComponents(t *testing.T) {
	l, err := LimitsFromComponents(map[string]int64{"cpu": 10, "gpu": 2, "ram": 20})
	require.NoError(t, err)
	require.Equal(t, Limits{CPU: 600, GPU: 120, Mem: 20 * 1024 * 60}, l)
	require.Equal(t, map[string]int64{"cpu": 10, "gpu": 2, "ram": 20}, l.Components())

	l, err = LimitsFromComponents(map[string]int64{"cpu": 0})
	require.NoError(t, err)
	require.Equal(t, Limits{CPU: 0, GPU: -1, Mem: -1}, l)
	require.Equal(t, map[string]int64{"cpu": 0}, l.Components())

	for _, bad := range []map[string]int64{{"cpu": -1}, {"storage": 1}, {"ram": 1 << 50}} {
		_, err := LimitsFromComponents(bad)
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v: %v", bad, err)
	}
}

func request(t models.OrderType, limits map[string]int64) providers.Request {
	return providers.Request{
		OrderUUID: models.NewUUID(), OrderType: t, OfferingType: OfferingType,
		ResourceUUID: models.NewUUID(), ResourceName: "Test Alloc",
		ProjectUUID: models.NewUUID(), CustomerUUID: models.NewUUID(),
		Limits: limits,
	}
}

func TestValidate(t *testing.T) {
	p := New()
	ctx := context.Background()
	full := map[string]int64{"cpu": 1, "gpu": 0, "ram": 1}
	require.NoError(t, p.Validate(ctx, request(models.OrderCreate, full)))
	require.NoError(t, p.Validate(ctx, request(models.OrderUpdate, map[string]int64{"cpu": 5})))
	require.NoError(t, p.Validate(ctx, request(models.OrderTerminate, nil)))

	remote := request(models.OrderCreate, full)
	remote.PluginOptions = map[string]any{"hostname": "hpc.example.org"}
	noKey := request(models.OrderCreate, full)
	noKey.PluginOptions = map[string]any{"hostname": "hpc.example.org", "ssh_host_key": "x"}
	noKey.SecretOptions = map[string]any{"ssh_private_key": "not a key"}
	badPrefix := request(models.OrderCreate, full)
	badPrefix.PluginOptions = map[string]any{"allocation_prefix": "A B"}
	badPort := request(models.OrderCreate, full)
	badPort.PluginOptions = map[string]any{"hostname": "h", "port": 70000.0}
	badPort.SecretOptions = map[string]any{"ssh_private_key": "k"}

	for _, tc := range []struct {
		name string
		r    providers.Request
		msg  string
	}{
		{"no limits", request(models.OrderCreate, nil), "Quota are not defined."},
		{"gpu missing", request(models.OrderCreate, map[string]int64{"cpu": 1, "ram": 1}), "gpu component quota is not defined"},
		{"negative", request(models.OrderCreate, map[string]int64{"cpu": -1, "gpu": 0, "ram": 1}), "Limit of cpu"},
		{"unknown component on update", request(models.OrderUpdate, map[string]int64{"disk": 1}), `Component "disk"`},
		{"remote host without a key", remote, "ssh_private_key is required"},
		{"unparsable key", noKey, "SSH private key"},
		{"bad prefix", badPrefix, "account prefix"},
		{"bad port", badPort, "not a valid port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Validate(ctx, tc.r)
			require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// A failed command's stderr reaches the order's error; such failures are
// retried, while a command that is not there at all fails the order.
func TestErrorsCarryStderr(t *testing.T) {
	ctx := context.Background()
	r := request(models.OrderCreate, map[string]int64{"cpu": 1, "gpu": 1, "ram": 1})

	p := &Provider{Exec: scripted{"sacctmgr": {ExitCode: 1, Stderr: " Problem talking to the database: Connection refused\n"}}}
	_, err := p.Create(ctx, r)
	require.ErrorContains(t, err, "Problem talking to the database: Connection refused")
	require.ErrorContains(t, err, "sacctmgr --parsable2 --noheader --immediate list account")
	var perm *providers.PermanentError
	require.False(t, errors.As(err, &perm), "a failed command is retried: %v", err)
	var cmdErr *CommandError
	require.True(t, errors.As(err, &cmdErr))
	require.Equal(t, 1, cmdErr.ExitCode)

	t.Setenv("PATH", t.TempDir()) // no sacctmgr anywhere
	p = &Provider{Exec: LocalExecutor{}}
	_, err = p.Create(ctx, r)
	require.True(t, errors.As(err, &perm), "a missing command fails the order: %v", err)
	require.ErrorContains(t, err, "sacctmgr")
}

// A name taken by an account under another parent is a conflict, not
// something to adopt.
func TestAllocationNameClash(t *testing.T) {
	r := request(models.OrderCreate, map[string]int64{"cpu": 1, "gpu": 1, "ram": 1})
	cl := &Cluster{}
	cust, proj, alloc, err := cl.names(r)
	require.NoError(t, err)
	fake := &fakeSacctmgr{accounts: map[string]Account{
		"root": {Name: "root"},
		cust:   {Name: cust, Parent: "root"},
		proj:   {Name: proj, Parent: cust},
		alloc:  {Name: alloc, Parent: "someone_else"},
	}}
	_, err = (&Provider{Exec: fake}).Create(context.Background(), r)
	var perm *providers.PermanentError
	require.True(t, errors.As(err, &perm), "%v", err)
	require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
	require.Contains(t, err.Error(), "already exists under someone_else")
}

// scripted answers each program with a fixed output.
type scripted map[string]Output

func (s scripted) Run(_ context.Context, argv []string) (Output, error) {
	return s[argv[0]], nil
}

// recorder records the commands and answers them all with out.
type recorder struct {
	out   Output
	calls [][]string
}

func (r *recorder) Run(_ context.Context, argv []string) (Output, error) {
	r.calls = append(r.calls, argv)
	return r.out, nil
}

// fakeSacctmgr answers account reads from a fixed set of accounts.
type fakeSacctmgr struct{ accounts map[string]Account }

func (f *fakeSacctmgr) Run(_ context.Context, argv []string) (Output, error) {
	line := strings.Join(argv, " ")
	if strings.Contains(line, "list account withassoc where name=") {
		name := strings.TrimPrefix(argv[len(argv)-2], "name=")
		if a, ok := f.accounts[name]; ok {
			return Output{Stdout: a.Name + "|d|o||" + a.Parent + "|\n"}, nil
		}
		return Output{}, nil
	}
	return Output{ExitCode: 1, Stderr: "unexpected command " + line}, nil
}
