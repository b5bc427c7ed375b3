package slurm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/waldur-go/waldur/models"
)

// SyncReport is what SyncAllocations found and did.
type SyncReport struct {
	// Diffs are the accounts whose associations differed from the users
	// wanted (before any change), by account; matching accounts are absent.
	Diffs map[string]AssociationDiff `json:"diffs"`
	// Changed is what was added (Missing) and removed (Extra), by account;
	// empty for a dry run.
	Changed map[string]AssociationDiff `json:"changed"`
	// Missing are accounts that do not exist on the cluster (nothing done).
	Missing []string `json:"missing"`
	// Failed are accounts whose change failed, with the error.
	Failed map[string]string `json:"failed"`
	// Checked is the number of accounts compared.
	Checked int `json:"checked"`
}

// SyncAllocations makes the associations of several accounts the users
// wanted (account → usernames; the members of each allocation's project)
// with one read of the cluster's accounts, then one SyncAssociations per
// account that differs. With dryRun it only reports (the association
// report). Accounts missing on the cluster are reported, not created.
// A failing account does not stop the others; the error returned at the
// end joins the failures that a retry may fix (failures a retry cannot fix,
// such as a username Slurm refuses, are only reported). progress, when
// set, is called after each account (heartbeats).
func (c *Cluster) SyncAllocations(ctx context.Context, want map[string][]string, dryRun bool, progress func(account string)) (SyncReport, error) {
	rep := SyncReport{Diffs: map[string]AssociationDiff{}, Changed: map[string]AssociationDiff{}, Failed: map[string]string{}}
	all, err := c.ListAccounts(ctx)
	if err != nil {
		return rep, err
	}
	have := map[string]Account{}
	for _, a := range all {
		have[a.Name] = a
	}
	accounts := make([]string, 0, len(want))
	for a := range want {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	var retry []error
	for _, account := range accounts {
		rep.Checked++
		acc, ok := have[account]
		if !ok {
			rep.Missing = append(rep.Missing, account)
			continue
		}
		users, err := normalizeUsers(want[account])
		if err != nil {
			rep.Failed[account] = err.Error()
			continue
		}
		d := diffUsers(acc.Users, users)
		if d.Empty() {
			continue
		}
		rep.Diffs[account] = d
		if dryRun {
			continue
		}
		done, err := c.SyncAssociations(ctx, account, users)
		if !done.Empty() {
			rep.Changed[account] = done
		}
		if err != nil {
			rep.Failed[account] = err.Error()
			var app *models.Error
			if !errors.As(err, &app) {
				retry = append(retry, fmt.Errorf("%s: %w", account, err))
			}
		}
		if progress != nil {
			progress(account)
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, errors.Join(retry...)
}

// UsageReading is one account's usage as a pull records it.
type UsageReading struct {
	Account string `json:"account"`
	// Exists is false when the account is not on the cluster (its usage is zero).
	Exists bool `json:"exists"`
	AccountUsage
}

// ReadUsage reads the accounts' existence (one sacctmgr read) and their
// usage in the month of month (one sacct read; see UsageReport). The
// existence is read first, so an account that is there was there when
// the usage was read.
func (c *Cluster) ReadUsage(ctx context.Context, accounts []string, month time.Time) (map[string]UsageReading, error) {
	for _, a := range accounts {
		if !ValidAccount(a) {
			return nil, models.Errorf(models.CodeInvalid, "%q is not a valid SLURM account name.", a)
		}
	}
	all, err := c.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, a := range all {
		exists[a.Name] = true
	}
	usage, err := c.UsageReport(ctx, accounts, month)
	if err != nil {
		return nil, err
	}
	out := map[string]UsageReading{}
	for _, a := range accounts {
		out[a] = UsageReading{Account: a, Exists: exists[a], AccountUsage: *usage[a]}
	}
	return out, nil
}

// AccountOf is the allocation account a backend id names (lower case, as
// Slurm keeps it), or an error when it is not a valid account name.
func AccountOf(backendID string) (string, error) {
	a := strings.ToLower(strings.TrimSpace(backendID))
	if !ValidAccount(a) {
		return "", models.Errorf(models.CodeInvalid, "%q is not a valid SLURM account name.", backendID)
	}
	return a, nil
}

// Classify marks the errors of this package's clients that a retry cannot
// fix as permanent (providers.Permanent): application errors and commands
// that cannot run at all. Other failures are left to retries.
func Classify(err error) error { return classify(err) }
