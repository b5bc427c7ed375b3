package openstack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/providers"
)

// The backend half of the objects' actions (Waldur's per-object actions of
// tenants, instances and volumes): RunAction performs one action on one
// object in its cloud, on the openstack queue. It reads no database: the
// core resolves everything into an ActionRequest (workflow_actions.go runs it).
//
// Every action looks before it acts and waits for its target status, so an
// activity retried after a crash or a lost answer does not act twice: a
// server in VERIFY_RESIZE is confirmed, not resized again; a volume as large
// as asked is not extended; an action under way (RESIZE, REBOOT,
// powering-on, extending, retyping, detaching) is waited for.

// ActivityRunAction is the name RunAction is registered under on the
// openstack queue (workflow.ExecuteActivity(ctx, ActivityRunAction, req)).
const ActivityRunAction = "OpenStackRunAction"

// ActionRequest is what the core resolved for one action on one object.
type ActionRequest struct {
	// ActionID is the idempotency key of this run (not sent to the cloud).
	ActionID        string     `json:"action_id"`
	Connection      Connection `json:"connection"`
	TenantBackendID string     `json:"tenant_backend_id"`
	// Kind is "tenant", "instance" or "volume".
	Kind string `json:"kind"`
	// BackendID is the object's id in the cloud (a tenant's: its Keystone project id).
	BackendID string `json:"backend_id"`
	// Action is one of the kind's actions (see SupportsAction).
	Action string `json:"action"`
	// Name and Description are the object's values for "update": both are
	// set (an empty Name leaves the name alone; Description is set as is).
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Flavor is change_flavor's target (its BackendID is what counts).
	Flavor CloudFlavor `json:"flavor,omitempty"`
	// Size is extend's new size in MiB (rounded up to whole GiB).
	Size int64 `json:"size,omitempty"`
	// InstanceBackendID is the server attach attaches to.
	InstanceBackendID string `json:"instance_backend_id,omitempty"`
	// VolumeType is retype's type name.
	VolumeType string `json:"volume_type,omitempty"`
	// Length is console_log's number of lines from the end (0: all).
	Length int `json:"length,omitempty"`
	// Quotas are set_quotas' limits, named as pushQuotas (and an Update
	// order's limits) name them: cores, ram (MiB), storage (MiB),
	// instances, volumes, snapshots, security_group_count,
	// security_group_rule_count.
	Quotas map[string]int64 `json:"quotas,omitempty"`
	// UserUsername and UserPassword are change_password's tenant user and
	// its new password.
	UserUsername string `json:"user_username,omitempty"`
	UserPassword string `json:"user_password,omitempty"`
	// Rules are a security group's rules wanted (create, set_rules): the
	// group ends with exactly these.
	Rules []CloudRule `json:"rules,omitempty"`
	// MTU is a network's MTU (set_mtu).
	MTU int `json:"mtu,omitempty"`
	// NetworkBackendID is the network a subnet is made in.
	NetworkBackendID string `json:"network_backend_id,omitempty"`
	// Subnet is a subnet to make (its CIDR, gateway ("" none), pools, DNS).
	Subnet *CloudSubnet `json:"subnet,omitempty"`
	// L3 is what the actions of ports, routers and floating IPs need
	// (actions_port_backend.go).
	L3 *L3Request `json:"l3,omitempty"`
	// Storage is what the actions of server groups, snapshots and backups
	// need (actions_snapshot_backend.go).
	Storage *StorageRequest `json:"storage,omitempty"`
	// InstanceNet is what an instance's network actions need
	// (actions_instance_network_backend.go).
	InstanceNet *InstanceNetRequest `json:"instance_net,omitempty"`
	// PushGroups is a tenant's push_security_groups
	// (actions_push_security_groups_backend.go).
	PushGroups *PushSecurityGroupsRequest `json:"push_groups,omitempty"`
	// Restore is an instance's create from a backup
	// (actions_backup_restore_backend.go).
	Restore *BackupRestoreRequest `json:"restore,omitempty"`
	// RBAC is a network RBAC policy's create
	// (actions_rbac_policy_backend.go).
	RBAC *RBACPolicyRequest `json:"rbac,omitempty"`
}

// ActionResult is what the action read back after it (only what the
// action changes is set, plus RuntimeState).
type ActionResult struct {
	// RuntimeState is the server's status or the volume's status after the action.
	RuntimeState string       `json:"runtime_state,omitempty"`
	Flavor       *CloudFlavor `json:"flavor,omitempty"` // change_flavor: the server's flavor
	Size         int64        `json:"size,omitempty"`   // volume: MiB
	Device       string       `json:"device,omitempty"` // volume: where it is attached
	// InstanceBackendID is the server the volume is attached to ("" when detached).
	InstanceBackendID string `json:"instance_backend_id,omitempty"`
	VolumeType        string `json:"volume_type,omitempty"`
	Output            string `json:"output,omitempty"` // console_log
	// Quotas are a tenant's quotas read back after set_quotas.
	Quotas []CloudQuota `json:"quotas,omitempty"`
	// Servers and Volumes are a tenant's backend_instances and
	// backend_volumes: those no order made.
	Servers []CloudServer `json:"servers,omitempty"`
	Volumes []CloudVolume `json:"volumes,omitempty"`
	// BackendID is the id of the object a create made (or found).
	BackendID string `json:"backend_id,omitempty"`
	// Rules are a security group's rules read back.
	Rules []CloudRule `json:"rules,omitempty"`
	// MTU is a network's MTU read back; Subnet a subnet read back.
	MTU    int          `json:"mtu,omitempty"`
	Subnet *CloudSubnet `json:"subnet,omitempty"`
	// L3 is a port, router or floating IP read back.
	L3 *L3Result `json:"l3,omitempty"`
	// ServerGroups are a tenant's server groups (pull_server_groups);
	// Storage a server group, snapshot or backup read back.
	ServerGroups []CloudServerGroup `json:"server_groups,omitempty"`
	Storage      *StorageResult     `json:"storage,omitempty"`
	// InstanceNet is an instance read back after a network action.
	InstanceNet *InstanceNetResult `json:"instance_net,omitempty"`
	// SecurityGroups are a tenant's groups read back after push_security_groups.
	SecurityGroups []CloudSecurityGroup `json:"security_groups,omitempty"`
}

// actionsOf lists each kind's actions.
var actionsOf = map[string][]string{
	"tenant": {"update", "set_quotas", "change_password", "backend_instances", "backend_volumes", "pull_server_groups",
		"push_security_groups"},
	"instance": {"update", "start", "stop", "restart", "change_flavor", "console_log", "update_floating_ips",
		"update_security_groups", "update_ports", "update_allowed_address_pairs", "console", "create"},
	"volume": {"update", "extend", "attach", "detach", "retype"},
	// The objects in a tenant: made and deleted through the API.
	"security_group": {"create", "update", "set_rules", "delete"},
	"network":        {"create", "update", "set_mtu", "delete"},
	"subnet":         {"create", "update", "delete"},
	"port": {"create", "update", "enable_port", "disable_port", "enable_port_security", "disable_port_security",
		"update_port_ip", "update_security_groups", "delete"},
	"router":       {"create", "add_router_interface", "remove_router_interface", "set_routes", "delete"},
	"floating_ip":  {"create", "attach_to_port", "detach_from_port", "update_description", "delete"},
	"server_group": {"create", "pull", "delete"},
	"snapshot":     {"create", "update", "pull", "restore", "delete"},
	"backup":       {"create", "update", "pull", "delete"},
	// a network's RBAC policy: actions_rbac_policy_backend.go
	"network_rbac_policy": {"create", "update_policy", "delete"},
}

// SupportsAction reports whether RunAction performs action on kind.
func SupportsAction(kind, action string) bool { return slices.Contains(actionsOf[kind], action) }

// RunAction performs one action on one object and reads back what it
// changed. Refusals a retry cannot change (a bad request, a stopped server
// to restart, a volume attached elsewhere, 4xx answers by classify's rule)
// and objects gone from the cloud are providers.Permanent; a gone object's
// error carries models.CodeNotFound, a refusal of the object's state
// models.CodeConflict, a malformed request models.CodeInvalid.
func (p *Provider) RunAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	res, err := p.runAction(ctx, req)
	return res, classify(err)
}

func (p *Provider) runAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	if !SupportsAction(req.Kind, req.Action) {
		return ActionResult{}, refuse(models.CodeInvalid, "OpenStack %s objects have no action %q", req.Kind, req.Action)
	}
	if req.Connection.AuthURL == "" {
		return ActionResult{}, refuse(models.CodeInvalid, "the action names no OpenStack cloud (connection)")
	}
	if req.BackendID == "" && req.Action != "create" && req.Action != "delete" {
		return ActionResult{}, refuse(models.CodeInvalid, "the %s has no backend id", req.Kind)
	}
	if req.Kind == "tenant" {
		return p.tenantAction(ctx, req)
	}
	if req.TenantBackendID == "" {
		return ActionResult{}, refuse(models.CodeInvalid, "the %s names no tenant", req.Kind)
	}
	s, err := p.actionSession(ctx, req.Connection, req.TenantBackendID)
	if err != nil {
		return ActionResult{}, err
	}
	switch req.Kind {
	case "instance":
		return p.instanceAction(ctx, s, req)
	case "security_group":
		return p.securityGroupAction(ctx, s, req)
	case "network", "subnet":
		return p.networkAction(ctx, s, req)
	case "port":
		return p.portAction(ctx, s, req)
	case "router":
		return p.routerAction(ctx, s, req)
	case "floating_ip":
		return p.floatingIPAction(ctx, s, req)
	case "server_group":
		return p.serverGroupAction(ctx, s, req)
	case "snapshot":
		return p.snapshotAction(ctx, s, req)
	case "backup":
		return p.backupAction(ctx, s, req)
	case "network_rbac_policy":
		return p.rbacPolicyAction(ctx, s, req)
	}
	return p.volumeAction(ctx, s, req)
}

// refuse is a permanent refusal with an application code.
func refuse(code models.Code, format string, args ...any) error {
	return providers.Permanent(models.Errorf(code, format, args...))
}

func goneError(what, id string) error {
	return refuse(models.CodeNotFound, "%s %s no longer exists in the cloud", what, id)
}

// actionSession is the session of the tenant's project; a project gone
// from the cloud is a permanent error saying so.
func (p *Provider) actionSession(ctx context.Context, conn Connection, project string) (*session, error) {
	s, err := p.session(ctx, conn, project)
	if err == nil {
		return s, nil
	}
	if notFound(err) || statusOf(err) == 401 {
		if adm, aerr := p.session(ctx, conn, ""); aerr == nil {
			if _, gerr := projects.Get(ctx, adm.identity, project).Extract(); notFound(gerr) {
				return nil, goneError("tenant (project)", project)
			}
		}
	}
	return nil, err
}

// updateProject renames a tenant's Keystone project and sets its
// description; a name another project of the domain has is refused.
func (p *Provider) updateProject(ctx context.Context, req ActionRequest) (ActionResult, error) {
	adm, err := p.session(ctx, req.Connection, "")
	if err != nil {
		return ActionResult{}, err
	}
	err = p.step(ctx, "updating the project", func() error {
		cur, err := projects.Get(ctx, adm.identity, req.BackendID).Extract()
		if notFound(err) {
			return goneError("tenant (project)", req.BackendID)
		} else if err != nil {
			return err
		}
		if cur.Name == firstNonEmpty(req.Name, cur.Name) && cur.Description == req.Description {
			return nil
		}
		opts := projects.UpdateOpts{Description: &req.Description}
		if req.Name != "" && req.Name != cur.Name {
			found, err := projectsNamed(ctx, adm, req.Name)
			if err != nil {
				return err
			}
			for _, o := range found {
				if o.ID != cur.ID {
					return refuse(models.CodeConflict, "a project named %q exists in the cloud already", req.Name)
				}
			}
			opts.Name = req.Name
		}
		_, err = projects.Update(ctx, adm.identity, req.BackendID, opts).Extract()
		return err
	})
	return ActionResult{}, err
}

// tenantAction runs a tenant's action: update renames the project;
// set_quotas pushes the quotas (as an Update order's limits are pushed)
// and reads them back; change_password sets the tenant user's password in
// Keystone (the user is made again if it is gone); backend_instances and
// backend_volumes list the servers and volumes no order made.
func (p *Provider) tenantAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	switch req.Action {
	case "update":
		return p.updateProject(ctx, req)
	case "backend_instances", "backend_volumes":
		return p.tenantBackendObjects(ctx, req)
	case "pull_server_groups":
		return p.pullServerGroups(ctx, req)
	case "push_security_groups": // actions_push_security_groups_backend.go
		return p.pushSecurityGroups(ctx, req)
	}
	adm, err := p.session(ctx, req.Connection, "")
	if err != nil {
		return ActionResult{}, err
	}
	err = p.step(ctx, "reading the project", func() error {
		_, err := projects.Get(ctx, adm.identity, req.BackendID).Extract()
		if notFound(err) {
			return goneError("tenant (project)", req.BackendID)
		}
		return err
	})
	if err != nil {
		return ActionResult{}, err
	}
	if req.Action == "change_password" {
		if req.UserUsername == "" || req.UserPassword == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "change_password names no tenant user or password")
		}
		return ActionResult{}, p.ensureTenantUser(ctx, adm, req.BackendID, req.UserUsername, req.UserPassword)
	}
	if err := p.pushQuotas(ctx, adm, req.BackendID, req.Quotas); err != nil {
		return ActionResult{}, err
	}
	s, err := p.actionSession(ctx, req.Connection, req.BackendID)
	if err != nil {
		return ActionResult{}, err
	}
	var res ActionResult
	err = p.step(ctx, "reading the quotas back", func() error {
		var err error
		res.Quotas, err = readQuotas(ctx, s, req.BackendID)
		return err
	})
	return res, err
}

// tenantBackendObjects lists a tenant's servers or volumes that no order
// made (what an import could take).
func (p *Provider) tenantBackendObjects(ctx context.Context, req ActionRequest) (ActionResult, error) {
	s, err := p.actionSession(ctx, req.Connection, req.BackendID)
	if err != nil {
		return ActionResult{}, err
	}
	res := ActionResult{}
	if req.Action == "backend_volumes" {
		vs, err := p.foreignVolumes(ctx, s, req.BackendID)
		res.Volumes = []CloudVolume{}
		for _, v := range vs {
			res.Volumes = append(res.Volumes, volumeOf(v))
		}
		return res, err
	}
	svs, err := p.foreignServers(ctx, s, req.BackendID)
	res.Servers = []CloudServer{}
	for _, sv := range svs {
		res.Servers = append(res.Servers, CloudServer{BackendID: sv.ID, Name: sv.Name, Status: sv.Status, KeyName: sv.KeyName,
			AvailabilityZone: sv.AvailabilityZone, Metadata: sv.Metadata, Created: sv.Created, Fault: sv.Fault.Message})
	}
	return res, err
}

// Instances.

// serverBusy are the statuses of a server in a transition (besides a task state).
var serverBusy = []string{"BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "REVERT_RESIZE", "MIGRATING", "REBUILD", "PASSWORD"}

func transitional(sv *servers.Server) bool {
	return sv.TaskState != "" || slices.Contains(serverBusy, sv.Status)
}

// getServer reads a server; one gone (or being deleted) is a permanent error.
func getServer(ctx context.Context, s *session, id string) (*servers.Server, error) {
	sv, err := servers.Get(ctx, s.compute, id).Extract()
	if notFound(err) {
		return nil, goneError("server", id)
	} else if err != nil {
		return nil, err
	}
	if sv.TaskState == "deleting" || sv.Status == "DELETED" || sv.Status == "SOFT_DELETED" {
		return nil, goneError("server", id)
	}
	return sv, nil
}

// settledServer waits until the server is in no transition and returns it.
func (p *Provider) settledServer(ctx context.Context, s *session, id string) (*servers.Server, error) {
	var sv *servers.Server
	err := p.waitFor(ctx, "server "+id+" to finish what it is doing", p.opts.ServerTimeout, func() (bool, error) {
		var err error
		sv, err = getServer(ctx, s, id)
		return err == nil && !transitional(sv), err
	})
	return sv, err
}

func flavorID(sv *servers.Server) string {
	id, _ := sv.Flavor["id"].(string)
	return id
}

func (p *Provider) instanceAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	id := req.BackendID
	var err error
	switch req.Action {
	case "update":
		err = p.step(ctx, "renaming the server", func() error {
			cc := *s.compute
			cc.Microversion = "2.19" // a server's description
			_, err := servers.Update(ctx, &cc, id, serverRename{Name: req.Name, Description: req.Description}).Extract()
			if notFound(err) {
				return goneError("server", id)
			}
			return err
		})
	case "start":
		err = p.powerServer(ctx, s, id, "starting the server", "ACTIVE", "SHUTOFF", func() error {
			return servers.Start(ctx, s.compute, id).ExtractErr()
		})
	case "stop":
		err = p.powerServer(ctx, s, id, "stopping the server", "SHUTOFF", "ACTIVE", func() error {
			return servers.Stop(ctx, s.compute, id).ExtractErr()
		})
	case "restart":
		err = p.restartServer(ctx, s, id)
	case "change_flavor":
		return p.resizeServer(ctx, s, id, req.Flavor.BackendID)
	case "update_floating_ips": // actions_floating_ip_backend.go
		return p.updateInstanceFloatingIPs(ctx, s, req)
	case "update_security_groups", "update_ports", "update_allowed_address_pairs", "console": // actions_instance_network_backend.go
		return p.instanceNetworkAction(ctx, s, req)
	case "create": // from a backup: actions_backup_restore_backend.go
		return p.restoreBackup(ctx, s, req)
	case "console_log":
		var out string
		err = p.step(ctx, "reading the console log", func() error {
			if _, err := getServer(ctx, s, id); err != nil {
				return err
			}
			var err error
			out, err = servers.ShowConsoleOutput(ctx, s.compute, id, servers.ShowConsoleOutputOpts{Length: req.Length}).Extract()
			return err
		})
		return ActionResult{Output: out}, err
	}
	if err != nil {
		return ActionResult{}, err
	}
	return p.serverResult(ctx, s, id, false)
}

// serverRename is a server update of its name (when not empty) and description (microversion 2.19).
type serverRename struct{ Name, Description string }

func (o serverRename) ToServerUpdateMap() (map[string]any, error) {
	m := map[string]any{"description": o.Description}
	if o.Name != "" {
		m["name"] = o.Name
	}
	return map[string]any{"server": m}, nil
}

// powerServer starts or stops a server: once it is settled, a server in
// target is left alone, one in from gets act, any other status is refused;
// then it waits for target.
func (p *Provider) powerServer(ctx context.Context, s *session, id, what, target, from string, act func() error) error {
	err := p.step(ctx, what, func() error {
		sv, err := p.settledServer(ctx, s, id)
		if err != nil {
			return err
		}
		switch sv.Status {
		case target:
			return nil
		case from:
			return act()
		}
		return refuse(models.CodeConflict, "server %s is %s: %s needs it %s", sv.Name, sv.Status, what, from)
	})
	if err != nil {
		return err
	}
	return p.waitServerIn(ctx, s, id, target)
}

// restartServer soft-reboots an ACTIVE server (a reboot under way is
// waited for, not repeated) and waits until it is ACTIVE again; a SHUTOFF
// server is refused.
func (p *Provider) restartServer(ctx context.Context, s *session, id string) error {
	err := p.step(ctx, "restarting the server", func() error {
		sv, err := getServer(ctx, s, id)
		if err != nil {
			return err
		}
		if sv.Status == "REBOOT" || sv.Status == "HARD_REBOOT" {
			return nil
		}
		if sv, err = p.settledServer(ctx, s, id); err != nil {
			return err
		}
		switch sv.Status {
		case "ACTIVE":
			return servers.Reboot(ctx, s.compute, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr()
		case "SHUTOFF":
			return refuse(models.CodeConflict, "server %s is SHUTOFF: start it instead of restarting it", sv.Name)
		}
		return refuse(models.CodeConflict, "server %s is %s: only an ACTIVE server can be restarted", sv.Name, sv.Status)
	})
	if err != nil {
		return err
	}
	return p.waitServerIn(ctx, s, id, "ACTIVE")
}

// resizeServer moves a server to flavor: resize, wait for VERIFY_RESIZE,
// confirm, wait until it is ACTIVE or SHUTOFF (as it was). It never
// resizes twice: a server on the flavor already is left alone, one
// resizing is waited for, one in VERIFY_RESIZE to the flavor is confirmed.
func (p *Provider) resizeServer(ctx context.Context, s *session, id, flavor string) (ActionResult, error) {
	if flavor == "" {
		return ActionResult{}, refuse(models.CodeInvalid, "change_flavor names no flavor")
	}
	err := p.step(ctx, "resizing the server", func() error {
		sv, err := getServer(ctx, s, id)
		if err != nil {
			return err
		}
		if sv.Status == "RESIZE" {
			return nil // ours, under way (a resize's answer was lost)
		}
		if sv, err = p.settledServer(ctx, s, id); err != nil {
			return err
		}
		switch {
		case sv.Status == "VERIFY_RESIZE" && flavorID(sv) == flavor:
			return nil // resized, to be confirmed
		case sv.Status == "VERIFY_RESIZE":
			return refuse(models.CodeConflict, "server %s awaits the confirmation of a resize to flavor %s", sv.Name, flavorID(sv))
		case flavorID(sv) == flavor:
			return nil // done already
		case sv.Status != "ACTIVE" && sv.Status != "SHUTOFF":
			return refuse(models.CodeConflict, "server %s is %s: only an ACTIVE or SHUTOFF server can change its flavor", sv.Name, sv.Status)
		}
		err = servers.Resize(ctx, s.compute, id, servers.ResizeOpts{FlavorRef: flavor}).ExtractErr()
		if notFound(err) {
			return providers.Permanent(fmt.Errorf("flavor %s: %w", flavor, err))
		}
		return err
	})
	if err != nil {
		return ActionResult{}, err
	}
	err = p.waitFor(ctx, "server "+id+" to be resized", p.opts.ServerTimeout, func() (bool, error) {
		sv, err := getServer(ctx, s, id)
		switch {
		case err != nil:
			return false, err
		case sv.Status == "ERROR":
			return false, providers.Permanent(fmt.Errorf("server %s went to ERROR resizing: %s", sv.Name, firstNonEmpty(sv.Fault.Message, "no fault given")))
		case sv.Status == "VERIFY_RESIZE":
			return true, nil
		case transitional(sv):
			return false, nil
		case flavorID(sv) == flavor:
			return true, nil // the cloud confirmed it itself
		}
		return false, providers.Permanent(fmt.Errorf("server %s was not resized (it is %s on flavor %s): %s",
			sv.Name, sv.Status, flavorID(sv), firstNonEmpty(sv.Fault.Message, "no fault given")))
	})
	if err != nil {
		return ActionResult{}, err
	}
	err = p.step(ctx, "confirming the resize", func() error {
		sv, err := getServer(ctx, s, id)
		if err != nil || sv.Status != "VERIFY_RESIZE" {
			return err
		}
		return servers.ConfirmResize(ctx, s.compute, id).ExtractErr()
	})
	if err != nil {
		return ActionResult{}, err
	}
	if err := p.waitServerIn(ctx, s, id, "ACTIVE", "SHUTOFF"); err != nil {
		return ActionResult{}, err
	}
	return p.serverResult(ctx, s, id, true)
}

// serverResult reads the server's status (and flavor) back.
func (p *Provider) serverResult(ctx context.Context, s *session, id string, withFlavor bool) (ActionResult, error) {
	var res ActionResult
	err := p.step(ctx, "reading the server back", func() error {
		sv, err := getServer(ctx, s, id)
		if err != nil {
			return err
		}
		res = ActionResult{RuntimeState: sv.Status}
		if withFlavor {
			f, err := flavors.Get(ctx, s.compute, flavorID(sv)).Extract()
			if err != nil {
				return err
			}
			res.Flavor = &CloudFlavor{BackendID: f.ID, Name: f.Name, Cores: f.VCPUs, RAM: int64(f.RAM), Disk: MiB(f.Disk)}
		}
		return nil
	})
	return res, err
}

// Volumes.

// getVolume reads a volume; one gone (or being deleted) is a permanent error.
func getVolume(ctx context.Context, s *session, id string) (*volumes.Volume, error) {
	v, err := volumes.Get(ctx, s.volume, id).Extract()
	if notFound(err) {
		return nil, goneError("volume", id)
	} else if err != nil {
		return nil, err
	}
	if v.Status == "deleting" {
		return nil, goneError("volume", id)
	}
	return v, nil
}

// volumeSettled: a volume in none of Cinder's transitions.
func volumeSettled(v *volumes.Volume) bool {
	return v.Status == "available" || v.Status == "in-use"
}

// settledVolume waits until the volume is available or in-use (a
// volume that is not, nor on its way there, is refused) and returns it.
func (p *Provider) settledVolume(ctx context.Context, s *session, id string) (*volumes.Volume, error) {
	var v *volumes.Volume
	err := p.step(ctx, "reading the volume", func() error {
		var err error
		v, err = getVolume(ctx, s, id)
		return err
	})
	if err != nil || volumeSettled(v) {
		return v, err
	}
	switch v.Status {
	case "creating", "attaching", "detaching", "extending", "retyping", "downloading", "uploading", "backing-up",
		"restoring-backup", "reserved", "maintenance", "awaiting-transfer":
	default:
		return nil, refuse(models.CodeConflict, "volume %s is %s", firstNonEmpty(v.Name, id), v.Status)
	}
	if err := p.waitVolume(ctx, s, id, "available", "in-use"); err != nil {
		return nil, err
	}
	return getVolume(ctx, s, id)
}

// goneVolume turns a 404 about the volume (its own read, or a call on it)
// into the permanent error saying it is gone.
func goneVolume(err error, id string) error {
	var perm *providers.PermanentError
	if err != nil && notFound(err) && !errors.As(err, &perm) {
		return goneError("volume", id)
	}
	return err
}

func (p *Provider) volumeAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	id := req.BackendID
	var err error
	switch req.Action {
	case "update":
		err = p.step(ctx, "updating the volume", func() error {
			opts := volumes.UpdateOpts{Description: &req.Description}
			if req.Name != "" {
				opts.Name = &req.Name
			}
			_, err := volumes.Update(ctx, s.volume, id, opts).Extract()
			return goneVolume(err, id)
		})
	case "extend":
		if req.Size <= 0 {
			return ActionResult{}, refuse(models.CodeInvalid, "extend gives no size (MiB)")
		}
		if _, err = p.settledVolume(ctx, s, id); err == nil {
			err = goneVolume(p.extend(ctx, s, id, req.Size), id)
		}
	case "attach":
		err = p.attachVolume(ctx, s, id, req.InstanceBackendID)
	case "detach":
		err = p.detachVolume(ctx, s, id)
	case "retype":
		err = p.retypeVolume(ctx, s, id, req.VolumeType)
	}
	if err != nil {
		return ActionResult{}, err
	}
	var res ActionResult
	err = p.step(ctx, "reading the volume back", func() error {
		v, err := getVolume(ctx, s, id)
		if err != nil {
			return err
		}
		cv := volumeOf(*v)
		res = ActionResult{RuntimeState: cv.Status, Size: cv.Size, Device: cv.Device, InstanceBackendID: cv.ServerBackendID, VolumeType: cv.TypeName}
		return nil
	})
	return res, err
}

// attachVolume attaches a volume to a server (one attached to it already
// is left alone, one attached elsewhere is refused) and waits until it is in-use.
func (p *Provider) attachVolume(ctx context.Context, s *session, id, server string) error {
	if server == "" {
		return refuse(models.CodeInvalid, "attach names no instance")
	}
	v, err := p.settledVolume(ctx, s, id)
	if err != nil {
		return err
	}
	for _, a := range v.Attachments {
		if a.ServerID != server {
			return refuse(models.CodeConflict, "volume %s is attached to server %s: detach it first", firstNonEmpty(v.Name, id), a.ServerID)
		}
	}
	if len(v.Attachments) == 0 {
		err := p.step(ctx, "reading the server", func() error {
			_, err := getServer(ctx, s, server)
			return err
		})
		if err != nil {
			return err
		}
	}
	return goneVolume(p.attach(ctx, s, server, id), id)
}

// detachVolume detaches a volume (an available one is left alone, one
// detaching is waited for) and waits until it is available.
func (p *Provider) detachVolume(ctx context.Context, s *session, id string) error {
	v, err := p.settledVolume(ctx, s, id)
	if err != nil {
		return err
	}
	if v.Status == "available" && len(v.Attachments) == 0 {
		return nil
	}
	return goneVolume(p.detach(ctx, s, id), id)
}

// retypeVolume changes a volume's type (migrating it when the backend
// needs to), unless it has that type already, and waits until it is
// available or in-use again.
func (p *Provider) retypeVolume(ctx context.Context, s *session, id, typ string) error {
	if typ == "" {
		return refuse(models.CodeInvalid, "retype names no volume type")
	}
	err := p.step(ctx, "retyping the volume", func() error {
		v, err := getVolume(ctx, s, id)
		if err != nil || v.Status == "retyping" {
			return err // a retype under way (its answer was lost) is waited for below
		}
		if v, err = p.settledVolume(ctx, s, id); err != nil || v.VolumeType == typ {
			return err
		}
		err = volumes.ChangeType(ctx, s.volume, id, volumes.ChangeTypeOpts{NewType: typ, MigrationPolicy: volumes.MigrationPolicyOnDemand}).ExtractErr()
		if notFound(err) {
			return providers.Permanent(fmt.Errorf("volume type %s: %w", typ, err))
		}
		return err
	})
	if err != nil {
		return err
	}
	return p.waitVolume(ctx, s, id, "available", "in-use")
}

// The activity.

// ActionBackend is the activity of the objects' actions on the openstack
// queue (registered as ActivityRunAction).
type ActionBackend struct {
	Provider *Provider
	// HeartbeatEvery is how often a running action reports liveness (5s).
	HeartbeatEvery time.Duration
}

// RunAction runs Provider.RunAction, heartbeating meanwhile; a permanent
// error is non-retryable, with its application code as the error's type.
func (a *ActionBackend) RunAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	defer activities.Heartbeat(ctx, a.HeartbeatEvery, req.Action)()
	res, err := a.Provider.RunAction(ctx, req)
	return res, activities.ProviderError(err)
}

// registerActionBackend registers the actions' cloud activity on an
// openstack-queue worker.
func registerActionBackend(w worker.Registry, a *ActionBackend) {
	w.RegisterActivityWithOptions(a.RunAction, activity.RegisterOptions{Name: ActivityRunAction})
}
