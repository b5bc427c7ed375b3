package openstack

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The external networks (router:external) the tenants' projects see, with
// their subnets, as the pull read them: Waldur's provider-level
// ExternalNetwork, here per tenant (the tenant plays the service settings:
// settings is its URL, ?settings_uuid= filters by it).

// externalNetworkRoutes registers /api/openstack-external-networks/.
func (m *routes) externalNetworkRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-external-networks", api.RequireUser)
	g.Match(get, "/", api.H(m.listExternalNetworks))
	g.Match(get, "/:uuid/", api.H(m.getExternalNetwork))
}

// ExternalSubnet is the OpenAPI ExternalSubnet shape.
type ExternalSubnet struct {
	UUID            models.UUID      `json:"uuid"`
	Name            string           `json:"name"`
	BackendID       string           `json:"backend_id"`
	CIDR            string           `json:"cidr"`
	GatewayIP       *string          `json:"gateway_ip"`
	IPVersion       int              `json:"ip_version"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	AllocationPools []AllocationPool `json:"allocation_pools"`
	DNSNameservers  []string         `json:"dns_nameservers"`
	PublicIPRange   string           `json:"public_ip_range"`
	Description     string           `json:"description"`
}

// ExternalNetwork is the OpenAPI ExternalNetwork shape.
type ExternalNetwork struct {
	URL         string           `json:"url"`
	UUID        models.UUID      `json:"uuid"`
	Name        string           `json:"name"`
	Settings    string           `json:"settings"`
	BackendID   string           `json:"backend_id"`
	IsShared    bool             `json:"is_shared"`
	IsDefault   bool             `json:"is_default"`
	Status      string           `json:"status"`
	Description string           `json:"description"`
	Subnets     []ExternalSubnet `json:"subnets"`
}

// subnetUUID is a stable UUID of an external subnet: its Neutron id when
// that is a UUID, else one derived from it.
func subnetUUID(backendID string) models.UUID {
	if id, err := models.ParseUUID(backendID); err == nil {
		return id
	}
	return models.UUID(uuid.NewSHA1(uuid.NameSpaceOID, []byte("openstack-external-subnet:"+backendID)))
}

func renderExternalNetwork(c *gin.Context, v *ExternalNetworkView) ExternalNetwork {
	out := ExternalNetwork{URL: rest.URL(c, "openstack-external-networks", v.UUID), UUID: v.UUID, Name: v.Name,
		Settings: rest.URL(c, "openstack-tenants", v.TenantUUID), BackendID: v.BackendID, IsShared: v.IsShared, IsDefault: v.IsDefault,
		Status: v.Status, Description: v.Description, Subnets: []ExternalSubnet{}}
	var subs []CloudSubnet
	_ = json.Unmarshal(v.Subnets, &subs)
	for _, s := range subs {
		es := ExternalSubnet{UUID: subnetUUID(s.BackendID), Name: s.Name, BackendID: s.BackendID, CIDR: s.CIDR, GatewayIP: nullable(s.GatewayIP),
			IPVersion: s.IPVersion, EnableDHCP: s.EnableDHCP, AllocationPools: []AllocationPool{}, DNSNameservers: nonNilSlice(s.DNSNameservers),
			Description: s.Description}
		for _, p := range s.AllocationPools {
			es.AllocationPools = append(es.AllocationPools, AllocationPool{Start: p.Start, End: p.End})
		}
		out.Subnets = append(out.Subnets, es)
	}
	return out
}

// @Summary	List external networks
// @Description	The external networks the tenants' projects see (the tenant is the settings), with their subnets, as the pull read them.
// @Tags		openstack-external-networks
// @Param		name			query	string	false	"Name contains"
// @Param		name_exact		query	string	false	"Name"
// @Param		settings_uuid	query	string	false	"Tenant"
// @Success	200	{array}	ExternalNetwork
// @Router		/api/openstack-external-networks/ [get]
func (m *routes) listExternalNetworks(c *gin.Context) error {
	f, err := filter(c, false)
	if err != nil {
		return err
	}
	q, err := m.db.ExternalNetworksQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", nil), func(v *ExternalNetworkView) ExternalNetwork { return renderExternalNetwork(c, v) })
}

// @Summary	Get an external network
// @Tags		openstack-external-networks
// @Param		uuid	path	string	true	"External network UUID"
// @Success	200	{object}	ExternalNetwork
// @Router		/api/openstack-external-networks/{uuid}/ [get]
func (m *routes) getExternalNetwork(c *gin.Context) error {
	id, err := api.PathUUID(c, "External network")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleExternalNetwork(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderExternalNetwork(c, v))
}
