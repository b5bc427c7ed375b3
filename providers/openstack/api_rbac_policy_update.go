package openstack

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// PUT and PATCH /api/openstack-network-rbac-policies/{uuid}/: a policy's
// network (another of the policy's tenant), target_tenant (a tenant of the
// same cloud) and policy_type changed, checked as the create checks them,
// by Waldur's is_administrator of the network's project (Waldur's update
// is the plain serializer save, which only its list filter guards; we ask
// what its create and destroy ask). The row changes at once; the cloud
// follows through the action update_policy: Neutron updates a policy's
// target in place, and another network or type is a new policy made before
// the old one is deleted. 200 with the policy; 409 unless it is OK.

// rbacPolicyUpdateRoutes registers the update routes.
func (m *routes) rbacPolicyUpdateRoutes(a *gin.RouterGroup) {
	g := a.Group("/openstack-network-rbac-policies", api.RequireUser)
	g.PUT("/:uuid/", api.H(m.updateRBACPolicy(false)))
	g.PATCH("/:uuid/", api.H(m.updateRBACPolicy(true)))
}

// @Summary	Update a network RBAC policy
// @Description	network (a network of the policy's tenant), target_tenant (a tenant of the same cloud), policy_type (access_as_external for staff); PUT needs network and target_tenant. The cloud follows (update_policy). 409 unless the policy is OK.
// @Tags		openstack-network-rbac-policies
// @Param		uuid	path	string	true	"Policy UUID"
// @Success	200	{object}	RBACPolicy
// @Router		/api/openstack-network-rbac-policies/{uuid}/ [put]
// @Router		/api/openstack-network-rbac-policies/{uuid}/ [patch]
func (m *routes) updateRBACPolicy(partial bool) api.Handler {
	return func(c *gin.Context) error {
		ctx := c.Request.Context()
		id, err := api.PathUUID(c, KindRBACPolicy.Noun())
		if err != nil {
			return err
		}
		v, err := m.db.VisibleRBACPolicy(ctx, id)
		if err != nil {
			return err
		}
		o, err := m.db.ActionObjectByUUID(ctx, KindRBACPolicy, id)
		if err != nil {
			return err
		}
		if err := m.isAdministrator(c, o); err != nil {
			return err
		}
		f, err := form.Read(c)
		if err != nil {
			return err
		}
		if !partial {
			f.Require("network", "target_tenant")
		}
		networkID, targetID, policy := v.NetworkID, int64(0), v.PolicyType
		if f.Has("network") {
			if ref, ok := f.Ref("network", "openstack-networks", false, true); ok {
				if _, err := m.db.VisibleCatalogItem(ctx, CatalogNetworks, ref); models.IsCode(err, models.CodeNotFound) {
					f.Fail("network", "Invalid hyperlink - Object does not exist.")
				} else if err != nil {
					return err
				} else if n, err := m.db.ActionObjectByUUID(ctx, KindNetwork, ref); err != nil {
					return err
				} else if n.TenantID != v.TenantID {
					f.Fail("network", "The network must belong to the policy's tenant.")
				} else {
					networkID = n.ID
				}
			}
		}
		var tt *TenantCloud
		if f.Has("target_tenant") {
			if ref, ok := f.Ref("target_tenant", "openstack-tenants", false, true); ok {
				if _, err := m.db.VisibleTenant(ctx, ref); models.IsCode(err, models.CodeNotFound) {
					f.Fail("target_tenant", "Invalid hyperlink - Object does not exist.")
				} else if err != nil {
					return err
				} else if tt, err = m.db.TenantCloudByUUID(ctx, ref); err != nil {
					return err
				}
			}
		} else if tt, err = m.db.TenantCloudByUUID(ctx, v.TargetTenantUUID); err != nil {
			return err
		}
		if f.Has("policy_type") {
			if p, ok := f.Choice("policy_type", policyTypes, false); ok {
				policy = p
			}
		}
		if policy == PolicyAccessAsExternal && policy != v.PolicyType && !api.CurrentUser(c).IsStaff {
			f.Fail("policy_type", "Only staff can create access_as_external policies.")
		}
		if tt != nil {
			targetID = tt.ID
			var own []int64
			if err := m.db.DB.WithContext(ctx).Table("openstack_tenants").Where("id = ?", v.TenantID).Pluck("offering_id", &own).Error; err != nil {
				return models.Internal(err)
			}
			switch {
			case len(own) == 0 || own[0] != tt.OfferingID:
				f.Fail("target_tenant", "The network and the target tenant must belong to the same cloud.")
			case tt.ID == v.TenantID:
				f.Fail("target_tenant", "The network already belongs to the target tenant.")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		var dup int64
		if err := m.db.DB.WithContext(ctx).Table("openstack_network_rbac_policies").
			Where("network_id = ? AND target_tenant_id = ? AND policy_type = ? AND id <> ?", networkID, targetID, policy, v.ID).Count(&dup).Error; err != nil {
			return models.Internal(err)
		}
		if dup > 0 {
			return models.FieldError("non_field_errors", "The fields network, target_tenant, policy_type must make a unique set.")
		}
		var curTarget []int64
		if err := m.db.DB.WithContext(ctx).Table("openstack_network_rbac_policies").Where("id = ?", v.ID).Pluck("target_tenant_id", &curTarget).Error; err != nil {
			return models.Internal(err)
		}
		changed := networkID != v.NetworkID || policy != v.PolicyType || len(curTarget) == 0 || curTarget[0] != targetID
		if changed {
			if tt.State != models.CoreOK || tt.BackendID == "" {
				return models.Errorf(models.CodeConflict, "The target tenant is not in the cloud.")
			}
			recreate := networkID != v.NetworkID || policy != v.PolicyType
			if err := m.schedule(c, o, ScheduledAction{Action: "update_policy", Details: map[string]any{"recreate": recreate},
				Set: map[string]any{"network_id": networkID, "target_tenant_id": targetID, "policy_type": policy}}); err != nil {
				return err
			}
			if v, err = m.db.VisibleRBACPolicy(ctx, id); err != nil {
				return err
			}
		}
		return rest.Render(c, http.StatusOK, renderRBACPolicy(c, v))
	}
}
