package structure

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// MsgProjectHasResources is Waldur's refusal to delete a project that still
// holds resources that are not terminated.
const MsgProjectHasResources = "Project contains active resources. Please remove them before deleting project."

// Project is Waldur's Project, plus its quotas. Fields not stored yet are
// rendered empty: image, credit, termination metadata and grace period null,
// kind "default", staff_notes "", the user_* lists [], marketplace_resource_count {},
// resources_count 0 (until the marketplace counts resources).
type Project struct {
	URL                                  string         `json:"url"`
	UUID                                 models.UUID    `json:"uuid" swaggertype:"string"`
	Name                                 string         `json:"name"`
	Slug                                 string         `json:"slug"`
	Customer                             string         `json:"customer"`
	CustomerUUID                         models.UUID    `json:"customer_uuid" swaggertype:"string"`
	CustomerName                         string         `json:"customer_name"`
	CustomerSlug                         string         `json:"customer_slug"`
	CustomerNativeName                   string         `json:"customer_native_name"`
	CustomerAbbreviation                 string         `json:"customer_abbreviation"`
	Description                          string         `json:"description"`
	CustomerDisplayBillingInfoInProjects bool           `json:"customer_display_billing_info_in_projects"`
	Created                              time.Time      `json:"created"`
	Type                                 *string        `json:"type"`
	TypeName                             *string        `json:"type_name"`
	TypeUUID                             *string        `json:"type_uuid"`
	BackendID                            string         `json:"backend_id"`
	StartDate                            *string        `json:"start_date" example:"2026-01-31"`
	EndDate                              *string        `json:"end_date" example:"2026-12-31"`
	EndDateRequestedBy                   *string        `json:"end_date_requested_by"`
	OECDFOS2007Code                      *string        `json:"oecd_fos_2007_code"`
	OECDFOS2007Label                     string         `json:"oecd_fos_2007_label"`
	IsIndustry                           bool           `json:"is_industry"`
	Image                                *string        `json:"image"`
	ResourcesCount                       int            `json:"resources_count"`
	MaxServiceAccounts                   *int           `json:"max_service_accounts"`
	Kind                                 string         `json:"kind" example:"default"`
	IsRemoved                            bool           `json:"is_removed"`
	TerminationMetadata                  any            `json:"termination_metadata"`
	StaffNotes                           string         `json:"staff_notes"`
	GracePeriodDays                      *int           `json:"grace_period_days"`
	UserEmailPatterns                    []string       `json:"user_email_patterns"`
	UserAffiliations                     []string       `json:"user_affiliations"`
	UserIdentitySources                  []string       `json:"user_identity_sources"`
	ProjectCredit                        *float64       `json:"project_credit"`
	MarketplaceResourceCount             map[string]int `json:"marketplace_resource_count"`
	BillingPriceEstimate                 PriceEstimate  `json:"billing_price_estimate"`
	Quotas                               []models.Quota `json:"quotas"`
}

// customerField renders a related-customer subquery for ordering by a customer column.
func customerField(col string) string {
	return "(SELECT customers." + col + " FROM customers WHERE customers.id = projects.customer_id)"
}

var projectSpec = rest.ListSpec{
	Ordering: map[string]string{
		"name":                  "projects.name",
		"created":               "projects.created",
		"customer_name":         customerField("name"),
		"customer_native_name":  customerField("native_name"),
		"customer_abbreviation": customerField("abbreviation"),
		"end_date":              nullsLast("projects.end_date", farDate),
		"start_date":            nullsLast("projects.start_date", farDate),
	},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "projects.id",
}

func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format("2006-01-02")
	return &s
}

// renderProjects renders a page of projects, loading customers (unless
// given, by id), types, end-date requesters and quotas for the whole page
// at once.
func (m *Module) renderProjects(c *gin.Context, rows []models.Project, customers map[int64]*models.Customer) ([]Project, error) {
	ctx := c.Request.Context()
	var ids, customerIDs, typeIDs, userIDs []int64
	for _, p := range rows {
		ids = append(ids, p.ID)
		customerIDs = append(customerIDs, p.CustomerID)
		if p.TypeID != nil {
			typeIDs = append(typeIDs, *p.TypeID)
		}
		if p.EndDateRequestedByID != nil {
			userIDs = append(userIDs, *p.EndDateRequestedByID)
		}
	}
	if customers == nil {
		var err error
		if customers, err = m.st.CustomersByID(ctx, customerIDs); err != nil {
			return nil, err
		}
	}
	types, err := m.st.ProjectTypesByID(ctx, typeIDs)
	if err != nil {
		return nil, err
	}
	users, err := m.st.UserUUIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	quotas, err := m.st.QuotasOf(ctx, models.ScopeProject, ids)
	if err != nil {
		return nil, err
	}
	est, err := m.estimates(c, models.ScopeProject, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Project, len(rows))
	for i := range rows {
		p := &rows[i]
		cu := customers[p.CustomerID]
		if cu == nil {
			return nil, models.Internal(errors.New("project without customer"))
		}
		q := quotas[p.ID]
		if q == nil {
			q = []models.Quota{}
		}
		o := Project{
			URL: rest.URL(c, "projects", p.UUID), UUID: p.UUID, Name: p.Name, Slug: p.Slug,
			Customer: rest.URL(c, "customers", cu.UUID), CustomerUUID: cu.UUID, CustomerName: cu.Name,
			CustomerSlug: cu.Slug, CustomerNativeName: cu.NativeName, CustomerAbbreviation: cu.Abbreviation,
			Description: p.Description, CustomerDisplayBillingInfoInProjects: true, Created: p.Created.UTC(),
			BackendID: p.BackendID, StartDate: dateString(p.StartDate), EndDate: dateString(p.EndDate),
			IsIndustry: p.IsIndustry, Kind: "default", IsRemoved: p.IsRemoved,
			UserEmailPatterns: []string{}, UserAffiliations: []string{}, UserIdentitySources: []string{},
			MarketplaceResourceCount: map[string]int{}, BillingPriceEstimate: est[p.ID], Quotas: q,
		}
		if p.TypeID != nil {
			if t := types[*p.TypeID]; t != nil {
				url, name, id := rest.URL(c, "project-types", t.UUID), t.Name, t.UUID.String()
				o.Type, o.TypeName, o.TypeUUID = &url, &name, &id
			}
		}
		if p.EndDateRequestedByID != nil {
			if id, ok := users[*p.EndDateRequestedByID]; ok {
				url := rest.URL(c, "users", id)
				o.EndDateRequestedBy = &url
			}
		}
		if p.OECDFOS2007Code != "" {
			code := p.OECDFOS2007Code
			o.OECDFOS2007Code, o.OECDFOS2007Label = &code, oecdLabels[code]
		}
		out[i] = o
	}
	return out, nil
}

func (m *Module) renderProject(c *gin.Context, status int, p *models.Project) error {
	out, err := m.renderProjects(c, []models.Project{*p}, nil)
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// listProjects godoc
//
//	@Summary		List projects
//	@Description	Projects the caller can see (a role in the project or its customer; staff and support see all), ordered by name. Soft-deleted projects are hidden unless include_terminated=true or is_removed=true. Filters as Waldur's: name (contains), name_exact, slug, description (contains), backend_id, customer (UUIDs, repeated or comma-separated), customer_uuid, customer_name, customer_native_name, customer_abbreviation (contain), query (name or UUID), created/modified (on or after), can_manage, can_admin, conceal_finished_projects, user_uuid; o= name, created, customer_name, customer_native_name, customer_abbreviation, start_date, end_date.
//	@Tags			projects
//	@Produce		json
//	@Security		TokenAuth
//	@Param			customer	query		string	false	"Customer UUID(s)"
//	@Param			name		query		string	false	"Name contains"
//	@Param			query		query		string	false	"Name or UUID"
//	@Param			o			query		string	false	"Ordering"
//	@Param			page		query		int		false	"Page"
//	@Param			page_size	query		int		false	"Page size"
//	@Success		200			{array}		Project
//	@Failure		401			{object}	api.ErrorBody
//	@Router			/api/projects/ [get]
func (m *Module) listProjects(c *gin.Context) error {
	f, err := projectFilter(c)
	if err != nil {
		return err
	}
	q, err := m.st.ProjectsQuery(c.Request.Context(), f, m.now())
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, projectSpec, func(rows []store.ProjectRow) ([]Project, error) {
		projects := make([]models.Project, len(rows))
		customers := make(map[int64]*models.Customer, len(rows))
		for i := range rows {
			projects[i] = rows[i].Project
			if customers[rows[i].CustomerID] == nil {
				customers[rows[i].CustomerID] = rows[i].Customer()
			}
		}
		return m.renderProjects(c, projects, customers)
	})
}

// projectFilter reads the filters of the project list.
func projectFilter(c *gin.Context) (store.ProjectFilter, error) {
	var f store.ProjectFilter
	incl, err := rest.Bool(c, "include_terminated")
	if err != nil {
		return f, err
	}
	f.IncludeTerminated = incl != nil && *incl
	if f.IsRemoved, err = rest.Bool(c, "is_removed"); err != nil {
		return f, err
	}
	f.Name, f.Description = rest.Last(c, "name"), rest.Last(c, "description")
	f.NameExact, f.Slug, f.BackendID = rest.Last(c, "name_exact"), rest.Last(c, "slug"), rest.Last(c, "backend_id")
	f.CustomerName = rest.Last(c, "customer_name")
	f.CustomerNativeName = rest.Last(c, "customer_native_name")
	f.CustomerAbbreviation = rest.Last(c, "customer_abbreviation")
	for _, key := range []string{"customer", "customer_uuid"} {
		for _, v := range rest.Values(c, key) {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				id, err := models.ParseUUID(s)
				if err != nil {
					return f, models.FieldError(key, "Enter a valid UUID.")
				}
				f.Customers = append(f.Customers, id)
			}
		}
	}
	f.Query = rest.Last(c, "query")
	for _, d := range []struct {
		key string
		dst **time.Time
	}{{"created", &f.Created}, {"modified", &f.Modified}} {
		if v := rest.Last(c, d.key); v != "" {
			t, ok := form.ParseDatetime(v, true)
			if !ok {
				return f, models.FieldError(d.key, "Enter a valid date/time.")
			}
			*d.dst = &t
		}
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"can_manage", &f.CanManage}, {"can_admin", &f.CanAdmin}, {"conceal_finished_projects", &f.ConcealFinished}} {
		v, err := rest.Bool(c, b.key)
		if err != nil {
			return f, err
		}
		*b.dst = v != nil && *v
	}
	f.UserUUID, f.Nothing = userUUID(c)
	return f, nil
}

// createProject godoc
//
//	@Summary		Create a project
//	@Description	Needs PROJECT.CREATE on the customer (staff always); the customer is a URL or UUID of a customer the caller can see, and must not be blocked or archived. The customer's nc_project_count quota grows by one in the same transaction (400 past its limit). Setting end_date needs PROJECT.DELETE on the customer.
//	@Tags			projects
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		object	true	"ProjectRequest (name and customer required)"
//	@Success		201		{object}	Project
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/projects/ [post]
func (m *Module) createProject(c *gin.Context) error {
	u := api.CurrentUser(c)
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	var cu *models.Customer
	if id, ok := f.Ref("customer", "customers", false, true); ok {
		found, err := m.st.VisibleCustomer(c.Request.Context(), id, m.now())
		switch {
		case models.IsCode(err, models.CodeNotFound):
			f.Fail("customer", rest.MsgDoesNotExist)
		case err != nil:
			return err
		default:
			cu = found
		}
	}
	p := &models.Project{}
	endDateSet := m.applyProject(c, f, p, u.IsStaff, true)
	if f.Has("quotas") {
		f.Fail("quotas", "Quota limits are set with PATCH once the project exists.")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if endDateSet {
		if err := m.rbac.Require(c.Request.Context(), u, models.PermProjectDelete, cu.Scope()); err != nil {
			return err
		}
		p.EndDateRequestedByID = &u.ID
	}
	if err := cu.CheckNotBlocked(); err != nil {
		return err
	}
	if err := m.rbac.Require(c.Request.Context(), u, models.PermProjectCreate, cu.Scope()); err != nil {
		return err
	}
	if err := m.st.CreateProject(c.Request.Context(), p, cu); err != nil {
		return err
	}
	return m.renderProject(c, http.StatusCreated, p)
}

// getProject godoc
//
//	@Summary		Retrieve a project
//	@Description	Soft-deleted projects stay reachable by UUID for those who can see them (is_removed true).
//	@Tags			projects
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Project UUID"
//	@Success		200		{object}	Project
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/projects/{uuid}/ [get]
func (m *Module) getProject(c *gin.Context) error {
	p, _, err := m.visibleProject(c)
	if err != nil {
		return err
	}
	return m.renderProject(c, http.StatusOK, p)
}

// liveProject is visibleProject refusing soft-deleted projects (404).
func (m *Module) liveProject(c *gin.Context) (*models.Project, *models.Customer, error) {
	p, cu, err := m.visibleProject(c)
	if err != nil {
		return nil, nil, err
	}
	if p.IsRemoved {
		return nil, nil, api.NotFound("Project")
	}
	return p, cu, nil
}

// updateProject godoc
//
//	@Summary		Update a project
//	@Description	PUT (name required) or PATCH. Needs PROJECT.UPDATE on the project or its customer; the customer must not be blocked or archived; the customer cannot be changed here. Setting end_date needs PROJECT.DELETE on the customer. Ours: staff may set quota limits with "quotas": [{"name": "nc_resource_count", "limit": 10}].
//	@Tags			projects
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Project UUID"
//	@Param			body	body		object	true	"ProjectRequest"
//	@Success		200		{object}	Project
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/projects/{uuid}/ [put]
//	@Router			/api/projects/{uuid}/ [patch]
func (m *Module) updateProject(c *gin.Context) error {
	p, cu, err := m.liveProject(c)
	if err != nil {
		return err
	}
	u := api.CurrentUser(c)
	ctx := c.Request.Context()
	if err := m.rbac.Require(ctx, u, models.PermProjectUpdate, p.Scope(), cu.Scope()); err != nil {
		return err
	}
	if err := cu.CheckNotBlocked(); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	var limits map[string]int64
	if f.Has("quotas") {
		if !u.IsStaff {
			return models.Errorf(models.CodeForbidden, "Only staff can set quota limits.")
		}
		limits, _ = quotaLimits(f, "quotas", models.QuotaNames[models.ScopeProject])
	}
	endDateSet := m.applyProject(c, f, p, u.IsStaff, c.Request.Method == http.MethodPut)
	if err := f.Err(); err != nil {
		return err
	}
	if endDateSet {
		if err := m.rbac.Require(ctx, u, models.PermProjectDelete, cu.Scope()); err != nil {
			return err
		}
		p.EndDateRequestedByID = &u.ID
	}
	if err := m.st.UpdateProject(ctx, p, cu, limits); err != nil {
		return err
	}
	return m.renderProject(c, http.StatusOK, p)
}

// deleteProject godoc
//
//	@Summary		Delete a project
//	@Description	Soft delete (is_removed). Needs PROJECT.DELETE on the customer; the customer must not be blocked or archived; a project with resources that are not terminated is refused (400). The project's roles are revoked (kept as history) and the customer's nc_project_count drops by one.
//	@Tags			projects
//	@Security		TokenAuth
//	@Param			uuid	path	string	true	"Project UUID"
//	@Success		204
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/projects/{uuid}/ [delete]
func (m *Module) deleteProject(c *gin.Context) error {
	p, cu, err := m.liveProject(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := m.rbac.Require(ctx, api.CurrentUser(c), models.PermProjectDelete, cu.Scope()); err != nil {
		return err
	}
	if err := cu.CheckNotBlocked(); err != nil {
		return err
	}
	if m.active != nil {
		busy, err := m.active(ctx, p.ID)
		if err != nil {
			return err
		}
		if busy {
			return models.Errorf(models.CodeConflict, MsgProjectHasResources) // Waldur: 409
		}
	}
	if err := m.st.DeleteProject(ctx, p, cu); err != nil {
		return err
	}
	return api.NoContent(c)
}

// applyProject copies the fields present in f onto p with Waldur's
// ProjectSerializer validation; it reports whether a non-null end_date was
// given (which needs PROJECT.DELETE on the customer). The customer is only
// read on create, by the caller.
func (m *Module) applyProject(c *gin.Context, f *form.Form, p *models.Project, staff, required bool) (endDateSet bool) {
	today := m.now().UTC().Truncate(24 * time.Hour)
	creating := p.ID == 0
	if required || f.Has("name") {
		if v, ok := f.RequireStr("name", 500); ok {
			p.Name = v
		}
	}
	if staff {
		if v, ok := f.Slug("slug", 50); ok {
			p.Slug = v
		}
	}
	if v, ok := f.Str("description", 0, true); ok {
		p.Description = v
	}
	if v, ok := f.Str("backend_id", 255, true); ok {
		p.BackendID = v
	}
	if v, ok := f.Bool("is_industry"); ok {
		p.IsIndustry = v
	}
	if f.Has("oecd_fos_2007_code") {
		if f.IsNull("oecd_fos_2007_code") {
			p.OECDFOS2007Code = ""
		} else if v, ok := f.Choice("oecd_fos_2007_code", oecdCodes, true); ok {
			p.OECDFOS2007Code = v
		}
	}
	// start_date cannot be edited once it has arrived.
	if creating || p.StartDate == nil || p.StartDate.After(today) {
		if v, ok := f.Date("start_date", true); ok {
			if v != nil && v.Before(today) {
				f.Fail("start_date", "Cannot be earlier than the current date.")
			} else {
				p.StartDate = v
			}
		}
	}
	if v, ok := f.Date("end_date", true); ok {
		if v != nil && v.Before(today) {
			f.Fail("end_date", "Cannot be earlier than the current date.")
		} else {
			p.EndDate = v
			endDateSet = v != nil
		}
	}
	if id, ok := f.Ref("type", "project-types", true, false); ok {
		if id.IsZero() {
			p.TypeID = nil
		} else if t, err := m.st.ProjectTypeByUUID(c.Request.Context(), id); err != nil {
			f.Fail("type", rest.MsgDoesNotExist)
		} else {
			p.TypeID = &t.ID
		}
	}
	return endDateSet
}
