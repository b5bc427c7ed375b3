package openstacktest

import (
	"maps"
	"net/http"
	"sort"
)

// Default quotas, as in a fresh OpenStack install.
var (
	defaultComputeQuotas = map[string]int{
		"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
		"server_groups": 10, "server_group_members": 10, "injected_files": 5,
		"injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
		"fixed_ips": -1, "floating_ips": -1, "security_groups": -1, "security_group_rules": -1,
	}
	defaultVolumeQuotas = map[string]int{
		"volumes": 10, "gigabytes": 1000, "snapshots": 10, "backups": 10, "backup_gigabytes": 1000,
		"per_volume_gigabytes": -1, "groups": 10,
	}
	defaultNetworkQuotas = map[string]int{
		"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
		"security_group": 10, "security_group_rule": 100, "rbac_policy": 10, "subnetpool": -1, "trunk": -1,
	}
)

// quotaLimits returns a project's limits of one service ("compute", "volume", "network").
func (s *store) quotaLimits(projectID, svc string) map[string]int {
	var out map[string]int
	switch svc {
	case "compute":
		out = maps.Clone(defaultComputeQuotas)
	case "volume":
		out = maps.Clone(defaultVolumeQuotas)
		for _, t := range s.volumeTypes.all() {
			for _, k := range []string{"volumes_", "gigabytes_", "snapshots_"} {
				out[k+t.Name] = -1
			}
		}
	case "network":
		out = maps.Clone(defaultNetworkQuotas)
	}
	if q := s.quotas[projectID]; q != nil {
		var set map[string]int
		switch svc {
		case "compute":
			set = q.Compute
		case "volume":
			set = q.Volume
		case "network":
			set = q.Network
		}
		maps.Copy(out, set)
	}
	return out
}

// setQuotas stores new limits for a project; unknown names are a 400.
func (s *store) setQuotas(projectID, svc string, in map[string]int) *apiError {
	known := s.quotaLimits(projectID, svc)
	for k, v := range in {
		if _, ok := known[k]; !ok {
			return errf(http.StatusBadRequest, "Bad key(s) in quota set: %s", k)
		}
		if v < -1 {
			return errf(http.StatusBadRequest, "Quota limit %d for %s must be greater than or equal to -1.", v, k)
		}
	}
	q := s.quotas[projectID]
	if q == nil {
		q = &Quotas{Compute: map[string]int{}, Volume: map[string]int{}, Network: map[string]int{}}
		s.quotas[projectID] = q
	}
	switch svc {
	case "compute":
		maps.Copy(q.Compute, in)
	case "volume":
		maps.Copy(q.Volume, in)
	case "network":
		maps.Copy(q.Network, in)
	}
	return nil
}

// resetQuotas puts a project's limits of one service back to the defaults.
func (s *store) resetQuotas(projectID, svc string) {
	q := s.quotas[projectID]
	if q == nil {
		return
	}
	switch svc {
	case "compute":
		q.Compute = map[string]int{}
	case "volume":
		q.Volume = map[string]int{}
	case "network":
		q.Network = map[string]int{}
	}
}

// computeUsage counts a project's instances, cores, RAM and server groups.
func (s *store) computeUsage(projectID string) map[string]int {
	u := map[string]int{}
	for _, sv := range s.servers.all() {
		if sv.ProjectID != projectID {
			continue
		}
		u["instances"]++
		if f := s.flavors.get(sv.FlavorID); f != nil {
			u["cores"] += f.VCPUs
			u["ram"] += f.RAM
		}
	}
	for _, g := range s.groups.all() {
		if g.ProjectID == projectID {
			u["server_groups"]++
		}
	}
	return u
}

// volumeUsage counts a project's volumes, snapshots and their gigabytes (a
// snapshot's size counts towards gigabytes, as Cinder's default
// no_snapshot_gb_quota=False does), also per volume type, and its backups and
// their gigabytes.
func (s *store) volumeUsage(projectID string) map[string]int {
	u := map[string]int{}
	for _, v := range s.volumes.all() {
		if v.ProjectID != projectID {
			continue
		}
		u["volumes"]++
		u["gigabytes"] += v.Size
		u["volumes_"+v.VolumeType]++
		u["gigabytes_"+v.VolumeType] += v.Size
	}
	for _, sn := range s.snapshots.all() {
		if sn.ProjectID != projectID {
			continue
		}
		u["snapshots"]++
		u["gigabytes"] += sn.Size
		u["snapshots_"+sn.VolumeType]++
		u["gigabytes_"+sn.VolumeType] += sn.Size
	}
	for _, b := range s.backups.all() {
		if b.ProjectID != projectID {
			continue
		}
		u["backups"]++
		u["backup_gigabytes"] += b.Size
	}
	return u
}

// networkUsage counts a project's Neutron resources.
func (s *store) networkUsage(projectID string) map[string]int {
	u := map[string]int{}
	count := func(key, owner string) {
		if owner == projectID {
			u[key]++
		}
	}
	for _, n := range s.networks.all() {
		count("network", n.ProjectID)
	}
	for _, x := range s.subnets.all() {
		count("subnet", x.ProjectID)
	}
	for _, x := range s.ports.all() {
		count("port", x.ProjectID)
	}
	for _, x := range s.routers.all() {
		count("router", x.ProjectID)
	}
	for _, x := range s.floatingIP.all() {
		count("floatingip", x.ProjectID)
	}
	for _, x := range s.secGroups.all() {
		count("security_group", x.ProjectID)
	}
	for _, x := range s.secRules.all() {
		count("security_group_rule", x.ProjectID)
	}
	return u
}

// overQuota returns the names of the resources whose limit the request
// (resource → amount) would exceed, sorted.
func overQuota(limits, usage, request map[string]int) []string {
	var over []string
	for k, n := range request {
		l, ok := limits[k]
		if !ok || l < 0 || n <= 0 {
			continue
		}
		if usage[k]+n > l {
			over = append(over, k)
		}
	}
	sort.Strings(over)
	return over
}
