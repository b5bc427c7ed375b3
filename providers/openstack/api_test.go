package openstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/plugin"
)

func init() {
	// The contract types addresses as oneOf ipv4/ipv6: check both formats
	// for real, or every address would match both.
	openapi3.DefineIPv4Format()
	openapi3.DefineIPv6Format()
}

type env struct {
	t      *testing.T
	srv    *api.Server
	toks   map[string]string
	tenant models.UUID // the plugin tenant
	vm     models.UUID // the plugin instance
	vmRes  models.UUID // its marketplace resource
	ids    map[string]models.UUID
}

// newEnv: provider P offers OpenStack tenants and instances; project J of
// customer C holds a tenant (with its catalog) and an instance with a
// system volume, a data volume ordered on its own, and an imported server.
// "member" is a member of J, "owner" owns C, "provider" owns P, "plain"
// has no role, "staff" is staff.
func newEnv(t *testing.T, db *gorm.DB) *env {
	ctx := context.Background()
	st := openstack.NewStore(store.New(db))
	e := &env{t: t, toks: map[string]string{}, ids: map[string]models.UUID{}}
	e.srv = api.New(api.Deps{DB: db, Users: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, openstack.Plugin{}.Module(plugin.APIDeps{Store: st.Store}))
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	users := map[string]*models.User{}
	for _, name := range []string{"staff", "owner", "member", "provider", "plain"} {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, IsStaff: name == "staff"}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[name], e.toks[name] = u, tok.Key
	}
	provider := ins("customers", map[string]any{"name": "P", "accounting_start_date": now, "created": now, "modified": now})
	consumer := ins("customers", map[string]any{"name": "C", "abbreviation": "CC", "accounting_start_date": now, "created": now, "modified": now})
	project := ins("projects", map[string]any{"name": "J", "customer_id": consumer, "created": now, "modified": now})
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeCustomer, ID: consumer}))
	require.NoError(t, st.InitQuotas(ctx, models.Scope{Type: models.ScopeProject, ID: project}))
	cat := ins("categories", map[string]any{"title": "Clouds", "created": now, "modified": now})
	tenantOff := ins("offerings", map[string]any{"name": "Cloud", "customer_id": provider, "category_id": cat, "type": openstack.OfferingTenant,
		"state": models.OfferingActive, "plugin_options": `{}`, "secret_options": `{"backend_url":"http://x/identity/v3","username":"a","password":"b"}`,
		"created": now, "modified": now})
	ins("offering_components", map[string]any{"offering_id": tenantOff, "type": "cores", "name": "Cores", "billing_type": "limit"})
	vmOff := ins("offerings", map[string]any{"name": "VM", "customer_id": provider, "category_id": cat, "type": openstack.OfferingInstance,
		"state": models.OfferingActive, "created": now, "modified": now})
	grant := func(user, role string, s models.Scope, customer int64) {
		r, err := st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: users[user], Role: r, Scope: s, CustomerID: customer, EventScopes: []models.Scope{s}})
		require.NoError(t, err)
	}
	grant("owner", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: consumer}, consumer)
	grant("provider", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: provider}, provider)
	grant("member", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: project}, consumer)

	order := func(offering int64, typ string) *models.Order {
		o, err := st.CreateOrder(ctx, store.NewOrder{Type: models.OrderCreate, ProjectID: project, OfferingID: offering,
			Attributes: map[string]any{"name": "r"}, Review: models.ReviewContext{OrderType: models.OrderCreate, OfferingType: typ, CreatorHasApprove: true}})
		require.NoError(t, err)
		return o
	}
	to, vo := order(tenantOff, openstack.OfferingTenant), order(vmOff, openstack.OfferingInstance)
	ten := &openstack.TenantRow{ResourceID: &to.ResourceID, ProjectID: project, OfferingID: tenantOff, Name: "research", State: models.CoreCreating}
	require.NoError(t, st.EnsureTenant(ctx, ten))
	e.tenant = ten.UUID
	two := 2
	snap := openstack.Snapshot{Taken: now, Full: true,
		Tenant: &openstack.CloudTenant{BackendID: "proj-1", InternalNetworkID: "net-1", SubnetID: "sub-1", ExternalNetworkID: "ext",
			UserUsername: "research-user", UserPassword: "s3cret"},
		Flavors:     []openstack.CloudFlavor{{BackendID: "2", Name: "m1.small", Cores: 1, RAM: 2048, Disk: 20480}},
		Images:      []openstack.CloudImage{{BackendID: "img-1", Name: "cirros", MinDisk: 1024, Created: &now}},
		VolumeTypes: []openstack.CloudVolumeType{{BackendID: "vt-1", Name: "ssd", Description: "fast"}},
		Networks:    []openstack.CloudNetwork{{BackendID: "net-1", Name: "research-int-net", MTU: 1500}},
		Subnets: []openstack.CloudSubnet{{BackendID: "sub-1", NetworkBackendID: "net-1", Name: "research-sub-net", CIDR: "192.168.42.0/24",
			GatewayIP: "192.168.42.1", IPVersion: 4, EnableDHCP: true, AllocationPools: []openstack.CloudAllocationPool{{Start: "192.168.42.10", End: "192.168.42.200"}},
			DNSNameservers: []string{"8.8.8.8"}}},
		SecurityGroups: []openstack.CloudSecurityGroup{{BackendID: "sg-1", Name: "ssh", Description: "ssh in", Rules: []openstack.CloudRule{
			{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", FromPort: &two, ToPort: &two, CIDR: "0.0.0.0/0"},
			{Direction: "egress", EtherType: "IPv6"}}}},
		FloatingIPs: []openstack.CloudFloatingIP{{BackendID: "fip-1", Address: "172.24.4.10", RuntimeState: "ACTIVE", NetworkBackendID: "ext",
			PortBackendID: "port-1", FixedIP: "192.168.42.11"}},
		Quotas: []openstack.CloudQuota{{Name: "cores", Limit: 20, Usage: 1}, {Name: "storage", Limit: -1, Usage: 10240}},
	}
	require.NoError(t, st.CompleteScope(ctx, openstack.OfferingTenant, models.OrderCreate, to.ResourceID, snap))
	vm := &openstack.InstanceRow{ResourceID: &vo.ResourceID, ProjectID: project, TenantID: ten.ID, Name: "vm", State: models.CoreCreating,
		MinDisk: 1024, ImageName: "cirros", KeyName: "laptop"}
	require.NoError(t, st.EnsureInstance(ctx, vm))
	e.vm = vm.UUID
	var vmRes []models.UUID
	require.NoError(t, db.Table("resources").Where("id = ?", vo.ResourceID).Pluck("uuid", &vmRes).Error)
	e.vmRes = vmRes[0]
	server := openstack.CloudServer{BackendID: "srv-1", Name: "vm", Status: "ACTIVE", FlavorName: "m1.small", Cores: 1, RAM: 2048, Disk: 20480,
		InternalIPs: []string{"192.168.42.11"}, ExternalIPs: []string{"172.24.4.10"}, SecurityGroups: []string{"ssh"},
		Ports:    []openstack.CloudPort{{BackendID: "port-1", NetworkBackendID: "net-1", SubnetBackendID: "sub-1", IPAddress: "192.168.42.11", MACAddress: "fa:16:3e:00:00:01"}},
		Metadata: map[string]string{openstack.MetaResourceUUID: e.vmRes.String()}}
	require.NoError(t, st.CompleteScope(ctx, openstack.OfferingInstance, models.OrderCreate, vo.ResourceID, openstack.Snapshot{
		Servers: []openstack.CloudServer{server},
		Volumes: []openstack.CloudVolume{{BackendID: "vol-1", Name: "vm-system", Size: 10240, Bootable: true, Status: "in-use", ServerBackendID: "srv-1", Device: "/dev/vda"}},
	}))
	_, err := st.ApplyPull(ctx, ten.UUID, openstack.Snapshot{Taken: now.Add(time.Second), Full: true, Flavors: snap.Flavors, Images: snap.Images,
		VolumeTypes: snap.VolumeTypes, Networks: snap.Networks, Subnets: snap.Subnets, SecurityGroups: snap.SecurityGroups, FloatingIPs: snap.FloatingIPs,
		Servers: []openstack.CloudServer{server, {BackendID: "srv-legacy", Name: "legacy", Status: "SHUTOFF"}},
		Volumes: []openstack.CloudVolume{{BackendID: "vol-1", Name: "vm-system", Size: 10240, Status: "in-use", ServerBackendID: "srv-1", Device: "/dev/vda"}}})
	require.NoError(t, err)
	for table, key := range map[string]string{"openstack_flavors": "flavor", "openstack_images": "image", "openstack_volume_types": "vt",
		"openstack_networks": "net", "openstack_subnets": "sub", "openstack_security_groups": "sg", "openstack_floating_ips": "fip", "openstack_volumes": "vol"} {
		var id []models.UUID
		require.NoError(t, db.Table(table).Order("id").Limit(1).Pluck("uuid", &id).Error)
		require.Len(t, id, 1, table)
		e.ids[key] = id[0]
	}
	return e
}

func (e *env) get(path, user string, want int, out any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	require.Equal(e.t, want, w.Code, "GET %s as %s: %s", path, user, w.Body.String())
	if want < 300 {
		apitest.ValidateResponse(e.t, req, w)
	}
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out))
	}
}

// TestReads: every collection and object renders Waldur's shape (checked
// against the OpenAPI file), for those who may see it.
func TestReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		for _, tc := range []struct{ collection, key string }{
			{"openstack-tenants", "tenant"}, {"openstack-instances", "vm"}, {"openstack-volumes", "vol"}, {"openstack-flavors", "flavor"},
			{"openstack-images", "image"}, {"openstack-volume-types", "vt"}, {"openstack-networks", "net"}, {"openstack-subnets", "sub"},
			{"openstack-security-groups", "sg"}, {"openstack-floating-ips", "fip"},
		} {
			t.Run(tc.collection, func(t *testing.T) {
				id := e.ids[tc.key]
				switch tc.key {
				case "tenant":
					id = e.tenant
				case "vm":
					id = e.vm
				}
				path := "/api/" + tc.collection + "/"
				var list []map[string]any
				for _, who := range []string{"staff", "owner", "member", "provider"} {
					e.get(path, who, 200, &list)
					require.NotEmpty(t, list, "%s sees %s", who, tc.collection)
				}
				e.get(path, "plain", 200, &list)
				require.Empty(t, list)
				e.get(path, "anonymous", 401, nil)
				var one map[string]any
				e.get(path+id.String()+"/", "member", 200, &one)
				require.Equal(t, id.String(), one["uuid"])
				e.get(path+id.String()+"/", "plain", 404, nil)
				e.get(path+models.NewUUID().String()+"/", "staff", 404, nil)
			})
		}
	})
}

// TestShapes checks what the main objects say.
func TestShapes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		var tenant map[string]any
		e.get("/api/openstack-tenants/"+e.tenant.String()+"/", "owner", 200, &tenant)
		require.Equal(t, "OK", tenant["state"])
		require.Equal(t, "proj-1", tenant["backend_id"])
		require.Equal(t, "net-1", tenant["internal_network_id"])
		require.Equal(t, "research-user", tenant["user_username"])
		require.Equal(t, "s3cret", tenant["user_password"], "the customer's owner sees the password")
		require.Equal(t, "OpenStack.Tenant", tenant["resource_type"])
		require.Equal(t, "CC", tenant["customer_abbreviation"])
		require.Equal(t, "Cloud", tenant["marketplace_offering_name"])
		require.Equal(t, true, tenant["is_limit_based"])
		require.Equal(t, []any{map[string]any{"name": "cores", "usage": 1.0, "limit": 20.0}, map[string]any{"name": "storage", "usage": 10240.0, "limit": -1.0}},
			tenant["quotas"])
		var asMember map[string]any
		e.get("/api/openstack-tenants/"+e.tenant.String()+"/", "member", 200, &asMember)
		require.NotContains(t, asMember, "user_password", "a project member does not")
		var asStaff map[string]any
		e.get("/api/openstack-tenants/"+e.tenant.String()+"/", "staff", 200, &asStaff)
		require.Equal(t, "s3cret", asStaff["user_password"], "staff sees the password")
		for who, shown := range map[string]bool{"staff": true, "owner": true, "member": false} {
			var tenants []map[string]any
			e.get("/api/openstack-tenants/", who, 200, &tenants)
			require.Len(t, tenants, 1)
			if shown {
				require.Equal(t, "s3cret", tenants[0]["user_password"], "%s sees the password in the list", who)
			} else {
				require.NotContains(t, tenants[0], "user_password", "%s does not see the password in the list", who)
			}
		}

		var vm map[string]any
		e.get("/api/openstack-instances/"+e.vm.String()+"/", "member", 200, &vm)
		require.Equal(t, "srv-1", vm["backend_id"])
		require.Equal(t, "ACTIVE", vm["runtime_state"])
		require.Equal(t, e.tenant.String(), vm["tenant_uuid"])
		require.Equal(t, e.vmRes.String(), vm["marketplace_resource_uuid"])
		require.Equal(t, []any{"192.168.42.11"}, vm["internal_ips"])
		require.Equal(t, []any{"172.24.4.10"}, vm["external_ips"])
		require.Len(t, vm["volumes"], 1)
		require.Equal(t, "vm-system", vm["volumes"].([]any)[0].(map[string]any)["name"])
		require.Len(t, vm["security_groups"], 1)
		ports := vm["ports"].([]any)
		require.Len(t, ports, 1)
		require.Equal(t, "research-sub-net", ports[0].(map[string]any)["subnet_name"])

		var byTenant []map[string]any
		e.get("/api/openstack-instances/?tenant_uuid="+e.tenant.String()+"&o=name", "staff", 200, &byTenant)
		require.Len(t, byTenant, 2, "the ordered instance and the imported one")
		require.Equal(t, "legacy", byTenant[0]["name"])
		require.Nil(t, byTenant[0]["marketplace_resource_uuid"], "imported: no marketplace resource")
		e.get("/api/openstack-instances/?state=OK&runtime_state=SHUTOFF", "staff", 200, &byTenant)
		require.Len(t, byTenant, 1)
		e.get("/api/openstack-instances/?state=BOGUS", "staff", 400, nil)

		var nets []map[string]any
		e.get("/api/openstack-networks/?tenant_uuid="+e.tenant.String(), "member", 200, &nets)
		require.Len(t, nets, 1)
		require.Len(t, nets[0]["subnets"], 1)
		var flavors []map[string]any
		e.get("/api/openstack-flavors/?settings_uuid="+e.tenant.String(), "member", 200, &flavors)
		require.Len(t, flavors, 1)
		require.Contains(t, flavors[0]["settings"], "/api/openstack-tenants/"+e.tenant.String()+"/")
		e.get("/api/openstack-flavors/?settings_uuid="+models.NewUUID().String(), "member", 200, &flavors)
		require.Empty(t, flavors)
		var groups []map[string]any
		e.get("/api/openstack-security-groups/", "member", 200, &groups)
		require.Len(t, groups[0]["rules"], 2)
	})
}
