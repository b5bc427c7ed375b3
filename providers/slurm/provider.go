package slurm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Queue is the task queue of the workers that reach the clusters.
const Queue = "slurm"

// OfferingType is Waldur's direct SLURM plugin.
const OfferingType = "SlurmInvoices.SlurmPackage"

// DefaultLockFile serializes sacctmgr writes of local clients across
// processes (the same file `flock /run/lock/sacctmgr.lock sacctmgr ...`
// uses in the test-cluster notes).
const DefaultLockFile = "/run/lock/sacctmgr.lock"

// DefaultJobsGoneTimeout bounds how long Terminate waits for the cancelled
// jobs of an allocation to end before removing its account.
const DefaultJobsGoneTimeout = time.Minute

// Provider manages SLURM allocations directly.
//
// Offering options (plugin_options; Waldur's SLURM service settings):
//
//	hostname                    the cluster's head node; empty or "localhost" (and no
//	                            ssh_private_key) runs the commands on the worker's host
//	port                        SSH port (22)
//	username                    SSH user (root)
//	use_sudo                    run the commands with sudo -n
//	ssh_host_key                the head node's public key ("ssh-ed25519 AAAA...")
//	ssh_insecure_host_key       accept any host key (when ssh_host_key is not set)
//	customer_prefix, project_prefix, allocation_prefix, allocation_name_max_length
//	                            account naming (see Naming)
//
// and secret_options.ssh_private_key (PEM).
//
// Limits (order limits, component units) map to the allocation account's
// GrpTRESMins: cpu hours → cpu CPU-minutes (×60), gpu hours → gres/gpu
// GPU-minutes (×60), ram GB-hours → mem MB-minutes (×60×1024).
type Provider struct {
	// Exec, when set, runs every command whatever the options say (tests,
	// or a worker bound to one cluster).
	Exec Executor
	// LockFile is the Client.LockFile of local clients (DefaultLockFile
	// when empty and its directory exists; "-" for none).
	LockFile string
	// JobsGoneTimeout: DefaultJobsGoneTimeout when zero.
	JobsGoneTimeout time.Duration

	mu       sync.Mutex
	clusters map[string]*Cluster
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Puller   = (*Provider)(nil)
)

// New returns a provider that picks local or SSH execution from each
// offering's options.
func New() *Provider { return &Provider{} }

// Register adds p to r for SlurmInvoices.SlurmPackage on queue "slurm";
// its usage is billed in whole units (hours).
func Register(r *providers.Registry, p *Provider) {
	r.RegisterWith(p, Queue, providers.Capabilities{WholeUsageUnits: true}, OfferingType)
}

// Name implements providers.Provider.
func (*Provider) Name() string { return Queue }

// Cluster is one cluster's client with the offering's account naming.
type Cluster struct {
	*Client
	Naming Naming
}

// Cluster returns the (cached) cluster an offering's options point at.
// Bad options are a permanent error.
func (p *Provider) Cluster(pluginOptions, secretOptions map[string]any) (*Cluster, error) {
	naming, err := namingOf(pluginOptions)
	if err != nil {
		return nil, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	key, build, err := p.executorOf(pluginOptions, secretOptions)
	if err != nil {
		return nil, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clusters == nil {
		p.clusters = map[string]*Cluster{}
	}
	// One Client per cluster (it serializes writes); the naming may differ
	// between offerings of the same cluster.
	base := p.clusters[key]
	if base == nil {
		e, lock, err := build()
		if err != nil {
			return nil, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
		}
		base = &Cluster{Client: &Client{Exec: e, LockFile: lock}}
		p.clusters[key] = base
	}
	return &Cluster{Client: base.Client, Naming: naming}, nil
}

func namingOf(opts map[string]any) (Naming, error) {
	n := Naming{
		CustomerPrefix:   str(opts, "customer_prefix"),
		ProjectPrefix:    str(opts, "project_prefix"),
		AllocationPrefix: str(opts, "allocation_prefix"),
	}
	if v, ok := opts["allocation_name_max_length"]; ok && v != nil {
		i, err := toInt(v)
		if err != nil {
			return n, fmt.Errorf("allocation_name_max_length: %v", err)
		}
		n.MaxLen = int(i)
	}
	return n, n.validate()
}

// executorOf returns a cache key for the options' cluster and a builder of
// its executor.
func (p *Provider) executorOf(opts, secrets map[string]any) (string, func() (Executor, string, error), error) {
	sudo := boolOpt(opts, "use_sudo")
	if p.Exec != nil {
		return "fixed", func() (Executor, string, error) { return p.Exec, p.lockFile(), nil }, nil
	}
	host := strings.TrimSpace(str(opts, "hostname"))
	key := str(secrets, "ssh_private_key")
	if key == "" && (host == "" || host == "localhost" || host == "127.0.0.1" || host == "::1") {
		return fmt.Sprintf("local:%t", sudo), func() (Executor, string, error) {
			return LocalExecutor{Sudo: sudo}, p.lockFile(), nil
		}, nil
	}
	if host == "" {
		return "", nil, errors.New("hostname is required with ssh_private_key")
	}
	if key == "" {
		return "", nil, fmt.Errorf("ssh_private_key is required to reach %s", host)
	}
	port := int64(22)
	if v, ok := opts["port"]; ok && v != nil && v != "" {
		var err error
		if port, err = toInt(v); err != nil || port < 1 || port > 65535 {
			return "", nil, fmt.Errorf("port: %v is not a valid port", v)
		}
	}
	user := str(opts, "username")
	if user == "" {
		user = "root"
	}
	hostKey := str(opts, "ssh_host_key")
	insecure := boolOpt(opts, "ssh_insecure_host_key")
	addr := net.JoinHostPort(host, strconv.FormatInt(port, 10))
	sum := sha256.Sum256([]byte(strings.Join([]string{addr, user, key, hostKey, strconv.FormatBool(insecure), strconv.FormatBool(sudo)}, "\x00")))
	// Validate now (Validate reports bad keys before an order is accepted).
	if _, err := NewSSHExecutor(addr, user, []byte(key), hostKey, insecure); err != nil {
		return "", nil, err
	}
	return "ssh:" + hex.EncodeToString(sum[:]), func() (Executor, string, error) {
		e, err := NewSSHExecutor(addr, user, []byte(key), hostKey, insecure)
		if err != nil {
			return nil, "", err
		}
		e.Sudo = sudo
		return e, "", nil
	}, nil
}

func (p *Provider) lockFile() string {
	switch p.LockFile {
	case "-":
		return ""
	case "":
		if st, err := os.Stat("/run/lock"); err == nil && st.IsDir() {
			return DefaultLockFile
		}
		return ""
	}
	return p.LockFile
}

// Validate implements providers.Provider: the options must be usable, a
// create must give the cpu, gpu and ram limits (as Waldur's SLURM plugin
// requires) and every limit must be a non-negative amount of a known
// component.
func (p *Provider) Validate(_ context.Context, r providers.Request) error {
	if _, err := namingOf(r.PluginOptions); err != nil {
		return models.Errorf(models.CodeInvalid, "%s", err.Error())
	}
	if _, _, err := p.executorOf(r.PluginOptions, r.SecretOptions); err != nil {
		return models.Errorf(models.CodeInvalid, "%s", err.Error())
	}
	switch r.OrderType {
	case models.OrderCreate:
		if len(r.Limits) == 0 {
			return models.FieldError("limits", "Quota are not defined.")
		}
		for _, c := range Components {
			if _, ok := r.Limits[c]; !ok {
				return models.FieldError("limits", fmt.Sprintf("%s component quota is not defined", c))
			}
		}
		if _, err := LimitsFromComponents(r.Limits); err != nil {
			return err
		}
	case models.OrderUpdate:
		if _, err := LimitsFromComponents(r.Limits); err != nil {
			return err
		}
	}
	return nil
}

// componentFactor converts a component amount to its GrpTRESMins value.
var componentFactor = map[string]int64{
	ComponentCPU: 60,        // CPU-hours → CPU-minutes
	ComponentGPU: 60,        // GPU-hours → GPU-minutes
	ComponentRAM: 60 * 1024, // GB-hours → MB-minutes
}

// LimitsFromComponents converts order limits (cpu hours, gpu hours, ram
// GB-hours) to GrpTRESMins; a component not given is not limited.
func LimitsFromComponents(limits map[string]int64) (Limits, error) {
	l := NoLimits
	for c, v := range limits {
		f, ok := componentFactor[c]
		if !ok {
			return l, models.FieldError("limits", fmt.Sprintf("Component %q is not supported by SLURM offerings (cpu, gpu, ram).", c))
		}
		if v < 0 || v > math.MaxInt64/f/1024 {
			return l, models.FieldError("limits", fmt.Sprintf("Limit of %s must be between 0 and %d.", c, math.MaxInt64/f/1024))
		}
		switch c {
		case ComponentCPU:
			l.CPU = v * f
		case ComponentGPU:
			l.GPU = v * f
		case ComponentRAM:
			l.Mem = v * f
		}
	}
	return l, nil
}

// Components converts GrpTRESMins back to component amounts (whole hours
// and GB-hours, rounded down); unlimited TRES are left out.
func (l Limits) Components() map[string]int64 {
	out := map[string]int64{}
	for c, v := range map[string]int64{ComponentCPU: l.CPU, ComponentGPU: l.GPU, ComponentRAM: l.Mem} {
		if v >= 0 {
			out[c] = v / componentFactor[c]
		}
	}
	return out
}

// merge returns l with the TRES that other limits (not -1) replaced.
func (l Limits) merge(given map[string]int64, other Limits) Limits {
	if _, ok := given[ComponentCPU]; ok {
		l.CPU = other.CPU
	}
	if _, ok := given[ComponentGPU]; ok {
		l.GPU = other.GPU
	}
	if _, ok := given[ComponentRAM]; ok {
		l.Mem = other.Mem
	}
	return l
}

// names returns the request's customer, project and allocation accounts.
func (c *Cluster) names(r providers.Request) (customer, project, allocation string, err error) {
	if r.CustomerUUID.IsZero() || r.ProjectUUID.IsZero() || r.ResourceUUID.IsZero() {
		return "", "", "", errors.New("customer, project and resource UUIDs are required")
	}
	allocation = strings.ToLower(strings.TrimSpace(r.BackendID))
	if allocation == "" {
		allocation = c.Naming.Allocation(r.ResourceUUID, r.ResourceName)
	} else if !ValidAccount(allocation) {
		return "", "", "", fmt.Errorf("%q is not a valid SLURM account name", r.BackendID)
	}
	return c.Naming.Customer(r.CustomerUUID), c.Naming.Project(r.ProjectUUID), allocation, nil
}

// Create implements providers.Provider: ensures the customer, project and
// allocation accounts (in one locked sequence) and sets the allocation's
// limits. The allocation account is the resource's backend id.
func (p *Provider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return providers.Result{}, err
	}
	limits, err := LimitsFromComponents(r.Limits)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	cust, proj, alloc, err := cl.names(r)
	if err != nil {
		return providers.Result{}, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	desc := r.ResourceName
	if strings.TrimSpace(desc) == "" {
		desc = r.ResourceUUID.String()
	}
	err = cl.EnsureAccounts(ctx,
		AccountSpec{Name: cust, Description: r.CustomerUUID.String(), Organization: cust},
		AccountSpec{Name: proj, Parent: cust, Description: r.ProjectUUID.String(), Organization: cust},
		AccountSpec{Name: alloc, Parent: proj, Description: desc, Organization: proj},
	)
	if err != nil {
		return providers.Result{}, classify(err)
	}
	if err := cl.SetLimits(ctx, alloc, limits); err != nil {
		return providers.Result{}, classify(err)
	}
	return cl.result(ctx, alloc, map[string]any{"customer_account": cust, "project_account": proj})
}

// Update implements providers.Provider: sets the limits the order gives
// (the others stay as they are).
func (p *Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return providers.Result{}, err
	}
	given, err := LimitsFromComponents(r.Limits)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	_, _, alloc, err := cl.names(r)
	if err != nil {
		return providers.Result{}, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	current, err := cl.GetLimits(ctx, alloc)
	if err != nil {
		return providers.Result{}, classify(err)
	}
	if err := cl.SetLimits(ctx, alloc, current.merge(r.Limits, given)); err != nil {
		return providers.Result{}, classify(err)
	}
	return cl.result(ctx, alloc, nil)
}

// Terminate implements providers.Provider: cancels the allocation's jobs,
// waits for them to end, removes its associations and its account, then
// the project and customer accounts unless other allocations still use
// them. Terminating what is already gone succeeds.
func (p *Provider) Terminate(ctx context.Context, r providers.Request) (providers.Result, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return providers.Result{}, err
	}
	cust, proj, alloc, err := cl.names(r)
	if err != nil {
		return providers.Result{}, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	_, found, err := cl.GetAccount(ctx, alloc)
	if err != nil {
		return providers.Result{}, classify(err)
	}
	if found {
		timeout := p.JobsGoneTimeout
		if timeout <= 0 {
			timeout = DefaultJobsGoneTimeout
		}
		if err := cl.CancelJobsAndWait(ctx, alloc, timeout); err != nil {
			return providers.Result{}, classify(err)
		}
		if _, err := cl.DeleteAccount(ctx, alloc); err != nil {
			return providers.Result{}, classify(err)
		}
	}
	for _, parent := range []string{proj, cust} {
		if _, err := cl.DeleteAccountIfUnused(ctx, parent); err != nil {
			return providers.Result{}, classify(err)
		}
	}
	return providers.Result{Done: true, BackendID: alloc}, nil
}

// Pull implements providers.Puller: the allocation's limits, associations
// and this month's usage, as metadata.
func (p *Provider) Pull(ctx context.Context, r providers.Request) (providers.Result, error) {
	cl, err := p.Cluster(r.PluginOptions, r.SecretOptions)
	if err != nil {
		return providers.Result{}, err
	}
	_, _, alloc, err := cl.names(r)
	if err != nil {
		return providers.Result{}, providers.Permanent(models.Errorf(models.CodeInvalid, "%s", err.Error()))
	}
	res, err := cl.result(ctx, alloc, nil)
	if err != nil {
		return res, err
	}
	u, err := cl.Usage(ctx, alloc, time.Now())
	if err != nil {
		return providers.Result{}, classify(err)
	}
	usage := map[string]string{}
	for c, v := range u.Total.Components() {
		usage[c] = v.String()
	}
	res.Metadata["usage"] = usage
	res.Metadata["usage_month"] = u.Month.Format("2006-01")
	return res, nil
}

// result reads the allocation back for the order's result.
func (c *Cluster) result(ctx context.Context, alloc string, meta map[string]any) (providers.Result, error) {
	acc, found, err := c.GetAccount(ctx, alloc)
	if err != nil {
		return providers.Result{}, classify(err)
	}
	if !found {
		return providers.Result{}, providers.Permanent(models.Errorf(models.CodeNotFound, "SLURM account %s does not exist.", alloc))
	}
	if meta == nil {
		meta = map[string]any{}
	}
	meta["account"] = acc.Name
	meta["parent_account"] = acc.Parent
	meta["grp_tres_mins"] = acc.Limits.String()
	meta["limits"] = acc.Limits.Components()
	users := acc.Users
	if users == nil {
		users = []string{}
	}
	meta["users"] = users
	return providers.Result{Done: true, BackendID: acc.Name, Metadata: meta}, nil
}

// EnsureAccounts ensures each account in order (parents first) holding the
// write lock throughout, so a concurrent removal of an unused parent cannot
// fall between the steps.
func (c *Client) EnsureAccounts(ctx context.Context, specs ...AccountSpec) error {
	return c.locked(ctx, func() error {
		for _, s := range specs {
			if _, err := c.ensureAccount(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// CancelJobsAndWait cancels the account's jobs and polls until none is
// left, at most timeout.
func (c *Client) CancelJobsAndWait(ctx context.Context, account string, timeout time.Duration) error {
	if err := c.CancelJobs(ctx, account); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		jobs, err := c.ActiveJobs(ctx, account)
		if err != nil || len(jobs) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jobs %s of account %s are still active %s after scancel", strings.Join(jobs, ","), account, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Usage is the account's usage in month (see UsageReport).
func (c *Client) Usage(ctx context.Context, account string, month time.Time) (AccountUsage, error) {
	m, err := c.UsageReport(ctx, []string{account}, month)
	if err != nil {
		return AccountUsage{}, err
	}
	return *m[account], nil
}

// ImportAccounts lists the accounts that can be imported as allocations:
// every leaf account (no child accounts) other than root and the
// customer and project accounts of this naming.
func (c *Cluster) ImportAccounts(ctx context.Context) ([]Account, error) {
	all, err := c.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	n := c.Naming.withDefaults()
	parents := map[string]bool{}
	for _, a := range all {
		parents[a.Parent] = true
	}
	var out []Account
	for _, a := range all {
		if a.Name == "root" || parents[a.Name] ||
			strings.HasPrefix(a.Name, n.CustomerPrefix) || strings.HasPrefix(a.Name, n.ProjectPrefix) {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AssociationReport compares the associations of several accounts with
// the users that should have them (account → usernames, e.g. the members
// of each allocation's project) in one read. Accounts that match are left
// out; an account that does not exist reports all its users as missing.
func (c *Cluster) AssociationReport(ctx context.Context, want map[string][]string) (map[string]AssociationDiff, error) {
	all, err := c.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string][]string{}
	for _, a := range all {
		have[a.Name] = a.Users
	}
	out := map[string]AssociationDiff{}
	for account, users := range want {
		norm, err := normalizeUsers(users)
		if err != nil {
			return nil, err
		}
		if d := diffUsers(have[account], norm); !d.Empty() {
			out[account] = d
		}
	}
	return out, nil
}

// classify marks the errors a retry cannot fix as permanent: application
// errors (bad input, a name clash, an account that is gone) and commands
// that cannot run at all (not installed, SSH authentication refused).
// Failed commands (slurmdbd down, jobs still running) and broken
// connections are left to the activity's retries.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var app *models.Error
	var unavailable *unavailableError
	switch {
	case errors.As(err, &app), errors.As(err, &unavailable):
		return providers.Permanent(err)
	}
	return err
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func boolOpt(m map[string]any, k string) bool {
	switch v := m[k].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

func toInt(v any) (int64, error) {
	switch v := v.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case float64:
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("%v is not a whole number", v)
		}
		return int64(v), nil
	case string:
		return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
