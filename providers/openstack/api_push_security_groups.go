package openstack

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
)

// A tenant's push_security_groups (Waldur's batch update of a tenant's
// security groups): groups with a UUID are updated, groups without are
// made, the tenant's groups not in the request are deleted (its default
// group stays), and the rules of every group pushed are replaced. One
// action on the tenant (UPDATE_SCHEDULED, then OK or ERRED), run by
// OpenStackAction. Who may: Waldur's is_administrator.

// pushSecurityGroupsRoutes registers the route.
func (m *routes) pushSecurityGroupsRoutes(a *gin.RouterGroup) {
	a.POST("/openstack-tenants/:uuid/push_security_groups/", api.RequireUser, api.H(m.pushSecurityGroups))
}

// pushKey is the key the request's errors are reported under (the body is a list).
const pushKey = "non_field_errors"

// @Summary	Push a tenant's security groups
// @Description	The body is a list of groups: {uuid (optional: a group of the tenant to update), name, description, rules (rules as set_rules takes them; remote_group_name names a group of the request or of the tenant)}. Groups with a UUID are updated, the others made, the tenant's groups not listed deleted (not its default group); each group's rules become exactly those given. 202 {"status": "push_security_groups was scheduled"}; 409 unless the tenant and its groups are OK; 400 for a malformed group or rule, a UUID of no group of the tenant, a name given twice.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-tenants/{uuid}/push_security_groups/ [post]
func (m *routes) pushSecurityGroups(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, form.MaxBody+1))
	if err != nil {
		return models.Errorf(models.CodeInvalid, "Could not read the request body.")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("null")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(append(append([]byte(`{"`+pushKey+`":`), body...), '}')))
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	items, _ := f.ObjList(pushKey, true)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var rows []struct {
		UUID      models.UUID
		BackendID string
		Name      string
		State     models.CoreState
	}
	if err := m.db.DB.WithContext(ctx).Table("openstack_security_groups").Select("uuid, backend_id, name, state").
		Where("tenant_id = ?", t.ID).Order("id").Scan(&rows).Error; err != nil {
		return models.Internal(err)
	}
	byUUID := map[models.UUID]int{}
	for i, r := range rows {
		byUUID[r.UUID] = i
	}
	push := PushSecurityGroupsRequest{Groups: []PushedGroup{}, Delete: []string{}}
	kept, names := map[int]bool{}, map[string]bool{}
	for i, it := range items {
		fail := func(msg string) { f.Fail(pushKey, fmt.Sprintf("Group %d: %s", i+1, msg)) }
		it.Require("name")
		name, _ := it.Str("name", 150, false)
		desc, _ := it.Str("description", 4096, true)
		g := PushedGroup{Name: name, Description: desc, Rules: []PushedRule{}}
		if it.Has("uuid") && !it.IsNull("uuid") {
			if id, ok := it.UUID("uuid"); ok {
				j, found := byUUID[id]
				switch {
				case !found:
					fail("uuid: No security group of the tenant has this UUID.")
				case isPending(rows[j].BackendID):
					fail("uuid: The security group is not in the cloud yet.")
				default:
					g.BackendID = rows[j].BackendID
					kept[j] = true
				}
			}
		} else if name == "default" {
			fail("name: Default security group is managed by OpenStack itself.")
		}
		if name != "" {
			if names[name] {
				fail("name: A name may be given once.")
			}
			names[name] = true
		}
		ruleItems, _ := it.ObjList("rules", false)
		cloud := m.readRules(c, f, pushKey, t.ID, ruleItems)
		for k, r := range cloud {
			pr := PushedRule{CloudRule: r}
			if ruleItems[k].Has("remote_group_name") && !ruleItems[k].IsNull("remote_group_name") {
				pr.RemoteGroupName, _ = ruleItems[k].Str("remote_group_name", 150, false)
			}
			g.Rules = append(g.Rules, pr)
		}
		for field, msgs := range it.Errors() {
			for _, msg := range msgs {
				fail(field + ": " + msg)
			}
		}
		push.Groups = append(push.Groups, g)
	}
	for j, r := range rows {
		if kept[j] || r.Name == "default" {
			continue
		}
		if isPending(r.BackendID) {
			continue // never made in the cloud: its own create or delete decides
		}
		push.Delete = append(push.Delete, r.BackendID)
	}
	// A remote group named: one of the request, or one of the tenant that stays.
	for i, g := range push.Groups {
		for _, r := range g.Rules {
			if r.RemoteGroupName == "" || names[r.RemoteGroupName] {
				continue
			}
			ok := false
			for j, row := range rows {
				ok = ok || row.Name == r.RemoteGroupName && (kept[j] || row.Name == "default")
			}
			if !ok {
				f.Fail(pushKey, fmt.Sprintf("Group %d: remote_group_name: No security group named %q.", i+1, r.RemoteGroupName))
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	for _, r := range rows {
		if busy(r.State) {
			return models.Errorf(models.CodeConflict, "Valid states for operation: OK.")
		}
	}
	if err := m.schedule(c, t, ScheduledAction{Action: "push_security_groups", Details: pushDetails(push)}); err != nil {
		return err
	}
	return scheduled(c, "push_security_groups")
}
