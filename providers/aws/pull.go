package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Activities are the AWS pull activities; they run on the aws queue (where the
// AWS API is reachable) and write what they read to the database.
type Activities struct {
	Store    *store.Store
	Provider *Provider
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now().UTC()
}

// ErrTypePull marks a pull failure a retry cannot fix (a misconfigured
// offering, refused credentials); the next scheduled run tries again.
const ErrTypePull = "AWSPullRefused"

// OfferingRef names an offering a pull works on.
type OfferingRef struct {
	UUID models.UUID
	Name string
	Type string
}

// ListAWSOfferings lists the AWS offerings that are not archived.
func (a *Activities) ListAWSOfferings(ctx context.Context) ([]OfferingRef, error) {
	offs, err := Offerings(ctx, a.Store, OfferingInstance, OfferingVolume)
	if err != nil {
		return nil, err
	}
	out := make([]OfferingRef, 0, len(offs))
	for _, o := range offs {
		out = append(out, OfferingRef{UUID: o.UUID, Name: o.Name, Type: o.Type})
	}
	return out, nil
}

// pullError keeps a permanent failure from being retried by this run.
func pullError(err error) error {
	if err == nil {
		return nil
	}
	var perm *providers.PermanentError
	if errors.As(err, &perm) || models.ErrorCode(err) == models.CodeInvalid || models.ErrorCode(err) == models.CodeNotFound {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePull, err)
	}
	return err
}

// PullAWSCatalog reads the regions, images and instance types an offering's
// account sees (its plugin options choose which, see CatalogOptions)
// and makes the offering's catalog rows match them.
func (a *Activities) PullAWSCatalog(ctx context.Context, offering models.UUID) (SyncStats, error) {
	off, err := OfferingByUUID(ctx, a.Store, offering)
	if err != nil {
		return SyncStats{}, pullError(err)
	}
	cat, err := a.Provider.Catalog(ctx, off.SecretOptions, off.PluginOptions)
	if err != nil {
		return SyncStats{}, pullError(err)
	}
	activity.RecordHeartbeat(ctx, "saving")
	in := CatalogRows{Region: cat.Region}
	for _, r := range cat.Regions {
		in.Regions = append(in.Regions, RegionRow{Name: r.Name, Endpoint: r.Endpoint})
	}
	for _, im := range cat.Images {
		in.Images = append(in.Images, ImageRow{BackendID: im.ID, Name: truncate(im.Name, 255), Description: im.Description,
			Architecture: truncate(im.Architecture, 30), Platform: truncate(im.Platform, 30), OwnerID: truncate(im.OwnerID, 30)})
	}
	for _, s := range cat.Sizes {
		in.Sizes = append(in.Sizes, SizeRow{BackendID: s.Name, Name: s.Name, Cores: s.Cores, RAM: s.RAM, Disk: s.Disk, Description: s.Description})
	}
	st, err := SaveCatalog(ctx, a.Store, off.ID, in)
	return st, pullError(err)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// StateResult is what one state pull of an offering found.
type StateResult struct {
	Rows SyncStats
	// Erred are the resources found deleted behind Waldur's back.
	Erred []models.UUID
}

// PullAWSState lists the instances (AWS.Instance offerings) or volumes
// (AWS.Volume offerings) of an offering's account into its rows (those not
// made through Waldur are the import listing), and marks Erred, with the
// event marketplace_resource_erred_on_backend, every OK resource whose
// instance or volume is gone: missing, terminated or deleted. A resource
// changed after the listing started is left to the next pull.
func (a *Activities) PullAWSState(ctx context.Context, offering models.UUID) (StateResult, error) {
	var out StateResult
	off, err := OfferingByUUID(ctx, a.Store, offering)
	if err != nil {
		return out, pullError(err)
	}
	cfg, err := ConfigFrom(off.SecretOptions)
	if err != nil {
		return out, pullError(err)
	}
	started := a.now()
	gone := map[string]string{} // backend id -> why it is gone; absent ids are gone too
	seen := map[string]bool{}
	what := "Instance"
	if off.Type == OfferingVolume {
		what = "Volume"
		vols, err := a.Provider.Volumes(ctx, off.SecretOptions)
		if err != nil {
			return out, pullError(err)
		}
		rows := make([]VolumeRow, 0, len(vols))
		for _, v := range vols {
			seen[v.ID] = true
			if v.Gone() {
				gone[v.ID] = v.State
			}
			rows = append(rows, VolumeRow{BackendID: v.ID, Name: truncate(v.Name, 255), RuntimeState: v.State, VolumeType: v.Type,
				Size: v.Size, Region: cfg.Region, AvailabilityZone: v.AvailabilityZone, InstanceBackendID: v.InstanceID, Device: v.Device,
				BackendCreated: v.Created, TagResource: v.ResourceUUID})
		}
		if out.Rows, err = SaveVolumes(ctx, a.Store, off.ID, rows); err != nil {
			return out, err
		}
	} else {
		insts, err := a.Provider.Instances(ctx, off.SecretOptions)
		if err != nil {
			return out, pullError(err)
		}
		rows := make([]InstanceRow, 0, len(insts))
		for _, i := range insts {
			seen[i.ID] = true
			if i.Gone() {
				gone[i.ID] = i.State
			}
			rows = append(rows, InstanceRow{BackendID: i.ID, Name: truncate(i.Name, 255), RuntimeState: i.State, InstanceType: i.Type,
				ImageID: i.ImageID, Region: cfg.Region, AvailabilityZone: i.AvailabilityZone, PrivateIP: i.PrivateIP, PublicIP: i.PublicIP,
				KeyName: i.KeyName, LaunchTime: i.LaunchTime, TagResource: i.ResourceUUID})
		}
		if out.Rows, err = SaveInstances(ctx, a.Store, off.ID, rows); err != nil {
			return out, err
		}
	}
	activity.RecordHeartbeat(ctx, "comparing")
	res, err := a.Store.BackendResources(ctx, off.ID, started, models.ResourceOK)
	if err != nil {
		return out, err
	}
	for _, r := range res {
		why, isGone := gone[r.BackendID]
		if seen[r.BackendID] && !isGone {
			continue
		}
		msg := fmt.Sprintf("%s %s no longer exists on AWS.", what, r.BackendID)
		if isGone {
			msg = fmt.Sprintf("%s %s is %s on AWS.", what, r.BackendID, why)
		}
		err := a.Store.MarkErredOnBackend(ctx, r.UUID, started, msg)
		switch {
		case models.IsCode(err, models.CodeConflict) || models.IsCode(err, models.CodeNotFound):
			continue // it moved on meanwhile (an order took it)
		case err != nil:
			return out, err
		}
		out.Erred = append(out.Erred, r.UUID)
	}
	return out, nil
}
