package slurm

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// Command is `waldur slurm`, the SLURM commands. They run, now, the workflows the
// slurm-* schedules run (a worker of the core queue and one of the slurm
// queue must be running):
//
//	waldur slurm associations [--offering UUID]... [--sync]
//	waldur slurm pull-usage [--month YYYY-MM] [--offering UUID]...
func Command(cfg *config.Config) *cobra.Command {
	c := &cobra.Command{Use: "slurm", Short: "SLURM allocations: the association report and sync, the usage pull"}
	var offerings []string
	var timeout time.Duration
	dial := func(cmd *cobra.Command) (context.Context, context.CancelFunc, client.Client, []models.UUID, error) {
		if err := cfg.Validate(); err != nil {
			return nil, nil, nil, nil, err
		}
		var ids []models.UUID
		for _, o := range offerings {
			id, err := models.ParseUUID(o)
			if err != nil {
				return nil, nil, nil, nil, fmt.Errorf("--offering %q is not a UUID", o)
			}
			ids = append(ids, id)
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
		tc, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: cfg.TemporalHostPort(), Namespace: cfg.TemporalNamespace,
			Logger: cfg.Logger()})
		if err != nil {
			cancel()
			return nil, nil, nil, nil, err
		}
		return ctx, cancel, tc, ids, nil
	}

	var sync bool
	assoc := &cobra.Command{
		Use:   "associations [--offering UUID]... [--sync]",
		Short: "Report the allocations whose associations differ from their project's members; --sync makes them match",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel, tc, ids, err := dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer tc.Close()
			out, err := RunSlurmMembershipSync(ctx, tc, SlurmMembershipSyncInput{Offerings: ids, DryRun: !sync})
			printAssociations(cmd.OutOrStdout(), out)
			return err
		},
	}
	assoc.Flags().BoolVar(&sync, "sync", false, "add the missing associations and remove the extra ones")

	var month string
	pull := &cobra.Command{
		Use:   "pull-usage [--month YYYY-MM] [--offering UUID]...",
		Short: "Pull the allocations' usage from sacct into component usages and invoice items (a second run changes nothing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m billing.Month
			if month != "" {
				var err error
				if m, err = billing.ParseMonth(month); err != nil {
					return err
				}
			}
			ctx, cancel, tc, ids, err := dial(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			defer tc.Close()
			out, err := RunSlurmUsagePull(ctx, tc, SlurmUsagePullInput{Month: m, Offerings: ids})
			printUsagePull(cmd.OutOrStdout(), out)
			return err
		},
	}
	pull.Flags().StringVar(&month, "month", "", "the month, YYYY-MM (default: this month, and on the 1st also the month before)")

	for _, sub := range []*cobra.Command{assoc, pull} {
		sub.Flags().StringArrayVar(&offerings, "offering", nil, "only this offering (UUID; repeatable)")
		sub.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait")
		c.AddCommand(sub)
	}
	return c
}

func printAssociations(w io.Writer, out SlurmMembershipSyncResult) {
	if len(out.Offerings) == 0 {
		fmt.Fprintln(w, "no SLURM allocations")
		return
	}
	for _, o := range out.Offerings {
		fmt.Fprintf(w, "offering %s (%s): %d allocations\n", o.OfferingName, o.OfferingUUID, o.Checked)
		if o.Error != "" {
			fmt.Fprintf(w, "  failed: %s\n", o.Error)
			continue
		}
		accounts := map[string]bool{}
		for a := range o.Diffs {
			accounts[a] = true
		}
		for a := range o.Failed {
			accounts[a] = true
		}
		for a := range o.Invalid {
			accounts[a] = true
		}
		for _, a := range o.Missing {
			accounts[a] = true
		}
		names := make([]string, 0, len(accounts))
		for a := range accounts {
			names = append(names, a)
		}
		sort.Strings(names)
		if len(names) == 0 {
			fmt.Fprintln(w, "  every account is in step with its members")
		}
		for _, a := range names {
			var parts []string
			if d, ok := o.Diffs[a]; ok {
				if ch, done := o.Changed[a]; done {
					d = ch
					if len(d.Missing) > 0 {
						parts = append(parts, "added "+strings.Join(d.Missing, ","))
					}
					if len(d.Extra) > 0 {
						parts = append(parts, "removed "+strings.Join(d.Extra, ","))
					}
				} else {
					if len(d.Missing) > 0 {
						parts = append(parts, "missing "+strings.Join(d.Missing, ","))
					}
					if len(d.Extra) > 0 {
						parts = append(parts, "extra "+strings.Join(d.Extra, ","))
					}
				}
			}
			for _, m := range o.Missing {
				if m == a {
					parts = append(parts, "the account does not exist on the cluster")
				}
			}
			if inv := o.Invalid[a]; len(inv) > 0 {
				parts = append(parts, "members without a valid SLURM user name: "+strings.Join(inv, ","))
			}
			if f := o.Failed[a]; f != "" {
				parts = append(parts, "failed: "+f)
			}
			fmt.Fprintf(w, "  %s (resource %s): %s\n", a, o.Resources[a], strings.Join(parts, "; "))
		}
	}
}

func printUsagePull(w io.Writer, out SlurmUsagePullResult) {
	if len(out.Offerings) == 0 {
		months := make([]string, len(out.Months))
		for i, m := range out.Months {
			months[i] = m.String()
		}
		fmt.Fprintf(w, "no SLURM allocations (%s)\n", strings.Join(months, ", "))
		return
	}
	for _, o := range out.Offerings {
		fmt.Fprintf(w, "offering %s %s: %d allocations, %d recorded, %d unchanged, %d skipped, %d erred\n",
			o.OfferingName, o.Month, o.Allocations, o.Recorded, o.Unchanged, o.Skipped, o.Erred)
		if o.Error != "" {
			fmt.Fprintf(w, "  failed: %s\n", o.Error)
		}
		for _, x := range o.Outcomes {
			line := fmt.Sprintf("  %s (resource %s): %s", x.Account, x.ResourceUUID, x.Outcome)
			if len(x.Usage) > 0 {
				keys := make([]string, 0, len(x.Usage))
				for k := range x.Usage {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var us []string
				for _, k := range keys {
					us = append(us, k+"="+x.Usage[k].String())
				}
				line += " " + strings.Join(us, " ")
			}
			if x.Message != "" {
				line += " (" + x.Message + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
}
