package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Tag keys written on everything the provider creates. The order tag is the
// idempotency key (a retried create finds what the first attempt made); the
// resource tag ties a backend object to its marketplace resource (the state
// pull and the import listing read it).
const (
	TagName     = "Name"
	TagOrder    = "waldur-order-uuid"
	TagResource = "waldur-resource-uuid"
	TagOffering = "waldur-offering-uuid"
)

// Config is an AWS offering's connection: its secret_options.
//
//	access_key_id, secret_access_key   the IAM credentials (required)
//	region                             e.g. "eu-west-1" (required)
//	endpoint_url                       another EC2 endpoint (moto, a proxy); "endpoint" is accepted too
type Config struct {
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	Endpoint        string
}

// ConfigFrom reads an offering's secret options. Codes: invalid.
func ConfigFrom(secret map[string]any) (Config, error) {
	s := func(k string) string {
		v, _ := secret[k].(string)
		return strings.TrimSpace(v)
	}
	c := Config{AccessKeyID: s("access_key_id"), SecretAccessKey: s("secret_access_key"), Region: s("region"), Endpoint: s("endpoint_url")}
	if c.Endpoint == "" {
		c.Endpoint = s("endpoint")
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"access_key_id", c.AccessKeyID}, {"secret_access_key", c.SecretAccessKey}, {"region", c.Region}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return c, models.Errorf(models.CodeInvalid, "The AWS offering is not configured: secret_options lack %s.", strings.Join(missing, ", "))
	}
	return c, nil
}

// EC2 is the part of the EC2 API the provider uses (ec2.Client implements it).
type EC2 interface {
	RunInstances(context.Context, *ec2.RunInstancesInput, ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
	ModifyInstanceAttribute(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	CreateVolume(context.Context, *ec2.CreateVolumeInput, ...func(*ec2.Options)) (*ec2.CreateVolumeOutput, error)
	DescribeVolumes(context.Context, *ec2.DescribeVolumesInput, ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	AttachVolume(context.Context, *ec2.AttachVolumeInput, ...func(*ec2.Options)) (*ec2.AttachVolumeOutput, error)
	DetachVolume(context.Context, *ec2.DetachVolumeInput, ...func(*ec2.Options)) (*ec2.DetachVolumeOutput, error)
	DeleteVolume(context.Context, *ec2.DeleteVolumeInput, ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
	ModifyVolume(context.Context, *ec2.ModifyVolumeInput, ...func(*ec2.Options)) (*ec2.ModifyVolumeOutput, error)
	ImportKeyPair(context.Context, *ec2.ImportKeyPairInput, ...func(*ec2.Options)) (*ec2.ImportKeyPairOutput, error)
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeInstanceTypes(context.Context, *ec2.DescribeInstanceTypesInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
}

// NewClient returns an EC2 client for c. The SDK retries throttling and
// 5xx answers itself (3 attempts); what still fails is left to the
// activity's retry policy.
func NewClient(c Config, httpClient *http.Client) *ec2.Client {
	opts := ec2.Options{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
	}
	if c.Endpoint != "" {
		opts.BaseEndpoint = sdk.String(c.Endpoint)
	}
	if httpClient != nil {
		opts.HTTPClient = httpClient
	}
	return ec2.New(opts)
}

// errorCode is the EC2 error code of err ("" when err is not an API error).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFound reports an error that says the object does not exist (any more).
func notFound(err error) bool {
	c := errorCode(err)
	return strings.HasSuffix(c, ".NotFound") || strings.HasSuffix(c, "NotFound")
}

// retryable EC2 error codes among the client errors: the state or the
// service catches up, a retry succeeds.
var retryableCodes = map[string]bool{
	"RequestLimitExceeded": true, "Throttling": true, "ThrottlingException": true,
	"IncorrectState": true, "IncorrectInstanceState": true, "VolumeInUse": true,
	"InsufficientInstanceCapacity": true, "ServiceUnavailable": true, "Unavailable": true,
	"InternalError": true, "InternalFailure": true,
	// Eventual consistency: an instance just created may not be visible yet.
	"InvalidInstanceID.NotFound": true, "InvalidVolume.NotFound": true,
}

// classify turns an EC2 failure into the provider contract's terms: client
// errors a retry cannot fix (bad image, unknown instance type, refused
// credentials, limits) are permanent; throttling, state races, 5xx and
// network failures stay retryable.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrapped := fmt.Errorf("AWS %s: %w", op, err)
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return wrapped // transport failure
	}
	if retry, known := retryableCodes[ae.ErrorCode()]; known && retry {
		return wrapped
	}
	if ae.ErrorFault() == smithy.FaultServer {
		return wrapped
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return wrapped
	}
	return providers.Permanent(fmt.Errorf("AWS %s: %s: %s", op, ae.ErrorCode(), ae.ErrorMessage()))
}

// permanent reports a failure a retry cannot fix.
func permanent(err error) bool {
	var pe *providers.PermanentError
	return errors.As(err, &pe)
}

// tags are the tags of an object made for r.
func tags(r providers.Request) []types.Tag {
	name := r.ResourceName
	if name == "" {
		name = "waldur-" + r.ResourceUUID.String()
	}
	return []types.Tag{
		{Key: sdk.String(TagName), Value: sdk.String(name)},
		{Key: sdk.String(TagOrder), Value: sdk.String(r.OrderUUID.String())},
		{Key: sdk.String(TagResource), Value: sdk.String(r.ResourceUUID.String())},
		{Key: sdk.String(TagOffering), Value: sdk.String(r.OfferingUUID.String())},
	}
}

func tagValue(ts []types.Tag, key string) string {
	for _, t := range ts {
		if sdk.ToString(t.Key) == key {
			return sdk.ToString(t.Value)
		}
	}
	return ""
}

func tagFilter(key, value string) types.Filter {
	return types.Filter{Name: sdk.String("tag:" + key), Values: []string{value}}
}

// clientToken is the idempotency token of an order's create call: EC2
// answers a repeated RunInstances or CreateVolume with the same token with
// the object the first call made (at most 64 ASCII characters).
func clientToken(r providers.Request, kind string) string {
	return "waldur-" + kind + "-" + r.OrderUUID.String()
}

// heartbeat reports progress when ctx is an activity's (a poll loop is
// alive); outside an activity it does nothing.
func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
