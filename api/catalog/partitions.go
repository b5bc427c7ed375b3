package catalog

// The SLURM partitions of a provider offering, which Waldur's site agent
// keeps in step with its cluster: add_partition, update_partition and
// remove_partition (OFFERING.UPDATE on the offering or its customer, the
// operations' x-permissions), and the offering's partitions field.

import (
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Partition is Waldur's NestedPartition: a partition as its offering
// renders it. A null limit is unset.
type Partition struct {
	UUID             models.UUID `json:"uuid" swaggertype:"string"`
	PartitionName    string      `json:"partition_name"`
	CPUBind          *int64      `json:"cpu_bind"`
	DefCPUPerGPU     *int64      `json:"def_cpu_per_gpu"`
	DefMemPerCPU     *int64      `json:"def_mem_per_cpu"`
	DefMemPerGPU     *int64      `json:"def_mem_per_gpu"`
	DefMemPerNode    *int64      `json:"def_mem_per_node"`
	DefaultTime      *int64      `json:"default_time"`
	MaxCPUsPerNode   *int64      `json:"max_cpus_per_node"`
	MaxCPUsPerSocket *int64      `json:"max_cpus_per_socket"`
	MaxMemPerCPU     *int64      `json:"max_mem_per_cpu"`
	MaxMemPerNode    *int64      `json:"max_mem_per_node"`
	MaxNodes         *int64      `json:"max_nodes"`
	MaxTime          *int64      `json:"max_time"`
	MinNodes         *int64      `json:"min_nodes"`
	ExclusiveTopo    bool        `json:"exclusive_topo"`
	ExclusiveUser    bool        `json:"exclusive_user"`
	GraceTime        *int64      `json:"grace_time"`
	PriorityTier     *int64      `json:"priority_tier"`
	QOS              string      `json:"qos"`
	ReqResv          bool        `json:"req_resv"`
}

// OfferingPartition is Waldur's OfferingPartition: a partition with its
// offering (UUID and name), as add_partition and update_partition answer.
type OfferingPartition struct {
	Partition
	Created      time.Time   `json:"created"`
	Modified     time.Time   `json:"modified"`
	Offering     models.UUID `json:"offering" swaggertype:"string"`
	OfferingName string      `json:"offering_name"`
}

func renderPartition(p *store.OfferingPartition) Partition {
	return Partition{UUID: p.UUID, PartitionName: p.PartitionName, CPUBind: p.CPUBind, DefCPUPerGPU: p.DefCPUPerGPU,
		DefMemPerCPU: p.DefMemPerCPU, DefMemPerGPU: p.DefMemPerGPU, DefMemPerNode: p.DefMemPerNode, DefaultTime: p.DefaultTime,
		MaxCPUsPerNode: p.MaxCPUsPerNode, MaxCPUsPerSocket: p.MaxCPUsPerSocket, MaxMemPerCPU: p.MaxMemPerCPU,
		MaxMemPerNode: p.MaxMemPerNode, MaxNodes: p.MaxNodes, MaxTime: p.MaxTime, MinNodes: p.MinNodes,
		ExclusiveTopo: p.ExclusiveTopo, ExclusiveUser: p.ExclusiveUser, GraceTime: p.GraceTime, PriorityTier: p.PriorityTier,
		QOS: p.QOS, ReqResv: p.ReqResv}
}

// renderPartitions renders an offering's partitions (never nil).
func renderPartitions(ps []store.OfferingPartition) []Partition {
	out := make([]Partition, len(ps))
	for i := range ps {
		out[i] = renderPartition(&ps[i])
	}
	return out
}

func renderOfferingPartition(p *store.OfferingPartition, o *store.Offering) OfferingPartition {
	return OfferingPartition{Partition: renderPartition(p), Created: p.Created.UTC(), Modified: p.Modified.UTC(),
		Offering: o.UUID, OfferingName: o.Name}
}

// Messages of the partition actions.
const (
	msgNoPartition    = "Offering partition does not exist."
	msgOtherOffering  = "Must be the UUID of the offering the partition is added to."
	maxPartitionField = 255 // partition_name and qos
)

// readPartition reads the partition fields the body has (those of
// OfferingPartitionRequest; with partial, of
// PatchedOfferingPartitionUpdateRequest, where none is required) into p and
// returns them as column → value, as the OpenAPI file bounds them:
// partition_name a non-blank string of at most 255 characters (required
// unless partial); qos a string of at most 255, blank allowed; the limits
// integers from 0 to the int32 maximum (the memory ones to the int64
// maximum, priority_tier to 32767), null to unset; exclusive_topo,
// exclusive_user and req_resv booleans. Errors are recorded on f.
func readPartition(f *form.Form, p *store.OfferingPartition, partial bool) map[string]any {
	fields := map[string]any{}
	if v, ok := f.Char("partition_name", form.Char{Max: maxPartitionField, Required: !partial}); ok {
		p.PartitionName, fields["partition_name"] = v, v
	}
	for _, l := range []struct {
		key string
		max int64
		dst **int64
	}{
		{"cpu_bind", math.MaxInt32, &p.CPUBind},
		{"def_cpu_per_gpu", math.MaxInt32, &p.DefCPUPerGPU},
		{"def_mem_per_cpu", math.MaxInt64, &p.DefMemPerCPU},
		{"def_mem_per_gpu", math.MaxInt64, &p.DefMemPerGPU},
		{"def_mem_per_node", math.MaxInt64, &p.DefMemPerNode},
		{"default_time", math.MaxInt32, &p.DefaultTime},
		{"max_cpus_per_node", math.MaxInt32, &p.MaxCPUsPerNode},
		{"max_cpus_per_socket", math.MaxInt32, &p.MaxCPUsPerSocket},
		{"max_mem_per_cpu", math.MaxInt64, &p.MaxMemPerCPU},
		{"max_mem_per_node", math.MaxInt64, &p.MaxMemPerNode},
		{"max_nodes", math.MaxInt32, &p.MaxNodes},
		{"max_time", math.MaxInt32, &p.MaxTime},
		{"min_nodes", math.MaxInt32, &p.MinNodes},
		{"grace_time", math.MaxInt32, &p.GraceTime},
		{"priority_tier", math.MaxInt16, &p.PriorityTier},
	} {
		if v, ok := f.Int(l.key, 0, l.max, true); ok {
			*l.dst, fields[l.key] = v, v
		}
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"exclusive_topo", &p.ExclusiveTopo}, {"exclusive_user", &p.ExclusiveUser}, {"req_resv", &p.ReqResv}} {
		if v, ok := f.Bool(b.key); ok {
			*b.dst, fields[b.key] = v, v
		}
	}
	if v, ok := f.Str("qos", maxPartitionField, true); ok {
		p.QOS, fields["qos"] = v, v
	}
	return fields
}

// partitionAction loads the offering of the path (404 when the caller does
// not see it), checks OFFERING.UPDATE on it or its customer (403) and reads
// the body.
func (m *Module) partitionAction(c *gin.Context) (*store.Offering, *form.Form, error) {
	o, err := m.visibleOffering(c, m.st.VisibleProviderOffering)
	if err != nil {
		return nil, nil, err
	}
	if err := m.requireOffering(c, o, "OFFERING.UPDATE"); err != nil {
		return nil, nil, err
	}
	f, err := form.Read(c)
	if err != nil {
		return nil, nil, err
	}
	return o, f, nil
}

// partitionUUID reads the required partition_uuid of the body.
func partitionUUID(f *form.Form) models.UUID {
	if !f.Require("partition_uuid") {
		return models.NilUUID
	}
	id, _ := f.UUID("partition_uuid")
	return id
}

// addPartition godoc
// @Summary	Add a partition to an offering (OFFERING.UPDATE on the offering or its customer)
// @Description	Body: Waldur's OfferingPartitionRequest. offering is required and must be this offering's UUID (dashed or not); another is a 400 on offering.
// @Description	partition_name is unique within the offering: a name it has already is a 400 {"partition_name": ["Offering partition with this partition name already exists."]} (checked by the database's unique key, so of two concurrent adds one wins).
// @Description	Limits are integers from 0 (int32; the memory ones int64; priority_tier up to 32767) or null; partition_name and qos at most 255 characters. Bad values are a 400 with the fields' errors, and nothing changes.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	201	{object}	OfferingPartition
// @Router		/api/marketplace-provider-offerings/{uuid}/add_partition/ [post]
func (m *Module) addPartition(c *gin.Context) error {
	o, f, err := m.partitionAction(c)
	if err != nil {
		return err
	}
	var p store.OfferingPartition
	readPartition(f, &p, false)
	if f.Require("offering") {
		if id, ok := f.UUID("offering"); ok && id != o.UUID {
			f.Fail("offering", msgOtherOffering)
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.st.CreatePartition(c.Request.Context(), o, &p); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, renderOfferingPartition(&p, o))
	return nil
}

// updatePartition godoc
// @Summary	Update a partition of an offering (OFFERING.UPDATE on the offering or its customer)
// @Description	Body: Waldur's PatchedOfferingPartitionUpdateRequest: partition_uuid (required) and the fields to change, with add_partition's bounds; null unsets a limit.
// @Description	A partition_uuid that is not one of this offering's partitions is a 400 {"partition_uuid": ["Offering partition does not exist."]}; a partition_name another partition of the offering has, a 400 on partition_name.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	200	{object}	OfferingPartition
// @Router		/api/marketplace-provider-offerings/{uuid}/update_partition/ [patch]
func (m *Module) updatePartition(c *gin.Context) error {
	o, f, err := m.partitionAction(c)
	if err != nil {
		return err
	}
	id := partitionUUID(f)
	var p store.OfferingPartition
	fields := readPartition(f, &p, true)
	if err := f.Err(); err != nil {
		return err
	}
	up, err := m.st.UpdatePartition(c.Request.Context(), o, id, fields)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("partition_uuid", msgNoPartition)
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, renderOfferingPartition(up, o))
	return nil
}

// removePartition godoc
// @Summary	Remove a partition from an offering (OFFERING.UPDATE on the offering or its customer)
// @Description	Body: Waldur's RemovePartitionRequest {partition_uuid}. A partition_uuid that is not one of this offering's partitions is a 400 {"partition_uuid": ["Offering partition does not exist."]}.
// @Tags		marketplace-provider-offerings
// @Param		uuid	path	string	true	"Offering UUID"
// @Success	204
// @Router		/api/marketplace-provider-offerings/{uuid}/remove_partition/ [post]
func (m *Module) removePartition(c *gin.Context) error {
	o, f, err := m.partitionAction(c)
	if err != nil {
		return err
	}
	id := partitionUUID(f)
	if err := f.Err(); err != nil {
		return err
	}
	err = m.st.RemovePartition(c.Request.Context(), o, id)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("partition_uuid", msgNoPartition)
	}
	if err != nil {
		return err
	}
	return api.NoContent(c)
}
