package openstack

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The floating IPs made, changed and deleted through the API (Waldur's
// create_floating_ip of a tenant; the floating IP's destroy,
// attach_to_port, detach_from_port, update_description, pull, set_ok,
// set_erred and unlink; an instance's floating IPs). Their list and
// retrieve are api.go's. Each change is an action on the row
// (store_actions.go), run by OpenStackAction.

// floatingIPRoutes registers the floating IPs' own routes.
func (m *routes) floatingIPRoutes(a *gin.RouterGroup) {
	a.POST("/openstack-tenants/:uuid/create_floating_ip/", api.RequireUser, api.H(m.createFloatingIP))
	g := a.Group("/openstack-floating-ips", api.RequireUser)
	g.DELETE("/:uuid/", api.H(m.deleteObject(KindFloatingIP)))
	g.POST("/:uuid/attach_to_port/", api.H(m.attachFloatingIP))
	g.POST("/:uuid/detach_from_port/", api.H(m.detachFloatingIP))
	g.POST("/:uuid/update_description/", api.H(m.updateFloatingIPDescription))
	g.POST("/:uuid/pull/", api.H(m.pullObject(KindFloatingIP)))
	g.POST("/:uuid/set_ok/", api.H(m.setState(KindFloatingIP, models.CoreOK)))
	g.POST("/:uuid/set_erred/", api.H(m.setState(KindFloatingIP, models.CoreErred)))
	g.POST("/:uuid/unlink/", api.H(m.unlink(KindFloatingIP)))
	a.GET("/openstack-instances/:uuid/floating_ips/", api.RequireUser, api.H(m.instanceFloatingIPs))
	a.POST("/openstack-instances/:uuid/update_floating_ips/", api.RequireUser, api.H(m.updateInstanceFloatingIPs))
}

func (m *routes) renderFloatingIPByUUID(c *gin.Context, status int, id models.UUID) error {
	v, err := m.db.VisibleCatalogItem(c.Request.Context(), CatalogFloatingIPs, id)
	if err != nil {
		return err
	}
	return rest.Render(c, status, renderFloatingIP(c, v))
}

// @Summary	Create a floating IP in an OpenStack tenant
// @Description	description (optional). The floating IP is answered at once (201, CREATION_SCHEDULED, no address yet) and allocated on the tenant's external network (OK, with its address and backend id), or ERRED. 409 unless the tenant is OK; 400 when the tenant has no external network.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	FloatingIP
// @Router		/api/openstack-tenants/{uuid}/create_floating_ip/ [post]
func (m *routes) createFloatingIP(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	desc, _ := f.Str("description", 4096, true)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	ext, err := columnOf[string](ctx, m.db, KindTenant, t.ID, "external_network_id")
	if err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	if ext == "" {
		return models.Errorf(models.CodeInvalid, "Tenant %s has no external network.", t.Name)
	}
	o, err := m.db.CreateObject(ctx, KindFloatingIP, t.ID, map[string]any{"description": desc, "backend_network_id": ext},
		l3Details(L3Request{ExternalNetworkID: ext}))
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderFloatingIPByUUID(c, http.StatusCreated, o.UUID)
}

// @Summary	Attach a floating IP to a port
// @Description	port: URL of a port of the floating IP's tenant, made in the cloud and with a fixed IP. 202 {"status": "..."}; 409 unless the floating IP is OK; 400 for another tenant's port (or one unreachable from the external network: then the action ends ERRED with Neutron's message).
// @Tags		openstack-floating-ips
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-floating-ips/{uuid}/attach_to_port/ [post]
func (m *routes) attachFloatingIP(c *gin.Context) error {
	o, err := m.administered(c, KindFloatingIP)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("port")
	raw, _ := f.Str("port", 500, false)
	if err := f.Err(); err != nil {
		return err
	}
	port, err := m.portOfRef(c, "port", raw)
	if err != nil {
		return err
	}
	if !m.db.floatingIPPortOK(c.Request.Context(), o.TenantID, port) {
		return models.FieldError("port", "The port should belong to the floating IP's tenant and exist in the cloud.")
	}
	if port.FixedIPs == nil || string(port.FixedIPs) == "[]" || string(port.FixedIPs) == "null" {
		return models.FieldError("port", "The port has no fixed IP.")
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "attach_to_port",
		Details: l3Details(L3Request{PortBackendID: port.BackendID})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Floating IP attaching has been scheduled."})
}

// portOfRef resolves a port URL (its UUID or backend id) the caller sees:
// a 400 on field otherwise.
func (m *routes) portOfRef(c *gin.Context, field, raw string) (*PortView, error) {
	ref := raw
	if len(ref) > 0 && ref[len(ref)-1] == '/' {
		ref = ref[:len(ref)-1]
	}
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == '/' {
			ref = ref[i+1:]
			break
		}
	}
	v, err := m.db.VisiblePort(c.Request.Context(), ref)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, models.FieldError(field, rest.MsgDoesNotExist)
	}
	return v, err
}

// @Summary	Detach a floating IP from its port
// @Description	202; 409 unless the floating IP is OK; 400 when it is on no port.
// @Tags		openstack-floating-ips
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-floating-ips/{uuid}/detach_from_port/ [post]
func (m *routes) detachFloatingIP(c *gin.Context) error {
	o, err := m.administered(c, KindFloatingIP)
	if err != nil {
		return err
	}
	port, err := columnOf[string](c.Request.Context(), m.db, KindFloatingIP, o.ID, "port_backend_id")
	if err != nil {
		return err
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if port == "" {
		return models.Errorf(models.CodeInvalid, "Floating IP is not attached to any port.")
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "detach_from_port"}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Floating IP detaching has been scheduled."})
}

// @Summary	Change a floating IP's description
// @Description	description: set here at once and in the cloud. 202; 409 unless the floating IP is OK.
// @Tags		openstack-floating-ips
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-floating-ips/{uuid}/update_description/ [post]
func (m *routes) updateFloatingIPDescription(c *gin.Context) error {
	o, err := m.administered(c, KindFloatingIP)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	desc, _ := f.Str("description", 4096, true)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_description", Set: map[string]any{"description": desc}}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Floating IP description has been updated."})
}

// @Summary	An OpenStack instance's floating IPs
// @Description	The floating IPs on the ports of the instance's server.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{array}	FloatingIP
// @Router		/api/openstack-instances/{uuid}/floating_ips/ [get]
func (m *routes) instanceFloatingIPs(c *gin.Context) error {
	id, err := api.PathUUID(c, "Instance")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	in, err := m.db.VisibleInstance(ctx, id)
	if err != nil {
		return err
	}
	ids, err := m.db.FloatingIPsOfInstance(ctx, in.TenantID, in.BackendID)
	if err != nil {
		return err
	}
	out := []FloatingIP{}
	for _, fid := range ids {
		v, err := m.db.VisibleCatalogItem(ctx, CatalogFloatingIPs, fid)
		if err != nil {
			return err
		}
		out = append(out, renderFloatingIP(c, v))
	}
	return rest.Render(c, http.StatusOK, out)
}

// @Summary	Set an OpenStack instance's floating IPs
// @Description	floating_ips: [{subnet (URL of a subnet the instance has a port in), url (optional: a floating IP of the tenant, free or the instance's)}]. Each such port gets the floating IP named, or keeps one it has, or gets a new one on the external network; the instance's other floating IPs are detached. 202; 409 unless the instance is OK; 400 for a subnet the instance is not in, or a floating IP of another tenant or in use elsewhere.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/update_floating_ips/ [post]
func (m *routes) updateInstanceFloatingIPs(c *gin.Context) error {
	o, err := m.administered(c, KindInstance)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	items, _ := f.ObjList("floating_ips", false)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	if o.BackendID == "" {
		return models.Errorf(models.CodeConflict, "The instance has no server in the cloud yet.")
	}
	raw, err := columnOf[[]byte](ctx, m.db, KindInstance, o.ID, "ports")
	if err != nil {
		return err
	}
	var ports []CloudPort
	_ = json.Unmarshal(raw, &ports)
	var assign []FloatingIPAssignment
	used := map[string]bool{}
	for _, it := range items {
		it.Require("subnet")
		sref, ok := it.Ref("subnet", "openstack-subnets", false, true)
		if !ok {
			f.Fail("floating_ips", "Each item needs a subnet of the instance.")
			continue
		}
		sbid, _, err := m.subnetOfTenant(c, "floating_ips", o.TenantID, sref)
		if err != nil {
			return err
		}
		a := FloatingIPAssignment{SubnetBackendID: sbid}
		for _, p := range ports {
			if p.SubnetBackendID == sbid {
				a.PortBackendID = p.BackendID
			}
		}
		if a.PortBackendID == "" {
			f.Fail("floating_ips", "The instance is not connected to the subnet.")
			continue
		}
		if used[sbid] {
			f.Fail("floating_ips", "A subnet may be given once.")
			continue
		}
		used[sbid] = true
		if it.Has("url") && !it.IsNull("url") {
			fref, ok := it.Ref("url", "openstack-floating-ips", true, false)
			if !ok {
				f.Fail("floating_ips", "Invalid hyperlink.")
				continue
			}
			var rows []struct {
				BackendID     string
				PortBackendID string
			}
			if err := m.db.DB.WithContext(ctx).Table("openstack_floating_ips").Select("backend_id, port_backend_id").
				Where("uuid = ? AND tenant_id = ?", fref, o.TenantID).Scan(&rows).Error; err != nil {
				return models.Internal(err)
			}
			mine := false
			for _, p := range ports {
				mine = mine || len(rows) > 0 && rows[0].PortBackendID == p.BackendID
			}
			switch {
			case len(rows) == 0 || isPending(rows[0].BackendID):
				f.Fail("floating_ips", "The floating IP should belong to the instance's tenant and exist in the cloud.")
				continue
			case rows[0].PortBackendID != "" && !mine:
				f.Fail("floating_ips", "The floating IP is in use by another port.")
				continue
			}
			a.FloatingIPBackendID = rows[0].BackendID
		}
		assign = append(assign, a)
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "update_floating_ips", Details: l3Details(L3Request{Assignments: assign})}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Floating IPs update has been scheduled."})
}
