package openstack

import (
	"context"
	"encoding/json"
	"strings"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the ports', routers' and floating IPs' actions
// (store_actions.go runs them: actionRequest calls l3Request, FinishAction
// finishL3) and of their rows: the views the API renders, and the pull's
// record of a tenant's ports and routers (applyL3).
//
// What an action needs is recorded by the API in action_details in the
// shape of L3Request; l3Request completes it from the rows (the row's
// name and description, a port's network, the tenant's external network).

// l3Kinds are the kinds of this file's family (their own routes; the
// dispatcher starts their pending actions too).
var l3Kinds = []Kind{KindPort, KindRouter, KindFloatingIP}

func isL3Kind(k Kind) bool { return k == KindPort || k == KindRouter || k == KindFloatingIP }

// floatingIPMarker is the description a floating IP is made with until its
// create finishes: a retried create finds it by it.
func floatingIPMarker(id models.UUID) string { return "waldur-floating-ip-" + id.String() }

// l3Request resolves an action of a port, router or floating IP.
func (s *Store) l3Request(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	l3 := &L3Request{}
	if len(o.ActionDetails) > 0 {
		raw, err := json.Marshal(o.ActionDetails)
		if err != nil {
			return models.Internal(err)
		}
		if err := json.Unmarshal(raw, l3); err != nil {
			return models.Errorf(models.CodeInvalid, "The action of %s %s cannot be read: %v", o.Kind.Noun(), o.Name, err)
		}
	}
	req.L3 = l3
	var cur struct{ Name, Description string }
	if err := s.DB.WithContext(ctx).Table(o.Kind.table()).Select("name, description").Where("id = ?", o.ID).Scan(&cur).Error; err != nil {
		return models.Internal(err)
	}
	req.Name, req.Description = cur.Name, cur.Description
	if o.Kind == KindInstance { // update_floating_ips
		ext, err := columnOf[string](ctx, s, KindTenant, o.TenantID, "external_network_id")
		l3.ExternalNetworkID = ext
		return err
	}
	if o.Action != "create" {
		return nil
	}
	switch o.Kind {
	case KindPort:
		var net []string
		if err := s.DB.WithContext(ctx).Table("openstack_ports x").Joins("JOIN openstack_networks n ON n.id = x.network_id").
			Where("x.id = ?", o.ID).Pluck("n.backend_id", &net).Error; err != nil {
			return models.Internal(err)
		}
		if len(net) == 0 || net[0] == "" || isPending(net[0]) {
			return models.Errorf(models.CodeInvalid, "The network of port %s is not in the cloud.", o.Name)
		}
		if l3.Port == nil {
			l3.Port = &CloudPortInfo{PortSecurityEnabled: true}
		}
		l3.Port.NetworkBackendID = net[0]
	case KindRouter, KindFloatingIP:
		if l3.ExternalNetworkID == "" {
			ext, err := columnOf[string](ctx, s, KindTenant, o.TenantID, "external_network_id")
			if err != nil {
				return err
			}
			l3.ExternalNetworkID = ext
		}
		if o.Kind == KindFloatingIP {
			l3.Marker = floatingIPMarker(o.UUID)
		}
	}
	return nil
}

// finishL3 records what the cloud read back after an action of a port,
// router or floating IP.
func (s *Store) finishL3(ctx context.Context, o *ActionObject, action string, res ActionResult, updates map[string]any) error {
	if o.Kind == KindInstance {
		if action != "update_floating_ips" || res.L3 == nil {
			return nil
		}
		return s.recordFloatingIPs(ctx, o.TenantID, res.L3.FloatingIPs)
	}
	if res.BackendID != "" {
		updates["backend_id"] = res.BackendID
	}
	if res.L3 == nil {
		return nil
	}
	switch {
	case o.Kind == KindPort && res.L3.Port != nil:
		vals, err := s.portValues(ctx, o.TenantID, *res.L3.Port)
		if err != nil {
			return err
		}
		delete(vals, "name") // the row's name and description are the API's
		delete(vals, "description")
		switch action {
		case "create", "enable_port_security", "disable_port_security":
		default:
			delete(vals, "port_security_enabled") // not what this action changes
		}
		for k, v := range vals {
			updates[k] = v
		}
	case o.Kind == KindRouter && res.L3.Router != nil:
		for k, v := range routerValues(*res.L3.Router) {
			if k != "name" && k != "description" {
				updates[k] = v
			}
		}
		// Its interfaces are ports of the tenant: recorded at once.
		for _, pt := range res.L3.Router.Ports {
			if err := s.upsertPort(ctx, o.TenantID, pt); err != nil {
				return err
			}
		}
	case o.Kind == KindFloatingIP && res.L3.FloatingIP != nil:
		f := res.L3.FloatingIP
		updates["address"], updates["name"], updates["runtime_state"] = f.Address, f.Address, f.RuntimeState
		updates["backend_network_id"], updates["port_backend_id"], updates["fixed_ip"] = f.NetworkBackendID, f.PortBackendID, f.FixedIP
		updates["description"] = f.Description
	}
	return nil
}

// portValues are a port's columns (its network resolved in the tenant).
func (s *Store) portValues(ctx context.Context, tenantID int64, p CloudPortInfo) (map[string]any, error) {
	v := map[string]any{"name": p.Name, "description": p.Description, "mac_address": p.MACAddress,
		"fixed_ips": rawJSON(nonNilSlice(p.FixedIPs)), "allowed_address_pairs": rawJSON(nonNilSlice(p.AllowedAddressPairs)),
		"security_groups": rawJSON(nonNilSlice(p.SecurityGroups)), "device_id": p.DeviceID, "device_owner": p.DeviceOwner,
		"admin_state_up": p.AdminStateUp, "port_security_enabled": p.PortSecurityEnabled, "status": p.Status, "network_id": nil}
	var ids []int64
	if err := s.DB.WithContext(ctx).Table("openstack_networks").Where("tenant_id = ? AND backend_id = ?", tenantID, p.NetworkBackendID).
		Pluck("id", &ids).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(ids) > 0 {
		v["network_id"] = ids[0]
	}
	return v, nil
}

// upsertPort records a port read from the cloud: its row updated (unless
// an action is on it), or made.
func (s *Store) upsertPort(ctx context.Context, tenantID int64, p CloudPortInfo) error {
	v, err := s.portValues(ctx, tenantID, p)
	if err != nil {
		return err
	}
	return s.syncL3Rows(ctx, "openstack_ports", tenantID, []string{p.BackendID}, func(int) map[string]any { return v }, false)
}

// syncL3Rows makes a tenant's rows of table (ports or routers) the cloud's
// (ids, with their values): rows updated, new ones made and, when
// complete, rows missing from ids deleted. A row with an action on it
// (or not made in the cloud yet) is its action's and left alone, and a
// cloud object named as a row being made is not imported beside it.
func (s *Store) syncL3Rows(ctx context.Context, table string, tenantID int64, ids []string, values func(i int) map[string]any, complete bool) error {
	db := s.DB.WithContext(ctx)
	var have []struct {
		ID        int64
		BackendID string
		State     models.CoreState
		Name      string
	}
	if err := db.Table(table).Select("id, backend_id, state, name").Where("tenant_id = ?", tenantID).Scan(&have).Error; err != nil {
		return models.Internal(err)
	}
	byBackend := map[string]int64{}
	busyRow, creating := map[int64]bool{}, map[string]bool{}
	for _, h := range have {
		byBackend[h.BackendID] = h.ID
		if busy(h.State) || isPending(h.BackendID) {
			busyRow[h.ID] = true
			if isPending(h.BackendID) {
				creating[h.Name] = true
			}
		}
	}
	now := s.Now()
	keep := map[string]bool{}
	for i, id := range ids {
		if keep[id] {
			continue
		}
		keep[id] = true
		v := values(i)
		if rowID, ok := byBackend[id]; ok {
			if busyRow[rowID] {
				continue
			}
			v["modified"] = now
			if err := db.Table(table).Where("id = ?", rowID).Updates(v).Error; err != nil {
				return store.Translate(err, table)
			}
			continue
		}
		if name, _ := v["name"].(string); name != "" && creating[name] {
			continue
		}
		v["uuid"], v["tenant_id"], v["backend_id"], v["state"] = models.NewUUID(), tenantID, id, models.CoreOK
		v["error_message"], v["action"], v["action_details"], v["created"], v["modified"] = "", "", rawJSON(map[string]any{}), now, now
		if err := db.Table(table).Create(v).Error; err != nil {
			return store.Translate(err, table)
		}
	}
	if !complete {
		return nil
	}
	var gone []int64
	for _, h := range have {
		if !keep[h.BackendID] && !busyRow[h.ID] {
			gone = append(gone, h.ID)
		}
	}
	if len(gone) > 0 {
		return store.Translate(db.Exec("DELETE FROM "+table+" WHERE id IN ?", gone).Error, table)
	}
	return nil
}

// applyL3 records a tenant's ports and routers of a full snapshot.
func (s *Store) applyL3(ctx context.Context, tenantID int64, snap Snapshot) error {
	if !snap.Full || snap.Ports == nil && snap.Routers == nil {
		return nil // an order's read-back, or a snapshot of a cloud read without them
	}
	portVals := make([]map[string]any, len(snap.Ports))
	portIDs := make([]string, len(snap.Ports))
	for i, p := range snap.Ports {
		v, err := s.portValues(ctx, tenantID, p)
		if err != nil {
			return err
		}
		portVals[i], portIDs[i] = v, p.BackendID
	}
	if err := s.syncL3Rows(ctx, "openstack_ports", tenantID, portIDs, func(i int) map[string]any { return portVals[i] }, true); err != nil {
		return err
	}
	routerIDs := make([]string, len(snap.Routers))
	for i, r := range snap.Routers {
		routerIDs[i] = r.BackendID
	}
	return s.syncL3Rows(ctx, "openstack_routers", tenantID, routerIDs, func(i int) map[string]any { return routerValues(snap.Routers[i]) }, true)
}

// PortView is a port as the API renders it.
type PortView struct {
	CatalogItem         `gorm:"embedded"`
	NetworkID           *int64
	MACAddress          string
	FixedIPs            []byte `gorm:"column:fixed_ips"`
	AllowedAddressPairs []byte
	SecurityGroups      []byte
	DeviceID            string
	DeviceOwner         string
	PortSecurityEnabled bool
	AdminStateUp        bool
	Status              string
}

// portViews is the query over ports (alias x, its tenant t, its network n).
func (s *Store) portViews(ctx context.Context) *gorm.DB {
	q := s.DB.WithContext(ctx).Table("openstack_ports x").Joins("JOIN openstack_tenants t ON t.id = x.tenant_id").
		Joins("LEFT JOIN openstack_networks n ON n.id = x.network_id").
		Select("x.*, " + osContextColumns + ", n.uuid AS network_uuid, n.name AS network_name")
	return osJoins(q, "t")
}

// PortFilter narrows PortsQuery (Waldur's port filters).
type PortFilter struct {
	Filter
	NetworkUUIDs    []models.UUID
	DeviceID        string
	DeviceOwner     string
	AdminStateUp    *bool
	FixedIP         string
	ExcludeSubnets  []string // subnet backend ids
	InstanceBackend string   // the instance's server (device_id)
}

// PortsQuery returns the ports the caller may see, narrowed by f.
func (s *Store) PortsQuery(ctx context.Context, f PortFilter) (store.Query, error) {
	q, err := s.visible(ctx, s.portViews(ctx))
	if err != nil {
		return store.Query{}, err
	}
	q = f.apply(q, "x")
	if len(f.NetworkUUIDs) > 0 {
		q = q.Where("n.uuid IN ?", f.NetworkUUIDs)
	}
	if f.DeviceID != "" {
		q = q.Where("x.device_id = ?", f.DeviceID)
	}
	if f.DeviceOwner != "" {
		q = q.Where("x.device_owner = ?", f.DeviceOwner)
	}
	if f.AdminStateUp != nil {
		q = q.Where("x.admin_state_up = ?", *f.AdminStateUp)
	}
	if f.FixedIP != "" {
		q = q.Where("CAST(x.fixed_ips AS TEXT) LIKE ?", `%"`+likeEscape(f.FixedIP)+`"%`)
	}
	for _, sub := range f.ExcludeSubnets {
		q = q.Where("CAST(x.fixed_ips AS TEXT) NOT LIKE ?", `%"`+likeEscape(sub)+`"%`)
	}
	return store.QueryOf(q), nil
}

// likeEscape keeps LIKE's wildcards out of a value (addresses and ids
// have none; anything else is refused by matching nothing).
func likeEscape(s string) string {
	if strings.ContainsAny(s, `%_\`) {
		return "\x00"
	}
	return s
}

// VisiblePort loads a port the caller may see by its UUID or, as the
// instances' and floating IPs' port URLs name it, its backend id. Codes:
// not_found.
func (s *Store) VisiblePort(ctx context.Context, ref string) (*PortView, error) {
	q, err := s.visible(ctx, s.portViews(ctx))
	if err != nil {
		return nil, err
	}
	var v PortView
	if id, err := models.ParseUUID(ref); err == nil {
		q = q.Where("x.uuid = ? OR x.backend_id = ? OR x.backend_id = ?", id, ref, id.Dashed())
	} else {
		q = q.Where("x.backend_id = ?", ref)
	}
	res := q.Limit(1).Find(&v)
	if res.Error != nil {
		return nil, models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeNotFound, "No Port matches the given query.")
	}
	return &v, nil
}

// floatingIPsOfPorts lists the floating IPs on ports, by port backend id
// (uuid of each floating IP).
func (s *Store) floatingIPsOfPorts(ctx context.Context, tenantIDs []int64) (map[string][]models.UUID, error) {
	out := map[string][]models.UUID{}
	if len(tenantIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UUID          models.UUID
		PortBackendID string
	}
	if err := s.DB.WithContext(ctx).Table("openstack_floating_ips").Select("uuid, port_backend_id").
		Where("tenant_id IN ? AND port_backend_id <> ''", tenantIDs).Order("id").Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.PortBackendID] = append(out[r.PortBackendID], r.UUID)
	}
	return out, nil
}
