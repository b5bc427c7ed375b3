package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the backups' actions (Waldur's instance backup: a
// snapshot of each of the instance's volumes): create (each snapshot
// found by name and volume or taken, then waited for), update (nothing in
// the cloud: a backup is Waldur's), pull (its snapshots read back; one
// gone is a permanent error) and delete (its snapshots deleted and waited
// for; those gone already are deleted).

func (p *Provider) backupAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	st := req.Storage
	if st == nil {
		st = &StorageRequest{}
	}
	switch req.Action {
	case "create":
		out := []CloudSnapshot{}
		for _, want := range st.Snapshots {
			sn, err := p.ensureSnapshot(ctx, s, want)
			if err != nil {
				return ActionResult{}, err
			}
			out = append(out, sn)
		}
		return ActionResult{InstanceBackendID: req.InstanceBackendID, Storage: &StorageResult{Snapshots: out}}, nil
	case "update":
		return ActionResult{}, nil
	case "pull":
		out := []CloudSnapshot{}
		for _, sn := range st.Snapshots {
			err := p.step(ctx, "reading snapshot "+sn.BackendID, func() error {
				got, err := snapshots.Get(ctx, s.volume, sn.BackendID).Extract()
				if err != nil {
					return goneIf(err, "snapshot", sn.BackendID)
				}
				out = append(out, cloudSnapshot(*got))
				return nil
			})
			if err != nil {
				return ActionResult{}, err
			}
		}
		return ActionResult{Storage: &StorageResult{Snapshots: out}}, nil
	case "delete":
		ids := []string{}
		for _, sn := range st.Snapshots {
			ids = append(ids, sn.BackendID)
		}
		return ActionResult{}, p.deleteSnapshots(ctx, s, ids...)
	}
	return ActionResult{}, refuse(models.CodeInvalid, "backups have no action %q", req.Action)
}
