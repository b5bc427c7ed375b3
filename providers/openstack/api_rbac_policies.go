package openstack

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The networks' RBAC policies (Waldur's NetworkRBACPolicy): a network of
// one tenant shared with (access_as_shared) or offered as external to
// (access_as_external, staff only) another tenant of the same cloud.
// Listed to whoever sees the network's tenant; made and deleted by
// Waldur's is_administrator of the network's project, through the action
// machinery: the row at once (its backend_id empty until the cloud made
// the policy), the cloud by OpenStackAction on the openstack queue. The
// network's rbac_policy_create and rbac_policy_delete are Waldur's
// deprecated spellings of the same.

// rbacPolicyRoutes registers /api/openstack-network-rbac-policies/ and the
// networks' deprecated actions.
func (m *routes) rbacPolicyRoutes(a *gin.RouterGroup) {
	get := []string{http.MethodGet, http.MethodHead}
	g := a.Group("/openstack-network-rbac-policies", api.RequireUser)
	g.Match(get, "/", api.H(m.listRBACPolicies))
	g.POST("/", api.H(m.createRBACPolicy))
	g.Match(get, "/:uuid/", api.H(m.getRBACPolicy))
	g.DELETE("/:uuid/", api.H(m.deleteRBACPolicy))
	m.rbacPolicyUpdateRoutes(a) // api_rbac_policy_update.go
	n := a.Group("/openstack-networks", api.RequireUser)
	n.POST("/:uuid/rbac_policy_create/", api.H(m.networkRBACPolicyCreate))
	n.DELETE("/:uuid/rbac_policy_delete/:rbac_policy_uuid/", api.H(m.networkRBACPolicyDelete))
}

// RBACPolicy is the OpenAPI NetworkRBACPolicy (and DeprecatedNetworkRBACPolicy) shape.
type RBACPolicy struct {
	URL              string      `json:"url"`
	UUID             models.UUID `json:"uuid"`
	Network          string      `json:"network"`
	NetworkName      string      `json:"network_name"`
	TargetTenant     string      `json:"target_tenant"`
	TargetTenantName string      `json:"target_tenant_name"`
	BackendID        string      `json:"backend_id"`
	PolicyType       string      `json:"policy_type"`
	Created          time.Time   `json:"created"`
}

func renderRBACPolicy(c *gin.Context, v *RBACPolicyView) RBACPolicy {
	backendID := v.BackendID
	if isPending(backendID) {
		backendID = "" // not made in the cloud yet
	}
	return RBACPolicy{URL: rest.URL(c, KindRBACPolicy.collection(), v.UUID), UUID: v.UUID,
		Network: rest.URL(c, "openstack-networks", v.NetworkUUID), NetworkName: v.NetworkName,
		TargetTenant: rest.URL(c, "openstack-tenants", v.TargetTenantUUID), TargetTenantName: v.TargetTenantName,
		BackendID: backendID, PolicyType: v.PolicyType, Created: v.Created}
}

// withPolicies fills the rendered networks' rbac_policies (out[i] is vs[i]'s).
func (m *routes) withPolicies(c *gin.Context, vs []CatalogItem, out []Network) error {
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	byNet, err := m.db.PoliciesOfNetworks(c.Request.Context(), ids)
	if err != nil {
		return err
	}
	for i, v := range vs {
		for j := range byNet[v.ID] {
			out[i].RBACPolicies = append(out[i].RBACPolicies, renderRBACPolicy(c, &byNet[v.ID][j]))
		}
	}
	return nil
}

var policyTypes = map[string]bool{PolicyAccessAsShared: true, PolicyAccessAsExternal: true}

// @Summary	List network RBAC policies
// @Tags		openstack-network-rbac-policies
// @Param		network_uuid		query	string	false	"Network"
// @Param		target_tenant_uuid	query	string	false	"Target tenant"
// @Param		tenant_uuid			query	string	false	"The network's tenant"
// @Param		policy_type			query	string	false	"access_as_shared or access_as_external"
// @Success	200	{array}	RBACPolicy
// @Router		/api/openstack-network-rbac-policies/ [get]
func (m *routes) listRBACPolicies(c *gin.Context) error {
	var f RBACPolicyFilter
	var err error
	if f.Filter, err = filter(c, false); err != nil {
		return err
	}
	for key, dst := range map[string]*[]models.UUID{"network": &f.NetworkUUIDs, "network_uuid": &f.NetworkUUIDs,
		"target_tenant": &f.TargetTenantUUIDs, "target_tenant_uuid": &f.TargetTenantUUIDs} {
		ids, err := rest.UUIDs(c, key)
		if err != nil {
			return err
		}
		*dst = append(*dst, ids...)
	}
	if f.PolicyType = rest.Last(c, "policy_type"); f.PolicyType != "" && !policyTypes[f.PolicyType] {
		return models.FieldError("policy_type", "Select a valid choice. "+f.PolicyType+" is not one of the available choices.")
	}
	q, err := m.db.RBACPoliciesQuery(c.Request.Context(), f)
	if err != nil {
		return err
	}
	return rest.List(c, q, rest.ListSpec{Ordering: map[string]string{"created": "x.created", "policy_type": "x.policy_type"},
		DefaultOrdering: []string{"created"}, TieBreaker: "x.id"}, func(v *RBACPolicyView) RBACPolicy { return renderRBACPolicy(c, v) })
}

// @Summary	Get a network RBAC policy
// @Tags		openstack-network-rbac-policies
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	RBACPolicy
// @Router		/api/openstack-network-rbac-policies/{uuid}/ [get]
func (m *routes) getRBACPolicy(c *gin.Context) error {
	id, err := api.PathUUID(c, KindRBACPolicy.Noun())
	if err != nil {
		return err
	}
	v, err := m.db.VisibleRBACPolicy(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderRBACPolicy(c, v))
}

// createPolicy validates target_tenant and policy_type of f for network n
// and makes the policy (its cloud side scheduled).
func (m *routes) createPolicy(c *gin.Context, f *form.Form, n *ActionObject) (*RBACPolicyView, error) {
	ctx := c.Request.Context()
	f.Require("target_tenant")
	target, _ := f.Ref("target_tenant", "openstack-tenants", false, true)
	policy := PolicyAccessAsShared
	if f.Has("policy_type") {
		policy, _ = f.Choice("policy_type", policyTypes, false)
	}
	if policy == PolicyAccessAsExternal && !api.CurrentUser(c).IsStaff {
		f.Fail("policy_type", "Only staff can create access_as_external policies.")
	}
	var tt *TenantCloud
	if !target.IsZero() {
		if _, err := m.db.VisibleTenant(ctx, target); models.IsCode(err, models.CodeNotFound) {
			f.Fail("target_tenant", "Invalid hyperlink - Object does not exist.")
		} else if err != nil {
			return nil, err
		} else if tt, err = m.db.TenantCloudByUUID(ctx, target); err != nil {
			return nil, err
		}
	}
	if tt != nil && n != nil {
		var net []int64
		if err := m.db.DB.WithContext(ctx).Table("openstack_tenants").Where("id = ?", n.TenantID).Pluck("offering_id", &net).Error; err != nil {
			return nil, models.Internal(err)
		}
		switch {
		case len(net) == 0 || net[0] != tt.OfferingID:
			f.Fail("target_tenant", "The network and the target tenant must belong to the same cloud.")
		case tt.ID == n.TenantID:
			f.Fail("target_tenant", "The network already belongs to the target tenant.")
		default:
			if dup, err := m.db.RBACPolicyExists(ctx, n.ID, tt.ID, policy); err != nil {
				return nil, err
			} else if dup {
				f.Fail("non_field_errors", "The fields network, target_tenant, policy_type must make a unique set.")
			}
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if err := requireOK(n.State); err != nil {
		return nil, err
	}
	if tt.State != models.CoreOK || tt.BackendID == "" {
		return nil, models.Errorf(models.CodeConflict, "The target tenant is not in the cloud.")
	}
	o, err := m.db.CreateObject(ctx, KindRBACPolicy, n.TenantID,
		map[string]any{"network_id": n.ID, "target_tenant_id": tt.ID, "policy_type": policy}, nil)
	if err != nil {
		return nil, err
	}
	m.start(c, o, "create")
	return m.db.VisibleRBACPolicy(ctx, o.UUID)
}

// @Summary	Create a network RBAC policy
// @Description	network, target_tenant (a tenant of the same cloud), policy_type (access_as_shared, or access_as_external for staff). 201 with the policy (its backend_id empty until the cloud made it). 409 unless the network is OK.
// @Tags		openstack-network-rbac-policies
// @Success	201	{object}	RBACPolicy
// @Router		/api/openstack-network-rbac-policies/ [post]
func (m *routes) createRBACPolicy(c *gin.Context) error {
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("network")
	ref, _ := f.Ref("network", "openstack-networks", false, true)
	var n *ActionObject
	if !ref.IsZero() {
		if _, err := m.db.VisibleCatalogItem(c.Request.Context(), CatalogNetworks, ref); models.IsCode(err, models.CodeNotFound) {
			f.Fail("network", "Invalid hyperlink - Object does not exist.")
		} else if err != nil {
			return err
		} else if n, err = m.db.ActionObjectByUUID(c.Request.Context(), KindNetwork, ref); err != nil {
			return err
		} else if err := m.isAdministrator(c, n); err != nil {
			return err
		}
	}
	if n == nil {
		if err := f.Err(); err != nil {
			return err
		}
	}
	v, err := m.createPolicy(c, f, n)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, renderRBACPolicy(c, v))
}

// @Summary	Create an RBAC policy of a network (deprecated)
// @Description	target_tenant, policy_type: as POST /api/openstack-network-rbac-policies/ for this network; answered 200.
// @Tags		openstack-networks
// @Param		uuid	path	string	true	"Network UUID"
// @Success	200	{object}	RBACPolicy
// @Router		/api/openstack-networks/{uuid}/rbac_policy_create/ [post]
func (m *routes) networkRBACPolicyCreate(c *gin.Context) error {
	n, err := m.administered(c, KindNetwork)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	v, err := m.createPolicy(c, f, n)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderRBACPolicy(c, v))
}

// deletePolicy schedules the deletion of policy id (which the caller
// sees) by an administrator of its network's project; of network when set,
// the policy must be the network's.
func (m *routes) deletePolicy(c *gin.Context, id models.UUID, network *ActionObject) error {
	ctx := c.Request.Context()
	v, err := m.db.VisibleRBACPolicy(ctx, id)
	if err != nil {
		return err
	}
	if network != nil && v.NetworkUUID != network.UUID {
		return models.Errorf(models.CodeNotFound, "No %s matches the given query.", KindRBACPolicy.Noun())
	}
	o, err := m.db.ActionObjectByUUID(ctx, KindRBACPolicy, id)
	if err != nil {
		return err
	}
	if err := m.isAdministrator(c, o); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "delete", To: models.CoreDeletionScheduled,
		From: []models.CoreState{models.CoreOK, models.CoreErred}}); err != nil {
		return err
	}
	return api.NoContent(c)
}

// @Summary	Delete a network RBAC policy
// @Description	Scheduled (the policy goes when the cloud removed it); 204 as Waldur's. 409 while the policy is being made.
// @Tags		openstack-network-rbac-policies
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	204
// @Router		/api/openstack-network-rbac-policies/{uuid}/ [delete]
func (m *routes) deleteRBACPolicy(c *gin.Context) error {
	id, err := api.PathUUID(c, KindRBACPolicy.Noun())
	if err != nil {
		return err
	}
	return m.deletePolicy(c, id, nil)
}

// @Summary	Delete an RBAC policy of a network (deprecated)
// @Tags		openstack-networks
// @Param		uuid				path	string	true	"Network UUID"
// @Param		rbac_policy_uuid	path	string	true	"Policy UUID"
// @Success	204
// @Router		/api/openstack-networks/{uuid}/rbac_policy_delete/{rbac_policy_uuid}/ [delete]
func (m *routes) networkRBACPolicyDelete(c *gin.Context) error {
	n, err := m.object(c, KindNetwork)
	if err != nil {
		return err
	}
	id, err := models.ParseUUID(c.Param("rbac_policy_uuid"))
	if err != nil {
		return models.Errorf(models.CodeNotFound, "No %s matches the given query.", KindRBACPolicy.Noun())
	}
	return m.deletePolicy(c, id, n)
}
