package openstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/openstack"
)

// appType is the type of a non-retryable application error ("" for others).
func appType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return app.Type()
	}
	return ""
}

// TestOpenStackImports: the database side of imports into OpenStack
// instance and volume offerings. The offering's tenants (its option, else
// its customer's) reach the provider; an imported server takes over the
// row the pull recorded, a volume without one gets a new row; an import
// into another project than the tenant's, or of an object another
// resource has, is refused and leaves nothing; the next pull errs the
// imported resources whose objects are gone.
func TestOpenStackImports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		f := newOSFixture(t, db)
		st := f.st
		reg := providers.NewRegistry()
		openstack.Register(reg, openstack.New(openstack.Options{}))
		imp := &activities.Imports{Store: st.Store, Providers: reg, Keepers: openstack.Plugin{}.ImportKeepers(st.Store)}
		uuidOf := func(table string, id int64) models.UUID {
			var u []models.UUID
			require.NoError(t, db.Table(table).Where("id = ?", id).Pluck("uuid", &u).Error)
			return u[0]
		}
		vmOff, volOff, tenantOff := uuidOf("offerings", f.vm), uuidOf("offerings", f.vol), uuidOf("offerings", f.tenantOff)
		projP, projQ := uuidOf("projects", f.p), uuidOf("projects", f.q)
		now := time.Now().UTC()

		// Another provider's cloud and tenant: not this offering's.
		var cust, cat int64
		require.NoError(t, db.Raw("SELECT customer_id FROM offerings WHERE id = ?", f.vm).Scan(&cust).Error)
		require.NoError(t, db.Raw("SELECT category_id FROM offerings WHERE id = ?", f.vm).Scan(&cat).Error)
		require.NoError(t, db.Table("customers").Create(map[string]any{"uuid": models.NewUUID(), "name": "Other cloud",
			"accounting_start_date": now, "created": now, "modified": now}).Error)
		var other int64
		require.NoError(t, db.Raw("SELECT id FROM customers WHERE name = 'Other cloud'").Scan(&other).Error)
		otherOff := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": otherOff, "name": "Other", "customer_id": other, "category_id": cat,
			"type": openstack.OfferingTenant, "state": models.OfferingActive, "secret_options": `{"backend_url":"http://other/v3","username":"a","password":"b"}`,
			"created": now, "modified": now}).Error)
		var otherOffID int64
		require.NoError(t, db.Raw("SELECT id FROM offerings WHERE uuid = ?", otherOff).Scan(&otherOffID).Error)
		foreign := &openstack.TenantRow{UUID: models.NewUUID(), ProjectID: f.p, OfferingID: otherOffID, Name: "foreign", State: models.CoreOK,
			BackendID: "proj-9", Created: now, Modified: now}
		require.NoError(t, db.Create(foreign).Error)
		creating := &openstack.TenantRow{UUID: models.NewUUID(), ProjectID: f.p, OfferingID: f.tenantOff, Name: "new", State: models.CoreCreating,
			Created: now, Modified: now}
		require.NoError(t, db.Create(creating).Error)

		t.Run("tenants", func(t *testing.T) {
			target, err := imp.LoadImportTarget(ctx, vmOff)
			require.NoError(t, err)
			require.Equal(t, openstack.Queue, target.Queue)
			src, err := providers.Decode[openstack.ImportSource](target.Request.Resolved)
			require.NoError(t, err)
			require.Len(t, src.Tenants, 1, "the customer's ready tenants only")
			require.Equal(t, f.tenant.UUID.String(), src.Tenants[0].UUID)
			require.Equal(t, "proj-1", src.Tenants[0].BackendID)
			require.Equal(t, "http://cloud/identity/v3", src.Tenants[0].Connection.AuthURL)
			require.Equal(t, "pw", src.Tenants[0].Connection.Password)

			for _, tc := range []struct {
				name, option string
				want         string // a tenant backend id, or "" for a refusal
			}{
				{"named by its UUID", foreign.UUID.String(), "proj-9"},
				{"named by its URL", "https://waldur.example.com/api/openstack-tenants/" + f.tenant.UUID.String() + "/", "proj-1"},
				{"not ready", creating.UUID.String(), ""},
				{"unknown", models.NewUUID().String(), ""},
				{"not a reference", "my tenant", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					require.NoError(t, db.Table("offerings").Where("id = ?", f.vol).Update("plugin_options", `{"tenant":"`+tc.option+`"}`).Error)
					target, err := imp.LoadImportTarget(ctx, volOff)
					if tc.want == "" {
						require.Error(t, err)
						require.Equal(t, string(models.CodeInvalid), appType(err), "%v", err)
						return
					}
					require.NoError(t, err)
					src, err := providers.Decode[openstack.ImportSource](target.Request.Resolved)
					require.NoError(t, err)
					require.Len(t, src.Tenants, 1)
					require.Equal(t, tc.want, src.Tenants[0].BackendID)
				})
			}
			require.NoError(t, db.Table("offerings").Where("id = ?", f.vol).Update("plugin_options", `{}`).Error)
			_, err = imp.LoadImportTarget(ctx, tenantOff)
			require.Equal(t, string(models.CodeInvalid), appType(err), "tenants are not imported: %v", err)
		})

		// The pull recorded a server and a volume made outside Waldur.
		legacy := openstack.CloudServer{BackendID: "srv-x", Name: "legacy", Status: "ACTIVE", FlavorName: "m1.small", Cores: 1, RAM: 2048,
			InternalIPs: []string{"192.168.42.20"}, VolumeBackendIDs: []string{"vol-x"}}
		legacyVol := openstack.CloudVolume{BackendID: "vol-x", Name: "legacy-root", Size: 1024, Status: "in-use", ServerBackendID: "srv-x"}
		rep, err := st.ApplyPull(ctx, f.tenant.UUID, openstack.Snapshot{Taken: time.Now().UTC(), Full: true,
			Servers: []openstack.CloudServer{legacy}, Volumes: []openstack.CloudVolume{legacyVol}})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"legacy", "legacy-root"}, rep.Imported)
		var pulled openstack.InstanceRow
		require.NoError(t, db.Where("backend_id = 'srv-x'").Take(&pulled).Error)
		require.Nil(t, pulled.ResourceID)

		pulledOf := func(tenant models.UUID, snap openstack.Snapshot) json.RawMessage {
			return providers.MustEncode(openstack.Imported{TenantUUID: tenant.String(), Snapshot: snap})
		}
		resources := func() int64 {
			var n int64
			require.NoError(t, db.Table("resources").Count(&n).Error)
			return n
		}
		before := resources()
		record := func(offering, project models.UUID, backendID string, snap openstack.Snapshot) (models.UUID, error) {
			return imp.RecordImport(ctx, store.ImportResourceInput{OfferingUUID: offering, ProjectUUID: project, BackendID: backendID,
				Name: backendID, Pulled: pulledOf(f.tenant.UUID, snap)})
		}
		legacy.Status = "SHUTOFF"
		server := openstack.Snapshot{Servers: []openstack.CloudServer{legacy}, Volumes: []openstack.CloudVolume{legacyVol}}

		_, err = record(vmOff, projQ, "srv-x", server)
		require.Equal(t, string(models.CodeInvalid), appType(err), "tenant T is in project P: %v", err)
		require.Equal(t, before, resources(), "the refused import left nothing")

		vmRes, err := record(vmOff, projP, "srv-x", server)
		require.NoError(t, err)
		var row openstack.InstanceRow
		require.NoError(t, db.Where("backend_id = 'srv-x'").Take(&row).Error)
		require.Equal(t, pulled.UUID, row.UUID, "the pull's row is taken over")
		require.NotNil(t, row.ResourceID)
		require.Equal(t, models.CoreOK, row.State)
		require.Equal(t, "SHUTOFF", row.RuntimeState, "with what the provider read")
		type resourceRow struct {
			ID        int64
			State     models.ResourceState
			ScopeType string
			ScopeUUID models.UUID
		}
		resource := func(id models.UUID) resourceRow {
			var r resourceRow // fresh: GORM adds a set primary key to the query
			require.NoError(t, db.Table("resources").Select("id, state, scope_type, scope_uuid").Where("uuid = ?", id).Take(&r).Error)
			return r
		}
		res := resource(vmRes)
		require.Equal(t, *row.ResourceID, res.ID)
		require.Equal(t, models.ResourceOK, res.State)
		require.Equal(t, openstack.OfferingInstance, res.ScopeType)
		require.Equal(t, row.UUID, res.ScopeUUID)
		var rootOf []*int64
		require.NoError(t, db.Table("openstack_volumes").Where("backend_id = 'vol-x'").Pluck("instance_id", &rootOf).Error)
		require.Len(t, rootOf, 1)
		require.Equal(t, row.ID, *rootOf[0], "the attached volume belongs to the instance")

		// Another instance offering of the provider cannot import it again.
		vm2 := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": vm2, "name": "VM 2", "customer_id": cust, "category_id": cat,
			"type": openstack.OfferingInstance, "state": models.OfferingActive, "created": now, "modified": now}).Error)
		before = resources()
		_, err = record(vm2, projP, "srv-x", server)
		require.Equal(t, string(models.CodeInvalid), appType(err), "%v", err)
		require.Contains(t, err.Error(), "is a resource already")
		require.Equal(t, before, resources())

		// A volume the pull has not seen yet gets its row.
		data := openstack.CloudVolume{BackendID: "vol-y", Name: "data", Description: "old data", Size: 2048, Status: "available", TypeName: "ssd"}
		volRes, err := record(volOff, projP, "vol-y", openstack.Snapshot{Volumes: []openstack.CloudVolume{data}})
		require.NoError(t, err)
		var vrow openstack.VolumeRow
		require.NoError(t, db.Where("backend_id = 'vol-y'").Take(&vrow).Error)
		require.Equal(t, models.CoreOK, vrow.State)
		require.EqualValues(t, 2048, vrow.Size)
		require.Equal(t, f.tenant.ID, vrow.TenantID)
		res = resource(volRes)
		require.Equal(t, vrow.UUID, res.ScopeUUID)
		require.Equal(t, openstack.OfferingVolume, res.ScopeType)

		// The next pull keeps what exists and errs what is gone.
		rep, err = st.ApplyPull(ctx, f.tenant.UUID, openstack.Snapshot{Taken: time.Now().UTC(), Full: true,
			Servers: []openstack.CloudServer{legacy}, Volumes: []openstack.CloudVolume{legacyVol, data}})
		require.NoError(t, err)
		require.Empty(t, rep.Erred)
		require.Empty(t, rep.Imported)
		rep, err = st.ApplyPull(ctx, f.tenant.UUID, openstack.Snapshot{Taken: time.Now().UTC(), Full: true})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"legacy", "vol-y"}, rep.Erred)
		for _, id := range []models.UUID{vmRes, volRes} {
			require.Equal(t, models.ResourceErred, resource(id).State)
		}
	})
}
