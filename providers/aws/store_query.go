package aws

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The lists and retrieves of /api/aws-*, decided here: the catalog
// (regions, images, sizes) is every signed-in user's; the instances are
// those the caller (the request's actor, whose roles in force come from
// store.Store.CallerRoleScopes) may see. A list is a store.Query (the API
// orders and pages it); a retrieve is the row, and a row the caller may not
// see is not found ("No <what> matches the given query.").

func noMatch(what string) error {
	return models.Errorf(models.CodeNotFound, "No %s matches the given query.", what)
}

func icontains(q *gorm.DB, col, v string) *gorm.DB {
	return q.Where("LOWER("+col+") LIKE ?", "%"+strings.ToLower(v)+"%")
}

// CatalogFilter narrows RegionsQuery, ImagesQuery and SizesQuery. Empty
// values do not filter.
type CatalogFilter struct {
	Name      string // the name contains (case-insensitive)
	NameExact string
	// OfferingUUIDs: rows read by one of these offerings.
	OfferingUUIDs []models.UUID
	// RegionUUIDs is ?region=: images of, and sizes offered in, one of
	// these regions (not for regions themselves).
	RegionUUIDs []models.UUID
}

// apply narrows a query over catalog table t by the name and offering
// filters of f.
func (f *CatalogFilter) apply(q *gorm.DB, t string) *gorm.DB {
	if f.Name != "" {
		q = icontains(q, t+".name", f.Name)
	}
	if f.NameExact != "" {
		q = q.Where(t+".name = ?", f.NameExact)
	}
	if len(f.OfferingUUIDs) > 0 {
		q = q.Where(t+".offering_id IN (SELECT id FROM offerings WHERE uuid IN ?)", f.OfferingUUIDs)
	}
	return q
}

// RegionsQuery returns the regions narrowed by f (RegionUUIDs aside), as
// a query over RegionRow, for rest.List.
func RegionsQuery(ctx context.Context, s *store.Store, f CatalogFilter) store.Query {
	return store.QueryOf(f.apply(s.DB.WithContext(ctx).Model(&RegionRow{}), "aws_regions"))
}

// ImagesQuery returns the images narrowed by f, as a query over ImageRow,
// for rest.List.
func ImagesQuery(ctx context.Context, s *store.Store, f CatalogFilter) store.Query {
	q := f.apply(s.DB.WithContext(ctx).Model(&ImageRow{}), "aws_images")
	if len(f.RegionUUIDs) > 0 {
		q = q.Where("aws_images.region_id IN (SELECT id FROM aws_regions WHERE uuid IN ?)", f.RegionUUIDs)
	}
	return store.QueryOf(q)
}

// SizesQuery returns the sizes narrowed by f, as a query over SizeRow, for
// rest.List.
func SizesQuery(ctx context.Context, s *store.Store, f CatalogFilter) store.Query {
	q := f.apply(s.DB.WithContext(ctx).Model(&SizeRow{}), "aws_sizes")
	if len(f.RegionUUIDs) > 0 {
		q = q.Where("aws_sizes.id IN (SELECT sr.size_id FROM aws_size_regions sr JOIN aws_regions r ON r.id = sr.region_id WHERE r.uuid IN ?)",
			f.RegionUUIDs)
	}
	return store.QueryOf(q)
}

// rowByUUID loads the row (a pointer to a row type) with uuid id. Codes:
// not_found ("No <what> matches the given query.").
func rowByUUID(ctx context.Context, s *store.Store, id models.UUID, row any, what string) error {
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return noMatch(what)
		}
		return models.Internal(err)
	}
	return nil
}

// RegionByUUID loads a region. Codes: not_found ("No Region matches the
// given query.").
func RegionByUUID(ctx context.Context, s *store.Store, id models.UUID) (*RegionRow, error) {
	var r RegionRow
	if err := rowByUUID(ctx, s, id, &r, "Region"); err != nil {
		return nil, err
	}
	return &r, nil
}

// ImageByUUID loads an image. Codes: not_found ("No Image matches the
// given query.").
func ImageByUUID(ctx context.Context, s *store.Store, id models.UUID) (*ImageRow, error) {
	var r ImageRow
	if err := rowByUUID(ctx, s, id, &r, "Image"); err != nil {
		return nil, err
	}
	return &r, nil
}

// SizeByUUID loads a size. Codes: not_found ("No Size matches the given
// query.").
func SizeByUUID(ctx context.Context, s *store.Store, id models.UUID) (*SizeRow, error) {
	var r SizeRow
	if err := rowByUUID(ctx, s, id, &r, "Size"); err != nil {
		return nil, err
	}
	return &r, nil
}

// RegionsByID loads regions by id (for rendering images and sizes).
// Codes: internal.
func RegionsByID(ctx context.Context, s *store.Store, ids []int64) (map[int64]*RegionRow, error) {
	var rs []RegionRow
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&rs).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := make(map[int64]*RegionRow, len(rs))
	for i := range rs {
		out[rs[i].ID] = &rs[i]
	}
	return out, nil
}

// OfferingUUIDsByID maps offering ids to UUIDs (for rendering the
// catalog). Codes: internal.
func OfferingUUIDsByID(ctx context.Context, s *store.Store, ids []int64) (map[int64]models.UUID, error) {
	var rows []struct {
		ID   int64
		UUID models.UUID
	}
	if err := s.DB.WithContext(ctx).Table("offerings").Select("id, uuid").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := make(map[int64]models.UUID, len(rows))
	for _, r := range rows {
		out[r.ID] = r.UUID
	}
	return out, nil
}

// SizeRegion says a size is offered in a region.
type SizeRegion struct {
	SizeID   int64
	RegionID int64
}

// SizeRegionsOf lists the regions of sizes, by region id (for rendering
// sizes). Codes: internal.
func SizeRegionsOf(ctx context.Context, s *store.Store, sizeIDs []int64) ([]SizeRegion, error) {
	var links []SizeRegion
	if err := s.DB.WithContext(ctx).Table("aws_size_regions").Where("size_id IN ?", sizeIDs).Order("region_id").Scan(&links).Error; err != nil {
		return nil, models.Internal(err)
	}
	return links, nil
}

// InstanceView is an aws_instances row joined with its resource, project,
// customer, offering, size and image.
type InstanceView struct {
	ID               int64
	UUID             models.UUID
	BackendID        string
	Name             string
	RuntimeState     string
	InstanceType     string
	ImageID          string
	Region           string
	AvailabilityZone string
	PrivateIP        string
	PublicIP         string
	KeyName          string
	LaunchTime       *time.Time
	Created          time.Time
	Modified         time.Time
	OfferingUUID     models.UUID
	OfferingName     string
	ResourceUUID     *string
	ResourceName     *string
	ResourceState    *models.ResourceState
	ErrorMessage     *string
	ProjectUUID      *string
	ProjectName      *string
	CustomerUUID     *string
	CustomerName     *string
	CustomerAbbrev   *string
	Cores            *int32
	RAM              *int64
	Disk             *int64
	ImageName        *string
}

// visibleInstances is the query over InstanceView rows (aws_instances i,
// joined with resources r, projects p, customers cu, offerings f) that
// the caller of ctx may see: staff and support every instance; others
// those of the projects and customers where they hold a role, and every
// instance of the offerings (and of the offerings' customers) where they
// hold one, including those made outside Waldur.
func visibleInstances(ctx context.Context, s *store.Store) (*gorm.DB, error) {
	q := s.DB.WithContext(ctx).Table("aws_instances i").Select(`i.id, i.uuid, i.backend_id, i.name, i.runtime_state, i.instance_type, i.image_id,
		i.region, i.availability_zone, i.private_ip, i.public_ip, i.key_name, i.launch_time, i.created, i.modified,
		f.uuid AS offering_uuid, f.name AS offering_name, r.uuid AS resource_uuid, r.name AS resource_name, r.state AS resource_state,
		r.error_message AS error_message, p.uuid AS project_uuid, p.name AS project_name, cu.uuid AS customer_uuid,
		cu.name AS customer_name, cu.abbreviation AS customer_abbrev, s.cores AS cores, s.ram AS ram, s.disk AS disk, im.name AS image_name`).
		Joins("JOIN offerings f ON f.id = i.offering_id").
		Joins("LEFT JOIN resources r ON r.id = i.resource_id").
		Joins("LEFT JOIN projects p ON p.id = r.project_id").
		Joins("LEFT JOIN customers cu ON cu.id = p.customer_id").
		Joins("LEFT JOIN aws_sizes s ON s.offering_id = i.offering_id AND s.backend_id = i.instance_type").
		Joins("LEFT JOIN aws_images im ON im.offering_id = i.offering_id AND im.backend_id = i.image_id")
	rs, err := s.CallerRoleScopes(ctx)
	if err != nil || rs == nil {
		return q, err
	}
	return q.Where("(p.customer_id IN ? OR r.project_id IN ? OR f.customer_id IN ? OR i.offering_id IN ?)",
		store.NonEmpty(rs.Customers), store.NonEmpty(rs.Projects), store.NonEmpty(rs.Customers), store.NonEmpty(rs.Offerings)), nil
}

// InstanceFilter narrows InstancesQuery. Empty values do not filter; each
// list of UUIDs is its own condition.
type InstanceFilter struct {
	Name      string // the name contains (case-insensitive)
	NameExact string
	BackendID string // the EC2 instance id
	// ?project_uuid=, ?project=, ?customer_uuid=, ?customer=, ?offering_uuid=.
	ProjectUUIDs, Projects, CustomerUUIDs, Customers, OfferingUUIDs []models.UUID
	// Importable: true keeps the instances made outside Waldur (no
	// resource), false those of a resource.
	Importable *bool
}

// InstancesQuery returns the instances the caller may see (see
// visibleInstances), narrowed by f, as a query over InstanceView rows
// (alias i; p the project, cu the customer), for rest.List.
func InstancesQuery(ctx context.Context, s *store.Store, f InstanceFilter) (store.Query, error) {
	q, err := visibleInstances(ctx, s)
	if err != nil {
		return store.Query{}, err
	}
	if f.Name != "" {
		q = icontains(q, "i.name", f.Name)
	}
	if f.NameExact != "" {
		q = q.Where("i.name = ?", f.NameExact)
	}
	if f.BackendID != "" {
		q = q.Where("i.backend_id = ?", f.BackendID)
	}
	for _, in := range []struct {
		col string
		ids []models.UUID
	}{{"p.uuid", f.ProjectUUIDs}, {"p.uuid", f.Projects}, {"cu.uuid", f.CustomerUUIDs}, {"cu.uuid", f.Customers}, {"f.uuid", f.OfferingUUIDs}} {
		if len(in.ids) > 0 {
			q = q.Where(in.col+" IN ?", in.ids)
		}
	}
	if f.Importable != nil && *f.Importable {
		q = q.Where("i.resource_id IS NULL")
	} else if f.Importable != nil {
		q = q.Where("i.resource_id IS NOT NULL")
	}
	return store.QueryOf(q), nil
}

// VisibleInstance loads the instance with uuid id if the caller may see
// it (see InstancesQuery). Codes: not_found ("No Instance matches the given
// query.").
func VisibleInstance(ctx context.Context, s *store.Store, id models.UUID) (*InstanceView, error) {
	q, err := visibleInstances(ctx, s)
	if err != nil {
		return nil, err
	}
	var v InstanceView
	res := q.Where("i.uuid = ?", id).Limit(1).Find(&v)
	if res.Error != nil {
		return nil, models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, noMatch("Instance")
	}
	return &v, nil
}
