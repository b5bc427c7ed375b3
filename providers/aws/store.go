package aws

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// AWS offerings keep what their pulls read from the account: the catalog
// (regions; the images and instance types of the offering's region) and
// the instances and volumes EC2 shows. Rows are keyed per offering by
// their backend id (a region's name), so a pull changes them in place and
// their UUIDs stay.

// RegionRow is an EC2 region seen by an offering.
type RegionRow struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	OfferingID int64
	Name       string
	Endpoint   string
	Created    time.Time
	Modified   time.Time
}

// TableName is the GORM table.
func (RegionRow) TableName() string { return "aws_regions" }

// ImageRow is an AMI of an offering's region.
type ImageRow struct {
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
func (ImageRow) TableName() string { return "aws_images" }

// SizeRow is an instance type; RAM and Disk in MiB.
type SizeRow struct {
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
func (SizeRow) TableName() string { return "aws_sizes" }

type sizeRegionRow struct {
	SizeID   int64 `gorm:"primaryKey"`
	RegionID int64 `gorm:"primaryKey"`
}

func (sizeRegionRow) TableName() string { return "aws_size_regions" }

// InstanceRow is an EC2 instance seen by an offering's state pull;
// ResourceID is nil for one not made through Waldur.
type InstanceRow struct {
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
func (InstanceRow) TableName() string { return "aws_instances" }

// VolumeRow is an EBS volume seen by an offering's state pull.
type VolumeRow struct {
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
func (VolumeRow) TableName() string { return "aws_volumes" }

// OfferingRow is what a pull needs of an AWS offering.
type OfferingRow struct {
	ID            int64
	UUID          models.UUID
	Name          string
	Type          string
	State         models.OfferingState
	PluginOptions store.JSONObject
	SecretOptions store.JSONObject
}

// Offerings lists the offerings of the given types that are not
// archived, by id. For the pull activities (worker side). Codes: internal.
func Offerings(ctx context.Context, s *store.Store, types ...string) ([]OfferingRow, error) {
	var out []OfferingRow
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, plugin_options, secret_options").
		Where("type IN ? AND state <> ?", types, models.OfferingArchived).Order("id").Scan(&out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// OfferingByUUID loads one offering for a pull. Codes: not_found.
func OfferingByUUID(ctx context.Context, s *store.Store, id models.UUID) (*OfferingRow, error) {
	var out OfferingRow
	err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid, name, type, state, plugin_options, secret_options").
		Where("uuid = ?", id).Take(&out).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, models.Errorf(models.CodeNotFound, "Offering not found.")
	case err != nil:
		return nil, models.Internal(err)
	}
	return &out, nil
}

// CatalogRows is one pull's catalog of an offering; Images and Sizes belong to Region.
type CatalogRows struct {
	Region  string
	Regions []RegionRow
	Images  []ImageRow
	Sizes   []SizeRow
}

// SyncStats counts what a pull changed.
type SyncStats struct {
	Created, Updated, Deleted int
}

// Add sums two counts.
func (a SyncStats) Add(b SyncStats) SyncStats {
	return SyncStats{Created: a.Created + b.Created, Updated: a.Updated + b.Updated, Deleted: a.Deleted + b.Deleted}
}

const batch = 200

// syncRows makes the offering's rows of T exactly want (keyed by key):
// new keys are inserted, changed rows updated (same, the comparison,
// ignores ids and times), missing ones deleted. prepare fills the ids and
// times of a row about to be written from its stored twin (nil: new).
func syncRows[T any](db *gorm.DB, offeringID int64, want []T, key func(*T) string, same func(a, b *T) bool, prepare func(w, old *T)) (SyncStats, error) {
	var st SyncStats
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
		if err := db.CreateInBatches(create, batch).Error; err != nil {
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
	for i := 0; i < len(gone); i += batch {
		j := min(i+batch, len(gone))
		if err := db.Delete(gone[i:j]).Error; err != nil {
			return st, err
		}
	}
	st.Deleted = len(gone)
	return st, nil
}

// SaveCatalog replaces an offering's catalog with one pull's, in one
// transaction: rows are updated in place, new ones added, missing ones
// removed; every size is linked to the catalog's region. For the catalog
// pull activity. Codes: invalid (the region is not among the regions),
// internal.
func SaveCatalog(ctx context.Context, s *store.Store, offeringID int64, c CatalogRows) (SyncStats, error) {
	var total SyncStats
	err := s.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		regions := append([]RegionRow(nil), c.Regions...)
		st, err := syncRows(db, offeringID, regions, func(r *RegionRow) string { return r.Name },
			func(a, b *RegionRow) bool { return a.Endpoint == b.Endpoint },
			func(w, o *RegionRow) {
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
		var region RegionRow
		if err := db.Where("offering_id = ? AND name = ?", offeringID, c.Region).Take(&region).Error; err != nil {
			return models.Errorf(models.CodeInvalid, "Region %q is not among the account's regions.", c.Region)
		}
		images := append([]ImageRow(nil), c.Images...)
		st, err = syncRows(db, offeringID, images, func(i *ImageRow) string { return i.BackendID },
			func(a, b *ImageRow) bool {
				return a.RegionID == b.RegionID && a.Name == b.Name && a.Description == b.Description &&
					a.Architecture == b.Architecture && a.Platform == b.Platform && a.OwnerID == b.OwnerID
			},
			func(w, o *ImageRow) {
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
		sizes := append([]SizeRow(nil), c.Sizes...)
		st, err = syncRows(db, offeringID, sizes, func(z *SizeRow) string { return z.BackendID },
			func(a, b *SizeRow) bool {
				return a.Name == b.Name && a.Cores == b.Cores && a.RAM == b.RAM && a.Disk == b.Disk && a.Description == b.Description
			},
			func(w, o *SizeRow) {
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
		if err := db.Model(&SizeRow{}).Where("offering_id = ?", offeringID).Pluck("id", &sizeIDs).Error; err != nil {
			return models.Internal(err)
		}
		links := make([]sizeRegionRow, 0, len(sizeIDs))
		for _, id := range sizeIDs {
			links = append(links, sizeRegionRow{SizeID: id, RegionID: region.ID})
		}
		if len(links) > 0 {
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(links, batch).Error; err != nil {
				return models.Internal(err)
			}
		}
		return nil
	})
	return total, err
}

// resourceLinks maps the offering's resources by backend id and by UUID
// to their ids, for linking pulled instances and volumes.
func resourceLinks(db *gorm.DB, offeringID int64) (byBackend map[string]int64, byUUID map[string]int64, err error) {
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

// SaveInstances makes the offering's instance rows what EC2 listed:
// each linked to the resource whose backend id it is (or whose UUID its
// waldur-resource-uuid tag, TagResource, names). For the state pull
// activity. Codes: internal.
func SaveInstances(ctx context.Context, s *store.Store, offeringID int64, list []InstanceRow) (SyncStats, error) {
	var st SyncStats
	err := s.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		byBackend, byUUID, err := resourceLinks(db, offeringID)
		if err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		rows := append([]InstanceRow(nil), list...)
		st, err = syncRows(db, offeringID, rows, func(i *InstanceRow) string { return i.BackendID },
			func(a, b *InstanceRow) bool {
				return sameID(a.ResourceID, b.ResourceID) && a.Name == b.Name && a.RuntimeState == b.RuntimeState &&
					a.InstanceType == b.InstanceType && a.ImageID == b.ImageID && a.Region == b.Region &&
					a.AvailabilityZone == b.AvailabilityZone && a.PrivateIP == b.PrivateIP && a.PublicIP == b.PublicIP &&
					a.KeyName == b.KeyName && sameTime(a.LaunchTime, b.LaunchTime)
			},
			func(w, o *InstanceRow) {
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

// SaveVolumes is SaveInstances for volumes. Codes: internal.
func SaveVolumes(ctx context.Context, s *store.Store, offeringID int64, list []VolumeRow) (SyncStats, error) {
	var st SyncStats
	err := s.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		byBackend, byUUID, err := resourceLinks(db, offeringID)
		if err != nil {
			return models.Internal(err)
		}
		now := tx.Now()
		rows := append([]VolumeRow(nil), list...)
		st, err = syncRows(db, offeringID, rows, func(v *VolumeRow) string { return v.BackendID },
			func(a, b *VolumeRow) bool {
				return sameID(a.ResourceID, b.ResourceID) && a.Name == b.Name && a.RuntimeState == b.RuntimeState &&
					a.VolumeType == b.VolumeType && a.Size == b.Size && a.Region == b.Region && a.AvailabilityZone == b.AvailabilityZone &&
					a.InstanceBackendID == b.InstanceBackendID && a.Device == b.Device && sameTime(a.BackendCreated, b.BackendCreated)
			},
			func(w, o *VolumeRow) {
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
