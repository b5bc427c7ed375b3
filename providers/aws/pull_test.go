package aws_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/aws/mototest"
	"github.com/waldur-go/waldur/workflows"
)

// Moto's public Amazon AMI and instance types used by the AWS tests.
const (
	awsImage = "ami-03cf127a"
	awsSize  = "t2.micro"
)

type awsEnv struct {
	st       *store.Store
	db       *gorm.DB
	c        client.Client
	moto     *mototest.Server
	ec2      *ec2.Client
	queue    string
	project  int64
	instance int64 // AWS.Instance offering
	volume   int64 // AWS.Volume offering
	prov     *aws.Provider
}

// newAWSEnv: the order workflow and the AWS pull on a real Temporal server,
// the AWS provider and pull activities on their own queue, offerings
// pointing at moto.
func newAWSEnv(t testing.TB, srv *temporaltest.Server, moto *mototest.Server, db *gorm.DB) *awsEnv {
	workflows.SetOrderPolicies(fastPolicies())
	t.Cleanup(func() { workflows.SetOrderPolicies(workflows.DefaultOrderPolicies()) })
	e := &awsEnv{st: store.New(db), db: db, c: srv.Client(t), moto: moto, queue: "aws-" + models.NewUUID().String()[:8],
		prov: &aws.Provider{PollInterval: 20 * time.Millisecond, WaitTimeout: 20 * time.Second}}
	e.ec2 = aws.NewClient(aws.Config{AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey, Region: mototest.Region, Endpoint: moto.URL}, nil)
	// The provider on a queue of this test's own (production: aws.Queue).
	reg := providers.NewRegistry()
	reg.Register(e.prov, e.queue, aws.OfferingInstance, aws.OfferingVolume)

	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		workflows.RegisterOrders(w, &activities.Orders{Store: e.st, Providers: reg}, &workflows.OrderDispatcher{Store: e.st})
		aws.RegisterCore(w, &aws.Activities{Store: e.st, Provider: e.prov})
	})
	wr.Add(e.queue, func(w worker.Registry) {
		workflows.RegisterProvision(w, &activities.Provision{Providers: reg, HeartbeatEvery: 100 * time.Millisecond})
		aws.RegisterQueue(w, &aws.Activities{Store: e.st, Provider: e.prov})
	})
	ws, err := wr.Start(e.c, []string{workflows.QueueCore, e.queue}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)

	now := time.Now().UTC()
	ins := func(table string, v map[string]any) int64 {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n
	}
	cust := ins("customers", map[string]any{"name": "c", "accounting_start_date": now, "created": now, "modified": now})
	e.project = ins("projects", map[string]any{"name": "p", "customer_id": cust, "created": now, "modified": now})
	cat := ins("categories", map[string]any{"title": "VMs", "created": now, "modified": now})
	secret, _ := json.Marshal(moto.SecretOptions())
	plugin := `{"image_owners":["amazon"],"instance_types":["t2.micro","t2.small"]}`
	e.instance = ins("offerings", map[string]any{"name": "EC2", "customer_id": cust, "category_id": cat, "type": aws.OfferingInstance,
		"state": models.OfferingActive, "secret_options": string(secret), "plugin_options": plugin, "created": now, "modified": now})
	e.volume = ins("offerings", map[string]any{"name": "EBS", "customer_id": cust, "category_id": cat, "type": aws.OfferingVolume,
		"state": models.OfferingActive, "secret_options": string(secret), "plugin_options": `{}`, "created": now, "modified": now})
	return e
}

// run places an order and waits for its workflow's final state.
func (e *awsEnv) run(t testing.TB, o store.NewOrder) (*models.Order, models.OrderState) {
	t.Helper()
	ctx := context.Background()
	o.ProjectID = e.project
	o.Review = models.ReviewContext{OrderType: o.Type, OfferingType: map[int64]string{e.instance: aws.OfferingInstance, e.volume: aws.OfferingVolume}[o.OfferingID], CreatorHasApprove: true}
	order, err := e.st.CreateOrder(ctx, o)
	require.NoError(t, err)
	require.Equal(t, models.OrderExecuting, order.State)
	require.NoError(t, workflows.StartOrder(ctx, e.c, order.UUID))
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var st models.OrderState
	require.NoError(t, e.c.GetWorkflow(wctx, workflows.OrderWorkflowID(order.UUID), "").Get(wctx, &st))
	return order, st
}

type resourceRow struct {
	UUID            string
	State           models.ResourceState
	BackendID       string
	BackendMetadata string
	ErrorMessage    string
}

func (e *awsEnv) resource(t testing.TB, id int64) resourceRow {
	t.Helper()
	var r resourceRow
	require.NoError(t, e.db.Raw("SELECT uuid, state, backend_id, backend_metadata, error_message FROM resources WHERE id = ?", id).Scan(&r).Error)
	return r
}

func (e *awsEnv) ec2Instances(t testing.TB, filters ...types.Filter) []types.Instance {
	t.Helper()
	out, err := e.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: filters})
	require.NoError(t, err)
	var all []types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func tagIs(key, value string) types.Filter {
	return types.Filter{Name: sdk.String("tag:" + key), Values: []string{value}}
}

func (e *awsEnv) pull(t testing.TB, in aws.PullInput) aws.PullResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in.Queue = e.queue
	run, err := e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "aws-pull-" + models.NewUUID().String(), TaskQueue: workflows.QueueCore}, aws.AWSPull, in)
	require.NoError(t, err)
	var res aws.PullResult
	require.NoError(t, run.Get(ctx, &res))
	return res
}

// TestAWSOnMoto runs AWS orders end to end through the order workflow on
// a real Temporal server against moto: an instance and a volume attached
// to it are created, the catalog and state pulls fill the tables, an
// instance terminated behind Waldur's back errs its resource, and
// terminate orders leave nothing running.
func TestAWSOnMoto(t *testing.T) {
	srv := temporaltest.Start(t)
	moto := mototest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		require.NoError(t, moto.Reset(ctx))
		e := newAWSEnv(t, srv, moto, db)

		// An instance order: done, the resource OK with the instance's id and addresses.
		start := time.Now()
		vm, st := e.run(t, store.NewOrder{Type: models.OrderCreate, OfferingID: e.instance,
			Attributes: map[string]any{"name": "web", "image": awsImage, "size": awsSize}})
		t.Logf("instance order: create to done in %s", time.Since(start).Round(time.Millisecond))
		require.Equal(t, models.OrderDone, st)
		r := e.resource(t, vm.ResourceID)
		require.Equal(t, models.ResourceOK, r.State)
		require.Regexp(t, `^i-[0-9a-f]+$`, r.BackendID)
		var meta map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.BackendMetadata), &meta))
		require.Equal(t, "running", meta["state"])
		require.NotEmpty(t, meta["private_ip"])
		got := e.ec2Instances(t, tagIs(aws.TagOrder, vm.UUID.String()))
		require.Len(t, got, 1, "exactly one instance for the order")
		require.Equal(t, r.BackendID, sdk.ToString(got[0].InstanceId))
		require.Equal(t, types.InstanceStateNameRunning, got[0].State.Name)

		// The provider called again for the same order (a retried activity) finds it.
		info, err := e.st.OrderInfo(ctx, vm.UUID)
		require.NoError(t, err)
		again, err := e.prov.Create(ctx, providers.Request{OrderUUID: vm.UUID, ResourceUUID: info.ResourceUUID, OfferingType: aws.OfferingInstance,
			SecretOptions: info.SecretOptions, Attributes: info.Order.Attributes})
		require.NoError(t, err)
		require.Equal(t, r.BackendID, again.BackendID)
		require.Len(t, e.ec2Instances(t, tagIs(aws.TagOrder, vm.UUID.String())), 1)

		// A volume attached to it.
		disk, st := e.run(t, store.NewOrder{Type: models.OrderCreate, OfferingID: e.volume,
			Attributes: map[string]any{"name": "data", "size": 4, "instance": r.BackendID}})
		require.Equal(t, models.OrderDone, st)
		dr := e.resource(t, disk.ResourceID)
		require.Equal(t, models.ResourceOK, dr.State)
		vols, err := e.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{dr.BackendID}})
		require.NoError(t, err)
		require.Len(t, vols.Volumes, 1)
		require.Equal(t, types.VolumeStateInUse, vols.Volumes[0].State)
		require.Equal(t, r.BackendID, sdk.ToString(vols.Volumes[0].Attachments[0].InstanceId))

		// A refused order (a volume for an instance EC2 does not know): erred at once.
		bad, st := e.run(t, store.NewOrder{Type: models.OrderCreate, OfferingID: e.volume,
			Attributes: map[string]any{"name": "bad", "size": 1, "instance": "i-00000000000000000"}})
		require.Equal(t, models.OrderErred, st)
		var msg string
		require.NoError(t, db.Raw("SELECT error_message FROM orders WHERE uuid = ?", bad.UUID).Scan(&msg).Error)
		require.Contains(t, msg, "i-00000000000000000 does not exist")

		// Pulls: the catalog, then the state with an instance made outside Waldur.
		res := e.pull(t, aws.PullInput{Catalog: true})
		require.Len(t, res.Offerings, 2)
		for _, o := range res.Offerings {
			require.Empty(t, o.Error)
			require.Positive(t, o.Catalog.Created)
		}
		var images, sizes int64
		require.NoError(t, db.Table("aws_images").Where("offering_id = ? AND backend_id = ?", e.instance, awsImage).Count(&images).Error)
		require.EqualValues(t, 1, images)
		require.NoError(t, db.Table("aws_sizes").Where("offering_id = ?", e.instance).Count(&sizes).Error)
		require.EqualValues(t, 2, sizes, "plugin_options.instance_types limits the sizes")

		legacy, err := e.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: sdk.String(awsImage), InstanceType: types.InstanceTypeT2Nano, MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1)})
		require.NoError(t, err)
		legacyID := sdk.ToString(legacy.Instances[0].InstanceId)

		// A second instance, terminated behind Waldur's back.
		vm2, st := e.run(t, store.NewOrder{Type: models.OrderCreate, OfferingID: e.instance,
			Attributes: map[string]any{"name": "doomed", "image": awsImage, "size": awsSize}})
		require.Equal(t, models.OrderDone, st)
		r2 := e.resource(t, vm2.ResourceID)
		_, err = e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{r2.BackendID}})
		require.NoError(t, err)

		res = e.pull(t, aws.PullInput{State: true})
		var erred []models.UUID
		for _, o := range res.Offerings {
			require.Empty(t, o.Error)
			erred = append(erred, o.State.Erred...)
		}
		require.Len(t, erred, 1)
		require.Equal(t, r2.UUID, erred[0].String())
		r2 = e.resource(t, vm2.ResourceID)
		require.Equal(t, models.ResourceErred, r2.State)
		require.Equal(t, "Instance "+r2.BackendID+" is terminated on AWS.", r2.ErrorMessage)
		var events int64
		require.NoError(t, db.Table("events").Where("event_type = ?", "marketplace_resource_erred_on_backend").Count(&events).Error)
		require.EqualValues(t, 1, events)
		require.Equal(t, models.ResourceOK, e.resource(t, vm.ResourceID).State, "the live instance is untouched")
		require.Equal(t, models.ResourceOK, e.resource(t, disk.ResourceID).State, "the live volume is untouched")
		// The import listing: the instance made outside Waldur has no resource.
		var rows []aws.InstanceRow
		require.NoError(t, db.Where("offering_id = ?", e.instance).Order("backend_id").Find(&rows).Error)
		linked := map[string]*int64{}
		for _, row := range rows {
			linked[row.BackendID] = row.ResourceID
		}
		require.Contains(t, linked, legacyID)
		require.Nil(t, linked[legacyID])
		require.NotNil(t, linked[r.BackendID])
		require.Equal(t, vm.ResourceID, *linked[r.BackendID])
		var volRows int64
		require.NoError(t, db.Table("aws_volumes").Where("offering_id = ? AND backend_id = ? AND resource_id = ?", e.volume, dr.BackendID, disk.ResourceID).Count(&volRows).Error)
		require.EqualValues(t, 1, volRows)
		// A second state pull finds nothing new to err.
		res = e.pull(t, aws.PullInput{State: true})
		for _, o := range res.Offerings {
			require.Empty(t, o.State.Erred)
		}

		// A volume deleted behind Waldur's back errs its resource too.
		lost, st := e.run(t, store.NewOrder{Type: models.OrderCreate, OfferingID: e.volume, Attributes: map[string]any{"name": "scratch", "size": 1}})
		require.Equal(t, models.OrderDone, st)
		lr := e.resource(t, lost.ResourceID)
		_, err = e.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: sdk.String(lr.BackendID)})
		require.NoError(t, err)
		res = e.pull(t, aws.PullInput{State: true})
		erred = nil
		for _, o := range res.Offerings {
			erred = append(erred, o.State.Erred...)
		}
		require.Len(t, erred, 1)
		require.Equal(t, lr.UUID, erred[0].String())
		lr = e.resource(t, lost.ResourceID)
		require.Equal(t, models.ResourceErred, lr.State)
		require.Equal(t, "Volume "+lr.BackendID+" no longer exists on AWS.", lr.ErrorMessage)

		// Terminate: the volume, then the instance.
		_, st = e.run(t, store.NewOrder{Type: models.OrderTerminate, OfferingID: e.volume, ResourceID: disk.ResourceID})
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, models.ResourceTerminated, e.resource(t, disk.ResourceID).State)
		_, err = e.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{dr.BackendID}})
		require.Error(t, err, "the volume is gone")
		_, st = e.run(t, store.NewOrder{Type: models.OrderTerminate, OfferingID: e.instance, ResourceID: vm.ResourceID})
		require.Equal(t, models.OrderDone, st)
		require.Equal(t, models.ResourceTerminated, e.resource(t, vm.ResourceID).State)
		for _, i := range e.ec2Instances(t) {
			if id := sdk.ToString(i.InstanceId); id != legacyID {
				require.Equal(t, types.InstanceStateNameTerminated, i.State.Name, "instance %s", id)
			}
		}
	})
}

// TestAWSPullWithoutOfferings: the schedules run everywhere; without AWS
// offerings a pull needs no aws worker and ends empty.
func TestAWSPullWithoutOfferings(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	st := store.New(dbtest.Migrated(t, config.SQLite))
	wr := workflows.NewRegistry()
	wr.Add(workflows.QueueCore, func(w worker.Registry) {
		aws.RegisterCore(w, &aws.Activities{Store: st, Provider: &aws.Provider{}})
	})
	ws, err := wr.Start(c, []string{workflows.QueueCore}, worker.Options{})
	require.NoError(t, err)
	t.Cleanup(ws.Stop)
	for _, s := range []workflows.Schedule{aws.CatalogPullSchedule, aws.StatePullSchedule} {
		t.Run(s.ID, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: s.ID + "-test", TaskQueue: s.TaskQueue}, s.Workflow, s.Args...)
			require.NoError(t, err)
			var res aws.PullResult
			require.NoError(t, run.Get(ctx, &res))
			require.Empty(t, res.Offerings)
		})
	}
}
