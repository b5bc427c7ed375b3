package openstack

import (
	"context"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The floating IPs' rows beyond the catalog's list and retrieve
// (store_query.go): the actions' side is store_ports.go's.

// floatingIPPortOK reports whether a port may take a floating IP of the
// tenant: a port of the same tenant, made in the cloud.
func (s *Store) floatingIPPortOK(ctx context.Context, tenantID int64, port *PortView) bool {
	return port.TenantID == tenantID && port.BackendID != "" && !isPending(port.BackendID)
}

// FloatingIPsOfInstance lists the floating IPs on the ports of an
// instance's server (their UUIDs).
func (s *Store) FloatingIPsOfInstance(ctx context.Context, tenantID int64, serverID string) ([]models.UUID, error) {
	var out []models.UUID
	if serverID == "" {
		return out, nil
	}
	err := s.DB.WithContext(ctx).Table("openstack_floating_ips f").
		Joins("JOIN openstack_ports p ON p.tenant_id = f.tenant_id AND p.backend_id = f.port_backend_id").
		Where("f.tenant_id = ? AND p.device_id = ?", tenantID, serverID).Order("f.id").Pluck("f.uuid", &out).Error
	if err != nil {
		return nil, models.Internal(err)
	}
	return out, nil
}

// recordFloatingIPs records floating IPs read from the cloud (an
// instance's update_floating_ips): their rows updated (unless an action is
// on them) or made; none is deleted (the pull does that).
func (s *Store) recordFloatingIPs(ctx context.Context, tenantID int64, fips []CloudFloatingIP) error {
	db := s.DB.WithContext(ctx)
	for _, f := range fips {
		v := map[string]any{"address": f.Address, "name": f.Address, "runtime_state": f.RuntimeState, "backend_network_id": f.NetworkBackendID,
			"port_backend_id": f.PortBackendID, "fixed_ip": f.FixedIP, "description": f.Description, "modified": s.Now()}
		var rows []struct {
			ID    int64
			State models.CoreState
		}
		if err := db.Table("openstack_floating_ips").Select("id, state").Where("tenant_id = ? AND backend_id = ?", tenantID, f.BackendID).
			Scan(&rows).Error; err != nil {
			return models.Internal(err)
		}
		if len(rows) > 0 {
			if busy(rows[0].State) {
				continue
			}
			if err := db.Table("openstack_floating_ips").Where("id = ?", rows[0].ID).Updates(v).Error; err != nil {
				return store.Translate(err, "Floating IP")
			}
			continue
		}
		v["uuid"], v["tenant_id"], v["backend_id"], v["state"], v["created"] = models.NewUUID(), tenantID, f.BackendID, models.CoreOK, s.Now()
		v["action"], v["action_details"], v["error_message"] = "", rawJSON(map[string]any{}), ""
		if err := db.Table("openstack_floating_ips").Create(v).Error; err != nil {
			return store.Translate(err, "Floating IP")
		}
	}
	return nil
}
