package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/temporalclient"
	"github.com/waldur-go/waldur/models/billing"
	"github.com/waldur-go/waldur/workflows"
)

// billingCmd groups the billing commands: `waldur billing close` runs the
// monthly close by hand, the same workflow the waldur-billing-close
// schedule starts (a worker of the core queue must be running).
func billingCmd(cfg *config.Config) *cobra.Command {
	c := &cobra.Command{Use: "billing", Short: "Invoices: close a month by hand"}
	var month string
	var timeout time.Duration
	closeCmd := &cobra.Command{
		Use:   "close [--month YYYY-MM]",
		Short: "Close a month: finalize the invoices of the months before it, copy future prices, open its invoices (a second run changes nothing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			if month == "" {
				month = billing.MonthOf(time.Now()).String()
			}
			if _, err := billing.ParseMonth(month); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			tc, err := temporalclient.Dial(ctx, temporalclient.Options{HostPort: cfg.TemporalHostPort(), Namespace: cfg.TemporalNamespace,
				Logger: cfg.Logger()})
			if err != nil {
				return err
			}
			defer tc.Close()
			out, err := workflows.StartCloseMonth(ctx, tc, month)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.AlreadyClosed {
				fmt.Fprintf(w, "%s was closed already: nothing changed\n", out.Month)
				return nil
			}
			fmt.Fprintf(w, "%s closed: %d invoices finalized, %d prices copied, %d invoices opened, %d items (%d new)\n",
				out.Month, out.Finalized, out.PricesCopied, out.InvoicesCreated, out.Current.Items, out.Current.Inserted)
			return nil
		},
	}
	closeCmd.Flags().StringVar(&month, "month", "", "the month that begins, YYYY-MM (default: the current month)")
	closeCmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait for the close")
	c.AddCommand(closeCmd)
	return c
}
