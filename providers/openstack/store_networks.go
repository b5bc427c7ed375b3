package openstack

import (
	"context"
	"encoding/json"

	"github.com/waldur-go/waldur/models"
)

// The database side of the networks' and subnets' actions (create,
// update, set_mtu, delete: store_actions.go runs them).

// networkRequest resolves a network's create or set_mtu, or a subnet's
// create (its network's backend id and what the API recorded).
func (s *Store) networkRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	var cur struct{ Name, Description string }
	if err := s.DB.WithContext(ctx).Table(o.Kind.table()).Select("name, description").Where("id = ?", o.ID).Scan(&cur).Error; err != nil {
		return models.Internal(err)
	}
	req.Name, req.Description = cur.Name, cur.Description
	if o.Kind == KindNetwork {
		req.MTU = int(number(o.ActionDetails["mtu"]))
		return nil
	}
	var net []string
	if err := s.DB.WithContext(ctx).Table("openstack_subnets x").Joins("JOIN openstack_networks n ON n.id = x.network_id").
		Where("x.id = ?", o.ID).Pluck("n.backend_id", &net).Error; err != nil {
		return models.Internal(err)
	}
	if len(net) == 0 || net[0] == "" || isPending(net[0]) {
		return models.Errorf(models.CodeInvalid, "The network of subnet %s is not in the cloud.", o.Name)
	}
	req.NetworkBackendID = net[0]
	raw, err := json.Marshal(o.ActionDetails["subnet"])
	if err != nil {
		return models.Internal(err)
	}
	req.Subnet = &CloudSubnet{}
	if err := json.Unmarshal(raw, req.Subnet); err != nil {
		return models.Errorf(models.CodeInvalid, "Subnet %s cannot be read: %v", o.Name, err)
	}
	req.Subnet.Name, req.Subnet.Description, req.Subnet.NetworkBackendID = cur.Name, cur.Description, net[0]
	return nil
}

// finishNetwork records what the cloud read back after a network's or a
// subnet's action: its id (a create), a network's MTU, a subnet's gateway
// and pools.
func finishNetwork(res ActionResult, updates map[string]any) {
	if res.BackendID != "" {
		updates["backend_id"] = res.BackendID
	}
	if res.MTU > 0 {
		updates["mtu"] = res.MTU
	}
	if sn := res.Subnet; sn != nil {
		updates["cidr"], updates["gateway_ip"], updates["ip_version"], updates["enable_dhcp"] = sn.CIDR, sn.GatewayIP, sn.IPVersion, sn.EnableDHCP
		updates["allocation_pools"] = rawJSON(nonNilSlice(sn.AllocationPools))
		updates["dns_nameservers"] = rawJSON(nonNilSlice(sn.DNSNameservers))
	}
}
