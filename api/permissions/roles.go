package permissions

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Descriptions are a role's description by language (Waldur's
// description_<lang>): English is the description itself; a language with
// none given is null.
type Descriptions struct {
	DescriptionEn *string `json:"description_en"`
	DescriptionEt *string `json:"description_et"`
	DescriptionLt *string `json:"description_lt"`
	DescriptionLv *string `json:"description_lv"`
	DescriptionRu *string `json:"description_ru"`
	DescriptionIt *string `json:"description_it"`
	DescriptionDe *string `json:"description_de"`
	DescriptionDa *string `json:"description_da"`
	DescriptionSv *string `json:"description_sv"`
	DescriptionEs *string `json:"description_es"`
	DescriptionFr *string `json:"description_fr"`
	DescriptionNb *string `json:"description_nb"`
	DescriptionAr *string `json:"description_ar"`
	DescriptionCs *string `json:"description_cs"`
}

// fields are the descriptions by language code, in models.DescriptionLanguages order.
func (d *Descriptions) fields() []**string {
	return []**string{&d.DescriptionEn, &d.DescriptionEt, &d.DescriptionLt, &d.DescriptionLv, &d.DescriptionRu, &d.DescriptionIt, &d.DescriptionDe, &d.DescriptionDa, &d.DescriptionSv, &d.DescriptionEs, &d.DescriptionFr, &d.DescriptionNb, &d.DescriptionAr, &d.DescriptionCs}
}

func descriptionsOf(r *models.Role) Descriptions {
	var d Descriptions
	for i, f := range d.fields() {
		lang := models.DescriptionLanguages[i]
		if lang == "en" {
			v := r.Description
			*f = &v
		} else if v, ok := r.Descriptions[lang]; ok {
			*f = &v
		}
	}
	return d
}

// readDescriptions reads description_<lang> of a request into p: English
// is the description (it wins over "description" when both are given),
// the others are set, or removed by null.
func readDescriptions(f *form.Form, p *store.RolePatch) {
	for _, lang := range models.DescriptionLanguages {
		k := "description_" + lang
		if !f.Has(k) {
			continue
		}
		var v *string
		if !f.IsNull(k) {
			s, ok := str(f, k, 4096, false)
			if !ok {
				continue
			}
			v = &s
		}
		if lang == "en" {
			if v == nil {
				v = new(string)
			}
			p.Description = v
			continue
		}
		if p.Descriptions == nil {
			p.Descriptions = map[string]*string{}
		}
		p.Descriptions[lang] = v
	}
}

// RoleDetails is a role as Waldur renders it. users_count is shown to
// staff and support only, as in Waldur.
type RoleDetails struct {
	UUID        models.UUID `json:"uuid" swaggertype:"string" example:"d8c2d5852d434937985392d24249b6d3"`
	Name        string      `json:"name" example:"PROJECT.REVIEWER"`
	Description string      `json:"description"`
	Descriptions
	Permissions  []string `json:"permissions"`
	IsSystemRole bool     `json:"is_system_role"`
	IsActive     bool     `json:"is_active"`
	UsersCount   *int64   `json:"users_count,omitempty"`
	ContentType  string   `json:"content_type" enums:"customer,project,offering"`
}

// RoleModifyRequest is the body of create and update (PUT); PATCH takes
// any subset of it.
type RoleModifyRequest struct {
	Name        string `json:"name" example:"PROJECT.REVIEWER"`
	Description string `json:"description"`
	Descriptions
	Permissions []string `json:"permissions"`
	IsActive    *bool    `json:"is_active"`
	ContentType string   `json:"content_type" enums:"customer,project,offering"`
}

// RoleDescription is the body and answer of update_descriptions.
type RoleDescription struct {
	Description string `json:"description"`
	Descriptions
}

var roleListSpec = rest.ListSpec{
	Ordering: map[string]string{
		"name": "roles.name", "description": "roles.description", "is_active": "roles.is_active",
		"content_type": "roles.content_type", "is_system_role": "roles.is_system_role",
	},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "roles.id",
}

func (m *Module) renderRoles(c *gin.Context, roles []models.Role) ([]RoleDetails, error) {
	ids := make([]int64, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	ctx := c.Request.Context()
	perms, err := m.d.Store.RolePermissions(ctx, ids)
	if err != nil {
		return nil, err
	}
	var counts map[int64]int64
	if rbac.SeesEverything(api.CurrentUser(c)) {
		if counts, err = m.d.Store.RoleUsersCounts(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]RoleDetails, len(roles))
	for i, r := range roles {
		ps := make([]string, 0, len(perms[r.ID]))
		for _, p := range perms[r.ID] {
			ps = append(ps, string(p))
		}
		out[i] = RoleDetails{UUID: r.UUID, Name: r.Name, Description: r.Description, Descriptions: descriptionsOf(&r), Permissions: ps,
			IsSystemRole: r.IsSystemRole, IsActive: r.IsActive, ContentType: string(r.ContentType)}
		if counts != nil {
			n := counts[r.ID]
			out[i].UsersCount = &n
		}
	}
	return out, nil
}

func (m *Module) renderRole(c *gin.Context, status int, r *models.Role) error {
	out, err := m.renderRoles(c, []models.Role{*r})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

// listRoles godoc
//
//	@Summary		List roles
//	@Description	Every role with its permissions. Anyone may read roles (Waldur's IsAdminOrReadOnly); users_count is shown to staff and support only. Filters: name and description (contains), is_active, content_type (repeatable); ordering ?o=name|description|is_active|content_type.
//	@Tags			roles
//	@Produce		json
//	@Param			name			query	string	false	"Name contains"
//	@Param			description		query	string	false	"Description contains"
//	@Param			is_active		query	bool	false	"Active roles only (true) or inactive only (false)"
//	@Param			content_type	query	[]string	false	"Scope type: customer, project, offering"	collectionFormat(multi)
//	@Param			o				query	string	false	"Ordering"
//	@Success		200	{array}	RoleDetails
//	@Router			/api/roles/ [get]
func (m *Module) listRoles(c *gin.Context) error {
	f := store.RoleFilter{}
	if vs := rest.Values(c, "name"); len(vs) > 0 {
		f.Name = vs[len(vs)-1]
	}
	if vs := rest.Values(c, "description"); len(vs) > 0 {
		f.Description = vs[len(vs)-1]
	}
	active, err := rest.Bool(c, "is_active")
	if err != nil {
		return err
	}
	f.IsActive = active
	for _, v := range rest.Values(c, "content_type") {
		f.ContentType = append(f.ContentType, models.ScopeType(v))
	}
	return rest.ListBatch(c, m.d.Store.RolesQuery(c.Request.Context(), f), roleListSpec, func(rows []models.Role) ([]RoleDetails, error) {
		return m.renderRoles(c, rows)
	})
}

// retrieveRole godoc
//
//	@Summary	Get role details
//	@Tags		roles
//	@Produce	json
//	@Param		uuid	path	string	true	"Role UUID"
//	@Success	200	{object}	RoleDetails
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/roles/{uuid}/ [get]
func (m *Module) retrieveRole(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	r, err := m.d.Store.RoleByUUID(c.Request.Context(), id)
	if err != nil {
		return notFoundAs(err)
	}
	return m.renderRole(c, http.StatusOK, r)
}

// roleInput reads a RoleModifyRequest; all says whether name, permissions
// and content_type are required (create, PUT).
func roleInput(f *form.Form, all bool) store.RolePatch {
	var p store.RolePatch
	if v, ok := str(f, "name", 150, all); ok {
		p.Name = &v
	}
	if v, ok := str(f, "description", 4096, false); ok {
		p.Description = &v
	}
	readDescriptions(f, &p)
	if v, ok := str(f, "content_type", 0, all); ok {
		t := models.ScopeType(v)
		p.ContentType = &t
	}
	if vs, ok := f.StrList("permissions", all, form.Char{AllowBlank: true, KeepSpace: true, StringsOnly: true}); ok {
		ps := make([]models.Permission, len(vs))
		for i, v := range vs {
			ps[i] = models.Permission(v)
		}
		p.Permissions = &ps
	}
	if b, ok := f.NullBool("is_active"); ok {
		p.IsActive = b
	}
	return p
}

// createRole godoc
//
//	@Summary		Create a new role
//	@Description	Staff only. A custom role (is_system_role false) bound to one scope type, with known permission strings.
//	@Tags			roles
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		RoleModifyRequest	true	"The role"
//	@Success		201		{object}	RoleDetails
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/roles/ [post]
func (m *Module) createRole(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	p := roleInput(f, true)
	if err := f.Err(); err != nil {
		return err
	}
	in := store.RoleInput{Name: *p.Name, ContentType: *p.ContentType, Permissions: *p.Permissions, IsActive: p.IsActive}
	if p.Description != nil {
		in.Description = *p.Description
	}
	for lang, v := range p.Descriptions {
		if v != nil {
			if in.Descriptions == nil {
				in.Descriptions = map[string]string{}
			}
			in.Descriptions[lang] = *v
		}
	}
	r, err := m.d.Store.CreateRole(c.Request.Context(), in)
	if err != nil {
		return err
	}
	return m.renderRole(c, http.StatusCreated, r)
}

// replaceRole godoc
//
//	@Summary		Update a role
//	@Description	Staff only. Replaces name, description, content type and permissions. A system role keeps its name; a role in use keeps its content type. The change applies to every permission check at once.
//	@Tags			roles
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string				true	"Role UUID"
//	@Param			body	body		RoleModifyRequest	true	"The role"
//	@Success		200		{object}	RoleDetails
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/ [put]
func (m *Module) replaceRole(c *gin.Context) error { return m.updateRole(c, true) }

// patchRole godoc
//
//	@Summary		Partially update a role
//	@Description	Staff only. Changes the given fields (name, description, is_active, and also permissions and content_type).
//	@Tags			roles
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string				true	"Role UUID"
//	@Param			body	body		RoleModifyRequest	false	"Fields to change"
//	@Success		200		{object}	RoleDetails
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/ [patch]
func (m *Module) patchRole(c *gin.Context) error { return m.updateRole(c, false) }

func (m *Module) updateRole(c *gin.Context, all bool) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	if _, err := m.d.Store.RoleByUUID(c.Request.Context(), id); err != nil {
		return notFoundAs(err)
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	p := roleInput(f, all)
	if err := f.Err(); err != nil {
		return err
	}
	r, err := m.d.Store.UpdateRole(c.Request.Context(), id, p)
	if err != nil {
		return notFoundAs(err)
	}
	return m.renderRole(c, http.StatusOK, r)
}

// destroyRole godoc
//
//	@Summary		Delete a role
//	@Description	Staff only. Refused (400) for a system role ("Destroying of system role is not available."), a role held by active user roles ("Role is still used.") and a role of pending invitations.
//	@Tags			roles
//	@Security		TokenAuth
//	@Param			uuid	path	string	true	"Role UUID"
//	@Success		204
//	@Failure		400	{object}	map[string][]string
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/ [delete]
func (m *Module) destroyRole(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	if err := m.d.Store.DeleteRole(c.Request.Context(), id); err != nil {
		return notFoundAs(err)
	}
	return api.NoContent(c)
}

// enableRole godoc
//
//	@Summary		Enable a role
//	@Description	Staff only. The role can be granted again and its permissions count in every check at once.
//	@Tags			roles
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Role UUID"
//	@Success		200		{object}	Detail
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/enable/ [post]
func (m *Module) enableRole(c *gin.Context) error { return m.setRoleActive(c, true) }

// disableRole godoc
//
//	@Summary		Disable a role
//	@Description	Staff only. The role can no longer be granted, and its permissions stop counting in permission checks at once (the grants themselves are kept).
//	@Tags			roles
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string	true	"Role UUID"
//	@Success		200		{object}	Detail
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/disable/ [post]
func (m *Module) disableRole(c *gin.Context) error { return m.setRoleActive(c, false) }

func (m *Module) setRoleActive(c *gin.Context, active bool) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	r, err := m.d.Store.RoleByUUID(c.Request.Context(), id)
	if err != nil {
		return notFoundAs(err)
	}
	verb := "disabled"
	if active {
		verb = "enabled"
	}
	if r.IsActive != active {
		if _, err := m.d.Store.SetRoleActive(c.Request.Context(), id, active); err != nil {
			return notFoundAs(err)
		}
	}
	c.JSON(http.StatusOK, Detail{Detail: "The role " + r.Name + " has been " + verb})
	return nil
}

// updateRoleDescriptions godoc
//
//	@Summary		Update role descriptions
//	@Description	Staff only. Sets the description and its translations (description_<lang>; description_en is the description, null removes a translation).
//	@Tags			roles
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string			true	"Role UUID"
//	@Param			body	body		RoleDescription	false	"Descriptions"
//	@Success		200		{object}	RoleDescription
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/roles/{uuid}/update_descriptions/ [put]
func (m *Module) updateRoleDescriptions(c *gin.Context) error {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return err
	}
	if _, err := m.d.Store.RoleByUUID(c.Request.Context(), id); err != nil {
		return notFoundAs(err)
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	var p store.RolePatch
	if v, ok := str(f, "description", 4096, false); ok {
		p.Description = &v
	}
	readDescriptions(f, &p)
	if err := f.Err(); err != nil {
		return err
	}
	r, err := m.d.Store.UpdateRole(c.Request.Context(), id, p)
	if err != nil {
		return notFoundAs(err)
	}
	c.JSON(http.StatusOK, RoleDescription{Description: r.Description, Descriptions: descriptionsOf(r)})
	return nil
}
