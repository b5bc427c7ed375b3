package aws_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/aws/mototest"
)

// An AMI moto ships (Amazon's, public) and instance types it knows.
const (
	testImage = "ami-03cf127a"
	testSize  = "t2.micro"
)

func fastProvider() *aws.Provider {
	return &aws.Provider{PollInterval: 10 * time.Millisecond, WaitTimeout: 10 * time.Second}
}

func request(srv *mototest.Server, typ string, ot models.OrderType, attrs map[string]any) providers.Request {
	return providers.Request{OrderUUID: models.NewUUID(), OrderType: ot, ResourceUUID: models.NewUUID(), ResourceName: "vm-1",
		OfferingType: typ, OfferingUUID: models.NewUUID(), SecretOptions: srv.SecretOptions(), Attributes: attrs}
}

func ec2Client(srv *mototest.Server) *ec2.Client {
	return aws.NewClient(aws.Config{AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
		Region: mototest.Region, Endpoint: srv.URL}, nil)
}

// instancesTagged lists the instances (any state) whose tag key is value.
func instancesTagged(t *testing.T, c *ec2.Client, key, value string) []types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: sdk.String("tag:" + key), Values: []string{value}}}})
	require.NoError(t, err)
	var all []types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func isPermanent(err error) bool {
	var pe *providers.PermanentError
	return errors.As(err, &pe)
}

func TestInstanceLifecycle(t *testing.T) {
	srv := mototest.Start(t)
	p := fastProvider()
	ctx := context.Background()
	c := ec2Client(srv)

	req := request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize, "volume_size": 20.0, "user_data": "#!/bin/sh\necho hi"})
	require.NoError(t, p.Validate(ctx, req))
	res, err := p.Create(ctx, req)
	require.NoError(t, err)
	require.True(t, res.Done)
	require.Regexp(t, `^i-[0-9a-f]+$`, res.BackendID)
	require.Equal(t, "running", res.Metadata["state"])
	require.Equal(t, testSize, res.Metadata["instance_type"])
	require.Equal(t, testImage, res.Metadata["image_id"])
	require.Equal(t, mototest.Region, res.Metadata["region"])
	require.NotEmpty(t, res.Metadata["private_ip"])

	// Tagged with the order and the resource.
	got := instancesTagged(t, c, aws.TagOrder, req.OrderUUID.String())
	require.Len(t, got, 1)
	require.Equal(t, res.BackendID, sdk.ToString(got[0].InstanceId))
	require.Equal(t, "vm-1", tagOf(got[0].Tags, aws.TagName))
	require.Equal(t, req.ResourceUUID.String(), tagOf(got[0].Tags, aws.TagResource))

	// A retried create returns the same instance and makes no other.
	again, err := p.Create(ctx, req)
	require.NoError(t, err)
	require.Equal(t, res.BackendID, again.BackendID)
	require.Len(t, instancesTagged(t, c, aws.TagOrder, req.OrderUUID.String()), 1)

	// Pull reads the instance back.
	req.BackendID = res.BackendID
	pulled, err := p.Pull(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "running", pulled.Metadata["state"])

	// Resize: stopped, modified, started.
	up := req
	up.OrderUUID, up.OrderType, up.Attributes = models.NewUUID(), models.OrderUpdate, map[string]any{"size": "t2.small"}
	require.NoError(t, p.Validate(ctx, up))
	resized, err := p.Update(ctx, up)
	require.NoError(t, err)
	require.Equal(t, "t2.small", resized.Metadata["instance_type"])
	require.Equal(t, "running", resized.Metadata["state"])
	// An update without a size (new limits, another plan) needs nothing from EC2.
	up.Attributes = map[string]any{"old_limits": map[string]any{}}
	same, err := p.Update(ctx, up)
	require.NoError(t, err)
	require.Equal(t, "t2.small", same.Metadata["instance_type"])

	// Terminate, twice: the second finds it terminated and is done too.
	term := req
	term.OrderUUID, term.OrderType = models.NewUUID(), models.OrderTerminate
	for i := 0; i < 2; i++ {
		tr, err := p.Terminate(ctx, term)
		require.NoError(t, err)
		require.True(t, tr.Done)
	}
	all := instancesTagged(t, c, aws.TagResource, req.ResourceUUID.String())
	require.Len(t, all, 1)
	require.Equal(t, types.InstanceStateNameTerminated, all[0].State.Name)

	// Pull now reports it gone; a resize refuses for good.
	_, err = p.Pull(ctx, req)
	require.ErrorIs(t, err, aws.ErrGone)
	require.True(t, isPermanent(err))
	up.Attributes = map[string]any{"size": "t2.medium"}
	_, err = p.Update(ctx, up)
	require.True(t, isPermanent(err), "%v", err)

	// Terminating an instance EC2 never heard of is done as well.
	term.BackendID = "i-0123456789abcdef0"
	tr, err := p.Terminate(ctx, term)
	require.NoError(t, err)
	require.True(t, tr.Done)
	// So is one whose create never recorded an id and made nothing.
	term.BackendID, term.ResourceUUID = "", models.NewUUID()
	tr, err = p.Terminate(ctx, term)
	require.NoError(t, err)
	require.True(t, tr.Done)
}

func tagOf(ts []types.Tag, key string) string {
	for _, t := range ts {
		if sdk.ToString(t.Key) == key {
			return sdk.ToString(t.Value)
		}
	}
	return ""
}

// slowEC2 reports instances as pending for the first polls, as a real
// region does for a while after RunInstances.
type slowEC2 struct {
	aws.EC2
	pendingPolls int32
	polls        atomic.Int32
	runs         atomic.Int32
}

func (s *slowEC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	s.runs.Add(1)
	return s.EC2.RunInstances(ctx, in, o...)
}

func (s *slowEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := s.EC2.DescribeInstances(ctx, in, o...)
	if err != nil || len(in.InstanceIds) == 0 {
		return out, err
	}
	if n := s.polls.Add(1); s.pendingPolls < 0 || n <= s.pendingPolls {
		for _, r := range out.Reservations {
			for i := range r.Instances {
				r.Instances[i].State = &types.InstanceState{Name: types.InstanceStateNamePending}
			}
		}
	}
	return out, err
}

func TestCreateWaitsAndRetriesSafely(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()

	t.Run("waits until running", func(t *testing.T) {
		slow := &slowEC2{pendingPolls: 3}
		p := fastProvider()
		p.NewEC2 = func(c aws.Config) aws.EC2 { slow.EC2 = aws.NewClient(c, nil); return slow }
		res, err := p.Create(ctx, request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize}))
		require.NoError(t, err)
		require.Equal(t, "running", res.Metadata["state"])
		require.EqualValues(t, 4, slow.polls.Load(), "three pending polls, then running")
	})

	t.Run("a timed-out wait is retryable and the retry reuses the instance", func(t *testing.T) {
		slow := &slowEC2{pendingPolls: -1}
		p := fastProvider()
		p.WaitTimeout = 50 * time.Millisecond
		p.NewEC2 = func(c aws.Config) aws.EC2 { slow.EC2 = aws.NewClient(c, nil); return slow }
		req := request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize})
		res, err := p.Create(ctx, req)
		require.Error(t, err)
		require.False(t, isPermanent(err), "a slow backend is worth another attempt: %v", err)
		require.NotEmpty(t, res.BackendID)

		slow.pendingPolls = 0
		again, err := p.Create(ctx, req)
		require.NoError(t, err)
		require.Equal(t, res.BackendID, again.BackendID)
		require.EqualValues(t, 1, slow.runs.Load(), "RunInstances ran once")
		require.Len(t, instancesTagged(t, ec2Client(srv), aws.TagOrder, req.OrderUUID.String()), 1)
	})

	t.Run("a cancelled context stops the wait", func(t *testing.T) {
		slow := &slowEC2{pendingPolls: -1}
		p := fastProvider()
		p.NewEC2 = func(c aws.Config) aws.EC2 { slow.EC2 = aws.NewClient(c, nil); return slow }
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := p.Create(cctx, request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize}))
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestVolumeLifecycle(t *testing.T) {
	srv := mototest.Start(t)
	p := fastProvider()
	ctx := context.Background()
	c := ec2Client(srv)

	vm, err := p.Create(ctx, request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize}))
	require.NoError(t, err)
	vm2, err := p.Create(ctx, request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize}))
	require.NoError(t, err)

	// Created in the instance's zone and attached to it.
	req := request(srv, aws.OfferingVolume, models.OrderCreate, map[string]any{"size": 5.0, "volume_type": "gp3", "instance": vm.BackendID})
	require.NoError(t, p.Validate(ctx, req))
	res, err := p.Create(ctx, req)
	require.NoError(t, err)
	require.Regexp(t, `^vol-[0-9a-f]+$`, res.BackendID)
	require.Equal(t, "in-use", res.Metadata["state"])
	require.Equal(t, vm.BackendID, res.Metadata["instance_id"])
	require.Equal(t, "/dev/sdf", res.Metadata["device"])
	require.Equal(t, vm.Metadata["availability_zone"], res.Metadata["availability_zone"])
	require.EqualValues(t, 5, res.Metadata["size"])

	// A retry returns the same volume.
	again, err := p.Create(ctx, req)
	require.NoError(t, err)
	require.Equal(t, res.BackendID, again.BackendID)
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: sdk.String("tag:" + aws.TagOrder), Values: []string{req.OrderUUID.String()}}}})
	require.NoError(t, err)
	require.Len(t, vols.Volumes, 1)

	up := req
	up.BackendID, up.OrderType = res.BackendID, models.OrderUpdate
	steps := []struct {
		name     string
		attrs    map[string]any
		instance string
		state    string
		size     int32
	}{
		{"move to another instance", map[string]any{"instance": vm2.BackendID, "device": "/dev/sdg"}, vm2.BackendID, "in-use", 5},
		{"detach", map[string]any{"instance": ""}, "", "available", 5},
		{"grow", map[string]any{"size": 8.0}, "", "available", 8},
		{"attach again", map[string]any{"instance": vm.BackendID}, vm.BackendID, "in-use", 8},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			up.OrderUUID, up.Attributes = models.NewUUID(), s.attrs
			require.NoError(t, p.Validate(ctx, up))
			r, err := p.Update(ctx, up)
			require.NoError(t, err)
			require.Equal(t, s.instance, r.Metadata["instance_id"])
			require.Equal(t, s.state, r.Metadata["state"])
			require.EqualValues(t, s.size, r.Metadata["size"])
		})
	}
	up.Attributes = map[string]any{"size": 2.0}
	_, err = p.Update(ctx, up)
	require.True(t, isPermanent(err), "EBS volumes do not shrink: %v", err)

	// Delete detaches first; a second delete finds nothing and is done.
	del := req
	del.BackendID, del.OrderType = res.BackendID, models.OrderTerminate
	for i := 0; i < 2; i++ {
		r, err := p.Terminate(ctx, del)
		require.NoError(t, err)
		require.True(t, r.Done)
	}
	_, err = p.Pull(ctx, del)
	require.ErrorIs(t, err, aws.ErrGone)

	// A volume in a named zone, left unattached.
	free := request(srv, aws.OfferingVolume, models.OrderCreate, map[string]any{"size": 1.0, "availability_zone": mototest.Region + "b"})
	fr, err := p.Create(ctx, free)
	require.NoError(t, err)
	require.Equal(t, "available", fr.Metadata["state"])
	require.Equal(t, mototest.Region+"b", fr.Metadata["availability_zone"])
}

func TestValidate(t *testing.T) {
	secret := map[string]any{"access_key_id": "a", "secret_access_key": "s", "region": "eu-west-1"}
	cases := []struct {
		name  string
		typ   string
		ot    models.OrderType
		sec   map[string]any
		attrs map[string]any
		bad   string // a field named in the error; "" = valid
	}{
		{"instance", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro"}, ""},
		{"instance with everything", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro", "volume_size": 30, "subnet": "subnet-1", "ssh_public_key": "ssh-ed25519 AAAA", "user_data": "x"}, ""},
		{"no image", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"size": "t3.micro"}, "image"},
		{"not an AMI", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ubuntu", "size": "t3.micro"}, "image"},
		{"blank size", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": " "}, "size"},
		{"fractional volume size", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro", "volume_size": 1.5}, "volume_size"},
		{"huge volume size", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro", "volume_size": 20000}, "volume_size"},
		{"two keys", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro", "ssh_key": "k", "ssh_public_key": "ssh-rsa A"}, "ssh_key"},
		{"bad subnet", aws.OfferingInstance, models.OrderCreate, secret, map[string]any{"image": "ami-1", "size": "t3.micro", "subnet": "net-1"}, "subnet"},
		{"unconfigured offering", aws.OfferingInstance, models.OrderCreate, map[string]any{"region": "x"}, map[string]any{"image": "ami-1", "size": "t3.micro"}, "access_key_id"},
		{"volume", aws.OfferingVolume, models.OrderCreate, secret, map[string]any{"size": 10, "volume_type": "gp3", "instance": "i-1"}, ""},
		{"volume without size", aws.OfferingVolume, models.OrderCreate, secret, map[string]any{}, "size"},
		{"volume size as text", aws.OfferingVolume, models.OrderCreate, secret, map[string]any{"size": "10"}, "size"},
		{"unknown volume type", aws.OfferingVolume, models.OrderCreate, secret, map[string]any{"size": 10, "volume_type": "ssd"}, "volume_type"},
		{"resize", aws.OfferingInstance, models.OrderUpdate, secret, map[string]any{"size": "t3.large"}, ""},
		{"resize to a number", aws.OfferingInstance, models.OrderUpdate, secret, map[string]any{"size": 3}, "size"},
		{"volume attach to a non-instance", aws.OfferingVolume, models.OrderUpdate, secret, map[string]any{"instance": "vol-1"}, "instance"},
		{"terminate", aws.OfferingVolume, models.OrderTerminate, secret, nil, ""},
		{"another type", "AWS.Bucket", models.OrderCreate, secret, nil, "AWS.Bucket"},
	}
	p := &aws.Provider{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Validate(context.Background(), providers.Request{OfferingType: tc.typ, OrderType: tc.ot, SecretOptions: tc.sec, Attributes: tc.attrs})
			if tc.bad == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, models.CodeInvalid, models.ErrorCode(err))
			require.Contains(t, err.Error(), tc.bad)
		})
	}
}

func TestFailuresAreClassified(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	p := fastProvider()

	cases := []struct {
		name      string
		req       providers.Request
		permanent bool
	}{
		{"unknown subnet", request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize, "subnet": "subnet-00000000"}), true},
		{"volume for an unknown instance", request(srv, aws.OfferingVolume, models.OrderCreate, map[string]any{"size": 1.0, "instance": "i-00000000000000000"}), true},
		{"bad attributes", request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"size": testSize}), true},
		{"unconfigured offering", providers.Request{OrderUUID: models.NewUUID(), OfferingType: aws.OfferingInstance, OrderType: models.OrderCreate,
			Attributes: map[string]any{"image": testImage, "size": testSize}}, true},
		{"unreachable endpoint", func() providers.Request {
			r := request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize})
			r.SecretOptions = map[string]any{"access_key_id": "a", "secret_access_key": "b", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:1"}
			return r
		}(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Create(ctx, tc.req)
			require.Error(t, err)
			require.Equal(t, tc.permanent, isPermanent(err), "%v", err)
		})
	}
}

func TestCatalogAndListings(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	p := fastProvider()

	cat, err := p.Catalog(ctx, srv.SecretOptions(), map[string]any{"image_owners": []any{"amazon"}, "instance_types": []any{"t2.micro", "m5.large"}})
	require.NoError(t, err)
	require.Equal(t, mototest.Region, cat.Region)
	var regions []string
	for _, r := range cat.Regions {
		regions = append(regions, r.Name)
	}
	require.Contains(t, regions, "us-east-1")
	require.Contains(t, regions, "eu-west-1")
	require.NotEmpty(t, cat.Images)
	var found bool
	for _, im := range cat.Images {
		found = found || im.ID == testImage
		require.NotEmpty(t, im.Name)
	}
	require.True(t, found, "moto's Amazon AMI %s is listed", testImage)
	require.Len(t, cat.Sizes, 2)
	require.Equal(t, aws.Size{Name: "m5.large", Cores: 2, RAM: 8192, Description: cat.Sizes[0].Description}, cat.Sizes[0])
	require.Equal(t, "t2.micro", cat.Sizes[1].Name)
	require.EqualValues(t, 1, cat.Sizes[1].Cores)
	require.EqualValues(t, 1024, cat.Sizes[1].RAM)

	// Without options: the account's own images only (none here), every instance type.
	all, err := p.Catalog(ctx, srv.SecretOptions(), nil)
	require.NoError(t, err)
	require.Empty(t, all.Images)
	require.Greater(t, len(all.Sizes), 100)

	// Listings: one instance made through the provider, one made outside Waldur.
	req := request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize})
	mine, err := p.Create(ctx, req)
	require.NoError(t, err)
	out, err := ec2Client(srv).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: sdk.String(testImage), InstanceType: types.InstanceTypeT2Nano,
		MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1)})
	require.NoError(t, err)
	foreign := sdk.ToString(out.Instances[0].InstanceId)
	insts, err := p.Instances(ctx, srv.SecretOptions())
	require.NoError(t, err)
	byID := map[string]aws.Instance{}
	for _, i := range insts {
		byID[i.ID] = i
	}
	require.Equal(t, req.ResourceUUID.String(), byID[mine.BackendID].ResourceUUID)
	require.Equal(t, "vm-1", byID[mine.BackendID].Name)
	require.Equal(t, "", byID[foreign].ResourceUUID)
	require.Equal(t, "t2.nano", byID[foreign].Type)
	require.False(t, byID[foreign].Gone())

	vreq := request(srv, aws.OfferingVolume, models.OrderCreate, map[string]any{"size": 3.0, "instance": foreign})
	vol, err := p.Create(ctx, vreq)
	require.NoError(t, err)
	vols, err := p.Volumes(ctx, srv.SecretOptions())
	require.NoError(t, err)
	var v aws.Volume
	for _, x := range vols {
		if x.ID == vol.BackendID {
			v = x
		}
	}
	require.Equal(t, aws.Volume{ID: vol.BackendID, Name: "vm-1", State: "in-use", Type: v.Type, AvailabilityZone: v.AvailabilityZone, Size: 3,
		InstanceID: foreign, Device: "/dev/sdf", Created: v.Created, ResourceUUID: vreq.ResourceUUID.String()}, v)
}
