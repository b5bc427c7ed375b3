package openstack

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/workflows"
)

// A tenant's set_quotas and change_password (actions, as in
// api_actions.go), its backend_instances and backend_volumes (read from
// the cloud, as console_log), and the pulls of tenants, instances and
// volumes (OpenStackPullObject, one at a time per object). Who may:
// set_quotas, staff and the owners and managers of the customer whose
// offering the tenant is (Waldur's can_update_tenant_quotas_as_service_provider);
// the other POSTs, Waldur's is_administrator; the GETs, whoever sees the
// tenant.

// tenantQuotaFields are set_quotas' fields (OpenStackTenantQuotaRequest).
var tenantQuotaFields = []string{"instances", "volumes", "snapshots", "ram", "vcpu", "storage", "security_group_count", "security_group_rule_count"}

// providerRoles are the roles of the customer of the tenant's offering that
// may set its quotas.
var providerRoles = map[string]bool{models.RoleCustomerOwner: true, models.RoleCustomerManager: true}

// tenantActionRoutes registers the tenants' quota, password, backend and
// pull routes and the instances' and volumes' pulls.
func (m *routes) tenantActionRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	t := a.Group("/openstack-tenants", api.RequireUser)
	t.POST("/:uuid/set_quotas/", api.H(m.setQuotas))
	t.POST("/:uuid/change_password/", api.H(m.changePassword))
	t.Match(get, "/:uuid/backend_instances/", api.H(m.backendObjects("backend_instances")))
	t.Match(get, "/:uuid/backend_volumes/", api.H(m.backendObjects("backend_volumes")))
	t.POST("/:uuid/pull_quotas/", api.H(m.tenantPart(gin.H{"status": "Quotas pull has been scheduled."})))
	t.POST("/:uuid/pull_security_groups/", api.H(m.tenantPart(gin.H{"status": "Security groups pull has been scheduled."})))
	t.POST("/:uuid/pull_floating_ips/", api.H(m.tenantPart(nil)))
	for _, k := range []Kind{KindTenant, KindInstance, KindVolume} {
		a.POST("/openstack-"+string(k)+"s/:uuid/pull/", api.RequireUser, api.H(m.pullObject(k)))
	}
}

// providerManaged loads the tenant and lets staff and the owners and
// managers of its offering's customer go on (403).
func (m *routes) providerManaged(c *gin.Context) (*ActionObject, error) {
	o, err := m.object(c, KindTenant)
	if err != nil {
		return nil, err
	}
	u := api.CurrentUser(c)
	if u.IsStaff {
		return o, nil
	}
	if m.rbac == nil {
		return nil, api.Forbidden()
	}
	ctx := c.Request.Context()
	provider, err := m.db.TenantProviderCustomer(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	roles, err := m.rbac.RolesOn(ctx, u.ID, models.Scope{Type: models.ScopeCustomer, ID: provider})
	if err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range roles {
		if providerRoles[r] {
			return o, nil
		}
	}
	return nil, api.Forbidden()
}

// @Summary	Set an OpenStack tenant's quotas
// @Description	instances, volumes, snapshots, ram (MiB), vcpu, storage (MiB), security_group_count, security_group_rule_count: integers, at least 1; any of them. Staff and the owners and managers of the tenant's service provider. The quotas are pushed to the cloud (a set_quotas action: UPDATE_SCHEDULED, then OK); once done, the tenant's quotas are what the cloud reads back and the billed limits (cores, ram, storage, ...) of its marketplace resource are the new ones, in the invoice from that day. 202 {"detail": "Quota update has been scheduled"}; 409 unless the tenant is OK.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-tenants/{uuid}/set_quotas/ [post]
func (m *routes) setQuotas(c *gin.Context) error {
	o, err := m.providerManaged(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	quotas := map[string]any{}
	for _, name := range tenantQuotaFields {
		if v, ok := f.Int(name, 1, 1<<31-1, false); ok && v != nil {
			quotas[TenantQuotaNames[name]] = *v
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "set_quotas", Details: map[string]any{"quotas": quotas}}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"detail": "Quota update has been scheduled"})
}

// @Summary	Change an OpenStack tenant's user password
// @Description	user_password: the new password (at most 50 characters, not the current one), set in Keystone (a change_password action). 202 {"status": "Password update has been scheduled."}; 409 unless the tenant is OK.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-tenants/{uuid}/change_password/ [post]
func (m *routes) changePassword(c *gin.Context) error {
	o, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("user_password")
	pw, ok := f.Str("user_password", 50, false)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	if cur, err := columnOf[string](ctx, m.db, KindTenant, o.ID, "user_password"); err != nil {
		return err
	} else if ok && cur == pw {
		return models.FieldError("user_password", "New password cannot match the old password.")
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "change_password", Set: map[string]any{"user_password": pw}}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Password update has been scheduled."})
}

// BackendInstance is Waldur's OpenStackBackendInstance: a server of the
// tenant that no marketplace resource is.
type BackendInstance struct {
	Name               string     `json:"name"`
	KeyName            string     `json:"key_name"`
	StartTime          *time.Time `json:"start_time"`
	State              string     `json:"state"`
	RuntimeState       string     `json:"runtime_state"`
	Created            time.Time  `json:"created"`
	BackendID          string     `json:"backend_id"`
	AvailabilityZone   string     `json:"availability_zone"`
	HypervisorHostname string     `json:"hypervisor_hostname"`
}

// BackendVolume is Waldur's OpenStackBackendVolumes: a volume of the
// tenant that no marketplace resource is.
type BackendVolume struct {
	Name             string `json:"name"`
	Description      string `json:"description"`
	Size             int64  `json:"size"`
	Metadata         string `json:"metadata"`
	BackendID        string `json:"backend_id"`
	Type             string `json:"type"`
	Bootable         bool   `json:"bootable"`
	RuntimeState     string `json:"runtime_state"`
	State            string `json:"state"`
	AvailabilityZone string `json:"availability_zone"`
}

// @Summary	An OpenStack tenant's servers or volumes that Waldur does not manage
// @Description	Read from the cloud: the servers (backend_instances) or volumes (backend_volumes) of the tenant that no order made and no marketplace resource is (what an import could take). 409 while the tenant has no project in the cloud; 400 when the cloud cannot be read.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{array}	BackendInstance
// @Router		/api/openstack-tenants/{uuid}/backend_instances/ [get]
// @Router		/api/openstack-tenants/{uuid}/backend_volumes/ [get]
func (m *routes) backendObjects(action string) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.object(c, KindTenant)
		if err != nil {
			return err
		}
		if o.BackendID == "" {
			return models.Errorf(models.CodeConflict, "The tenant has no project in the cloud yet.")
		}
		if m.tc == nil {
			return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), 90*time.Second)
		defer cancel()
		run, err := m.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore, WorkflowExecutionTimeout: 2 * time.Minute},
			OpenStackRead, ActionInput{Kind: KindTenant, UUID: o.UUID, Action: action})
		if err != nil {
			return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
		}
		var res ActionResult
		if err := run.Get(ctx, &res); err != nil {
			msg, _ := workflows.FailureOf(err)
			return models.Errorf(models.CodeInvalid, "%s", msg)
		}
		kind := KindInstance
		if action == "backend_volumes" {
			kind = KindVolume
		}
		linked, err := m.db.linkedBackendIDs(c.Request.Context(), kind, o.ID)
		if err != nil {
			return err
		}
		var out any
		n := 0
		if kind == KindInstance {
			list := []BackendInstance{}
			for _, sv := range res.Servers {
				if linked[sv.BackendID] {
					continue
				}
				list = append(list, BackendInstance{Name: sv.Name, KeyName: sv.KeyName, State: string(ServerState(sv.Status)),
					RuntimeState: sv.Status, Created: sv.Created, BackendID: sv.BackendID, AvailabilityZone: sv.AvailabilityZone})
			}
			out, n = list, len(list)
		} else {
			list := []BackendVolume{}
			for _, v := range res.Volumes {
				if linked[v.BackendID] {
					continue
				}
				st := models.CoreOK
				if v.Status == "error" {
					st = models.CoreErred
				}
				meta := ""
				if len(v.Metadata) > 0 {
					meta = string(rawJSON(v.Metadata))
				}
				list = append(list, BackendVolume{Name: v.Name, Description: v.Description, Size: v.Size, Metadata: meta,
					BackendID: v.BackendID, Type: v.TypeName, Bootable: v.Bootable, RuntimeState: v.Status, State: string(st),
					AvailabilityZone: v.AvailabilityZone})
			}
			out, n = list, len(list)
		}
		c.Header("X-Result-Count", strconv.Itoa(n))
		return rest.Render(c, http.StatusOK, out)
	}
}

// requireBackend is Waldur's check_resource_backend_id (409).
func requireBackend(o *ActionObject) error {
	if o.BackendID == "" || isPending(o.BackendID) {
		return models.Errorf(models.CodeConflict, "Resource does not have backend ID.")
	}
	return nil
}

// @Summary	Pull an OpenStack tenant, instance, volume, port or floating IP from the cloud
// @Description	Reads the object's tenant from its cloud and records what it finds (as the periodic pull). The object must be OK or erred and be in the cloud (409); a pull of the object already running is a 409 too. 202 {"detail": "Pull operation was successfully scheduled."}.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/pull/ [post]
// @Router		/api/openstack-volumes/{uuid}/pull/ [post]
// @Router		/api/openstack-tenants/{uuid}/pull/ [post]
// @Router		/api/openstack-ports/{uuid}/pull/ [post]
// @Router		/api/openstack-floating-ips/{uuid}/pull/ [post]
// @Router		/api/openstack-networks/{uuid}/pull/ [post]
// @Router		/api/openstack-subnets/{uuid}/pull/ [post]
// @Router		/api/openstack-security-groups/{uuid}/pull/ [post]
func (m *routes) pullObject(k Kind) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, k)
		if err != nil {
			return err
		}
		if o.State != models.CoreOK && o.State != models.CoreErred {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK, ERRED.")
		}
		if err := requireBackend(o); err != nil {
			return err
		}
		err = startPull(context.WithoutCancel(c.Request.Context()), m.tc, k, o.UUID)
		if errors.Is(err, ErrPullRunning) {
			return models.Errorf(models.CodeConflict, "Pull operation is already in progress.")
		} else if err != nil {
			return err
		}
		return rest.Render(c, http.StatusAccepted, gin.H{"detail": "Pull operation was successfully scheduled."})
	}
}

// @Summary	Pull an OpenStack tenant's quotas, security groups or floating IPs
// @Description	Runs the tenant's pull (which reads them all); a pull running already does it. The tenant must be OK and in the cloud (409). 202: {"status": "Quotas pull has been scheduled."}, {"status": "Security groups pull has been scheduled."}; pull_floating_ips answers no body.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-tenants/{uuid}/pull_quotas/ [post]
// @Router		/api/openstack-tenants/{uuid}/pull_security_groups/ [post]
// @Router		/api/openstack-tenants/{uuid}/pull_floating_ips/ [post]
func (m *routes) tenantPart(answer gin.H) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, KindTenant)
		if err != nil {
			return err
		}
		if err := requireOK(o.State); err != nil {
			return err
		}
		if err := requireBackend(o); err != nil {
			return err
		}
		if err := startPull(context.WithoutCancel(c.Request.Context()), m.tc, KindTenant, o.UUID); err != nil && !errors.Is(err, ErrPullRunning) {
			return err
		}
		if answer == nil {
			c.Status(http.StatusAccepted)
			return nil
		}
		return rest.Render(c, http.StatusAccepted, answer)
	}
}
