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

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// APIDeps are what the AWS endpoints need.
type APIDeps struct {
	// Store reads the rows; what a caller may see is decided there
	// (store_query.go), at the store's clock.
	Store *store.Store
}

// APIModule registers the AWS routes (an api.Module): its handlers decode
// the request into a filter, ask the store and render the rows.
type APIModule struct {
	st *store.Store
}

var _ api.Module = (*APIModule)(nil)

// NewAPI returns the AWS module.
func NewAPI(d APIDeps) *APIModule {
	return &APIModule{st: d.Store}
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

// catalogFilter decodes name, name_exact and offering_uuid; withRegion:
// ?region= too (images and sizes).
func catalogFilter(c *gin.Context, withRegion bool) (CatalogFilter, error) {
	f := CatalogFilter{Name: rest.Last(c, "name"), NameExact: rest.Last(c, "name_exact")}
	var err error
	if f.OfferingUUIDs, err = rest.UUIDs(c, "offering_uuid"); err != nil {
		return f, err
	}
	if withRegion {
		if f.RegionUUIDs, err = rest.UUIDs(c, "region"); err != nil {
			return f, err
		}
	}
	return f, nil
}

var catalogSpec = rest.ListSpec{Ordering: map[string]string{"name": "name"}, DefaultOrdering: []string{"name"}, TieBreaker: "id"}

func (m *APIModule) renderRegion(c *gin.Context, r *RegionRow) AwsRegion {
	return AwsRegion{URL: rest.URL(c, colRegions, r.UUID), UUID: r.UUID, Name: r.Name}
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
	f, err := catalogFilter(c, false)
	if err != nil {
		return err
	}
	return rest.List(c, RegionsQuery(c.Request.Context(), m.st, f), catalogSpec, func(r *RegionRow) AwsRegion { return m.renderRegion(c, r) })
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
	id, err := api.PathUUID(c, "Region")
	if err != nil {
		return err
	}
	r, err := RegionByUUID(c.Request.Context(), m.st, id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderRegion(c, r))
}

func (m *APIModule) renderImages(c *gin.Context, rows []ImageRow) ([]AwsImage, error) {
	var rids, oids []int64
	for _, r := range rows {
		rids, oids = append(rids, r.RegionID), append(oids, r.OfferingID)
	}
	regions, err := RegionsByID(c.Request.Context(), m.st, rids)
	if err != nil {
		return nil, err
	}
	offs, err := OfferingUUIDsByID(c.Request.Context(), m.st, oids)
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
	f, err := catalogFilter(c, true)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, ImagesQuery(c.Request.Context(), m.st, f), catalogSpec, func(rows []ImageRow) ([]AwsImage, error) { return m.renderImages(c, rows) })
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
	id, err := api.PathUUID(c, "Image")
	if err != nil {
		return err
	}
	im, err := ImageByUUID(c.Request.Context(), m.st, id)
	if err != nil {
		return err
	}
	out, err := m.renderImages(c, []ImageRow{*im})
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
	links, err := SizeRegionsOf(c.Request.Context(), m.st, sids)
	if err != nil {
		return nil, err
	}
	var rids []int64
	for _, l := range links {
		rids = append(rids, l.RegionID)
	}
	regions, err := RegionsByID(c.Request.Context(), m.st, rids)
	if err != nil {
		return nil, err
	}
	offs, err := OfferingUUIDsByID(c.Request.Context(), m.st, oids)
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
	f, err := catalogFilter(c, true)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, SizesQuery(c.Request.Context(), m.st, f), catalogSpec, func(rows []SizeRow) ([]AwsSize, error) { return m.renderSizes(c, rows) })
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
	id, err := api.PathUUID(c, "Size")
	if err != nil {
		return err
	}
	s, err := SizeByUUID(c.Request.Context(), m.st, id)
	if err != nil {
		return err
	}
	out, err := m.renderSizes(c, []SizeRow{*s})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}
