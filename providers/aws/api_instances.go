package aws

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// AwsInstance is Waldur's AwsInstance, filled from what the state pull saw
// and the marketplace resource the instance belongs to (none for an
// instance made outside Waldur: its project fields are absent).
// runtime_state, instance_type, region and availability_zone are ours.
type AwsInstance struct {
	URL                      string      `json:"url"`
	UUID                     models.UUID `json:"uuid" swaggertype:"string"`
	Name                     string      `json:"name"`
	Description              string      `json:"description"`
	ServiceName              string      `json:"service_name"`
	Project                  string      `json:"project,omitempty"`
	ProjectName              string      `json:"project_name,omitempty"`
	ProjectUUID              string      `json:"project_uuid,omitempty"`
	Customer                 string      `json:"customer,omitempty"`
	CustomerUUID             string      `json:"customer_uuid,omitempty"`
	CustomerName             string      `json:"customer_name,omitempty"`
	CustomerAbbreviation     string      `json:"customer_abbreviation,omitempty"`
	ErrorMessage             string      `json:"error_message"`
	ResourceType             string      `json:"resource_type"`
	State                    string      `json:"state"`
	RuntimeState             string      `json:"runtime_state"`
	Created                  time.Time   `json:"created"`
	Modified                 time.Time   `json:"modified"`
	BackendID                string      `json:"backend_id"`
	AccessURL                *string     `json:"access_url"`
	StartTime                *time.Time  `json:"start_time"`
	Cores                    int32       `json:"cores"`
	RAM                      int64       `json:"ram"`
	Disk                     int64       `json:"disk"`
	ExternalIPs              []string    `json:"external_ips"`
	InternalIPs              []string    `json:"internal_ips"`
	KeyName                  string      `json:"key_name"`
	ImageName                string      `json:"image_name"`
	InstanceType             string      `json:"instance_type"`
	Region                   string      `json:"region"`
	AvailabilityZone         string      `json:"availability_zone"`
	MarketplaceOfferingUUID  *string     `json:"marketplace_offering_uuid"`
	MarketplaceOfferingName  *string     `json:"marketplace_offering_name"`
	MarketplaceResourceUUID  *string     `json:"marketplace_resource_uuid"`
	MarketplaceResourceState *string     `json:"marketplace_resource_state"`
}

// coreState is the plugin state (Waldur's CoreStates) of an instance: its
// resource's state; OK for an instance made outside Waldur.
func coreState(v *InstanceView) string {
	if v.ResourceState == nil {
		return "OK"
	}
	switch *v.ResourceState {
	case models.ResourceCreating:
		return "CREATING"
	case models.ResourceUpdating:
		return "UPDATING"
	case models.ResourceTerminating:
		return "DELETING"
	case models.ResourceErred:
		return "ERRED"
	}
	return "OK"
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ips(s string) []string {
	if s == "" {
		return []string{}
	}
	return []string{s}
}

func (m *APIModule) renderInstance(c *gin.Context, v *InstanceView) AwsInstance {
	off, offName := v.OfferingUUID.String(), v.OfferingName
	out := AwsInstance{URL: rest.URL(c, colInstances, v.UUID), UUID: v.UUID, Name: v.Name, ServiceName: v.OfferingName,
		ErrorMessage: str(v.ErrorMessage), ResourceType: "AWS.Instance", State: coreState(v), RuntimeState: v.RuntimeState,
		Created: v.Created, Modified: v.Modified, BackendID: v.BackendID, StartTime: v.LaunchTime,
		ExternalIPs: ips(v.PublicIP), InternalIPs: ips(v.PrivateIP), KeyName: v.KeyName, ImageName: v.ImageID,
		InstanceType: v.InstanceType, Region: v.Region, AvailabilityZone: v.AvailabilityZone,
		MarketplaceOfferingUUID: &off, MarketplaceOfferingName: &offName, MarketplaceResourceUUID: v.ResourceUUID}
	if v.ImageName != nil {
		out.ImageName = *v.ImageName
	}
	if v.Cores != nil {
		out.Cores = *v.Cores
	}
	if v.RAM != nil {
		out.RAM = *v.RAM
	}
	if v.Disk != nil {
		out.Disk = *v.Disk
	}
	if v.ResourceState != nil {
		s := string(*v.ResourceState)
		out.MarketplaceResourceState = &s
	}
	if v.ProjectUUID != nil {
		if id, err := models.ParseUUID(*v.ProjectUUID); err == nil {
			out.Project, out.ProjectUUID, out.ProjectName = rest.URL(c, "projects", id), id.String(), str(v.ProjectName)
		}
		if id, err := models.ParseUUID(str(v.CustomerUUID)); err == nil {
			out.Customer, out.CustomerUUID, out.CustomerName = rest.URL(c, "customers", id), id.String(), str(v.CustomerName)
			out.CustomerAbbreviation = str(v.CustomerAbbrev)
		}
	}
	return out
}

var instanceListSpec = rest.ListSpec{
	Ordering: map[string]string{"name": "i.name", "created": "i.created", "backend_id": "i.backend_id",
		"project_name": "p.name", "customer_name": "cu.name"},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "i.id",
}

// listInstances godoc
//
//	@Summary		List AWS instances
//	@Description	The instances the state pull saw: those of the caller's projects and customers, and every instance of the offerings of the caller's customers (those made outside Waldur have no project: the import listing). Staff and support see all. Filters name (contains), name_exact, backend_id, project (UUID), customer (UUID), offering_uuid (ours), importable (ours: true lists instances without a resource).
//	@Tags			aws-instances
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name			query	string	false	"Name contains"
//	@Param			name_exact		query	string	false	"Name is"
//	@Param			backend_id		query	string	false	"EC2 instance id"
//	@Param			project_uuid	query	string	false	"Project UUID"
//	@Param			customer_uuid	query	string	false	"Customer UUID"
//	@Param			offering_uuid	query	string	false	"Offering UUID"
//	@Param			importable		query	bool	false	"Only instances made outside Waldur"
//	@Success		200				{array}	AwsInstance
//	@Router			/api/aws-instances/ [get]
func (m *APIModule) listInstances(c *gin.Context) error {
	f := InstanceFilter{Name: rest.Last(c, "name"), NameExact: rest.Last(c, "name_exact"), BackendID: rest.Last(c, "backend_id")}
	for key, dst := range map[string]*[]models.UUID{"project_uuid": &f.ProjectUUIDs, "project": &f.Projects, "customer_uuid": &f.CustomerUUIDs,
		"customer": &f.Customers, "offering_uuid": &f.OfferingUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return err
		}
		*dst = ids
	}
	var err error
	if f.Importable, err = rest.Bool(c, "importable"); err != nil {
		return err
	}
	q, err := InstancesQuery(c.Request.Context(), m.st, f)
	if err != nil {
		return err
	}
	return rest.List(c, q, instanceListSpec, func(v *InstanceView) AwsInstance { return m.renderInstance(c, v) })
}

// getInstance godoc
//
//	@Summary	Retrieve an AWS instance
//	@Tags		aws-instances
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Instance UUID"
//	@Success	200		{object}	AwsInstance
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/aws-instances/{uuid}/ [get]
func (m *APIModule) getInstance(c *gin.Context) error {
	id, err := api.PathUUID(c, "Instance")
	if err != nil {
		return err
	}
	v, err := VisibleInstance(c.Request.Context(), m.st, id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, m.renderInstance(c, v))
}
