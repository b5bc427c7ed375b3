package openstack

import (
	"context"
	"encoding/json"

	"github.com/waldur-go/waldur/models"
)

// The database side of the security groups' actions (create, update,
// set_rules, delete: store_actions.go runs them).

// securityGroupRequest resolves a security group's create or set_rules:
// its name, description and the rules wanted (recorded on the row by the
// API in action_details).
func (s *Store) securityGroupRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	var cur struct{ Name, Description string }
	if err := s.DB.WithContext(ctx).Table(o.Kind.table()).Select("name, description").Where("id = ?", o.ID).Scan(&cur).Error; err != nil {
		return models.Internal(err)
	}
	req.Name, req.Description = cur.Name, cur.Description
	raw, err := json.Marshal(o.ActionDetails["rules"])
	if err != nil {
		return models.Internal(err)
	}
	req.Rules = []CloudRule{}
	if err := json.Unmarshal(raw, &req.Rules); err != nil {
		return models.Errorf(models.CodeInvalid, "The rules of security group %s cannot be read: %v", o.Name, err)
	}
	return nil
}

// finishSecurityGroup records what the cloud read back after a security
// group's action: its id (a create) and its rules.
func finishSecurityGroup(action string, res ActionResult, updates map[string]any) {
	if res.BackendID != "" {
		updates["backend_id"] = res.BackendID
	}
	if action == "create" || action == "set_rules" {
		updates["rules"] = rawJSON(nonNilSlice(res.Rules))
	}
}
