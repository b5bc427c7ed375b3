package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestAWSThroughTheAPI: the application as built (app.Registry's workers on
// every queue, app.NewAPI) orders an EC2 instance and an EBS volume
// attached to it on moto through /api/marketplace-orders/, sees the
// instance in /api/aws-instances/ after a state pull, and terminates both
// through /api/marketplace-resources/…/terminate/: nothing is left running.
func TestAWSThroughTheAPI(t *testing.T) {
	srv := temporaltest.Start(t)
	moto := mototest.Start(t)
	db := dbtest.Migrated(t, config.SQLite)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc := srv.Client(t)
	reg := app.Registry(&app.Deps{DB: db, Logger: quiet})
	ws, err := reg.Start(tc, reg.Queues(), worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	api, err := app.NewAPI(db, tc, quiet, "default")
	require.NoError(t, err)

	st := store.New(db)
	owner := &models.User{Username: "owner", Email: "owner@example.com", IsActive: true}
	require.NoError(t, st.CreateUser(ctx, owner, ""))
	tok, err := st.EnsureToken(ctx, owner.ID)
	require.NoError(t, err)
	actx := models.WithActor(ctx, models.Actor{User: owner})
	cust := &models.Customer{Name: "Cloud Org"}
	require.NoError(t, st.CreateCustomer(actx, cust))
	proj := &models.Project{Name: "Web"}
	require.NoError(t, st.CreateProject(actx, proj, cust))
	role, err := st.RoleByName(ctx, models.RoleCustomerOwner)
	require.NoError(t, err)
	_, err = st.GrantRole(ctx, store.Grant{User: owner, Role: role, Scope: cust.Scope(), CustomerID: cust.ID})
	require.NoError(t, err)
	now := time.Now().UTC()
	secret, _ := json.Marshal(moto.SecretOptions())
	require.NoError(t, db.Table("categories").Create(map[string]any{"uuid": models.NewUUID(), "title": "VMs", "created": now, "modified": now}).Error)
	var cat int64
	require.NoError(t, db.Raw("SELECT id FROM categories WHERE title = 'VMs'").Scan(&cat).Error)
	offering := func(typ string) string {
		id := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": id, "name": typ, "customer_id": cust.ID, "category_id": cat, "type": typ,
			"state": models.OfferingActive, "shared": true, "secret_options": string(secret), "plugin_options": `{"instance_types":["t2.micro"]}`,
			"created": now, "modified": now}).Error)
		return id.String()
	}
	ec2Offering, ebsOffering := offering(aws.OfferingInstance), offering(aws.OfferingVolume)

	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tok.Key)
		rec := httptest.NewRecorder()
		api.Handler().ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, "%s %s: %s", method, path, rec.Body.String())
		var out map[string]any
		if rec.Body.Len() > 0 && rec.Body.Bytes()[0] == '{' {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		}
		return out
	}
	// waitDone polls the order until it is final.
	waitDone := func(order string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			o := call("GET", "/api/marketplace-orders/"+order+"/", nil, http.StatusOK)
			switch o["state"] {
			case "done":
				return o
			case "erred", "rejected", "canceled":
				t.Fatalf("order %s ended %v: %v", order, o["state"], o["error_message"])
			}
			require.True(t, time.Now().Before(deadline), "order %s still %v", order, o["state"])
			time.Sleep(50 * time.Millisecond)
		}
	}

	start := time.Now()
	o := call("POST", "/api/marketplace-orders/", map[string]any{"offering": ec2Offering, "project": proj.UUID.String(),
		"attributes": map[string]any{"name": "web", "image": "ami-03cf127a", "size": "t2.micro"}}, http.StatusCreated)
	o = waitDone(o["uuid"].(string))
	t.Logf("instance order through the API: %s", time.Since(start).Round(time.Millisecond))
	vm := call("GET", "/api/marketplace-resources/"+o["marketplace_resource_uuid"].(string)+"/", nil, http.StatusOK)
	require.Equal(t, "OK", vm["state"])
	instanceID := vm["backend_id"].(string)
	require.Regexp(t, `^i-`, instanceID)

	o = call("POST", "/api/marketplace-orders/", map[string]any{"offering": ebsOffering, "project": proj.UUID.String(),
		"attributes": map[string]any{"name": "data", "size": 2, "instance": instanceID}}, http.StatusCreated)
	o = waitDone(o["uuid"].(string))
	disk := call("GET", "/api/marketplace-resources/"+o["marketplace_resource_uuid"].(string)+"/", nil, http.StatusOK)
	require.Equal(t, "OK", disk["state"])

	c := aws.NewClient(aws.Config{AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey, Region: mototest.Region, Endpoint: moto.URL}, nil)
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{disk["backend_id"].(string)}})
	require.NoError(t, err)
	require.Equal(t, types.VolumeStateInUse, vols.Volumes[0].State)

	// The scheduled pulls, run once now: the instance shows in /api/aws-instances/, the size in /api/aws-sizes/.
	for _, s := range []workflows.Schedule{aws.CatalogPullSchedule, aws.StatePullSchedule} {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: s.ID + "-now", TaskQueue: s.TaskQueue}, s.Workflow, s.Args...)
		require.NoError(t, err)
		require.NoError(t, run.Get(ctx, nil))
	}
	req := httptest.NewRequest("GET", "/api/aws-instances/?backend_id="+instanceID, nil)
	req.Header.Set("Authorization", "Token "+tok.Key)
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	var insts []map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &insts))
	require.Len(t, insts, 1)
	require.Equal(t, vm["uuid"], insts[0]["marketplace_resource_uuid"])
	require.EqualValues(t, 1024, insts[0]["ram"], "the size comes from the pulled catalog")

	// Terminate both through the API.
	for _, r := range []map[string]any{disk, vm} {
		ord := call("POST", "/api/marketplace-resources/"+r["uuid"].(string)+"/terminate/", nil, http.StatusOK)
		waitDone(ord["order_uuid"].(string))
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	require.NoError(t, err)
	for _, res := range out.Reservations {
		for _, i := range res.Instances {
			require.Equal(t, types.InstanceStateNameTerminated, i.State.Name, "instance %s", sdk.ToString(i.InstanceId))
		}
	}
	vols, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	require.NoError(t, err)
	require.Empty(t, vols.Volumes, "no volume is left")
}
