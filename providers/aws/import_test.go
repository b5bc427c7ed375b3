package aws_test

import (
	"context"
	"testing"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/providers/aws"
	"github.com/waldur-go/waldur/providers/aws/mototest"
)

// TestImport: instances and volumes made outside Waldur are listed and
// described; what Waldur made, what is terminated or deleted, unknown ids
// and ids of the wrong shape are not.
func TestImport(t *testing.T) {
	srv := mototest.Start(t)
	p := fastProvider()
	ctx := context.Background()
	c := ec2Client(srv)

	mine, err := p.Create(ctx, request(srv, aws.OfferingInstance, models.OrderCreate, map[string]any{"image": testImage, "size": testSize}))
	require.NoError(t, err)
	myVol, err := p.Create(ctx, request(srv, aws.OfferingVolume, models.OrderCreate, map[string]any{"size": 1.0}))
	require.NoError(t, err)
	run := func(name string) string {
		in := &ec2.RunInstancesInput{ImageId: sdk.String(testImage), InstanceType: types.InstanceTypeT2Nano, MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1)}
		if name != "" {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: sdk.String("Name"), Value: sdk.String(name)}}}}
		}
		out, err := c.RunInstances(ctx, in)
		require.NoError(t, err)
		return sdk.ToString(out.Instances[0].InstanceId)
	}
	legacy, unnamed, gone := run("legacy-web"), run(""), run("old")
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}})
	require.NoError(t, err)
	vout, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: sdk.String(mototest.Region + "a"), Size: sdk.Int32(4),
		VolumeType: types.VolumeTypeGp3, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume,
			Tags: []types.Tag{{Key: sdk.String("Name"), Value: sdk.String("archive")}}}}})
	require.NoError(t, err)
	archive := sdk.ToString(vout.VolumeId)

	req := func(typ, backendID string) providers.Request {
		return providers.Request{OfferingType: typ, OfferingUUID: models.NewUUID(), SecretOptions: srv.SecretOptions(), BackendID: backendID}
	}
	items, err := p.Importable(ctx, req(aws.OfferingInstance, ""))
	require.NoError(t, err)
	byID := map[string]providers.ImportableResource{}
	for _, it := range items {
		byID[it.BackendID] = it
		require.Equal(t, aws.OfferingInstance, it.Type)
	}
	require.Len(t, byID, 2, "the live instances made outside Waldur: %v", items)
	require.Equal(t, "legacy-web", byID[legacy].Name)
	require.Equal(t, unnamed, byID[unnamed].Name, "no Name tag: the id")
	require.Contains(t, byID[legacy].Description, "t2.nano")
	require.Contains(t, byID[legacy].Description, testImage)

	vols, err := p.Importable(ctx, req(aws.OfferingVolume, ""))
	require.NoError(t, err)
	var volIDs []string
	for _, it := range vols {
		volIDs = append(volIDs, it.BackendID)
		require.Equal(t, aws.OfferingVolume, it.Type)
		if it.BackendID == archive {
			require.Equal(t, "archive", it.Name)
			require.Contains(t, it.Description, "4 GB")
		}
	}
	require.Contains(t, volIDs, archive)
	require.NotContains(t, volIDs, myVol.BackendID, "a volume Waldur made")

	got, err := p.DescribeImport(ctx, req(aws.OfferingInstance, legacy))
	require.NoError(t, err)
	require.Equal(t, legacy, got.BackendID)
	require.Equal(t, "legacy-web", got.Name)
	require.Nil(t, got.Limits)
	require.Equal(t, "t2.nano", got.Metadata["instance_type"])
	require.Equal(t, testImage, got.Metadata["image_id"])
	require.Equal(t, mototest.Region, got.Metadata["region"])
	require.NotEmpty(t, got.Metadata["private_ip"])
	require.NotEmpty(t, got.Metadata["availability_zone"])
	require.Equal(t, true, got.Metadata["imported"])

	vol, err := p.DescribeImport(ctx, req(aws.OfferingVolume, archive))
	require.NoError(t, err)
	require.Equal(t, "archive", vol.Name)
	require.EqualValues(t, 4, vol.Metadata["size"])
	require.Equal(t, "gp3", vol.Metadata["volume_type"])
	require.Equal(t, mototest.Region+"a", vol.Metadata["availability_zone"])

	for _, tc := range []struct {
		name, typ, id string
		code          models.Code
	}{
		{"made by Waldur", aws.OfferingInstance, mine.BackendID, models.CodeInvalid},
		{"volume made by Waldur", aws.OfferingVolume, myVol.BackendID, models.CodeInvalid},
		{"terminated", aws.OfferingInstance, gone, models.CodeNotFound},
		{"unknown instance", aws.OfferingInstance, "i-0123456789abcdef0", models.CodeNotFound},
		{"unknown volume", aws.OfferingVolume, "vol-0123456789abcdef0", models.CodeNotFound},
		{"a volume id on an instance offering", aws.OfferingInstance, archive, models.CodeInvalid},
		{"an instance id on a volume offering", aws.OfferingVolume, legacy, models.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.DescribeImport(ctx, req(tc.typ, tc.id))
			require.Error(t, err)
			require.True(t, isPermanent(err), "%v", err)
			require.Equal(t, tc.code, models.ErrorCode(err), "%v", err)
		})
	}

	// A misconfigured offering is refused for good.
	bad := req(aws.OfferingInstance, "")
	bad.SecretOptions = map[string]any{"region": "us-east-1"}
	_, err = p.Importable(ctx, bad)
	require.True(t, isPermanent(err), "%v", err)
}
