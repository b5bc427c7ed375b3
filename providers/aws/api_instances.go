package aws

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
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

// instanceView is an aws_instances row joined with its resource, project,
// customer, offering, size and image.
type instanceView struct {
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

func (m *APIModule) instances(c *gin.Context) *gorm.DB {
	return m.db(c).Table("aws_instances i").Select(`i.id, i.uuid, i.backend_id, i.name, i.runtime_state, i.instance_type, i.image_id,
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
}

// coreState is the plugin state (Waldur's CoreStates) of an instance: its
// resource's state; OK for an instance made outside Waldur.
func coreState(v *instanceView) string {
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

func (m *APIModule) renderInstance(c *gin.Context, v *instanceView) AwsInstance {
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
	q, err := m.scoped(c, m.instances(c))
	if err != nil {
		return err
	}
	if v := rest.Last(c, "name"); v != "" {
		q = icontains(q, "i.name", v)
	}
	if v := rest.Last(c, "name_exact"); v != "" {
		q = q.Where("i.name = ?", v)
	}
	if v := rest.Last(c, "backend_id"); v != "" {
		q = q.Where("i.backend_id = ?", v)
	}
	for key, col := range map[string]string{"project_uuid": "p.uuid", "project": "p.uuid", "customer_uuid": "cu.uuid", "customer": "cu.uuid", "offering_uuid": "f.uuid"} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			q = q.Where(col+" IN ?", ids)
		}
	}
	imp, err := rest.Bool(c, "importable")
	if err != nil {
		return err
	}
	if imp != nil && *imp {
		q = q.Where("i.resource_id IS NULL")
	} else if imp != nil {
		q = q.Where("i.resource_id IS NOT NULL")
	}
	return rest.List(c, store.QueryOf(q), instanceListSpec, func(v *instanceView) AwsInstance { return m.renderInstance(c, v) })
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
	q, err := m.scoped(c, m.instances(c))
	if err != nil {
		return err
	}
	var v instanceView
	res := q.Where("i.uuid = ?", id).Limit(1).Find(&v)
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return api.NotFound("Instance")
	}
	return rest.Render(c, http.StatusOK, m.renderInstance(c, &v))
}
