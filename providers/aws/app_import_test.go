package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/app"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/aws/mototest"
	"github.com/waldur-go/waldur/workflows"
)

// TestAWSImportThroughTheAPI: an EC2 instance and an EBS volume made with
// the SDK outside Waldur are listed by importable_resources and imported
// by import_resource (OK resources with their backend ids), on each
// database. The state pull keeps the imported instance OK and links its
// row; the imported volume deleted behind Waldur's back is Erred by the
// next pull; terminating the instance through an order terminates it on EC2.
func TestAWSImportThroughTheAPI(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { testAWSImport(t, kind) })
	}
}

func testAWSImport(t *testing.T, kind config.DatabaseKind) {
	srv := temporaltest.Start(t)
	moto := mototest.Start(t)
	db := dbtest.Migrated(t, kind)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := srv.Client(t)
	reg := app.Registry(&app.Deps{DB: db, Logger: quiet})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	h, err := app.NewAPI(db, tc, quiet, "default")
	require.NoError(t, err)

	// A provider (its owner imports) and a consumer project.
	st := store.New(db)
	tokens := map[string]string{}
	users := map[string]*models.User{}
	for _, name := range []string{"provider", "consumer"} {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[name], tokens[name] = u, tok.Key
	}
	role, err := st.RoleByName(ctx, models.RoleCustomerOwner)
	require.NoError(t, err)
	customers := map[string]*models.Customer{}
	for _, name := range []string{"provider", "consumer"} {
		c := &models.Customer{Name: name + " org"}
		require.NoError(t, st.CreateCustomer(models.WithActor(ctx, models.Actor{User: users[name]}), c))
		_, err = st.GrantRole(ctx, store.Grant{User: users[name], Role: role, Scope: c.Scope(), CustomerID: c.ID})
		require.NoError(t, err)
		customers[name] = c
	}
	proj := &models.Project{Name: "Legacy"}
	require.NoError(t, st.CreateProject(models.WithActor(ctx, models.Actor{User: users["consumer"]}), proj, customers["consumer"]))
	// import_resource needs RESOURCE.LIST_IMPORTABLE on the target project too: the provider is its admin.
	padmin, err := st.RoleByName(ctx, models.RoleProjectAdmin)
	require.NoError(t, err)
	_, err = st.GrantRole(ctx, store.Grant{User: users["provider"], Role: padmin, Scope: proj.Scope(), CustomerID: customers["consumer"].ID})
	require.NoError(t, err)

	now := time.Now().UTC()
	secret, _ := json.Marshal(moto.SecretOptions())
	require.NoError(t, db.Table("categories").Create(map[string]any{"uuid": models.NewUUID(), "title": "VMs", "created": now, "modified": now}).Error)
	var cat int64
	require.NoError(t, db.Raw("SELECT id FROM categories WHERE title = 'VMs'").Scan(&cat).Error)
	// Private offerings: import into a shared one is staff's (Waldur's user_can_list_importable_resources).
	offering := func(typ string) string {
		id := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": id, "name": typ, "customer_id": customers["provider"].ID,
			"category_id": cat, "type": typ, "state": models.OfferingActive, "shared": false, "secret_options": string(secret),
			"plugin_options": `{}`, "created": now, "modified": now}).Error)
		var oid int64
		require.NoError(t, db.Raw("SELECT id FROM offerings WHERE uuid = ?", id).Scan(&oid).Error)
		require.NoError(t, db.Table("plans").Create(map[string]any{"uuid": models.NewUUID(), "name": "Monthly", "offering_id": oid,
			"unit": "month", "created": now, "modified": now}).Error)
		return id.String()
	}
	ec2Offering, ebsOffering := offering(aws.OfferingInstance), offering(aws.OfferingVolume)

	call := func(user, method, path string, body any, want int, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokens[user])
		rec := httptest.NewRecorder()
		h.Handler().ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, "%s %s: %s", method, path, rec.Body.String())
		if want < 300 {
			apitest.ValidateResponse(t, req, rec)
		}
		if out != nil {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), out))
		}
	}
	importable := func(offering string) map[string]map[string]any {
		t.Helper()
		var items []map[string]any
		call("provider", "GET", "/api/marketplace-provider-offerings/"+offering+"/importable_resources/", nil, http.StatusOK, &items)
		out := map[string]map[string]any{}
		for _, it := range items {
			out[it["backend_id"].(string)] = it
		}
		return out
	}
	pulls := 0
	pull := func() aws.PullResult {
		t.Helper()
		pulls++
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("aws-state-pull-%d", pulls), TaskQueue: workflows.QueueCore},
			aws.AWSPull, aws.PullInput{State: true})
		require.NoError(t, err)
		var out aws.PullResult
		require.NoError(t, run.Get(ctx, &out))
		return out
	}
	resource := func(id string) map[string]any {
		var r map[string]any
		call("consumer", "GET", "/api/marketplace-resources/"+id+"/", nil, http.StatusOK, &r)
		return r
	}

	// Made outside Waldur.
	c := aws.NewClient(aws.Config{AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey, Region: mototest.Region, Endpoint: moto.URL}, nil)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: sdk.String("ami-03cf127a"), InstanceType: types.InstanceTypeT2Micro,
		MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: sdk.String("Name"), Value: sdk.String("legacy-web")}}}}})
	require.NoError(t, err)
	instanceID := sdk.ToString(run.Instances[0].InstanceId)
	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: sdk.String(mototest.Region + "a"), Size: sdk.Int32(3)})
	require.NoError(t, err)
	volumeID := sdk.ToString(vol.VolumeId)
	pull() // the instance shows in /api/aws-instances/?importable=true

	items := importable(ec2Offering)
	require.Contains(t, items, instanceID)
	require.Equal(t, "legacy-web", items[instanceID]["name"])
	require.Equal(t, aws.OfferingInstance, items[instanceID]["type"])
	require.Contains(t, importable(ebsOffering), volumeID)
	call("consumer", "GET", "/api/marketplace-provider-offerings/"+ec2Offering+"/importable_resources/", nil, http.StatusNotFound, nil)

	var vm map[string]any
	started := time.Now()
	call("provider", "POST", "/api/marketplace-provider-offerings/"+ec2Offering+"/import_resource/",
		map[string]any{"backend_id": instanceID, "project": proj.UUID.String()}, http.StatusOK, &vm)
	t.Logf("import_resource of an EC2 instance: %s", time.Since(started).Round(time.Millisecond))
	require.Equal(t, "OK", vm["state"])
	require.Equal(t, instanceID, vm["backend_id"])
	require.Equal(t, "legacy-web", vm["name"])
	require.Equal(t, proj.UUID.String(), vm["project_uuid"])
	require.NotEmpty(t, vm["plan_uuid"], "the offering's only plan")
	var rows []map[string]any
	call("provider", "GET", "/api/aws-instances/?importable=true", nil, http.StatusOK, &rows)
	require.Empty(t, rows, "the imported instance's row is linked at once")
	require.NotContains(t, importable(ec2Offering), instanceID)
	call("provider", "POST", "/api/marketplace-provider-offerings/"+ec2Offering+"/import_resource/",
		map[string]any{"backend_id": instanceID, "project": proj.UUID.String()}, http.StatusBadRequest, nil)
	call("provider", "POST", "/api/marketplace-provider-offerings/"+ec2Offering+"/import_resource/",
		map[string]any{"backend_id": "i-0123456789abcdef0", "project": proj.UUID.String()}, http.StatusBadRequest, nil)

	var disk map[string]any
	call("provider", "POST", "/api/marketplace-provider-offerings/"+ebsOffering+"/import_resource/",
		map[string]any{"backend_id": volumeID, "project": proj.UUID.String()}, http.StatusOK, &disk)
	require.Equal(t, "OK", disk["state"])
	require.Equal(t, volumeID, disk["backend_id"])

	// The state pull keeps both.
	res := pull()
	for _, o := range res.Offerings {
		require.Empty(t, o.Error)
		require.Empty(t, o.State.Erred, o.Name)
	}
	require.Equal(t, "OK", resource(vm["uuid"].(string))["state"])
	call("consumer", "GET", "/api/aws-instances/?backend_id="+instanceID, nil, http.StatusOK, &rows)
	require.Len(t, rows, 1)
	require.Equal(t, vm["uuid"], rows[0]["marketplace_resource_uuid"])

	// The volume deleted behind Waldur's back: the next pull errs it.
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: sdk.String(volumeID)})
	require.NoError(t, err)
	res = pull()
	var erred []models.UUID
	for _, o := range res.Offerings {
		erred = append(erred, o.State.Erred...)
	}
	require.Equal(t, []models.UUID{models.MustParseUUID(disk["uuid"].(string))}, erred)
	d := resource(disk["uuid"].(string))
	require.Equal(t, "Erred", d["state"])
	require.Contains(t, d["error_message"], volumeID)
	require.Equal(t, "OK", resource(vm["uuid"].(string))["state"])

	// Terminating the imported instance through an order terminates it on EC2.
	var term map[string]any
	call("consumer", "POST", "/api/marketplace-resources/"+vm["uuid"].(string)+"/terminate/", nil, http.StatusOK, &term)
	deadline := time.Now().Add(time.Minute)
	for {
		var o map[string]any
		call("consumer", "GET", "/api/marketplace-orders/"+term["order_uuid"].(string)+"/", nil, http.StatusOK, &o)
		if o["state"] == "done" {
			break
		}
		require.NotContains(t, []any{"erred", "rejected", "canceled"}, o["state"], "%v", o["error_message"])
		require.True(t, time.Now().Before(deadline), "terminate order still %v", o["state"])
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	require.Equal(t, "Terminated", resource(vm["uuid"].(string))["state"])
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	require.NoError(t, err)
	require.Equal(t, types.InstanceStateNameTerminated, out.Reservations[0].Instances[0].State.Name)
}
