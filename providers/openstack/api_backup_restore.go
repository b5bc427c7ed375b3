package openstack

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
)

// A backup's restore (Waldur's openstack-backups restore): a new instance
// of the backup's tenant and project made from the backup's snapshots,
// with the flavor, name, ports, security groups and floating IPs asked.
// The instance row is answered at once (CREATION_SCHEDULED) and made in the
// cloud by OpenStackAction (OK, or ERRED with the cloud's message). Who
// may: Waldur's is_administrator over the backup's tenant's project.

// backupRestoreRoutes registers the route.
func (m *routes) backupRestoreRoutes(a *gin.RouterGroup) {
	a.POST("/openstack-backups/:uuid/restore/", api.RequireUser, api.H(m.restoreBackup))
}

// @Summary	Restore an instance from an OpenStack backup
// @Description	flavor (URL of a flavor of the backup's tenant, required), name (the backup's instance's when blank), ports ([{subnet}]: the backup's instance's subnets when absent), security_groups ([{url}]: the backup's instance's when absent), floating_ips ([{subnet}]: a subnet of the ports). A new instance is made from the backup's snapshots (its system volume booted). 200 with the instance (CREATION_SCHEDULED, then OK or ERRED); 409 unless the backup is OK; 400 for a flavor, subnet or group of another tenant, a floating IP on a subnet of no port, a backup without snapshots.
// @Tags		openstack-backups
// @Param		uuid	path	string	true	"UUID"
// @Success	200	{object}	Instance
// @Router		/api/openstack-backups/{uuid}/restore/ [post]
func (m *routes) restoreBackup(c *gin.Context) error {
	b, err := m.administered(c, KindBackup)
	if err != nil {
		return err
	}
	f, err := form.Read(c)
	if err != nil {
		return err
	}
	f.Require("flavor")
	fref, _ := f.Ref("flavor", "openstack-flavors", false, false)
	name, _ := f.Str("name", 150, true)
	portItems, hasPorts := f.ObjList("ports", false)
	groupItems, hasGroups := f.ObjList("security_groups", false)
	fipItems, _ := f.ObjList("floating_ips", false)
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request.Context()
	in := BackupRestoreInput{Name: name}
	if in.Flavor, err = m.db.Flavor(ctx, b.TenantID, fref.String()); models.IsCode(err, models.CodeNotFound) {
		return models.FieldError("flavor", "Flavor is not within the backup's tenant.")
	} else if err != nil {
		return err
	}
	src, err := m.db.BackupSourceOf(ctx, b.ID)
	if err != nil {
		return err
	}
	subnetOf := func(field string, it *form.Form) (SubnetRef, bool) {
		sref, ok := it.Ref("subnet", "openstack-subnets", false, true)
		if !ok {
			f.Fail(field, "Each item needs a subnet of the backup's tenant.")
			return SubnetRef{}, false
		}
		var rows []struct {
			BackendID string
			NetBID    string `gorm:"column:net_bid"`
		}
		if err := m.db.DB.WithContext(ctx).Table("openstack_subnets s").Select("s.backend_id, n.backend_id AS net_bid").
			Joins("JOIN openstack_networks n ON n.id = s.network_id").Where("s.uuid = ? AND s.tenant_id = ?", sref, b.TenantID).
			Scan(&rows).Error; err != nil || len(rows) == 0 || isPending(rows[0].BackendID) {
			f.Fail(field, "The subnet should belong to the backup's tenant and exist in the cloud.")
			return SubnetRef{}, false
		}
		return SubnetRef{SubnetID: rows[0].BackendID, NetworkID: rows[0].NetBID}, true
	}
	if hasPorts {
		for _, it := range portItems {
			if sn, ok := subnetOf("ports", it); ok {
				in.Ports = append(in.Ports, sn)
			}
		}
	} else {
		for _, p := range src.Ports {
			in.Ports = append(in.Ports, SubnetRef{SubnetID: p.SubnetBackendID, NetworkID: p.NetworkBackendID})
		}
	}
	for _, it := range fipItems {
		sn, ok := subnetOf("floating_ips", it)
		if !ok {
			continue
		}
		found := false
		for _, p := range in.Ports {
			found = found || p.SubnetID == sn.SubnetID
		}
		if !found {
			f.Fail("floating_ips", "The instance has no port in the subnet.")
			continue
		}
		in.FloatingIPSubnets = append(in.FloatingIPSubnets, sn.SubnetID)
	}
	if hasGroups {
		for _, it := range groupItems {
			gref, ok := it.Ref("url", "openstack-security-groups", false, true)
			if !ok {
				f.Fail("security_groups", "Each item needs the url of a security group.")
				continue
			}
			var rows []struct {
				BackendID string
				Name      string
			}
			if err := m.db.DB.WithContext(ctx).Table("openstack_security_groups").Select("backend_id, name").
				Where("uuid = ? AND tenant_id = ?", gref, b.TenantID).Scan(&rows).Error; err != nil {
				return models.Internal(err)
			}
			if len(rows) == 0 || isPending(rows[0].BackendID) {
				f.Fail("security_groups", fmt.Sprintf("Security group %s does not belong to the backup's tenant.", gref))
				continue
			}
			in.SecurityGroups = append(in.SecurityGroups, rows[0].BackendID)
		}
	} else {
		in.SecurityGroups = src.SecurityGroups
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireOK(b.State); err != nil {
		return err
	}
	o, err := m.db.RestoreBackup(ctx, b.ID, in)
	if err != nil {
		return err
	}
	m.start(c, o, "create")
	v, err := m.db.VisibleInstance(ctx, o.UUID)
	if err != nil {
		return err
	}
	x, err := m.instanceExtras(c, []InstanceView{*v})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, renderInstance(c, v, x))
}
