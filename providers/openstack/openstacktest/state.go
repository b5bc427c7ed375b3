package openstacktest

import (
	"encoding/json"
	"sort"
	"time"
)

// The resource types below are what the inspection API returns (copies: changing
// them changes nothing in the emulator). Their JSON is the /_emulator/state
// format, not OpenStack's: the API handlers render OpenStack's envelopes.

// Domain is a Keystone domain.
type Domain struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
}

// Project is a Keystone project (a tenant).
type Project struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DomainID    string    `json:"domain_id"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	Tags        []string  `json:"tags"`
	Created     time.Time `json:"created"`
}

// User is a Keystone user.
type User struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	DomainID         string `json:"domain_id"`
	Password         string `json:"password"`
	Email            string `json:"email,omitempty"`
	Description      string `json:"description,omitempty"`
	DefaultProjectID string `json:"default_project_id,omitempty"`
	Enabled          bool   `json:"enabled"`
}

// Role is a Keystone role.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// RoleAssignment grants a role to a user on a project or a domain (one of ProjectID, DomainID).
type RoleAssignment struct {
	UserID    string `json:"user_id"`
	RoleID    string `json:"role_id"`
	ProjectID string `json:"project_id,omitempty"`
	DomainID  string `json:"domain_id,omitempty"`
}

// Flavor is a Nova flavor.
type Flavor struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	VCPUs     int    `json:"vcpus"`
	RAM       int    `json:"ram"`  // MiB
	Disk      int    `json:"disk"` // GiB
	Ephemeral int    `json:"ephemeral"`
	Swap      int    `json:"swap"`
	IsPublic  bool   `json:"is_public"`
}

// Image is a Glance image.
type Image struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	Visibility      string    `json:"visibility"`
	Owner           string    `json:"owner"`
	DiskFormat      string    `json:"disk_format"`
	ContainerFormat string    `json:"container_format"`
	MinDisk         int       `json:"min_disk"`
	MinRAM          int       `json:"min_ram"`
	Size            int64     `json:"size"`
	Checksum        string    `json:"checksum"`
	Tags            []string  `json:"tags"`
	Created         time.Time `json:"created"`
	hash            string    // os_hash_value (sha512 of the data), once uploaded
}

// Keypair is a Nova keypair (owned by a user).
type Keypair struct {
	Name        string    `json:"name"`
	UserID      string    `json:"user_id"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	Created     time.Time `json:"created"`
}

// Fault is the fault of a server in ERROR.
type Fault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details"`
	Created time.Time `json:"created"`
}

// ServerVolume is a volume attached to a server.
type ServerVolume struct {
	VolumeID            string `json:"volume_id"`
	Device              string `json:"device"`
	DeleteOnTermination bool   `json:"delete_on_termination"`
}

// Server is a Nova server.
type Server struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	ProjectID        string            `json:"project_id"`
	UserID           string            `json:"user_id"`
	Status           string            `json:"status"` // BUILD ACTIVE SHUTOFF REBOOT HARD_REBOOT RESIZE VERIFY_RESIZE ERROR
	TaskState        string            `json:"task_state,omitempty"`
	VMState          string            `json:"vm_state"`
	PowerState       int               `json:"power_state"`
	FlavorID         string            `json:"flavor_id"`
	OldFlavorID      string            `json:"old_flavor_id,omitempty"`
	ImageID          string            `json:"image_id,omitempty"`
	KeyName          string            `json:"key_name,omitempty"`
	AvailabilityZone string            `json:"availability_zone"`
	Metadata         map[string]string `json:"metadata"`
	SecurityGroups   []string          `json:"security_groups"` // names asked for at create
	Ports            []string          `json:"ports"`           // attached port ids
	OwnedPorts       []string          `json:"owned_ports"`     // ports Nova created (deleted with the server)
	Volumes          []ServerVolume    `json:"volumes"`
	Fault            *Fault            `json:"fault,omitempty"`
	Deleting         bool              `json:"deleting,omitempty"`
	Created          time.Time         `json:"created"`
	Updated          time.Time         `json:"updated"`
	LaunchedAt       time.Time         `json:"launched_at"`
}

// VolumeAttachment is one attachment of a volume.
type VolumeAttachment struct {
	ID         string    `json:"id"`
	ServerID   string    `json:"server_id"`
	Device     string    `json:"device"`
	AttachedAt time.Time `json:"attached_at"`
}

// VolumeType is a Cinder volume type.
type VolumeType struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Volume is a Cinder volume.
type Volume struct {
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	Description      string             `json:"description"`
	ProjectID        string             `json:"project_id"`
	UserID           string             `json:"user_id"`
	Status           string             `json:"status"` // creating available attaching in-use detaching extending retyping backing-up restoring-backup deleting error
	Size             int                `json:"size"`   // GiB
	VolumeType       string             `json:"volume_type"`
	AvailabilityZone string             `json:"availability_zone"`
	ImageID          string             `json:"image_id,omitempty"`
	Bootable         bool               `json:"bootable"`
	Metadata         map[string]string  `json:"metadata"`
	Attachments      []VolumeAttachment `json:"attachments"`
	SnapshotID       string             `json:"snapshot_id,omitempty"`  // created from this snapshot
	SourceVolID      string             `json:"source_volid,omitempty"` // cloned from this volume
	Created          time.Time          `json:"created"`
	Updated          time.Time          `json:"updated"`
}

// ServerGroup is a Nova server group.
type ServerGroup struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	Policy    string `json:"policy"` // affinity anti-affinity soft-affinity soft-anti-affinity
	// MaxServerPerHost is the anti-affinity rule max_server_per_host (microversion 2.64); 0: none.
	MaxServerPerHost int       `json:"max_server_per_host,omitempty"`
	Members          []string  `json:"members"` // server ids, in the order they joined
	Created          time.Time `json:"created"`
}

// Snapshot is a Cinder volume snapshot.
type Snapshot struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	ProjectID   string            `json:"project_id"`
	UserID      string            `json:"user_id"`
	VolumeID    string            `json:"volume_id"`
	Status      string            `json:"status"`      // creating available backing-up deleting error
	Size        int               `json:"size"`        // GiB: the volume's size when it was taken
	VolumeType  string            `json:"volume_type"` // the volume's type (its quotas count per type)
	Metadata    map[string]string `json:"metadata"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated"`
}

// Backup is a Cinder volume backup.
type Backup struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Description     string            `json:"description"`
	ProjectID       string            `json:"project_id"`
	UserID          string            `json:"user_id"`
	VolumeID        string            `json:"volume_id"`
	SnapshotID      string            `json:"snapshot_id,omitempty"`
	Status          string            `json:"status"` // creating available restoring deleting error
	Size            int               `json:"size"`   // GiB: the volume's size
	Container       string            `json:"container"`
	ObjectCount     int               `json:"object_count"`
	Incremental     bool              `json:"is_incremental"`
	ParentID        string            `json:"parent_id,omitempty"` // an incremental backup's base
	FailReason      string            `json:"fail_reason,omitempty"`
	Metadata        map[string]string `json:"metadata"`
	Bootable        bool              `json:"bootable"`           // of the backed-up volume, restored with the data
	ImageID         string            `json:"image_id,omitempty"` // likewise (the volume's image metadata)
	RestoreVolumeID string            `json:"restore_volume_id,omitempty"`
	DataTimestamp   time.Time         `json:"data_timestamp"`
	Created         time.Time         `json:"created"`
	Updated         time.Time         `json:"updated"`
}

// Network is a Neutron network.
type Network struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	ProjectID    string    `json:"project_id"`
	AdminStateUp bool      `json:"admin_state_up"`
	Shared       bool      `json:"shared"`
	External     bool      `json:"external"`
	MTU          int       `json:"mtu"`
	Revision     int       `json:"revision_number"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// AllocationPool is a range of addresses a subnet hands out.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// HostRoute is a static route of a subnet or router.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Subnet is a Neutron subnet.
type Subnet struct {
	ID              string           `json:"id"`
	NetworkID       string           `json:"network_id"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	ProjectID       string           `json:"project_id"`
	IPVersion       int              `json:"ip_version"`
	CIDR            string           `json:"cidr"`
	GatewayIP       string           `json:"gateway_ip"` // empty: no gateway
	AllocationPools []AllocationPool `json:"allocation_pools"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	HostRoutes      []HostRoute      `json:"host_routes"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	Revision        int              `json:"revision_number"`
	Created         time.Time        `json:"created"`
	Updated         time.Time        `json:"updated"`
}

// FixedIP is an address of a port on a subnet.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// AddressPair is an allowed address pair of a port.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

// Port is a Neutron port.
type Port struct {
	ID                  string        `json:"id"`
	NetworkID           string        `json:"network_id"`
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	ProjectID           string        `json:"project_id"`
	MACAddress          string        `json:"mac_address"`
	FixedIPs            []FixedIP     `json:"fixed_ips"`
	DeviceID            string        `json:"device_id"`
	DeviceOwner         string        `json:"device_owner"`
	SecurityGroups      []string      `json:"security_groups"`
	AllowedAddressPairs []AddressPair `json:"allowed_address_pairs"`
	AdminStateUp        bool          `json:"admin_state_up"`
	Revision            int           `json:"revision_number"`
	Created             time.Time     `json:"created"`
	Updated             time.Time     `json:"updated"`
}

// GatewayInfo is a router's external gateway.
type GatewayInfo struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       bool      `json:"enable_snat"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips"`
	PortID           string    `json:"port_id"`
}

// Router is a Neutron router.
type Router struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	ProjectID    string       `json:"project_id"`
	AdminStateUp bool         `json:"admin_state_up"`
	Gateway      *GatewayInfo `json:"external_gateway_info,omitempty"`
	Routes       []HostRoute  `json:"routes"`
	Revision     int          `json:"revision_number"`
	Created      time.Time    `json:"created"`
	Updated      time.Time    `json:"updated"`
}

// SecurityGroup is a Neutron security group.
type SecurityGroup struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	ProjectID   string    `json:"project_id"`
	Stateful    bool      `json:"stateful"`
	Revision    int       `json:"revision_number"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// SecurityGroupRule is a rule of a security group. Empty strings and zero
// ports mean "any" (null in the API).
type SecurityGroupRule struct {
	ID              string    `json:"id"`
	SecurityGroupID string    `json:"security_group_id"`
	ProjectID       string    `json:"project_id"`
	Direction       string    `json:"direction"`
	EtherType       string    `json:"ethertype"`
	Protocol        string    `json:"protocol,omitempty"`
	PortRangeMin    int       `json:"port_range_min,omitempty"`
	PortRangeMax    int       `json:"port_range_max,omitempty"`
	RemoteIPPrefix  string    `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID   string    `json:"remote_group_id,omitempty"`
	Description     string    `json:"description"`
	Created         time.Time `json:"created"`
}

// FloatingIP is a Neutron floating IP.
type FloatingIP struct {
	ID                string    `json:"id"`
	ProjectID         string    `json:"project_id"`
	Description       string    `json:"description"`
	FloatingNetworkID string    `json:"floating_network_id"`
	FloatingIP        string    `json:"floating_ip_address"`
	PortID            string    `json:"port_id,omitempty"`
	FixedIP           string    `json:"fixed_ip_address,omitempty"`
	RouterID          string    `json:"router_id,omitempty"`
	Revision          int       `json:"revision_number"`
	Created           time.Time `json:"created"`
	Updated           time.Time `json:"updated"`
}

// Quotas are the limits of one project, by service and OpenStack's resource
// name (Nova: instances, cores, ram, ...; Cinder: volumes, gigabytes,
// gigabytes_<type>, ...; Neutron: network, subnet, port, router, floatingip,
// security_group, security_group_rule, ...). -1 is unlimited.
type Quotas struct {
	Compute map[string]int `json:"compute"`
	Volume  map[string]int `json:"volume"`
	Network map[string]int `json:"network"`
}

// State is a copy of everything the emulator holds (GET /_emulator/state).
type State struct {
	Domains            []Domain            `json:"domains"`
	Projects           []Project           `json:"projects"`
	Users              []User              `json:"users"`
	Roles              []Role              `json:"roles"`
	RoleAssignments    []RoleAssignment    `json:"role_assignments"`
	Flavors            []Flavor            `json:"flavors"`
	Images             []Image             `json:"images"`
	Keypairs           []Keypair           `json:"keypairs"`
	Servers            []Server            `json:"servers"`
	ServerGroups       []ServerGroup       `json:"server_groups"`
	VolumeTypes        []VolumeType        `json:"volume_types"`
	Volumes            []Volume            `json:"volumes"`
	Snapshots          []Snapshot          `json:"snapshots"`
	Backups            []Backup            `json:"backups"`
	Networks           []Network           `json:"networks"`
	Subnets            []Subnet            `json:"subnets"`
	Ports              []Port              `json:"ports"`
	Routers            []Router            `json:"routers"`
	SecurityGroups     []SecurityGroup     `json:"security_groups"`
	SecurityGroupRules []SecurityGroupRule `json:"security_group_rules"`
	FloatingIPs        []FloatingIP        `json:"floating_ips"`
	RBACPolicies       []RBACPolicy        `json:"rbac_policies"`
	Quotas             map[string]Quotas   `json:"quotas"` // by project id, projects with quotas set
	Faults             Faults              `json:"faults"`
	Counts             Counts              `json:"counts"`
	Created            Counts              `json:"created"` // ever created through the API (see Emulator.Created)
}

// Counts are the numbers of resources created through the API (the seeded
// domain, admin project and user, roles, flavors, images, volume types and
// external network are not counted). After a test deletes everything it
// created, Total is 0.
type Counts struct {
	Projects           int `json:"projects"`
	Users              int `json:"users"`
	RoleAssignments    int `json:"role_assignments"`
	Keypairs           int `json:"keypairs"`
	Servers            int `json:"servers"`
	ServerGroups       int `json:"server_groups"`
	Volumes            int `json:"volumes"`
	Snapshots          int `json:"snapshots"`
	Backups            int `json:"backups"`
	Networks           int `json:"networks"`
	Subnets            int `json:"subnets"`
	Ports              int `json:"ports"`
	Routers            int `json:"routers"`
	SecurityGroups     int `json:"security_groups"`
	SecurityGroupRules int `json:"security_group_rules"`
	FloatingIPs        int `json:"floating_ips"`
	RBACPolicies       int `json:"rbac_policies"`
}

// Total is the sum of all counts.
func (c Counts) Total() int {
	return c.Projects + c.Users + c.RoleAssignments + c.Keypairs + c.Servers + c.ServerGroups + c.Volumes + c.Snapshots +
		c.Backups + c.Networks + c.Subnets + c.Ports + c.Routers + c.SecurityGroups + c.SecurityGroupRules + c.FloatingIPs +
		c.RBACPolicies
}

// table is an insertion-ordered map of resources.
type table[T any] struct {
	m    map[string]*T
	seq  map[string]uint64
	next uint64
}

func newTable[T any]() *table[T] { return &table[T]{m: map[string]*T{}, seq: map[string]uint64{}} }

func (t *table[T]) get(id string) *T { return t.m[id] }

func (t *table[T]) put(id string, v *T) {
	if _, ok := t.m[id]; !ok {
		t.next++
		t.seq[id] = t.next
	}
	t.m[id] = v
}

func (t *table[T]) del(id string) {
	delete(t.m, id)
	delete(t.seq, id)
}

func (t *table[T]) len() int { return len(t.m) }

// all returns the resources in insertion order.
func (t *table[T]) all() []*T {
	ids := make([]string, 0, len(t.m))
	for id := range t.m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return t.seq[ids[i]] < t.seq[ids[j]] })
	out := make([]*T, len(ids))
	for i, id := range ids {
		out[i] = t.m[id]
	}
	return out
}

// newest returns the resources newest first (Nova's, Cinder's and Glance's default order).
func (t *table[T]) newest() []*T {
	out := t.all()
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// copies deep-copies resources for the inspection API.
func copies[T any](in []*T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		out = append(out, deepCopy(*v))
	}
	return out
}

func deepCopy[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the state types always marshal
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

type token struct {
	id        string
	userID    string
	projectID string // project scope, or
	domainID  string // domain scope; both empty: unscoped
	methods   []string
	issued    time.Time
	expires   time.Time
	base      string // the base URL the catalog points at
}

// event is a delayed state change (BUILD → ACTIVE, deleting → gone, ...).
type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

// store is all mutable state; every access holds Emulator.mu.
type store struct {
	domains     *table[Domain]
	projects    *table[Project]
	users       *table[User]
	roles       *table[Role]
	assignments []RoleAssignment
	tokens      map[string]*token

	flavors     *table[Flavor]
	images      *table[Image]
	keypairs    *table[Keypair] // keyed by userID + "/" + name
	servers     *table[Server]
	groups      *table[ServerGroup]
	volumeTypes *table[VolumeType]
	volumes     *table[Volume]
	snapshots   *table[Snapshot]
	backups     *table[Backup]

	networks   *table[Network]
	subnets    *table[Subnet]
	ports      *table[Port]
	routers    *table[Router]
	secGroups  *table[SecurityGroup]
	secRules   *table[SecurityGroupRule]
	floatingIP *table[FloatingIP]
	rbac       *table[RBACPolicy] // neutron_rbac.go

	quotas map[string]*Quotas // per project, set by an update

	seeded map[string]bool // ids of seeded resources (not counted)
	base   Counts          // inserted() right after seeding: what Created leaves out
	grants int             // role assignments granted through the API, revoked ones included
	ops    map[string]uint64
	events []event
	evSeq  uint64
}

func newStore() *store {
	return &store{
		domains: newTable[Domain](), projects: newTable[Project](), users: newTable[User](), roles: newTable[Role](),
		tokens:  map[string]*token{},
		flavors: newTable[Flavor](), images: newTable[Image](), keypairs: newTable[Keypair](), servers: newTable[Server](),
		groups: newTable[ServerGroup](), volumeTypes: newTable[VolumeType](), volumes: newTable[Volume](),
		snapshots: newTable[Snapshot](), backups: newTable[Backup](),
		networks: newTable[Network](), subnets: newTable[Subnet](), ports: newTable[Port](), routers: newTable[Router](),
		secGroups: newTable[SecurityGroup](), secRules: newTable[SecurityGroupRule](), floatingIP: newTable[FloatingIP](),
		rbac:   newTable[RBACPolicy](),
		quotas: map[string]*Quotas{}, seeded: map[string]bool{}, ops: map[string]uint64{},
	}
}

// bump starts a new operation on a resource and returns its number; a delayed
// event of an older operation sees the number changed and does nothing.
func (s *store) bump(id string) uint64 {
	s.ops[id]++
	return s.ops[id]
}

func (s *store) current(id string, op uint64) bool { return s.ops[id] == op }

// schedule runs fn at the given time (at the first look at the state from then on).
func (s *store) schedule(at time.Time, fn func()) {
	s.evSeq++
	ev := event{at: at, seq: s.evSeq, fn: fn}
	i := sort.Search(len(s.events), func(i int) bool {
		e := s.events[i]
		return e.at.After(at) // same time: after the ones already there
	})
	s.events = append(s.events, event{})
	copy(s.events[i+1:], s.events[i:])
	s.events[i] = ev
}

// tick applies every event due at now, in time order.
func (s *store) tick(now time.Time) {
	for len(s.events) > 0 && !s.events[0].at.After(now) {
		ev := s.events[0]
		s.events = s.events[1:]
		ev.fn()
	}
}

func (s *store) counts() Counts {
	n := func(ids []string) int {
		c := 0
		for _, id := range ids {
			if !s.seeded[id] {
				c++
			}
		}
		return c
	}
	return Counts{
		Projects:           n(keys(s.projects)),
		Users:              n(keys(s.users)),
		RoleAssignments:    len(s.assignments) - s.seededAssignments(),
		Keypairs:           s.keypairs.len(),
		Servers:            s.servers.len(),
		ServerGroups:       s.groups.len(),
		Volumes:            s.volumes.len(),
		Snapshots:          s.snapshots.len(),
		Backups:            s.backups.len(),
		Networks:           n(keys(s.networks)),
		Subnets:            n(keys(s.subnets)),
		Ports:              s.ports.len(),
		Routers:            s.routers.len(),
		SecurityGroups:     s.secGroups.len(),
		SecurityGroupRules: s.secRules.len(),
		FloatingIPs:        s.floatingIP.len(),
		RBACPolicies:       s.rbac.len(),
	}
}

// inserted counts every resource ever put in each table and every role
// assignment granted, deleted ones included (the seeded ones too: Created
// subtracts base).
func (s *store) inserted() Counts {
	return Counts{
		Projects: int(s.projects.next), Users: int(s.users.next), RoleAssignments: s.grants, Keypairs: int(s.keypairs.next),
		Servers: int(s.servers.next), ServerGroups: int(s.groups.next), Volumes: int(s.volumes.next),
		Snapshots: int(s.snapshots.next), Backups: int(s.backups.next), Networks: int(s.networks.next), Subnets: int(s.subnets.next),
		Ports: int(s.ports.next), Routers: int(s.routers.next), SecurityGroups: int(s.secGroups.next),
		SecurityGroupRules: int(s.secRules.next), FloatingIPs: int(s.floatingIP.next), RBACPolicies: int(s.rbac.next),
	}
}

// created is inserted() less what seeding put there.
func (s *store) created() Counts {
	i, b := s.inserted(), s.base
	return Counts{Projects: i.Projects - b.Projects, Users: i.Users - b.Users, RoleAssignments: i.RoleAssignments - b.RoleAssignments,
		Keypairs: i.Keypairs - b.Keypairs, Servers: i.Servers - b.Servers, ServerGroups: i.ServerGroups - b.ServerGroups,
		Volumes: i.Volumes - b.Volumes, Snapshots: i.Snapshots - b.Snapshots, Backups: i.Backups - b.Backups,
		Networks: i.Networks - b.Networks, Subnets: i.Subnets - b.Subnets, Ports: i.Ports - b.Ports, Routers: i.Routers - b.Routers,
		SecurityGroups: i.SecurityGroups - b.SecurityGroups, SecurityGroupRules: i.SecurityGroupRules - b.SecurityGroupRules,
		FloatingIPs: i.FloatingIPs - b.FloatingIPs, RBACPolicies: i.RBACPolicies - b.RBACPolicies}
}

func (s *store) seededAssignments() int {
	c := 0
	for _, a := range s.assignments {
		if s.seeded[a.UserID] && (s.seeded[a.ProjectID] || s.seeded[a.DomainID]) {
			c++
		}
	}
	return c
}

func keys[T any](t *table[T]) []string {
	out := make([]string, 0, len(t.m))
	for id := range t.m {
		out = append(out, id)
	}
	return out
}

func (s *store) snapshot() State {
	st := State{
		Domains: copies(s.domains.all()), Projects: copies(s.projects.all()), Users: copies(s.users.all()),
		Roles: copies(s.roles.all()), RoleAssignments: deepCopy(s.assignments),
		Flavors: copies(s.flavors.all()), Images: copies(s.images.all()), Keypairs: copies(s.keypairs.all()),
		Servers: copies(s.servers.all()), ServerGroups: copies(s.groups.all()), VolumeTypes: copies(s.volumeTypes.all()),
		Volumes: copies(s.volumes.all()), Snapshots: copies(s.snapshots.all()), Backups: copies(s.backups.all()),
		Networks: copies(s.networks.all()), Subnets: copies(s.subnets.all()), Ports: copies(s.ports.all()),
		Routers: copies(s.routers.all()), SecurityGroups: copies(s.secGroups.all()),
		SecurityGroupRules: copies(s.secRules.all()), FloatingIPs: copies(s.floatingIP.all()), RBACPolicies: copies(s.rbac.all()),
		Quotas: map[string]Quotas{}, Counts: s.counts(), Created: s.created(),
	}
	if st.RoleAssignments == nil {
		st.RoleAssignments = []RoleAssignment{}
	}
	for id, q := range s.quotas {
		st.Quotas[id] = deepCopy(*q)
	}
	return st
}
