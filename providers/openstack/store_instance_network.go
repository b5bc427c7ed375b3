package openstack

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/waldur-go/waldur/models"
)

// The database side of an instance's network actions (update_security_groups,
// update_ports, update_allowed_address_pairs; store_actions.go runs them:
// actionRequest calls instanceNetRequest, FinishAction
// finishInstanceNetwork). What an action needs is recorded by the API in
// action_details in the shape of InstanceNetRequest.

// instanceNetActions are the instance's actions of this family.
var instanceNetActions = []string{"update_security_groups", "update_ports", "update_allowed_address_pairs", "console"}

func isInstanceNetAction(k Kind, action string) bool {
	return k == KindInstance && slices.Contains(instanceNetActions, action)
}

// instanceMarker is the description of the ports update_ports makes for an
// instance.
func instanceMarker(id models.UUID) string { return "waldur-instance-" + id.String() }

// instanceNetDetails is an InstanceNetRequest as action_details record it.
func instanceNetDetails(r InstanceNetRequest) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(rawJSON(r), &out)
	return out
}

// instanceNetRequest resolves an instance's network action.
func (s *Store) instanceNetRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	n := &InstanceNetRequest{}
	if len(o.ActionDetails) > 0 {
		raw, err := json.Marshal(o.ActionDetails)
		if err != nil {
			return models.Internal(err)
		}
		if err := json.Unmarshal(raw, n); err != nil {
			return models.Errorf(models.CodeInvalid, "The action of instance %s cannot be read: %v", o.Name, err)
		}
	}
	n.Marker, n.PortName = instanceMarker(o.UUID), o.Name+"-port"
	req.InstanceNet = n
	return nil
}

// finishInstanceNetwork records the server's ports and security groups
// read back after a network action, and the ports it touched (and the
// server a backup's restore made: finishRestore).
func (s *Store) finishInstanceNetwork(ctx context.Context, o *ActionObject, res ActionResult, updates map[string]any) error {
	if o.Action == "create" { // from a backup: store_backup_restore.go
		return s.finishRestore(ctx, o, res, updates)
	}
	if res.InstanceNet == nil {
		return nil
	}
	sv := res.InstanceNet.Server
	updates["internal_ips"], updates["external_ips"] = rawJSON(nonNilSlice(sv.InternalIPs)), rawJSON(nonNilSlice(sv.ExternalIPs))
	updates["security_groups"], updates["ports"] = rawJSON(nonNilSlice(sv.SecurityGroups)), rawJSON(nonNilSlice(sv.Ports))
	for _, pt := range res.InstanceNet.Ports {
		if err := s.upsertPort(ctx, o.TenantID, pt); err != nil {
			return err
		}
	}
	// Ports made for the instance and deleted with their detach go.
	keep := make([]string, 0, len(res.InstanceNet.Ports))
	for _, pt := range res.InstanceNet.Ports {
		keep = append(keep, pt.BackendID)
	}
	q := s.DB.WithContext(ctx).Exec("DELETE FROM openstack_ports WHERE tenant_id = ? AND device_id = ? AND state = ?"+notIn(len(keep)),
		append([]any{o.TenantID, sv.BackendID, models.CoreOK}, anySlice(keep)...)...)
	if q.Error != nil {
		return models.Internal(q.Error)
	}
	return nil
}

// notIn is " AND backend_id NOT IN (?, ...)" for n values ("" for none).
func notIn(n int) string {
	if n == 0 {
		return ""
	}
	out := " AND backend_id NOT IN (?"
	for i := 1; i < n; i++ {
		out += ", ?"
	}
	return out + ")"
}

func anySlice(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
