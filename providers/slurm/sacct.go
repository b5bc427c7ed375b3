package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/waldur-go/waldur/models"
)

// Client runs Slurm's accounting commands through an Executor.
//
// slurmdbd loses concurrent writes (several sacctmgr calls at once all exit
// 0, some of their changes are gone), so every mutating method holds the
// client's lock for its whole check-change-verify sequence; use one Client
// per cluster. LockFile extends that lock to other processes on this host.
type Client struct {
	Exec Executor
	// LockFile, when set, is flock(2)ed (exclusively) around every group of
	// writes, so that other clients on this host using the same file (or
	// `flock FILE sacctmgr ...`) are serialized with this one.
	LockFile string

	mu sync.Mutex
}

// NewClient returns a client that runs commands with e.
func NewClient(e Executor) *Client { return &Client{Exec: e} }

// Account is one Slurm account with its association on the cluster.
type Account struct {
	Name, Description, Organization string
	// Parent is the parent account ("root" for top-level accounts).
	Parent string
	// Limits are the account association's GrpTRESMins.
	Limits Limits
	// Users have an association with the account, sorted.
	Users []string
}

// AccountSpec describes an account to create.
type AccountSpec struct {
	Name, Parent, Description, Organization string
}

// run runs argv and turns a non-zero exit status into a *CommandError.
func (c *Client) run(ctx context.Context, argv ...string) (string, error) {
	out, err := c.Exec.Run(ctx, argv)
	if err != nil {
		return "", err
	}
	if out.ExitCode != 0 {
		return out.Stdout, &CommandError{Argv: argv, Output: out}
	}
	return out.Stdout, nil
}

// sacctmgr runs `sacctmgr --parsable2 --noheader --immediate ARGS`.
func (c *Client) sacctmgr(ctx context.Context, args ...string) (string, error) {
	return c.run(ctx, append([]string{"sacctmgr", "--parsable2", "--noheader", "--immediate"}, args...)...)
}

// locked runs fn holding the client's write lock (and LockFile's).
func (c *Client) locked(ctx context.Context, fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.LockFile != "" {
		f, err := os.OpenFile(c.LockFile, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return fmt.Errorf("slurm: lock file: %w", err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			return fmt.Errorf("slurm: lock file: %w", err)
		}
		defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too
	}
	return fn()
}

// rows splits parsable2 output into fields (leading spaces, which sshare
// uses for depth even with -P, are trimmed).
func rows(out string) [][]string {
	var rs [][]string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" || !strings.Contains(l, "|") {
			continue
		}
		f := strings.Split(l, "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		rs = append(rs, f)
	}
	return rs
}

const accountFormat = "format=account,description,organization,user,parentname,grptresmins"

// parseAccounts reads `list account withassoc` rows (accountFormat).
func parseAccounts(out string) ([]Account, error) {
	byName := map[string]*Account{}
	var order []string
	for _, f := range rows(out) {
		if len(f) < 6 {
			return nil, fmt.Errorf("sacctmgr: unexpected account row %q", strings.Join(f, "|"))
		}
		a := byName[f[0]]
		if a == nil {
			a = &Account{Name: f[0], Description: f[1], Organization: f[2], Limits: NoLimits}
			byName[f[0]] = a
			order = append(order, f[0])
		}
		if user := f[3]; user != "" {
			if !contains(a.Users, user) {
				a.Users = append(a.Users, user)
			}
			continue
		}
		a.Parent = f[4]
		lim, err := ParseLimits(f[5])
		if err != nil {
			return nil, err
		}
		a.Limits = lim
	}
	out2 := make([]Account, 0, len(order))
	for _, n := range order {
		a := byName[n]
		sort.Strings(a.Users)
		if a.Parent == "" && a.Name != "root" {
			a.Parent = "root"
		}
		out2 = append(out2, *a)
	}
	return out2, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GetAccount reads one account; found is false when it does not exist.
func (c *Client) GetAccount(ctx context.Context, name string) (acc Account, found bool, err error) {
	if !ValidAccount(name) {
		return Account{}, false, models.Errorf(models.CodeInvalid, "%q is not a valid SLURM account name.", name)
	}
	out, err := c.sacctmgr(ctx, "list", "account", "withassoc", "where", "name="+name, accountFormat)
	if err != nil {
		return Account{}, false, err
	}
	accs, err := parseAccounts(out)
	if err != nil {
		return Account{}, false, err
	}
	for _, a := range accs {
		if a.Name == name {
			return a, true, nil
		}
	}
	return Account{}, false, nil
}

// ListAccounts reads every account of the cluster (root included).
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	out, err := c.sacctmgr(ctx, "list", "account", "withassoc", accountFormat)
	if err != nil {
		return nil, err
	}
	return parseAccounts(out)
}

// Children lists the accounts whose parent is name.
func (c *Client) Children(ctx context.Context, name string) ([]string, error) {
	out, err := c.sacctmgr(ctx, "show", "assoc", "where", "parent="+name, "format=account,user,parentname")
	if err != nil {
		return nil, err
	}
	var kids []string
	for _, f := range rows(out) {
		if len(f) >= 3 && f[1] == "" && f[2] == name && !contains(kids, f[0]) {
			kids = append(kids, f[0])
		}
	}
	sort.Strings(kids)
	return kids, nil
}

// EnsureAccount creates the account unless it exists. An existing account
// under another parent is a conflict (a name clash, not ours to move).
func (c *Client) EnsureAccount(ctx context.Context, spec AccountSpec) (created bool, err error) {
	err = c.locked(ctx, func() error {
		created, err = c.ensureAccount(ctx, spec)
		return err
	})
	return created, err
}

func (c *Client) ensureAccount(ctx context.Context, spec AccountSpec) (bool, error) {
	if !ValidAccount(spec.Name) || (spec.Parent != "" && !ValidAccount(spec.Parent)) {
		return false, models.Errorf(models.CodeInvalid, "%q is not a valid SLURM account name.", spec.Name)
	}
	parent := spec.Parent
	if parent == "" {
		parent = "root"
	}
	acc, found, err := c.GetAccount(ctx, spec.Name)
	if err != nil {
		return false, err
	}
	if found {
		if acc.Parent != parent {
			return false, models.Errorf(models.CodeConflict,
				"SLURM account %s already exists under %s, not under %s.", spec.Name, acc.Parent, parent)
		}
		return false, nil
	}
	args := []string{"add", "account", spec.Name}
	// An empty value is refused ("Unspecified error"); left out, Slurm
	// uses the account's name.
	if d := cleanText(spec.Description); d != "" {
		args = append(args, "description="+d)
	}
	if o := cleanText(spec.Organization); o != "" {
		args = append(args, "organization="+o)
	}
	if spec.Parent != "" {
		args = append(args, "parent="+spec.Parent)
	}
	if _, err := c.sacctmgr(ctx, args...); err != nil {
		return false, err
	}
	acc, found, err = c.GetAccount(ctx, spec.Name)
	if err != nil {
		return false, err
	}
	if !found || acc.Parent != parent {
		return false, fmt.Errorf("sacctmgr added account %s under %s, but it is not there on read-back", spec.Name, parent)
	}
	return true, nil
}

// DeleteAccount removes the account's user associations, then the account.
// Deleting a missing account is a no-op. Slurm refuses while a job of the
// account runs (the error says so; cancel the jobs first: CancelJobs).
func (c *Client) DeleteAccount(ctx context.Context, name string) (deleted bool, err error) {
	err = c.locked(ctx, func() error {
		deleted, err = c.deleteAccount(ctx, name, false)
		return err
	})
	return deleted, err
}

// DeleteAccountIfUnused deletes the account unless it has child accounts
// (checked under the same lock as the removal).
func (c *Client) DeleteAccountIfUnused(ctx context.Context, name string) (deleted bool, err error) {
	err = c.locked(ctx, func() error {
		deleted, err = c.deleteAccount(ctx, name, true)
		return err
	})
	return deleted, err
}

func (c *Client) deleteAccount(ctx context.Context, name string, onlyUnused bool) (bool, error) {
	acc, found, err := c.GetAccount(ctx, name)
	if err != nil || !found {
		return false, err
	}
	if onlyUnused {
		kids, err := c.Children(ctx, name)
		if err != nil {
			return false, err
		}
		if len(kids) > 0 {
			return false, nil
		}
	}
	for _, u := range acc.Users {
		if err := c.removeAssociation(ctx, name, u); err != nil {
			return false, err
		}
	}
	if _, err := c.sacctmgr(ctx, "remove", "account", "where", "name="+name); err != nil {
		return false, err
	}
	if _, found, err = c.GetAccount(ctx, name); err != nil {
		return false, err
	} else if found {
		return false, fmt.Errorf("sacctmgr removed account %s, but it is still there on read-back", name)
	}
	return true, nil
}

// SetLimits sets the account's GrpTRESMins (only the values that differ;
// -1 clears one) and reads them back.
func (c *Client) SetLimits(ctx context.Context, name string, want Limits) error {
	return c.locked(ctx, func() error {
		acc, found, err := c.GetAccount(ctx, name)
		if err != nil {
			return err
		}
		if !found {
			return models.Errorf(models.CodeNotFound, "SLURM account %s does not exist.", name)
		}
		set := acc.Limits.diff(want)
		if set == "" {
			return nil
		}
		if _, err := c.sacctmgr(ctx, "modify", "account", "where", "name="+name, "set", "GrpTRESMins="+set); err != nil {
			return err
		}
		acc, _, err = c.GetAccount(ctx, name)
		if err != nil {
			return err
		}
		if acc.Limits != want {
			return fmt.Errorf("sacctmgr set GrpTRESMins=%s on %s, but read back %s", set, name, acc.Limits)
		}
		return nil
	})
}

// GetLimits reads the account's GrpTRESMins.
func (c *Client) GetLimits(ctx context.Context, name string) (Limits, error) {
	acc, found, err := c.GetAccount(ctx, name)
	if err != nil {
		return Limits{}, err
	}
	if !found {
		return Limits{}, models.Errorf(models.CodeNotFound, "SLURM account %s does not exist.", name)
	}
	return acc.Limits, nil
}

// Associations lists the users associated with the account.
func (c *Client) Associations(ctx context.Context, account string) ([]string, error) {
	acc, found, err := c.GetAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, models.Errorf(models.CodeNotFound, "SLURM account %s does not exist.", account)
	}
	return acc.Users, nil
}

// AddAssociation associates the user with the account (creating the Slurm
// user when new; its default account is then this one).
func (c *Client) AddAssociation(ctx context.Context, account, user string) (added bool, err error) {
	user, err = NormalizeUsername(user)
	if err != nil {
		return false, err
	}
	err = c.locked(ctx, func() error {
		users, err := c.Associations(ctx, account)
		if err != nil || contains(users, user) {
			return err
		}
		if err := c.addAssociation(ctx, account, user); err != nil {
			return err
		}
		added = true
		return nil
	})
	return added, err
}

func (c *Client) addAssociation(ctx context.Context, account, user string) error {
	if _, err := c.sacctmgr(ctx, "add", "user", user, "account="+account); err != nil {
		return err
	}
	users, err := c.Associations(ctx, account)
	if err != nil {
		return err
	}
	if !contains(users, user) {
		return fmt.Errorf("sacctmgr added user %s to account %s, but the association is not there on read-back", user, account)
	}
	return nil
}

// RemoveAssociation removes the user's association with the account.
func (c *Client) RemoveAssociation(ctx context.Context, account, user string) (removed bool, err error) {
	user, err = NormalizeUsername(user)
	if err != nil {
		return false, err
	}
	err = c.locked(ctx, func() error {
		users, err := c.Associations(ctx, account)
		if err != nil || !contains(users, user) {
			return err
		}
		if err := c.removeAssociation(ctx, account, user); err != nil {
			return err
		}
		removed = true
		return nil
	})
	return removed, err
}

// removeAssociation removes the association, then gives the user a default
// account again when it was this one and others remain (Slurm leaves it
// empty, and the user's jobs without -A would fail).
func (c *Client) removeAssociation(ctx context.Context, account, user string) error {
	if _, err := c.sacctmgr(ctx, "remove", "user", "where", "name="+user, "and", "account="+account); err != nil {
		return err
	}
	out, err := c.sacctmgr(ctx, "show", "assoc", "where", "user="+user, "format=account,user")
	if err != nil {
		return err
	}
	var remaining []string
	for _, f := range rows(out) {
		if len(f) >= 2 && f[1] == user {
			if f[0] == account {
				return fmt.Errorf("sacctmgr removed user %s from account %s, but the association is still there on read-back", user, account)
			}
			if !contains(remaining, f[0]) {
				remaining = append(remaining, f[0])
			}
		}
	}
	if len(remaining) == 0 {
		return nil // Slurm drops a user with no associations left
	}
	out, err = c.sacctmgr(ctx, "show", "user", "where", "name="+user, "format=user,defaultaccount")
	if err != nil {
		return err
	}
	for _, f := range rows(out) {
		if len(f) >= 2 && f[0] == user && (f[1] == "" || f[1] == account) {
			sort.Strings(remaining)
			_, err := c.sacctmgr(ctx, "modify", "user", "where", "name="+user, "set", "DefaultAccount="+remaining[0])
			return err
		}
	}
	return nil
}

// AssociationDiff compares an account's associations with the users that
// should have one.
type AssociationDiff struct {
	// Missing should have an association and have none; Extra have one and
	// should not. Both sorted.
	Missing, Extra []string
}

// Empty reports whether the associations match.
func (d AssociationDiff) Empty() bool { return len(d.Missing) == 0 && len(d.Extra) == 0 }

// DiffAssociations reports how the account's associations differ from
// usernames, changing nothing.
func (c *Client) DiffAssociations(ctx context.Context, account string, usernames []string) (AssociationDiff, error) {
	want, err := normalizeUsers(usernames)
	if err != nil {
		return AssociationDiff{}, err
	}
	have, err := c.Associations(ctx, account)
	if err != nil {
		return AssociationDiff{}, err
	}
	return diffUsers(have, want), nil
}

// SyncAssociations makes the account's associations exactly usernames:
// adds the missing ones, removes the others. It returns what it changed.
func (c *Client) SyncAssociations(ctx context.Context, account string, usernames []string) (AssociationDiff, error) {
	want, err := normalizeUsers(usernames)
	if err != nil {
		return AssociationDiff{}, err
	}
	var done AssociationDiff
	err = c.locked(ctx, func() error {
		have, err := c.Associations(ctx, account)
		if err != nil {
			return err
		}
		d := diffUsers(have, want)
		for _, u := range d.Missing {
			if err := c.addAssociation(ctx, account, u); err != nil {
				return err
			}
			done.Missing = append(done.Missing, u)
		}
		for _, u := range d.Extra {
			if err := c.removeAssociation(ctx, account, u); err != nil {
				return err
			}
			done.Extra = append(done.Extra, u)
		}
		return nil
	})
	return done, err
}

func normalizeUsers(usernames []string) ([]string, error) {
	var out []string
	for _, u := range usernames {
		n, err := NormalizeUsername(u)
		if err != nil {
			return nil, err
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func diffUsers(have, want []string) AssociationDiff {
	var d AssociationDiff
	for _, u := range want {
		if !contains(have, u) {
			d.Missing = append(d.Missing, u)
		}
	}
	for _, u := range have {
		if !contains(want, u) {
			d.Extra = append(d.Extra, u)
		}
	}
	sort.Strings(d.Missing)
	sort.Strings(d.Extra)
	return d
}

// ActiveJobs lists the ids of the account's pending and running jobs.
func (c *Client) ActiveJobs(ctx context.Context, account string) ([]string, error) {
	out, err := c.run(ctx, "squeue", "--noheader", "--account="+account, "--format=%i")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// CancelJobs cancels every pending and running job of the account.
func (c *Client) CancelJobs(ctx context.Context, account string) error {
	jobs, err := c.ActiveJobs(ctx, account)
	if err != nil || len(jobs) == 0 {
		return err
	}
	_, err = c.run(ctx, "scancel", "--account="+account)
	return err
}

// cleanText makes a description or organization safe for sacctmgr and its
// parsable output: no separators, quotes or control characters, 100 bytes.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f, r == '|', r == '"', r == '\'', r == '\\', r == '`':
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	for len(s) > 100 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// Limits are GrpTRESMins values: CPU (CPU-minutes), GPU (gres/gpu
// GPU-minutes), Mem (MB-minutes); -1 means no limit.
type Limits struct {
	CPU, GPU, Mem int64
}

// NoLimits sets no limit at all.
var NoLimits = Limits{CPU: -1, GPU: -1, Mem: -1}

// String renders the limits as sacctmgr takes them.
func (l Limits) String() string {
	return fmt.Sprintf("cpu=%d,mem=%d,gres/gpu=%d", l.CPU, l.Mem, l.GPU)
}

// diff renders the GrpTRESMins assignments that turn l into want ("" when
// equal). Unchanged TRES are left out, so a cluster without gres/gpu
// accounting is never asked to clear a GPU limit.
func (l Limits) diff(want Limits) string {
	var parts []string
	if l.CPU != want.CPU {
		parts = append(parts, "cpu="+strconv.FormatInt(want.CPU, 10))
	}
	if l.Mem != want.Mem {
		parts = append(parts, "mem="+strconv.FormatInt(want.Mem, 10))
	}
	if l.GPU != want.GPU {
		parts = append(parts, "gres/gpu="+strconv.FormatInt(want.GPU, 10))
	}
	return strings.Join(parts, ",")
}

// ParseLimits reads a GrpTRESMins value as sacctmgr prints it
// ("cpu=600,gres/gpu=60,mem=100000M"; mem may carry a K/M/G/T suffix).
// TRES not listed are unlimited (-1); other TRES are ignored.
func ParseLimits(s string) (Limits, error) {
	l := NoLimits
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			continue
		}
		switch k {
		case "cpu", "gres/gpu":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return l, fmt.Errorf("slurm: bad %s limit %q", k, v)
			}
			if k == "cpu" {
				l.CPU = n
			} else {
				l.GPU = n
			}
		case "mem":
			mb, err := parseMB(v)
			if err != nil {
				return l, err
			}
			l.Mem = mb
		}
	}
	return l, nil
}

// parseMB reads a memory amount with an optional K/M/G/T/P suffix
// (binary units, as Slurm uses) into MB, rounding kilobytes up.
func parseMB(v string) (int64, error) {
	if v == "" {
		return 0, errors.New("slurm: empty memory amount")
	}
	mult, div := int64(1), int64(1)
	switch v[len(v)-1] {
	case 'K', 'k':
		div = 1024
	case 'M', 'm':
	case 'G', 'g':
		mult = 1024
	case 'T', 't':
		mult = 1024 * 1024
	case 'P', 'p':
		mult = 1024 * 1024 * 1024
	default:
		v += "M"
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("slurm: bad memory amount %q", v)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("slurm: memory amount %q is too large", v)
	}
	return (n*mult + div - 1) / div, nil
}
