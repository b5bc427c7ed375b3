package openstack

import (
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// Common is what every OpenStack resource shape starts with (Waldur's
// BaseResourceSerializer and the marketplace fields of its plugin views).
type Common struct {
	URL                         string           `json:"url"`
	UUID                        models.UUID      `json:"uuid"`
	Name                        string           `json:"name"`
	Description                 string           `json:"description"`
	ServiceName                 string           `json:"service_name"`
	ServiceSettings             string           `json:"service_settings,omitempty"`
	ServiceSettingsUUID         *models.UUID     `json:"service_settings_uuid,omitempty"`
	ServiceSettingsState        string           `json:"service_settings_state"`
	ServiceSettingsErrorMessage string           `json:"service_settings_error_message"`
	Project                     string           `json:"project"`
	ProjectName                 string           `json:"project_name"`
	ProjectUUID                 models.UUID      `json:"project_uuid"`
	Customer                    string           `json:"customer"`
	CustomerUUID                models.UUID      `json:"customer_uuid"`
	CustomerName                string           `json:"customer_name"`
	CustomerNativeName          string           `json:"customer_native_name"`
	CustomerAbbreviation        string           `json:"customer_abbreviation"`
	ErrorMessage                string           `json:"error_message"`
	ErrorTraceback              string           `json:"error_traceback"`
	ResourceType                string           `json:"resource_type"`
	State                       models.CoreState `json:"state"`
	Created                     time.Time        `json:"created"`
	Modified                    time.Time        `json:"modified"`
	BackendID                   string           `json:"backend_id"`
	AccessURL                   *string          `json:"access_url"`
	Marketplace
}

// Marketplace are the marketplace_* fields: null for rows no marketplace resource owns.
type Marketplace struct {
	OfferingUUID          *models.UUID   `json:"marketplace_offering_uuid"`
	OfferingName          *string        `json:"marketplace_offering_name"`
	OfferingPluginOptions map[string]any `json:"marketplace_offering_plugin_options"`
	CategoryUUID          *models.UUID   `json:"marketplace_category_uuid"`
	CategoryName          *string        `json:"marketplace_category_name"`
	ResourceUUID          *models.UUID   `json:"marketplace_resource_uuid"`
	PlanUUID              *models.UUID   `json:"marketplace_plan_uuid"`
	ResourceState         *string        `json:"marketplace_resource_state"`
	IsUsageBased          *bool          `json:"is_usage_based"`
	IsLimitBased          *bool          `json:"is_limit_based"`
}

func marketplace(x *RowContext) Marketplace {
	if x.ResourceUUID == nil {
		return Marketplace{}
	}
	m := Marketplace{OfferingUUID: x.OfferingUUID, OfferingName: x.OfferingName, CategoryUUID: x.CategoryUUID, CategoryName: x.CategoryTitle,
		ResourceUUID: x.ResourceUUID, PlanUUID: x.PlanUUID, ResourceState: x.ResourceState, IsUsageBased: x.UsageBased, IsLimitBased: x.LimitBased,
		OfferingPluginOptions: map[string]any{}}
	if len(x.OfferingPluginOpts) > 0 {
		_ = json.Unmarshal(x.OfferingPluginOpts, &m.OfferingPluginOptions)
		if m.OfferingPluginOptions == nil {
			m.OfferingPluginOptions = map[string]any{}
		}
	}
	return m
}

// common renders the shared fields. The cloud connection of a tenant's
// offering plays Waldur's service settings: service_settings is the
// offering's URL.
func common(c *gin.Context, collection string, id models.UUID, name, desc string, state models.CoreState, backendID, errMsg string,
	created, modified time.Time, typ string, x *RowContext) Common {
	out := Common{URL: rest.URL(c, collection, id), UUID: id, Name: name, Description: desc, ServiceSettingsState: "OK",
		Project: rest.URL(c, "projects", x.ProjectUUID), ProjectName: x.ProjectName, ProjectUUID: x.ProjectUUID,
		Customer: rest.URL(c, "customers", x.CustomerUUID), CustomerUUID: x.CustomerUUID, CustomerName: x.CustomerName,
		CustomerNativeName: x.CustomerNativeName, CustomerAbbreviation: x.CustomerAbbreviation, ErrorMessage: errMsg,
		ResourceType: typ, State: state, Created: created, Modified: modified, BackendID: backendID, Marketplace: marketplace(x)}
	if x.OfferingUUID != nil {
		out.ServiceSettings, out.ServiceSettingsUUID = rest.URL(c, "marketplace-public-offerings", *x.OfferingUUID), x.OfferingUUID
		if x.OfferingName != nil {
			out.ServiceName = *x.OfferingName
		}
	}
	return out
}

// Quota is Waldur's Quota shape.
type Quota struct {
	Name  string `json:"name"`
	Usage int64  `json:"usage"`
	Limit int64  `json:"limit"`
}

// Tenant is the OpenAPI OpenStackTenant shape.
type Tenant struct {
	Common
	AvailabilityZone            string  `json:"availability_zone"`
	InternalNetworkID           string  `json:"internal_network_id"`
	ExternalNetworkID           string  `json:"external_network_id"`
	UserUsername                string  `json:"user_username"`
	UserPassword                string  `json:"user_password,omitempty"`
	Quotas                      []Quota `json:"quotas"`
	DefaultVolumeTypeName       string  `json:"default_volume_type_name"`
	SkipCreationOfDefaultRouter bool    `json:"skip_creation_of_default_router"`
}

func renderTenant(c *gin.Context, v *TenantView) Tenant {
	t := &v.TenantRow
	out := Tenant{Common: common(c, "openstack-tenants", t.UUID, t.Name, t.Description, t.State, t.BackendID, t.ErrorMessage, t.Created, t.Modified,
		OfferingTenant, &v.RowContext),
		AvailabilityZone: t.AvailabilityZone, InternalNetworkID: t.InternalNetworkID, ExternalNetworkID: t.ExternalNetworkID,
		UserUsername: t.UserUsername, Quotas: []Quota{}, DefaultVolumeTypeName: t.DefaultVolumeTypeName,
		SkipCreationOfDefaultRouter: t.SkipCreationOfDefaultRouter}
	if v.PasswordVisible {
		out.UserPassword = t.UserPassword
	}
	for _, q := range t.QuotaList() {
		out.Quotas = append(out.Quotas, Quota{Name: q.Name, Usage: int64(q.Usage), Limit: int64(q.Limit)})
	}
	return out
}

// FixedIP is the OpenAPI OpenStackFixedIp shape.
type FixedIP struct {
	IPAddress string `json:"ip_address"`
	SubnetID  string `json:"subnet_id"`
}

// NestedPort is the OpenAPI OpenStackNestedPort shape.
type NestedPort struct {
	URL                 string       `json:"url"`
	FixedIPs            []FixedIP    `json:"fixed_ips"`
	MACAddress          string       `json:"mac_address"`
	Subnet              *string      `json:"subnet"`
	SubnetUUID          *models.UUID `json:"subnet_uuid"`
	SubnetName          *string      `json:"subnet_name"`
	SubnetCIDR          *string      `json:"subnet_cidr"`
	AllowedAddressPairs []any        `json:"allowed_address_pairs"`
	DeviceID            *string      `json:"device_id"`
	DeviceOwner         *string      `json:"device_owner"`
	SecurityGroups      []any        `json:"security_groups"`
}

// NestedSecurityGroup is the OpenAPI OpenStackNestedSecurityGroup shape.
type NestedSecurityGroup struct {
	URL         string `json:"url"`
	Name        string `json:"name"`
	Rules       []any  `json:"rules"`
	Description string `json:"description"`
	State       string `json:"state"`
}

// NestedVolume is the OpenAPI OpenStackNestedVolume shape.
type NestedVolume struct {
	URL                     string       `json:"url"`
	UUID                    models.UUID  `json:"uuid"`
	Name                    string       `json:"name"`
	ImageName               string       `json:"image_name"`
	State                   string       `json:"state"`
	Bootable                bool         `json:"bootable"`
	Size                    int64        `json:"size"`
	Device                  string       `json:"device,omitempty"`
	ResourceType            string       `json:"resource_type"`
	Type                    *string      `json:"type"`
	TypeName                string       `json:"type_name"`
	MarketplaceResourceUUID *models.UUID `json:"marketplace_resource_uuid"`
}

// Instance is the OpenAPI OpenStackInstance shape.
type Instance struct {
	Common
	StartTime            *time.Time            `json:"start_time"`
	Cores                int                   `json:"cores"`
	RAM                  int64                 `json:"ram"`
	Disk                 int64                 `json:"disk"`
	MinRAM               int64                 `json:"min_ram"`
	MinDisk              int64                 `json:"min_disk"`
	UserData             string                `json:"user_data"`
	ExternalIPs          []string              `json:"external_ips"`
	InternalIPs          []string              `json:"internal_ips"`
	Latitude             *float64              `json:"latitude"`
	Longitude            *float64              `json:"longitude"`
	KeyName              string                `json:"key_name"`
	KeyFingerprint       string                `json:"key_fingerprint"`
	ImageName            string                `json:"image_name"`
	FlavorDisk           int64                 `json:"flavor_disk"`
	FlavorName           string                `json:"flavor_name"`
	Volumes              []NestedVolume        `json:"volumes"`
	SecurityGroups       []NestedSecurityGroup `json:"security_groups"`
	FloatingIPs          []any                 `json:"floating_ips"`
	Ports                []NestedPort          `json:"ports"`
	AvailabilityZone     *string               `json:"availability_zone"`
	AvailabilityZoneName string                `json:"availability_zone_name"`
	ConnectDirectly      bool                  `json:"connect_directly_to_external_network"`
	RuntimeState         string                `json:"runtime_state"`
	Action               string                `json:"action"`
	ActionDetails        map[string]any        `json:"action_details"`
	TenantUUID           models.UUID           `json:"tenant_uuid"`
	HypervisorHostname   string                `json:"hypervisor_hostname"`
	Tenant               string                `json:"tenant"`
	ExternalAddress      []string              `json:"external_address"`
	RancherCluster       *struct{}             `json:"rancher_cluster"`
}

// ipv4s keeps the IPv4 addresses of a JSON list (the shape says ipv4).
func ipv4s(raw []byte) []string {
	var all []string
	_ = json.Unmarshal(raw, &all)
	out := []string{}
	for _, a := range all {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			out = append(out, a)
		}
	}
	return out
}

// catalogRecord is what instance rendering looks up of security groups and subnets.
type catalogRecord struct {
	UUID        models.UUID
	Name        string
	Description string
	CIDR        string
}

// instanceExtras are loaded once per page: attached volumes, and the tenants' groups and subnets by backend id.
type instanceExtras struct {
	volumes map[int64][]VolumeView
	groups  map[int64]map[string]catalogRecord // tenant → backend id or name → group
	subnets map[int64]map[string]catalogRecord
}

func renderInstance(c *gin.Context, v *InstanceView, x *instanceExtras) Instance {
	in := &v.InstanceRow
	out := Instance{Common: common(c, "openstack-instances", in.UUID, in.Name, in.Description, in.State, in.BackendID, in.ErrorMessage,
		in.Created, in.Modified, OfferingInstance, &v.RowContext),
		StartTime: in.StartTime, Cores: in.Cores, RAM: in.RAM, Disk: in.Disk, MinRAM: in.MinRAM, MinDisk: in.MinDisk, UserData: in.UserData,
		ExternalIPs: ipv4s(in.ExternalIPs), InternalIPs: ipv4s(in.InternalIPs), KeyName: in.KeyName, KeyFingerprint: in.KeyFingerprint,
		ImageName: in.ImageName, FlavorDisk: in.FlavorDisk, FlavorName: in.FlavorName, Volumes: []NestedVolume{},
		SecurityGroups: []NestedSecurityGroup{}, FloatingIPs: []any{}, Ports: []NestedPort{}, AvailabilityZoneName: in.AvailabilityZone,
		RuntimeState: in.RuntimeState, ActionDetails: map[string]any{}, TenantUUID: v.TenantUUID,
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), ExternalAddress: []string{}}
	out.ExternalAddress = append(out.ExternalAddress, out.ExternalIPs...)
	for i := range x.volumes[in.ID] {
		vol := &x.volumes[in.ID][i]
		out.Volumes = append(out.Volumes, NestedVolume{URL: rest.URL(c, "openstack-volumes", vol.UUID), UUID: vol.UUID, Name: vol.Name,
			ImageName: vol.ImageName, State: string(vol.State), Bootable: vol.Bootable, Size: vol.Size, Device: vol.Device,
			ResourceType: OfferingVolume, TypeName: vol.TypeName, MarketplaceResourceUUID: vol.ResourceUUID})
	}
	var names []string
	_ = json.Unmarshal(in.SecurityGroups, &names)
	for _, n := range names {
		g := NestedSecurityGroup{Name: n, Rules: []any{}, State: string(models.CoreOK)}
		if rec, ok := x.groups[in.TenantID][n]; ok {
			g.URL, g.Description = rest.URL(c, "openstack-security-groups", rec.UUID), rec.Description
		}
		if g.URL != "" {
			out.SecurityGroups = append(out.SecurityGroups, g)
		}
	}
	var ports []CloudPort
	_ = json.Unmarshal(in.Ports, &ports)
	for _, p := range ports {
		np := NestedPort{URL: rest.Origin(c) + "/api/openstack-ports/" + p.BackendID + "/", FixedIPs: []FixedIP{}, MACAddress: p.MACAddress,
			AllowedAddressPairs: []any{}, SecurityGroups: []any{}, DeviceID: &in.BackendID}
		if p.IPAddress != "" {
			np.FixedIPs = append(np.FixedIPs, FixedIP{IPAddress: p.IPAddress, SubnetID: p.SubnetBackendID})
		}
		if rec, ok := x.subnets[in.TenantID][p.SubnetBackendID]; ok {
			u := rest.URL(c, "openstack-subnets", rec.UUID)
			id, name, cidr := rec.UUID, rec.Name, rec.CIDR
			np.Subnet, np.SubnetUUID, np.SubnetName, np.SubnetCIDR = &u, &id, &name, &cidr
		}
		out.Ports = append(out.Ports, np)
	}
	return out
}

// Volume is the OpenAPI OpenStackVolume shape.
type Volume struct {
	Common
	SourceSnapshot          *string        `json:"source_snapshot"`
	Size                    int64          `json:"size"`
	Bootable                bool           `json:"bootable"`
	Metadata                map[string]any `json:"metadata"`
	Image                   *string        `json:"image"`
	ImageMetadata           string         `json:"image_metadata"`
	ImageName               string         `json:"image_name"`
	Type                    *string        `json:"type"`
	TypeName                string         `json:"type_name"`
	RuntimeState            string         `json:"runtime_state"`
	AvailabilityZone        *string        `json:"availability_zone"`
	AvailabilityZoneName    string         `json:"availability_zone_name"`
	Device                  string         `json:"device,omitempty"`
	Action                  string         `json:"action"`
	ActionDetails           map[string]any `json:"action_details"`
	Instance                *string        `json:"instance"`
	InstanceName            string         `json:"instance_name"`
	InstanceMarketplaceUUID *models.UUID   `json:"instance_marketplace_uuid,omitempty"`
	Tenant                  string         `json:"tenant"`
	TenantUUID              models.UUID    `json:"tenant_uuid"`
	ExtendEnabled           bool           `json:"extend_enabled"`
}

func renderVolume(c *gin.Context, v *VolumeView) Volume {
	vol := &v.VolumeRow
	out := Volume{Common: common(c, "openstack-volumes", vol.UUID, vol.Name, vol.Description, vol.State, vol.BackendID, vol.ErrorMessage,
		vol.Created, vol.Modified, OfferingVolume, &v.RowContext),
		Size: vol.Size, Bootable: vol.Bootable, Metadata: map[string]any{}, ImageName: vol.ImageName, TypeName: vol.TypeName,
		RuntimeState: vol.RuntimeState, AvailabilityZoneName: vol.AvailabilityZone, Device: vol.Device, ActionDetails: map[string]any{},
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantUUID: v.TenantUUID, ExtendEnabled: true,
		InstanceMarketplaceUUID: v.InstanceResourceUUID}
	if v.InstanceUUID != nil {
		u := rest.URL(c, "openstack-instances", *v.InstanceUUID)
		out.Instance = &u
		if v.InstanceName != nil {
			out.InstanceName = *v.InstanceName
		}
	}
	return out
}

// Flavor is the OpenAPI OpenStackFlavor shape.
type Flavor struct {
	URL         string      `json:"url"`
	UUID        models.UUID `json:"uuid"`
	Name        string      `json:"name"`
	Settings    string      `json:"settings"`
	Cores       int         `json:"cores"`
	RAM         int64       `json:"ram"`
	Disk        int64       `json:"disk"`
	BackendID   string      `json:"backend_id"`
	DisplayName string      `json:"display_name"`
}

func renderFlavor(c *gin.Context, v *CatalogItem) Flavor {
	return Flavor{URL: rest.URL(c, "openstack-flavors", v.UUID), UUID: v.UUID, Name: v.Name, Settings: rest.URL(c, "openstack-tenants", v.TenantUUID),
		Cores: v.Cores, RAM: v.RAM, Disk: v.Disk, BackendID: v.BackendID,
		DisplayName: fmt.Sprintf("%s (%d CPU, %d MB RAM, %d MB HDD)", v.Name, v.Cores, v.RAM, v.Disk)}
}

// Image is the OpenAPI OpenStackImage shape.
type Image struct {
	URL              string      `json:"url"`
	UUID             models.UUID `json:"uuid"`
	Name             string      `json:"name"`
	MinDisk          int64       `json:"min_disk"`
	MinRAM           int64       `json:"min_ram"`
	Settings         string      `json:"settings"`
	BackendID        string      `json:"backend_id"`
	BackendCreatedAt *time.Time  `json:"backend_created_at"`
}

func renderImage(c *gin.Context, v *CatalogItem) Image {
	return Image{URL: rest.URL(c, "openstack-images", v.UUID), UUID: v.UUID, Name: v.Name, MinDisk: v.MinDisk, MinRAM: v.MinRAM,
		Settings: rest.URL(c, "openstack-tenants", v.TenantUUID), BackendID: v.BackendID, BackendCreatedAt: v.BackendCreatedAt}
}

// VolumeType is the OpenAPI OpenStackVolumeType shape.
type VolumeType struct {
	URL         string      `json:"url"`
	UUID        models.UUID `json:"uuid"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Settings    string      `json:"settings"`
}

func renderVolumeType(c *gin.Context, v *CatalogItem) VolumeType {
	return VolumeType{URL: rest.URL(c, "openstack-volume-types", v.UUID), UUID: v.UUID, Name: v.Name, Description: v.Description,
		Settings: rest.URL(c, "openstack-tenants", v.TenantUUID)}
}

// tenantItem renders the common fields of a tenant's network, subnet, security group or floating IP.
func tenantItem(c *gin.Context, collection, typ string, v *CatalogItem, name string) Common {
	var created, modified time.Time
	if v.Created != nil {
		created = *v.Created
	}
	if v.Modified != nil {
		modified = *v.Modified
	}
	state := v.State
	if state == "" {
		state = models.CoreOK
	}
	backendID := v.BackendID
	if isPending(backendID) {
		backendID = "" // not made in the cloud yet
	}
	out := common(c, collection, v.UUID, name, v.Description, state, backendID, v.ErrorMessage, created, modified, typ, &v.RowContext)
	out.Marketplace = Marketplace{} // the tenant's resource, not this one's
	return out
}

// NestedSubnet is the OpenAPI OpenStackNestedSubNet shape.
type NestedSubnet struct {
	UUID            models.UUID      `json:"uuid"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	CIDR            string           `json:"cidr"`
	GatewayIP       *string          `json:"gateway_ip"`
	AllocationPools []AllocationPool `json:"allocation_pools"`
	IPVersion       int              `json:"ip_version"`
	EnableDHCP      bool             `json:"enable_dhcp"`
}

// AllocationPool is the OpenAPI OpenStackSubNetAllocationPool shape.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Network is the OpenAPI OpenStackNetwork shape.
type Network struct {
	Common
	Tenant         string         `json:"tenant"`
	TenantName     string         `json:"tenant_name"`
	TenantUUID     models.UUID    `json:"tenant_uuid"`
	IsExternal     bool           `json:"is_external"`
	Type           string         `json:"type"`
	SegmentationID *int           `json:"segmentation_id"`
	Subnets        []NestedSubnet `json:"subnets"`
	MTU            *int           `json:"mtu"`
	RBACPolicies   []any          `json:"rbac_policies"`
}

func pools(raw []byte) []AllocationPool {
	var ps []CloudAllocationPool
	_ = json.Unmarshal(raw, &ps)
	out := []AllocationPool{}
	for _, p := range ps {
		out = append(out, AllocationPool{Start: p.Start, End: p.End})
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func renderNetwork(c *gin.Context, v *CatalogItem, subnets []CatalogItem) Network {
	out := Network{Common: tenantItem(c, "openstack-networks", "OpenStack.Network", v, v.Name),
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, TenantUUID: v.TenantUUID, IsExternal: v.IsExternal,
		Subnets: []NestedSubnet{}, MTU: v.MTU, RBACPolicies: []any{}}
	for _, s := range subnets {
		out.Subnets = append(out.Subnets, NestedSubnet{UUID: s.UUID, Name: s.Name, Description: s.Description, CIDR: s.CIDR,
			GatewayIP: nullable(s.GatewayIP), AllocationPools: pools(s.AllocationPools), IPVersion: s.IPVersion, EnableDHCP: s.EnableDHCP})
	}
	return out
}

// Subnet is the OpenAPI OpenStackSubNet shape.
type Subnet struct {
	Common
	Tenant          string           `json:"tenant"`
	TenantName      string           `json:"tenant_name"`
	Network         string           `json:"network,omitempty"`
	NetworkName     string           `json:"network_name"`
	CIDR            string           `json:"cidr"`
	GatewayIP       *string          `json:"gateway_ip"`
	DisableGateway  bool             `json:"disable_gateway"`
	AllocationPools []AllocationPool `json:"allocation_pools"`
	IPVersion       int              `json:"ip_version"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	HostRoutes      []any            `json:"host_routes"`
	IsConnected     bool             `json:"is_connected"`
}

func renderSubnet(c *gin.Context, v *CatalogItem) Subnet {
	out := Subnet{Common: tenantItem(c, "openstack-subnets", "OpenStack.SubNet", v, v.Name),
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, CIDR: v.CIDR, GatewayIP: nullable(v.GatewayIP),
		DisableGateway: v.GatewayIP == "", AllocationPools: pools(v.AllocationPools), IPVersion: v.IPVersion, EnableDHCP: v.EnableDHCP,
		DNSNameservers: []string{}, HostRoutes: []any{}, IsConnected: true}
	_ = json.Unmarshal(v.DNSNameservers, &out.DNSNameservers)
	if out.DNSNameservers == nil {
		out.DNSNameservers = []string{}
	}
	if v.NetworkUUID != nil {
		out.Network = rest.URL(c, "openstack-networks", *v.NetworkUUID)
	}
	if v.NetworkName != nil {
		out.NetworkName = *v.NetworkName
	}
	return out
}

// Rule is the OpenAPI OpenStackSecurityGroupRuleCreate shape.
type Rule struct {
	EtherType       string  `json:"ethertype"`
	Direction       string  `json:"direction"`
	Protocol        string  `json:"protocol"`
	FromPort        *int    `json:"from_port"`
	ToPort          *int    `json:"to_port"`
	CIDR            *string `json:"cidr"`
	Description     string  `json:"description"`
	RemoteGroupName string  `json:"remote_group_name"`
	ID              int     `json:"id"`
	RemoteGroup     *string `json:"remote_group"`
}

// SecurityGroup is the OpenAPI OpenStackSecurityGroup shape.
type SecurityGroup struct {
	Common
	Tenant     string      `json:"tenant"`
	TenantName string      `json:"tenant_name"`
	TenantUUID models.UUID `json:"tenant_uuid"`
	Rules      []Rule      `json:"rules"`
}

func renderSecurityGroup(c *gin.Context, v *CatalogItem) SecurityGroup {
	out := SecurityGroup{Common: tenantItem(c, "openstack-security-groups", "OpenStack.SecurityGroup", v, v.Name),
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, TenantUUID: v.TenantUUID, Rules: []Rule{}}
	var rules []CloudRule
	_ = json.Unmarshal(v.Rules, &rules)
	for i, r := range rules {
		out.Rules = append(out.Rules, Rule{EtherType: r.EtherType, Direction: r.Direction, Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort,
			CIDR: nullable(r.CIDR), Description: r.Description, ID: i + 1})
	}
	return out
}

// FloatingIP is the OpenAPI OpenStackFloatingIP shape.
type FloatingIP struct {
	Common
	RuntimeState     string    `json:"runtime_state"`
	Address          *string   `json:"address"`
	BackendNetworkID string    `json:"backend_network_id"`
	Tenant           string    `json:"tenant"`
	TenantName       string    `json:"tenant_name"`
	TenantUUID       string    `json:"tenant_uuid"`
	Port             string    `json:"port,omitempty"`
	ExternalAddress  *string   `json:"external_address"`
	PortFixedIPs     []FixedIP `json:"port_fixed_ips"`
	InstanceUUID     *string   `json:"instance_uuid"`
	InstanceName     *string   `json:"instance_name"`
	InstanceURL      *string   `json:"instance_url"`
}

func renderFloatingIP(c *gin.Context, v *CatalogItem) FloatingIP {
	out := FloatingIP{Common: tenantItem(c, "openstack-floating-ips", "OpenStack.FloatingIP", v, v.Address),
		RuntimeState: v.RuntimeState, Address: nullable(v.Address), BackendNetworkID: v.BackendNetworkID,
		Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID), TenantName: v.TenantName, TenantUUID: v.TenantUUID.String(),
		PortFixedIPs: []FixedIP{}}
	if v.PortBackendID != "" {
		out.Port = rest.Origin(c) + "/api/openstack-ports/" + v.PortBackendID + "/"
		if v.FixedIP != "" {
			out.PortFixedIPs = append(out.PortFixedIPs, FixedIP{IPAddress: v.FixedIP})
		}
	}
	return out
}
