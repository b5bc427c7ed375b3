package openstack

import (
	"context"

	"github.com/waldur-go/waldur/activities"
)

// The backend half's activity of the pull, on the openstack queue: it
// reads a tenant from its cloud (no database; the core half lists the
// tenants and records what was read, see workflow.go).

// PullBackend holds the cloud side of the OpenStack pull (openstack queue).
type PullBackend struct {
	Provider *Provider
}

// PullOpenStackTenantInput is the input of PullOpenStackTenant.
type PullOpenStackTenantInput struct {
	SecretOptions map[string]any
	BackendID     string
}

// PullOpenStackTenant reads a tenant from its cloud.
func (a *PullBackend) PullOpenStackTenant(ctx context.Context, in PullOpenStackTenantInput) (Snapshot, error) {
	conn, err := ConnectionFrom(in.SecretOptions)
	if err != nil {
		return Snapshot{}, activities.Classify(err)
	}
	return a.Provider.Pull(ctx, conn, in.BackendID)
}
