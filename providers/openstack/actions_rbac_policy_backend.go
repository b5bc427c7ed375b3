package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/rbacpolicies"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the networks' RBAC policies (Waldur's
// NetworkRBACPolicy: create_network_rbac_policy, delete_network_rbac_policy):
// create (the policy of the same network, action and target found in the
// cloud, or made), delete (one already gone is deleted).

// RBACPolicyRequest is what a policy's create needs: the network's and the
// target tenant's (project's) ids in the cloud and the policy type
// (access_as_shared or access_as_external).
type RBACPolicyRequest struct {
	NetworkBackendID string `json:"network_backend_id"`
	TargetProjectID  string `json:"target_project_id"`
	PolicyType       string `json:"policy_type"`
	// Recreate: an update_policy to another network or type (a new
	// policy, then the old one deleted); otherwise its target is updated.
	Recreate bool `json:"recreate,omitempty"`
}

func (p *Provider) rbacPolicyAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	switch req.Action {
	case "update_policy":
		in := req.RBAC
		if in == nil || in.NetworkBackendID == "" || in.TargetProjectID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the RBAC policy names no network or target tenant in the cloud")
		}
		if !in.Recreate && req.BackendID != "" {
			err := p.step(ctx, "updating the RBAC policy", func() error {
				_, err := rbacpolicies.Update(ctx, s.network, req.BackendID, rbacpolicies.UpdateOpts{TargetTenant: in.TargetProjectID}).Extract()
				return err
			})
			return ActionResult{BackendID: req.BackendID}, err
		}
		made, err := p.rbacPolicyAction(ctx, s, ActionRequest{Action: "create", RBAC: in})
		if err != nil {
			return ActionResult{}, err
		}
		if req.BackendID != "" && req.BackendID != made.BackendID {
			if _, err := p.rbacPolicyAction(ctx, s, ActionRequest{Action: "delete", BackendID: req.BackendID}); err != nil {
				return ActionResult{}, err
			}
		}
		return made, nil
	case "create":
		in := req.RBAC
		if in == nil || in.NetworkBackendID == "" || in.TargetProjectID == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the RBAC policy names no network or target tenant in the cloud")
		}
		action := rbacpolicies.PolicyAction(firstNonEmpty(in.PolicyType, string(rbacpolicies.ActionAccessShared)))
		var id string
		err := p.step(ctx, "creating the RBAC policy", func() error {
			pages, err := rbacpolicies.List(s.network, rbacpolicies.ListOpts{ObjectID: in.NetworkBackendID, ObjectType: "network"}).AllPages(ctx)
			if err != nil {
				return err
			}
			have, err := rbacpolicies.ExtractRBACPolicies(pages)
			if err != nil {
				return err
			}
			for _, h := range have {
				if h.Action == action && h.TargetTenant == in.TargetProjectID {
					id = h.ID // made by an earlier attempt
					return nil
				}
			}
			made, err := rbacpolicies.Create(ctx, s.network, rbacpolicies.CreateOpts{Action: action, ObjectType: "network",
				ObjectID: in.NetworkBackendID, TargetTenant: in.TargetProjectID}).Extract()
			if err != nil {
				return err
			}
			id = made.ID
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{BackendID: id}, nil
	case "delete":
		if req.BackendID == "" || isPending(req.BackendID) {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the RBAC policy", func() error {
			err := rbacpolicies.Delete(ctx, s.network, req.BackendID).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	}
	return ActionResult{}, refuse(models.CodeInvalid, "RBAC policies have no action %q", req.Action)
}
