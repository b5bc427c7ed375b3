package openstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/waldur-go/waldur/models"
)

// The database side of a tenant's push_security_groups (store_actions.go
// runs it: actionRequest calls pushSecurityGroupsRequest, FinishAction
// applyPushedGroups). The API records the groups to push and to delete in
// action_details in the shape of PushSecurityGroupsRequest; the finish
// makes the tenant's security group rows the cloud's groups read back,
// with Waldur's events per group made, updated or deleted.

// pushDetails is a PushSecurityGroupsRequest as action_details record it.
func pushDetails(r PushSecurityGroupsRequest) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(rawJSON(r), &out)
	return out
}

// pushSecurityGroupsRequest resolves a tenant's push_security_groups.
func (s *Store) pushSecurityGroupsRequest(o *ActionObject, req *ActionRequest) error {
	push := &PushSecurityGroupsRequest{}
	raw, err := json.Marshal(o.ActionDetails)
	if err != nil {
		return models.Internal(err)
	}
	if err := json.Unmarshal(raw, push); err != nil {
		return models.Errorf(models.CodeInvalid, "The security groups to push to tenant %s cannot be read: %v", o.Name, err)
	}
	req.PushGroups = push
	return nil
}

// applyPushedGroups records the tenant's groups read back after a push.
func (s *Store) applyPushedGroups(ctx context.Context, o *ActionObject, got []CloudSecurityGroup) error {
	type row struct {
		UUID      models.UUID
		BackendID string
		Name      string
	}
	read := func() (map[string]row, error) {
		var rows []row
		if err := s.DB.WithContext(ctx).Table("openstack_security_groups").Select("uuid, backend_id, name").
			Where("tenant_id = ?", o.TenantID).Scan(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		out := map[string]row{}
		for _, r := range rows {
			out[r.BackendID] = r
		}
		return out, nil
	}
	before, err := read()
	if err != nil {
		return err
	}
	var pushed PushSecurityGroupsRequest
	raw, _ := json.Marshal(o.ActionDetails)
	_ = json.Unmarshal(raw, &pushed)
	now := s.Now()
	ids := make([]string, len(got))
	for i, g := range got {
		ids[i] = g.BackendID
	}
	err = s.syncRows(ctx, "openstack_security_groups", o.TenantID, ids, func(i int) map[string]any {
		g := got[i]
		return map[string]any{"name": g.Name, "description": g.Description, "rules": rawJSON(nonNilSlice(g.Rules)), "state": models.CoreOK,
			"error_message": "", "created": now, "modified": now}
	})
	if err != nil {
		return err
	}
	after, err := read()
	if err != nil {
		return err
	}
	emit := func(r row, typ, msg string) error {
		g := &ActionObject{Kind: KindSecurityGroup, UUID: r.UUID, Name: r.Name, ProjectID: o.ProjectID, CustomerID: o.CustomerID}
		return s.emitObjectEvent(ctx, g, typ, fmt.Sprintf(msg, g.Kind.Noun(), g.Name))
	}
	updated := map[string]bool{}
	for _, g := range pushed.Groups {
		updated[g.BackendID] = g.BackendID != ""
	}
	for id, r := range after {
		_, had := before[id]
		switch {
		case !had:
			if err := emit(r, "openstack_security_group_created", "%s %s has been created."); err != nil {
				return err
			}
		case updated[id]:
			if err := emit(r, "openstack_security_group_updated", "%s %s has been updated."); err != nil {
				return err
			}
		}
	}
	for id, r := range before {
		if _, kept := after[id]; !kept {
			if err := emit(r, "openstack_security_group_deleted", "%s %s has been deleted."); err != nil {
				return err
			}
		}
	}
	return nil
}
