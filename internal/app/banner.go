package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

var stdout io.Writer = os.Stdout

// AdminUsername is the staff user the first start creates.
const AdminUsername = "admin"

type banner struct {
	password, token string
	generated       bool
}

// firstStart creates the staff user `admin` when it does not exist yet (the
// first start on an empty database) and returns what to print once.
func firstStart(ctx context.Context, st *store.Store, cfg config.Config) (*banner, error) {
	if _, err := st.UserByUsername(ctx, AdminUsername); err == nil {
		return nil, nil
	} else if !models.IsCode(err, models.CodeNotFound) {
		return nil, err
	}
	b := &banner{password: cfg.AdminPassword}
	if b.password == "" {
		b.password = RandomPassword(16)
		b.generated = true
	}
	tok, err := CreateUser(ctx, st, &models.User{Username: AdminUsername, IsStaff: true, FirstName: "Admin"}, b.password)
	if err != nil {
		if models.IsCode(err, models.CodeInvalid) { // created by a concurrent start
			return nil, nil
		}
		return nil, fmt.Errorf("creating the admin user: %w", err)
	}
	b.token = tok.Key
	return b, nil
}

func (b *banner) print(w io.Writer, cfg config.Config) {
	api := "http://" + hostPort(cfg.HTTPAddr)
	pw := b.password
	if !b.generated {
		pw += "   (from " + config.EnvAdminPassword + ")"
	}
	fmt.Fprintf(w, `
Waldur is running. This is the first start: the staff user below was created
and its password and token are shown this once.

  API           %[1]s/api/
  API docs      %[1]s/api/docs/
  Health        %[1]s/health-check/
`, api)
	if cfg.Embedded() && cfg.TemporalUIAddr != "" {
		fmt.Fprintf(w, "  Temporal UI   http://%s/\n", hostPort(cfg.TemporalUIAddr))
	}
	fmt.Fprintf(w, `
  Username      %s
  Password      %s
  API token     %s

  Try:  curl -H "Authorization: Token %s" %s/api/version/

`, AdminUsername, pw, b.token, b.token, api)
}

// hostPort makes a listen address something a browser can open.
func hostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
