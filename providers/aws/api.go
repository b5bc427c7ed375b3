package aws

// The API (core half) serves what the AWS pulls keep, in Waldur's wire
// format: /api/aws-regions/, /api/aws-images/ and /api/aws-sizes/ (the
// catalog of every AWS offering; any signed-in user may read them, as
// Waldur's structure properties) and /api/aws-instances/ (the instances the
// state pull sees: those of the caller's projects, and every instance of
// the offerings whose customer the caller belongs to, including those not
// made through Waldur: the import listing). Staff and support see
// everything.
//
// Every list also takes ?offering_uuid= (ours): the catalog rows belong to
// one offering each, the one whose credentials read them.

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// APIDeps are what the AWS endpoints need.
type APIDeps struct {
	Store *store.Store
	// Now is the clock (nil: the system clock in UTC).
	Now func() time.Time
}

// APIModule registers the AWS routes (an api.Module).
type APIModule struct {
	st  *store.Store
	now func() time.Time
}

var _ api.Module = (*APIModule)(nil)

// NewAPI returns the AWS module.
func NewAPI(d APIDeps) *APIModule {
	m := &APIModule{st: d.Store, now: d.Now}
	if m.now == nil {
		m.now = func() time.Time { return time.Now().UTC() }
	}
	return m
}

// Collections.
const (
	colRegions   = "aws-regions"
	colImages    = "aws-images"
	colSizes     = "aws-sizes"
	colInstances = "aws-instances"
)

// Routes implements api.Module.
func (m *APIModule) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	get := []string{http.MethodGet, http.MethodHead}
	for col, h := range map[string][2]api.Handler{
		colRegions:   {m.listRegions, m.getRegion},
		colImages:    {m.listImages, m.getImage},
		colSizes:     {m.listSizes, m.getSize},
		colInstances: {m.listInstances, m.getInstance},
	} {
		g := a.Group("/"+col, api.RequireUser)
		g.Match(get, "/", api.H(h[0]))
		g.Match(get, "/:uuid/", api.H(h[1]))
	}
}

// AwsRegion is Waldur's AwsRegion.
type AwsRegion struct {
	URL  string      `json:"url"`
	UUID models.UUID `json:"uuid" swaggertype:"string"`
	Name string      `json:"name"`
}

// AwsImage is Waldur's AwsImage; backend_id (the AMI id), description and
// offering_uuid are ours.
type AwsImage struct {
	URL          string      `json:"url"`
	UUID         models.UUID `json:"uuid" swaggertype:"string"`
	Name         string      `json:"name"`
	Region       AwsRegion   `json:"region"`
	BackendID    string      `json:"backend_id"`
	Description  string      `json:"description"`
	OfferingUUID models.UUID `json:"offering_uuid" swaggertype:"string"`
}

// AwsSize is Waldur's AwsSize (ram and disk in MiB); backend_id (the
// instance type) and offering_uuid are ours.
type AwsSize struct {
	URL          string      `json:"url"`
	UUID         models.UUID `json:"uuid" swaggertype:"string"`
	Name         string      `json:"name"`
	Cores        int32       `json:"cores"`
	RAM          int64       `json:"ram"`
	Disk         int64       `json:"disk"`
	Regions      []AwsRegion `json:"regions"`
	Description  string      `json:"description"`
	BackendID    string      `json:"backend_id"`
	OfferingUUID models.UUID `json:"offering_uuid" swaggertype:"string"`
}

func (m *APIModule) db(c *gin.Context) *gorm.DB { return m.st.DB.WithContext(c.Request.Context()) }

func icontains(q *gorm.DB, col, v string) *gorm.DB {
	return q.Where("LOWER("+col+") LIKE ?", "%"+strings.ToLower(v)+"%")
}

// catalogFilters applies name, name_exact and offering_uuid to a catalog table t.
func catalogFilters(c *gin.Context, q *gorm.DB, t string) (*gorm.DB, error) {
	if v := rest.Last(c, "name"); v != "" {
		q = icontains(q, t+".name", v)
	}
	if v := rest.Last(c, "name_exact"); v != "" {
		q = q.Where(t+".name = ?", v)
	}
	offs, err := rest.UUIDs(c, "offering_uuid")
	if err != nil {
		return nil, err
	}
	if len(offs) > 0 {
		q = q.Where(t+".offering_id IN (SELECT id FROM offerings WHERE uuid IN ?)", offs)
	}
	return q, nil
}

var catalogSpec = rest.ListSpec{Ordering: map[string]string{"name": "name"}, DefaultOrdering: []string{"name"}, TieBreaker: "id"}

// offeringUUIDs maps offering ids to UUIDs.
func (m *APIModule) offeringUUIDs(c *gin.Context, ids []int64) (map[int64]models.UUID, error) {
	var rows []struct {
		ID   int64
		UUID models.UUID
	}
	if err := m.db(c).Table("offerings").Select("id, uuid").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := make(map[int64]models.UUID, len(rows))
	for _, r := range rows {
		out[r.ID] = r.UUID
	}
	return out, nil
}

func (m *APIModule) renderRegion(c *gin.Context, r *RegionRow) AwsRegion {
	return AwsRegion{URL: rest.URL(c, colRegions, r.UUID), UUID: r.UUID, Name: r.Name}
}

// pathRow loads the row of table whose UUID is the path's.
func (m *APIModule) pathRow(c *gin.Context, row any, what string) error {
	id, err := api.PathUUID(c, what)
	if err != nil {
		return err
	}
	if err := m.db(c).Where("uuid = ?", id).Take(row).Error; err != nil {
		if err == gorm.ErrRecordNotFound {
			return api.NotFound(what)
		}
		return models.Internal(err)
	}
	return nil
}

// listRegions godoc
//
//	@Summary		List AWS regions
//	@Description	Any signed-in user. Filters name (contains), name_exact, offering_uuid (ours).
//	@Tags			aws-regions
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name is"
//	@Param			offering_uuid	query	string	false	"Regions seen by this offering"
//	@Success		200				{array}	AwsRegion
//	@Router			/api/aws-regions/ [get]
func (m *APIModule) listRegions(c *gin.Context) error {
	q, err := catalogFilters(c, m.db(c).Model(&RegionRow{}), "aws_regions")
	if err != nil {
		return err
	}
	return rest.List(c, store.QueryOf(q), catalogSpec, func(r *RegionRow) AwsRegion { return m.renderRegion(c, r) })
}

// getRegion godoc
//
//	@Summary	Retrieve an AWS region
//	@Tags		aws-regions
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Region UUID"
//	@Success	200		{object}	AwsRegion
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/aws-regions/{uuid}/ [get]
func (m *APIModule) getRegion(c *gin.Context) error {
	var r RegionRow
	if err := m.pathRow(c, &r, "Region"); err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderRegion(c, &r))
}

// regionFilter limits table t to the rows of ?region=<uuid>; via names a
// subquery that gives t's ids for region ids (nil: t.region_id).
func regionFilter(c *gin.Context, q *gorm.DB, col string, via string) (*gorm.DB, error) {
	ids, err := rest.UUIDs(c, "region")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return q, nil
	}
	if via == "" {
		return q.Where(col+" IN (SELECT id FROM aws_regions WHERE uuid IN ?)", ids), nil
	}
	return q.Where(col+" IN ("+via+")", ids), nil
}

func (m *APIModule) regionsByID(c *gin.Context, ids []int64) (map[int64]*RegionRow, error) {
	var rs []RegionRow
	if err := m.db(c).Where("id IN ?", ids).Find(&rs).Error; err != nil {
		return nil, models.Internal(err)
	}
	out := make(map[int64]*RegionRow, len(rs))
	for i := range rs {
		out[rs[i].ID] = &rs[i]
	}
	return out, nil
}

func (m *APIModule) renderImages(c *gin.Context, rows []ImageRow) ([]AwsImage, error) {
	var rids, oids []int64
	for _, r := range rows {
		rids, oids = append(rids, r.RegionID), append(oids, r.OfferingID)
	}
	regions, err := m.regionsByID(c, rids)
	if err != nil {
		return nil, err
	}
	offs, err := m.offeringUUIDs(c, oids)
	if err != nil {
		return nil, err
	}
	out := make([]AwsImage, len(rows))
	for i, r := range rows {
		out[i] = AwsImage{URL: rest.URL(c, colImages, r.UUID), UUID: r.UUID, Name: r.Name, BackendID: r.BackendID,
			Description: r.Description, OfferingUUID: offs[r.OfferingID]}
		if reg := regions[r.RegionID]; reg != nil {
			out[i].Region = m.renderRegion(c, reg)
		}
	}
	return out, nil
}

// listImages godoc
//
//	@Summary		List AWS images
//	@Description	Any signed-in user. Filters name (contains), name_exact, region (UUID), offering_uuid (ours).
//	@Tags			aws-images
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name is"
//	@Param			region			query	string	false	"Region UUID"
//	@Param			offering_uuid	query	string	false	"Images seen by this offering"
//	@Success		200				{array}	AwsImage
//	@Router			/api/aws-images/ [get]
func (m *APIModule) listImages(c *gin.Context) error {
	q, err := catalogFilters(c, m.db(c).Model(&ImageRow{}), "aws_images")
	if err != nil {
		return err
	}
	if q, err = regionFilter(c, q, "aws_images.region_id", ""); err != nil {
		return err
	}
	return rest.ListBatch(c, store.QueryOf(q), catalogSpec, func(rows []ImageRow) ([]AwsImage, error) { return m.renderImages(c, rows) })
}

// getImage godoc
//
//	@Summary	Retrieve an AWS image
//	@Tags		aws-images
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Image UUID"
//	@Success	200		{object}	AwsImage
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/aws-images/{uuid}/ [get]
func (m *APIModule) getImage(c *gin.Context) error {
	var im ImageRow
	if err := m.pathRow(c, &im, "Image"); err != nil {
		return err
	}
	out, err := m.renderImages(c, []ImageRow{im})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

func (m *APIModule) renderSizes(c *gin.Context, rows []SizeRow) ([]AwsSize, error) {
	var sids, oids []int64
	for _, r := range rows {
		sids, oids = append(sids, r.ID), append(oids, r.OfferingID)
	}
	var links []struct {
		SizeID   int64
		RegionID int64
	}
	if err := m.db(c).Table("aws_size_regions").Where("size_id IN ?", sids).Order("region_id").Scan(&links).Error; err != nil {
		return nil, models.Internal(err)
	}
	var rids []int64
	for _, l := range links {
		rids = append(rids, l.RegionID)
	}
	regions, err := m.regionsByID(c, rids)
	if err != nil {
		return nil, err
	}
	offs, err := m.offeringUUIDs(c, oids)
	if err != nil {
		return nil, err
	}
	bySize := map[int64][]AwsRegion{}
	for _, l := range links {
		if reg := regions[l.RegionID]; reg != nil {
			bySize[l.SizeID] = append(bySize[l.SizeID], m.renderRegion(c, reg))
		}
	}
	out := make([]AwsSize, len(rows))
	for i, r := range rows {
		out[i] = AwsSize{URL: rest.URL(c, colSizes, r.UUID), UUID: r.UUID, Name: r.Name, Cores: r.Cores, RAM: r.RAM, Disk: r.Disk,
			Regions: bySize[r.ID], Description: r.Description, BackendID: r.BackendID, OfferingUUID: offs[r.OfferingID]}
		if out[i].Regions == nil {
			out[i].Regions = []AwsRegion{}
		}
	}
	return out, nil
}

// listSizes godoc
//
//	@Summary		List AWS sizes (instance types)
//	@Description	Any signed-in user. Filters name (contains), name_exact, region (UUID), offering_uuid (ours). RAM and disk in MiB.
//	@Tags			aws-sizes
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name is"
//	@Param			region			query	string	false	"Region UUID"
//	@Param			offering_uuid	query	string	false	"Sizes seen by this offering"
//	@Success		200				{array}	AwsSize
//	@Router			/api/aws-sizes/ [get]
func (m *APIModule) listSizes(c *gin.Context) error {
	q, err := catalogFilters(c, m.db(c).Model(&SizeRow{}), "aws_sizes")
	if err != nil {
		return err
	}
	q, err = regionFilter(c, q, "aws_sizes.id",
		"SELECT sr.size_id FROM aws_size_regions sr JOIN aws_regions r ON r.id = sr.region_id WHERE r.uuid IN ?")
	if err != nil {
		return err
	}
	return rest.ListBatch(c, store.QueryOf(q), catalogSpec, func(rows []SizeRow) ([]AwsSize, error) { return m.renderSizes(c, rows) })
}

// getSize godoc
//
//	@Summary	Retrieve an AWS size
//	@Tags		aws-sizes
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Size UUID"
//	@Success	200		{object}	AwsSize
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/aws-sizes/{uuid}/ [get]
func (m *APIModule) getSize(c *gin.Context) error {
	var s SizeRow
	if err := m.pathRow(c, &s, "Size"); err != nil {
		return err
	}
	out, err := m.renderSizes(c, []SizeRow{s})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

// scoped limits a query over aws_instances i (joined with resources r,
// projects p and offerings f) to what the caller may see.
func (m *APIModule) scoped(c *gin.Context, q *gorm.DB) (*gorm.DB, error) {
	rs, err := api.RoleScopes(c, m.st, m.now())
	if err != nil || rs == nil {
		return q, err
	}
	return q.Where("(p.customer_id IN ? OR r.project_id IN ? OR f.customer_id IN ? OR i.offering_id IN ?)",
		nonEmpty(rs.Customers), nonEmpty(rs.Projects), nonEmpty(rs.Customers), nonEmpty(rs.Offerings)), nil
}

func nonEmpty(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}
