package openstacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Nova server groups (os-server-groups). A group has one policy; before
// microversion 2.64 it is given and shown as the list "policies" (with
// "metadata"), from 2.64 as "policy" with "rules" (max_server_per_host, for
// anti-affinity only). soft-affinity and soft-anti-affinity need 2.15.
// project_id and user_id show from 2.13. A server created with the scheduler
// hint group joins the group's members (server_group_members quota) and
// leaves it when it is gone; from 2.71 a server shows its group in
// server_groups. The emulator has one compute host and does not enforce
// placement: every member of an anti-affinity group lands on it.

func (e *Emulator) serverGroupRoutes(r route) {
	r("GET", "/os-server-groups", (*call).listServerGroups)
	r("POST", "/os-server-groups", (*call).createServerGroup)
	r("GET", "/os-server-groups/{id}", (*call).getServerGroup)
	r("DELETE", "/os-server-groups/{id}", (*call).deleteServerGroup)
}

// serverGroupPolicies are the policies a request at the call's microversion may ask for.
func (c *call) serverGroupPolicies() []string {
	p := []string{"anti-affinity", "affinity"}
	if c.novaAtLeast(15) {
		p = append(p, "soft-anti-affinity", "soft-affinity")
	}
	return p
}

func (c *call) renderServerGroup(g *ServerGroup) map[string]any {
	m := map[string]any{"id": g.ID, "name": g.Name, "members": nonNilStrings(g.Members)}
	if c.novaAtLeast(64) {
		rules := map[string]any{}
		if g.MaxServerPerHost > 0 {
			rules["max_server_per_host"] = g.MaxServerPerHost
		}
		m["policy"], m["rules"] = g.Policy, rules
	} else {
		m["policies"], m["metadata"] = []string{g.Policy}, map[string]string{}
	}
	if c.novaAtLeast(13) {
		m["project_id"], m["user_id"] = g.ProjectID, g.UserID
	}
	return m
}

func errGroupNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "Instance group %s could not be found.", id)
}

// serverGroup finds a group visible to the caller: its project's, or any for an admin.
func (c *call) serverGroup(id string) (*ServerGroup, *apiError) {
	g := c.s().groups.get(id)
	if g == nil || (g.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errGroupNotFound(id)
	}
	return g, nil
}

// schemaError is Nova's 400 for a request its JSON schema rejects.
func schemaError(field string, value any, reason string, args ...any) *apiError {
	var v string
	switch t := value.(type) {
	case string:
		v = t
	case json.RawMessage:
		v = string(t)
	default:
		b, _ := json.Marshal(value)
		v = string(b)
	}
	return errf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. %s", field, v, fmt.Sprintf(reason, args...))
}

// pyList renders names as Python prints a list of strings (in schema errors).
func pyList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// validName is Nova's parameter_types.name: 1 to 255 characters, no
// leading or trailing whitespace.
func validName(field string, raw json.RawMessage) (string, *apiError) {
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", schemaError(field, raw, "%s is not of type 'string'", raw)
	}
	if name == "" || len(name) > 255 || strings.TrimSpace(name) != name {
		return "", schemaError(field, name, "'%s' is not 1 to 255 characters without leading or trailing whitespace", name)
	}
	return name, nil
}

func (c *call) createServerGroup() *apiError {
	var b struct {
		ServerGroup map[string]json.RawMessage `json:"server_group"`
	}
	if err := c.decode(&b); err != nil {
		return err
	}
	in := b.ServerGroup
	if in == nil {
		return schemaError("server_group", nil, "'server_group' is a required property")
	}
	allowed, policyKey := []string{"name", "policies"}, "policies"
	if c.novaAtLeast(64) {
		allowed, policyKey = []string{"name", "policy", "rules"}, "policy"
	}
	for k := range in {
		if !slices.Contains(allowed, k) {
			return schemaError("server_group", in, "Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	for _, k := range []string{"name", policyKey} {
		if _, ok := in[k]; !ok {
			return schemaError("server_group", in, "'%s' is a required property", k)
		}
	}
	name, err := validName("name", in["name"])
	if err != nil {
		return err
	}
	known := c.serverGroupPolicies()
	var policy string
	maxPerHost := 0
	if c.novaAtLeast(64) {
		if json.Unmarshal(in["policy"], &policy) != nil {
			return schemaError("policy", in["policy"], "%s is not of type 'string'", in["policy"])
		}
		if !slices.Contains(known, policy) {
			return schemaError("policy", policy, "'%s' is not one of %s", policy, pyList(known))
		}
		if raw, ok := in["rules"]; ok {
			var rules map[string]json.RawMessage
			if json.Unmarshal(raw, &rules) != nil || rules == nil {
				return schemaError("rules", raw, "%s is not of type 'object'", raw)
			}
			for k, v := range rules {
				if k != "max_server_per_host" {
					return schemaError("rules", rules, "Additional properties are not allowed ('%s' was unexpected)", k)
				}
				n, ok := positiveInt(v)
				if !ok {
					return schemaError("max_server_per_host", v, "%s is not a positive integer", v)
				}
				maxPerHost = n
			}
		}
	} else {
		var policies []string
		if json.Unmarshal(in["policies"], &policies) != nil {
			return schemaError("policies", in["policies"], "%s is not of type 'array'", in["policies"])
		}
		switch {
		case len(policies) == 0:
			return schemaError("policies", policies, "[] is too short")
		case len(policies) > 1:
			return schemaError("policies", policies, "%s is too long", pyList(policies))
		case !slices.Contains(known, policies[0]):
			return schemaError("0", policies[0], "'%s' is not one of %s", policies[0], pyList(known))
		}
		policy = policies[0]
	}

	s := c.s()
	limits, usage := s.quotaLimits(c.projectID(), "compute"), s.computeUsage(c.projectID())
	if len(overQuota(limits, usage, map[string]int{"server_groups": 1})) > 0 {
		return errf(http.StatusForbidden, "Quota exceeded, too many server groups.")
	}
	if maxPerHost > 0 && policy != "anti-affinity" {
		return errf(http.StatusBadRequest, "Only anti-affinity policy supports rules.")
	}
	g := &ServerGroup{ID: uuid.NewString(), Name: name, ProjectID: c.projectID(), UserID: c.userID(), Policy: policy,
		MaxServerPerHost: maxPerHost, Members: []string{}, Created: c.now}
	s.groups.put(g.ID, g)
	c.json(http.StatusOK, map[string]any{"server_group": c.renderServerGroup(g)})
	return nil
}

// positiveInt reads a JSON integer ≥ 1, or its string form (Nova's positive_integer).
func positiveInt(raw json.RawMessage) (int, bool) {
	var n int
	if json.Unmarshal(raw, &n) != nil {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, false
		}
		var err error
		if n, err = strconv.Atoi(str); err != nil {
			return 0, false
		}
	}
	return n, n >= 1
}

func (c *call) listServerGroups() *apiError {
	q := c.query()
	all := boolParam(q, "all_projects")
	if all {
		if err := c.requireAdmin(); err != nil {
			return err
		}
	}
	var items []map[string]any
	for _, g := range c.s().groups.all() {
		if all || g.ProjectID == c.projectID() {
			items = append(items, c.renderServerGroup(g))
		}
	}
	items, err := skipOffset(items, q)
	if err != nil {
		return err
	}
	if l := q.Get("limit"); l != "" {
		n, perr := strconv.Atoi(l)
		if perr != nil || n < 0 {
			return schemaError("limit", l, "%s is not a non-negative integer", l)
		}
		if n > 0 && n < len(items) { // Nova's common.limited: 0 means no limit
			items = items[:n]
		}
	}
	c.json(http.StatusOK, map[string]any{"server_groups": nonNil(items)})
	return nil
}

func (c *call) getServerGroup() *apiError {
	g, err := c.serverGroup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.json(http.StatusOK, map[string]any{"server_group": c.renderServerGroup(g)})
	return nil
}

// deleteServerGroup answers 204; Nova deletes a group with members too (the
// servers stay, out of any group).
func (c *call) deleteServerGroup() *apiError {
	g, err := c.serverGroup(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.s().groups.del(g.ID)
	c.noContent(http.StatusNoContent)
	return nil
}

// requestedGroup validates a server create's scheduler hint group: a uuid
// (else 400, Nova's schema), a group the caller sees (else 400,
// InstanceGroupNotFound), with room under server_group_members (else 403).
// No hint: nil.
func (c *call) requestedGroup(hints map[string]any) (*ServerGroup, *apiError) {
	raw, ok := hints["group"]
	if !ok {
		return nil, nil
	}
	id, isStr := raw.(string)
	if !isStr {
		return nil, schemaError("group", raw, "%v is not of type 'string'", raw)
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, schemaError("group", id, "'%s' is not a 'uuid'", id)
	}
	g := c.s().groups.get(id)
	if g == nil || (g.ProjectID != c.projectID() && !c.isAdmin()) {
		return nil, errf(http.StatusBadRequest, "Instance group %s could not be found.", id)
	}
	limit := c.s().quotaLimits(g.ProjectID, "compute")["server_group_members"]
	if limit >= 0 && len(g.Members)+1 > limit {
		return nil, errf(http.StatusForbidden, "Quota exceeded, too many servers in group")
	}
	return g, nil
}

// groupsOf are the ids of the groups a server is a member of (Nova: at most one).
func (s *store) groupsOf(serverID string) []string {
	out := []string{}
	for _, g := range s.groups.all() {
		if slices.Contains(g.Members, serverID) {
			out = append(out, g.ID)
		}
	}
	return out
}

// leaveGroups removes a server that is gone from the members of its groups.
func (s *store) leaveGroups(serverID string) {
	for _, g := range s.groups.all() {
		g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == serverID })
	}
}
