// Package openstack is the OpenStack integration (Plugin): the offering
// types OpenStack.Tenant, OpenStack.Instance and OpenStack.Volume,
// performed through gophercloud (Keystone v3, Nova, Cinder v3, Neutron,
// Glance v2), with their tables, pull, routes and keepers.
//
// The package is two halves, told apart by file (layout_test.go checks
// that backend files import no database code):
//
//	backend (no database; runs where the cloud is reachable, queue openstack)
//	  openstack.go   Provider, Connection, Refs (what the core resolved for an order)
//	  session.go tenant.go instance.go volume.go teardown.go   the order chains
//	  pull.go import.go   reading a tenant (Snapshot) and importable objects
//	  backend.go     PullBackend, the pull's activity on the openstack queue
//	  actions_backend.go   RunAction: the objects' actions on the cloud
//	                 (start, stop, resize, extend, attach, ...), ActionBackend
//	  cloud.go       shared by both halves: offering types, Snapshot and its
//	                 Cloud* parts, metadata keys
//	core (the application database; core queue and API)
//	  store*.go      Store: rows (TenantRow, InstanceRow, VolumeRow, the
//	                 per-tenant catalog), scope records, the pull's and imports'
//	                 records, the API's views and queries (store_query.go:
//	                 filters, and what a caller may see)
//	  keeper*.go     Keeper, the ScopeKeeper and ImportKeeper of the three types
//	  workflow.go    PullOpenStack (every ten minutes) and PullCore, its database side
//	  workflow_actions.go   OpenStackAction (one action on one object), its
//	                 dispatcher and ActionCore, the actions' database side
//	  api*.go        /api/openstack-* (api_actions.go: the objects' actions)
//	  migration*.go  the tables (version 13; 22: the objects' actions)
//	plugin.go        Plugin: what the platform gets (internal/plugins lists it)
//	command.go       `waldur openstack-emulator`, serving openstacktest
//
// openstacktest is the cloud's test double: an in-memory OpenStack that
// speaks the real HTTP APIs.
//
// The chains are Waldur's (reference §9): a tenant is a Keystone project
// with the admin's role, a tenant user, quotas, an internal network and
// subnet, a router to the external network and default security groups; an
// instance is its volumes, ports, the server (waited for until ACTIVE or
// ERROR) and a floating IP; a volume is created, waited for, extended,
// attached and detached. Termination runs in reverse order.
//
// Every step looks up before it creates, by names and metadata that carry
// the marketplace resource's UUID (Nova and Cinder metadata
// waldur_resource_uuid / waldur_order_uuid, Keystone project tags, port
// descriptions), so an activity retried after a crash or a lost response
// never makes a second server or volume. Calls that are safe to repeat
// (reads, PUT, DELETE, token requests) are retried in the HTTP client on
// 5xx and connection errors; a create is retried only as its whole
// lookup-then-create step.
//
// The provider reads no database: what an instance or volume order refers
// to (its tenant's credentials and project, flavor, image, subnets,
// security groups) arrives resolved in Request.Resolved (see Refs), filled
// by the core's Keeper; what the provider reads back travels in
// Result.Pulled (a Snapshot).
package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Queue is the task queue of OpenStack workers (waldur worker --queue openstack).
const Queue = "openstack"

// Options tune the provider. Zero values take the defaults shown.
type Options struct {
	// PollInterval is the first wait between two looks at a server or
	// volume in transition (2s); it doubles up to MaxPollInterval (15s).
	PollInterval, MaxPollInterval time.Duration
	// ServerTimeout bounds the wait for a server to become ACTIVE (30m);
	// VolumeTimeout for a volume to become available or go (15m).
	ServerTimeout, VolumeTimeout time.Duration
	// HTTPTimeout bounds one HTTP request (60s).
	HTTPTimeout time.Duration
	// ClientRetries is how often a repeatable call is retried on a 5xx or a
	// connection error (8); StepAttempts how often a lookup-then-create
	// step is tried (8).
	ClientRetries, StepAttempts int
	// RetryBackoff is the first pause between retries (200ms), doubling to 5s.
	RetryBackoff time.Duration
}

func (o Options) withDefaults() Options {
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&o.PollInterval, 2*time.Second)
	d(&o.MaxPollInterval, 15*time.Second)
	d(&o.ServerTimeout, 30*time.Minute)
	d(&o.VolumeTimeout, 15*time.Minute)
	d(&o.HTTPTimeout, 60*time.Second)
	d(&o.RetryBackoff, 200*time.Millisecond)
	if o.ClientRetries <= 0 {
		o.ClientRetries = 8
	}
	if o.StepAttempts <= 0 {
		o.StepAttempts = 8
	}
	return o
}

// Provider performs OpenStack orders. It caches one authenticated session
// per cloud, user and project; it is safe for concurrent use.
type Provider struct {
	opts Options

	mu       sync.Mutex
	sessions map[sessionKey]*session
}

// New returns a provider.
func New(opts Options) *Provider {
	return &Provider{opts: opts.withDefaults(), sessions: map[sessionKey]*session{}}
}

var _ providers.Provider = (*Provider)(nil)

// Register makes p serve the three OpenStack offering types on Queue.
func Register(r *providers.Registry, p *Provider) {
	r.RegisterWith(p, Queue, providers.Capabilities{ScopePath: "/api/openstack-tenants/"}, OfferingTenant)
	r.RegisterWith(p, Queue, providers.Capabilities{ScopePath: "/api/openstack-instances/"}, OfferingInstance)
	r.RegisterWith(p, Queue, providers.Capabilities{ScopePath: "/api/openstack-volumes/"}, OfferingVolume)
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Queue }

// Connection is how to reach a cloud as its administrator: the secret
// options of an OpenStack.Tenant offering (Waldur's OpenStack service
// settings: backend_url, username, password, domain, tenant_name,
// external_network_id, availability_zone).
type Connection struct {
	AuthURL           string   `json:"backend_url"`
	Username          string   `json:"username"`
	Password          string   `json:"password"`
	Domain            string   `json:"domain"`
	AdminProject      string   `json:"tenant_name"`
	Region            string   `json:"region,omitempty"`
	ExternalNetworkID string   `json:"external_network_id,omitempty"`
	AvailabilityZone  string   `json:"availability_zone,omitempty"`
	DNSNameservers    []string `json:"dns_nameservers,omitempty"`
}

// ConnectionFrom reads a Connection from an offering's secret options
// ("auth_url" is accepted for "backend_url"; domain defaults to "Default"
// and tenant_name to "admin"). Codes: invalid.
func ConnectionFrom(opts map[string]any) (Connection, error) {
	var c Connection
	if err := convert(opts, &c); err != nil {
		return c, models.Errorf(models.CodeInvalid, "OpenStack options are malformed: %v", err)
	}
	if c.AuthURL == "" {
		if s, ok := opts["auth_url"].(string); ok {
			c.AuthURL = s
		}
	}
	if c.Domain == "" {
		c.Domain = "Default"
	}
	if c.AdminProject == "" {
		c.AdminProject = "admin"
	}
	if c.AuthURL == "" || c.Username == "" || c.Password == "" {
		return c, models.Errorf(models.CodeInvalid, "OpenStack offering needs backend_url, username and password in its secret options.")
	}
	return c, nil
}

// Refs are what the core resolved for an instance or volume order: the
// tenant it goes into (with its cloud's credentials) and the backend ids of
// what its attributes refer to. Error, when set, is why the order cannot
// be performed (a reference to nothing); the provider fails it with that.
type Refs struct {
	Error             string     `json:"error,omitempty"`
	Connection        Connection `json:"connection"`
	TenantBackendID   string     `json:"tenant_backend_id"`
	ExternalNetworkID string     `json:"external_network_id,omitempty"`
	AvailabilityZone  string     `json:"availability_zone,omitempty"`

	// Instance.
	Flavor           CloudFlavor `json:"flavor"`
	ImageBackendID   string      `json:"image_backend_id,omitempty"`
	ImageName        string      `json:"image_name,omitempty"`
	SystemVolumeSize int64       `json:"system_volume_size,omitempty"` // MiB; 0 boots from the image
	SystemVolumeType string      `json:"system_volume_type,omitempty"` // type name
	DataVolumeSize   int64       `json:"data_volume_size,omitempty"`   // MiB; 0: none
	DataVolumeType   string      `json:"data_volume_type,omitempty"`
	Subnets          []SubnetRef `json:"subnets,omitempty"`
	SecurityGroups   []string    `json:"security_groups,omitempty"` // backend ids
	KeyName          string      `json:"key_name,omitempty"`
	PublicKey        string      `json:"public_key,omitempty"`
	UserData         string      `json:"user_data,omitempty"`
	FloatingIP       bool        `json:"floating_ip,omitempty"`

	// Volume.
	Size              int64  `json:"size,omitempty"` // MiB
	VolumeType        string `json:"volume_type,omitempty"`
	InstanceBackendID string `json:"instance_backend_id,omitempty"` // attach to

	// BackupSnapshots are the Cinder snapshots of an instance's backups,
	// deleted with it (Terminate).
	BackupSnapshots []string `json:"backup_snapshots,omitempty"`
}

// SubnetRef is a subnet an instance gets a port on.
type SubnetRef struct {
	SubnetID  string `json:"subnet_id"`
	NetworkID string `json:"network_id"`
}

func refsOf(req providers.Request) (Refs, error) {
	r, err := providers.Decode[Refs](req.Resolved)
	if err != nil {
		return r, providers.Permanent(fmt.Errorf("the order's references are malformed: %v", err))
	}
	if r.Error != "" {
		return r, providers.Permanent(errors.New(r.Error))
	}
	if r.TenantBackendID == "" || r.Connection.AuthURL == "" {
		return r, providers.Permanent(errors.New("the order does not name an OpenStack tenant that exists (attribute tenant)"))
	}
	return r, nil
}

// Validate implements providers.Provider: a tenant offering needs its
// connection; instances and volumes are checked when their references are
// resolved.
func (p *Provider) Validate(_ context.Context, r providers.Request) error {
	if r.OfferingType == OfferingTenant {
		_, err := ConnectionFrom(r.SecretOptions)
		return err
	}
	return nil
}

// Create implements providers.Provider.
func (p *Provider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	var res providers.Result
	var err error
	switch r.OfferingType {
	case OfferingTenant:
		res, err = p.createTenant(ctx, r)
	case OfferingInstance:
		res, err = p.createInstance(ctx, r)
	case OfferingVolume:
		res, err = p.createVolume(ctx, r)
	default:
		err = providers.Permanent(fmt.Errorf("offering type %s is not OpenStack", r.OfferingType))
	}
	return res, classify(err)
}

// Update implements providers.Provider: a tenant's quotas (limits), a
// volume's size (extend).
func (p *Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	var res providers.Result
	var err error
	switch r.OfferingType {
	case OfferingTenant:
		res, err = p.updateTenant(ctx, r)
	case OfferingVolume:
		res, err = p.extendVolume(ctx, r)
	default:
		err = providers.Permanent(fmt.Errorf("%s resources cannot be updated by an order", r.OfferingType))
	}
	return res, classify(err)
}

// Terminate implements providers.Provider; what is already gone is not an error.
func (p *Provider) Terminate(ctx context.Context, r providers.Request) (providers.Result, error) {
	var err error
	switch r.OfferingType {
	case OfferingTenant:
		err = p.terminateTenant(ctx, r)
	case OfferingInstance:
		// The volumes kept (delete_volumes false) are read back for the keeper.
		var kept []CloudVolume
		if kept, err = p.terminateInstance(ctx, r); err == nil && len(kept) > 0 {
			return providers.Result{Done: true, Pulled: providers.MustEncode(Snapshot{Volumes: kept})}, nil
		}
	case OfferingVolume:
		err = p.terminateVolume(ctx, r)
	default:
		err = providers.Permanent(fmt.Errorf("offering type %s is not OpenStack", r.OfferingType))
	}
	return providers.Result{Done: true}, classify(err)
}

// classify makes backend refusals that a retry cannot change permanent:
// 4xx answers other than 401, 404, 408, 409 and 429 (a bad flavor, a quota
// exceeded, a forbidden call). Everything else is left to the activity's
// retry policy.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var perm *providers.PermanentError
	if errors.As(err, &perm) {
		return err
	}
	if code := statusOf(err); code >= 400 && code < 500 {
		switch code {
		case 401, 404, 408, 409, 429:
		default:
			return providers.Permanent(err)
		}
	}
	return err
}

// statusOf is the HTTP status of a gophercloud error (0 for none).
func statusOf(err error) int {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return e.Actual
	}
	var pe *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &pe) {
		return pe.Actual
	}
	return 0
}

func notFound(err error) bool { return gophercloud.ResponseCodeIs(err, 404) || errors.Is(err, errGone) }

var errGone = errors.New("gone")

// transient reports whether retrying the same call may succeed: a 5xx,
// 408/429, or a connection failure.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if code := statusOf(err); code != 0 {
		return code >= 500 || code == 408 || code == 429
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused")
}

// backoff is the pause before retry n (1-based): RetryBackoff doubling to 5s, with jitter.
func (p *Provider) backoff(n int) time.Duration {
	d := p.opts.RetryBackoff
	for i := 1; i < n && d < 5*time.Second; i++ {
		d *= 2
	}
	d = min(d, 5*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// step runs one lookup-then-change step until it succeeds, fails for a
// reason a retry cannot change, or StepAttempts run out.
func (p *Provider) step(ctx context.Context, what string, fn func() error) error {
	var err error
	for n := 1; n <= p.opts.StepAttempts; n++ {
		if err = fn(); err == nil {
			return nil
		}
		if !transient(err) {
			break
		}
		if serr := sleep(ctx, p.backoff(n)); serr != nil {
			return fmt.Errorf("%s: %w", what, serr)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// waitFor polls check until it reports done, returns an error a retry
// cannot change, or timeout passes. Transient errors of check are polled
// through. The activity around it heartbeats meanwhile.
func (p *Provider) waitFor(ctx context.Context, what string, timeout time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	interval := p.opts.PollInterval
	var last error
	for {
		done, err := check()
		switch {
		case err == nil && done:
			return nil
		case err != nil && !transient(err):
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		last = err
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out waiting for %s (last error: %v)", what, last)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		}
		if err := sleep(ctx, interval); err != nil {
			return err
		}
		interval = min(interval*2, p.opts.MaxPollInterval)
	}
}

// convert copies v into out through JSON (an offering's options or an
// order's attributes into a typed struct).
func convert(v any, out any) error {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
