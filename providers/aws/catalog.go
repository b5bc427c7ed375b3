package aws

import (
	"context"
	"sort"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CatalogOptions are an offering's plugin_options that choose what the
// catalog pull brings in:
//
//	image_owners    owners of the images listed (default ["self"]; "amazon" lists Amazon's public AMIs)
//	image_ids       these images as well (AMI ids)
//	instance_types  only these instance types (default: every type the region offers)
type CatalogOptions struct {
	ImageOwners   []string
	ImageIDs      []string
	InstanceTypes []string
}

// CatalogOptionsFrom reads an offering's plugin options.
func CatalogOptionsFrom(plugin map[string]any) CatalogOptions {
	o := CatalogOptions{ImageOwners: strs(plugin["image_owners"]), ImageIDs: strs(plugin["image_ids"]), InstanceTypes: strs(plugin["instance_types"])}
	if o.ImageOwners == nil && o.ImageIDs == nil {
		o.ImageOwners = []string{"self"}
	}
	return o
}

// strs reads a list of strings (or one comma-separated string).
func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	case []string:
		out = append(out, x...)
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Region is an EC2 region.
type Region struct {
	Name     string
	Endpoint string
}

// Image is an AMI of the offering's region.
type Image struct {
	ID           string
	Name         string
	Description  string
	Architecture string
	Platform     string
	OwnerID      string
}

// Size is an instance type of the offering's region.
type Size struct {
	Name  string
	Cores int32
	// RAM and Disk in MiB (Disk: instance storage; 0 for EBS-only types).
	RAM, Disk int64
	// Description names the type's processor architectures and generation.
	Description string
}

// Catalog is what the catalog pull reads from an offering's account.
type Catalog struct {
	// Region is the offering's region (images and sizes belong to it).
	Region  string
	Regions []Region
	Images  []Image
	Sizes   []Size
}

// Catalog reads the regions, and the offering region's images and instance
// types (see CatalogOptions).
func (p *Provider) Catalog(ctx context.Context, secret, plugin map[string]any) (Catalog, error) {
	c, cfg, err := p.Client(secret)
	if err != nil {
		return Catalog{}, err
	}
	opts := CatalogOptionsFrom(plugin)
	cat := Catalog{Region: cfg.Region}

	regions, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return cat, classify("DescribeRegions", err)
	}
	for _, r := range regions.Regions {
		cat.Regions = append(cat.Regions, Region{Name: sdk.ToString(r.RegionName), Endpoint: sdk.ToString(r.Endpoint)})
	}
	sort.Slice(cat.Regions, func(i, j int) bool { return cat.Regions[i].Name < cat.Regions[j].Name })

	seen := map[string]bool{}
	addImages := func(in *ec2.DescribeImagesInput) error {
		pg := ec2.NewDescribeImagesPaginator(c, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return classify("DescribeImages", err)
			}
			for _, im := range out.Images {
				id := sdk.ToString(im.ImageId)
				if seen[id] || (im.State != "" && im.State != types.ImageStateAvailable) {
					continue
				}
				seen[id] = true
				name := sdk.ToString(im.Name)
				if name == "" {
					name = id
				}
				cat.Images = append(cat.Images, Image{ID: id, Name: name, Description: sdk.ToString(im.Description),
					Architecture: string(im.Architecture), Platform: string(im.Platform), OwnerID: sdk.ToString(im.OwnerId)})
			}
			heartbeat(ctx, "images", len(cat.Images))
		}
		return nil
	}
	if len(opts.ImageOwners) > 0 {
		if err := addImages(&ec2.DescribeImagesInput{Owners: opts.ImageOwners}); err != nil {
			return cat, err
		}
	}
	if len(opts.ImageIDs) > 0 {
		if err := addImages(&ec2.DescribeImagesInput{ImageIds: opts.ImageIDs}); err != nil {
			return cat, err
		}
	}
	sort.Slice(cat.Images, func(i, j int) bool { return cat.Images[i].ID < cat.Images[j].ID })

	in := &ec2.DescribeInstanceTypesInput{}
	for _, t := range opts.InstanceTypes {
		in.InstanceTypes = append(in.InstanceTypes, types.InstanceType(t))
	}
	pg := ec2.NewDescribeInstanceTypesPaginator(c, in)
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return cat, classify("DescribeInstanceTypes", err)
		}
		for _, t := range out.InstanceTypes {
			s := Size{Name: string(t.InstanceType)}
			if t.VCpuInfo != nil {
				s.Cores = sdk.ToInt32(t.VCpuInfo.DefaultVCpus)
			}
			if t.MemoryInfo != nil {
				s.RAM = sdk.ToInt64(t.MemoryInfo.SizeInMiB)
			}
			if t.InstanceStorageInfo != nil {
				s.Disk = sdk.ToInt64(t.InstanceStorageInfo.TotalSizeInGB) * 1024
			}
			s.Description = sizeDescription(t)
			cat.Sizes = append(cat.Sizes, s)
		}
		heartbeat(ctx, "sizes", len(cat.Sizes))
	}
	sort.Slice(cat.Sizes, func(i, j int) bool { return cat.Sizes[i].Name < cat.Sizes[j].Name })
	return cat, nil
}

func sizeDescription(t types.InstanceTypeInfo) string {
	var parts []string
	if t.ProcessorInfo != nil {
		for _, a := range t.ProcessorInfo.SupportedArchitectures {
			parts = append(parts, string(a))
		}
	}
	if sdk.ToBool(t.CurrentGeneration) {
		parts = append(parts, "current generation")
	}
	return strings.Join(parts, ", ")
}

// Instance is an EC2 instance as the state pull and the import listing see it.
type Instance struct {
	ID, Name, State, Type, ImageID string
	AvailabilityZone               string
	PrivateIP, PublicIP            string
	KeyName                        string
	LaunchTime                     *time.Time
	// ResourceUUID is the waldur-resource-uuid tag ("" for instances made outside Waldur).
	ResourceUUID string
}

// Gone reports an instance that is terminated or shutting down.
func (i Instance) Gone() bool { return i.State == "terminated" || i.State == "shutting-down" }

// Volume is an EBS volume as the state pull and the import listing see it.
type Volume struct {
	ID, Name, State, Type, AvailabilityZone string
	Size                                    int32
	InstanceID, Device                      string
	Created                                 *time.Time
	ResourceUUID                            string
}

// Gone reports a volume that is deleted, being deleted, or failed.
func (v Volume) Gone() bool {
	return v.State == "deleted" || v.State == "deleting" || v.State == "error"
}

// Instances lists every instance of the offering's region (terminated ones
// too, while EC2 still shows them).
func (p *Provider) Instances(ctx context.Context, secret map[string]any) ([]Instance, error) {
	c, _, err := p.Client(secret)
	if err != nil {
		return nil, err
	}
	var out []Instance
	pg := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("DescribeInstances", err)
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				in := Instance{ID: sdk.ToString(i.InstanceId), Name: tagValue(i.Tags, TagName), State: string(instanceState(&i)),
					Type: string(i.InstanceType), ImageID: sdk.ToString(i.ImageId), PrivateIP: sdk.ToString(i.PrivateIpAddress),
					PublicIP: sdk.ToString(i.PublicIpAddress), KeyName: sdk.ToString(i.KeyName), LaunchTime: i.LaunchTime,
					ResourceUUID: tagValue(i.Tags, TagResource)}
				if i.Placement != nil {
					in.AvailabilityZone = sdk.ToString(i.Placement.AvailabilityZone)
				}
				out = append(out, in)
			}
		}
		heartbeat(ctx, "instances", len(out))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Volumes lists every volume of the offering's region.
func (p *Provider) Volumes(ctx context.Context, secret map[string]any) ([]Volume, error) {
	c, _, err := p.Client(secret)
	if err != nil {
		return nil, err
	}
	var out []Volume
	pg := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("DescribeVolumes", err)
		}
		for _, v := range page.Volumes {
			inst, dev := attachedTo(&v)
			out = append(out, Volume{ID: sdk.ToString(v.VolumeId), Name: tagValue(v.Tags, TagName), State: string(v.State),
				Type: string(v.VolumeType), AvailabilityZone: sdk.ToString(v.AvailabilityZone), Size: sdk.ToInt32(v.Size),
				InstanceID: inst, Device: dev, Created: v.CreateTime, ResourceUUID: tagValue(v.Tags, TagResource)})
		}
		heartbeat(ctx, "volumes", len(out))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
