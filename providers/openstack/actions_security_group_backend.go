package openstack

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"

	"github.com/waldur-go/waldur/models"
)

// The backend half of the security groups' actions: create (the group
// found by name in the tenant's project or made, through the tenant
// chain's ensureGroup, then its rules made exactly those asked), update
// (name and description), set_rules (the rules made exactly those asked:
// the missing made, the others deleted) and delete (a group already gone
// is deleted). Each looks before it acts, so a retry does not act twice.

func (p *Provider) securityGroupAction(ctx context.Context, s *session, req ActionRequest) (ActionResult, error) {
	switch req.Action {
	case "create":
		if req.Name == "" {
			return ActionResult{}, refuse(models.CodeInvalid, "the security group has no name")
		}
		sg, err := p.ensureGroup(ctx, s, req.TenantBackendID, req.Name, req.Description)
		if err != nil {
			return ActionResult{}, err
		}
		return p.pushRules(ctx, s, sg.ID, req.Rules)
	case "update":
		err := p.step(ctx, "updating the security group", func() error {
			cur, err := groups.Get(ctx, s.network, req.BackendID).Extract()
			if notFound(err) {
				return goneError("security group", req.BackendID)
			} else if err != nil {
				return err
			}
			if cur.Name == firstNonEmpty(req.Name, cur.Name) && cur.Description == req.Description {
				return nil
			}
			_, err = groups.Update(ctx, s.network, req.BackendID, groups.UpdateOpts{Name: req.Name, Description: &req.Description}).Extract()
			return err
		})
		return ActionResult{}, err
	case "set_rules":
		return p.pushRules(ctx, s, req.BackendID, req.Rules)
	case "delete":
		if req.BackendID == "" {
			return ActionResult{}, nil // never made in the cloud
		}
		err := p.step(ctx, "deleting the security group", func() error {
			err := groups.Delete(ctx, s.network, req.BackendID).ExtractErr()
			if notFound(err) {
				return nil
			}
			return err
		})
		return ActionResult{}, err
	}
	return ActionResult{}, refuse(models.CodeInvalid, "security groups have no action %q", req.Action)
}

// ruleOpts is a wanted rule as Neutron takes it (defaults: ingress, IPv4;
// a negative or absent port: any).
func ruleOpts(groupID string, r CloudRule) rules.CreateOpts {
	o := rules.CreateOpts{SecGroupID: groupID, Direction: rules.RuleDirection(firstNonEmpty(r.Direction, "ingress")),
		EtherType: rules.RuleEtherType(firstNonEmpty(r.EtherType, "IPv4")), Protocol: rules.RuleProtocol(r.Protocol),
		RemoteIPPrefix: r.CIDR, RemoteGroupID: r.RemoteGroupBackendID, Description: r.Description}
	if r.FromPort != nil && *r.FromPort > 0 {
		o.PortRangeMin = *r.FromPort
	}
	if r.ToPort != nil && *r.ToPort > 0 {
		o.PortRangeMax = *r.ToPort
	}
	return o
}

func sameRule(h rules.SecGroupRule, w rules.CreateOpts) bool {
	return h.Direction == string(w.Direction) && h.EtherType == string(w.EtherType) && h.Protocol == string(w.Protocol) &&
		h.PortRangeMin == w.PortRangeMin && h.PortRangeMax == w.PortRangeMax && h.RemoteIPPrefix == w.RemoteIPPrefix &&
		h.RemoteGroupID == w.RemoteGroupID
}

// pushRules makes the group's rules exactly want (Waldur's
// push_security_group_rules: Neutron's default egress rules go unless
// asked for) and reads the group back.
func (p *Provider) pushRules(ctx context.Context, s *session, groupID string, want []CloudRule) (ActionResult, error) {
	opts := make([]rules.CreateOpts, len(want))
	for i, r := range want {
		opts[i] = ruleOpts(groupID, r)
	}
	var sg *groups.SecGroup
	err := p.step(ctx, "setting the security group's rules", func() error {
		pages, err := rules.List(s.network, rules.ListOpts{SecGroupID: groupID}).AllPages(ctx)
		if err != nil {
			return err
		}
		have, err := rules.ExtractRules(pages)
		if err != nil {
			return err
		}
		kept := make([]bool, len(opts))
		for _, h := range have {
			wanted := false
			for i, w := range opts {
				if !kept[i] && sameRule(h, w) {
					kept[i], wanted = true, true
					break
				}
			}
			if wanted {
				continue
			}
			if err := rules.Delete(ctx, s.network, h.ID).ExtractErr(); err != nil && !notFound(err) {
				return err
			}
		}
		for i, w := range opts {
			if kept[i] {
				continue
			}
			if _, err := rules.Create(ctx, s.network, w).Extract(); err != nil && !gophercloud.ResponseCodeIs(err, 409) {
				return err
			}
		}
		sg, err = groups.Get(ctx, s.network, groupID).Extract()
		if notFound(err) {
			return goneError("security group", groupID)
		}
		return err
	})
	if err != nil {
		return ActionResult{}, err
	}
	g := cloudSecurityGroup(*sg)
	return ActionResult{BackendID: sg.ID, Rules: g.Rules}, nil
}
