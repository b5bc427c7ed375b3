package openstack

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The security groups made, changed and deleted through the API (Waldur's
// create_security_group of a tenant, and the group's update, set_rules and
// destroy). The row is made at once (CREATION_SCHEDULED, with a
// placeholder backend id) and is the creation's outbox; OpenStackAction
// makes the group in the cloud and records its id and rules (OK), or
// leaves it ERRED. Who may: Waldur's is_administrator on the tenant's
// project.

// securityGroupRoutes registers the security groups' own routes (their
// update, set_ok, set_erred and unlink are actionRoutes').
func (m *routes) securityGroupRoutes(a *gin.RouterGroup) {
	a.POST("/openstack-tenants/:uuid/create_security_group/", api.RequireUser, api.H(m.createSecurityGroup))
	g := a.Group("/openstack-security-groups", api.RequireUser)
	g.DELETE("/:uuid/", api.H(m.deleteObject(KindSecurityGroup)))
	g.POST("/:uuid/set_rules/", api.H(m.setSecurityGroupRules))
}

// renderNameDescription is the answer to an update of an object in a
// tenant (Waldur's OpenStackSecurityGroupUpdate: name and description).
func (m *routes) renderNameDescription(c *gin.Context, k Kind, id int64) error {
	var cur struct{ Name, Description string }
	if err := m.db.DB.WithContext(c.Request.Context()).Table(k.table()).Select("name, description").Where("id = ?", id).
		Scan(&cur).Error; err != nil {
		return models.Internal(err)
	}
	return rest.Render(c, http.StatusOK, gin.H{"name": cur.Name, "description": cur.Description})
}

// readRules reads Waldur's security group rules (OpenStackSecurityGroupRuleCreateRequest):
// ethertype IPv4 or IPv6 (IPv4), direction ingress or egress (ingress),
// protocol tcp, udp, icmp or blank (any), from_port and to_port (-1 or
// absent: any), cidr (a network of the ethertype's family), description,
// remote_group (a group of the same tenant). Errors are recorded on f
// under key.
func (m *routes) readRules(c *gin.Context, f *form.Form, key string, tenantID int64, items []*form.Form) []CloudRule {
	out := []CloudRule{}
	for i, it := range items {
		r := CloudRule{}
		r.EtherType, _ = it.Choice("ethertype", map[string]bool{"IPv4": true, "IPv6": true}, false)
		r.Direction, _ = it.Choice("direction", map[string]bool{"ingress": true, "egress": true}, false)
		r.Protocol, _ = it.Choice("protocol", map[string]bool{"tcp": true, "udp": true, "icmp": true}, true)
		r.EtherType, r.Direction = firstNonEmpty(r.EtherType, "IPv4"), firstNonEmpty(r.Direction, "ingress")
		if v, ok := it.Int("from_port", -2147483648, 65535, true); ok && v != nil {
			r.FromPort = ptr(int(*v))
		}
		if v, ok := it.Int("to_port", -2147483648, 65535, true); ok && v != nil {
			r.ToPort = ptr(int(*v))
		}
		if r.FromPort != nil && r.ToPort != nil && *r.FromPort > 0 && *r.ToPort > 0 && *r.FromPort > *r.ToPort {
			it.Fail("to_port", "Invalid port range: to_port should be greater than or equal to from_port.")
		}
		if (r.FromPort != nil && *r.FromPort > 0 || r.ToPort != nil && *r.ToPort > 0) && r.Protocol == "" {
			it.Fail("protocol", "Port range can be specified only for TCP, UDP or ICMP.")
		}
		if cidr, isNull, ok := it.NullableStr("cidr", 255, true); ok && !isNull && cidr != "" {
			pfx, err := netip.ParsePrefix(cidr)
			switch {
			case err != nil || pfx.Masked() != pfx:
				it.Fail("cidr", "Expected CIDR format: <0-255>.<0-255>.<0-255>.<0-255>/<0-32>")
			case pfx.Addr().Is4() != (r.EtherType == "IPv4"):
				it.Fail("cidr", "The CIDR's IP version does not match the ethertype.")
			default:
				r.CIDR = pfx.String()
			}
		}
		r.Description, _ = it.Str("description", 4096, true)
		if it.Has("remote_group") && !it.IsNull("remote_group") {
			if ref, ok := it.Ref("remote_group", "openstack-security-groups", true, false); ok {
				var ids []string
				if err := m.db.DB.WithContext(c.Request.Context()).Table("openstack_security_groups").
					Where("uuid = ? AND tenant_id = ?", ref, tenantID).Pluck("backend_id", &ids).Error; err != nil {
					it.Fail("remote_group", err.Error())
				} else if len(ids) == 0 || isPending(ids[0]) {
					it.Fail("remote_group", "Remote security group should belong to the same tenant and exist in the cloud.")
				} else {
					r.RemoteGroupBackendID = ids[0]
				}
			}
		}
		for field, msgs := range it.Errors() {
			for _, msg := range msgs {
				f.Fail(key, fmt.Sprintf("Rule %d: %s: %s", i+1, field, msg))
			}
		}
		out = append(out, r)
	}
	return out
}

// @Summary	Create a security group in an OpenStack tenant
// @Description	name, description, rules. The group is answered at once (201, CREATION_SCHEDULED) and made in the cloud (OK, with its backend id and rules), or ERRED. 409 unless the tenant is OK; 400 for a name another group of the tenant has, or a bad rule.
// @Tags		openstack-tenants
// @Param		uuid	path	string	true	"UUID"
// @Success	201	{object}	SecurityGroup
// @Router		/api/openstack-tenants/{uuid}/create_security_group/ [post]
func (m *routes) createSecurityGroup(c *gin.Context) error {
	t, err := m.administered(c, KindTenant)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("name", "rules")
	name, _ := f.Str("name", 150, false)
	desc, _ := f.Str("description", 4096, true)
	items, _ := f.ObjList("rules", true)
	rules := m.readRules(c, f, "rules", t.ID, items)
	if name != "" {
		if name == "default" {
			f.Fail("name", "Default security group is managed by OpenStack itself.")
		} else if err := m.uniqueName(c, f, KindSecurityGroup, "tenant_id", t.ID, 0, name); err != nil {
			return err
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(t.State); err != nil {
		return err
	}
	ctx := c.Request.Context()
	o, err := m.db.CreateObject(ctx, KindSecurityGroup, t.ID, map[string]any{"name": name, "description": desc, "rules": rawJSON(rules)},
		map[string]any{"rules": rules})
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	v, err := m.db.VisibleCatalogItem(ctx, CatalogSecurityGroups, o.UUID)
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, renderSecurityGroup(c, v))
}

// @Summary	Replace a security group's rules
// @Description	The body is the list of rules; the group's rules in the cloud become exactly these. 202 {"status": "Rules update was successfully scheduled."} (Waldur's); 409 unless the group is OK.
// @Tags		openstack-security-groups
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-security-groups/{uuid}/set_rules/ [post]
func (m *routes) setSecurityGroupRules(c *gin.Context) error {
	o, err := m.administered(c, KindSecurityGroup)
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
	// The body is a list: read as the rules of an object.
	c.Request.Body = io.NopCloser(bytes.NewReader(append(append([]byte(`{"rules":`), body...), '}')))
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	items, _ := f.ObjList("rules", true)
	rules := m.readRules(c, f, "rules", o.TenantID, items)
	if err := f.Err(); err != nil {
		return err
	}
	if err := m.schedule(c, o, ScheduledAction{Action: "set_rules", Details: map[string]any{"rules": rules}}); err != nil {
		return err
	}
	return rest.Render(c, http.StatusAccepted, gin.H{"status": "Rules update was successfully scheduled."})
}

// @Summary	Delete an object in an OpenStack tenant (security group, network, subnet, port, router, floating IP, server group, snapshot, backup)
// @Description	202 {"status": "destroy was scheduled"} (Waldur's structure delete): DELETION_SCHEDULED, then the object is deleted in the cloud (one already gone is deleted; a network takes its subnets along, a router loses its interfaces first, a backup takes its snapshots) and its row goes. 409 unless the object is OK or ERRED; 400 for a port a router or the network owns (Neutron's refusal).
// @Tags		openstack-security-groups
// @Param		uuid	path	string	true	"UUID"
// @Success	202	{object}	map[string]string
// @Router		/api/openstack-security-groups/{uuid}/ [delete]
// @Router		/api/openstack-networks/{uuid}/ [delete]
// @Router		/api/openstack-subnets/{uuid}/ [delete]
// @Router		/api/openstack-ports/{uuid}/ [delete]
// @Router		/api/openstack-routers/{uuid}/ [delete]
// @Router		/api/openstack-floating-ips/{uuid}/ [delete]
// @Router		/api/openstack-server-groups/{uuid}/ [delete]
// @Router		/api/openstack-snapshots/{uuid}/ [delete]
// @Router		/api/openstack-backups/{uuid}/ [delete]
func (m *routes) deleteObject(k Kind) api.Handler {
	return func(c *gin.Context) error {
		o, err := m.administered(c, k)
		if err != nil {
			return err
		}
		if k == KindPort { // Neutron's refusal, seen here: a router's or the network's own port
			owner, err := columnOf[string](c.Request.Context(), m.db, k, o.ID, "device_owner")
			if err != nil {
				return err
			}
			if strings.HasPrefix(owner, "network:") {
				return models.Errorf(models.CodeInvalid, "Port %s is owned by %s: remove it through its router or network.", o.Name, owner)
			}
		}
		if err := m.schedule(c, o, ScheduledAction{Action: "delete", To: models.CoreDeletionScheduled,
			From: []models.CoreState{models.CoreOK, models.CoreErred}}); err != nil {
			return err
		}
		return scheduled(c, "destroy")
	}
}
