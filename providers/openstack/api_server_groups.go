package openstack

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The server groups, snapshots and backups of the tenants (Waldur's
// openstack-server-groups, -snapshots and -backups): listed and retrieved
// by whoever sees their tenant; made (a tenant's create_server_group, a
// volume's snapshot, an instance's backup), changed, pulled and deleted
// through the action machinery as the security groups are: the row at
// once (CREATION_SCHEDULED, with a placeholder backend id), the cloud by
// OpenStackAction on the openstack queue. Who may: Waldur's
// is_administrator on the tenant's project; set_ok, set_erred and unlink
// are staff's.

// storageRoutes registers the three collections and their actions.
func (m *routes) storageRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	for _, r := range []struct {
		k         Kind
		list, one api.Handler
	}{
		{KindServerGroup, m.listServerGroups, m.getServerGroup},
		{KindSnapshot, m.listSnapshots, m.getSnapshot},
		{KindBackup, m.listBackups, m.getBackup},
	} {
		g := a.Group("/"+r.k.collection(), api.RequireUser)
		g.Match(get, "/", api.H(r.list))
		g.Match(get, "/:uuid/", api.H(r.one))
		g.DELETE("/:uuid/", api.H(m.deleteObject(r.k)))
		g.POST("/:uuid/pull/", api.H(m.pullStorage(r.k)))
		g.POST("/:uuid/set_ok/", api.H(m.setState(r.k, models.CoreOK)))
		g.POST("/:uuid/set_erred/", api.H(m.setState(r.k, models.CoreErred)))
		g.POST("/:uuid/unlink/", api.H(m.unlink(r.k)))
		if r.k != KindServerGroup { // Nova's groups cannot be renamed
			g.PUT("/:uuid/", api.H(m.updateStorage(r.k, false)))
			g.PATCH("/:uuid/", api.H(m.updateStorage(r.k, true)))
		}
	}
	t := a.Group("/openstack-tenants", api.RequireUser)
	t.POST("/:uuid/create_server_group/", api.H(m.createServerGroup))
	t.POST("/:uuid/pull_server_groups/", api.H(m.pullServerGroups))
	a.POST("/openstack-volumes/:uuid/snapshot/", api.RequireUser, api.H(m.createSnapshot))
	sn := a.Group("/openstack-snapshots", api.RequireUser)
	sn.POST("/:uuid/restore/", api.H(m.restoreSnapshot))
	sn.Match(get, "/:uuid/restorations/", api.H(m.snapshotRestorations))
	a.POST("/openstack-instances/:uuid/backup/", api.RequireUser, api.H(m.createBackup))
}

// storageObject loads the object of the path if the caller sees it (404 otherwise).
func (m *routes) storageObject(c *gin.Context, k Kind) (*ActionObject, error) {
	id, err := api.PathUUID(c, k.Noun())
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	if _, err := m.db.VisibleStorage(ctx, k, id); err != nil {
		return nil, err
	}
	return m.db.ActionObjectByUUID(ctx, k, id)
}

// renderStorage answers the object as GET renders it.
func (m *routes) renderStorage(c *gin.Context, k Kind, status int, id models.UUID) error {
	v, err := m.db.VisibleStorage(c.Request.Context(), k, id)
	if err != nil {
		return err
	}
	switch k {
	case KindServerGroup:
		return rest.Render(c, status, renderServerGroup(c, v))
	case KindSnapshot:
		rs, err := m.db.RestorationsOf(c.Request.Context(), []int64{v.ID})
		if err != nil {
			return err
		}
		return rest.Render(c, status, renderSnapshot(c, v, rs[v.ID]))
	}
	return rest.Render(c, status, renderBackup(c, v))
}

// storageFilter decodes the lists' filters.
func storageFilter(c *gin.Context) (StorageFilter, error) {
	f := StorageFilter{RuntimeState: rest.Last(c, "runtime_state")}
	var err error
	if f.Filter, err = filter(c, true); err != nil {
		return f, err
	}
	for key, dst := range map[string]*[]models.UUID{"source_volume_uuid": &f.SourceVolumeUUIDs, "backup_uuid": &f.BackupUUIDs,
		"instance_uuid": &f.InstanceUUIDs} {
		if *dst, err = rest.UUIDs(c, key); err != nil {
			return f, err
		}
	}
	return f, nil
}

var storageOrdering = map[string]string{"created": "x.created", "state": "x.state"}

// ServerGroup is the OpenAPI OpenStackServerGroup shape.
type ServerGroup struct {
	Common
	Tenant      string        `json:"tenant"`
	TenantName  string        `json:"tenant_name"`
	TenantUUID  models.UUID   `json:"tenant_uuid"`
	Policy      string        `json:"policy"`
	DisplayName string        `json:"display_name"`
	Instances   []NestedEmpty `json:"instances"`
}

// NestedEmpty stands for nested lists this implementation keeps empty.
type NestedEmpty struct{}

// storageCommon renders the shared fields of a server group, snapshot or backup.
func storageCommon(c *gin.Context, k Kind, v *StorageView) Common {
	backendID := v.BackendID
	if isPending(backendID) {
		backendID = "" // not made in the cloud yet
	}
	out := common(c, k.collection(), v.UUID, v.Name, v.Description, v.State, backendID, v.ErrorMessage, v.Created, v.Modified,
		storageOfferingTypes[k], &v.RowContext)
	out.Marketplace = Marketplace{} // the tenant's resource, not this one's
	return out
}

func renderServerGroup(c *gin.Context, v *StorageView) ServerGroup {
	return ServerGroup{Common: storageCommon(c, KindServerGroup, v), Tenant: rest.URL(c, "openstack-tenants", v.TenantUUID),
		TenantName: v.TenantName, TenantUUID: v.TenantUUID, Policy: v.Policy, DisplayName: v.Name, Instances: []NestedEmpty{}}
}

// @Summary	List server groups of OpenStack tenants
// @Tags		openstack-server-groups
// @Param		name			query	string		false	"Name contains"
// @Param		tenant_uuid		query	string		false	"Tenant"
// @Param		project_uuid	query	string		false	"Project"
// @Param		state			query	[]string	false	"State (repeatable)"
// @Success	200	{array}	ServerGroup
// @Router		/api/openstack-server-groups/ [get]
func (m *routes) listServerGroups(c *gin.Context) error {
	f, err := storageFilter(c)
	if err != nil {
		return err
	}
	q, err := m.db.StorageQuery(c.Request.Context(), KindServerGroup, f)
	if err != nil {
		return err
	}
	return rest.List(c, q, spec("x", storageOrdering), func(v *StorageView) ServerGroup { return renderServerGroup(c, v) })
}

// @Summary	Get a server group
// @Tags		openstack-server-groups
// @Param		uuid	path	string	true	"Server group UUID"
// @Success	200	{object}	ServerGroup
// @Router		/api/openstack-server-groups/{uuid}/ [get]
func (m *routes) getServerGroup(c *gin.Context) error {
	id, err := api.PathUUID(c, KindServerGroup.Noun())
	if err != nil {
		return err
	}
	return m.renderStorage(c, KindServerGroup, http.StatusOK, id)
}

// serverGroupPolicies are Waldur's PolicyEnum.
var serverGroupPolicies = map[string]bool{"affinity": true, "anti-affinity": true, "soft-affinity": true, "soft-anti-affinity": true}

// @Summary	Create a server group in an OpenStack tenant
// @Description	name, description, policy (affinity, anti-affinity, soft-affinity, soft-anti-affinity; blank: affinity). The group is answered at once (201, CREATION_SCHEDULED) and made in Nova with its policy (OK, with its backend id), or ERRED. 409 unless the tenant is OK; 400 for a name another group of the tenant has.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	ServerGroup
// @Router		/api/openstack-tenants/{uuid}/create_server_group/ [post]
func (m *routes) createServerGroup(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	policy, _ := f.Choice("policy", serverGroupPolicies, true)
	if name != "" {
		if err := m.uniqueName(c, f, KindServerGroup, "tenant_id", t.ID, 0, name); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	o, err := m.db.CreateObject(c.Request.Context(), KindServerGroup, t.ID,
		map[string]any{"name": name, "description": desc, "policy": firstNonEmpty(policy, "affinity")}, nil)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	return m.renderStorage(c, KindServerGroup, http.StatusCreated, o.UUID)
}

// @Summary	Pull an OpenStack tenant's server groups
// @Description	The tenant's server groups are read from Nova (a pull_server_groups action on the tenant: UPDATE_SCHEDULED, UPDATING, OK): groups made behind Waldur's back are imported, those gone are removed, the others take the cloud's name and policy. 202 {"status": "Server groups pull has been scheduled."}; 409 unless the tenant is OK and in the cloud.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-tenants/{uuid}/pull_server_groups/ [post]
func (m *routes) pullServerGroups(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	if err := requireBackend(t); err != nil {
		return err
	}
	if err := m.schedule(c, t, ScheduledAction{Action: "pull_server_groups"}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Server groups pull has been scheduled."})
}

// @Summary	Update an OpenStack snapshot or backup
// @Description	name, description, kept_until. The name and description are changed here at once and in the cloud (an update action: UPDATE_SCHEDULED, then OK); 409 while the object is not OK.
// @Tags		openstack-snapshots
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	VolumeSnapshot
// @Router		/api/openstack-snapshots/{uuid}/ [put]
// @Router		/api/openstack-snapshots/{uuid}/ [patch]
// @Router		/api/openstack-backups/{uuid}/ [put]
// @Router		/api/openstack-backups/{uuid}/ [patch]
func (m *routes) updateStorage(k Kind, partial bool) api.Handler {
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
			}
		}
		if f.Has("description") {
			if v, ok := f.Str("description", 4096, true); ok {
				set["description"] = v
			}
		}
		if f.Has("kept_until") {
			if v, ok := f.Datetime("kept_until", true, false); ok {
				set["kept_until"] = v
			}
		}
		if k == KindSnapshot && f.Has("metadata") {
			if raw, ok := f.Raw("metadata"); ok {
				set["metadata"] = []byte(raw)
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
		return m.renderStorage(c, k, http.StatusOK, o.UUID)
	}
}

// @Summary	Pull an OpenStack server group, snapshot or backup from the cloud
// @Description	The object is read back from the cloud (a pull action: UPDATE_SCHEDULED, UPDATING, then OK with what was read; ERRED when it is gone). 202 {"detail": "Pull operation was successfully scheduled."}; 409 unless the object is OK or ERRED and in the cloud.
// @Tags		openstack-server-groups
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-server-groups/{uuid}/pull/ [post]
// @Router		/api/openstack-snapshots/{uuid}/pull/ [post]
// @Router		/api/openstack-backups/{uuid}/pull/ [post]
func (m *routes) pullStorage(k Kind) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, k)
		if err != nil {
			return err
		}
		if o.State != models.CoreOK && o.State != models.CoreErred {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK, ERRED.")
		}
		if o.BackendID == "" || isPending(o.BackendID) {
			return models.Errorf(models.CodeConflict, "Resource does not have backend ID.")
		}
		if err := m.schedule(c, o, ScheduledAction{Action: "pull", From: []models.CoreState{models.CoreOK, models.CoreErred}}); err != nil {
			return err
		}
		return rest.Render(c, http.StatusAccepted, gin.H{"detail": "Pull operation was successfully scheduled."})
	}
}
