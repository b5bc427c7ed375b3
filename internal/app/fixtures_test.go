package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// rowMaker inserts a row with a fresh UUID into a table and answers its id
// and UUID: the worlds' fixtures are written as rows, not through the API.
type rowMaker func(table string, values map[string]any) (int64, models.UUID)

func newRowMaker(t testing.TB, db *gorm.DB) rowMaker {
	return func(table string, values map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		values["uuid"] = id
		require.NoError(t, db.Table(table).Create(values).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
}

// seedPluginRows adds what the AWS and OpenStack pulls record for offering
// off: an AWS catalog and resource res's instance; an OpenStack tenant in
// project p1 (no marketplace resource: imported) with one of everything a
// pull records. Each row's UUID goes into ids under its route placeholder.
func seedPluginRows(mk rowMaker, ids map[string]string, off, res, p1 int64, now time.Time) {
	awsRegion, awsRegionU := mk("aws_regions", map[string]any{"offering_id": off, "name": "eu-west-1", "created": now, "modified": now})
	_, awsImageU := mk("aws_images", map[string]any{"offering_id": off, "region_id": awsRegion, "backend_id": "ami-1", "name": "Ubuntu", "created": now, "modified": now})
	_, awsSizeU := mk("aws_sizes", map[string]any{"offering_id": off, "backend_id": "t3.micro", "name": "t3.micro", "created": now, "modified": now})
	_, awsInstU := mk("aws_instances", map[string]any{"offering_id": off, "resource_id": res, "backend_id": "i-1", "name": "r1", "created": now, "modified": now})
	ids["{aws-region}"], ids["{aws-image}"], ids["{aws-size}"], ids["{aws-instance}"] = awsRegionU.String(), awsImageU.String(), awsSizeU.String(), awsInstU.String()
	// An OpenStack tenant in P1 (no marketplace resource: imported), with one of everything a pull records.
	osTenant, osTenantU := mk("openstack_tenants", map[string]any{"project_id": p1, "offering_id": off, "name": "t1", "state": "OK", "quotas": `[]`, "created": now, "modified": now})
	osNet, osNetU := mk("openstack_networks", map[string]any{"tenant_id": osTenant, "backend_id": "net-1", "name": "t1-int-net", "created": now, "modified": now})
	osInst, osInstU := mk("openstack_instances", map[string]any{"project_id": p1, "tenant_id": osTenant, "name": "vm", "state": "OK", "runtime_state": "SHUTOFF",
		"created": now, "modified": now})
	ids["{os-tenant}"], ids["{os-network}"], ids["{os-instance}"] = osTenantU.String(), osNetU.String(), osInstU.String()
	// A second tenant of P1 on the same cloud, which the first one's network is offered to as external.
	osTenant2, osTenant2U := mk("openstack_tenants", map[string]any{"project_id": p1, "offering_id": off, "name": "t2", "state": "OK", "backend_id": "proj-2",
		"quotas": `[]`, "created": now, "modified": now})
	_, osPolicyU := mk("openstack_network_rbac_policies", map[string]any{"tenant_id": osTenant, "network_id": osNet, "target_tenant_id": osTenant2,
		"backend_id": "rbac-1", "policy_type": "access_as_external", "state": "OK", "created": now, "modified": now})
	ids["{os-tenant-2}"], ids["{os-rbac-policy}"] = osTenant2U.String(), osPolicyU.String()
	for key, row := range map[string]struct {
		table  string
		values map[string]any
	}{
		"{os-volume}":         {"openstack_volumes", map[string]any{"project_id": p1, "tenant_id": osTenant, "instance_id": osInst, "name": "data", "state": "OK", "created": now, "modified": now}},
		"{os-flavor}":         {"openstack_flavors", map[string]any{"tenant_id": osTenant, "backend_id": "1", "name": "m1.tiny"}},
		"{os-image}":          {"openstack_images", map[string]any{"tenant_id": osTenant, "backend_id": "img-1", "name": "cirros"}},
		"{os-volume-type}":    {"openstack_volume_types", map[string]any{"tenant_id": osTenant, "backend_id": "vt-1", "name": "ssd"}},
		"{os-subnet}":         {"openstack_subnets", map[string]any{"tenant_id": osTenant, "network_id": osNet, "backend_id": "sub-1", "name": "t1-sub-net", "cidr": "192.168.42.0/24", "allocation_pools": `[]`, "dns_nameservers": `[]`, "created": now, "modified": now}},
		"{os-security-group}": {"openstack_security_groups", map[string]any{"tenant_id": osTenant, "backend_id": "sg-1", "name": "ssh", "rules": `[]`, "created": now, "modified": now}},
		"{os-floating-ip}":    {"openstack_floating_ips", map[string]any{"tenant_id": osTenant, "backend_id": "fip-1", "address": "172.24.4.10", "created": now, "modified": now}},
		"{os-server-group}":   {"openstack_server_groups", map[string]any{"tenant_id": osTenant, "backend_id": "srvg-1", "name": "ha", "policy": "affinity", "state": "OK", "created": now, "modified": now}},
		"{os-snapshot}":       {"openstack_snapshots", map[string]any{"tenant_id": osTenant, "backend_id": "snap-1", "name": "s1", "size": 1024, "state": "OK", "created": now, "modified": now}},
		"{os-backup}":         {"openstack_backups", map[string]any{"tenant_id": osTenant, "instance_id": osInst, "backend_id": "srv-1", "name": "b1", "state": "OK", "created": now, "modified": now}},
		"{os-port}": {"openstack_ports", map[string]any{"tenant_id": osTenant, "network_id": osNet, "backend_id": "port-1", "name": "p1",
			"fixed_ips": `[{"ip_address":"192.168.42.20","subnet_id":"sub-1"}]`, "allowed_address_pairs": `[]`, "security_groups": `[]`, "created": now, "modified": now}},
		"{os-router}": {"openstack_routers", map[string]any{"tenant_id": osTenant, "backend_id": "router-1", "name": "t1-router", "routes": `[]`, "fixed_ips": `[]`,
			"ports": `[{"backend_id":"port-r","fixed_ips":[{"ip_address":"192.168.42.1","subnet_id":"sub-1"}]}]`, "created": now, "modified": now}},
		"{os-instance-zone}": {"openstack_instance_availability_zones", map[string]any{"tenant_id": osTenant, "backend_id": "nova", "name": "nova", "available": true}},
		"{os-volume-zone}":   {"openstack_volume_availability_zones", map[string]any{"tenant_id": osTenant, "backend_id": "nova", "name": "nova", "available": true}},
		"{os-external-network}": {"openstack_external_networks", map[string]any{"tenant_id": osTenant, "backend_id": "ext-1", "name": "public",
			"status": "ACTIVE", "subnets": `[]`}},
	} {
		_, id := mk(row.table, row.values)
		ids[key] = id.String()
	}
	// A migration of resource res (providers/openstack/api_migrations.go), made by res's orderer (c-owner).
	_, osMigrationU := mk("openstack_migrations", map[string]any{"src_resource_id": res, "dst_resource_id": res, "mappings": `{}`, "state": "OK",
		"created_by_id": gorm.Expr("(SELECT MIN(created_by_id) FROM orders WHERE resource_id = ?)", res), "created": now, "modified": now})
	ids["{os-migration}"] = osMigrationU.String()
	seedPolicyRows(mk, ids, off, p1, now)
}

// seedPolicyRows adds one marketplace policy of each family (api/policies):
// P1's and its customer's cost policies, and offering off's cost, usage
// and SLURM periodic policies.
func seedPolicyRows(mk rowMaker, ids map[string]string, off, p1 int64, now time.Time) {
	for key, v := range map[string]map[string]any{
		"{policy-project}":        {"kind": "project_estimated_cost", "scope_id": p1, "actions": "notify_organization_owners", "limit_cost": 100},
		"{policy-customer}":       {"kind": "customer_estimated_cost", "scope_id": gorm.Expr("(SELECT customer_id FROM projects WHERE id = ?)", p1), "actions": "notify_organization_owners", "limit_cost": 100},
		"{policy-offering-cost}":  {"kind": "offering_estimated_cost", "scope_id": off, "actions": "notify_organization_owners", "limit_cost": 100},
		"{policy-offering-usage}": {"kind": "offering_usage", "scope_id": off, "actions": "notify_organization_owners", "component_limits": `[{"type":"hours","limit":10}]`},
		"{policy-slurm}":          {"kind": "slurm_periodic_usage", "scope_id": off, "actions": "request_slurm_resource_pausing", "period": 3, "component_limits": `[{"type":"hours","limit":10}]`},
	} {
		v["created"], v["modified"] = now, now
		_, id := mk("marketplace_policies", v)
		ids[key] = id.String()
	}
}
