package openstack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the per-object actions (Waldur's structure actions
// on tenants, instances and volumes: update, start, stop, change_flavor,
// extend, attach, ...). An action is scheduled by the API in one statement
// that checks the object's state and records the action on the row
// (state UPDATE_SCHEDULED, action, action_details): the row is the action's
// outbox. OpenStackAction (workflow id ActionWorkflowID) then begins it
// (UPDATING), runs it on the cloud and finishes it (OK with what the cloud
// read back) or fails it (ERRED with the message); a row left scheduled by
// a process that died before the start is started again by the
// dispatcher (PendingActions).

// Kind is an OpenStack object kind the actions work on.
type Kind string

// The kinds.
const (
	KindTenant   Kind = "tenant"
	KindInstance Kind = "instance"
	KindVolume   Kind = "volume"
	// KindSecurityGroup is a tenant's security group: its row has no
	// project (its project is its tenant's) and no marketplace resource.
	KindSecurityGroup Kind = "security_group"
	// KindNetwork and KindSubnet are a tenant's networks and their subnets
	// (also in a tenant, without a project or resource of their own).
	KindNetwork Kind = "network"
	KindSubnet  Kind = "subnet"
	// KindPort, KindRouter and KindFloatingIP are a tenant's ports, routers
	// and floating IPs (in a tenant too; their own routes: api_ports.go,
	// api_routers.go, api_floating_ips.go).
	KindPort       Kind = "port"
	KindRouter     Kind = "router"
	KindFloatingIP Kind = "floating_ip"
	// KindServerGroup, KindSnapshot and KindBackup are a tenant's server
	// groups, volume snapshots and instance backups (in a tenant too; their
	// own routes: api_server_groups.go, api_snapshots.go, api_backups.go).
	KindServerGroup Kind = "server_group"
	KindSnapshot    Kind = "snapshot"
	KindBackup      Kind = "backup"
	// KindRBACPolicy is a network's RBAC policy (in the network's tenant;
	// its own routes: api_rbac_policies.go).
	KindRBACPolicy Kind = "network_rbac_policy"
)

// actionKinds are the kinds whose rows carry actions.
var actionKinds = []Kind{KindTenant, KindInstance, KindVolume, KindSecurityGroup, KindNetwork, KindSubnet}

func (k Kind) table() string {
	if k == KindRBACPolicy {
		return "openstack_network_rbac_policies"
	}
	return "openstack_" + string(k) + "s"
}

// collection is the kind's API collection ("openstack-security-groups").
func (k Kind) collection() string {
	if k == KindRBACPolicy {
		return "openstack-network-rbac-policies"
	}
	return "openstack-" + strings.ReplaceAll(string(k), "_", "-") + "s"
}

// inTenant reports whether the kind's rows have no project of their own
// (their project is their tenant's) nor a marketplace resource.
func (k Kind) inTenant() bool {
	return k == KindSecurityGroup || k == KindNetwork || k == KindSubnet || isL3Kind(k) || isStorageKind(k) || k == KindRBACPolicy
}

// Noun is how messages name the kind ("Instance", "Security group").
func (k Kind) Noun() string {
	s := strings.ReplaceAll(string(k), "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// offeringType is the kind's marketplace offering type.
func (k Kind) offeringType() string {
	switch k {
	case KindTenant:
		return OfferingTenant
	case KindInstance:
		return OfferingInstance
	case KindSecurityGroup:
		return "OpenStack.SecurityGroup"
	case KindNetwork:
		return "OpenStack.Network"
	case KindSubnet:
		return "OpenStack.SubNet"
	case KindPort:
		return "OpenStack.Port"
	case KindRouter:
		return "OpenStack.Router"
	case KindFloatingIP:
		return "OpenStack.FloatingIP"
	case KindServerGroup, KindSnapshot, KindBackup:
		return storageOfferingTypes[k]
	case KindRBACPolicy:
		return "OpenStack.NetworkRBACPolicy"
	}
	return OfferingVolume
}

// ActionObject is an object an action works on, as the actions need it.
type ActionObject struct {
	Kind          Kind
	ID            int64
	UUID          models.UUID
	Name          string
	State         models.CoreState
	BackendID     string
	RuntimeState  string
	TenantID      int64
	ProjectID     int64
	CustomerID    int64
	ResourceID    *int64
	Action        string
	ActionDetails map[string]any
}

// actionObject reads an object by id (tenant_id of a tenant is its own id).
func (s *Store) actionObject(ctx context.Context, k Kind, id int64, lock bool) (*ActionObject, error) {
	tenantCol, runtimeCol := "o.tenant_id", "o.runtime_state"
	projectCol, resourceCol, join := "o.project_id", "o.resource_id", "JOIN projects p ON p.id = o.project_id"
	if k == KindTenant {
		tenantCol, runtimeCol = "o.id", "''"
	}
	if k.inTenant() {
		runtimeCol, projectCol, resourceCol = "''", "t.project_id", "NULL"
		join = "JOIN openstack_tenants t ON t.id = o.tenant_id JOIN projects p ON p.id = t.project_id"
	}
	var row struct {
		ID            int64
		UUID          models.UUID
		Name          string
		State         models.CoreState
		BackendID     string
		RuntimeState  string
		TenantID      int64
		ProjectID     int64
		CustomerID    int64
		ResourceID    *int64
		Action        string
		ActionDetails []byte
	}
	q := s.DB.WithContext(ctx).Table(k.table()+" o").
		Select("o.id, o.uuid, o.name, o.state, o.backend_id, "+runtimeCol+" AS runtime_state, "+tenantCol+" AS tenant_id, "+
			projectCol+" AS project_id, p.customer_id, "+resourceCol+" AS resource_id, o.action, o.action_details").
		Joins(join).Where("o.id = ?", id)
	if lock {
		q = store.ForUpdate(q)
	}
	res := q.Limit(1).Scan(&row)
	if res.Error != nil {
		return nil, models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeNotFound, "No %s matches the given query.", k.Noun())
	}
	o := &ActionObject{Kind: k, ID: row.ID, UUID: row.UUID, Name: row.Name, State: row.State, BackendID: row.BackendID,
		RuntimeState: row.RuntimeState, TenantID: row.TenantID, ProjectID: row.ProjectID, CustomerID: row.CustomerID,
		ResourceID: row.ResourceID, Action: row.Action}
	if len(row.ActionDetails) > 0 {
		_ = json.Unmarshal(row.ActionDetails, &o.ActionDetails)
	}
	return o, nil
}

// ActionObjectByUUID reads an object by its UUID. Codes: not_found.
func (s *Store) ActionObjectByUUID(ctx context.Context, k Kind, id models.UUID) (*ActionObject, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Table(k.table()).Where("uuid = ?", id).Pluck("id", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(ids) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "No %s matches the given query.", k.Noun())
	}
	return s.actionObject(ctx, k, ids[0], false)
}

// ScheduledAction is an action to schedule on an object.
type ScheduledAction struct {
	Action string
	// Details are recorded on the row (action_details) and read by the
	// workflow: what the action needs (a flavor, a size, an instance).
	Details map[string]any
	// From are the states the object may be in (OK when empty).
	From []models.CoreState
	// Set are columns changed at once (an update's name and description).
	Set map[string]any
	// To is the state the object moves to: UPDATE_SCHEDULED when empty,
	// DELETION_SCHEDULED for a delete (CREATION_SCHEDULED is CreateObject's).
	To models.CoreState
}

// pendingPrefix marks the backend id of a row whose object the cloud has
// not made yet (the tables want a backend id unique in the tenant).
const pendingPrefix = "pending-"

// isPending reports whether a backend id is a placeholder.
func isPending(backendID string) bool { return strings.HasPrefix(backendID, pendingPrefix) }

// runningState is the state an object runs an action in, given the state
// it was scheduled in.
var runningState = map[models.CoreState]models.CoreState{
	models.CoreUpdateScheduled: models.CoreUpdating, models.CoreCreationScheduled: models.CoreCreating,
	models.CoreDeletionScheduled: models.CoreDeleting,
}

// busy reports whether an object in state s is scheduled for or running an action.
func busy(s models.CoreState) bool {
	for sch, run := range runningState {
		if s == sch || s == run {
			return true
		}
	}
	return false
}

// CreateObject inserts a row of a kind that lives in a tenant (a security
// group, ...) in CREATION_SCHEDULED with the create action recorded on it
// and a placeholder backend id: the row is the creation's outbox. values
// are the row's columns (name, description, ...). Codes: conflict.
func (s *Store) CreateObject(ctx context.Context, k Kind, tenantID int64, values map[string]any, details map[string]any) (*ActionObject, error) {
	var out *ActionObject
	err := s.Tx(ctx, func(tx *Store) error {
		id := models.NewUUID()
		now := tx.Now()
		row := map[string]any{"uuid": id, "tenant_id": tenantID, "backend_id": pendingPrefix + id.String(),
			"state": models.CoreCreationScheduled, "action": "create", "action_details": rawJSON(nonNilMap(details)), "error_message": "",
			"created": now, "modified": now}
		for col, v := range values {
			row[col] = v
		}
		if err := tx.DB.WithContext(ctx).Table(k.table()).Create(row).Error; err != nil {
			return store.Translate(err, k.Noun())
		}
		var ids []int64
		if err := tx.DB.WithContext(ctx).Table(k.table()).Where("uuid = ?", id).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
			return models.Internal(fmt.Errorf("the new %s row is not found: %v", k, err))
		}
		o, err := tx.actionObject(ctx, k, ids[0], false)
		if err != nil {
			return err
		}
		if ev := kindEvent(k, "create"); ev.scheduled != "" {
			if err := tx.emitObjectEvent(ctx, o, ev.scheduled, fmt.Sprintf(ev.scheduledMsg, o.Kind.Noun(), o.Name)); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	return out, err
}

// ScheduleAction moves the object to UPDATE_SCHEDULED with the action
// recorded, if it is in one of the action's states; otherwise 409 "Valid
// states for operation: OK." and nothing changes. Codes: not_found,
// conflict.
func (s *Store) ScheduleAction(ctx context.Context, k Kind, id int64, a ScheduledAction) (*ActionObject, error) {
	var out *ActionObject
	err := s.Tx(ctx, func(tx *Store) error {
		o, err := tx.actionObject(ctx, k, id, true)
		if err != nil {
			return err
		}
		from := a.From
		if len(from) == 0 {
			from = []models.CoreState{models.CoreOK}
		}
		if !stateIn(o.State, from) {
			names := make([]string, len(from))
			for i, st := range from {
				names[i] = string(st)
			}
			return models.Errorf(models.CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
		}
		to := a.To
		if to == "" {
			to = models.CoreUpdateScheduled
		}
		updates := map[string]any{"state": to, "action": a.Action, "action_details": rawJSON(nonNilMap(a.Details)),
			"error_message": ""}
		for col, v := range a.Set {
			updates[col] = v
		}
		if err := tx.setRow(ctx, k.table(), o.ID, updates); err != nil {
			return err
		}
		if ev := kindEvent(k, a.Action); ev.scheduled != "" {
			if err := tx.emitObjectEvent(ctx, o, ev.scheduled, fmt.Sprintf(ev.scheduledMsg, o.Kind.Noun(), o.Name)); err != nil {
				return err
			}
		}
		out, err = tx.actionObject(ctx, k, id, false)
		return err
	})
	return out, err
}

func stateIn(s models.CoreState, states []models.CoreState) bool {
	for _, st := range states {
		if s == st {
			return true
		}
	}
	return false
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// emitObjectEvent emits an event about o, seen in its project.
func (s *Store) emitObjectEvent(ctx context.Context, o *ActionObject, eventType, message string) error {
	return s.EmitEvent(ctx, &models.Event{EventType: eventType, Message: message,
		Context: map[string]any{"resource_uuid": o.UUID.String(), "resource_name": o.Name, "resource_type": o.Kind.offeringType()},
		Scopes:  []models.Scope{{Type: models.ScopeProject, ID: o.ProjectID}, {Type: models.ScopeCustomer, ID: o.CustomerID}}})
}

// BeginAction moves the object from UPDATE_SCHEDULED to UPDATING for the
// action and returns what the cloud side needs. ok is false when the object
// is not (or no longer) scheduled for this action: set_ok by staff, or a
// run that already ended; the workflow then ends without acting. A retried
// begin (UPDATING with the same action) answers the same.
func (s *Store) BeginAction(ctx context.Context, k Kind, id models.UUID, action string) (req ActionRequest, ok bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		o, err := tx.ActionObjectByUUID(ctx, k, id)
		if models.IsCode(err, models.CodeNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if o, err = tx.actionObject(ctx, k, o.ID, true); err != nil {
			return err
		}
		if o.Action != action || !busy(o.State) {
			return nil
		}
		if run, ok := runningState[o.State]; ok {
			if err := tx.setRow(ctx, k.table(), o.ID, map[string]any{"state": run}); err != nil {
				return err
			}
		}
		req, err = tx.actionRequest(ctx, o)
		ok = err == nil
		return err
	})
	return req, ok, err
}

// actionRequest resolves what the cloud side needs for o's action.
func (s *Store) actionRequest(ctx context.Context, o *ActionObject) (ActionRequest, error) {
	tenant, err := s.TenantByID(ctx, o.TenantID)
	if err != nil {
		return ActionRequest{}, err
	}
	secrets, err := s.TenantSecrets(ctx, tenant.ID)
	if err != nil {
		return ActionRequest{}, err
	}
	conn, err := ConnectionFrom(secrets)
	if err != nil {
		return ActionRequest{}, err
	}
	req := ActionRequest{ActionID: ActionWorkflowID(o.Kind, o.UUID, o.Action), Connection: conn, TenantBackendID: tenant.BackendID,
		Kind: string(o.Kind), BackendID: o.BackendID, Action: o.Action}
	if isPending(req.BackendID) {
		req.BackendID = "" // not made yet (a create), or never made (a delete of a failed create)
	}
	d := o.ActionDetails
	str := func(k string) string { v, _ := d[k].(string); return v }
	switch o.Action {
	case "update":
		var cur struct{ Name, Description string }
		if err := s.DB.WithContext(ctx).Table(o.Kind.table()).Select("name, description").Where("id = ?", o.ID).Scan(&cur).Error; err != nil {
			return req, models.Internal(err)
		}
		req.Name, req.Description = cur.Name, cur.Description
	case "change_flavor":
		if req.Flavor, err = s.Flavor(ctx, tenant.ID, str("flavor_uuid")); err != nil {
			return req, err
		}
	case "extend":
		req.Size = int64(number(d["size"]))
	case "attach":
		var ids []string
		if err := s.DB.WithContext(ctx).Table("openstack_instances").Where("uuid = ?", str("instance_uuid")).Pluck("backend_id", &ids).Error; err != nil {
			return req, models.Internal(err)
		}
		if len(ids) == 0 || ids[0] == "" {
			return req, models.Errorf(models.CodeInvalid, "The instance to attach to is gone.")
		}
		req.InstanceBackendID = ids[0]
	case "retype":
		req.VolumeType = str("type_name")
	case "create", "set_rules", "set_mtu":
		var err error
		switch o.Kind {
		case KindSecurityGroup:
			err = s.securityGroupRequest(ctx, o, &req)
		case KindNetwork, KindSubnet:
			err = s.networkRequest(ctx, o, &req)
		}
		if err != nil {
			return req, err
		}
	case "set_quotas", "change_password":
		if err := s.tenantActionRequest(ctx, o, &req); err != nil {
			return req, err
		}
	}
	if isL3Kind(o.Kind) || o.Action == "update_floating_ips" { // ports, routers, floating IPs: store_ports.go
		if err := s.l3Request(ctx, o, &req); err != nil {
			return req, err
		}
	}
	if isStorageKind(o.Kind) { // server groups, snapshots, backups: store_snapshots.go
		if err := s.storageRequest(ctx, o, &req); err != nil {
			return req, err
		}
	}
	if o.Kind == KindRBACPolicy { // store_rbac_policies.go
		if err := s.rbacPolicyRequest(ctx, o, &req); err != nil {
			return req, err
		}
	}
	if isInstanceNetAction(o.Kind, o.Action) { // an instance's ports and groups: store_instance_network.go
		if err := s.instanceNetRequest(ctx, o, &req); err != nil {
			return req, err
		}
	}
	if o.Kind == KindTenant && o.Action == "push_security_groups" { // store_push_security_groups.go
		if err := s.pushSecurityGroupsRequest(o, &req); err != nil {
			return req, err
		}
	}
	if o.Kind == KindInstance && o.Action == "create" { // from a backup: store_backup_restore.go
		if err := s.backupRestoreRequest(ctx, o, &req); err != nil {
			return req, err
		}
	}
	return req, nil
}

func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return 0
}

// FinishAction records a done action: the object is OK with what the
// cloud read back, and the action's succeeded event is emitted. An object
// no longer running this action is left alone.
func (s *Store) FinishAction(ctx context.Context, k Kind, id models.UUID, action string, res ActionResult) error {
	return s.Tx(ctx, func(tx *Store) error {
		o, err := tx.runningAction(ctx, k, id, action)
		if err != nil || o == nil {
			return err
		}
		ev := kindEvent(k, action)
		if action == "delete" {
			if err := tx.deleteStorageChildren(ctx, o); err != nil {
				return err
			}
			if k == KindNetwork { // its subnets went with it
				if err := tx.DB.WithContext(ctx).Exec("DELETE FROM openstack_subnets WHERE network_id = ?", o.ID).Error; err != nil {
					return models.Internal(err)
				}
			}
			if err := store.Translate(tx.DB.WithContext(ctx).Exec("DELETE FROM "+k.table()+" WHERE id = ?", o.ID).Error, k.Noun()); err != nil {
				return err
			}
			if ev.succeeded == "" {
				return nil
			}
			return tx.emitObjectEvent(ctx, o, ev.succeeded, fmt.Sprintf(ev.succeededMsg, o.Kind.Noun(), o.Name))
		}
		updates := map[string]any{"state": models.CoreOK, "action": "", "action_details": rawJSON(map[string]any{}), "error_message": ""}
		if res.RuntimeState != "" && k != KindTenant && !k.inTenant() {
			updates["runtime_state"] = res.RuntimeState
		}
		switch k {
		case KindTenant:
			if action == "set_quotas" {
				if err := tx.finishSetQuotas(ctx, o, res, updates); err != nil {
					return err
				}
			}
			if action == "pull_server_groups" {
				if err := tx.applyServerGroups(ctx, o, res.ServerGroups); err != nil {
					return err
				}
			}
			if action == "push_security_groups" { // store_push_security_groups.go
				if err := tx.applyPushedGroups(ctx, o, res.SecurityGroups); err != nil {
					return err
				}
			}
		case KindInstance:
			if res.Flavor != nil {
				updates["flavor_name"], updates["cores"], updates["ram"], updates["flavor_disk"] =
					res.Flavor.Name, res.Flavor.Cores, res.Flavor.RAM, res.Flavor.Disk
				if action == "change_flavor" && o.ResourceID != nil { // the billed quantities follow (store_billed.go)
					if err := tx.recordBilledLimits(ctx, *o.ResourceID, flavorQuantities(*res.Flavor),
						fmt.Sprintf("Limits set by the instance's change_flavor to %s.", res.Flavor.Name)); err != nil {
						return err
					}
				}
			}
			if res.RuntimeState == "ACTIVE" {
				updates["start_time"] = tx.Now()
			} else if res.RuntimeState == "SHUTOFF" {
				updates["start_time"] = nil
			}
		case KindVolume:
			if res.Size > 0 {
				updates["size"] = res.Size
				if action == "extend" && o.ResourceID != nil { // the billed quantities follow (store_billed.go)
					if err := tx.recordBilledLimits(ctx, *o.ResourceID, volumeQuantities(res.Size),
						fmt.Sprintf("Limits set by the volume's extend to %d MiB.", res.Size)); err != nil {
						return err
					}
				}
			}
			if res.VolumeType != "" {
				updates["type_name"] = res.VolumeType
			}
			switch action {
			case "attach":
				updates["device"] = res.Device
				var ids []int64
				if err := tx.DB.WithContext(ctx).Table("openstack_instances").
					Where("tenant_id = ? AND backend_id = ?", o.TenantID, res.InstanceBackendID).Pluck("id", &ids).Error; err != nil {
					return models.Internal(err)
				}
				if len(ids) > 0 {
					updates["instance_id"] = ids[0]
				}
			case "detach":
				updates["device"], updates["instance_id"] = "", nil
			}
		}
		if action == "create" && k.inTenant() && res.BackendID != "" {
			// A pull may have imported what an earlier attempt made before
			// this row had its id: that row is this one.
			if err := tx.DB.WithContext(ctx).Exec("DELETE FROM "+k.table()+" WHERE tenant_id = ? AND backend_id = ? AND id <> ?",
				o.TenantID, res.BackendID, o.ID).Error; err != nil {
				return models.Internal(err)
			}
		}
		switch k {
		case KindSecurityGroup:
			finishSecurityGroup(action, res, updates)
		case KindNetwork, KindSubnet:
			finishNetwork(res, updates)
		case KindPort, KindRouter, KindFloatingIP, KindInstance:
			if err := tx.finishL3(ctx, o, action, res, updates); err != nil {
				return err
			}
		case KindServerGroup, KindSnapshot, KindBackup:
			if err := tx.finishStorage(ctx, o, action, res, updates); err != nil {
				return err
			}
		case KindRBACPolicy: // store_rbac_policies.go
			finishRBACPolicy(res, updates)
		}
		if k == KindInstance { // an instance's ports and groups: store_instance_network.go
			if err := tx.finishInstanceNetwork(ctx, o, res, updates); err != nil {
				return err
			}
		}
		if err := tx.setRow(ctx, k.table(), o.ID, updates); err != nil {
			return err
		}
		if ev.succeeded == "" {
			return nil
		}
		return tx.emitObjectEvent(ctx, o, ev.succeeded, fmt.Sprintf(ev.succeededMsg, o.Kind.Noun(), o.Name))
	})
}

// FailAction records a failed action: the object is ERRED with the
// message, and the action's failed event is emitted.
func (s *Store) FailAction(ctx context.Context, k Kind, id models.UUID, action, message string) error {
	return s.Tx(ctx, func(tx *Store) error {
		o, err := tx.runningAction(ctx, k, id, action)
		if err != nil || o == nil {
			return err
		}
		if err := tx.setRow(ctx, k.table(), o.ID, map[string]any{"state": models.CoreErred, "error_message": message}); err != nil {
			return err
		}
		if err := tx.failStorage(ctx, o, action, message); err != nil {
			return err
		}
		ev := kindEvent(k, action)
		if ev.failed == "" {
			return nil
		}
		return tx.emitObjectEvent(ctx, o, ev.failed, fmt.Sprintf(ev.failedMsg, o.Kind.Noun(), o.Name, message))
	})
}

// runningAction locks the object if it is running action (nil otherwise).
func (s *Store) runningAction(ctx context.Context, k Kind, id models.UUID, action string) (*ActionObject, error) {
	o, err := s.ActionObjectByUUID(ctx, k, id)
	if models.IsCode(err, models.CodeNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if o, err = s.actionObject(ctx, k, o.ID, true); err != nil {
		return nil, err
	}
	if o.Action != action || !busy(o.State) {
		return nil, nil
	}
	return o, nil
}

// actionEvent is an action's events: scheduled, succeeded and failed
// (Waldur's event types; none where Waldur has none). The messages take
// the kind's noun and the object's name (and the failure's message).
type actionEvent struct {
	scheduled, scheduledMsg, succeeded, succeededMsg, failed, failedMsg string
}

// kindActionEvents are the events of a kind's own actions ("kind:action"),
// which take the place of actionEvents'.
var kindActionEvents = map[string]actionEvent{
	"security_group:create":    {"", "", "openstack_security_group_created", "%s %s has been created.", "", ""},
	"security_group:update":    {"", "", "openstack_security_group_updated", "%s %s has been updated.", "", ""},
	"security_group:set_rules": {"", "", "openstack_security_group_rule_updated", "%s %s rules have been updated.", "", ""},
	"security_group:delete":    {"", "", "openstack_security_group_deleted", "%s %s has been deleted.", "", ""},
	"network:create":           {"", "", "openstack_network_created", "%s %s has been created.", "", ""},
	"network:update":           {"", "", "openstack_network_updated", "%s %s has been updated.", "", ""},
	"network:set_mtu":          {"", "", "openstack_network_updated", "%s %s MTU has been updated.", "", ""},
	"network:delete":           {"", "", "openstack_network_deleted", "%s %s has been deleted.", "", ""},
	"subnet:create":            {"", "", "openstack_subnet_created", "%s %s has been created.", "", ""},
	"subnet:update":            {"", "", "openstack_subnet_updated", "%s %s has been updated.", "", ""},
	"subnet:delete":            {"", "", "openstack_subnet_deleted", "%s %s has been deleted.", "", ""},
	// Ports, routers and floating IPs (store_ports.go, ...).
	"port:create":                    {"", "", "openstack_port_created", "%s %s has been created.", "", ""},
	"port:update":                    {"", "", "openstack_port_updated", "%s %s has been updated.", "", ""},
	"port:enable_port":               {"", "", "openstack_port_updated", "%s %s has been enabled.", "", ""},
	"port:disable_port":              {"", "", "openstack_port_updated", "%s %s has been disabled.", "", ""},
	"port:enable_port_security":      {"", "", "openstack_port_updated", "%s %s port security has been enabled.", "", ""},
	"port:disable_port_security":     {"", "", "openstack_port_updated", "%s %s port security has been disabled.", "", ""},
	"port:update_port_ip":            {"", "", "openstack_port_updated", "%s %s IP address has been updated.", "", ""},
	"port:update_security_groups":    {"", "", "openstack_port_updated", "%s %s security groups have been updated.", "", ""},
	"port:delete":                    {"", "", "openstack_port_deleted", "%s %s has been deleted.", "", ""},
	"router:create":                  {"", "", "openstack_router_updated", "%s %s has been created.", "", ""},
	"router:add_router_interface":    {"", "", "openstack_router_updated", "%s %s interface has been added.", "", ""},
	"router:remove_router_interface": {"", "", "openstack_router_updated", "%s %s interface has been removed.", "", ""},
	"router:set_routes":              {"", "", "openstack_router_updated", "%s %s routes have been updated.", "", ""},
	"floating_ip:attach_to_port":     {"", "", "openstack_floating_ip_attached", "%s %s has been attached to a port.", "", ""},
	"floating_ip:detach_from_port":   {"", "", "openstack_floating_ip_detached", "%s %s has been detached from its port.", "", ""},
	"floating_ip:update_description": {"", "", "openstack_floating_ip_description_updated", "%s %s description has been updated.", "", ""},
}

// kindEvent is the events of an action on a kind.
func kindEvent(k Kind, action string) actionEvent {
	if ev, ok := kindActionEvents[string(k)+":"+action]; ok {
		return ev
	}
	if k.inTenant() {
		return actionEvent{}
	}
	return actionEvents[action]
}

// actionEvents are the events of the actions (Waldur's event types; none
// where Waldur has none).
var actionEvents = map[string]actionEvent{
	"update": {"", "", "resource_update_succeeded", "%s %s has been updated.", "", ""},
	"start": {"resource_start_scheduled", "%s %s start has been scheduled.", "resource_start_succeeded", "%s %s has been started.",
		"resource_start_failed", "%s %s start has failed: %s"},
	"stop": {"resource_stop_scheduled", "%s %s stop has been scheduled.", "resource_stop_succeeded", "%s %s has been stopped.",
		"resource_stop_failed", "%s %s stop has failed: %s"},
	"restart": {"resource_restart_scheduled", "%s %s restart has been scheduled.", "resource_restart_succeeded", "%s %s has been restarted.",
		"resource_restart_failed", "%s %s restart has failed: %s"},
	"change_flavor": {"resource_change_flavor_scheduled", "%s %s flavor change has been scheduled.",
		"resource_change_flavor_succeeded", "%s %s flavor has been changed.", "resource_change_flavor_failed", "%s %s flavor change has failed: %s"},
	"extend": {"resource_extend_scheduled", "%s %s extension has been scheduled.", "resource_extend_succeeded", "%s %s has been extended.",
		"resource_extend_failed", "%s %s extension has failed: %s"},
	"attach": {"resource_attach_scheduled", "%s %s attachment has been scheduled.", "resource_attach_succeeded", "%s %s has been attached.",
		"resource_attach_failed", "%s %s attachment has failed: %s"},
	"detach": {"resource_detach_scheduled", "%s %s detachment has been scheduled.", "resource_detach_succeeded", "%s %s has been detached.",
		"resource_detach_failed", "%s %s detachment has failed: %s"},
	"set_quotas": {"", "", "openstack_tenant_quota_limit_updated", "%s %s quotas have been updated.", "", ""},
	"retype": {"resource_retype_scheduled", "%s %s retype has been scheduled.", "resource_retype_succeeded", "%s %s has been retyped.",
		"resource_retype_failed", "%s %s retype has failed: %s"},
	// An instance made from a backup (store_backup_restore.go; its
	// scheduled event is emitted on the backup).
	"create": {"", "", "resource_backup_restoration_succeeded", "%s %s has been restored from a backup.",
		"resource_backup_restoration_failed", "%s %s restoration from a backup has failed: %s"},
	// An instance's network actions (store_instance_network.go).
	"update_security_groups": {"resource_update_security_groups_scheduled", "%s %s security groups update has been scheduled.",
		"resource_update_security_groups_succeeded", "%s %s security groups have been updated.",
		"resource_update_security_groups_failed", "%s %s security groups update has failed: %s"},
	"update_ports": {"resource_update_ports_scheduled", "%s %s ports update has been scheduled.",
		"resource_update_ports_succeeded", "%s %s ports have been updated.",
		"resource_update_ports_failed", "%s %s ports update has failed: %s"},
	"update_allowed_address_pairs": {"resource_update_allowed_address_pairs_scheduled", "%s %s allowed address pairs update has been scheduled.",
		"resource_update_allowed_address_pairs_succeeded", "%s %s allowed address pairs have been updated.",
		"resource_update_allowed_address_pairs_failed", "%s %s allowed address pairs update has failed: %s"},
}

// SetObjectState is staff's set_ok / set_erred: the object moves to state
// whatever it was doing (an action in flight is forgotten: its run ends
// without acting). Codes: not_found.
func (s *Store) SetObjectState(ctx context.Context, k Kind, id int64, state models.CoreState) error {
	return s.Tx(ctx, func(tx *Store) error {
		o, err := tx.actionObject(ctx, k, id, true)
		if err != nil {
			return err
		}
		updates := map[string]any{"state": state, "action": "", "action_details": rawJSON(map[string]any{})}
		if state == models.CoreOK {
			updates["error_message"] = ""
		}
		return tx.setRow(ctx, k.table(), o.ID, updates)
	})
}

// UnlinkObject is staff's unlink: the object is forgotten without touching
// the cloud; its marketplace resource (if any, and not ended) is
// terminated. A tenant takes what it holds along, as its termination does.
// Codes: not_found.
func (s *Store) UnlinkObject(ctx context.Context, k Kind, id int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		o, err := tx.actionObject(ctx, k, id, true)
		if err != nil {
			return err
		}
		if o.ResourceID != nil {
			var st []models.ResourceState
			if err := tx.DB.WithContext(ctx).Table("resources").Where("id = ?", *o.ResourceID).Pluck("state", &st).Error; err != nil {
				return models.Internal(err)
			}
			if len(st) > 0 && st[0] != models.ResourceTerminated {
				if err := tx.SetResourceState(ctx, *o.ResourceID, models.ResourceTerminated, tx.Now()); err != nil {
					return err
				}
			}
			if err := tx.removeScope(ctx, k.offeringType(), *o.ResourceID, Snapshot{}); err != nil {
				return err
			}
		}
		if k == KindNetwork {
			if err := tx.DB.WithContext(ctx).Exec("DELETE FROM openstack_subnets WHERE network_id = ?", o.ID).Error; err != nil {
				return models.Internal(err)
			}
		}
		if err := tx.deleteStorageChildren(ctx, o); err != nil {
			return err
		}
		return store.Translate(tx.DB.WithContext(ctx).Exec("DELETE FROM "+k.table()+" WHERE id = ?", o.ID).Error, k.Noun())
	})
}

// PendingAction is an action scheduled on an object whose run may not have
// started.
type PendingAction struct {
	Kind   Kind
	UUID   models.UUID
	Action string
}

// PendingActions lists objects scheduled for an action before cutoff and
// not begun: the dispatcher starts their runs (a run already going is not
// started twice: its workflow id is the object's and the action's).
func (s *Store) PendingActions(ctx context.Context, cutoff time.Time) ([]PendingAction, error) {
	var out []PendingAction
	for _, k := range append(append(append(append([]Kind{}, actionKinds...), l3Kinds...), storageKinds...), KindRBACPolicy) {
		var rows []struct {
			UUID   models.UUID
			Action string
		}
		if err := s.DB.WithContext(ctx).Table(k.table()).Select("uuid, action").
			Where("state IN ? AND action <> '' AND modified < ?",
				[]models.CoreState{models.CoreUpdateScheduled, models.CoreCreationScheduled, models.CoreDeletionScheduled}, cutoff).Order("id").Limit(500).Scan(&rows).Error; err != nil {
			return nil, models.Internal(err)
		}
		for _, r := range rows {
			out = append(out, PendingAction{Kind: k, UUID: r.UUID, Action: r.Action})
		}
	}
	return out, nil
}

// columnOf reads one column of an object's row (the zero value when the
// row is gone).
func columnOf[T any](ctx context.Context, s *Store, k Kind, id int64, col string) (T, error) {
	var v []T
	var zero T
	if err := s.DB.WithContext(ctx).Table(k.table()).Where("id = ?", id).Limit(1).Pluck(col, &v).Error; err != nil {
		return zero, store.Translate(err, k.Noun())
	}
	if len(v) == 0 {
		return zero, nil
	}
	return v[0], nil
}
