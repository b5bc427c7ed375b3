package openstack

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
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

// The objects' actions (Waldur's structure actions): update (PUT/PATCH) and
// the POST actions of tenants, instances and volumes. An action that
// changes the cloud is scheduled on the object (409 "Valid states for
// operation: OK." when it is busy, and nothing changes) and run by
// OpenStackAction on the openstack queue; the answer is Waldur's: 202
// {"status": "<action> was scheduled"}, or the object (update). Who may:
// Waldur's is_administrator (staff, the customer's owner, the project's
// manager or administrator); set_ok, set_erred and unlink are staff's. An
// object the caller cannot see is a 404.

// adminRoles are the roles of Waldur's is_administrator.
var adminRoles = map[string]bool{models.RoleCustomerOwner: true, "PROJECT.ADMIN": true, "PROJECT.MANAGER": true}

// actionRoutes registers the actions of the three kinds.
func (m *routes) actionRoutes(a *gin.RouterGroup) {
	for _, k := range actionKinds {
		g := a.Group("/"+k.collection(), api.RequireUser)
		g.PUT("/:uuid/", api.H(m.update(k, false)))
		g.PATCH("/:uuid/", api.H(m.update(k, true)))
		g.POST("/:uuid/set_ok/", api.H(m.setState(k, models.CoreOK)))
		g.POST("/:uuid/set_erred/", api.H(m.setState(k, models.CoreErred)))
		g.POST("/:uuid/unlink/", api.H(m.unlink(k)))
	}
	in := a.Group("/openstack-instances", api.RequireUser)
	in.POST("/:uuid/start/", api.H(m.instancePower("start", "SHUTOFF")))
	in.POST("/:uuid/stop/", api.H(m.instancePower("stop", "ACTIVE")))
	in.POST("/:uuid/restart/", api.H(m.instancePower("restart", "ACTIVE")))
	in.POST("/:uuid/change_flavor/", api.H(m.changeFlavor))
	in.GET("/:uuid/console_log/", api.H(m.consoleLog))
	vol := a.Group("/openstack-volumes", api.RequireUser)
	vol.POST("/:uuid/extend/", api.H(m.extendVolume))
	vol.POST("/:uuid/attach/", api.H(m.attachVolume))
	vol.POST("/:uuid/detach/", api.H(m.detachVolume))
	vol.POST("/:uuid/retype/", api.H(m.retypeVolume))
}

// object loads the object of the path if the caller sees it (404 otherwise).
func (m *routes) object(c *gin.Context, k Kind) (*ActionObject, error) {
	switch {
	case slices.Contains(l3Kinds, k):
		return m.l3Object(c, k)
	case slices.Contains(storageKinds, k):
		return m.storageObject(c, k)
	}
	id, err := api.PathUUID(c, k.Noun())
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	switch k {
	case KindTenant:
		_, err = m.db.VisibleTenant(ctx, id)
	case KindInstance:
		_, err = m.db.VisibleInstance(ctx, id)
	case KindSecurityGroup:
		_, err = m.db.VisibleCatalogItem(ctx, CatalogSecurityGroups, id)
	case KindNetwork:
		_, err = m.db.VisibleCatalogItem(ctx, CatalogNetworks, id)
	case KindSubnet:
		_, err = m.db.VisibleCatalogItem(ctx, CatalogSubnets, id)
	default:
		_, err = m.db.VisibleVolume(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return m.db.ActionObjectByUUID(ctx, k, id)
}

// staffOnly loads the object (404 when the caller does not see it) and
// lets staff alone go on (403).
func (m *routes) staffOnly(c *gin.Context, k Kind) (*ActionObject, error) {
	o, err := m.object(c, k)
	if err != nil {
		return nil, err
	}
	if !api.CurrentUser(c).IsStaff {
		return nil, api.Forbidden()
	}
	return o, nil
}

// administered loads the object and checks Waldur's is_administrator.
func (m *routes) administered(c *gin.Context, k Kind) (*ActionObject, error) {
	o, err := m.object(c, k)
	if err != nil {
		return nil, err
	}
	return o, m.isAdministrator(c, o)
}

// isAdministrator is Waldur's is_administrator on o's project (403).
func (m *routes) isAdministrator(c *gin.Context, o *ActionObject) error {
	u := api.CurrentUser(c)
	if u.IsStaff {
		return nil
	}
	if m.rbac == nil {
		return api.Forbidden()
	}
	roles, err := m.rbac.RolesOn(c.Request.Context(), u.ID,
		models.Scope{Type: models.ScopeProject, ID: o.ProjectID}, models.Scope{Type: models.ScopeCustomer, ID: o.CustomerID})
	if err != nil {
		return models.Internal(err)
	}
	for _, r := range roles {
		if adminRoles[r] {
			return nil
		}
	}
	return api.Forbidden()
}

// schedule records the action on the object and starts its run.
func (m *routes) schedule(c *gin.Context, o *ActionObject, a ScheduledAction) error {
	ctx := c.Request.Context()
	if _, err := m.db.ScheduleAction(ctx, o.Kind, o.ID, a); err != nil {
		return err
	}
	m.start(c, o, a.Action)
	return nil
}

// start starts the run of an action recorded on the object's row.
func (m *routes) start(c *gin.Context, o *ActionObject, action string) {
	in := ActionInput{Kind: o.Kind, UUID: o.UUID, Action: action}
	if err := startAction(context.WithoutCancel(c.Request.Context()), m.tc, in); err != nil {
		// The row is the outbox: the dispatcher starts the run.
		slog.Warn("starting an OpenStack action failed; the dispatcher will", "object", o.UUID.String(), "action", action, "error", err)
	}
}

// scheduled is Waldur's answer to a scheduled action.
func scheduled(c *gin.Context, action string) error {
	return rest.Render(c, http.StatusAccepted, gin.H{"status": action + " was scheduled"})
}

// requireOK is Waldur's StateValidator(OK): 409 unless the object is OK.
func requireOK(s models.CoreState) error {
	if s != models.CoreOK {
		return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
	}
	return nil
}

// bodyRef reads the request body's one required hyperlink field (400 with
// the field's error otherwise).
func bodyRef(c *gin.Context, field, collection string) (models.UUID, error) {
	f, err := form.Read(c)
	if err != nil {
		return models.NilUUID, err
	}
	ref, _ := f.Ref(field, collection, false, true)
	return ref, f.Err()
}

// requireRuntime is Waldur's RuntimeStateValidator: 409 unless the
// object's backend state is one of states.
func requireRuntime(o *ActionObject, states ...string) error {
	for _, s := range states {
		if o.RuntimeState == s {
			return nil
		}
	}
	msg := "Valid runtime states for operation: "
	for i, s := range states {
		if i > 0 {
			msg += ", "
		}
		msg += s
	}
	return models.Errorf(models.CodeConflict, "%s.", msg)
}

// @Summary	Update an OpenStack tenant, instance or volume
// @Description	Renames the object or changes its description here at once and in the cloud (an update action: UPDATE_SCHEDULED, then OK); 409 while the object is not OK.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	map[string]any
// @Router		/api/openstack-instances/{uuid}/ [put]
// @Router		/api/openstack-instances/{uuid}/ [patch]
// @Router		/api/openstack-volumes/{uuid}/ [put]
// @Router		/api/openstack-volumes/{uuid}/ [patch]
// @Router		/api/openstack-tenants/{uuid}/ [put]
// @Router		/api/openstack-tenants/{uuid}/ [patch]
// @Router		/api/openstack-security-groups/{uuid}/ [put]
// @Router		/api/openstack-security-groups/{uuid}/ [patch]
// @Router		/api/openstack-networks/{uuid}/ [put]
// @Router		/api/openstack-networks/{uuid}/ [patch]
// @Router		/api/openstack-subnets/{uuid}/ [put]
// @Router		/api/openstack-subnets/{uuid}/ [patch]
func (m *routes) update(k Kind, partial bool) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, k)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		if !partial {
			f.Require("name")
		}
		set := map[string]any{}
		if f.Has("name") {
			if v, ok := f.Str("name", 150, false); ok {
				set["name"] = v
				if k.inTenant() {
					col, parent := "tenant_id", o.TenantID
					if k == KindSubnet {
						col = "network_id"
						if parent, err = columnOf[int64](c.Request.Context(), m.db, k, o.ID, "network_id"); err != nil {
							return err
						}
					}
					if err := m.uniqueName(c, f, k, col, parent, o.ID, v); err != nil {
						return err
					}
				}
			}
		}
		maxDesc := 2000
		if k.inTenant() {
			maxDesc = 4096
		}
		if f.Has("description") {
			if v, ok := f.Str("description", maxDesc, true); ok {
				set["description"] = v
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if len(set) > 0 {
			if err := m.schedule(c, o, ScheduledAction{Action: "update", Set: set}); err != nil {
				return err
			}
		}
		switch k {
		case KindSecurityGroup:
			return m.renderNameDescription(c, k, o.ID)
		case KindNetwork:
			return m.getNetwork(c)
		case KindSubnet:
			return m.getSubnet(c)
		case KindTenant:
			return m.getTenant(c)
		case KindInstance:
			return m.getInstance(c)
		}
		return m.getVolume(c)
	}
}

// @Summary	Mark an OpenStack object OK or erred (staff)
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/set_ok/ [post]
// @Router		/api/openstack-instances/{uuid}/set_erred/ [post]
// @Router		/api/openstack-volumes/{uuid}/set_ok/ [post]
// @Router		/api/openstack-volumes/{uuid}/set_erred/ [post]
// @Router		/api/openstack-tenants/{uuid}/set_ok/ [post]
// @Router		/api/openstack-tenants/{uuid}/set_erred/ [post]
// @Router		/api/openstack-security-groups/{uuid}/set_ok/ [post]
// @Router		/api/openstack-security-groups/{uuid}/set_erred/ [post]
// @Router		/api/openstack-networks/{uuid}/set_ok/ [post]
// @Router		/api/openstack-networks/{uuid}/set_erred/ [post]
// @Router		/api/openstack-subnets/{uuid}/set_ok/ [post]
// @Router		/api/openstack-subnets/{uuid}/set_erred/ [post]
// @Router		/api/openstack-ports/{uuid}/set_ok/ [post]
// @Router		/api/openstack-ports/{uuid}/set_erred/ [post]
// @Router		/api/openstack-routers/{uuid}/set_ok/ [post]
// @Router		/api/openstack-routers/{uuid}/set_erred/ [post]
// @Router		/api/openstack-floating-ips/{uuid}/set_ok/ [post]
// @Router		/api/openstack-floating-ips/{uuid}/set_erred/ [post]
// @Router		/api/openstack-server-groups/{uuid}/set_ok/ [post]
// @Router		/api/openstack-server-groups/{uuid}/set_erred/ [post]
// @Router		/api/openstack-snapshots/{uuid}/set_ok/ [post]
// @Router		/api/openstack-snapshots/{uuid}/set_erred/ [post]
// @Router		/api/openstack-backups/{uuid}/set_ok/ [post]
// @Router		/api/openstack-backups/{uuid}/set_erred/ [post]
func (m *routes) setState(k Kind, state models.CoreState) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.staffOnly(c, k)
		if err != nil {
			return err
		}
		if err := m.db.SetObjectState(c.Request.Context(), k, o.ID, state); err != nil {
			return err
		}
		status := "ok"
		if state == models.CoreErred {
			status = "erred"
		}
		return rest.Render(c, http.StatusOK, gin.H{"status": "state has been set to " + status})
	}
}

// @Summary	Forget an OpenStack object without touching the cloud (staff)
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	204
// @Router		/api/openstack-instances/{uuid}/unlink/ [post]
// @Router		/api/openstack-volumes/{uuid}/unlink/ [post]
// @Router		/api/openstack-tenants/{uuid}/unlink/ [post]
// @Router		/api/openstack-security-groups/{uuid}/unlink/ [post]
// @Router		/api/openstack-networks/{uuid}/unlink/ [post]
// @Router		/api/openstack-subnets/{uuid}/unlink/ [post]
// @Router		/api/openstack-ports/{uuid}/unlink/ [post]
// @Router		/api/openstack-floating-ips/{uuid}/unlink/ [post]
// @Router		/api/openstack-server-groups/{uuid}/unlink/ [post]
// @Router		/api/openstack-snapshots/{uuid}/unlink/ [post]
// @Router		/api/openstack-backups/{uuid}/unlink/ [post]
func (m *routes) unlink(k Kind) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.staffOnly(c, k)
		if err != nil {
			return err
		}
		if err := m.db.UnlinkObject(c.Request.Context(), k, o.ID); err != nil {
			return err
		}
		return api.NoContent(c)
	}
}

// @Summary	Start, stop or restart an OpenStack instance
// @Description	202 {"status": "start was scheduled"}; 409 unless the instance is OK and its server SHUTOFF (start) or ACTIVE (stop, restart).
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/start/ [post]
// @Router		/api/openstack-instances/{uuid}/stop/ [post]
// @Router		/api/openstack-instances/{uuid}/restart/ [post]
func (m *routes) instancePower(action, runtime string) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, KindInstance)
		if err != nil {
			return err
		}
		if err := requireOK(o.State); err != nil {
			return err
		}
		if err := requireRuntime(o, runtime); err != nil {
			return err
		}
		if err := m.schedule(c, o, ScheduledAction{Action: action}); err != nil {
			return err
		}
		return scheduled(c, action)
	}
}

// @Summary	Change an OpenStack instance's flavor
// @Description	The instance must be OK and stopped (SHUTOFF); the flavor one of its tenant's, not the current one. 202.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-instances/{uuid}/change_flavor/ [post]
func (m *routes) changeFlavor(c *gin.Context) error {
	o, err := m.administered(c, KindInstance)
	if err != nil {
		return err
	}
	ref, err := bodyRef(c, "flavor", "openstack-flavors")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	fl, err := m.db.Flavor(ctx, o.TenantID, ref.String())
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("flavor", "New flavor is not within the same service settings")
	} else if err != nil {
		return err
	}
	if cur, err := columnOf[string](ctx, m.db, KindInstance, o.ID, "flavor_name"); err != nil {
		return err
	} else if cur == fl.Name {
		return models.FieldError("flavor", "New flavor is the same as current.")
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := requireRuntime(o, "SHUTOFF"); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "change_flavor",
		Details: map[string]any{"flavor_uuid": ref.String(), "flavor_name": fl.Name}}); err != nil {
		return err
	}
	return scheduled(c, "change_flavor")
}

// @Summary	An OpenStack instance's console output
// @Description	The last lines of the server's console (length: how many; all when absent), read from the cloud.
// @Tags		openstack-instances
// @Param		uuid	path	string	true	"UUID"
// @Param		length	query	int		false	"Lines"
// @Success	200	{string}	string
// @Router		/api/openstack-instances/{uuid}/console_log/ [get]
func (m *routes) consoleLog(c *gin.Context) error {
	o, err := m.administered(c, KindInstance)
	if err != nil {
		return err
	}
	length := 0
	if v := rest.Last(c, "length"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return models.FieldError("length", "A valid integer is required.")
		}
		length = n
	}
	if o.BackendID == "" {
		return models.Errorf(models.CodeConflict, "The instance has no server in the cloud yet.")
	}
	if m.tc == nil {
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 90*time.Second)
	defer cancel()
	run, err := m.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.QueueCore, WorkflowExecutionTimeout: 2 * time.Minute},
		OpenStackRead, ActionInput{Kind: KindInstance, UUID: o.UUID, Action: "console_log", Length: length})
	if err != nil {
		return models.Errorf(models.CodeUnavailable, "%s", workflows.MsgTemporalUnavailable)
	}
	var res ActionResult
	if err := run.Get(ctx, &res); err != nil {
		msg, _ := workflows.FailureOf(err)
		return models.Errorf(models.CodeConflict, "Unable to read the console log: %s", msg)
	}
	return rest.Render(c, http.StatusOK, res.Output)
}

// @Summary	Extend an OpenStack volume
// @Description	disk_size in MiB, larger than the current size; the volume must be OK. 202.
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-volumes/{uuid}/extend/ [post]
func (m *routes) extendVolume(c *gin.Context) error {
	o, err := m.administered(c, KindVolume)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("disk_size")
	size, _ := f.Int("disk_size", 1, 1<<40, false)
	if err := f.Err(); err != nil {
		return err
	}
	cur, err := columnOf[int64](c.Request.Context(), m.db, KindVolume, o.ID, "size")
	if err != nil {
		return err
	}
	if *size <= cur {
		return models.FieldError("disk_size", "Disk size should be greater than "+strconv.FormatInt(cur, 10))
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "extend", Details: map[string]any{"size": *size}}); err != nil {
		return err
	}
	return scheduled(c, "extend")
}

// @Summary	Attach an OpenStack volume to an instance
// @Description	The volume must be OK and available, the instance of the same tenant and project. 202.
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-volumes/{uuid}/attach/ [post]
func (m *routes) attachVolume(c *gin.Context) error {
	o, err := m.administered(c, KindVolume)
	if err != nil {
		return err
	}
	ref, err := bodyRef(c, "instance", "openstack-instances")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	in, err := m.db.ActionObjectByUUID(ctx, KindInstance, ref)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("instance", rest.MsgDoesNotExist)
	} else if err != nil {
		return err
	}
	if in.TenantID != o.TenantID || in.ProjectID != o.ProjectID {
		return models.FieldError("instance", "Volume and instance should belong to the same service and project.")
	}
	if in.BackendID == "" {
		return models.FieldError("instance", "The instance has no server in the cloud yet.")
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := requireRuntime(o, "available"); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "attach", Details: map[string]any{"instance_uuid": in.UUID.String()}}); err != nil {
		return err
	}
	return scheduled(c, "attach")
}

// @Summary	Detach an OpenStack volume from its instance
// @Description	The volume must be OK and in use. 202.
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-volumes/{uuid}/detach/ [post]
func (m *routes) detachVolume(c *gin.Context) error {
	o, err := m.administered(c, KindVolume)
	if err != nil {
		return err
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := requireRuntime(o, "in-use"); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "detach"}); err != nil {
		return err
	}
	return scheduled(c, "detach")
}

// @Summary	Change an OpenStack volume's type
// @Description	type: one of the tenant's volume types, not the current one; the volume must be OK. 202.
// @Tags		openstack-volumes
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-volumes/{uuid}/retype/ [post]
func (m *routes) retypeVolume(c *gin.Context) error {
	o, err := m.administered(c, KindVolume)
	if err != nil {
		return err
	}
	ref, err := bodyRef(c, "type", "openstack-volume-types")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	vt, err := m.db.VolumeType(ctx, o.TenantID, ref.String())
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("type", "Volume type is not within the same service settings.")
	} else if err != nil {
		return err
	}
	if cur, err := columnOf[string](ctx, m.db, KindVolume, o.ID, "type_name"); err != nil {
		return err
	} else if cur == vt.Name {
		return models.FieldError("type", "Volume already has this type.")
	}
	if err := requireOK(o.State); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "retype", Details: map[string]any{"type_name": vt.Name}}); err != nil {
		return err
	}
	return scheduled(c, "retype")
}
