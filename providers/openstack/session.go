package openstack

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	gcos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// session is an authenticated client of one cloud as its administrator,
// scoped to the admin project (project "") or to a tenant's project.
type session struct {
	provider *gophercloud.ProviderClient
	identity *gophercloud.ServiceClient
	compute  *gophercloud.ServiceClient
	volume   *gophercloud.ServiceClient
	network  *gophercloud.ServiceClient
	image    *gophercloud.ServiceClient
	userID   string
	domainID string // of the admin user's domain (Connection.Domain)
}

type sessionKey struct {
	authURL, domain, username, password, project string
}

// session returns the cached session for conn scoped to project (the
// admin project when empty), authenticating on first use. Tokens are
// renewed by gophercloud when they expire (AllowReauth).
func (p *Provider) session(ctx context.Context, conn Connection, project string) (*session, error) {
	key := sessionKey{conn.AuthURL, conn.Domain, conn.Username, conn.Password, project}
	p.mu.Lock()
	s := p.sessions[key]
	p.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := p.login(ctx, conn, project)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if cur := p.sessions[key]; cur != nil {
		s = cur
	} else {
		p.sessions[key] = s
	}
	p.mu.Unlock()
	return s, nil
}

// forget drops the cached sessions scoped to project (a deleted tenant).
func (p *Provider) forget(conn Connection, project string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.sessions {
		if k.authURL == conn.AuthURL && k.project == project {
			delete(p.sessions, k)
		}
	}
}

func (p *Provider) login(ctx context.Context, conn Connection, project string) (*session, error) {
	pc, err := gcos.NewClient(conn.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("OpenStack endpoint %q: %w", conn.AuthURL, err)
	}
	pc.HTTPClient = http.Client{Timeout: p.opts.HTTPTimeout}
	pc.RetryFunc = p.retry
	pc.UserAgent.Prepend("waldur-go")
	ao := gophercloud.AuthOptions{IdentityEndpoint: conn.AuthURL, Username: conn.Username, Password: conn.Password,
		DomainName: conn.Domain, AllowReauth: true}
	if project == "" {
		ao.TenantName = conn.AdminProject
	} else {
		ao.TenantID = project
	}
	if err := gcos.Authenticate(ctx, pc, ao); err != nil {
		return nil, fmt.Errorf("authenticating to %s as %s: %w", conn.AuthURL, conn.Username, err)
	}
	eo := gophercloud.EndpointOpts{Region: conn.Region}
	s := &session{provider: pc}
	if s.identity, err = gcos.NewIdentityV3(pc, eo); err != nil {
		return nil, err
	}
	if s.compute, err = gcos.NewComputeV2(pc, eo); err != nil {
		return nil, err
	}
	if s.volume, err = gcos.NewBlockStorageV3(pc, eo); err != nil {
		return nil, err
	}
	if s.network, err = gcos.NewNetworkV2(pc, eo); err != nil {
		return nil, err
	}
	if s.image, err = gcos.NewImageV2(pc, eo); err != nil {
		return nil, err
	}
	if ar, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if u, err := ar.ExtractUser(); err == nil {
			s.userID, s.domainID = u.ID, u.Domain.ID
		}
	}
	if s.domainID == "" {
		if s.domainID, err = p.domainID(ctx, s, conn.Domain); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *Provider) domainID(ctx context.Context, s *session, name string) (string, error) {
	pages, err := domains.List(s.identity, domains.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("looking up domain %s: %w", name, err)
	}
	ds, err := domains.ExtractDomains(pages)
	if err != nil {
		return "", err
	}
	if len(ds) == 0 {
		return "", fmt.Errorf("no domain %s", name)
	}
	return ds[0].ID, nil
}

// retry is gophercloud's RetryFunc: a call that is safe to repeat (not a
// POST, except a token request) is tried again after a 5xx or a
// connection error, with backoff, up to ClientRetries times. Creates are
// retried only by their lookup-then-create step. An image's data (PUT
// .../file) is a stream read once: not repeated either.
func (p *Provider) retry(ctx context.Context, method, url string, _ *gophercloud.RequestOpts, err error, n uint) error {
	if int(n) > p.opts.ClientRetries || !transient(err) {
		return err
	}
	if method == http.MethodPost && !strings.HasSuffix(url, "/auth/tokens") {
		return err
	}
	if method == http.MethodPut && strings.HasSuffix(url, "/file") {
		return err
	}
	if serr := sleep(ctx, p.backoff(int(n))); serr != nil {
		return err
	}
	return nil
}
