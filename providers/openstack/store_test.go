package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
)

// osWorld is a project with a tenant offering, an instance offering, and
// done Create orders of a tenant and an instance in it.
type osWorld struct {
	db                         *gorm.DB
	st                         *openstack.Store
	project, customer          int64
	tenantOffering, vmOffering int64
	tenantRes, vmRes           *models.Order
}

func seedOpenStack(t *testing.T, db *gorm.DB) *osWorld {
	ctx := context.Background()
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	w := &osWorld{db: db, st: openstack.NewStore(store.New(db))}
	w.customer = ins("customers", map[string]any{"name": "consumer", "abbreviation": "CO", "accounting_start_date": now, "created": now, "modified": now})
	w.project = ins("projects", map[string]any{"name": "p", "customer_id": w.customer, "created": now, "modified": now})
	provider := ins("customers", map[string]any{"name": "cloud", "accounting_start_date": now, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "Private clouds", "created": now, "modified": now})
	w.tenantOffering = ins("offerings", map[string]any{"name": "Tenant", "customer_id": provider, "category_id": cat, "type": openstack.OfferingTenant,
		"state": models.OfferingActive, "secret_options": `{"backend_url":"http://cloud/identity/v3","username":"admin","password":"x"}`,
		"created": now, "modified": now})
	w.vmOffering = ins("offerings", map[string]any{"name": "VM", "customer_id": provider, "category_id": cat, "type": openstack.OfferingInstance,
		"state": models.OfferingActive, "created": now, "modified": now})
	require.NoError(t, w.st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: w.customer}))
	require.NoError(t, w.st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: w.project}))
	order := func(offering int64, typ string) *models.Order {
		o, err := w.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: w.project, OfferingID: offering,
			Attributes: map[string]any{"name": "r"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: typ, CreatorHasApprove: true}})
		require.NoError(t, err)
		return o
	}
	w.tenantRes = order(w.tenantOffering, openstack.OfferingTenant)
	w.vmRes = order(w.vmOffering, openstack.OfferingInstance)
	return w
}

func (w *osWorld) count(t *testing.T, table, where string, args ...any) int64 {
	var n int64
	require.NoError(t, w.db.Table(table).Where(where, args...).Count(&n).Error)
	return n
}

func fullSnapshot(taken time.Time) openstack.Snapshot {
	return openstack.Snapshot{Taken: taken, Full: true,
		Tenant: &openstack.CloudTenant{BackendID: "proj-1", InternalNetworkID: "net-1", SubnetID: "sub-1", RouterID: "router-1",
			ExternalNetworkID: "ext", UserUsername: "t-user", UserPassword: "secret"},
		Flavors: []openstack.CloudFlavor{{BackendID: "1", Name: "m1.tiny", Cores: 1, RAM: 512, Disk: 1024},
			{BackendID: "2", Name: "m1.small", Cores: 1, RAM: 2048, Disk: 20480}},
		Images:         []openstack.CloudImage{{BackendID: "img-1", Name: "cirros", MinDisk: 1024}},
		VolumeTypes:    []openstack.CloudVolumeType{{BackendID: "vt-1", Name: "ssd"}},
		Networks:       []openstack.CloudNetwork{{BackendID: "net-1", Name: "t-int-net", MTU: 1500}},
		Subnets:        []openstack.CloudSubnet{{BackendID: "sub-1", NetworkBackendID: "net-1", Name: "t-sub-net", CIDR: "192.168.42.0/24", IPVersion: 4}},
		SecurityGroups: []openstack.CloudSecurityGroup{{BackendID: "sg-1", Name: "ssh", Rules: []openstack.CloudRule{{Direction: "ingress", Protocol: "tcp"}}}},
		Quotas:         []openstack.CloudQuota{{Name: "cores", Limit: 20, Usage: 1}},
	}
}

func server(id, resource, status string) openstack.CloudServer {
	return openstack.CloudServer{BackendID: id, Name: "vm-" + id, Status: status, FlavorName: "m1.small", Cores: 1, RAM: 2048,
		InternalIPs: []string{"192.168.42.10"}, Metadata: map[string]string{openstack.MetaResourceUUID: resource}}
}

// TestOpenStackScopes follows the plugin rows through a tenant's and an
// instance's orders: recorded once, completed with what the provider read
// back (the catalog synced on a second read), looked up by UUID, backend
// id or name, failed, and removed with the tenant, which ends the
// instance's marketplace resource.
func TestOpenStackScopes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t",
			State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		again := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t"}
		require.NoError(t, w.st.EnsureTenant(ctx, again))
		require.Equal(t, ten.UUID, again.UUID, "recorded once")
		var scope struct {
			ScopeType string
			ScopeUUID models.UUID
		}
		require.NoError(t, db.Table("resources").Select("scope_type, scope_uuid").Where("id = ?", w.tenantRes.ResourceID).Scan(&scope).Error)
		require.Equal(t, openstack.OfferingTenant, scope.ScopeType)
		require.Equal(t, ten.UUID, scope.ScopeUUID)

		snap := fullSnapshot(time.Now().UTC())
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, snap))
		got, err := w.st.TenantByRef(ctx, w.tenantRes.UUID)
		require.Error(t, err, "an order UUID is not a tenant reference")
		got, err = w.st.TenantByRef(ctx, ten.UUID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, got.State)
		require.Equal(t, "proj-1", got.BackendID)
		require.Equal(t, "sub-1", got.SubnetID)
		require.Equal(t, "secret", got.UserPassword)
		require.Equal(t, []openstack.CloudQuota{{Name: "cores", Limit: 20, Usage: 1}}, got.QuotaList())
		for table, n := range map[string]int64{"openstack_flavors": 2, "openstack_images": 1, "openstack_volume_types": 1, "openstack_networks": 1,
			"openstack_subnets": 1, "openstack_security_groups": 1, "openstack_floating_ips": 0} {
			require.Equal(t, n, w.count(t, table, "tenant_id = ?", ten.ID), table)
		}

		// Lookups by UUID, backend id or name.
		tinyUUID := rowUUID(t, db.Table("openstack_flavors").Where("backend_id = '1'"))
		for _, ref := range []string{tinyUUID.String(), "1", "m1.tiny"} {
			f, err := w.st.Flavor(ctx, ten.ID, ref)
			require.NoError(t, err, ref)
			require.Equal(t, "m1.tiny", f.Name)
		}
		_, err = w.st.Flavor(ctx, ten.ID, "m9.huge")
		require.True(t, models.IsCode(err, models.CodeNotFound))
		sub, err := w.st.Subnet(ctx, ten.ID, "t-sub-net")
		require.NoError(t, err)
		require.Equal(t, "net-1", sub.NetworkBackendID)
		byResource, err := w.st.TenantByRef(ctx, mustResourceUUID(t, db, w.tenantRes.ResourceID))
		require.NoError(t, err)
		require.Equal(t, ten.ID, byResource.ID)

		// A second read: one flavor gone, one new; rows keep their UUIDs.
		snap2 := fullSnapshot(time.Now().UTC())
		snap2.Tenant = nil
		snap2.Flavors = []openstack.CloudFlavor{snap.Flavors[0], {BackendID: "3", Name: "m1.medium", Cores: 2, RAM: 4096}}
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderUpdate, w.tenantRes.ResourceID, snap2))
		var names []string
		require.NoError(t, db.Table("openstack_flavors").Where("tenant_id = ?", ten.ID).Order("name").Pluck("name", &names).Error)
		require.Equal(t, []string{"m1.medium", "m1.tiny"}, names)
		require.Equal(t, tinyUUID, rowUUID(t, db.Table("openstack_flavors").Where("backend_id = '1'")))
		got, err = w.st.TenantByID(ctx, ten.ID)
		require.NoError(t, err)
		require.Equal(t, "proj-1", got.BackendID, "a read-back without tenant info keeps the ids")

		// The instance: recorded, completed with its server and volumes.
		vm := &openstack.InstanceRow{ResourceID: &w.vmRes.ResourceID, ProjectID: w.project, TenantID: ten.ID, Name: "vm", State: models.CoreCreating}
		require.NoError(t, w.st.EnsureInstance(ctx, vm))
		vmRes := mustResourceUUID(t, db, w.vmRes.ResourceID)
		read := openstack.Snapshot{Taken: time.Now().UTC(), Servers: []openstack.CloudServer{server("srv-1", vmRes.String(), "ACTIVE")},
			Volumes: []openstack.CloudVolume{{BackendID: "vol-sys", Name: "vm-system", Size: 10240, Bootable: true, ServerBackendID: "srv-1", Status: "in-use"},
				{BackendID: "vol-data", Name: "vm-data", Size: 5120, ServerBackendID: "srv-1", Status: "in-use"}}}
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingInstance, models.OrderCreate, w.vmRes.ResourceID, read))
		inst, err := w.st.InstanceByRef(ctx, vmRes)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, inst.State)
		require.Equal(t, "srv-1", inst.BackendID)
		require.Equal(t, "ACTIVE", inst.RuntimeState)
		require.NotNil(t, inst.StartTime)
		require.JSONEq(t, `["192.168.42.10"]`, string(inst.InternalIPs))
		require.Equal(t, int64(2), w.count(t, "openstack_volumes", "instance_id = ? AND resource_id IS NULL", inst.ID))
		require.Equal(t, int64(1), w.count(t, "openstack_flavors", "tenant_id = ? AND backend_id = '3'", ten.ID), "a read-back leaves the catalog alone")

		// A failed order: Erred with the message; the row goes once the resource was terminated.
		require.NoError(t, w.st.FailScope(ctx, openstack.OfferingInstance, w.vmRes.ResourceID, "boom"))
		inst, err = w.st.InstanceByRef(ctx, vmRes)
		require.NoError(t, err)
		require.Equal(t, models.CoreErred, inst.State)
		require.Equal(t, "boom", inst.ErrorMessage)
		require.NoError(t, w.st.SetScopeState(ctx, openstack.OfferingInstance, w.vmRes.ResourceID, models.CoreOK, ""))

		// The tenant goes, with the instance and the instance's resource.
		before := projectResourceCount(t, db, w.project)
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderTerminate, w.tenantRes.ResourceID, openstack.Snapshot{}))
		for _, table := range []string{"openstack_tenants", "openstack_instances", "openstack_volumes", "openstack_flavors", "openstack_subnets", "openstack_networks"} {
			require.Zero(t, w.count(t, table, "1 = 1"), table)
		}
		var st []models.ResourceState
		require.NoError(t, db.Table("resources").Where("id = ?", w.vmRes.ResourceID).Pluck("state", &st).Error)
		require.Equal(t, []models.ResourceState{models.ResourceTerminated}, st)
		require.Equal(t, before-1, projectResourceCount(t, db, w.project), "the instance's resource count is given back")
		require.Equal(t, int64(1), w.count(t, "events", "event_type = ?", "marketplace_resource_terminate_succeeded"))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderTerminate, w.tenantRes.ResourceID, openstack.Snapshot{}),
			"removing again is a no-op")
	})
}

func mustResourceUUID(t *testing.T, db *gorm.DB, id int64) models.UUID {
	return rowUUID(t, db.Table("resources").Where("id = ?", id))
}

func rowUUID(t *testing.T, q *gorm.DB) models.UUID {
	var us []models.UUID
	require.NoError(t, q.Pluck("uuid", &us).Error)
	require.Len(t, us, 1)
	return us[0]
}

func projectResourceCount(t *testing.T, db *gorm.DB, project int64) int64 {
	var ns []int64
	require.NoError(t, db.Table("quotas").Where("scope_type = 'project' AND scope_id = ? AND name = ?", project, models.QuotaResourceCount).Pluck("usage", &ns).Error)
	require.Len(t, ns, 1)
	return ns[0]
}

// TestOpenStackPull: a pull records backend states; an instance deleted
// behind Waldur's back is Erred with its marketplace resource and an
// event; one in ERROR likewise; unknown servers and volumes are imported;
// an instance whose order is in flight is neither erred nor imported; a
// snapshot taken before the row last changed errs nothing; a tenant gone
// from the cloud is Erred.
func TestOpenStackPull(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t", State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(time.Now().UTC())))
		targets, err := w.st.TenantsToPull(ctx)
		require.NoError(t, err)
		require.Len(t, targets, 1)
		require.Equal(t, "proj-1", targets[0].BackendID)
		require.Equal(t, "admin", targets[0].SecretOptions["username"])

		vm := &openstack.InstanceRow{ResourceID: &w.vmRes.ResourceID, ProjectID: w.project, TenantID: ten.ID, Name: "vm", State: models.CoreCreating}
		require.NoError(t, w.st.EnsureInstance(ctx, vm))
		vmRes := mustResourceUUID(t, db, w.vmRes.ResourceID)
		require.NoError(t, db.Table("resources").Where("id = ?", w.vmRes.ResourceID).Update("state", models.ResourceOK).Error)

		// In flight: a server carrying the resource's UUID, no backend id recorded yet.
		snap := fullSnapshot(time.Now().UTC().Add(time.Second))
		snap.Servers = []openstack.CloudServer{server("srv-1", vmRes.String(), "BUILD"), server("stray", "", "ACTIVE")}
		snap.Volumes = []openstack.CloudVolume{{BackendID: "vol-x", Name: "orphan", Size: 1024, Status: "available"}}
		rep, err := w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"vm-stray", "orphan"}, rep.Imported)
		require.Empty(t, rep.Erred)
		require.Equal(t, int64(2), w.count(t, "events", "event_type = ?", "resource_import_succeeded"))
		require.Equal(t, int64(1), w.count(t, "openstack_instances", "backend_id = 'stray' AND resource_id IS NULL"))
		rep, err = w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		require.Empty(t, rep.Imported, "imported once")

		// The order completes; a snapshot taken before that errs nothing.
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingInstance, models.OrderCreate, w.vmRes.ResourceID,
			openstack.Snapshot{Servers: []openstack.CloudServer{server("srv-1", vmRes.String(), "ACTIVE")}}))
		stale := fullSnapshot(time.Now().UTC().Add(-time.Minute))
		rep, err = w.st.ApplyPull(ctx, ten.UUID, stale)
		require.NoError(t, err)
		require.Empty(t, rep.Erred, "a snapshot older than the instance's last change")
		require.Equal(t, 1, rep.Removed, "the stray server is gone from that snapshot")

		// Deleted behind Waldur's back.
		gone := fullSnapshot(time.Now().UTC().Add(time.Second))
		rep, err = w.st.ApplyPull(ctx, ten.UUID, gone)
		require.NoError(t, err)
		require.Equal(t, []string{"vm"}, rep.Erred)
		inst, err := w.st.InstanceByRef(ctx, vmRes)
		require.NoError(t, err)
		require.Equal(t, models.CoreErred, inst.State)
		require.Contains(t, inst.ErrorMessage, "is gone from the backend")
		var res struct {
			State        models.ResourceState
			ErrorMessage string
		}
		require.NoError(t, db.Table("resources").Select("state, error_message").Where("id = ?", w.vmRes.ResourceID).Scan(&res).Error)
		require.Equal(t, models.ResourceErred, res.State)
		require.Contains(t, res.ErrorMessage, "srv-1")
		require.Equal(t, int64(1), w.count(t, "events", "event_type = ?", "marketplace_resource_erred_on_backend"))
		rep, err = w.st.ApplyPull(ctx, ten.UUID, gone)
		require.NoError(t, err)
		require.Empty(t, rep.Erred, "reported once")

		// The tenant gone from the cloud.
		rep, err = w.st.ApplyPull(ctx, ten.UUID, openstack.Snapshot{Taken: time.Now().UTC().Add(time.Second), Gone: true})
		require.NoError(t, err)
		require.Equal(t, []string{"t"}, rep.Erred)
		got, err := w.st.TenantByID(ctx, ten.ID)
		require.NoError(t, err)
		require.Equal(t, models.CoreErred, got.State)
		_, err = w.st.ApplyPull(ctx, models.NewUUID(), gone)
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}

// TestOpenStackServerError: an OK instance found in ERROR is Erred with the fault.
func TestOpenStackServerError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		ten := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: "t", State: models.CoreCreating}
		require.NoError(t, w.st.EnsureTenant(ctx, ten))
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, w.tenantRes.ResourceID, fullSnapshot(time.Now().UTC())))
		vm := &openstack.InstanceRow{ResourceID: &w.vmRes.ResourceID, ProjectID: w.project, TenantID: ten.ID, Name: "vm", State: models.CoreCreating}
		require.NoError(t, w.st.EnsureInstance(ctx, vm))
		vmRes := mustResourceUUID(t, db, w.vmRes.ResourceID)
		require.NoError(t, db.Table("resources").Where("id = ?", w.vmRes.ResourceID).Update("state", models.ResourceOK).Error)
		require.NoError(t, w.st.CompleteScope(ctx, openstack.OfferingInstance, models.OrderCreate, w.vmRes.ResourceID,
			openstack.Snapshot{Servers: []openstack.CloudServer{server("srv-1", vmRes.String(), "ACTIVE")}}))
		snap := fullSnapshot(time.Now().UTC().Add(time.Second))
		broken := server("srv-1", vmRes.String(), "ERROR")
		broken.Fault = "hypervisor on fire"
		snap.Servers = []openstack.CloudServer{broken}
		rep, err := w.st.ApplyPull(ctx, ten.UUID, snap)
		require.NoError(t, err)
		require.Equal(t, []string{"vm"}, rep.Erred)
		inst, err := w.st.InstanceByRef(ctx, vmRes)
		require.NoError(t, err)
		require.Equal(t, models.CoreErred, inst.State)
		require.Equal(t, "ERROR", inst.RuntimeState)
		require.Contains(t, inst.ErrorMessage, "hypervisor on fire")

		// Views: the instance with its tenant, project and customer.
		var views []openstack.InstanceView
		require.NoError(t, w.st.InstanceViews(ctx).Find(&views).Error)
		require.Len(t, views, 1)
		require.Equal(t, "t", views[0].TenantName)
		require.Equal(t, "consumer", views[0].CustomerName)
		require.Equal(t, "CO", views[0].CustomerAbbreviation)
		require.NotNil(t, views[0].ResourceUUID)
		require.Equal(t, vmRes, *views[0].ResourceUUID)
		require.NotNil(t, views[0].OfferingName)
		require.Equal(t, "VM", *views[0].OfferingName)
		var none []openstack.InstanceView
		rs := &store.RoleScopes{Projects: []int64{w.project + 100}}
		require.NoError(t, openstack.VisibleTo(rs, w.st.InstanceViews(ctx)).Find(&none).Error)
		require.Empty(t, none)
		rs = &store.RoleScopes{Customers: []int64{w.customer}}
		require.NoError(t, openstack.VisibleTo(rs, w.st.InstanceViews(ctx)).Find(&none).Error)
		require.Len(t, none, 1)
	})
}

// TestEnsureScope: EnsureTenant, EnsureInstance and EnsureVolume insert the
// plugin row of a Create order's marketplace resource and make it the
// resource's scope; a second call (a retried activity) with changed fields
// neither duplicates nor updates the row: the argument becomes the row
// already recorded. The row is then found by its resource.
func TestEnsureScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		w := seedOpenStack(t, db)
		now := time.Now().UTC()
		var off struct{ CustomerID, CategoryID int64 }
		require.NoError(t, db.Table("offerings").Select("customer_id, category_id").Where("id = ?", w.vmOffering).Scan(&off).Error)
		volOffering := map[string]any{"uuid": models.NewUUID(), "name": "Volume", "customer_id": off.CustomerID, "category_id": off.CategoryID,
			"type": openstack.OfferingVolume, "state": models.OfferingActive, "created": now, "modified": now}
		require.NoError(t, db.Table("offerings").Create(volOffering).Error)
		var volOfferingID int64
		require.NoError(t, db.Raw("SELECT id FROM offerings WHERE uuid = ?", volOffering["uuid"]).Scan(&volOfferingID).Error)
		volOrder, err := w.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: w.project, OfferingID: volOfferingID,
			Attributes: map[string]any{"name": "d"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: openstack.OfferingVolume,
				CreatorHasApprove: true}})
		require.NoError(t, err)

		// got is what a call recorded: the row's id, UUID and name.
		type got struct {
			ID   int64
			UUID models.UUID
			Name string
		}
		var tenantID int64
		kinds := []struct {
			scopeType, table string
			resourceID       int64
			ensure           func(name string) (got, error)
			ofResource       func() (int64, error)
		}{
			{openstack.OfferingTenant, "openstack_tenants", w.tenantRes.ResourceID,
				func(name string) (got, error) {
					r := &openstack.TenantRow{ResourceID: &w.tenantRes.ResourceID, ProjectID: w.project, OfferingID: w.tenantOffering, Name: name,
						State: models.CoreCreating}
					err := w.st.EnsureTenant(ctx, r)
					tenantID = r.ID
					return got{r.ID, r.UUID, r.Name}, err
				},
				func() (int64, error) {
					r, err := w.st.TenantOfResource(ctx, w.tenantRes.ResourceID)
					if err != nil {
						return 0, err
					}
					return r.ID, nil
				}},
			{openstack.OfferingInstance, "openstack_instances", w.vmRes.ResourceID,
				func(name string) (got, error) {
					r := &openstack.InstanceRow{ResourceID: &w.vmRes.ResourceID, ProjectID: w.project, TenantID: tenantID, Name: name,
						State: models.CoreCreating}
					err := w.st.EnsureInstance(ctx, r)
					return got{r.ID, r.UUID, r.Name}, err
				},
				func() (int64, error) {
					r, err := w.st.InstanceOfResource(ctx, w.vmRes.ResourceID)
					if err != nil {
						return 0, err
					}
					return r.ID, nil
				}},
			{openstack.OfferingVolume, "openstack_volumes", volOrder.ResourceID,
				func(name string) (got, error) {
					r := &openstack.VolumeRow{ResourceID: &volOrder.ResourceID, ProjectID: w.project, TenantID: tenantID, Name: name, Size: 1024,
						State: models.CoreCreating}
					err := w.st.EnsureVolume(ctx, r)
					return got{r.ID, r.UUID, r.Name}, err
				},
				func() (int64, error) {
					r, err := w.st.VolumeOfResource(ctx, volOrder.ResourceID)
					if err != nil {
						return 0, err
					}
					return r.ID, nil
				}},
		}
		for _, k := range kinds {
			_, err := k.ofResource()
			require.True(t, models.IsCode(err, models.CodeNotFound), "%s: no row before the first call: %v", k.scopeType, err)

			first, err := k.ensure("first")
			require.NoError(t, err, k.scopeType)
			require.NotZero(t, first.ID, k.scopeType)
			require.False(t, first.UUID.IsZero(), k.scopeType)
			require.Equal(t, "first", first.Name, k.scopeType)
			require.Equal(t, int64(1), w.count(t, k.table, "resource_id = ?", k.resourceID), k.scopeType)
			var scope struct {
				ScopeType string
				ScopeUUID models.UUID
			}
			require.NoError(t, db.Table("resources").Select("scope_type, scope_uuid").Where("id = ?", k.resourceID).Scan(&scope).Error)
			require.Equal(t, k.scopeType, scope.ScopeType)
			require.Equal(t, first.UUID, scope.ScopeUUID, k.scopeType)

			again, err := k.ensure("second")
			require.NoError(t, err, k.scopeType)
			require.Equal(t, first, again, "%s: the second call returns the first row", k.scopeType)
			require.Equal(t, int64(1), w.count(t, k.table, "resource_id = ?", k.resourceID), "%s: not duplicated", k.scopeType)
			require.Equal(t, int64(1), w.count(t, k.table, "id = ? AND name = 'first'", first.ID), "%s: not updated", k.scopeType)

			id, err := k.ofResource()
			require.NoError(t, err, k.scopeType)
			require.Equal(t, first.ID, id, k.scopeType)
		}
		vm, err := w.st.InstanceByRef(ctx, mustResourceUUID(t, db, w.vmRes.ResourceID))
		require.NoError(t, err)
		require.Equal(t, "first", vm.Name)
		_, err = w.st.InstanceByRef(ctx, models.NewUUID())
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}
