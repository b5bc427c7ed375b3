package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/rbacpolicies"
)

// What the periodic pull reads besides the catalog and the workloads
// (Waldur's pull_tenant_server_groups, pull_tenant_snapshots and the
// networks' RBAC policies): the tenant's server groups, its volume
// snapshots and the RBAC policies of its networks. Recorded by
// applyStorage (store_pull_storage.go).

// CloudRBACPolicy is a Neutron RBAC policy on a network.
type CloudRBACPolicy struct {
	BackendID        string `json:"backend_id"`
	NetworkBackendID string `json:"network_backend_id"`
	TargetProjectID  string `json:"target_project_id"`
	PolicyType       string `json:"policy_type"`
}

// readStorage adds the server groups, snapshots and RBAC policies of
// project to snap.
func (p *Provider) readStorage(ctx context.Context, s *session, project string, snap *Snapshot) error {
	read := func(what string, fn func() error) error { return p.step(ctx, "reading "+what, fn) }
	if err := read("server groups", func() error {
		gs, err := listServerGroups(ctx, s)
		snap.ServerGroups = gs
		return err
	}); err != nil {
		return err
	}
	if err := read("snapshots", func() error {
		pages, err := snapshots.List(s.volume, snapshots.ListOpts{}).AllPages(ctx)
		if err != nil {
			return err
		}
		sns, err := snapshots.ExtractSnapshots(pages)
		if err != nil {
			return err
		}
		snap.VolumeSnapshots = []CloudSnapshot{}
		for _, sn := range sns {
			snap.VolumeSnapshots = append(snap.VolumeSnapshots, cloudSnapshot(sn))
		}
		return nil
	}); err != nil {
		return err
	}
	return read("RBAC policies", func() error {
		pages, err := rbacpolicies.List(s.network, rbacpolicies.ListOpts{ObjectType: "network"}).AllPages(ctx)
		if err != nil {
			return err
		}
		ps, err := rbacpolicies.ExtractRBACPolicies(pages)
		if err != nil {
			return err
		}
		snap.RBACPolicies = []CloudRBACPolicy{}
		for _, rp := range ps {
			if firstNonEmpty(rp.ProjectID, rp.TenantID) != project {
				continue // another project's policy (an admin sees all)
			}
			snap.RBACPolicies = append(snap.RBACPolicies, CloudRBACPolicy{BackendID: rp.ID, NetworkBackendID: rp.ObjectID,
				TargetProjectID: rp.TargetTenant, PolicyType: string(rp.Action)})
		}
		return nil
	})
}
