package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/waldur-go/waldur/models"
)

// The backend half of a tenant's push_security_groups (Waldur's batch
// update of a tenant's security groups): the groups named by id are
// renamed and given their description, the others made (or found by name:
// an earlier attempt made them), every pushed group's rules made exactly
// those asked (a rule's remote group named by a pushed group's name is
// resolved once that group exists), then the groups to delete are deleted
// (one already gone is deleted). It reads the project's groups back.

// PushSecurityGroupsRequest is what push_security_groups needs.
type PushSecurityGroupsRequest struct {
	Groups []PushedGroup `json:"groups"`
	// Delete are the backend ids of the groups to delete.
	Delete []string `json:"delete"`
}

// PushedGroup is one group pushed: an existing one (BackendID) or a new one.
type PushedGroup struct {
	BackendID   string       `json:"backend_id,omitempty"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Rules       []PushedRule `json:"rules"`
}

// PushedRule is a rule whose remote group may be named (RemoteGroupName,
// a pushed group's or the tenant's) instead of given by id.
type PushedRule struct {
	CloudRule
	RemoteGroupName string `json:"remote_group_name,omitempty"`
}

func (p *Provider) pushSecurityGroups(ctx context.Context, req ActionRequest) (ActionResult, error) {
	push := req.PushGroups
	if push == nil {
		return ActionResult{}, refuse(models.CodeInvalid, "push_security_groups names no groups")
	}
	s, err := p.actionSession(ctx, req.Connection, req.BackendID)
	if err != nil {
		return ActionResult{}, err
	}
	project := req.BackendID
	list := func() ([]groups.SecGroup, error) {
		var out []groups.SecGroup
		err := p.step(ctx, "listing the security groups", func() error {
			pages, err := groups.List(s.network, groups.ListOpts{ProjectID: project}).AllPages(ctx)
			if err != nil {
				return err
			}
			out, err = groups.ExtractGroups(pages)
			return err
		})
		return out, err
	}
	have, err := list()
	if err != nil {
		return ActionResult{}, err
	}
	byID, byName := map[string]groups.SecGroup{}, map[string]string{}
	for _, g := range have {
		byID[g.ID] = g
		byName[g.Name] = g.ID
	}
	ids := make([]string, len(push.Groups))
	for i, g := range push.Groups {
		if g.BackendID == "" {
			sg, err := p.ensureGroup(ctx, s, project, g.Name, g.Description)
			if err != nil {
				return ActionResult{}, err
			}
			ids[i] = sg.ID
			byName[g.Name] = sg.ID
			continue
		}
		cur, ok := byID[g.BackendID]
		if !ok {
			return ActionResult{}, goneError("security group", g.BackendID)
		}
		ids[i] = cur.ID
		if cur.Name == g.Name && cur.Description == g.Description {
			continue
		}
		err := p.step(ctx, "updating security group "+g.Name, func() error {
			desc := g.Description
			_, err := groups.Update(ctx, s.network, cur.ID, groups.UpdateOpts{Name: g.Name, Description: &desc}).Extract()
			return goneIf(err, "security group", cur.ID)
		})
		if err != nil {
			return ActionResult{}, err
		}
		delete(byName, cur.Name)
		byName[g.Name] = cur.ID
	}
	for i, g := range push.Groups {
		rules := make([]CloudRule, 0, len(g.Rules))
		for _, r := range g.Rules {
			cr := r.CloudRule
			if r.RemoteGroupName != "" {
				id, ok := byName[r.RemoteGroupName]
				if !ok {
					return ActionResult{}, refuse(models.CodeInvalid, "no security group named %q for a rule of %s", r.RemoteGroupName, g.Name)
				}
				cr.RemoteGroupBackendID = id
			}
			rules = append(rules, cr)
		}
		if _, err := p.pushRules(ctx, s, ids[i], rules); err != nil {
			return ActionResult{}, err
		}
	}
	for _, id := range push.Delete {
		err := p.step(ctx, "deleting security group "+id, func() error {
			err := groups.Delete(ctx, s.network, id).ExtractErr()
			if notFound(err) {
				return nil
			}
			if code := statusOf(err); code == 409 {
				return refuse(models.CodeConflict, "security group %s cannot be deleted: %v", id, err)
			}
			return err
		})
		if err != nil {
			return ActionResult{}, err
		}
	}
	have, err = list()
	if err != nil {
		return ActionResult{}, err
	}
	out := []CloudSecurityGroup{}
	for _, g := range have {
		out = append(out, cloudSecurityGroup(g))
	}
	return ActionResult{SecurityGroups: out}, nil
}
