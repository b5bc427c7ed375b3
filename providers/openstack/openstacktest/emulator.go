package openstacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Options configure an emulator. Zero values take the defaults shown.
type Options struct {
	AdminUser     string // "admin"
	AdminPassword string // "admin"
	AdminProject  string // "admin"
	AdminDomain   string // "Default" (id "default"): the domain of the admin user and project
	Region        string // "RegionOne"
	// PublicURL is the base URL the catalog points at. Empty: the scheme and
	// host the client used to reach the emulator.
	PublicURL string

	BuildDelay  time.Duration // server BUILD → ACTIVE: 2s
	VolumeDelay time.Duration // volume creating → available, attaching, detaching, extending: 1s
	ActionDelay time.Duration // server stop, start, reboot, resize: 1s
	DeleteDelay time.Duration // a deleted server or volume answers 404 after: 500ms
	TokenTTL    time.Duration // token lifetime: 1h

	// Seed seeds fault decisions (and MAC addresses); the same seed and the
	// same sequence of requests give the same faults. 0 means 1.
	Seed uint64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.AdminUser, "admin")
	def(&o.AdminPassword, "admin")
	def(&o.AdminProject, "admin")
	def(&o.AdminDomain, "Default")
	def(&o.Region, "RegionOne")
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&o.BuildDelay, 2*time.Second)
	dur(&o.VolumeDelay, time.Second)
	dur(&o.ActionDelay, time.Second)
	dur(&o.DeleteDelay, 500*time.Millisecond)
	dur(&o.TokenTTL, time.Hour)
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Emulator is an in-memory OpenStack cloud; it is an http.Handler.
type Emulator struct {
	opts Options
	mux  *http.ServeMux

	mu      sync.Mutex // guards st, rnd, reqs
	st      *store
	rnd     *rand.Rand // MAC addresses and other non-fault randomness
	reqs    []Request
	adminID struct{ user, project, domain, role string }

	faultMu   sync.Mutex // guards faults, faultRand
	faults    Faults
	faultRand *rand.Rand
}

// Request is one API request the emulator served (see Requests).
type Request struct {
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query,omitempty"`
	Status   int       `json:"status"`
	Injected bool      `json:"injected,omitempty"` // the status came from an injected fault
}

const maxRequests = 10000

// New returns an emulator seeded with the admin domain, project and user,
// roles, flavors, images, volume types and an external network "public".
func New(opts Options) *Emulator {
	e := &Emulator{opts: opts.withDefaults()}
	e.rnd = rand.New(rand.NewPCG(e.opts.Seed, 7))
	e.Reseed(e.opts.Seed)
	e.st = newStore()
	e.seed()
	e.st.base = e.st.inserted()
	e.mux = http.NewServeMux()
	e.routes()
	return e
}

// ServeHTTP serves the OpenStack APIs and /_emulator.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Openstack-Request-Id", "req-"+uuid.NewString())
	e.mux.ServeHTTP(w, r)
}

func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

func hexID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// handler is an API handler; it runs with the emulator locked and either
// writes the answer or returns an error to write.
type handler func(c *call) *apiError

type routeOpts struct {
	auth   bool // an X-Auth-Token is required
	scoped bool // and it must be project-scoped
	faults bool // faults apply
}

var (
	open    = routeOpts{faults: true}
	authed  = routeOpts{auth: true, faults: true}
	project = routeOpts{auth: true, scoped: true, faults: true}
	static  = routeOpts{} // version documents: no auth, no faults
)

func (e *Emulator) handle(pattern string, svc service, ro routeOpts, h handler) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w}
		var d decision
		if ro.faults {
			d = e.decide(svc, r.Method)
		}
		defer func() { e.record(r, svc, rec.status, d.fail) }()
		if d.delay > 0 {
			t := time.NewTimer(d.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				rec.status = 499
				return
			}
		}
		injected := errf(d.code, "The server is currently unavailable. Please try again at a later time. (injected by the OpenStack emulator)")
		if d.fail && !d.after {
			writeError(rec, svc, injected)
			return
		}
		var out http.ResponseWriter = rec
		if d.fail {
			out = &discardWriter{h: http.Header{}}
		}
		e.serve(out, r, svc, ro, h)
		if d.fail {
			writeError(rec, svc, injected)
		}
	})
}

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, svc service, ro routeOpts, h handler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.st.tick(now)
	c := &call{e: e, w: w, r: r, svc: svc, now: now}
	if ro.auth {
		tok, err := e.authenticate(r.Header.Get("X-Auth-Token"), now)
		if err != nil {
			c.fail(err)
			return
		}
		if ro.scoped && tok.projectID == "" {
			c.fail(errf(http.StatusForbidden, "a project-scoped token is required"))
			return
		}
		c.tok = tok
	}
	if err := h(c); err != nil {
		c.fail(err)
	}
}

func (e *Emulator) record(r *http.Request, svc service, status int, injected bool) {
	if status == 0 {
		status = http.StatusOK
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.reqs) >= maxRequests {
		e.reqs = append(e.reqs[:0], e.reqs[len(e.reqs)-maxRequests/2:]...)
	}
	e.reqs = append(e.reqs, Request{Time: e.now(), Service: string(svc), Method: r.Method, Path: r.URL.Path,
		Query: r.URL.RawQuery, Status: status, Injected: injected})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func (e *Emulator) routes() {
	e.identityRoutes()
	e.computeRoutes()
	e.volumeRoutes()
	e.networkRoutes()
	e.imageRoutes()
	e.versionRoutes()
	e.adminRoutes()
}

// seed fills a fresh store with the admin identity and the shared catalog.
func (e *Emulator) seed() {
	s, o, now := e.st, e.opts, e.now()
	mark := func(id string) string { s.seeded[id] = true; return id }

	domainID := "default"
	if o.AdminDomain != "Default" {
		domainID = hexID()
	}
	s.domains.put(mark(domainID), &Domain{ID: domainID, Name: o.AdminDomain, Description: "The default domain", Enabled: true})
	p := &Project{ID: mark(hexID()), Name: o.AdminProject, DomainID: domainID, Description: "Bootstrap project", Enabled: true, Tags: []string{}, Created: now}
	s.projects.put(p.ID, p)
	u := &User{ID: mark(hexID()), Name: o.AdminUser, DomainID: domainID, Password: o.AdminPassword, Enabled: true, DefaultProjectID: p.ID}
	s.users.put(u.ID, u)
	var adminRole string
	for _, name := range []string{"admin", "member", "reader", "_member_"} {
		r := &Role{ID: mark(hexID()), Name: name}
		s.roles.put(r.ID, r)
		if name == "admin" {
			adminRole = r.ID
		}
	}
	s.assignments = append(s.assignments,
		RoleAssignment{UserID: u.ID, RoleID: adminRole, ProjectID: p.ID},
		RoleAssignment{UserID: u.ID, RoleID: adminRole, DomainID: domainID})
	e.adminID.user, e.adminID.project, e.adminID.domain, e.adminID.role = u.ID, p.ID, domainID, adminRole

	for _, f := range []Flavor{
		{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1},
		{ID: "2", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20},
		{ID: "3", Name: "m1.medium", VCPUs: 2, RAM: 4096, Disk: 40},
		{ID: "4", Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80},
		{ID: "5", Name: "m1.xlarge", VCPUs: 8, RAM: 16384, Disk: 160},
	} {
		f.IsPublic = true
		s.flavors.put(mark(f.ID), &f)
	}
	for _, im := range []Image{
		{Name: "cirros-0.6.2-x86_64-disk", Size: 21430272, Checksum: "c8fc807773e5354afe61636071771906"},
		{Name: "ubuntu-22.04-server-cloudimg-amd64", Size: 717225984, MinDisk: 10, MinRAM: 512, Checksum: "2f9ff2b0d9b3e9cd4c0a7c0c1b2e3f41"},
	} {
		im.ID = mark(uuid.NewString())
		im.Status, im.Visibility, im.Owner, im.DiskFormat, im.ContainerFormat = "active", "public", p.ID, "qcow2", "bare"
		im.Tags, im.Created = []string{}, now
		s.images.put(im.ID, &im)
	}
	for _, vt := range []VolumeType{
		{Name: "__DEFAULT__", Description: "Default Volume Type"},
		{Name: "ssd", Description: "Solid-state volumes"},
	} {
		vt.ID = mark(uuid.NewString())
		s.volumeTypes.put(vt.ID, &vt)
	}
	ext := &Network{ID: mark(uuid.NewString()), Name: "public", ProjectID: p.ID, AdminStateUp: true, External: true, MTU: 1500, Created: now, Updated: now}
	s.networks.put(ext.ID, ext)
	sub := &Subnet{ID: mark(uuid.NewString()), NetworkID: ext.ID, Name: "public-subnet", ProjectID: p.ID, IPVersion: 4,
		CIDR: "172.24.4.0/24", GatewayIP: "172.24.4.1", AllocationPools: []AllocationPool{{Start: "172.24.4.2", End: "172.24.4.254"}},
		DNSNameservers: []string{}, HostRoutes: []HostRoute{}, Created: now, Updated: now}
	s.subnets.put(sub.ID, sub)
}

// HTTPServer is a running emulator.
type HTTPServer struct {
	*Emulator
	// URL is the base URL, e.g. http://127.0.0.1:5000.
	URL   string
	close func() error
}

// IdentityURL is the Keystone v3 endpoint to give gophercloud (AuthOptions.IdentityEndpoint).
func (s *HTTPServer) IdentityURL() string { return s.URL + "/identity/v3" }

// Close stops the server.
func (s *HTTPServer) Close() error { return s.close() }

// Start serves a new emulator on addr (host:port; port 0 picks a free one) until Close.
func Start(addr string, opts Options) (*HTTPServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := New(opts)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &HTTPServer{Emulator: e, URL: "http://" + ln.Addr().String(), close: srv.Close}, nil
}

// NewTestServer serves a new emulator with net/http/httptest on a loopback port.
func NewTestServer(opts Options) *HTTPServer {
	e := New(opts)
	ts := httptest.NewServer(e)
	return &HTTPServer{Emulator: e, URL: ts.URL, close: func() error { ts.Close(); return nil }}
}

// ListenAndServe serves a new emulator on addr until ctx is done, then shuts
// it down gracefully. ready, if not nil, is called with the running server.
func ListenAndServe(ctx context.Context, addr string, opts Options, ready func(*HTTPServer)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e := New(opts)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(&HTTPServer{Emulator: e, URL: "http://" + ln.Addr().String(), close: srv.Close})
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return err
		}
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// AdminCredentials are the seeded admin's user name, password, project name and domain name.
func (e *Emulator) AdminCredentials() (user, password, project, domain string) {
	return e.opts.AdminUser, e.opts.AdminPassword, e.opts.AdminProject, e.opts.AdminDomain
}

// locked runs fn with the state locked and due transitions applied.
func (e *Emulator) locked(fn func(s *store)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.tick(e.now())
	fn(e.st)
}

// State returns a copy of everything the emulator holds.
func (e *Emulator) State() State {
	var st State
	e.locked(func(s *store) { st = s.snapshot() })
	st.Faults = e.Faults()
	return st
}

// Counts returns the numbers of resources created through the API.
func (e *Emulator) Counts() Counts {
	var c Counts
	e.locked(func(s *store) { c = s.counts() })
	return c
}

// Created returns the numbers of resources ever created through the API:
// unlike Counts, deleting a resource does not lower them, so a duplicate
// that was created and cleaned up again still shows (a test compares them
// with the creations it expects).
func (e *Emulator) Created() Counts {
	var c Counts
	e.locked(func(s *store) { c = s.created() })
	return c
}

// Servers returns copies of all servers, in creation order.
func (e *Emulator) Servers() []Server {
	var out []Server
	e.locked(func(s *store) { out = copies(s.servers.all()) })
	return out
}

// Volumes returns copies of all volumes, in creation order.
func (e *Emulator) Volumes() []Volume {
	var out []Volume
	e.locked(func(s *store) { out = copies(s.volumes.all()) })
	return out
}

// ServerGroups returns copies of all server groups, in creation order.
func (e *Emulator) ServerGroups() []ServerGroup {
	var out []ServerGroup
	e.locked(func(s *store) { out = copies(s.groups.all()) })
	return out
}

// Snapshots returns copies of all volume snapshots, in creation order.
func (e *Emulator) Snapshots() []Snapshot {
	var out []Snapshot
	e.locked(func(s *store) { out = copies(s.snapshots.all()) })
	return out
}

// Backups returns copies of all volume backups, in creation order.
func (e *Emulator) Backups() []Backup {
	var out []Backup
	e.locked(func(s *store) { out = copies(s.backups.all()) })
	return out
}

// Networks returns copies of all networks (the seeded external one too).
func (e *Emulator) Networks() []Network {
	var out []Network
	e.locked(func(s *store) { out = copies(s.networks.all()) })
	return out
}

// Ports returns copies of all ports.
func (e *Emulator) Ports() []Port {
	var out []Port
	e.locked(func(s *store) { out = copies(s.ports.all()) })
	return out
}

// Routers returns copies of all routers.
func (e *Emulator) Routers() []Router {
	var out []Router
	e.locked(func(s *store) { out = copies(s.routers.all()) })
	return out
}

// FloatingIPs returns copies of all floating IPs.
func (e *Emulator) FloatingIPs() []FloatingIP {
	var out []FloatingIP
	e.locked(func(s *store) { out = copies(s.floatingIP.all()) })
	return out
}

// Projects returns copies of all Keystone projects.
func (e *Emulator) Projects() []Project {
	var out []Project
	e.locked(func(s *store) { out = copies(s.projects.all()) })
	return out
}

// Server returns a copy of one server.
func (e *Emulator) Server(id string) (Server, bool) {
	var out Server
	var ok bool
	e.locked(func(s *store) {
		if v := s.servers.get(id); v != nil {
			out, ok = deepCopy(*v), true
		}
	})
	return out, ok
}

// Volume returns a copy of one volume.
func (e *Emulator) Volume(id string) (Volume, bool) {
	var out Volume
	var ok bool
	e.locked(func(s *store) {
		if v := s.volumes.get(id); v != nil {
			out, ok = deepCopy(*v), true
		}
	})
	return out, ok
}

// ExternalNetworkID is the id of the seeded external network "public".
func (e *Emulator) ExternalNetworkID() string {
	var id string
	e.locked(func(s *store) {
		for _, n := range s.networks.all() {
			if n.External && s.seeded[n.ID] {
				id = n.ID
				return
			}
		}
	})
	return id
}

// Requests returns the API requests served so far (the newest 10000 at most), oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.reqs...)
}

// Reset drops everything created through the API, the request log and the
// faults, and restarts the random sources: the emulator is as New left it
// (with new ids for the seeded resources).
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.st = newStore()
	e.rnd = rand.New(rand.NewPCG(e.opts.Seed, 7))
	e.seed()
	e.st.base = e.st.inserted()
	e.reqs = nil
	e.mu.Unlock()
	e.faultMu.Lock()
	e.faults = Faults{}
	e.faultMu.Unlock()
	e.Reseed(e.opts.Seed)
}

// ForceServerError puts a server in ERROR with the given fault message, as a
// hypervisor failure would.
func (e *Emulator) ForceServerError(id, message string) error {
	var err error
	e.locked(func(s *store) {
		sv := s.servers.get(id)
		if sv == nil {
			err = fmt.Errorf("no server %s", id)
			return
		}
		s.bump(id)
		e.serverError(sv, message)
	})
	return err
}

// ForceVolumeError puts a volume in error.
func (e *Emulator) ForceVolumeError(id string) error {
	var err error
	e.locked(func(s *store) {
		v := s.volumes.get(id)
		if v == nil {
			err = fmt.Errorf("no volume %s", id)
			return
		}
		s.bump(id)
		v.Status, v.Updated = "error", e.now()
	})
	return err
}

// AddImage adds a public image and returns its id. Empty fields get defaults.
func (e *Emulator) AddImage(im Image) string {
	e.locked(func(s *store) {
		if im.ID == "" {
			im.ID = uuid.NewString()
		}
		if im.Status == "" {
			im.Status = "active"
		}
		if im.Visibility == "" {
			im.Visibility = "public"
		}
		if im.DiskFormat == "" {
			im.DiskFormat = "qcow2"
		}
		if im.ContainerFormat == "" {
			im.ContainerFormat = "bare"
		}
		if im.Owner == "" {
			im.Owner = e.adminID.project
		}
		if im.Tags == nil {
			im.Tags = []string{}
		}
		im.Created = e.now()
		s.seeded[im.ID] = true
		s.images.put(im.ID, &im)
	})
	return im.ID
}

// adminRoutes serve the emulator's own inspection and fault API.
func (e *Emulator) adminRoutes() {
	e.mux.HandleFunc("GET /_emulator/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.State())
	})
	e.mux.HandleFunc("GET /_emulator/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"requests": e.Requests()})
	})
	e.mux.HandleFunc("POST /_emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	e.mux.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Faults())
	})
	e.mux.HandleFunc("POST /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := e.SetFaults(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, e.Faults())
	})
	e.mux.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		_ = e.SetFaults(Faults{})
		w.WriteHeader(http.StatusNoContent)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
