package aws

// The provider (backend half) of the AWS offerings.
//
// The offering types are this project's: Waldur has no marketplace plugin
// for AWS (its waldur_aws is a structure plugin only). An offering's
// secret_options hold the connection (see Config): access_key_id,
// secret_access_key, region and, for moto or a proxy, endpoint_url. Its
// plugin_options tune the catalog pull (see CatalogOptions).
//
// Idempotency. Every create is keyed by the order: the provider first looks
// for an object tagged waldur-order-uuid=<order>, and only when there is
// none calls RunInstances / CreateVolume with a ClientToken derived from
// the order, so a retried create (a worker killed mid-call, a lost answer)
// returns the object the first attempt made. Terminating something already
// gone succeeds.
//
// Waiting. Create, resize, attach and terminate poll EC2 every PollInterval
// until the object reaches its state, recording an activity heartbeat at
// each poll, and give up (a retryable error) after WaitTimeout; an instance
// that ends terminated while starting fails the order for good.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Queue is the task queue of AWS workers (waldur worker --queue aws).
const Queue = "aws"

// Offering types served by the provider.
const (
	OfferingInstance = "AWS.Instance"
	OfferingVolume   = "AWS.Volume"
)

// Defaults of the Provider's knobs.
const (
	DefaultPollInterval = 2 * time.Second
	DefaultWaitTimeout  = 10 * time.Minute
)

// ErrGone is returned (wrapped, permanent) by Pull when the backend object
// no longer exists.
var ErrGone = errors.New("the backend object no longer exists")

// Provider drives EC2. The zero value uses the defaults.
type Provider struct {
	// PollInterval is the pause between two polls of a waiting call.
	PollInterval time.Duration
	// WaitTimeout bounds one wait for a state.
	WaitTimeout time.Duration
	// HTTPClient is used for EC2 calls (nil: the SDK's).
	HTTPClient *http.Client
	// NewEC2 builds an offering's client (nil: NewClient); tests count calls with it.
	NewEC2 func(Config) EC2
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Puller   = (*Provider)(nil)
)

// Register adds an AWS provider with the defaults to r on queue "aws".
func Register(r *providers.Registry) { RegisterProvider(r, &Provider{}) }

// RegisterProvider adds p to r on queue "aws" for both offering types.
func RegisterProvider(r *providers.Registry, p *Provider) {
	r.Register(p, Queue, OfferingInstance, OfferingVolume)
}

// Name implements providers.Provider.
func (*Provider) Name() string { return Queue }

func (p *Provider) poll() time.Duration {
	if p.PollInterval > 0 {
		return p.PollInterval
	}
	return DefaultPollInterval
}

func (p *Provider) timeout() time.Duration {
	if p.WaitTimeout > 0 {
		return p.WaitTimeout
	}
	return DefaultWaitTimeout
}

// Client returns the EC2 client of an offering's secret options. Codes: invalid.
func (p *Provider) Client(secret map[string]any) (EC2, Config, error) {
	cfg, err := ConfigFrom(secret)
	if err != nil {
		return nil, cfg, err
	}
	if p.NewEC2 != nil {
		return p.NewEC2(cfg), cfg, nil
	}
	return NewClient(cfg, p.HTTPClient), cfg, nil
}

// client is Client for an order: a misconfigured offering is permanent.
func (p *Provider) client(r providers.Request) (EC2, Config, error) {
	c, cfg, err := p.Client(r.SecretOptions)
	return c, cfg, providers.Permanent(err)
}

// Validate implements providers.Provider: the offering must be configured
// and a create order's attributes well formed (see instanceSpec,
// volumeSpec). Codes: invalid.
func (p *Provider) Validate(_ context.Context, r providers.Request) error {
	if _, err := ConfigFrom(r.SecretOptions); err != nil {
		return err
	}
	switch {
	case r.OfferingType != OfferingInstance && r.OfferingType != OfferingVolume:
		return models.Errorf(models.CodeInvalid, "Offering type %q is not served by the AWS provider.", r.OfferingType)
	case r.OrderType == models.OrderCreate && r.OfferingType == OfferingInstance:
		_, err := instanceSpecFrom(r.Attributes)
		return err
	case r.OrderType == models.OrderCreate:
		_, err := volumeSpecFrom(r.Attributes)
		return err
	case r.OrderType == models.OrderUpdate && r.OfferingType == OfferingInstance:
		_, err := instanceUpdateFrom(r.Attributes)
		return err
	case r.OrderType == models.OrderUpdate:
		_, err := volumeUpdateFrom(r.Attributes)
		return err
	}
	return nil
}

// Create implements providers.Provider.
func (p *Provider) Create(ctx context.Context, r providers.Request) (providers.Result, error) {
	c, cfg, err := p.client(r)
	if err != nil {
		return providers.Result{}, err
	}
	if r.OfferingType == OfferingVolume {
		return p.createVolume(ctx, c, cfg, r)
	}
	return p.createInstance(ctx, c, cfg, r)
}

// Update implements providers.Provider: an instance is resized to the
// order's size (stopped, modified, started again: it is left running); a
// volume grows to the order's size and is attached to the order's instance
// ("" detaches it). An update without these attributes (new limits, another
// plan) needs nothing from EC2.
func (p *Provider) Update(ctx context.Context, r providers.Request) (providers.Result, error) {
	c, cfg, err := p.client(r)
	if err != nil {
		return providers.Result{}, err
	}
	if r.BackendID == "" {
		return providers.Result{}, providers.Permanent(fmt.Errorf("resource %s has no backend id", r.ResourceUUID))
	}
	if r.OfferingType == OfferingVolume {
		return p.updateVolume(ctx, c, cfg, r)
	}
	return p.resizeInstance(ctx, c, cfg, r)
}

// Terminate implements providers.Provider; what is already gone is done.
func (p *Provider) Terminate(ctx context.Context, r providers.Request) (providers.Result, error) {
	c, _, err := p.client(r)
	if err != nil {
		return providers.Result{}, err
	}
	if r.OfferingType == OfferingVolume {
		return p.deleteVolume(ctx, c, r)
	}
	return p.terminateInstance(ctx, c, r)
}

// Pull implements providers.Puller: the object's current metadata, or a
// permanent error wrapping ErrGone when it no longer exists.
func (p *Provider) Pull(ctx context.Context, r providers.Request) (providers.Result, error) {
	c, cfg, err := p.client(r)
	if err != nil {
		return providers.Result{}, err
	}
	if r.OfferingType == OfferingVolume {
		v, err := describeVolume(ctx, c, r.BackendID)
		if err != nil {
			return providers.Result{}, err
		}
		if v == nil || v.State == types.VolumeStateDeleted || v.State == types.VolumeStateDeleting {
			return providers.Result{}, providers.Permanent(fmt.Errorf("volume %s: %w", r.BackendID, ErrGone))
		}
		return providers.Result{Done: true, BackendID: r.BackendID, Metadata: volumeMetadata(v)}, nil
	}
	inst, err := describeInstance(ctx, c, r.BackendID)
	if err != nil {
		return providers.Result{}, err
	}
	if inst == nil || instanceGone(inst) {
		return providers.Result{}, providers.Permanent(fmt.Errorf("instance %s: %w", r.BackendID, ErrGone))
	}
	return providers.Result{Done: true, BackendID: r.BackendID, Metadata: instanceMetadata(inst, cfg.Region)}, nil
}

// ---- instances ----

func instanceState(i *types.Instance) types.InstanceStateName {
	if i.State == nil {
		return ""
	}
	return i.State.Name
}

// instanceGone: terminated, or on its way there.
func instanceGone(i *types.Instance) bool {
	s := instanceState(i)
	return s == types.InstanceStateNameTerminated || s == types.InstanceStateNameShuttingDown
}

// describeInstance returns the instance, or nil when EC2 does not know it.
func describeInstance(ctx context.Context, c EC2, id string) (*types.Instance, error) {
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("DescribeInstances", err)
	}
	for _, res := range out.Reservations {
		for i := range res.Instances {
			if sdk.ToString(res.Instances[i].InstanceId) == id {
				return &res.Instances[i], nil
			}
		}
	}
	return nil, nil
}

// findInstance returns the live (not terminated) instance tagged key=value, if any.
func findInstance(ctx context.Context, c EC2, key, value string) (*types.Instance, error) {
	pg := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: []types.Filter{tagFilter(key, value),
		{Name: sdk.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	var found *types.Instance
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("DescribeInstances", err)
		}
		for _, res := range out.Reservations {
			for i := range res.Instances {
				inst := res.Instances[i]
				if instanceGone(&inst) {
					continue
				}
				if found == nil || sdk.ToTime(inst.LaunchTime).Before(sdk.ToTime(found.LaunchTime)) {
					found = &inst // the oldest, should a race ever have made two
				}
			}
		}
	}
	return found, nil
}

func (p *Provider) createInstance(ctx context.Context, c EC2, cfg Config, r providers.Request) (providers.Result, error) {
	spec, err := instanceSpecFrom(r.Attributes)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	inst, err := findInstance(ctx, c, TagOrder, r.OrderUUID.String())
	if err != nil {
		return providers.Result{}, err
	}
	if inst == nil {
		key := spec.KeyName
		if spec.PublicKey != "" {
			if key, err = importKey(ctx, c, r, spec.PublicKey); err != nil {
				return providers.Result{}, err
			}
		}
		in := &ec2.RunInstancesInput{
			ImageId: sdk.String(spec.Image), InstanceType: types.InstanceType(spec.Size),
			MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1), ClientToken: sdk.String(clientToken(r, "instance")),
			TagSpecifications: []types.TagSpecification{
				{ResourceType: types.ResourceTypeInstance, Tags: tags(r)},
				{ResourceType: types.ResourceTypeVolume, Tags: tags(r)},
			},
		}
		if spec.Subnet != "" {
			in.SubnetId = sdk.String(spec.Subnet)
		}
		if key != "" {
			in.KeyName = sdk.String(key)
		}
		if spec.UserData != "" {
			in.UserData = sdk.String(base64.StdEncoding.EncodeToString([]byte(spec.UserData)))
		}
		if spec.VolumeSize > 0 {
			root, err := rootDevice(ctx, c, spec.Image)
			if err != nil {
				return providers.Result{}, err
			}
			in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: sdk.String(root),
				Ebs: &types.EbsBlockDevice{VolumeSize: sdk.Int32(spec.VolumeSize), DeleteOnTermination: sdk.Bool(true)}}}
		}
		out, err := c.RunInstances(ctx, in)
		if err != nil {
			return providers.Result{}, classify("RunInstances", err)
		}
		if len(out.Instances) == 0 {
			return providers.Result{}, fmt.Errorf("AWS RunInstances: no instance in the answer")
		}
		inst = &out.Instances[0]
	}
	id := sdk.ToString(inst.InstanceId)
	inst, err = p.waitInstance(ctx, c, id, types.InstanceStateNameRunning)
	if err != nil {
		return providers.Result{BackendID: id}, err
	}
	return providers.Result{Done: true, BackendID: id, Metadata: instanceMetadata(inst, cfg.Region),
		Output: fmt.Sprintf("instance %s is running", id)}, nil
}

// rootDevice is the image's root device name (where volume_size applies).
func rootDevice(ctx context.Context, c EC2, image string) (string, error) {
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{image}})
	if err != nil {
		return "", classify("DescribeImages", err)
	}
	if len(out.Images) == 0 || sdk.ToString(out.Images[0].RootDeviceName) == "" {
		return "/dev/xvda", nil
	}
	return sdk.ToString(out.Images[0].RootDeviceName), nil
}

// importKey imports the order's public key as key pair
// "waldur-<resource uuid>"; an existing pair of that name is reused.
func importKey(ctx context.Context, c EC2, r providers.Request, public string) (string, error) {
	name := "waldur-" + r.ResourceUUID.String()
	_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: sdk.String(name), PublicKeyMaterial: []byte(public)})
	if err != nil && errorCode(err) != "InvalidKeyPair.Duplicate" {
		return "", classify("ImportKeyPair", err)
	}
	return name, nil
}

// waitInstance polls until the instance is in state want (terminated: or
// unknown to EC2). An instance that ends terminated while another state is
// awaited is a permanent failure.
func (p *Provider) waitInstance(ctx context.Context, c EC2, id string, want types.InstanceStateName) (*types.Instance, error) {
	deadline := time.Now().Add(p.timeout())
	last := types.InstanceStateName("unknown")
	for {
		inst, err := describeInstance(ctx, c, id)
		switch {
		case err != nil && permanent(err):
			return nil, err
		case err != nil:
			// A failed poll is retried within the wait.
			heartbeat(ctx, id, "poll failed: "+err.Error())
		case inst == nil && want == types.InstanceStateNameTerminated:
			return nil, nil
		case inst == nil:
			// Not visible yet (EC2 is eventually consistent).
		case instanceState(inst) == want:
			return inst, nil
		case want != types.InstanceStateNameTerminated && instanceGone(inst):
			reason := ""
			if inst.StateReason != nil {
				reason = ": " + sdk.ToString(inst.StateReason.Message)
			}
			return nil, providers.Permanent(fmt.Errorf("instance %s is %s%s", id, instanceState(inst), reason))
		default:
			last = instanceState(inst)
		}
		heartbeat(ctx, id, string(last))
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("instance %s is still %s after %s (waiting for %s)", id, last, p.timeout(), want)
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return nil, err
		}
	}
}

func (p *Provider) terminateInstance(ctx context.Context, c EC2, r providers.Request) (providers.Result, error) {
	id := r.BackendID
	if id == "" {
		// The create may have made an instance whose id was never recorded.
		inst, err := findInstance(ctx, c, TagResource, r.ResourceUUID.String())
		if err != nil || inst == nil {
			return providers.Result{Done: err == nil}, err
		}
		id = sdk.ToString(inst.InstanceId)
	}
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil && !notFound(err) {
		return providers.Result{}, classify("TerminateInstances", err)
	}
	if _, err := p.waitInstance(ctx, c, id, types.InstanceStateNameTerminated); err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, BackendID: id, Output: fmt.Sprintf("instance %s is terminated", id)}, nil
}

func (p *Provider) resizeInstance(ctx context.Context, c EC2, cfg Config, r providers.Request) (providers.Result, error) {
	size, err := instanceUpdateFrom(r.Attributes)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	id := r.BackendID
	inst, err := describeInstance(ctx, c, id)
	if err != nil {
		return providers.Result{}, err
	}
	if inst == nil || instanceGone(inst) {
		return providers.Result{}, providers.Permanent(fmt.Errorf("instance %s: %w", id, ErrGone))
	}
	if size == "" || string(inst.InstanceType) == size {
		if instanceState(inst) == types.InstanceStateNameStopped && size != "" {
			// A retry after the type changed but before the start.
			if inst, err = p.startInstance(ctx, c, id); err != nil {
				return providers.Result{}, err
			}
		}
		return providers.Result{Done: true, BackendID: id, Metadata: instanceMetadata(inst, cfg.Region)}, nil
	}
	if instanceState(inst) != types.InstanceStateNameStopped {
		if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			return providers.Result{}, classify("StopInstances", err)
		}
		if _, err := p.waitInstance(ctx, c, id, types.InstanceStateNameStopped); err != nil {
			return providers.Result{}, err
		}
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: sdk.String(id),
		InstanceType: &types.AttributeValue{Value: sdk.String(size)}})
	if err != nil {
		return providers.Result{}, classify("ModifyInstanceAttribute", err)
	}
	if inst, err = p.startInstance(ctx, c, id); err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Done: true, BackendID: id, Metadata: instanceMetadata(inst, cfg.Region),
		Output: fmt.Sprintf("instance %s is now %s", id, size)}, nil
}

func (p *Provider) startInstance(ctx context.Context, c EC2, id string) (*types.Instance, error) {
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		return nil, classify("StartInstances", err)
	}
	return p.waitInstance(ctx, c, id, types.InstanceStateNameRunning)
}

// instanceMetadata is an instance's backend_metadata.
func instanceMetadata(i *types.Instance, region string) map[string]any {
	m := map[string]any{
		"instance_id":   sdk.ToString(i.InstanceId),
		"instance_type": string(i.InstanceType),
		"image_id":      sdk.ToString(i.ImageId),
		"region":        region,
		"state":         string(instanceState(i)),
		"private_ip":    sdk.ToString(i.PrivateIpAddress),
		"public_ip":     sdk.ToString(i.PublicIpAddress),
		"private_dns":   sdk.ToString(i.PrivateDnsName),
		"public_dns":    sdk.ToString(i.PublicDnsName),
		"key_name":      sdk.ToString(i.KeyName),
	}
	if i.Placement != nil {
		m["availability_zone"] = sdk.ToString(i.Placement.AvailabilityZone)
	}
	if i.LaunchTime != nil {
		m["launch_time"] = i.LaunchTime.UTC().Format(time.RFC3339)
	}
	return m
}

// ---- volumes ----

// describeVolume returns the volume, or nil when EC2 does not know it.
func describeVolume(ctx context.Context, c EC2, id string) (*types.Volume, error) {
	out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("DescribeVolumes", err)
	}
	for i := range out.Volumes {
		if sdk.ToString(out.Volumes[i].VolumeId) == id {
			return &out.Volumes[i], nil
		}
	}
	return nil, nil
}

func findVolume(ctx context.Context, c EC2, key, value string) (*types.Volume, error) {
	pg := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{Filters: []types.Filter{tagFilter(key, value)}})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("DescribeVolumes", err)
		}
		for i := range out.Volumes {
			v := out.Volumes[i]
			if v.State != types.VolumeStateDeleted && v.State != types.VolumeStateDeleting {
				return &v, nil
			}
		}
	}
	return nil, nil
}

// attachedTo is the instance a volume is attached (or attaching) to.
func attachedTo(v *types.Volume) (instance, device string) {
	for _, a := range v.Attachments {
		if a.State == types.VolumeAttachmentStateAttached || a.State == types.VolumeAttachmentStateAttaching {
			return sdk.ToString(a.InstanceId), sdk.ToString(a.Device)
		}
	}
	return "", ""
}

func (p *Provider) createVolume(ctx context.Context, c EC2, cfg Config, r providers.Request) (providers.Result, error) {
	spec, err := volumeSpecFrom(r.Attributes)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	vol, err := findVolume(ctx, c, TagOrder, r.OrderUUID.String())
	if err != nil {
		return providers.Result{}, err
	}
	if vol == nil {
		az := spec.AvailabilityZone
		if az == "" {
			if az, err = p.defaultZone(ctx, c, spec.Instance); err != nil {
				return providers.Result{}, err
			}
		}
		in := &ec2.CreateVolumeInput{AvailabilityZone: sdk.String(az), Size: sdk.Int32(spec.Size),
			ClientToken:       sdk.String(clientToken(r, "volume")),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: tags(r)}}}
		if spec.Type != "" {
			in.VolumeType = types.VolumeType(spec.Type)
		}
		out, err := c.CreateVolume(ctx, in)
		if err != nil {
			return providers.Result{}, classify("CreateVolume", err)
		}
		vol = &types.Volume{VolumeId: out.VolumeId, State: out.State}
	}
	id := sdk.ToString(vol.VolumeId)
	vol, err = p.waitVolume(ctx, c, id, func(v *types.Volume) bool {
		return v.State == types.VolumeStateAvailable || v.State == types.VolumeStateInUse
	})
	if err != nil {
		return providers.Result{BackendID: id}, err
	}
	if spec.Instance != "" {
		if vol, err = p.attach(ctx, c, vol, spec.Instance, spec.Device); err != nil {
			return providers.Result{BackendID: id}, err
		}
	}
	return providers.Result{Done: true, BackendID: id, Metadata: volumeMetadata(vol), Output: fmt.Sprintf("volume %s is %s", id, vol.State)}, nil
}

// defaultZone is the zone of the instance a new volume is for, or the region's first available zone.
func (p *Provider) defaultZone(ctx context.Context, c EC2, instance string) (string, error) {
	if instance != "" {
		inst, err := describeInstance(ctx, c, instance)
		if err != nil {
			return "", err
		}
		if inst == nil {
			return "", providers.Permanent(fmt.Errorf("instance %s does not exist", instance))
		}
		if inst.Placement != nil && inst.Placement.AvailabilityZone != nil {
			return *inst.Placement.AvailabilityZone, nil
		}
	}
	out, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return "", classify("DescribeAvailabilityZones", err)
	}
	for _, z := range out.AvailabilityZones {
		if z.State == types.AvailabilityZoneStateAvailable || z.State == "" {
			return sdk.ToString(z.ZoneName), nil
		}
	}
	return "", providers.Permanent(fmt.Errorf("the region has no available zone"))
}

// attach attaches vol to instance (detaching it from another first) and
// waits until the attachment holds.
func (p *Provider) attach(ctx context.Context, c EC2, vol *types.Volume, instance, device string) (*types.Volume, error) {
	id := sdk.ToString(vol.VolumeId)
	cur, _ := attachedTo(vol)
	if cur == instance {
		return p.waitAttached(ctx, c, id, instance)
	}
	if cur != "" {
		var err error
		if vol, err = p.detach(ctx, c, vol); err != nil {
			return nil, err
		}
	}
	_, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: sdk.String(id), InstanceId: sdk.String(instance), Device: sdk.String(device)})
	if err != nil {
		return nil, classify("AttachVolume", err)
	}
	return p.waitAttached(ctx, c, id, instance)
}

func (p *Provider) waitAttached(ctx context.Context, c EC2, id, instance string) (*types.Volume, error) {
	return p.waitVolume(ctx, c, id, func(v *types.Volume) bool {
		for _, a := range v.Attachments {
			if sdk.ToString(a.InstanceId) == instance && a.State == types.VolumeAttachmentStateAttached {
				return true
			}
		}
		return false
	})
}

// detach detaches vol from its instance and waits until it is available.
func (p *Provider) detach(ctx context.Context, c EC2, vol *types.Volume) (*types.Volume, error) {
	id := sdk.ToString(vol.VolumeId)
	if inst, _ := attachedTo(vol); inst != "" {
		_, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: sdk.String(id), InstanceId: sdk.String(inst)})
		if err != nil && errorCode(err) != "IncorrectState" && !notFound(err) {
			return nil, classify("DetachVolume", err)
		}
	}
	return p.waitVolume(ctx, c, id, func(v *types.Volume) bool { return v.State == types.VolumeStateAvailable })
}

// waitVolume polls until done(volume) holds. A volume that disappears or
// fails while waiting is a permanent failure.
func (p *Provider) waitVolume(ctx context.Context, c EC2, id string, done func(*types.Volume) bool) (*types.Volume, error) {
	deadline := time.Now().Add(p.timeout())
	last := "unknown"
	for {
		v, err := describeVolume(ctx, c, id)
		switch {
		case err != nil && permanent(err):
			return nil, err
		case err != nil:
			heartbeat(ctx, id, "poll failed: "+err.Error())
		case v == nil:
			// Not visible yet.
		case done(v):
			return v, nil
		case v.State == types.VolumeStateError || v.State == types.VolumeStateDeleted || v.State == types.VolumeStateDeleting:
			return nil, providers.Permanent(fmt.Errorf("volume %s is %s", id, v.State))
		default:
			last = string(v.State)
		}
		heartbeat(ctx, id, last)
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("volume %s is still %s after %s", id, last, p.timeout())
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return nil, err
		}
	}
}

func (p *Provider) updateVolume(ctx context.Context, c EC2, _ Config, r providers.Request) (providers.Result, error) {
	u, err := volumeUpdateFrom(r.Attributes)
	if err != nil {
		return providers.Result{}, providers.Permanent(err)
	}
	id := r.BackendID
	vol, err := describeVolume(ctx, c, id)
	if err != nil {
		return providers.Result{}, err
	}
	if vol == nil {
		return providers.Result{}, providers.Permanent(fmt.Errorf("volume %s: %w", id, ErrGone))
	}
	if u.Size > 0 && u.Size != sdk.ToInt32(vol.Size) {
		if u.Size < sdk.ToInt32(vol.Size) {
			return providers.Result{}, providers.Permanent(fmt.Errorf("volume %s is %d GB: EBS volumes cannot shrink to %d GB", id, sdk.ToInt32(vol.Size), u.Size))
		}
		if _, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: sdk.String(id), Size: sdk.Int32(u.Size)}); err != nil {
			return providers.Result{}, classify("ModifyVolume", err)
		}
		want := u.Size
		if vol, err = p.waitVolume(ctx, c, id, func(v *types.Volume) bool { return sdk.ToInt32(v.Size) == want }); err != nil {
			return providers.Result{}, err
		}
	}
	if u.HasInstance {
		if u.Instance == "" {
			vol, err = p.detach(ctx, c, vol)
		} else {
			vol, err = p.attach(ctx, c, vol, u.Instance, u.Device)
		}
		if err != nil {
			return providers.Result{}, err
		}
	}
	return providers.Result{Done: true, BackendID: id, Metadata: volumeMetadata(vol)}, nil
}

func (p *Provider) deleteVolume(ctx context.Context, c EC2, r providers.Request) (providers.Result, error) {
	var vol *types.Volume
	var err error
	if r.BackendID != "" {
		vol, err = describeVolume(ctx, c, r.BackendID)
	} else {
		vol, err = findVolume(ctx, c, TagResource, r.ResourceUUID.String())
	}
	if err != nil {
		return providers.Result{}, err
	}
	if vol == nil || vol.State == types.VolumeStateDeleted {
		return providers.Result{Done: true, BackendID: r.BackendID}, nil
	}
	id := sdk.ToString(vol.VolumeId)
	if inst, _ := attachedTo(vol); inst != "" {
		if _, err := p.detach(ctx, c, vol); err != nil {
			return providers.Result{}, err
		}
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: sdk.String(id)}); err != nil && !notFound(err) {
		return providers.Result{}, classify("DeleteVolume", err)
	}
	deadline := time.Now().Add(p.timeout())
	for {
		v, err := describeVolume(ctx, c, id)
		if err == nil && (v == nil || v.State == types.VolumeStateDeleted) {
			return providers.Result{Done: true, BackendID: id, Output: fmt.Sprintf("volume %s is deleted", id)}, nil
		}
		heartbeat(ctx, id, "deleting")
		if time.Now().After(deadline) {
			return providers.Result{}, fmt.Errorf("volume %s is still there after %s", id, p.timeout())
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return providers.Result{}, err
		}
	}
}

// volumeMetadata is a volume's backend_metadata.
func volumeMetadata(v *types.Volume) map[string]any {
	inst, dev := attachedTo(v)
	m := map[string]any{
		"volume_id":         sdk.ToString(v.VolumeId),
		"size":              sdk.ToInt32(v.Size),
		"availability_zone": sdk.ToString(v.AvailabilityZone),
		"volume_type":       string(v.VolumeType),
		"state":             string(v.State),
		"instance_id":       inst,
		"device":            dev,
	}
	return m
}
