package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// AWS offerings keep what their pulls read from the account: the catalog
// (regions; the images and instance types of the offering's region) and
// the instances and volumes EC2 shows. Rows are keyed per offering by
// their backend id (a region's name), so a pull changes them in place and
// their UUIDs stay.

// AWSRegion is an EC2 region seen by an offering.
type AWSRegion struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	OfferingID int64
	Name       string
	Endpoint   string
	Created    time.Time
	Modified   time.Time
}

// TableName is the GORM table.
func (AWSRegion) TableName() string { return "aws_regions" }

// AWSImage is an AMI of an offering's region.
type AWSImage struct {
	ID           int64 `gorm:"primaryKey"`
	UUID         models.UUID
	OfferingID   int64
	RegionID     int64
	BackendID    string
	Name         string
	Description  string
	Architecture string
	Platform     string
	OwnerID      string
	Created      time.Time
	Modified     time.Time
}

// TableName is the GORM table.
func (AWSImage) TableName() string { return "aws_images" }

// AWSSize is an instance type; RAM and Disk in MiB.
type AWSSize struct {
	ID          int64 `gorm:"primaryKey"`
	UUID        models.UUID
	OfferingID  int64
	BackendID   string
	Name        string
	Cores       int32
	RAM         int64 `gorm:"column:ram"`
	Disk        int64
	Description string
	Created     time.Time
	Modified    time.Time
}

// TableName is the GORM table.
func (AWSSize) TableName() string { return "aws_sizes" }

type awsSizeRegion struct {
	SizeID   int64 `gorm:"primaryKey"`
	RegionID int64 `gorm:"primaryKey"`
}

func (awsSizeRegion) TableName() string { return "aws_size_regions" }

// AWSInstance is an EC2 instance seen by an offering's state pull;
// ResourceID is nil for one not made through Waldur.
type AWSInstance struct {
	ID               int64 `gorm:"primaryKey"`
	UUID             models.UUID
	OfferingID       int64
	ResourceID       *int64
	BackendID        string
	Name             string
	RuntimeState     string
	InstanceType     string
	ImageID          string
	Region           string
	AvailabilityZone string
	PrivateIP        string `gorm:"column:private_ip"`
	PublicIP         string `gorm:"column:public_ip"`
	KeyName          string
	LaunchTime       *time.Time
	Created          time.Time
	Modified         time.Time
	// TagResource is the instance's waldur-resource-uuid tag (not stored; links the row).
	TagResource string `gorm:"-"`
}

// TableName is the GORM table.
func (AWSInstance) TableName() string { return "aws_instances" }

// AWSVolume is an EBS volume seen by an offering's state pull.
type AWSVolume struct {
	ID                int64 `gorm:"primaryKey"`
	UUID              models.UUID
	OfferingID        int64
	ResourceID        *int64
	BackendID         string
	Name              string
	RuntimeState      string
	VolumeType        string
	Size              int32
	Region            string
	AvailabilityZone  string
	InstanceBackendID string
	Device            string
	BackendCreated    *time.Time
	Created           time.Time
	Modified          time.Time
	// TagResource is the volume's waldur-resource-uuid tag (not stored; links the row).
	TagResource string `gorm:"-"`
}

// TableName is the GORM table.
func (AWSVolume) TableName() string { return "aws_volumes" }

// AWSOffering is what a pull needs of an AWS offering.
type AWSOffering struct {
	ID            int64
	UUID          models.UUID
	Name          string
	Type          string
	State         models.OfferingState
	PluginOptions JSONObject
	SecretOptions JSONObject
}

// AWSOfferings lists the offerings of the given types that are not
// archived, by id. For the pull activities (worker side). Codes: internal.
func (s *Store) AWSOfferings(ctx context.Context, types ...string) ([]AWSOffering, error) {
	var out []AWSOffering
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, plugin_options, secret_options").
		Where("type IN ? AND state <> ?", types, models.OfferingArchived).Order("id").Scan(&out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// AWSOfferingByUUID loads one offering for a pull. Codes: not_found.
func (s *Store) AWSOfferingByUUID(ctx context.Context, id models.UUID) (*AWSOffering, error) {
	var out AWSOffering
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, plugin_options, secret_options").
		Where("uuid = ?", id).Take(&out).Error
	if err != nil {
		return nil, translate(err, "Offering")
	}
	return &out, nil
}

// AWSCatalog is one pull's catalog of an offering; Images and Sizes belong to Region.
type AWSCatalog struct {
	Region  string
	Regions []AWSRegion
	Images  []AWSImage
	Sizes   []AWSSize
}

// AWSSyncStats counts what a pull changed.
type AWSSyncStats struct {
	Created, Updated, Deleted int
}

// Add sums two counts.
func (a AWSSyncStats) Add(b AWSSyncStats) AWSSyncStats {
	return AWSSyncStats{Created: a.Created + b.Created, Updated: a.Updated + b.Updated, Deleted: a.Deleted + b.Deleted}
}

const awsBatch = 200

// syncRows makes the offering's rows of T exactly want (keyed by key):
// new keys are inserted, changed rows updated (same, the comparison,
// ignores ids and times), missing ones deleted. prepare fills the ids and
// times of a row about to be written from its stored twin (nil: new).
func syncRows[T any](db *gorm.DB, offeringID int64, want []T, key func(*T) string, same func(a, b *T) bool, prepare func(w, old *T)) (AWSSyncStats, error) {
	var st AWSSyncStats
	var have []T
	if err := db.Where("offering_id = ?", offeringID).Find(&have).Error; err != nil {
		return st, err
	}
	old := make(map[string]*T, len(have))
	for i := range have {
		old[key(&have[i])] = &have[i]
	}
	var create []T
	seen := make(map[string]bool, len(want))
	for i := range want {
		w := &want[i]
		k := key(w)
		if seen[k] {
			continue
		}
		seen[k] = true
		o := old[k]
		prepare(w, o)
		switch {
		case o == nil:
			create = append(create, *w)
		case !same(w, o):
			if err := db.Save(w).Error; err != nil {
				return st, err
			}
			st.Updated++
		}
	}
	if len(create) > 0 {
		if err := db.CreateInBatches(create, awsBatch).Error; err != nil {
			return st, err
		}
		st.Created = len(create)
	}
	var gone []T
	for k, o := range old {
		if !seen[k] {
			gone = append(gone, *o)
		}
	}
	for i := 0; i < len(gone); i += awsBatch {
		j := min(i+awsBatch, len(gone))
		if err := db.Delete(gone[i:j]).Error; err != nil {
			return st, err
		}
	}
	st.Deleted = len(gone)
	return st, nil
}

// SaveAWSCatalog replaces an offering's catalog with one pull's, in one
// transaction: rows are updated in place, new ones added, missing ones
// removed; every size is linked to the catalog's region. For the catalog
// pull activity. Codes: invalid (the region is not among the regions),
// internal.
func (s *Store) SaveAWSCatalog(ctx context.Context, offeringID int64, c AWSCatalog) (AWSSyncStats, error) {
	var total AWSSyncStats
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		regions := append([]AWSRegion(nil), c.Regions...)
		st, err := syncRows(db, offeringID, regions, func(r *AWSRegion) string { return r.Name },
			func(a, b *AWSRegion) bool { return a.Endpoint == b.Endpoint },
			func(w, o *AWSRegion) {
				w.OfferingID, w.Modified = offeringID, now
				if o == nil {
					w.ID, w.UUID, w.Created = 0, models.NewUUID(), now
				} else {
					w.ID, w.UUID, w.Created = o.ID, o.UUID, o.Created
				}
			})
		if err != nil {
			return models.Internal(err)
		}
		total = total.Add(st)
		var region AWSRegion
		if err := db.Where("offering_id = ? AND name = ?", offeringID, c.Region).Take(&region).Error; err != nil {
			return models.Errorf(models.CodeInvalid, "Region %q is not among the account's regions.", c.Region)
		}
		images := append([]AWSImage(nil), c.Images...)
		st, err = syncRows(db, offeringID, images, func(i *AWSImage) string { return i.BackendID },
			func(a, b *AWSImage) bool {
				return a.RegionID == b.RegionID && a.Name == b.Name && a.Description == b.Description &&
					a.Architecture == b.Architecture && a.Platform == b.Platform && a.OwnerID == b.OwnerID
			},
			func(w, o *AWSImage) {
				w.OfferingID, w.RegionID, w.Modified = offeringID, region.ID, now
				if o == nil {
					w.ID, w.UUID, w.Created = 0, models.NewUUID(), now
				} else {
					w.ID, w.UUID, w.Created = o.ID, o.UUID, o.Created
				}
			})
		if err != nil {
			return models.Internal(err)
		}
		total = total.Add(st)
		sizes := append([]AWSSize(nil), c.Sizes...)
		st, err = syncRows(db, offeringID, sizes, func(z *AWSSize) string { return z.BackendID },
			func(a, b *AWSSize) bool {
				return a.Name == b.Name && a.Cores == b.Cores && a.RAM == b.RAM && a.Disk == b.Disk && a.Description == b.Description
			},
			func(w, o *AWSSize) {
				w.OfferingID, w.Modified = offeringID, now
				if w.Name == "" {
					w.Name = w.BackendID
				}
				if o == nil {
					w.ID, w.UUID, w.Created = 0, models.NewUUID(), now
				} else {
					w.ID, w.UUID, w.Created = o.ID, o.UUID, o.Created
				}
			})
		if err != nil {
			return models.Internal(err)
		}
		total = total.Add(st)
		var sizeIDs []int64
		if err := db.Model(&AWSSize{}).Where("offering_id = ?", offeringID).Pluck("id", &sizeIDs).Error; err != nil {
			return models.Internal(err)
		}
		links := make([]awsSizeRegion, 0, len(sizeIDs))
		for _, id := range sizeIDs {
			links = append(links, awsSizeRegion{SizeID: id, RegionID: region.ID})
		}
		if len(links) > 0 {
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(links, awsBatch).Error; err != nil {
				return models.Internal(err)
			}
		}
		return nil
	})
	return total, err
}

// awsResourceLinks maps the offering's resources by backend id and by UUID
// to their ids, for linking pulled instances and volumes.
func awsResourceLinks(db *gorm.DB, offeringID int64) (byBackend map[string]int64, byUUID map[string]int64, err error) {
	var rows []struct {
		ID        int64
		UUID      models.UUID
		BackendID string
	}
	if err := db.Table("resources").Select("id, uuid, backend_id").Where("offering_id = ?", offeringID).Scan(&rows).Error; err != nil {
		return nil, nil, err
	}
	byBackend, byUUID = map[string]int64{}, map[string]int64{}
	for _, r := range rows {
		if r.BackendID != "" {
			byBackend[r.BackendID] = r.ID
		}
		byUUID[r.UUID.String()] = r.ID
	}
	return byBackend, byUUID, nil
}

func linkResource(byBackend, byUUID map[string]int64, backendID, resourceUUID string) *int64 {
	if id, ok := byBackend[backendID]; ok {
		return &id
	}
	if id, ok := byUUID[resourceUUID]; ok && resourceUUID != "" {
		return &id
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// SaveAWSInstances makes the offering's instance rows what EC2 listed:
// each linked to the resource whose backend id it is (or whose UUID its
// waldur-resource-uuid tag, TagResource, names). For the state pull
// activity. Codes: internal.
func (s *Store) SaveAWSInstances(ctx context.Context, offeringID int64, list []AWSInstance) (AWSSyncStats, error) {
	var st AWSSyncStats
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		byBackend, byUUID, err := awsResourceLinks(db, offeringID)
		if err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		rows := append([]AWSInstance(nil), list...)
		st, err = syncRows(db, offeringID, rows, func(i *AWSInstance) string { return i.BackendID },
			func(a, b *AWSInstance) bool {
				return sameID(a.ResourceID, b.ResourceID) && a.Name == b.Name && a.RuntimeState == b.RuntimeState &&
					a.InstanceType == b.InstanceType && a.ImageID == b.ImageID && a.Region == b.Region &&
					a.AvailabilityZone == b.AvailabilityZone && a.PrivateIP == b.PrivateIP && a.PublicIP == b.PublicIP &&
					a.KeyName == b.KeyName && sameTime(a.LaunchTime, b.LaunchTime)
			},
			func(w, o *AWSInstance) {
				w.OfferingID, w.Modified = offeringID, now
				w.ResourceID = linkResource(byBackend, byUUID, w.BackendID, w.TagResource)
				if w.LaunchTime != nil {
					t := w.LaunchTime.UTC().Truncate(time.Microsecond)
					w.LaunchTime = &t
				}
				if o == nil {
					w.ID, w.UUID, w.Created = 0, models.NewUUID(), now
				} else {
					w.ID, w.UUID, w.Created = o.ID, o.UUID, o.Created
				}
			})
		if err != nil {
			return models.Internal(err)
		}
		return nil
	})
	return st, err
}

// SaveAWSVolumes is SaveAWSInstances for volumes. Codes: internal.
func (s *Store) SaveAWSVolumes(ctx context.Context, offeringID int64, list []AWSVolume) (AWSSyncStats, error) {
	var st AWSSyncStats
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		byBackend, byUUID, err := awsResourceLinks(db, offeringID)
		if err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		rows := append([]AWSVolume(nil), list...)
		st, err = syncRows(db, offeringID, rows, func(v *AWSVolume) string { return v.BackendID },
			func(a, b *AWSVolume) bool {
				return sameID(a.ResourceID, b.ResourceID) && a.Name == b.Name && a.RuntimeState == b.RuntimeState &&
					a.VolumeType == b.VolumeType && a.Size == b.Size && a.Region == b.Region && a.AvailabilityZone == b.AvailabilityZone &&
					a.InstanceBackendID == b.InstanceBackendID && a.Device == b.Device && sameTime(a.BackendCreated, b.BackendCreated)
			},
			func(w, o *AWSVolume) {
				w.OfferingID, w.Modified = offeringID, now
				w.ResourceID = linkResource(byBackend, byUUID, w.BackendID, w.TagResource)
				if w.BackendCreated != nil {
					t := w.BackendCreated.UTC().Truncate(time.Microsecond)
					w.BackendCreated = &t
				}
				if o == nil {
					w.ID, w.UUID, w.Created = 0, models.NewUUID(), now
				} else {
					w.ID, w.UUID, w.Created = o.ID, o.UUID, o.Created
				}
			})
		if err != nil {
			return models.Internal(err)
		}
		return nil
	})
	return st, err
}

// BackendResource is a marketplace resource as a state pull compares it
// with its backend.
type BackendResource struct {
	UUID      models.UUID
	Name      string
	BackendID string
	State     models.ResourceState
	Modified  time.Time
}

// BackendResources lists the offering's resources in one of states that
// have a backend id and were last changed before before (a resource that
// changed after the backend was listed is left to the next pull). For the
// state pull activities. Codes: internal.
func (s *Store) BackendResources(ctx context.Context, offeringID int64, before time.Time, states ...models.ResourceState) ([]BackendResource, error) {
	var out []BackendResource
	err := s.DB.WithContext(ctx).Table("resources").Select("uuid, name, backend_id, state, modified").
		Where("offering_id = ? AND state IN ? AND backend_id <> '' AND modified < ?", offeringID, states, before).
		Order("id").Scan(&out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// MarkErredOnBackend marks an OK resource Erred because its backend object
// is gone (ChangeResource: event marketplace_resource_erred_on_backend),
// only if it is still OK and unchanged since before (an order that took it
// meanwhile wins). For the state pull activities. Codes: not_found,
// conflict (it moved on).
func (s *Store) MarkErredOnBackend(ctx context.Context, id models.UUID, before time.Time, message string) error {
	return s.Tx(ctx, func(tx *Store) error {
		var cur struct {
			State    models.ResourceState
			Modified time.Time
		}
		q := forUpdate(tx.DB.WithContext(ctx).Table("resources").Select("state, modified").Where("uuid = ?", id))
		if err := q.Take(&cur).Error; err != nil {
			return translate(err, "Resource")
		}
		if cur.State != models.ResourceOK || !cur.Modified.Before(before) {
			return models.Errorf(models.CodeConflict, "Resource changed since the backend was listed.")
		}
		return tx.ChangeResource(ctx, id, ResourceChange{State: models.ResourceErred, ErrorMessage: message})
	})
}
