package openstacktest

import (
	"net/http"

	"github.com/google/uuid"
)

// Neutron RBAC policies (/v2.0/rbac-policies, the rbac-policies
// extension): a network's owner shares it with another project
// (access_as_shared) or offers it as external (access_as_external); "*"
// as the target is everyone and is the admin's (Neutron's
// create_rbac_policy:target_tenant policy). A policy is the owner's (its
// project_id) and is seen by the owner and the target. Only the network
// object type is emulated. A project the policy shares a network with
// sees the network; a policy whose target still has ports on the network
// is in use (409 RbacPolicyInUse); a network's policies go with it.

// RBACPolicy is a Neutron RBAC policy on a network.
type RBACPolicy struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	ObjectType   string `json:"object_type"`
	ObjectID     string `json:"object_id"`
	Action       string `json:"action"`
	TargetTenant string `json:"target_tenant"`
}

func (e *Emulator) rbacRoutes(r func(method, path string, h handler)) {
	r("GET", "/rbac-policies", (*call).listRBACPolicies)
	r("POST", "/rbac-policies", (*call).createRBACPolicy)
	r("GET", "/rbac-policies/{id}", (*call).getRBACPolicy)
	r("PUT", "/rbac-policies/{id}", (*call).updateRBACPolicy)
	r("DELETE", "/rbac-policies/{id}", (*call).deleteRBACPolicy)
}

// RBACPolicies returns copies of all RBAC policies, in creation order.
func (e *Emulator) RBACPolicies() []RBACPolicy {
	var out []RBACPolicy
	e.locked(func(s *store) { out = copies(s.rbac.all()) })
	return out
}

func renderRBACPolicy(p *RBACPolicy) map[string]any {
	return map[string]any{"id": p.ID, "project_id": p.ProjectID, "tenant_id": p.ProjectID, "object_type": p.ObjectType,
		"object_id": p.ObjectID, "action": p.Action, "target_tenant": p.TargetTenant}
}

// sharedWithCaller tells whether a policy shares network id with the caller's project.
func (c *call) sharedWithCaller(id string) bool {
	for _, p := range c.s().rbac.all() {
		if p.ObjectID == id && p.Action == "access_as_shared" && (p.TargetTenant == "*" || p.TargetTenant == c.projectID()) {
			return true
		}
	}
	return false
}

// dropPoliciesOf deletes the policies of a network.
func (s *store) dropPoliciesOf(networkID string) {
	for _, p := range s.rbac.all() {
		if p.ObjectID == networkID {
			s.rbac.del(p.ID)
		}
	}
}

func errPolicyNotFound(id string) *apiError {
	return neutronErr(http.StatusNotFound, "RbacPolicyNotFound", "RBAC policy of type network with ID %s not found", id)
}

// rbacPolicy finds a policy the caller sees: its owner's, its target's, or any for an admin.
func (c *call) rbacPolicy(id string) (*RBACPolicy, *apiError) {
	p := c.s().rbac.get(id)
	if p == nil || !(c.owns(p.ProjectID) || p.TargetTenant == c.projectID()) {
		return nil, errPolicyNotFound(id)
	}
	return p, nil
}

func (c *call) listRBACPolicies() *apiError {
	var items []map[string]any
	for _, p := range c.s().rbac.all() {
		if c.owns(p.ProjectID) || p.TargetTenant == c.projectID() {
			items = append(items, renderRBACPolicy(p))
		}
	}
	return c.listResponse("rbac_policies", items)
}

func (c *call) getRBACPolicy() *apiError {
	p, err := c.rbacPolicy(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"rbac_policy": renderRBACPolicy(p)})
	return nil
}

type rbacBody struct {
	Policy struct {
		ObjectType   string  `json:"object_type"`
		ObjectID     string  `json:"object_id"`
		Action       string  `json:"action"`
		TargetTenant *string `json:"target_tenant"`
		ProjectID    string  `json:"project_id"`
		TenantID     string  `json:"tenant_id"`
	} `json:"rbac_policy"`
}

// targetAllowed is Neutron's create_rbac_policy:target_tenant rule: "*" is the admin's.
func (c *call) targetAllowed(target string) *apiError {
	if target == "*" && !c.isAdmin() {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:create_rbac_policy and rule:create_rbac_policy:target_tenant) is disallowed by policy")
	}
	return nil
}

func (c *call) createRBACPolicy() *apiError {
	var b rbacBody
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.Policy
	switch {
	case in.ObjectType == "":
		return neutronErr(http.StatusBadRequest, "BadRequest", "Failed to parse request. Required attribute 'object_type' not specified")
	case in.ObjectID == "":
		return neutronErr(http.StatusBadRequest, "BadRequest", "Failed to parse request. Required attribute 'object_id' not specified")
	case in.Action == "":
		return neutronErr(http.StatusBadRequest, "BadRequest", "Failed to parse request. Required attribute 'action' not specified")
	case in.TargetTenant == nil:
		return neutronErr(http.StatusBadRequest, "BadRequest", "Failed to parse request. Required attribute 'target_tenant' not specified")
	case in.ObjectType != "network":
		return neutronErr(http.StatusBadRequest, "BadRequest", "Invalid input for object_type. Reason: '%s' is not in ['network'].", in.ObjectType)
	case in.Action != "access_as_shared" && in.Action != "access_as_external":
		return neutronErr(http.StatusBadRequest, "BadRequest", "Invalid input for action. Reason: '%s' is not in ['access_as_external', 'access_as_shared'].", in.Action)
	}
	owner, err := c.owner(in.ProjectID, in.TenantID)
	if err != nil {
		return err
	}
	if err := c.targetAllowed(*in.TargetTenant); err != nil {
		return err
	}
	n := c.s().networks.get(in.ObjectID)
	if n == nil || !c.owns(n.ProjectID) {
		return neutronErr(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", in.ObjectID)
	}
	for _, p := range c.s().rbac.all() {
		if p.ObjectID == in.ObjectID && p.Action == in.Action && p.TargetTenant == *in.TargetTenant {
			return neutronErr(http.StatusConflict, "DuplicateRbacPolicy", "An RBAC policy already exists with those values.")
		}
	}
	p := &RBACPolicy{ID: uuid.NewString(), ProjectID: owner, ObjectType: in.ObjectType, ObjectID: in.ObjectID, Action: in.Action,
		TargetTenant: *in.TargetTenant}
	c.s().rbac.put(p.ID, p)
	c.json(http.StatusCreated, map[string]any{"rbac_policy": renderRBACPolicy(p)})
	return nil
}

// inUse is Neutron's refusal to take a network away from a project that
// has ports on it.
func (c *call) inUse(p *RBACPolicy, target string) *apiError {
	if p.Action != "access_as_shared" {
		return nil
	}
	for _, pt := range c.s().ports.all() {
		if pt.NetworkID == p.ObjectID && pt.ProjectID != p.ProjectID && (target == "*" || pt.ProjectID == target) {
			return neutronErr(http.StatusConflict, "RbacPolicyInUse",
				"RBAC policy on object %s cannot be removed because other objects depend on it.", p.ObjectID)
		}
	}
	return nil
}

func (c *call) updateRBACPolicy() *apiError {
	p, err := c.rbacPolicy(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(p.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:update_rbac_policy) is disallowed by policy")
	}
	var b struct {
		Policy struct {
			TargetTenant *string `json:"target_tenant"`
		} `json:"rbac_policy"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	if t := b.Policy.TargetTenant; t != nil && *t != p.TargetTenant {
		if err := c.targetAllowed(*t); err != nil {
			return err
		}
		if err := c.inUse(p, p.TargetTenant); err != nil {
			return err
		}
		p.TargetTenant = *t
	}
	c.json(http.StatusOK, map[string]any{"rbac_policy": renderRBACPolicy(p)})
	return nil
}

func (c *call) deleteRBACPolicy() *apiError {
	p, err := c.rbacPolicy(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.owns(p.ProjectID) {
		return neutronErr(http.StatusForbidden, "HTTPForbidden", "(rule:delete_rbac_policy) is disallowed by policy")
	}
	if err := c.inUse(p, p.TargetTenant); err != nil {
		return err
	}
	c.s().rbac.del(p.ID)
	c.noContent(http.StatusNoContent)
	return nil
}
