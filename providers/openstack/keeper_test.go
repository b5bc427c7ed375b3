package openstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/openstack"
)

// osFixture: project P holds tenant T (recorded with its catalog), project
// Q holds nothing; alice and bob have an SSH key each.
type osFixture struct {
	st                   *openstack.Store
	orders               *activities.Orders
	p, q                 int64
	tenantOff, vm, vol   int64
	tenant               *openstack.TenantRow
	alice, bob           *models.User
	aliceKey, bobKey     models.UUID
	flavorUUID, imageURL string
}

func newOSFixture(t *testing.T, db *gorm.DB) *osFixture {
	ctx := context.Background()
	now := time.Now().UTC()
	st := openstack.NewStore(store.New(db))
	f := &osFixture{st: st}
	reg := providers.NewRegistry()
	openstack.Register(reg, openstack.New(openstack.Options{}))
	f.orders = &activities.Orders{Store: st.Store, Providers: reg, Scopes: openstack.Plugin{}.ScopeKeepers(st.Store)}
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	cust, _ := ins("customers", map[string]any{"name": "C", "accounting_start_date": now, "created": now, "modified": now})
	f.p, _ = ins("projects", map[string]any{"name": "P", "customer_id": cust, "created": now, "modified": now})
	f.q, _ = ins("projects", map[string]any{"name": "Q", "customer_id": cust, "created": now, "modified": now})
	for _, p := range []int64{f.p, f.q} {
		require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: p}))
	}
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: cust}))
	cat, _ := ins("categories", map[string]any{"title": "Clouds", "created": now, "modified": now})
	offering := func(typ, secrets string) int64 {
		id, _ := ins("offerings", map[string]any{"name": typ, "customer_id": cust, "category_id": cat, "type": typ, "state": models.OfferingActive,
			"secret_options": secrets, "created": now, "modified": now})
		return id
	}
	f.tenantOff = offering(openstack.OfferingTenant, `{"backend_url":"http://cloud/identity/v3","username":"admin","password":"pw","availability_zone":"nova"}`)
	f.vm = offering(openstack.OfferingInstance, `{}`)
	f.vol = offering(openstack.OfferingVolume, `{}`)
	for _, name := range []string{"alice", "bob"} {
		u := &models.User{Username: name, IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		_, key := ins("ssh_keys", map[string]any{"user_id": u.ID, "name": name + "-laptop", "public_key": "ssh-ed25519 AAAA " + name,
			"fingerprint_md5": "aa:bb", "fingerprint_sha256": "x", "created": now})
		if name == "alice" {
			f.alice, f.aliceKey = u, key
		} else {
			f.bob, f.bobKey = u, key
		}
	}
	to := f.order(t, f.tenantOff, openstack.OfferingTenant, f.p, f.alice, map[string]any{"name": "T"})
	snap, err := f.orders.LoadOrder(ctx, to.UUID)
	require.NoError(t, err)
	require.Nil(t, snap.Request.Resolved, "a tenant needs nothing resolved")
	f.tenant, err = st.TenantOfResource(ctx, to.ResourceID)
	require.NoError(t, err)
	require.Equal(t, models.CoreCreating, f.tenant.State, "the order runs at once")
	require.NoError(t, st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, to.ResourceID, openstack.Snapshot{
		Taken: now, Full: true,
		Tenant:   &openstack.CloudTenant{BackendID: "proj-1", InternalNetworkID: "net-1", SubnetID: "sub-1", ExternalNetworkID: "ext"},
		Flavors:  []openstack.CloudFlavor{{BackendID: "2", Name: "m1.small", Cores: 1, RAM: 2048, Disk: 20480}},
		Images:   []openstack.CloudImage{{BackendID: "img-1", Name: "ubuntu", MinDisk: 10240, MinRAM: 512}},
		Networks: []openstack.CloudNetwork{{BackendID: "net-1", Name: "T-int-net"}, {BackendID: "net-2", Name: "other"}},
		Subnets: []openstack.CloudSubnet{{BackendID: "sub-1", NetworkBackendID: "net-1", Name: "T-sub-net"},
			{BackendID: "sub-2", NetworkBackendID: "net-2", Name: "second"}},
		SecurityGroups: []openstack.CloudSecurityGroup{{BackendID: "sg-default", Name: "default"}, {BackendID: "sg-web", Name: "web"}},
		VolumeTypes:    []openstack.CloudVolumeType{{BackendID: "vt-1", Name: "ssd"}},
	}))
	f.tenant, err = st.TenantOfResource(ctx, to.ResourceID)
	require.NoError(t, err)
	var flavors, images []models.UUID
	require.NoError(t, db.Table("openstack_flavors").Where("backend_id = '2'").Pluck("uuid", &flavors).Error)
	require.NoError(t, db.Table("openstack_images").Where("backend_id = 'img-1'").Pluck("uuid", &images).Error)
	f.flavorUUID = flavors[0].String()
	f.imageURL = "https://waldur.example.com/api/openstack-images/" + images[0].String() + "/"
	return f
}

func (f *osFixture) order(t *testing.T, offering int64, typ string, project int64, by *models.User, attrs map[string]any) *models.Order {
	o, err := f.st.CreateOrder(context.Background(), store.NewOrder{Type: models.OrderCreate, ProjectID: project, OfferingID: offering,
		Attributes: attrs, CreatedBy: by, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: typ, CreatorHasApprove: true}})
	require.NoError(t, err)
	return o
}

func (f *osFixture) refs(t *testing.T, o *models.Order) openstack.Refs {
	snap, err := f.orders.LoadOrder(context.Background(), o.UUID)
	require.NoError(t, err)
	require.NotNil(t, snap.Request.Resolved)
	r, err := providers.Decode[openstack.Refs](snap.Request.Resolved)
	require.NoError(t, err)
	return r
}

// TestOpenStackKeeperResolves: instance and volume orders are resolved
// into what the provider needs (backend ids, the tenant's cloud); a
// reference to nothing becomes the order's error, for the provider to fail it with.
func TestOpenStackKeeperResolves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		f := newOSFixture(t, db)
		tenantURL := "https://waldur.example.com/api/openstack-tenants/" + f.tenant.UUID.String() + "/"

		o := f.order(t, f.vm, openstack.OfferingInstance, f.p, f.alice, map[string]any{"name": "vm", "tenant": tenantURL,
			"flavor": f.flavorUUID, "image": f.imageURL, "system_volume_size": 20480, "ports": []any{map[string]any{"subnet": "second"}},
			"security_groups": []any{map[string]any{"url": "web"}}, "ssh_public_key": "/api/keys/" + f.aliceKey.String() + "/",
			"floating_ips": []any{map[string]any{"subnet": "second"}}, "user_data": "#!/bin/sh"})
		r := f.refs(t, o)
		require.Empty(t, r.Error)
		require.Equal(t, "proj-1", r.TenantBackendID)
		require.Equal(t, "http://cloud/identity/v3", r.Connection.AuthURL)
		require.Equal(t, "Default", r.Connection.Domain)
		require.Equal(t, "2", r.Flavor.BackendID)
		require.Equal(t, "img-1", r.ImageBackendID)
		require.EqualValues(t, 20480, r.SystemVolumeSize)
		require.Equal(t, []openstack.SubnetRef{{SubnetID: "sub-2", NetworkID: "net-2"}}, r.Subnets)
		require.Equal(t, []string{"sg-web"}, r.SecurityGroups)
		require.Equal(t, "ssh-ed25519 AAAA alice", r.PublicKey)
		require.True(t, r.FloatingIP)
		require.Equal(t, "ext", r.ExternalNetworkID)
		require.Equal(t, "nova", r.AvailabilityZone, "the offering's zone")
		in, err := f.st.InstanceOfResource(ctx, o.ResourceID)
		require.NoError(t, err)
		require.Equal(t, models.CoreCreating, in.State)
		require.Equal(t, "m1.small", in.FlavorName)
		require.Equal(t, "alice-laptop", in.KeyName)
		require.EqualValues(t, 20480+20480, in.Disk)
		var scope []string
		require.NoError(t, db.Table("resources").Where("id = ?", o.ResourceID).Pluck("scope_type", &scope).Error)
		require.Equal(t, []string{openstack.OfferingInstance}, scope)
		again := f.refs(t, o)
		require.Equal(t, r, again, "loading again resolves the same")

		// Defaults: the project's only tenant, its subnet and default group, boot from the image.
		o = f.order(t, f.vm, openstack.OfferingInstance, f.p, f.alice, map[string]any{"name": "vm2", "flavor": "m1.small", "image": "ubuntu"})
		r = f.refs(t, o)
		require.Empty(t, r.Error)
		require.Equal(t, []openstack.SubnetRef{{SubnetID: "sub-1", NetworkID: "net-1"}}, r.Subnets)
		require.Equal(t, []string{"sg-default"}, r.SecurityGroups)
		require.Zero(t, r.SystemVolumeSize)

		for name, tc := range map[string]struct {
			project int64
			by      *models.User
			attrs   map[string]any
			want    string
		}{
			"no such flavor":              {f.p, f.alice, map[string]any{"flavor": "m9.huge", "image": "ubuntu"}, `Flavor "m9.huge" not found`},
			"no flavor":                   {f.p, f.alice, map[string]any{"image": "ubuntu"}, "Flavor"},
			"no such image":               {f.p, f.alice, map[string]any{"flavor": "2", "image": "windows"}, `Image "windows" not found`},
			"a tenant of another project": {f.q, f.alice, map[string]any{"tenant": tenantURL, "flavor": "2", "image": "ubuntu"}, "not in the order's project"},
			"no tenant in the project":    {f.q, f.alice, map[string]any{"flavor": "2", "image": "ubuntu"}, "names no tenant"},
			"no such tenant":              {f.p, f.alice, map[string]any{"tenant": models.NewUUID().String(), "flavor": "2", "image": "ubuntu"}, "not found"},
			"another user's key":          {f.p, f.alice, map[string]any{"flavor": "2", "image": "ubuntu", "ssh_public_key": f.bobKey.String()}, "SSH key"},
			"a small system volume":       {f.p, f.alice, map[string]any{"flavor": "2", "image": "ubuntu", "system_volume_size": 1024}, "smaller than image ubuntu needs"},
			"no such subnet":              {f.p, f.alice, map[string]any{"flavor": "2", "image": "ubuntu", "ports": []any{map[string]any{"subnet": "nope"}}}, `Subnet "nope"`},
			"no such group":               {f.p, f.alice, map[string]any{"flavor": "2", "image": "ubuntu", "security_groups": []any{"nope"}}, `Security group "nope"`},
		} {
			t.Run(name, func(t *testing.T) {
				tc.attrs["name"] = "bad"
				r := f.refs(t, f.order(t, f.vm, openstack.OfferingInstance, tc.project, tc.by, tc.attrs))
				require.Contains(t, r.Error, tc.want)
			})
		}

		// A volume attached to the first instance, once it has a server.
		require.NoError(t, db.Table("openstack_instances").Where("id = ?", in.ID).Update("backend_id", "srv-1").Error)
		vo := f.order(t, f.vol, openstack.OfferingVolume, f.p, f.alice, map[string]any{"name": "data", "size": 2048, "type": "ssd",
			"instance": "/api/openstack-instances/" + in.UUID.String() + "/"})
		r = f.refs(t, vo)
		require.Empty(t, r.Error)
		require.EqualValues(t, 2048, r.Size)
		require.Equal(t, "ssd", r.VolumeType)
		require.Equal(t, "srv-1", r.InstanceBackendID)
		vol, err := f.st.VolumeOfResource(ctx, vo.ResourceID)
		require.NoError(t, err)
		require.Equal(t, in.ID, *vol.InstanceID)
		r = f.refs(t, f.order(t, f.vol, openstack.OfferingVolume, f.p, f.alice, map[string]any{"name": "nosize"}))
		require.Contains(t, r.Error, "no volume size")

		// Terminating the instance: its tenant's cloud, and the row is Deleting.
		require.NoError(t, f.orders.CompleteOrder(ctx, activities.CompleteOrderInput{OrderUUID: o.UUID,
			Result: providers.Result{Done: true, BackendID: "srv-2", Pulled: providers.MustEncode(openstack.Snapshot{
				Servers: []openstack.CloudServer{{BackendID: "srv-2", Name: "vm2", Status: "ACTIVE"}}})}}))
		done, err := f.st.InstanceOfResource(ctx, o.ResourceID)
		require.NoError(t, err)
		require.Equal(t, models.CoreOK, done.State)
		require.Equal(t, "srv-2", done.BackendID)
		term, err := f.st.CreateOrder(ctx, store.NewOrder{Type: models.OrderTerminate, ProjectID: f.p, OfferingID: f.vm, ResourceID: o.ResourceID,
			CreatedBy: f.alice, Review: models.ReviewContext{OrderType: models.OrderTerminate, OfferingType: openstack.OfferingInstance, CreatorHasApprove: true}})
		require.NoError(t, err)
		r = f.refs(t, term)
		require.Empty(t, r.Error)
		require.Equal(t, "proj-1", r.TenantBackendID)
		in2, err := f.st.InstanceOfResource(ctx, o.ResourceID)
		require.NoError(t, err)
		require.Equal(t, models.CoreDeleting, in2.State)

		// A failed create: its row goes with its terminated resource.
		require.NoError(t, f.orders.FailOrder(ctx, activities.FailOrderInput{OrderUUID: vo.UUID, Message: "boom"}))
		_, err = f.st.VolumeOfResource(ctx, vo.ResourceID)
		require.True(t, models.IsCode(err, models.CodeNotFound))
	})
}
