package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

func i64(n int64) *int64 { return &n }

// fieldErr asserts err is a 400 with a message on field.
func fieldErr(t *testing.T, err error, field string) {
	t.Helper()
	var e *models.Error
	require.True(t, errors.As(err, &e), "%v", err)
	require.Equal(t, models.CodeInvalid, e.Code, "%v", err)
	require.NotEmpty(t, e.Fields[field], "%v", err)
}

func TestOfferingPartitions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		w := seedAgentWorld(t, db, `{}`, 0)
		ctx := context.Background()
		clock := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		w.st.Now = func() time.Time { return clock }
		o := w.offering
		// A second offering of the same provider.
		other := *o
		other.ID, other.UUID, other.Name = 0, models.NewUUID(), "Cluster 2"
		require.NoError(t, db.Create(&other).Error)

		// Create: the configuration round-trips; UUID, offering and times are filled.
		batch := &store.OfferingPartition{PartitionName: "batch", CPUBind: i64(0), DefMemPerCPU: i64(1 << 40),
			MaxTime: i64(2147483647), PriorityTier: i64(32767), ExclusiveUser: true, QOS: "normal"}
		require.NoError(t, w.st.CreatePartition(ctx, o, batch))
		require.False(t, batch.UUID.IsZero())
		require.Equal(t, o.ID, batch.OfferingID)
		require.Equal(t, clock, batch.Created)
		gpu := &store.OfferingPartition{PartitionName: "gpu", ReqResv: true}
		require.NoError(t, w.st.CreatePartition(ctx, o, gpu))

		// The name is unique within the offering, not across offerings.
		fieldErr(t, w.st.CreatePartition(ctx, o, &store.OfferingPartition{PartitionName: "batch"}), "partition_name")
		require.NoError(t, w.st.CreatePartition(ctx, &other, &store.OfferingPartition{PartitionName: "batch"}))
		// ... by the database's unique key, whatever the check before it.
		err := db.Create(&store.OfferingPartition{UUID: models.NewUUID(), OfferingID: o.ID, PartitionName: "gpu",
			Created: clock, Modified: clock}).Error
		require.True(t, errors.Is(err, gorm.ErrDuplicatedKey), "%v", err)

		// Concurrent adds of one name: one wins, the others are the field error.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.st.CreatePartition(ctx, o, &store.OfferingPartition{PartitionName: "debug"})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			fieldErr(t, err, "partition_name")
		}
		require.Equal(t, 1, won)

		// Loaded for several offerings in one call, each in the order added.
		parts, err := w.st.PartitionsOf(ctx, []int64{o.ID, other.ID})
		require.NoError(t, err)
		require.Len(t, parts[o.ID], 3)
		require.Equal(t, []string{"batch", "gpu", "debug"}, []string{parts[o.ID][0].PartitionName, parts[o.ID][1].PartitionName, parts[o.ID][2].PartitionName})
		require.Len(t, parts[other.ID], 1)
		got := parts[o.ID][0]
		require.Equal(t, batch.UUID, got.UUID)
		require.Equal(t, int64(1<<40), *got.DefMemPerCPU)
		require.Equal(t, int64(2147483647), *got.MaxTime)
		require.Equal(t, int64(32767), *got.PriorityTier)
		require.Equal(t, int64(0), *got.CPUBind)
		require.Nil(t, got.MaxNodes)
		require.True(t, got.ExclusiveUser)
		require.False(t, got.ExclusiveTopo)
		require.Equal(t, "normal", got.QOS)
		empty, err := w.st.PartitionsOf(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, empty)

		// Update: only the given columns; null unsets; modified moves.
		clock = clock.Add(time.Hour)
		up, err := w.st.UpdatePartition(ctx, o, batch.UUID, map[string]any{"qos": "high", "cpu_bind": (*int64)(nil), "max_nodes": i64(4)})
		require.NoError(t, err)
		require.Equal(t, "high", up.QOS)
		require.Nil(t, up.CPUBind)
		require.Equal(t, int64(4), *up.MaxNodes)
		require.Equal(t, int64(32767), *up.PriorityTier, "untouched")
		require.Equal(t, "batch", up.PartitionName)
		require.Equal(t, clock, up.Modified.UTC())
		require.Equal(t, clock.Add(-time.Hour), up.Created.UTC())
		// Renaming: to its own name is fine, to another's is the field error.
		_, err = w.st.UpdatePartition(ctx, o, batch.UUID, map[string]any{"partition_name": "batch"})
		require.NoError(t, err)
		_, err = w.st.UpdatePartition(ctx, o, batch.UUID, map[string]any{"partition_name": "gpu"})
		fieldErr(t, err, "partition_name")
		up, err = w.st.UpdatePartition(ctx, o, batch.UUID, map[string]any{"partition_name": "main"})
		require.NoError(t, err)
		require.Equal(t, "main", up.PartitionName)
		// Another offering's partition, or none: not found; a column that is not the partition's: invalid.
		_, err = w.st.UpdatePartition(ctx, &other, batch.UUID, map[string]any{"qos": "x"})
		require.True(t, models.IsCode(err, models.CodeNotFound), "%v", err)
		_, err = w.st.UpdatePartition(ctx, o, models.NewUUID(), nil)
		require.True(t, models.IsCode(err, models.CodeNotFound), "%v", err)
		_, err = w.st.UpdatePartition(ctx, o, batch.UUID, map[string]any{"offering_id": other.ID})
		require.True(t, models.IsCode(err, models.CodeInvalid), "%v", err)

		// Remove: only the offering's own partition.
		require.True(t, models.IsCode(w.st.RemovePartition(ctx, &other, gpu.UUID), models.CodeNotFound))
		require.NoError(t, w.st.RemovePartition(ctx, o, gpu.UUID))
		require.True(t, models.IsCode(w.st.RemovePartition(ctx, o, gpu.UUID), models.CodeNotFound))
		parts, err = w.st.PartitionsOf(ctx, []int64{o.ID})
		require.NoError(t, err)
		require.Len(t, parts[o.ID], 2)

		// The partitions go with their offering.
		require.NoError(t, w.st.DeleteOffering(ctx, &other, true))
		var n int64
		require.NoError(t, db.Model(&store.OfferingPartition{}).Where("offering_id = ?", other.ID).Count(&n).Error)
		require.Zero(t, n)
	})
}
