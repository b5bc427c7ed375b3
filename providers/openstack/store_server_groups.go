package openstack

import (
	"context"
	"fmt"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the server groups, snapshots and backups (in a
// tenant, with their own routes: api_server_groups.go, ...): their kinds,
// events, and a tenant's pull_server_groups applied.

// storageKinds are the kinds of this family (their rows carry actions).
var storageKinds = []Kind{KindServerGroup, KindSnapshot, KindBackup}

func isStorageKind(k Kind) bool { return k == KindServerGroup || k == KindSnapshot || k == KindBackup }

// storageOfferingTypes are the kinds' resource types in events and views.
var storageOfferingTypes = map[Kind]string{KindServerGroup: "OpenStack.ServerGroup", KindSnapshot: "OpenStack.Snapshot",
	KindBackup: "OpenStack.Backup"}

// Waldur's event types of the family's actions: openstack_server_group_*
// for server groups; a snapshot's and a backup's are a resource's
// (resource_creation_*, resource_backup_creation_*, ...).
func init() {
	for key, ev := range map[string]actionEvent{
		"server_group:create": {"", "", "openstack_server_group_created", "%s %s has been created.", "", ""},
		"server_group:pull":   {"", "", "openstack_server_group_pulled", "%s %s has been pulled.", "", ""},
		"server_group:delete": {"", "", "openstack_server_group_deleted", "%s %s has been deleted.", "", ""},
		"snapshot:create": {"resource_creation_scheduled", "%s %s creation has been scheduled.", "resource_creation_succeeded",
			"%s %s has been created.", "resource_creation_failed", "%s %s creation has failed: %s"},
		"snapshot:update": {"", "", "resource_update_succeeded", "%s %s has been updated.", "", ""},
		"snapshot:pull": {"resource_pull_scheduled", "%s %s pull has been scheduled.", "resource_pull_succeeded", "%s %s has been pulled.",
			"resource_pull_failed", "%s %s pull has failed: %s"},
		"snapshot:delete": {"resource_deletion_scheduled", "%s %s deletion has been scheduled.", "resource_deletion_succeeded",
			"%s %s has been deleted.", "resource_deletion_failed", "%s %s deletion has failed: %s"},
		"backup:create": {"resource_backup_creation_scheduled", "%s %s creation has been scheduled.", "resource_backup_creation_succeeded",
			"%s %s has been created.", "resource_backup_creation_failed", "%s %s creation has failed: %s"},
		"backup:update": {"", "", "resource_update_succeeded", "%s %s has been updated.", "", ""},
		"backup:pull": {"resource_pull_scheduled", "%s %s pull has been scheduled.", "resource_pull_succeeded", "%s %s has been pulled.",
			"resource_pull_failed", "%s %s pull has failed: %s"},
		"backup:delete": {"resource_backup_deletion_scheduled", "%s %s deletion has been scheduled.", "resource_backup_deletion_succeeded",
			"%s %s has been deleted.", "resource_backup_deletion_failed", "%s %s deletion has failed: %s"},
	} {
		kindActionEvents[key] = ev
	}
}

// applyServerGroups records a tenant's server groups as the cloud listed
// them (its pull_server_groups): a known group takes the cloud's name and
// policy (openstack_server_group_pulled), an unknown one is imported
// (openstack_server_group_imported), a row whose group is gone is removed
// (openstack_server_group_cleaned). Rows busy with an action or not made
// yet are left alone, and a group such a row is making is not imported.
func (s *Store) applyServerGroups(ctx context.Context, t *ActionObject, groups []CloudServerGroup) error {
	db := s.DB.WithContext(ctx)
	var rows []struct {
		ID        int64
		UUID      models.UUID
		Name      string
		BackendID string
		Policy    string
		State     models.CoreState
	}
	if err := db.Table("openstack_server_groups").Select("id, uuid, name, backend_id, policy, state").
		Where("tenant_id = ?", t.TenantID).Order("id").Scan(&rows).Error; err != nil {
		return models.Internal(err)
	}
	cloud := map[string]CloudServerGroup{}
	for _, g := range groups {
		cloud[g.BackendID] = g
	}
	known, making := map[string]bool{}, map[string]bool{}
	emit := func(uuid models.UUID, name, typ, msg string) error {
		o := &ActionObject{Kind: KindServerGroup, UUID: uuid, Name: name, ProjectID: t.ProjectID, CustomerID: t.CustomerID}
		return s.emitObjectEvent(ctx, o, typ, fmt.Sprintf(msg, name))
	}
	for _, r := range rows {
		known[r.BackendID] = true
		if busy(r.State) || isPending(r.BackendID) {
			making[r.Name] = true
			continue
		}
		g, ok := cloud[r.BackendID]
		if !ok {
			if err := db.Exec("DELETE FROM openstack_server_groups WHERE id = ?", r.ID).Error; err != nil {
				return models.Internal(err)
			}
			if err := emit(r.UUID, r.Name, "openstack_server_group_cleaned", "Server group %s has been cleaned from the database."); err != nil {
				return err
			}
			continue
		}
		if g.Name != r.Name || g.Policy != r.Policy {
			if err := s.setRow(ctx, "openstack_server_groups", r.ID, map[string]any{"name": g.Name, "policy": g.Policy}); err != nil {
				return err
			}
			if err := emit(r.UUID, g.Name, "openstack_server_group_pulled", "Server group %s has been pulled from the backend."); err != nil {
				return err
			}
		}
	}
	for _, g := range groups {
		if known[g.BackendID] || making[g.Name] {
			continue
		}
		now := s.Now()
		id := models.NewUUID()
		if err := db.Table("openstack_server_groups").Create(map[string]any{"uuid": id, "tenant_id": t.TenantID, "backend_id": g.BackendID,
			"name": g.Name, "description": "", "policy": g.Policy, "state": models.CoreOK, "error_message": "", "action": "",
			"action_details": rawJSON(map[string]any{}), "created": now, "modified": now}).Error; err != nil {
			return store.Translate(err, "Server group")
		}
		if err := emit(id, g.Name, "openstack_server_group_imported", "Server group %s has been imported to the database."); err != nil {
			return err
		}
	}
	return nil
}
