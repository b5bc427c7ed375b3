package openstack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	mkt "github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/workflows"
)

// /api/openstack-migrations/ (Waldur's openstack migration app): a
// tenant's marketplace resource copied into a new tenant of an OpenStack
// offering (the same cloud or another). The create checks what Waldur's
// MigrationCreateSerializer checks (a source tenant the caller sees, a
// destination plan of the destination offering, an order the caller may
// place without the consumer's review, mappings of the source's volume
// types and networks and of private CIDRs) and places the new tenant's
// Create order in the source's project: its limits are the source's
// (volume types mapped, kept to the destination's limit components), its
// internal subnet the source's at the mapped CIDR, its security groups the
// source's (rule CIDRs mapped), skip_connection_extnet the mappings'. The
// order's resource is the migration's dst_resource; OpenStackMigration
// (workflow_migrations.go) does the rest. Seen by whoever sees the
// source's project; changed (mappings, error_message, error_traceback) and
// deleted (the row only) by staff and its creator.

// migrationRoutes registers /api/openstack-migrations/.
func (m *routes) migrationRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-migrations", api.RequireUser)
	g.Match(get, "/", api.H(m.listMigrations))
	g.POST("/", api.H(m.createMigration))
	g.Match(get, "/:uuid/", api.H(m.getMigration))
	g.PUT("/:uuid/", api.H(m.updateMigration(false)))
	g.PATCH("/:uuid/", api.H(m.updateMigration(true)))
	g.DELETE("/:uuid/", api.H(m.deleteMigration))
}

// Migration is the OpenAPI MigrationDetails shape (and, with
// src_resource, MigrationCreate's).
type Migration struct {
	UUID              models.UUID       `json:"uuid"`
	Created           time.Time         `json:"created"`
	Modified          time.Time         `json:"modified"`
	Mappings          MigrationMappings `json:"mappings"`
	CreatedByUUID     models.UUID       `json:"created_by_uuid"`
	CreatedByFullName string            `json:"created_by_full_name"`
	SrcOfferingUUID   models.UUID       `json:"src_offering_uuid"`
	SrcOfferingName   string            `json:"src_offering_name"`
	DstOfferingUUID   models.UUID       `json:"dst_offering_uuid"`
	DstOfferingName   string            `json:"dst_offering_name"`
	SrcResourceUUID   models.UUID       `json:"src_resource_uuid"`
	SrcResourceName   string            `json:"src_resource_name"`
	DstResourceUUID   models.UUID       `json:"dst_resource_uuid"`
	DstResourceName   string            `json:"dst_resource_name"`
	DstResourceState  string            `json:"dst_resource_state"`
	State             string            `json:"state"`
	ErrorMessage      string            `json:"error_message"`
	ErrorTraceback    string            `json:"error_traceback"`
	SrcResource       *models.UUID      `json:"src_resource,omitempty"`
}

// migrationStates are Waldur's StateMixin displays of the core states.
var migrationStates = map[models.CoreState]string{models.CoreCreationScheduled: "Creation Scheduled", models.CoreCreating: "Creating",
	models.CoreUpdateScheduled: "Update Scheduled", models.CoreUpdating: "Updating", models.CoreDeletionScheduled: "Deletion Scheduled",
	models.CoreDeleting: "Deleting", models.CoreOK: "OK", models.CoreErred: "Erred"}

func renderMigration(v *MigrationView) Migration {
	mp := v.MappingList()
	if mp.VolumeTypes == nil {
		mp.VolumeTypes = []VolumeTypeMapping{}
	}
	if mp.Subnets == nil {
		mp.Subnets = []SubnetMapping{}
	}
	if mp.Networks == nil {
		mp.Networks = []models.UUID{}
	}
	return Migration{UUID: v.UUID, Created: v.Created, Modified: v.Modified, Mappings: mp, CreatedByUUID: v.CreatedByUUID,
		CreatedByFullName: strings.TrimSpace(v.CreatedByFirstName + " " + v.CreatedByLastName),
		SrcOfferingUUID:   v.SrcOfferingUUID, SrcOfferingName: v.SrcOfferingName, DstOfferingUUID: v.DstOfferingUUID, DstOfferingName: v.DstOfferingName,
		SrcResourceUUID: v.SrcResourceUUID, SrcResourceName: v.SrcResourceName, DstResourceUUID: v.DstResourceUUID,
		DstResourceName: v.DstResourceName, DstResourceState: string(v.DstResourceState), State: migrationStates[v.State],
		ErrorMessage: v.ErrorMessage, ErrorTraceback: v.ErrorTraceback}
}

// @Summary	List OpenStack tenant migrations
// @Tags		openstack-migrations
// @Param		src_resource_uuid	query	string	false	"Source marketplace resource"
// @Param		dst_resource_uuid	query	string	false	"Destination marketplace resource"
// @Success	200	{array}	Migration
// @Router		/api/openstack-migrations/ [get]
func (m *routes) listMigrations(c *gin.Context) error {
	var f MigrationFilter
	var err error
	if f.SrcResourceUUIDs, err = rest.UUIDs(c, "src_resource_uuid"); err != nil {
		return err
	}
	if f.DstResourceUUIDs, err = rest.UUIDs(c, "dst_resource_uuid"); err != nil {
		return err
	}
	q, err := m.db.MigrationsQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, rest.ListSpec{Ordering: map[string]string{"created": "m.created"}, DefaultOrdering: []string{"created"},
		TieBreaker: "m.id"}, func(v *MigrationView) Migration { return renderMigration(v) })
}

// @Summary	Get an OpenStack tenant migration
// @Tags		openstack-migrations
// @Param		uuid	path	string	true	"Migration UUID"
// @Success	200	{object}	Migration
// @Router		/api/openstack-migrations/{uuid}/ [get]
func (m *routes) getMigration(c *gin.Context) error {
	id, err := api.PathUUID(c, "Migration")
	if err != nil {
		return err
	}
	v, err := m.db.VisibleMigration(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderMigration(v))
}

// privateCIDR is Waldur's validate_private_subnet_cidr: an IPv4 network
// in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.
func privateCIDR(s string) bool {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return false
	}
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if pr := netip.MustParsePrefix(r); pr.Contains(p.Addr()) && p.Bits() >= pr.Bits() {
			return true
		}
	}
	return false
}

// readMappings reads the mappings field of f (its errors on f, under
// "mappings").
func readMappings(f *form.Form) MigrationMappings {
	var mp MigrationMappings
	raw, ok := f.Raw("mappings")
	if !ok || f.IsNull("mappings") {
		return mp
	}
	var in struct {
		VolumeTypes []struct {
			Src string `json:"src_type_uuid"`
			Dst string `json:"dst_type_uuid"`
		} `json:"volume_types"`
		Subnets []struct {
			Src string `json:"src_cidr"`
			Dst string `json:"dst_cidr"`
		} `json:"subnets"`
		SkipConnectionExtnet bool     `json:"skip_connection_extnet"`
		SyncInstancePorts    bool     `json:"sync_instance_ports"`
		Networks             []string `json:"networks"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		f.Fail("mappings", "Invalid data. Expected a dictionary with volume_types, subnets, skip_connection_extnet, sync_instance_ports and networks.")
		return mp
	}
	for _, vt := range in.VolumeTypes {
		src, err1 := models.ParseUUID(vt.Src)
		dst, err2 := models.ParseUUID(vt.Dst)
		if err1 != nil || err2 != nil {
			f.Fail("mappings", "src_type_uuid and dst_type_uuid must be valid UUIDs.")
			continue
		}
		mp.VolumeTypes = append(mp.VolumeTypes, VolumeTypeMapping{SrcTypeUUID: src, DstTypeUUID: dst})
	}
	for _, s := range in.Subnets {
		if !privateCIDR(s.Src) || !privateCIDR(s.Dst) {
			f.Fail("mappings", "Enter a valid private IPv4 network in CIDR notation (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16): "+s.Src+" -> "+s.Dst+".")
			continue
		}
		mp.Subnets = append(mp.Subnets, SubnetMapping{SrcCIDR: s.Src, DstCIDR: s.Dst})
	}
	for _, n := range in.Networks {
		id, err := models.ParseUUID(n)
		if err != nil {
			f.Fail("mappings", "Object with uuid="+n+" does not exist.")
			continue
		}
		mp.Networks = append(mp.Networks, id)
	}
	mp.SkipConnectionExtnet, mp.SyncInstancePorts = in.SkipConnectionExtnet, in.SyncInstancePorts
	if mp.SyncInstancePorts && len(mp.Subnets) > 0 {
		f.Fail("non_field_errors", "sync_instance_ports cannot be used together with subnets mappings.")
	}
	return mp
}

// migrationGroups are the source's security groups as the new tenant's
// order names them: ingress rules, CIDRs mapped.
func migrationGroups(src *MigrationSource, mp MigrationMappings) []GroupSpec {
	out := []GroupSpec{}
	for _, g := range src.Groups {
		gs := GroupSpec{Name: g.Name, Description: g.Description, Rules: []RuleSpec{}}
		for _, r := range g.Rules {
			if r.Direction != "" && r.Direction != "ingress" || r.EtherType == "IPv6" || r.RemoteGroupBackendID != "" {
				continue
			}
			gs.Rules = append(gs.Rules, RuleSpec{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort, CIDR: mp.cidr(r.CIDR)})
		}
		out = append(out, gs)
	}
	return out
}

// migrationLimits are the source's limits for the new tenant: volume
// types' gigabytes_<name> renamed by the mappings (and summed), kept to
// the destination offering's limit-based components.
func (m *routes) migrationLimits(ctx context.Context, raw []byte, dstOffering int64, renames map[string]string) (map[string]int64, error) {
	var src map[string]int64
	_ = json.Unmarshal(raw, &src)
	comps, err := m.db.OfferingComponentsForOrder(ctx, dstOffering)
	if err != nil {
		return nil, err
	}
	limit := map[string]bool{}
	for _, cp := range comps {
		if cp.BillingType == models.BillingLimit {
			limit[cp.Type] = true
		}
	}
	out := map[string]int64{}
	for k, v := range src {
		if name, ok := strings.CutPrefix(k, "gigabytes_"); ok && renames[name] != "" {
			k = "gigabytes_" + renames[name]
		}
		if limit[k] {
			out[k] += v
		}
	}
	return out, nil
}

// @Summary	Migrate an OpenStack tenant
// @Description	src_resource (a tenant's marketplace resource), dst_offering and dst_plan (an OpenStack tenant offering and its plan), name and description of the new tenant (the source's by default), mappings. Places the new tenant's Create order and starts the migration; 201 with the migration (state Creation Scheduled). 400 when the caller would need the consumer's review of that order.
// @Tags		openstack-migrations
// @Success	201	{object}	Migration
// @Router		/api/openstack-migrations/ [post]
func (m *routes) createMigration(c *gin.Context) error {
	ctx := c.Request.Context()
	u := api.CurrentUser(c)
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("src_resource", "dst_offering", "dst_plan")
	srcID, _ := f.UUID("src_resource")
	dstOffering, _ := f.UUID("dst_offering")
	dstPlan, _ := f.UUID("dst_plan")
	name, _ := f.Str("name", 150, false)
	description, _ := f.Str("description", 2000, false)
	mp := readMappings(f)
	var src *store.ResourceView
	var source *MigrationSource
	if !srcID.IsZero() {
		src, err = m.db.VisibleResourceView(ctx, store.ResourceConsumerSide, srcID)
		if models.IsCode(err, models.CodeNotFound) {
			f.Fail("src_resource", "Object with uuid="+srcID.String()+" does not exist.")
		} else if err != nil {
			return err
		} else if src.OfferingType != OfferingTenant {
			f.Fail("src_resource", "The resource is not an OpenStack tenant.")
		} else if source, err = m.db.MigrationSourceOf(ctx, src.ID); models.IsCode(err, models.CodeNotFound) {
			f.Fail("src_resource", "The resource has no OpenStack tenant.")
		} else if err != nil {
			return err
		} else if string(src.Limits) == "" || string(src.Limits) == "null" || string(src.Limits) == "{}" {
			f.Fail("non_field_errors", "Source resource does not have limits set.")
		}
	}
	var dst *store.OrderingOffering
	if !dstOffering.IsZero() {
		dst, err = m.db.OfferingForOrder(ctx, dstOffering)
		if models.IsCode(err, models.CodeNotFound) {
			f.Fail("dst_offering", "Object with uuid="+dstOffering.String()+" does not exist.")
		} else if err != nil {
			return err
		} else if dst.Type != OfferingTenant {
			f.Fail("dst_offering", "The offering is not an OpenStack tenant offering.")
		}
	}
	renames := map[string]string{}
	if source != nil {
		for _, vt := range mp.VolumeTypes {
			srcName, ok := source.VolumeTypes[vt.SrcTypeUUID]
			if !ok {
				f.Fail("non_field_errors", "Invalid src_type_uuid "+vt.SrcTypeUUID.String()+" as it is not available in tenant.")
				continue
			}
			if dst == nil {
				continue
			}
			dstName, err := m.db.VolumeTypeOfOffering(ctx, vt.DstTypeUUID, dst.ID)
			if err != nil {
				return err
			}
			if dstName == "" {
				f.Fail("non_field_errors", "Invalid dst_type_uuid "+vt.DstTypeUUID.String()+" as it is not available in service settings.")
				continue
			}
			renames[srcName] = dstName
		}
		for _, n := range mp.Networks {
			if !source.NetworkUUIDs[n] {
				f.Fail("mappings", "Object with uuid="+n.String()+" does not exist.")
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if source.State != models.CoreOK {
		return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
	}
	limits, err := m.migrationLimits(ctx, src.Limits, dst.ID, renames)
	if err != nil {
		return err
	}
	if name == "" {
		name = src.Name
	}
	if description == "" {
		description = src.Description
	}
	subnet := mp.cidr(source.SubnetCIDR)
	if subnet == "" {
		subnet = DefaultSubnetCIDR
	}
	attrs := map[string]any{"name": name, "description": description, "subnet_cidr": subnet,
		"skip_connection_extnet": mp.SkipConnectionExtnet, "security_groups": migrationGroups(source, mp)}
	svc := m.orderService()
	var order store.NewOrder
	if err := svc.PrepareCreate(ctx, u, mkt.CreateInput{Offering: dstOffering, Project: src.ProjectUUID, Plan: &dstPlan,
		Attributes: attrs, Limits: limits, AcceptingTerms: true}, &order); err != nil {
		if e, ok := err.(*models.Error); ok && e.Fields != nil {
			if msgs, ok := e.Fields["plan"]; ok {
				e.Fields = map[string][]string{"dst_plan": msgs}
			} else if msgs, ok := e.Fields["offering"]; ok {
				e.Fields = map[string][]string{"dst_offering": msgs}
			}
		}
		return err
	}
	if order.Review.ConsumerReviewNeeded() {
		return models.Errorf(models.CodeInvalid, "User does not have enough permissions to migrate resource.")
	}
	o, err := svc.Place(ctx, order)
	if err != nil {
		return err
	}
	row, err := m.db.CreateMigration(ctx, u.ID, src.ID, o.ResourceID, mp)
	if err != nil {
		return err
	}
	if err := startMigration(context.WithoutCancel(ctx), m.tc, row.UUID); err != nil {
		slog.Warn("starting an OpenStack migration failed", "migration", row.UUID.String(), "error", err)
	}
	v, err := m.db.VisibleMigration(ctx, row.UUID)
	if err != nil {
		return err
	}
	out := renderMigration(v)
	out.SrcResource = &v.SrcResourceUUID
	return rest.Render(c, http.StatusCreated, out)
}

// orderService is the marketplace's order service, which places the new
// tenant's order as POST /api/marketplace-orders/ would (its workflow
// started on Temporal; none reachable: the orders' dispatcher starts it).
func (m *routes) orderService() *mkt.Service {
	var engine mkt.Engine
	if m.tc != nil {
		engine = workflows.OrderClient{Client: m.tc, Store: m.db.Store}
	}
	return &mkt.Service{Store: m.db.Store, RBAC: m.rbac, Engine: engine}
}

// editableMigration loads migration uuid for a change by staff or its creator.
func (m *routes) editableMigration(c *gin.Context) (*MigrationView, error) {
	id, err := api.PathUUID(c, "Migration")
	if err != nil {
		return nil, err
	}
	v, err := m.db.VisibleMigration(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	u := api.CurrentUser(c)
	if !u.IsStaff && v.CreatedByID != u.ID {
		return nil, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
	}
	return v, nil
}

// @Summary	Update an OpenStack tenant migration
// @Description	mappings (required by PUT), error_message, error_traceback; staff and the migration's creator. The mappings are recorded; a migration already running keeps the ones it started with.
// @Tags		openstack-migrations
// @Param		uuid	path	string	true	"Migration UUID"
// @Success	200	{object}	Migration
// @Router		/api/openstack-migrations/{uuid}/ [put]
// @Router		/api/openstack-migrations/{uuid}/ [patch]
func (m *routes) updateMigration(partial bool) api.Handler {
	return func(c *gin.Context) error {
		v, err := m.editableMigration(c)
		if err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		if !partial {
			f.Require("mappings")
		}
		values := map[string]any{}
		if f.Has("mappings") {
			mp := readMappings(f)
			raw, _ := json.Marshal(mp)
			values["mappings"] = raw
		}
		for _, k := range []string{"error_message", "error_traceback"} {
			if f.Has(k) {
				s, _ := f.Str(k, 0, true)
				values[k] = s
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if len(values) > 0 {
			if err := m.db.UpdateMigration(c.Request.Context(), v.ID, values); err != nil {
				return err
			}
		}
		if v, err = m.db.VisibleMigration(c.Request.Context(), v.UUID); err != nil {
			return err
		}
		return rest.Render(c, http.StatusOK, renderMigration(v))
	}
}

// @Summary	Delete an OpenStack tenant migration
// @Description	The record only (its resources stay); staff and the migration's creator.
// @Tags		openstack-migrations
// @Param		uuid	path	string	true	"Migration UUID"
// @Success	204
// @Router		/api/openstack-migrations/{uuid}/ [delete]
func (m *routes) deleteMigration(c *gin.Context) error {
	v, err := m.editableMigration(c)
	if err != nil {
		return err
	}
	if err := m.db.DeleteMigration(c.Request.Context(), v.ID); err != nil {
		return err
	}
	return api.NoContent(c)
}
