package store

import (
	"context"
	"maps"
	"time"

	"github.com/waldur-go/waldur/models"
)

// OfferingPartition is the configuration of one SLURM partition of an
// offering (Waldur's OfferingPartition). Its name is unique within the
// offering; a nil limit is unset.
type OfferingPartition struct {
	ID            int64 `gorm:"primaryKey"`
	UUID          models.UUID
	OfferingID    int64
	Created       time.Time
	Modified      time.Time
	PartitionName string
	// Limits: int32 columns but for the memory ones (int64) and
	// priority_tier (0..32767).
	CPUBind          *int64 `gorm:"column:cpu_bind"`
	DefCPUPerGPU     *int64 `gorm:"column:def_cpu_per_gpu"`
	DefMemPerCPU     *int64 `gorm:"column:def_mem_per_cpu"`
	DefMemPerGPU     *int64 `gorm:"column:def_mem_per_gpu"`
	DefMemPerNode    *int64 `gorm:"column:def_mem_per_node"`
	DefaultTime      *int64 `gorm:"column:default_time"`
	MaxCPUsPerNode   *int64 `gorm:"column:max_cpus_per_node"`
	MaxCPUsPerSocket *int64 `gorm:"column:max_cpus_per_socket"`
	MaxMemPerCPU     *int64 `gorm:"column:max_mem_per_cpu"`
	MaxMemPerNode    *int64 `gorm:"column:max_mem_per_node"`
	MaxNodes         *int64 `gorm:"column:max_nodes"`
	MaxTime          *int64 `gorm:"column:max_time"`
	MinNodes         *int64 `gorm:"column:min_nodes"`
	GraceTime        *int64 `gorm:"column:grace_time"`
	PriorityTier     *int64 `gorm:"column:priority_tier"`
	ExclusiveTopo    bool   `gorm:"column:exclusive_topo"`
	ExclusiveUser    bool   `gorm:"column:exclusive_user"`
	ReqResv          bool   `gorm:"column:req_resv"`
	QOS              string `gorm:"column:qos"`
}

// TableName is the GORM table.
func (OfferingPartition) TableName() string { return "offering_partitions" }

// PartitionColumns are the columns UpdatePartition changes: the name and
// the configuration (not the offering, the UUID or the timestamps).
var PartitionColumns = map[string]bool{
	"partition_name": true, "cpu_bind": true, "def_cpu_per_gpu": true, "def_mem_per_cpu": true, "def_mem_per_gpu": true,
	"def_mem_per_node": true, "default_time": true, "max_cpus_per_node": true, "max_cpus_per_socket": true,
	"max_mem_per_cpu": true, "max_mem_per_node": true, "max_nodes": true, "max_time": true, "min_nodes": true,
	"grace_time": true, "priority_tier": true, "exclusive_topo": true, "exclusive_user": true, "req_resv": true, "qos": true,
}

// partitionNameTaken is the field error of a name the offering has already.
func partitionNameTaken() error {
	return models.FieldError("partition_name", "Offering partition with this partition name already exists.")
}

// partitionWriteError maps a failed insert or update: the unique key of
// (offering_id, partition_name) is the name taken (a concurrent add that
// won), anything else as translate does.
func partitionWriteError(err error) error {
	e := translate(err, "Offering partition")
	if models.IsCode(e, models.CodeConflict) {
		return partitionNameTaken()
	}
	return e
}

// partitionNameUsed reports whether another partition of the offering
// (not the one with id except) has the name.
func (s *Store) partitionNameUsed(ctx context.Context, offeringID, except int64, name string) (bool, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&OfferingPartition{}).
		Where("offering_id = ? AND partition_name = ? AND id <> ?", offeringID, name, except).Count(&n).Error; err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// CreatePartition adds p to the offering, filling its ID, UUID (unless
// set), offering and timestamps. Called by the provider-offering API after
// its OFFERING.UPDATE check. Codes: invalid (a field error on
// partition_name when the offering has a partition of that name, also when
// a concurrent add took it first).
func (s *Store) CreatePartition(ctx context.Context, o *Offering, p *OfferingPartition) error {
	return s.Tx(ctx, func(tx *Store) error {
		used, err := tx.partitionNameUsed(ctx, o.ID, 0, p.PartitionName)
		if err != nil {
			return err
		}
		if used {
			return partitionNameTaken()
		}
		now := tx.Now()
		if p.UUID.IsZero() {
			p.UUID = models.NewUUID()
		}
		p.ID, p.OfferingID, p.Created, p.Modified = 0, o.ID, now, now
		if err := tx.DB.WithContext(ctx).Create(p).Error; err != nil {
			return partitionWriteError(err)
		}
		return nil
	})
}

// UpdatePartition changes the given columns (PartitionColumns → value; a
// nil limit unsets it) of the offering's partition id, sets its modified
// time and returns it. Called by the provider-offering API after its
// OFFERING.UPDATE check. Codes: not_found (the offering has no such
// partition), invalid (partition_name taken in the offering, or a column
// not in PartitionColumns).
func (s *Store) UpdatePartition(ctx context.Context, o *Offering, id models.UUID, fields map[string]any) (*OfferingPartition, error) {
	for k := range fields {
		if !PartitionColumns[k] {
			return nil, models.Errorf(models.CodeInvalid, "%s is not a partition's column.", k)
		}
	}
	var p OfferingPartition
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		if err := forUpdate(db.Where("uuid = ? AND offering_id = ?", id, o.ID)).Take(&p).Error; err != nil {
			return translate(err, "Offering partition")
		}
		if name, ok := fields["partition_name"].(string); ok && name != p.PartitionName {
			used, err := tx.partitionNameUsed(ctx, o.ID, p.ID, name)
			if err != nil {
				return err
			}
			if used {
				return partitionNameTaken()
			}
		}
		changes := map[string]any{"modified": tx.Now()}
		maps.Copy(changes, fields)
		if err := db.Model(&OfferingPartition{}).Where("id = ?", p.ID).Updates(changes).Error; err != nil {
			return partitionWriteError(err)
		}
		return translate(db.Where("id = ?", p.ID).Take(&p).Error, "Offering partition")
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// RemovePartition deletes the offering's partition id. Called by the
// provider-offering API after its OFFERING.UPDATE check. Codes: not_found
// (the offering has no such partition).
func (s *Store) RemovePartition(ctx context.Context, o *Offering, id models.UUID) error {
	res := s.DB.WithContext(ctx).Where("uuid = ? AND offering_id = ?", id, o.ID).Delete(&OfferingPartition{})
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "Offering partition not found.")
	}
	return nil
}

// PartitionsOf loads the partitions of the offerings in one query, by
// offering id, each offering's in the order they were added.
func (s *Store) PartitionsOf(ctx context.Context, offeringIDs []int64) (map[int64][]OfferingPartition, error) {
	out := map[int64][]OfferingPartition{}
	if len(offeringIDs) == 0 {
		return out, nil
	}
	var ps []OfferingPartition
	if err := s.DB.WithContext(ctx).Where("offering_id IN ?", offeringIDs).Order("id").Find(&ps).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, p := range ps {
		out[p.OfferingID] = append(out[p.OfferingID], p)
	}
	return out, nil
}
