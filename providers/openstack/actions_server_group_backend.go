package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the server groups' actions: create (a group of the
// name found in the tenant's project, or made with its policy), pull (the
// group read back; one gone is a permanent error), delete (one already
// gone is deleted), and a tenant's pull_server_groups (the project's
// groups listed). Nova is asked at microversion 2.64, where a group has
// one policy (soft-affinity and soft-anti-affinity included).

// CloudServerGroup is a Nova server group as Waldur records it.
type CloudServerGroup struct {
	BackendID string `json:"backend_id"`
	Name      string `json:"name"`
	Policy    string `json:"policy"`
}

// serverGroupMicroversion is the Nova microversion of the groups' calls.
const serverGroupMicroversion = "2.64"

func cloudServerGroup(g servergroups.ServerGroup) CloudServerGroup {
	out := CloudServerGroup{BackendID: g.ID, Name: g.Name}
	if g.Policy != nil {
		out.Policy = *g.Policy
	} else if len(g.Policies) > 0 {
		out.Policy = g.Policies[0]
	}
	return out
}

// listServerGroups lists the groups of the session's project.
func listServerGroups(ctx context.Context, s *session) ([]CloudServerGroup, error) {
	cc := *s.compute
	cc.Microversion = serverGroupMicroversion
	pages, err := servergroups.List(&cc, servergroups.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := servergroups.ExtractServerGroups(pages)
	if err != nil {
		return nil, err
	}
	out := []CloudServerGroup{}
	for _, g := range gs {
		out = append(out, cloudServerGroup(g))
	}
	return out, nil
}

func (p *Provider) serverGroupAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	cc := *s.compute
	cc.Microversion = serverGroupMicroversion
	switch req.Action {
	case "create":
		if req.Name == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the server group has no name")
		}
		policy := ""
		if req.Storage != nil {
			policy = req.Storage.Policy
		}
		var out CloudServerGroup
		err := p.step(ctx, "creating the server group", func() error {
			have, err := listServerGroups(ctx, s)
			if err != nil {
				return err
			}
			for _, g := range have {
				if g.Name == req.Name {
					out = g // made by an earlier attempt
					return nil
				}
			}
			opts := servergroups.CreateOpts{Name: req.Name, Policy: firstNonEmpty(policy, "affinity")}
			g, err := servergroups.Create(ctx, &cc, opts).Extract()
			if err != nil {
				return err
			}
			out = cloudServerGroup(*g)
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{BackendID: out.BackendID, Storage: &StorageResult{ServerGroup: &out}}, nil
	case "pull":
		var out CloudServerGroup
		err := p.step(ctx, "reading the server group", func() error {
			g, err := servergroups.Get(ctx, &cc, req.BackendID).Extract()
			if err != nil {
				return goneIf(err, "server group", req.BackendID)
			}
			out = cloudServerGroup(*g)
			return nil
		})
		if err != nil {
			return ActionResult{}, err
		}
		return ActionResult{Storage: &StorageResult{ServerGroup: &out}}, nil
	case "delete":
		if req.BackendID == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the server group", func() error {
			err := servergroups.Delete(ctx, &cc, req.BackendID).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	}
	return ActionResult{}, refuse(models.CodeInvalid, "server groups have no action %q", req.Action)
}

// pullServerGroups lists a tenant's server groups (its pull_server_groups).
func (p *Provider) pullServerGroups(ctx context.Context, req ActionRequest) (ActionResult, error) {
	s, err := p.actionSession(ctx, req.Connection, req.BackendID)
	if err != nil {
		return ActionResult{}, err
	}
	var res ActionResult
	err = p.step(ctx, "reading the server groups", func() error {
		var err error
		res.ServerGroups, err = listServerGroups(ctx, s)
		return err
	})
	return res, err
}
