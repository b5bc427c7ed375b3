package openstack

import (
	"fmt"
	"time"

	"github.com/waldur-go/waldur/models"
)

// What the two halves share (no database here): the offering types, and
// what the backend reads from a cloud (a Snapshot and its parts, Cloud*),
// which travels from the backend's activities and the provider's results
// to the core's store code.

// The OpenStack offering types (Waldur's marketplace_openstack): a tenant
// (a Keystone project with its network), and instances and volumes inside
// a tenant. Tenant limits are the components cores, ram (MiB) and storage
// (MiB), billed as limits per month with factor 1024 for ram and storage.
const (
	OfferingTenant   = "OpenStack.Tenant"
	OfferingInstance = "OpenStack.Instance"
	OfferingVolume   = "OpenStack.Volume"
)

// CloudFlavor is a Nova flavor as a tenant sees it. Sizes are in MiB
// (Nova gives the disk in GiB; Waldur keeps MiB).
type CloudFlavor struct {
	BackendID string `json:"backend_id"`
	Name      string `json:"name"`
	Cores     int    `json:"cores"`
	RAM       int64  `json:"ram"`
	Disk      int64  `json:"disk"`
}

// CloudImage is a Glance image; sizes in MiB.
type CloudImage struct {
	BackendID string     `json:"backend_id"`
	Name      string     `json:"name"`
	MinDisk   int64      `json:"min_disk"`
	MinRAM    int64      `json:"min_ram"`
	Created   *time.Time `json:"created,omitempty"`
}

// CloudVolumeType is a Cinder volume type.
type CloudVolumeType struct {
	BackendID   string `json:"backend_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// CloudNetwork is a Neutron network of a tenant (or the external one).
type CloudNetwork struct {
	BackendID   string `json:"backend_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	External    bool   `json:"external"`
	Shared      bool   `json:"shared"`
	MTU         int    `json:"mtu"`
}

// CloudAllocationPool is a range of addresses of a subnet.
type CloudAllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// CloudSubnet is a Neutron subnet.
type CloudSubnet struct {
	BackendID        string                `json:"backend_id"`
	NetworkBackendID string                `json:"network_backend_id"`
	Name             string                `json:"name"`
	Description      string                `json:"description"`
	CIDR             string                `json:"cidr"`
	GatewayIP        string                `json:"gateway_ip"`
	IPVersion        int                   `json:"ip_version"`
	EnableDHCP       bool                  `json:"enable_dhcp"`
	AllocationPools  []CloudAllocationPool `json:"allocation_pools"`
	DNSNameservers   []string              `json:"dns_nameservers"`
}

// CloudRule is a rule of a security group.
type CloudRule struct {
	BackendID            string `json:"backend_id"`
	Direction            string `json:"direction"`
	EtherType            string `json:"ethertype"`
	Protocol             string `json:"protocol"`
	FromPort             *int   `json:"from_port"`
	ToPort               *int   `json:"to_port"`
	CIDR                 string `json:"cidr"`
	RemoteGroupBackendID string `json:"remote_group_backend_id,omitempty"`
	Description          string `json:"description"`
}

// CloudSecurityGroup is a Neutron security group with its rules.
type CloudSecurityGroup struct {
	BackendID   string      `json:"backend_id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Rules       []CloudRule `json:"rules"`
}

// CloudFloatingIP is a Neutron floating IP.
type CloudFloatingIP struct {
	BackendID        string `json:"backend_id"`
	Address          string `json:"address"`
	RuntimeState     string `json:"runtime_state"`
	NetworkBackendID string `json:"network_backend_id"`
	PortBackendID    string `json:"port_backend_id,omitempty"`
	FixedIP          string `json:"fixed_ip,omitempty"`
	Description      string `json:"description"`
}

// CloudPort is a port of a server.
type CloudPort struct {
	BackendID        string   `json:"backend_id"`
	NetworkBackendID string   `json:"network_backend_id"`
	SubnetBackendID  string   `json:"subnet_backend_id"`
	IPAddress        string   `json:"ip_address"`
	MACAddress       string   `json:"mac_address"`
	SecurityGroups   []string `json:"security_groups"` // backend ids
}

// Metadata keys that tie backend objects to Waldur (Nova server and
// Cinder volume metadata): the order that created them and the marketplace
// resource they belong to. Lookups before every create use them, so a
// retried create finds what an earlier attempt made.
const (
	MetaOrderUUID    = "waldur_order_uuid"
	MetaResourceUUID = "waldur_resource_uuid"
	// MetaVolumeRole is "system" or "data" on the volumes an instance order makes.
	MetaVolumeRole = "waldur_volume_role"
)

// CloudServer is a Nova server as the provider reads it back.
type CloudServer struct {
	BackendID        string            `json:"backend_id"`
	Name             string            `json:"name"`
	Status           string            `json:"status"` // Nova's: BUILD, ACTIVE, SHUTOFF, ERROR, ...
	FlavorBackendID  string            `json:"flavor_backend_id"`
	FlavorName       string            `json:"flavor_name"`
	Cores            int               `json:"cores"`
	RAM              int64             `json:"ram"`
	Disk             int64             `json:"disk"`
	ImageBackendID   string            `json:"image_backend_id"`
	ImageName        string            `json:"image_name"`
	KeyName          string            `json:"key_name"`
	AvailabilityZone string            `json:"availability_zone"`
	InternalIPs      []string          `json:"internal_ips"`
	ExternalIPs      []string          `json:"external_ips"`
	Ports            []CloudPort       `json:"ports"`
	SecurityGroups   []string          `json:"security_groups"` // names
	VolumeBackendIDs []string          `json:"volume_backend_ids"`
	Metadata         map[string]string `json:"metadata"`
	Fault            string            `json:"fault,omitempty"`
	Created          time.Time         `json:"created"`
}

// CloudVolume is a Cinder volume as the provider reads it back; sizes in MiB.
type CloudVolume struct {
	BackendID        string            `json:"backend_id"`
	Name             string            `json:"name"`
	Description      string            `json:"description"`
	Size             int64             `json:"size"`
	Status           string            `json:"status"` // Cinder's: creating, available, in-use, error, ...
	Bootable         bool              `json:"bootable"`
	TypeName         string            `json:"type_name"`
	AvailabilityZone string            `json:"availability_zone"`
	ImageBackendID   string            `json:"image_backend_id,omitempty"`
	ServerBackendID  string            `json:"server_backend_id,omitempty"` // attached to
	Device           string            `json:"device,omitempty"`
	Metadata         map[string]string `json:"metadata"`
	Created          time.Time         `json:"created"`
}

// CloudQuota is one quota of a tenant: limit and usage in Waldur's
// units (cores, ram in MiB, storage in MiB, instances, volumes, ...).
// -1 is unlimited.
type CloudQuota struct {
	Name  string  `json:"name"`
	Limit float64 `json:"limit"`
	Usage float64 `json:"usage"`
}

// CloudTenant is what the tenant chain made: the ids Waldur shows
// on a tenant and the credentials of its user.
type CloudTenant struct {
	BackendID         string `json:"backend_id"`
	InternalNetworkID string `json:"internal_network_id"`
	SubnetID          string `json:"subnet_id"`
	RouterID          string `json:"router_id"`
	ExternalNetworkID string `json:"external_network_id"`
	UserUsername      string `json:"user_username"`
	UserPassword      string `json:"user_password"`
	AvailabilityZone  string `json:"availability_zone"`
}

// Snapshot is everything a pull reads of one tenant at one time.
type Snapshot struct {
	Taken time.Time `json:"taken"`
	// Full: the snapshot lists the whole tenant (catalog, networks, groups,
	// floating IPs), not only one instance or volume read back by an order.
	Full bool `json:"full"`
	// Gone: the tenant's project no longer exists in the cloud.
	Gone           bool                 `json:"gone"`
	Tenant         *CloudTenant         `json:"tenant,omitempty"`
	Flavors        []CloudFlavor        `json:"flavors"`
	Images         []CloudImage         `json:"images"`
	VolumeTypes    []CloudVolumeType    `json:"volume_types"`
	Networks       []CloudNetwork       `json:"networks"`
	Subnets        []CloudSubnet        `json:"subnets"`
	SecurityGroups []CloudSecurityGroup `json:"security_groups"`
	FloatingIPs    []CloudFloatingIP    `json:"floating_ips"`
	Servers        []CloudServer        `json:"servers"`
	Volumes        []CloudVolume        `json:"volumes"`
	Quotas         []CloudQuota         `json:"quotas"`

	// Ports and Routers are the tenant's (nil: not read). These lists
	// are never omitted when empty: through Temporal's JSON an omitted
	// empty list would come back nil, "not read", and the last port
	// deleted outside Waldur would never be seen gone.
	Ports   []CloudPortInfo `json:"ports"`
	Routers []CloudRouter   `json:"routers"`

	// InstanceZones and VolumeZones are Nova's and Cinder's availability
	// zones, ExternalNetworks the external networks the project sees (nil:
	// not read; zones.go).
	InstanceZones    []CloudZone            `json:"instance_zones"`
	VolumeZones      []CloudZone            `json:"volume_zones"`
	ExternalNetworks []CloudExternalNetwork `json:"external_networks"`

	// ServerGroups, VolumeSnapshots and RBACPolicies are the tenant's
	// server groups, Cinder snapshots and its networks' RBAC policies (nil:
	// not read; pull_storage.go). Not omitted when empty: an empty list read
	// is not "not read" once through Temporal's JSON.
	ServerGroups    []CloudServerGroup `json:"server_groups"`
	VolumeSnapshots []CloudSnapshot    `json:"volume_snapshots"`
	RBACPolicies    []CloudRBACPolicy  `json:"rbac_policies"`
}

// MiB converts GiB (Nova's and Cinder's sizes) to MiB (Waldur's).
func MiB(gib int) int64 { return int64(gib) * 1024 }

// GiB converts MiB to whole GiB, rounding up (a 1500 MiB volume is 2 GiB).
func GiB(mib int64) int {
	if mib <= 0 {
		return 0
	}
	return int((mib + 1023) / 1024)
}

// ServerState maps a Nova server status onto the plugin state a pull
// gives an instance that is not in a transition of ours.
func ServerState(status string) models.CoreState {
	if status == "ERROR" {
		return models.CoreErred
	}
	return models.CoreOK
}

// String renders a quota for logs.
func (q CloudQuota) String() string { return fmt.Sprintf("%s=%g/%g", q.Name, q.Usage, q.Limit) }
