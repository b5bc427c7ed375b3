package catalog

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// CategoryGroup is Waldur's CategoryGroup.
type CategoryGroup struct {
	URL         string      `json:"url"`
	UUID        models.UUID `json:"uuid" swaggertype:"string"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Icon        *string     `json:"icon"`
}

// Category is Waldur's MarketplaceCategory.
type Category struct {
	URL                     string      `json:"url"`
	UUID                    models.UUID `json:"uuid" swaggertype:"string"`
	Title                   string      `json:"title"`
	Description             string      `json:"description"`
	Icon                    *string     `json:"icon"`
	DefaultVMCategory       bool        `json:"default_vm_category"`
	DefaultVolumeCategory   bool        `json:"default_volume_category"`
	DefaultTenantCategory   bool        `json:"default_tenant_category"`
	OfferingCount           int64       `json:"offering_count"`
	AvailableOfferingsCount int64       `json:"available_offerings_count"`
	Sections                []any       `json:"sections"`
	Columns                 []any       `json:"columns"`
	Components              []any       `json:"components"`
	Articles                []any       `json:"articles"`
	Group                   *string     `json:"group"`
}

func icon(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (m *Module) renderGroup(c *gin.Context, g *store.CategoryGroup) CategoryGroup {
	return CategoryGroup{URL: rest.URL(c, colGroups, g.UUID), UUID: g.UUID, Title: g.Title, Description: g.Description, Icon: icon(g.Icon)}
}

var groupSpec = rest.ListSpec{Ordering: map[string]string{"title": "title"}, DefaultOrdering: []string{"title"}, TieBreaker: "id"}

// listGroups godoc
// @Summary List category groups
// @Tags marketplace-category-groups
// @Success 200 {array} CategoryGroup
// @Router /api/marketplace-category-groups/ [get]
func (m *Module) listGroups(c *gin.Context) error {
	q := m.st.CategoryGroupsQuery(c.Request.Context(), store.CategoryGroupFilter{Title: rest.Last(c, "title")})
	return rest.List(c, q, groupSpec, func(g *store.CategoryGroup) CategoryGroup { return m.renderGroup(c, g) })
}

// getGroup godoc
// @Summary Retrieve a category group
// @Tags marketplace-category-groups
// @Success 200 {object} CategoryGroup
// @Router /api/marketplace-category-groups/{uuid}/ [get]
func (m *Module) getGroup(c *gin.Context) error {
	g, err := pathRow(c, "CategoryGroup", m.st.CategoryGroupByUUID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderGroup(c, g))
}

func readGroup(f *form.Form, put bool) map[string]any {
	fields := map[string]any{}
	var title string
	var ok bool
	if put {
		title, ok = f.RequireStr("title", 255)
	} else {
		title, ok = f.Str("title", 255, false)
	}
	if ok {
		fields["title"] = title
	}
	if v, ok := f.Text("description"); ok {
		fields["description"] = v
	}
	return fields
}

// createGroup godoc
// @Summary Create a category group (staff)
// @Tags marketplace-category-groups
// @Success 201 {object} CategoryGroup
// @Router /api/marketplace-category-groups/ [post]
func (m *Module) createGroup(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := readGroup(f, true)
	if err := f.Err(); err != nil {
		return err
	}
	g := store.CategoryGroup{UUID: models.NewUUID(), Title: fields["title"].(string)}
	g.Description, _ = fields["description"].(string)
	if err := m.st.CreateRow(c.Request.Context(), &g, "Category group"); err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, m.renderGroup(c, &g))
}

// updateGroup godoc
// @Summary Update a category group (staff)
// @Tags marketplace-category-groups
// @Success 200 {object} CategoryGroup
// @Router /api/marketplace-category-groups/{uuid}/ [patch]
func (m *Module) updateGroup(c *gin.Context) error {
	g, err := pathRow(c, "CategoryGroup", m.st.CategoryGroupByUUID)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := readGroup(f, c.Request.Method == http.MethodPut)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.UpdateRow(c.Request.Context(), g, g.ID, fields, "Category group"); err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderGroup(c, g))
}

// deleteGroup godoc
// @Summary Delete a category group (staff)
// @Tags marketplace-category-groups
// @Success 204
// @Router /api/marketplace-category-groups/{uuid}/ [delete]
func (m *Module) deleteGroup(c *gin.Context) error {
	g, err := pathRow(c, "CategoryGroup", m.st.CategoryGroupByUUID)
	if err != nil {
		return err
	}
	if err := m.st.DeleteRow(c.Request.Context(), &store.CategoryGroup{}, g.ID, "Category group"); err != nil {
		return err
	}
	return api.NoContent(c)
}

var categorySpec = rest.ListSpec{Ordering: map[string]string{"title": "categories.title"}, DefaultOrdering: []string{"title"}, TieBreaker: "categories.id"}

func (m *Module) renderCategories(c *gin.Context, rows []store.Category) ([]Category, error) {
	ids, gids := make([]int64, len(rows)), []int64{}
	for i := range rows {
		ids[i] = rows[i].ID
		if rows[i].GroupID != nil {
			gids = append(gids, *rows[i].GroupID)
		}
	}
	counts, err := m.st.ActiveOfferingCounts(c.Request.Context(), "category_id", ids)
	if err != nil {
		return nil, err
	}
	groups, err := m.st.CategoryGroupUUIDs(c.Request.Context(), gids)
	if err != nil {
		return nil, err
	}
	out := make([]Category, len(rows))
	for i := range rows {
		ca := &rows[i]
		r := Category{URL: rest.URL(c, colCats, ca.UUID), UUID: ca.UUID, Title: ca.Title, Description: ca.Description,
			Icon: icon(ca.Icon), DefaultVMCategory: ca.DefaultVMCategory, DefaultVolumeCategory: ca.DefaultVolumeCategory,
			DefaultTenantCategory: ca.DefaultTenantCategory, OfferingCount: counts[ca.ID], AvailableOfferingsCount: counts[ca.ID],
			Sections: []any{}, Columns: []any{}, Components: []any{}, Articles: []any{}}
		if ca.GroupID != nil {
			if g, ok := groups[*ca.GroupID]; ok {
				r.Group = strp(rest.URL(c, colGroups, g))
			}
		}
		out[i] = r
	}
	return out, nil
}

// listCategories godoc
// @Summary List categories (filters title, group_uuid); offering_count counts Active offerings
// @Tags marketplace-categories
// @Success 200 {array} Category
// @Router /api/marketplace-categories/ [get]
func (m *Module) listCategories(c *gin.Context) error {
	f := store.CategoryFilter{Title: rest.Last(c, "title")}
	var err error
	if f.GroupUUIDs, err = rest.UUIDs(c, "group_uuid"); err != nil {
		return err
	}
	return rest.ListBatch(c, m.st.CategoriesQuery(c.Request.Context(), f), categorySpec, func(rows []store.Category) ([]Category, error) { return m.renderCategories(c, rows) })
}

func (m *Module) renderCategory(c *gin.Context, status int, ca *store.Category) error {
	out, err := m.renderCategories(c, []store.Category{*ca})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// getCategory godoc
// @Summary Retrieve a category
// @Tags marketplace-categories
// @Success 200 {object} Category
// @Router /api/marketplace-categories/{uuid}/ [get]
func (m *Module) getCategory(c *gin.Context) error {
	ca, err := pathRow(c, "Category", m.st.CategoryByUUID)
	if err != nil {
		return err
	}
	return m.renderCategory(c, http.StatusOK, ca)
}

func (m *Module) readCategory(c *gin.Context, f *form.Form, put bool) map[string]any {
	fields := readGroup(f, put)
	for _, k := range []string{"default_vm_category", "default_volume_category", "default_tenant_category"} {
		if v, ok := f.Bool(k); ok {
			fields[k] = v
		}
	}
	if id, ok := f.Ref("group", colGroups, true, false); ok {
		if id.IsZero() {
			fields["group_id"] = nil
		} else if gid, err := m.st.CategoryGroupIDByUUID(c.Request.Context(), id); err != nil || gid == 0 {
			f.Fail("group", msgNoObject)
		} else {
			fields["group_id"] = gid
		}
	}
	return fields
}

// createCategory godoc
// @Summary Create a category (staff)
// @Tags marketplace-categories
// @Success 201 {object} Category
// @Router /api/marketplace-categories/ [post]
func (m *Module) createCategory(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := m.readCategory(c, f, true)
	if err := f.Err(); err != nil {
		return err
	}
	now := m.st.Now()
	ca := store.Category{UUID: models.NewUUID(), Title: fields["title"].(string), Created: now, Modified: now}
	if err := m.st.CreateRow(c.Request.Context(), &ca, "Category"); err != nil {
		return err
	}
	delete(fields, "title")
	if err := m.st.UpdateRow(c.Request.Context(), &ca, ca.ID, fields, "Category"); err != nil {
		return err
	}
	return m.renderCategory(c, http.StatusCreated, &ca)
}

// updateCategory godoc
// @Summary Update a category (staff)
// @Tags marketplace-categories
// @Success 200 {object} Category
// @Router /api/marketplace-categories/{uuid}/ [patch]
func (m *Module) updateCategory(c *gin.Context) error {
	ca, err := pathRow(c, "Category", m.st.CategoryByUUID)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	fields := m.readCategory(c, f, c.Request.Method == http.MethodPut)
	if err := f.Err(); err != nil {
		return err
	}
	fields["modified"] = m.st.Now()
	if err := m.st.UpdateRow(c.Request.Context(), ca, ca.ID, fields, "Category"); err != nil {
		return err
	}
	return m.renderCategory(c, http.StatusOK, ca)
}

// deleteCategory godoc
// @Summary Delete a category (staff); one with offerings is a 409
// @Tags marketplace-categories
// @Success 204
// @Router /api/marketplace-categories/{uuid}/ [delete]
func (m *Module) deleteCategory(c *gin.Context) error {
	ca, err := pathRow(c, "Category", m.st.CategoryByUUID)
	if err != nil {
		return err
	}
	n, err := m.st.CategoryOfferingCount(c.Request.Context(), ca.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.CodeConflict, "Category has offerings and cannot be deleted.")
	}
	if err := m.st.DeleteRow(c.Request.Context(), &store.Category{}, ca.ID, "Category"); err != nil {
		return err
	}
	return api.NoContent(c)
}
