package structure

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// ProjectType is Waldur's ProjectType.
type ProjectType struct {
	UUID        models.UUID `json:"uuid" swaggertype:"string"`
	URL         string      `json:"url"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
}

var projectTypeSpec = rest.ListSpec{
	Ordering:        map[string]string{"name": "project_types.name"},
	DefaultOrdering: []string{"name"},
	TieBreaker:      "project_types.id",
}

func renderProjectType(c *gin.Context, t *models.ProjectType) ProjectType {
	return ProjectType{UUID: t.UUID, URL: rest.URL(c, "project-types", t.UUID), Name: t.Name, Description: t.Description}
}

// listProjectTypes godoc
//
//	@Summary		List project types
//	@Description	Any authenticated user. Filters name (contains) and name_exact; ordered by name.
//	@Tags			project-types
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name		query		string	false	"Name contains"
//	@Param			name_exact	query		string	false	"Name is"
//	@Success		200			{array}		ProjectType
//	@Router			/api/project-types/ [get]
func (m *Module) listProjectTypes(c *gin.Context) error {
	q := m.st.ProjectTypesQuery(c.Request.Context(), store.ProjectTypeFilter{Name: rest.Last(c, "name"), NameExact: rest.Last(c, "name_exact")})
	return rest.List(c, q, projectTypeSpec, func(t *models.ProjectType) ProjectType { return renderProjectType(c, t) })
}

func (m *Module) projectTypeOf(c *gin.Context) (*models.ProjectType, error) {
	id, err := api.PathUUID(c, "ProjectType")
	if err != nil {
		return nil, err
	}
	t, err := m.st.ProjectTypeByUUID(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("ProjectType")
	}
	return t, err
}

// getProjectType godoc
//
//	@Summary	Retrieve a project type
//	@Tags		project-types
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Project type UUID"
//	@Success	200		{object}	ProjectType
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/project-types/{uuid}/ [get]
func (m *Module) getProjectType(c *gin.Context) error {
	t, err := m.projectTypeOf(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderProjectType(c, t))
}

func applyProjectType(f *form.Form, t *models.ProjectType, required bool) {
	if required || f.Has("name") {
		if v, ok := f.RequireStr("name", 150); ok {
			t.Name = v
		}
	}
	if v, ok := f.Str("description", 4096, true); ok {
		t.Description = v
	}
}

// createProjectType godoc
//
//	@Summary		Create a project type
//	@Description	Staff only. Ours: Waldur manages project types in its admin and exposes only list and retrieve.
//	@Tags			project-types
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		ProjectType	true	"name (required), description"
//	@Success		201		{object}	ProjectType
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/project-types/ [post]
func (m *Module) createProjectType(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	t := &models.ProjectType{}
	applyProjectType(f, t, true)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.CreateProjectType(c.Request.Context(), t); err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, renderProjectType(c, t))
}

// updateProjectType godoc
//
//	@Summary		Update a project type
//	@Description	Staff only (ours, as createProjectType). PUT needs name; PATCH is partial.
//	@Tags			project-types
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			uuid	path		string		true	"Project type UUID"
//	@Param			body	body		ProjectType	true	"name, description"
//	@Success		200		{object}	ProjectType
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/project-types/{uuid}/ [put]
//	@Router			/api/project-types/{uuid}/ [patch]
func (m *Module) updateProjectType(c *gin.Context) error {
	t, err := m.projectTypeOf(c)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	applyProjectType(f, t, c.Request.Method == http.MethodPut)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.UpdateProjectType(c.Request.Context(), t); err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderProjectType(c, t))
}

// deleteProjectType godoc
//
//	@Summary		Delete a project type
//	@Description	Staff only (ours). Projects of the type keep existing without one.
//	@Tags			project-types
//	@Security		TokenAuth
//	@Param			uuid	path	string	true	"Project type UUID"
//	@Success		204
//	@Failure		403	{object}	api.ErrorBody
//	@Failure		404	{object}	api.ErrorBody
//	@Router			/api/project-types/{uuid}/ [delete]
func (m *Module) deleteProjectType(c *gin.Context) error {
	t, err := m.projectTypeOf(c)
	if err != nil {
		return err
	}
	if err := m.st.DeleteProjectType(c.Request.Context(), t); err != nil {
		return err
	}
	return api.NoContent(c)
}
