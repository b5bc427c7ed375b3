package openstack

import (
	"bytes"
	"io"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// The networks', subnets' and security groups' pull (Waldur's pull of
// them: the tenant's pull, as the ports' and floating IPs'), and the
// server groups' own create (Waldur's openstack_server_groups_create: the
// tenant's create_server_group with the tenant named in the body).

// objectPullRoutes registers them.
func (m *routes) objectPullRoutes(a *gin.RouterGroup) {
	for _, k := range []Kind{KindNetwork, KindSubnet, KindSecurityGroup} {
		a.POST("/"+k.collection()+"/:uuid/pull/", api.RequireUser, api.H(m.pullObject(k)))
	}
	a.POST("/openstack-server-groups/", api.RequireUser, api.H(m.createServerGroupOfBody))
}

// @Summary	Create a server group
// @Description	tenant (the tenant's URL), name, description, policy (affinity, anti-affinity, soft-affinity, soft-anti-affinity; blank: affinity): the tenant's create_server_group. 400 without a tenant or with one the caller does not see; 403 unless the caller administers the tenant's project; 409 unless the tenant is OK.
// @Tags		openstack-server-groups
// @Success	201	{object}	ServerGroup
// @Router		/api/openstack-server-groups/ [post]
func (m *routes) createServerGroupOfBody(c *gin.Context) error {
	var b []byte
	if c.Request.Body != nil {
		var err error
		if b, err = io.ReadAll(io.LimitReader(c.Request.Body, form.MaxBody+1)); err != nil {
			return models.FieldError("tenant", form.MsgRequired)
		}
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	id, _ := f.Ref("tenant", "openstack-tenants", false, true)
	if err := f.Err(); err != nil {
		return err
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	c.Params = append(c.Params, gin.Param{Key: "uuid", Value: id.String()})
	err = m.createServerGroup(c)
	if models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("tenant", rest.MsgDoesNotExist)
	}
	return err
}
