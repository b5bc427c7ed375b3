// Command waldur is the whole platform in one binary:
//
//	waldur serve                 everything in one process (embedded Temporal and SQLite by default)
//	waldur api                   the REST API alone
//	waldur worker --queue NAME   the Temporal workers of some task queues
//	waldur migrate up|down|status
//	waldur user create --username NAME [--staff]
//	waldur billing close [--month YYYY-MM]
//	waldur version
//	waldur ...                   each plugin's own sub-commands (providers/<name>, listed in internal/plugins),
//	                             e.g. waldur slurm associations [--sync] | pull-usage [--month YYYY-MM]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database"
	"github.com/waldur-go/waldur/internal/plugins"
	"github.com/waldur-go/waldur/internal/preset"
	"github.com/waldur-go/waldur/internal/version"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root().ExecuteContext(ctx); err != nil {
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "context canceled")) {
			return // interrupted while starting: a clean stop
		}
		fmt.Fprintf(os.Stderr, "waldur: %v\n", err)
		os.Exit(1)
	}
}

func root() *cobra.Command {
	cfg := config.FromEnv()
	cmd := &cobra.Command{
		Use:           "waldur",
		Short:         "Cloud and HPC orchestration platform on Temporal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cfg.BindFlags(cmd.PersistentFlags())
	cmd.AddCommand(serveCmd(&cfg), apiCmd(&cfg), workerCmd(&cfg), migrateCmd(&cfg), userCmd(&cfg), presetCmd(&cfg), versionCmd(),
		billingCmd(&cfg))
	// Each plugin's own sub-commands.
	cmd.AddCommand(plugins.All(cfg).Commands(&cfg)...)
	return cmd
}

func serveCmd(cfg *config.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the API, every worker and every schedule in one process (embedded Temporal unless WALDUR_TEMPORAL_ADDRESS is set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return app.Serve(cmd.Context(), *cfg, cfg.Logger(), app.ServeOptions{})
		},
	}
}

func apiCmd(cfg *config.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "api",
		Short: "Run the REST API alone (stateless; against an external Temporal and a migrated database)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return app.API(cmd.Context(), *cfg, cfg.Logger())
		},
	}
}

func workerCmd(cfg *config.Config) *cobra.Command {
	var queues []string
	c := &cobra.Command{
		Use:   "worker --queue NAME [--queue NAME…]",
		Short: "Run the Temporal workers of the given task queues (\"all\" for every queue)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return app.Worker(cmd.Context(), *cfg, cfg.Logger(), queues)
		},
	}
	c.Flags().StringSliceVarP(&queues, "queue", "q", nil, "task queue to serve (repeatable, comma-separated, or \"all\")")
	_ = c.MarkFlagRequired("queue")
	return c
}

func migrateCmd(cfg *config.Config) *cobra.Command {
	c := &cobra.Command{Use: "migrate", Short: "Apply, roll back or list database migrations"}
	open := func(cmd *cobra.Command) (*app.MigrateSession, error) {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return app.OpenMigrateSession(cmd.Context(), *cfg)
	}
	c.AddCommand(&cobra.Command{
		Use: "up", Short: "Apply every pending migration", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			vs, err := s.M.Up(cmd.Context())
			if err != nil {
				return err
			}
			if err := s.EnsureData(cmd.Context()); err != nil {
				return err
			}
			if len(vs) == 0 {
				fmt.Println("no pending migrations")
			}
			for _, v := range vs {
				fmt.Printf("applied %d\n", v)
			}
			return nil
		},
	}, &cobra.Command{
		Use: "down", Short: "Roll back the newest applied migration", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.M.Down(cmd.Context())
			if err != nil {
				return err
			}
			if v == 0 {
				fmt.Println("no migration to roll back")
			} else {
				fmt.Printf("rolled back %d\n", v)
			}
			return nil
		},
	}, &cobra.Command{
		Use: "status", Short: "List migrations and whether each is applied", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.M.Status(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Printf("%-8s %-8s %s\n", "VERSION", "STATE", "NAME")
			for _, m := range st {
				state := "pending"
				if m.Applied {
					state = "applied"
				}
				fmt.Printf("%-8d %-8s %s\n", m.Version, state, m.Name)
			}
			return nil
		},
	})
	return c
}

func userCmd(cfg *config.Config) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage users"}
	var u models.User
	var password string
	create := &cobra.Command{
		Use:   "create --username NAME [--staff] [--password P]",
		Short: "Create a user and print its API token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := cfg.Logger()
			db, kind, err := app.OpenPrimaryDatabase(cmd.Context(), *cfg, log)
			if err != nil {
				return err
			}
			defer database.Close(db)
			if err := app.Migrate(cmd.Context(), db, kind, nil); err != nil {
				return err
			}
			tok, err := app.CreateUser(cmd.Context(), store.New(db), &u, password)
			if err != nil {
				return describe(err)
			}
			fmt.Println(tok.Key)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&u.Username, "username", "", "username (lowercase letters, digits and @.+-_)")
	f.StringVar(&u.Email, "email", "", "email address")
	f.StringVar(&u.FirstName, "first-name", "", "first name")
	f.StringVar(&u.LastName, "last-name", "", "last name")
	f.BoolVar(&u.IsStaff, "staff", false, "make the user staff (full access)")
	f.BoolVar(&u.IsSupport, "support", false, "make the user global support (read-only access to everything)")
	f.StringVar(&password, "password", "", "password for password login (default: none, token only)")
	_ = create.MarkFlagRequired("username")
	c.AddCommand(create)
	return c
}

// describe turns a validation error into one line naming the fields.
func describe(err error) error {
	if e, ok := err.(*models.Error); ok && len(e.Fields) > 0 {
		for f, msgs := range e.Fields {
			return fmt.Errorf("%s: %s", f, msgs[0])
		}
	}
	return err
}

func presetCmd(cfg *config.Config) *cobra.Command {
	c := &cobra.Command{Use: "preset", Short: "Load Waldur demo-preset files"}
	c.AddCommand(&cobra.Command{
		Use:   "load FILE",
		Short: "Load a Waldur demo-preset JSON file (users, tokens, customers, projects, roles, …); loading twice changes nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			db, kind, err := app.OpenPrimaryDatabase(cmd.Context(), *cfg, cfg.Logger())
			if err != nil {
				return err
			}
			defer database.Close(db)
			if err := app.Migrate(cmd.Context(), db, kind, nil); err != nil {
				return err
			}
			rep, err := preset.Load(cmd.Context(), store.New(db), data)
			if err != nil {
				return err
			}
			if rep.Title != "" {
				fmt.Printf("loaded %q\n", rep.Title)
			}
			for _, s := range rep.Sections {
				fmt.Printf("  %-20s %3d created, %3d already present\n", s.Name, s.Created, s.Existing)
			}
			for _, s := range rep.Skipped {
				fmt.Printf("  %-20s skipped (not supported yet)\n", s)
			}
			return nil
		},
	})
	return c
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(*cobra.Command, []string) { fmt.Println(version.String()) },
	}
}
