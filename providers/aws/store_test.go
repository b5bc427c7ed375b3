package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers/aws"
)

func TestAWSCatalogSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		other := seedMarket(t, db, models.OfferingActive)
		st := m.st

		first := aws.CatalogRows{Region: "eu-west-1",
			Regions: []aws.RegionRow{{Name: "eu-west-1", Endpoint: "ec2.eu-west-1.amazonaws.com"}, {Name: "us-east-1"}},
			Images:  []aws.ImageRow{{BackendID: "ami-1", Name: "Ubuntu"}, {BackendID: "ami-2", Name: "Debian", Architecture: "x86_64"}},
			Sizes:   []aws.SizeRow{{BackendID: "t3.micro", Cores: 2, RAM: 1024}, {BackendID: "m5.large", Cores: 2, RAM: 8192, Disk: 0}},
		}
		stats, err := aws.SaveCatalog(ctx, st, m.offering, first)
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{Created: 6}, stats)
		// Another offering's catalog is its own.
		_, err = aws.SaveCatalog(ctx, st, other.offering, aws.CatalogRows{Region: "us-east-1", Regions: []aws.RegionRow{{Name: "us-east-1"}},
			Sizes: []aws.SizeRow{{BackendID: "t3.micro", Cores: 2, RAM: 1024}}})
		require.NoError(t, err)

		var ubuntu aws.ImageRow
		require.NoError(t, db.Where("offering_id = ? AND backend_id = ?", m.offering, "ami-1").Take(&ubuntu).Error)
		var micro aws.SizeRow
		require.NoError(t, db.Where("offering_id = ? AND backend_id = ?", m.offering, "t3.micro").Take(&micro).Error)
		require.Equal(t, "t3.micro", micro.Name, "a size is named after its type")

		// The same pull again changes nothing.
		stats, err = aws.SaveCatalog(ctx, st, m.offering, first)
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{}, stats)

		// A later pull: an image renamed, one gone, one new; a size changed.
		second := first
		second.Images = []aws.ImageRow{{BackendID: "ami-1", Name: "Ubuntu 24.04"}, {BackendID: "ami-3", Name: "Rocky"}}
		second.Sizes = []aws.SizeRow{{BackendID: "t3.micro", Cores: 2, RAM: 2048}, {BackendID: "m5.large", Cores: 2, RAM: 8192}}
		stats, err = aws.SaveCatalog(ctx, st, m.offering, second)
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{Created: 1, Updated: 2, Deleted: 1}, stats)
		var again aws.ImageRow
		require.NoError(t, db.Where("offering_id = ? AND backend_id = ?", m.offering, "ami-1").Take(&again).Error)
		require.Equal(t, ubuntu.UUID, again.UUID, "a row keeps its UUID across pulls")
		require.Equal(t, "Ubuntu 24.04", again.Name)
		var names []string
		require.NoError(t, db.Model(&aws.ImageRow{}).Where("offering_id = ?", m.offering).Order("backend_id").Pluck("backend_id", &names).Error)
		require.Equal(t, []string{"ami-1", "ami-3"}, names)

		// Sizes are linked to the offering's region.
		var links int64
		require.NoError(t, db.Table("aws_size_regions sr").Joins("JOIN aws_regions r ON r.id = sr.region_id").
			Where("r.offering_id = ? AND r.name = ?", m.offering, "eu-west-1").Count(&links).Error)
		require.EqualValues(t, 2, links)

		// A region the account does not list is refused, and nothing is written.
		_, err = aws.SaveCatalog(ctx, st, m.offering, aws.CatalogRows{Region: "mars-1", Regions: []aws.RegionRow{{Name: "eu-west-1"}}})
		require.Equal(t, models.CodeInvalid, models.ErrorCode(err))
		var regions int64
		require.NoError(t, db.Model(&aws.RegionRow{}).Where("offering_id = ?", m.offering).Count(&regions).Error)
		require.EqualValues(t, 2, regions)

		// A large catalog (as EC2 has over a thousand instance types) is written in batches.
		big := second
		big.Sizes = nil
		for i := 0; i < 1300; i++ {
			big.Sizes = append(big.Sizes, aws.SizeRow{BackendID: "x" + time.Duration(i).String(), Cores: 1})
		}
		stats, err = aws.SaveCatalog(ctx, st, m.offering, big)
		require.NoError(t, err)
		require.Equal(t, 1300, stats.Created)
		require.Equal(t, 2, stats.Deleted)

		// Deleting the offering drops its catalog.
		require.NoError(t, db.Exec("DELETE FROM offerings WHERE id = ?", other.offering).Error)
		require.NoError(t, db.Model(&aws.SizeRow{}).Where("offering_id = ?", other.offering).Count(&regions).Error)
		require.Zero(t, regions)
	})
}

func TestAWSInstancesAndVolumesSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		m := seedMarket(t, db, models.OfferingActive)
		st := m.st
		o, err := m.create(ctx)
		require.NoError(t, err)
		require.NoError(t, db.Exec("UPDATE resources SET backend_id = ?, state = ? WHERE id = ?", "i-1", models.ResourceOK, o.ResourceID).Error)
		o2, err := m.create(ctx)
		require.NoError(t, err)
		var r2 string
		require.NoError(t, db.Raw("SELECT uuid FROM resources WHERE id = ?", o2.ResourceID).Scan(&r2).Error)

		launched := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		list := []aws.InstanceRow{
			{BackendID: "i-1", Name: "vm", RuntimeState: "running", InstanceType: "t3.micro", LaunchTime: &launched},
			// Its create has not recorded the id yet: linked by its tag.
			{BackendID: "i-2", Name: "vm2", RuntimeState: "pending", TagResource: r2},
			// Made outside Waldur: importable.
			{BackendID: "i-3", Name: "legacy", RuntimeState: "stopped"},
		}
		stats, err := aws.SaveInstances(ctx, st, m.offering, list)
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{Created: 3}, stats)
		var rows []aws.InstanceRow
		require.NoError(t, db.Where("offering_id = ?", m.offering).Order("backend_id").Find(&rows).Error)
		require.Len(t, rows, 3)
		require.Equal(t, o.ResourceID, *rows[0].ResourceID)
		require.Equal(t, o2.ResourceID, *rows[1].ResourceID)
		require.Nil(t, rows[2].ResourceID)
		require.True(t, rows[0].LaunchTime.Equal(launched.Truncate(time.Microsecond)))

		// Unchanged: nothing written; then i-3 disappears and i-1 stops.
		stats, err = aws.SaveInstances(ctx, st, m.offering, list)
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{}, stats)
		list[0].RuntimeState = "stopped"
		stats, err = aws.SaveInstances(ctx, st, m.offering, list[:2])
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{Updated: 1, Deleted: 1}, stats)

		vstats, err := aws.SaveVolumes(ctx, st, m.offering, []aws.VolumeRow{{BackendID: "vol-1", Size: 5, RuntimeState: "in-use", InstanceBackendID: "i-1", Device: "/dev/sdf"}})
		require.NoError(t, err)
		require.Equal(t, aws.SyncStats{Created: 1}, vstats)

		// The state pull compares the resources in OK changed before the listing.
		res, err := st.BackendResources(ctx, m.offering, time.Now().Add(time.Minute), models.ResourceOK)
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.Equal(t, "i-1", res[0].BackendID)
		res, err = st.BackendResources(ctx, m.offering, time.Now().Add(-time.Hour), models.ResourceOK)
		require.NoError(t, err)
		require.Empty(t, res, "a resource changed after the listing is left to the next pull")

		offs, err := aws.Offerings(ctx, st, models.OfferingBasic)
		require.NoError(t, err)
		require.Len(t, offs, 1)
		require.Equal(t, m.offering, offs[0].ID)
		off, err := aws.OfferingByUUID(ctx, st, offs[0].UUID)
		require.NoError(t, err)
		require.Equal(t, "Compute", off.Name)
		_, err = aws.OfferingByUUID(ctx, st, models.NewUUID())
		require.Equal(t, models.CodeNotFound, models.ErrorCode(err))
	})
}
