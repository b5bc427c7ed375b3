package slurm

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Component types of SlurmInvoices.SlurmPackage offerings (Waldur's SLURM
// plugin), all billed by usage: cpu and gpu in hours, ram in GB-hours.
const (
	ComponentCPU = "cpu"
	ComponentGPU = "gpu"
	ComponentRAM = "ram"
)

// Components lists the component types, in Waldur's order.
var Components = []string{ComponentCPU, ComponentGPU, ComponentRAM}

// TRESUsage is what jobs used: each job's allocated TRES times its elapsed
// time (within the month asked for).
type TRESUsage struct {
	CPUSeconds   int64 // CPU-seconds
	GPUSeconds   int64 // gres/gpu GPU-seconds
	MemMBSeconds int64 // allocated memory, MB-seconds
	Jobs         int   // job allocations seen (any state)
}

func (u *TRESUsage) add(o TRESUsage) {
	u.CPUSeconds += o.CPUSeconds
	u.GPUSeconds += o.GPUSeconds
	u.MemMBSeconds += o.MemMBSeconds
	u.Jobs += o.Jobs
}

var (
	secondsPerHour     = decimal.NewFromInt(3600)
	mbSecondsPerGBHour = decimal.NewFromInt(1024 * 3600)
)

// Components converts the usage to component amounts: cpu and gpu hours,
// ram GB-hours, rounded to the 2 decimals a component usage keeps.
func (u TRESUsage) Components() map[string]decimal.Decimal {
	return map[string]decimal.Decimal{
		ComponentCPU: decimal.NewFromInt(u.CPUSeconds).Div(secondsPerHour).Round(2),
		ComponentGPU: decimal.NewFromInt(u.GPUSeconds).Div(secondsPerHour).Round(2),
		ComponentRAM: decimal.NewFromInt(u.MemMBSeconds).Div(mbSecondsPerGBHour).Round(2),
	}
}

// AccountUsage is one account's usage in a month, in total and per user.
type AccountUsage struct {
	Account string
	// Month is the first instant of the month (in the location asked for).
	Month time.Time
	Total TRESUsage
	Users map[string]TRESUsage
}

// Usernames lists the users with usage, sorted.
func (a AccountUsage) Usernames() []string {
	out := make([]string, 0, len(a.Users))
	for u := range a.Users {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// JobUsage is one job allocation line of sacct.
type JobUsage struct {
	JobID, Account, User, State string
	ElapsedSeconds              int64
	CPUs, GPUs, MemMB           int64
}

// UsageReport returns the accounts' usage in the month of month (its year and
// month in its location; the window is [first day 00:00, next month's
// first day 00:00) as sacct reads it on the cluster's host). Accounts
// without jobs get a zero usage. Like Waldur, it reads sacct (real time),
// not sreport (hourly rollups), with --truncate: a job spanning two months
// counts in each for the time it ran in it. A job that has just ended can
// show up here a couple of seconds after `sacct -j` reports it complete.
func (c *Client) UsageReport(ctx context.Context, accounts []string, month time.Time) (map[string]*AccountUsage, error) {
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, month.Location())
	end := start.AddDate(0, 1, 0)
	res := map[string]*AccountUsage{}
	for _, a := range accounts {
		if !ValidAccount(a) {
			return nil, fmt.Errorf("%q is not a valid SLURM account name", a)
		}
		res[a] = &AccountUsage{Account: a, Month: start, Users: map[string]TRESUsage{}}
	}
	if len(accounts) == 0 {
		return res, nil // sacct without --accounts would report everyone's jobs
	}
	jobs, err := c.Jobs(ctx, accounts, start, end)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		au := res[j.Account]
		if au == nil {
			continue
		}
		u := TRESUsage{
			CPUSeconds:   j.CPUs * j.ElapsedSeconds,
			GPUSeconds:   j.GPUs * j.ElapsedSeconds,
			MemMBSeconds: j.MemMB * j.ElapsedSeconds,
			Jobs:         1,
		}
		au.Total.add(u)
		uu := au.Users[j.User]
		uu.add(u)
		au.Users[j.User] = uu
	}
	return res, nil
}

const timeLayout = "2006-01-02T15:04:05"

// Jobs lists the job allocations of the accounts that ran (or waited) in
// [start, end), their times truncated to that window.
func (c *Client) Jobs(ctx context.Context, accounts []string, start, end time.Time) ([]JobUsage, error) {
	out, err := c.run(ctx, "sacct", "--parsable2", "--noheader", "--noconvert", "--truncate",
		"--allocations", "--allusers",
		"--starttime="+start.Format(timeLayout), "--endtime="+end.Format(timeLayout),
		"--accounts="+strings.Join(accounts, ","),
		"--format=JobIDRaw,Account,User,State,ElapsedRaw,AllocTRES")
	if err != nil {
		return nil, err
	}
	return parseJobs(out)
}

// parseJobs reads sacct lines of JobIDRaw|Account|User|State|ElapsedRaw|AllocTRES.
func parseJobs(out string) ([]JobUsage, error) {
	var jobs []JobUsage
	for _, f := range rows(out) {
		if len(f) < 6 {
			return nil, fmt.Errorf("sacct: unexpected line %q", strings.Join(f, "|"))
		}
		j := JobUsage{JobID: f[0], Account: f[1], User: f[2], State: f[3]}
		if f[4] != "" {
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("sacct: bad ElapsedRaw %q of job %s", f[4], f[0])
			}
			j.ElapsedSeconds = n
		}
		tres, err := parseTRES(f[5])
		if err != nil {
			return nil, fmt.Errorf("sacct: job %s: %v", f[0], err)
		}
		j.CPUs, j.GPUs, j.MemMB = tres.CPU, tres.GPU, tres.Mem
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// parseTRES reads a TRES list ("billing=2,cpu=2,gres/gpu=1,mem=100M,node=1")
// into counts: cpu, gres/gpu (the untyped total; typed entries such as
// gres/gpu:a100 are part of it) and mem in MB. Missing TRES count 0.
func parseTRES(s string) (Limits, error) {
	var t Limits
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			continue
		}
		switch k {
		case "cpu", "gres/gpu":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return t, fmt.Errorf("bad %s count %q", k, v)
			}
			if k == "cpu" {
				t.CPU = n
			} else {
				t.GPU = n
			}
		case "mem":
			mb, err := parseMB(v)
			if err != nil {
				return t, err
			}
			t.Mem = mb
		}
	}
	return t, nil
}
