package siteagent

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// NestedProcessor is the OpenAPI NestedAgentProcessor shape.
type NestedProcessor struct {
	UUID           models.UUID `json:"uuid"`
	URL            string      `json:"url"`
	Name           string      `json:"name"`
	LastRun        *time.Time  `json:"last_run"`
	BackendType    string      `json:"backend_type"`
	BackendVersion *string     `json:"backend_version"`
	Created        time.Time   `json:"created"`
	Modified       time.Time   `json:"modified"`
}

// Service is the OpenAPI AgentService shape; identity is the identity's UUID.
type Service struct {
	UUID         models.UUID       `json:"uuid"`
	URL          string            `json:"url"`
	Identity     models.UUID       `json:"identity"`
	IdentityName string            `json:"identity_name"`
	Name         string            `json:"name"`
	Mode         *string           `json:"mode"`
	State        string            `json:"state"`
	Statistics   json.RawMessage   `json:"statistics" swaggertype:"object"`
	Created      time.Time         `json:"created"`
	Modified     time.Time         `json:"modified"`
	Processors   []NestedProcessor `json:"processors"`
}

func (m *Module) renderServices(c *gin.Context, vs []store.AgentServiceView) ([]Service, error) {
	ids := make([]int64, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	procs, err := m.st.AgentProcessorsOf(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]Service, len(vs))
	for i, v := range vs {
		s := Service{UUID: v.UUID, URL: rest.URL(c, colServices, v.UUID), Identity: v.IdentityUUID, IdentityName: v.IdentityName,
			Name: v.Name, Mode: orNull(v.Mode), State: v.State.String(), Statistics: jsonOr(v.Statistics, "{}"), Created: v.Created,
			Modified: v.Modified, Processors: []NestedProcessor{}}
		for _, p := range procs[v.ID] {
			s.Processors = append(s.Processors, NestedProcessor{UUID: p.UUID, URL: rest.URL(c, colProcessors, p.UUID), Name: p.Name,
				LastRun: p.LastRun, BackendType: p.BackendType, BackendVersion: orNull(p.BackendVersion), Created: p.Created,
				Modified: p.Modified})
		}
		out[i] = s
	}
	return out, nil
}

func (m *Module) renderService(c *gin.Context, status int, id models.UUID) error {
	v, err := m.st.AgentServiceByUUID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	out, err := m.renderServices(c, []store.AgentServiceView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, status, out[0])
}

var serviceListSpec = rest.ListSpec{
	Ordering: map[string]string{"created": "agent_services.created", "modified": "agent_services.modified",
		"name": "agent_services.name"},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "agent_services.id",
}

// serviceStates maps the state filter's values (the OpenAPI
// AgentServiceStateEnum: 1, 2, 3; the names are accepted too).
var serviceStates = map[string]models.AgentServiceState{
	"1": models.AgentServiceActive, "2": models.AgentServiceIdle, "3": models.AgentServiceError,
	"Active": models.AgentServiceActive, "Idle": models.AgentServiceIdle, "Error": models.AgentServiceError,
}

// @Summary	List site agent services
// @Tags		marketplace-site-agent-services
// @Param		identity_uuid	query	string		false	"Identity"
// @Param		mode			query	string		false	"Mode"
// @Param		state			query	[]string	false	"State: 1 (Active), 2 (Idle), 3 (Error); repeatable"
// @Param		modified_after	query	string		false	"Modified after"
// @Param		modified_before	query	string		false	"Modified before"
// @Success	200	{array}	Service
// @Router		/api/marketplace-site-agent-services/ [get]
func (m *Module) listServices(c *gin.Context) error {
	var f store.AgentServiceFilter
	ids, err := rest.UUIDs(c, "identity_uuid")
	if err != nil {
		return err
	}
	f.IdentityUUIDs = ids
	f.Mode = rest.Last(c, "mode")
	for _, v := range rest.Values(c, "state") {
		s, ok := serviceStates[v]
		if !ok {
			return models.FieldError("state", "Select a valid choice. "+v+" is not one of the available choices.")
		}
		f.States = append(f.States, s)
	}
	for key, dst := range map[string]**time.Time{"modified_after": &f.ModifiedAfter, "modified_before": &f.ModifiedBefore} {
		if s := rest.Last(c, key); s != "" {
			t, ok := form.ParseDatetime(s, true)
			if !ok {
				return models.FieldError(key, "Enter a valid date/time.")
			}
			*dst = &t
		}
	}
	q, err := m.st.AgentServicesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.ListBatch(c, q, serviceListSpec, func(vs []store.AgentServiceView) ([]Service, error) {
		return m.renderServices(c, vs)
	})
}

func (m *Module) visibleService(c *gin.Context) (*store.AgentServiceView, error) {
	id, err := api.PathUUID(c, "AgentService")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleAgentService(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("AgentService")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve a site agent service
// @Tags		marketplace-site-agent-services
// @Param		uuid	path	string	true	"Service UUID"
// @Success	200	{object}	Service
// @Router		/api/marketplace-site-agent-services/{uuid}/ [get]
func (m *Module) getService(c *gin.Context) error {
	v, err := m.visibleService(c)
	if err != nil {
		return err
	}
	return m.renderService(c, http.StatusOK, v.UUID)
}

// @Summary	Delete a site agent service
// @Tags		marketplace-site-agent-services
// @Param		uuid	path	string	true	"Service UUID"
// @Success	204
// @Router		/api/marketplace-site-agent-services/{uuid}/ [delete]
func (m *Module) deleteService(c *gin.Context) error {
	v, err := m.visibleService(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	if err := m.st.DeleteAgentService(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}

// StatisticsRequest is the body of set_statistics.
type StatisticsRequest struct {
	Statistics any `json:"statistics"`
}

// @Summary	Replace a site agent service's statistics
// @Tags		marketplace-site-agent-services
// @Param		uuid	path	string				true	"Service UUID"
// @Param		body	body	StatisticsRequest	true	"Statistics"
// @Success	200	{object}	Service
// @Router		/api/marketplace-site-agent-services/{uuid}/set_statistics/ [post]
func (m *Module) setStatistics(c *gin.Context) error {
	v, err := m.visibleService(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("statistics")
	if err := f.Err(); err != nil {
		return err
	}
	var stats store.JSONValue
	if raw, _ := f.Raw("statistics"); !f.IsNull("statistics") {
		stats = store.JSONValue(raw)
	}
	if err := m.st.SetAgentServiceStatistics(c.Request.Context(), v.ID, stats); err != nil {
		return err
	}
	return m.renderService(c, http.StatusOK, v.UUID)
}

// Processor is the OpenAPI AgentProcessor shape; service is the service's UUID.
type Processor struct {
	UUID           models.UUID `json:"uuid"`
	URL            string      `json:"url"`
	Service        models.UUID `json:"service"`
	ServiceName    string      `json:"service_name"`
	Name           string      `json:"name"`
	LastRun        *time.Time  `json:"last_run"`
	BackendType    string      `json:"backend_type"`
	BackendVersion *string     `json:"backend_version"`
	Created        time.Time   `json:"created"`
	Modified       time.Time   `json:"modified"`
}

func renderProcessor(c *gin.Context, v *store.AgentProcessorView) Processor {
	return Processor{UUID: v.UUID, URL: rest.URL(c, colProcessors, v.UUID), Service: v.ServiceUUID, ServiceName: v.ServiceName,
		Name: v.Name, LastRun: v.LastRun, BackendType: v.BackendType, BackendVersion: orNull(v.BackendVersion),
		Created: v.Created, Modified: v.Modified}
}

// ProcessorRequest is the body of register_processor (the OpenAPI AgentProcessorCreateRequest).
type ProcessorRequest struct {
	Name           string `json:"name"`
	BackendType    string `json:"backend_type"`
	BackendVersion string `json:"backend_version"`
}

// @Summary	Register a processor of a site agent service
// @Description	Returns the service's processor of that name (200), creating it when there is none (201); either way it records the backend type and version and that it ran now (last_run).
// @Tags		marketplace-site-agent-services
// @Param		uuid	path	string				true	"Service UUID"
// @Param		body	body	ProcessorRequest	true	"Processor"
// @Success	200	{object}	Processor
// @Success	201	{object}	Processor
// @Router		/api/marketplace-site-agent-services/{uuid}/register_processor/ [post]
func (m *Module) registerProcessor(c *gin.Context) error {
	v, err := m.visibleService(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	name, _ := f.Char("name", form.Char{Max: 150, Required: true})
	backendType, _ := f.Char("backend_type", form.Char{Max: 100, Required: true})
	backendVersion, _, _ := f.NullableStr("backend_version", 100, true)
	if err := f.Err(); err != nil {
		return err
	}
	p, created, err := m.st.RegisterAgentProcessor(c.Request.Context(), v.ID, name, backendType, backendVersion)
	if err != nil {
		return err
	}
	pv, err := m.st.AgentProcessorByUUID(c.Request.Context(), p.UUID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return rest.Render(c, status, renderProcessor(c, pv))
}

var processorListSpec = rest.ListSpec{
	Ordering: map[string]string{"created": "agent_processors.created", "modified": "agent_processors.modified",
		"name": "agent_processors.name", "last_run": "agent_processors.last_run"},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "agent_processors.id",
}

// @Summary	List site agent processors
// @Tags		marketplace-site-agent-processors
// @Param		service_uuid	query	string	false	"Service"
// @Param		backend_type	query	string	false	"Backend type"
// @Param		backend_version	query	string	false	"Backend version"
// @Param		last_run		query	string	false	"Last run after"
// @Param		last_run_before	query	string	false	"Last run before"
// @Param		stale			query	bool	false	"Last run more than an hour ago"
// @Success	200	{array}	Processor
// @Router		/api/marketplace-site-agent-processors/ [get]
func (m *Module) listProcessors(c *gin.Context) error {
	var f store.AgentProcessorFilter
	ids, err := rest.UUIDs(c, "service_uuid")
	if err != nil {
		return err
	}
	f.ServiceUUIDs = ids
	f.BackendType, f.BackendVersion = rest.Last(c, "backend_type"), rest.Last(c, "backend_version")
	for key, dst := range map[string]**time.Time{"last_run": &f.LastRunAfter, "last_run_before": &f.LastRunBefore} {
		if s := rest.Last(c, key); s != "" {
			t, ok := form.ParseDatetime(s, true)
			if !ok {
				return models.FieldError(key, "Enter a valid date/time.")
			}
			*dst = &t
		}
	}
	if f.Stale, err = rest.Bool(c, "stale"); err != nil {
		return err
	}
	if f.Stale != nil {
		f.StaleBefore = m.now().Add(-time.Hour)
	}
	q, err := m.st.AgentProcessorsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, processorListSpec, func(v *store.AgentProcessorView) Processor { return renderProcessor(c, v) })
}

func (m *Module) visibleProcessor(c *gin.Context) (*store.AgentProcessorView, error) {
	id, err := api.PathUUID(c, "AgentProcessor")
	if err != nil {
		return nil, err
	}
	v, err := m.st.VisibleAgentProcessor(c.Request.Context(), id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, api.NotFound("AgentProcessor")
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// @Summary	Retrieve a site agent processor
// @Tags		marketplace-site-agent-processors
// @Param		uuid	path	string	true	"Processor UUID"
// @Success	200	{object}	Processor
// @Router		/api/marketplace-site-agent-processors/{uuid}/ [get]
func (m *Module) getProcessor(c *gin.Context) error {
	v, err := m.visibleProcessor(c)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderProcessor(c, v))
}

// @Summary	Delete a site agent processor
// @Tags		marketplace-site-agent-processors
// @Param		uuid	path	string	true	"Processor UUID"
// @Success	204
// @Router		/api/marketplace-site-agent-processors/{uuid}/ [delete]
func (m *Module) deleteProcessor(c *gin.Context) error {
	v, err := m.visibleProcessor(c)
	if err != nil {
		return err
	}
	if err := m.canManage(c, v.OfferingID, v.OfferingCustomerID); err != nil {
		return err
	}
	if err := m.st.DeleteAgentProcessor(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}
