package openstack

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The database side of the networks' RBAC policies (Waldur's
// NetworkRBACPolicy): a network of one tenant shared with another tenant
// of the same cloud. A policy is made and deleted through the action
// machinery (store_actions.go: CreateObject, the create and delete runs);
// it is seen by whoever sees the network's tenant.

// RBAC policy types (Waldur's and Neutron's actions).
const (
	PolicyAccessAsShared   = "access_as_shared"
	PolicyAccessAsExternal = "access_as_external"
)

// RBACPolicyView is a policy as the API renders it (alias x; its network
// n, the network's tenant t, the target tenant tt).
type RBACPolicyView struct {
	ID               int64
	UUID             models.UUID
	TenantID         int64
	NetworkID        int64
	BackendID        string
	PolicyType       string
	State            models.CoreState
	ErrorMessage     string
	Created          time.Time
	NetworkUUID      models.UUID
	NetworkName      string
	TargetTenantUUID models.UUID
	TargetTenantName string
	RowContext       `gorm:"embedded"`
}

// RBACPolicyFilter narrows RBACPoliciesQuery: Filter's tenant filters
// are the network's tenant's.
type RBACPolicyFilter struct {
	Filter
	NetworkUUIDs      []models.UUID
	TargetTenantUUIDs []models.UUID
	PolicyType        string
}

func (s *Store) rbacPolicyViews(ctx context.Context) (*gorm.DB, error) {
	q := s.DB.WithContext(ctx).Table("openstack_network_rbac_policies x").
		Select("x.id, x.uuid, x.tenant_id, x.network_id, x.backend_id, x.policy_type, x.state, x.error_message, x.created, " +
			"n.uuid AS network_uuid, n.name AS network_name, tt.uuid AS target_tenant_uuid, tt.name AS target_tenant_name, " + osContextColumns).
		Joins("JOIN openstack_networks n ON n.id = x.network_id").
		Joins("JOIN openstack_tenants t ON t.id = x.tenant_id").
		Joins("JOIN openstack_tenants tt ON tt.id = x.target_tenant_id")
	return s.visible(ctx, osJoins(q, "t"))
}

// RBACPoliciesQuery returns the policies the caller may see, narrowed by
// f, as a query over RBACPolicyView rows, for rest.List.
func (s *Store) RBACPoliciesQuery(ctx context.Context, f RBACPolicyFilter) (store.Query, error) {
	q, err := s.rbacPolicyViews(ctx)
	if err != nil {
		return store.Query{}, err
	}
	f.Name, f.NameExact = "", "" // a policy has no name
	q = f.apply(q, "x")
	if len(f.NetworkUUIDs) > 0 {
		q = q.Where("n.uuid IN ?", f.NetworkUUIDs)
	}
	if len(f.TargetTenantUUIDs) > 0 {
		q = q.Where("tt.uuid IN ?", f.TargetTenantUUIDs)
	}
	if f.PolicyType != "" {
		q = q.Where("x.policy_type = ?", f.PolicyType)
	}
	return store.QueryOf(q), nil
}

// VisibleRBACPolicy loads the policy with uuid id if the caller may see
// it. Codes: not_found ("No Network rbac policy matches the given query.").
func (s *Store) VisibleRBACPolicy(ctx context.Context, id models.UUID) (*RBACPolicyView, error) {
	q, err := s.rbacPolicyViews(ctx)
	if err != nil {
		return nil, err
	}
	var v RBACPolicyView
	if err := findVisible(q, "x", id, KindRBACPolicy.Noun(), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// PoliciesOfNetworks lists the policies of networks (whose tenants the
// caller sees), by network id, oldest first.
func (s *Store) PoliciesOfNetworks(ctx context.Context, networkIDs []int64) (map[int64][]RBACPolicyView, error) {
	out := map[int64][]RBACPolicyView{}
	if len(networkIDs) == 0 {
		return out, nil
	}
	q, err := s.rbacPolicyViews(ctx)
	if err != nil {
		return nil, err
	}
	var vs []RBACPolicyView
	if err := q.Where("x.network_id IN ?", networkIDs).Order("x.created, x.id").Scan(&vs).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, v := range vs {
		out[v.NetworkID] = append(out[v.NetworkID], v)
	}
	return out, nil
}

// RBACPolicyExists reports whether the network already has a policy of
// the type for the target tenant.
func (s *Store) RBACPolicyExists(ctx context.Context, networkID, targetTenantID int64, policyType string) (bool, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Table("openstack_network_rbac_policies").
		Where("network_id = ? AND target_tenant_id = ? AND policy_type = ?", networkID, targetTenantID, policyType).Count(&n).Error; err != nil {
		return false, models.Internal(err)
	}
	return n > 0, nil
}

// TenantCloud is a tenant's id, backend id and offering (its cloud).
type TenantCloud struct {
	ID         int64
	BackendID  string
	OfferingID int64
	State      models.CoreState
}

// TenantCloudByUUID reads a tenant's cloud. Codes: not_found.
func (s *Store) TenantCloudByUUID(ctx context.Context, id models.UUID) (*TenantCloud, error) {
	var out []TenantCloud
	if err := s.DB.WithContext(ctx).Table("openstack_tenants").Select("id, backend_id, offering_id, state").
		Where("uuid = ?", id).Limit(1).Scan(&out).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "No Tenant matches the given query.")
	}
	return &out[0], nil
}

// rbacPolicyRequest resolves a policy's create and update_policy: its
// network's and target tenant's ids in the cloud and its type (and, for
// an update, whether the cloud's policy is made anew: another network or
// type).
func (s *Store) rbacPolicyRequest(ctx context.Context, o *ActionObject, req *ActionRequest) error {
	if o.Action != "create" && o.Action != "update_policy" {
		return nil
	}
	var row []struct {
		NetworkBackendID string
		TargetBackendID  string
		PolicyType       string
	}
	if err := s.DB.WithContext(ctx).Table("openstack_network_rbac_policies x").
		Select("n.backend_id AS network_backend_id, tt.backend_id AS target_backend_id, x.policy_type").
		Joins("JOIN openstack_networks n ON n.id = x.network_id").
		Joins("JOIN openstack_tenants tt ON tt.id = x.target_tenant_id").
		Where("x.id = ?", o.ID).Scan(&row).Error; err != nil {
		return models.Internal(err)
	}
	if len(row) == 0 {
		return models.Errorf(models.CodeNotFound, "No %s matches the given query.", KindRBACPolicy.Noun())
	}
	r := row[0]
	if r.NetworkBackendID == "" || isPending(r.NetworkBackendID) {
		return models.Errorf(models.CodeInvalid, "The network of the RBAC policy is not in the cloud.")
	}
	if r.TargetBackendID == "" {
		return models.Errorf(models.CodeInvalid, "The target tenant of the RBAC policy is not in the cloud.")
	}
	req.RBAC = &RBACPolicyRequest{NetworkBackendID: r.NetworkBackendID, TargetProjectID: r.TargetBackendID, PolicyType: r.PolicyType}
	req.RBAC.Recreate, _ = o.ActionDetails["recreate"].(bool)
	return nil
}

// finishRBACPolicy records a made policy's id.
func finishRBACPolicy(res ActionResult, updates map[string]any) {
	if res.BackendID != "" {
		updates["backend_id"] = res.BackendID
	}
}
