package aws

import (
	"context"
	"fmt"
	"strings"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// Import of instances and volumes made outside Waldur
// (importable_resources, import_resource). What Waldur made carries the
// waldur-resource-uuid tag (tags); everything else in the offering's
// region that still exists can become a resource. Nothing is changed on
// EC2: the object keeps its tags, and the resource's backend id ties it to
// the state pull and to terminate orders from then on.

var _ providers.Importer = (*Provider)(nil)

// Importable implements providers.Importer: the offering region's
// instances (AWS.Instance) or volumes (AWS.Volume) without the
// waldur-resource-uuid tag that are not terminated or deleted (nor on the
// way there), by id.
func (p *Provider) Importable(ctx context.Context, r providers.Request) ([]providers.ImportableResource, error) {
	if _, _, err := p.client(r); err != nil {
		return nil, err
	}
	out := []providers.ImportableResource{}
	if r.OfferingType == OfferingVolume {
		vols, err := p.Volumes(ctx, r.SecretOptions)
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			if v.ResourceUUID != "" || v.Gone() {
				continue
			}
			out = append(out, providers.ImportableResource{BackendID: v.ID, Name: firstOf(v.Name, v.ID), Type: OfferingVolume,
				Description: volumeDescription(v.Size, v.Type, v.AvailabilityZone, string(v.State), v.InstanceID)})
		}
		return out, nil
	}
	insts, err := p.Instances(ctx, r.SecretOptions)
	if err != nil {
		return nil, err
	}
	for _, i := range insts {
		if i.ResourceUUID != "" || i.Gone() {
			continue
		}
		out = append(out, providers.ImportableResource{BackendID: i.ID, Name: firstOf(i.Name, i.ID), Type: OfferingInstance,
			Description: instanceDescription(i.Type, i.ImageID, i.AvailabilityZone, i.State, i.PrivateIP, i.PublicIP)})
	}
	return out, nil
}

// DescribeImport implements providers.Importer: the instance's or volume's
// name (its Name tag, else its id) and metadata (as the resource's
// backend_metadata after an order: type, image, addresses, zone, …, plus
// imported: true). AWS offerings have no limit components: no limits. An
// id of the wrong shape is invalid; an object EC2 does not know, or that
// is terminated or deleted, is not_found; one Waldur made (tagged) is
// invalid.
func (p *Provider) DescribeImport(ctx context.Context, r providers.Request) (providers.ImportedResource, error) {
	c, cfg, err := p.client(r)
	if err != nil {
		return providers.ImportedResource{}, err
	}
	id := strings.TrimSpace(r.BackendID)
	if r.OfferingType == OfferingVolume {
		if !strings.HasPrefix(id, "vol-") {
			return providers.ImportedResource{}, providers.Permanent(models.FieldError("backend_id", "Must be an EBS volume id (vol-…)."))
		}
		v, err := describeVolume(ctx, c, id)
		if err != nil {
			return providers.ImportedResource{}, err
		}
		if v == nil || v.State == types.VolumeStateDeleted || v.State == types.VolumeStateDeleting || v.State == types.VolumeStateError {
			return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeNotFound, "Volume %s does not exist on AWS.", id))
		}
		if owner := tagValue(v.Tags, TagResource); owner != "" {
			return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeInvalid,
				"Volume %s was made by Waldur (resource %s); it cannot be imported.", id, owner))
		}
		meta := volumeMetadata(v)
		meta["region"], meta["imported"] = cfg.Region, true
		inst, _ := attachedTo(v)
		return providers.ImportedResource{BackendID: id, Name: firstOf(tagValue(v.Tags, TagName), id),
			Description: volumeDescription(sdk.ToInt32(v.Size), string(v.VolumeType), sdk.ToString(v.AvailabilityZone), string(v.State), inst),
			Metadata:    meta}, nil
	}
	if !strings.HasPrefix(id, "i-") {
		return providers.ImportedResource{}, providers.Permanent(models.FieldError("backend_id", "Must be an EC2 instance id (i-…)."))
	}
	inst, err := describeInstance(ctx, c, id)
	if err != nil {
		return providers.ImportedResource{}, err
	}
	if inst == nil || instanceGone(inst) {
		return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeNotFound, "Instance %s does not exist on AWS.", id))
	}
	if owner := tagValue(inst.Tags, TagResource); owner != "" {
		return providers.ImportedResource{}, providers.Permanent(models.Errorf(models.CodeInvalid,
			"Instance %s was made by Waldur (resource %s); it cannot be imported.", id, owner))
	}
	meta := instanceMetadata(inst, cfg.Region)
	meta["imported"] = true
	az := ""
	if inst.Placement != nil {
		az = sdk.ToString(inst.Placement.AvailabilityZone)
	}
	return providers.ImportedResource{BackendID: id, Name: firstOf(tagValue(inst.Tags, TagName), id),
		Description: instanceDescription(string(inst.InstanceType), sdk.ToString(inst.ImageId), az, string(instanceState(inst)),
			sdk.ToString(inst.PrivateIpAddress), sdk.ToString(inst.PublicIpAddress)),
		Metadata: meta}, nil
}

func instanceDescription(typ, image, az, state, privateIP, publicIP string) string {
	parts := []string{}
	for _, s := range []string{typ, image, az, state, privateIP, publicIP} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func volumeDescription(size int32, typ, az, state, instance string) string {
	parts := []string{fmt.Sprintf("%d GB", size)}
	for _, s := range []string{typ, az, state} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if instance != "" {
		parts = append(parts, "attached to "+instance)
	}
	return strings.Join(parts, ", ")
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
