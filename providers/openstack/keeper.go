package openstack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/waldur-go/waldur/activities"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
)

// Keeper is the activities.ScopeKeeper of the OpenStack offering types: it
// records tenants, instances and volumes as the scopes of their
// marketplace resources, resolves what instance and volume orders refer to
// (their tenant and its cloud, flavor, image, subnets, security groups,
// SSH key, volume type, instance) for the provider, and records what the
// provider read back.
//
// Order attributes (Waldur's names; references are API URLs or UUIDs):
//
//	OpenStack.Tenant    name, description, subnet_cidr, user_username, user_password,
//	                    availability_zone, skip_connection_extnet, security_groups
//	OpenStack.Instance  tenant (an OpenStack tenant, or its marketplace resource; may be
//	                    left out when the project has one tenant), flavor, image,
//	                    system_volume_size and data_volume_size (MiB), system_volume_type,
//	                    data_volume_type, ports [{subnet}], security_groups [{url}],
//	                    ssh_public_key (one of the creator's /api/keys/), user_data,
//	                    availability_zone, floating_ips [{subnet}] (any: one floating IP)
//	OpenStack.Volume    tenant, size (MiB), type, image, instance (attach to), availability_zone
type Keeper struct {
	Store *Store
}

var _ activities.ScopeKeeper = (*Keeper)(nil)

// keepers maps the OpenStack offering types to k (for Orders.Scopes).
func keepers(k *Keeper) map[string]activities.ScopeKeeper {
	return map[string]activities.ScopeKeeper{OfferingTenant: k, OfferingInstance: k, OfferingVolume: k}
}

// pending is the plugin state of an order's resource: scheduled while the
// order waits for a review, in progress once it runs.
func pending(o models.Order, scheduled, running models.CoreState) models.CoreState {
	if o.State == models.OrderExecuting {
		return running
	}
	return scheduled
}

// OrderLoaded implements activities.ScopeKeeper.
func (k *Keeper) OrderLoaded(ctx context.Context, info *store.OrderInfo, req *providers.Request) error {
	o := info.Order
	switch o.Type {
	case models.OrderUpdate:
		err := k.Store.SetScopeState(ctx, info.OfferingType, o.ResourceID, pending(o, models.CoreUpdateScheduled, models.CoreUpdating), "")
		if err != nil && !models.IsCode(err, models.CodeNotFound) {
			return err
		}
	case models.OrderTerminate:
		err := k.Store.SetScopeState(ctx, info.OfferingType, o.ResourceID, pending(o, models.CoreDeletionScheduled, models.CoreDeleting), "")
		if err != nil && !models.IsCode(err, models.CodeNotFound) {
			return err
		}
	}
	switch info.OfferingType {
	case OfferingTenant:
		if o.Type != models.OrderCreate {
			return nil
		}
		a := attrs(o.Attributes)
		return k.Store.EnsureTenant(ctx, &TenantRow{ResourceID: &o.ResourceID, ProjectID: o.ProjectID,
			OfferingID: o.OfferingID, Name: info.ResourceName, Description: a.str("description"), State: pending(o, models.CoreCreationScheduled, models.CoreCreating),
			AvailabilityZone: a.str("availability_zone"), UserUsername: a.str("user_username"),
			SkipCreationOfDefaultRouter: a.bool("skip_creation_of_default_router") || a.bool("skip_connection_extnet")})
	case OfferingInstance, OfferingVolume:
		refs, err := k.resolve(ctx, info)
		if err != nil {
			return err
		}
		req.Resolved = providers.MustEncode(refs)
		return nil
	}
	return nil
}

// OrderCompleted implements activities.ScopeKeeper.
func (k *Keeper) OrderCompleted(ctx context.Context, tx *store.Store, info *store.OrderInfo, res providers.Result) error {
	snap, err := providers.Decode[Snapshot](res.Pulled)
	if err != nil {
		return fmt.Errorf("the provider's read-back is malformed: %w", err)
	}
	return NewStore(tx).CompleteScope(ctx, info.OfferingType, info.Order.Type, info.Order.ResourceID, snap)
}

// OrderFailed implements activities.ScopeKeeper.
func (k *Keeper) OrderFailed(ctx context.Context, tx *store.Store, info *store.OrderInfo, message string) error {
	return NewStore(tx).FailScope(ctx, info.OfferingType, info.Order.ResourceID, message)
}

// attributes reads order attributes loosely (JSON numbers, strings, references).
type attributes map[string]any

func attrs(m map[string]any) attributes { return attributes(m) }

func (a attributes) str(k string) string {
	switch v := a[k].(type) {
	case string:
		return strings.TrimSpace(v)
	case map[string]any: // {"url": ...} as Waldur's nested references
		for _, key := range []string{"url", "uuid"} {
			if s, ok := v[key].(string); ok {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

func (a attributes) int(k string) int64 {
	switch v := a[k].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	case string:
		var n int64
		_, _ = fmt.Sscan(v, &n)
		return n
	}
	return 0
}

func (a attributes) bool(k string) bool {
	switch v := a[k].(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "True" || v == "1"
	}
	return false
}

// list reads a list attribute of references: strings, or objects with the
// reference under one of keys.
func (a attributes) list(k string, keys ...string) []string {
	items, _ := a[k].([]any)
	var out []string
	for _, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, strings.TrimSpace(v))
		case map[string]any:
			for _, key := range keys {
				if s, ok := v[key].(string); ok && s != "" {
					out = append(out, strings.TrimSpace(s))
					break
				}
			}
		}
	}
	return out
}

// ref is the object a reference names: the last UUID-looking segment of an
// API URL, or the value itself (a UUID, backend id or name).
func ref(v string) string {
	v = strings.TrimSuffix(strings.TrimSpace(v), "/")
	if i := strings.LastIndex(v, "/"); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// resolve builds the Refs of an instance or volume order. A reference to
// nothing is recorded in Refs.Error (the provider fails the order with
// it); only database failures are returned.
func (k *Keeper) resolve(ctx context.Context, info *store.OrderInfo) (Refs, error) {
	o := info.Order
	a := attrs(o.Attributes)
	var refs Refs
	fail := func(format string, args ...any) (Refs, error) {
		return Refs{Error: fmt.Sprintf(format, args...)}, nil
	}
	notFound := func(err error) bool { return models.IsCode(err, models.CodeNotFound) }

	// The tenant: named by the order (Create), or the plugin row's (Update, Terminate).
	var tenant *TenantRow
	var instance *InstanceRow
	var volume *VolumeRow
	var err error
	if o.Type == models.OrderCreate {
		if t := a.str("tenant"); t != "" {
			id, perr := models.ParseUUID(ref(t))
			if perr != nil {
				return fail("Tenant %q is not a tenant reference.", t)
			}
			if tenant, err = k.Store.TenantByRef(ctx, id); notFound(err) {
				return fail("Tenant %s not found.", t)
			} else if err != nil {
				return refs, err
			}
		} else if tenant, err = k.onlyTenant(ctx, o.ProjectID); err != nil {
			return refs, err
		} else if tenant == nil {
			return fail("The order names no tenant (attribute tenant), and its project has not exactly one.")
		}
		if tenant.ProjectID != o.ProjectID {
			return fail("Tenant %s is not in the order's project.", tenant.Name)
		}
		if tenant.State != models.CoreOK || tenant.BackendID == "" {
			return fail("Tenant %s is not ready (state %s).", tenant.Name, tenant.State)
		}
	} else {
		tenantID := int64(0)
		if info.OfferingType == OfferingInstance {
			if instance, err = k.Store.InstanceOfResource(ctx, o.ResourceID); err == nil {
				tenantID = instance.TenantID
			}
		} else if volume, err = k.Store.VolumeOfResource(ctx, o.ResourceID); err == nil {
			tenantID = volume.TenantID
		}
		if notFound(err) {
			return fail("The resource has no OpenStack %s.", strings.TrimPrefix(info.OfferingType, "OpenStack."))
		} else if err != nil {
			return refs, err
		}
		if tenant, err = k.Store.TenantByID(ctx, tenantID); err != nil {
			return refs, err
		}
	}
	secrets, err := k.Store.TenantSecrets(ctx, tenant.ID)
	if err != nil {
		return refs, err
	}
	conn, cerr := ConnectionFrom(secrets)
	if cerr != nil {
		return fail("%s", message(cerr))
	}
	refs.Connection, refs.TenantBackendID, refs.ExternalNetworkID = conn, tenant.BackendID, tenant.ExternalNetworkID
	refs.AvailabilityZone = firstOf(a.str("availability_zone"), tenant.AvailabilityZone, conn.AvailabilityZone)
	if o.Type != models.OrderCreate {
		if instance != nil && o.Type == models.OrderTerminate {
			// Its backups' snapshots go with it (CompleteScope removes the rows).
			if refs.BackupSnapshots, err = k.Store.BackupSnapshotsOf(ctx, instance.ID); err != nil {
				return refs, err
			}
		}
		if volume != nil {
			refs.Size = a.int("size")
			if v, ok := o.Limits["size"]; ok {
				refs.Size = v
			}
		}
		return refs, nil
	}

	if info.OfferingType == OfferingVolume {
		return k.resolveVolume(ctx, info, tenant, refs)
	}
	// An instance.
	if refs.Flavor, err = k.Store.Flavor(ctx, tenant.ID, ref(a.str("flavor"))); notFound(err) || a.str("flavor") == "" {
		return fail("Flavor %q not found in tenant %s.", a.str("flavor"), tenant.Name)
	} else if err != nil {
		return refs, err
	}
	image, err := k.Store.Image(ctx, tenant.ID, ref(a.str("image")))
	if notFound(err) || a.str("image") == "" {
		return fail("Image %q not found in tenant %s.", a.str("image"), tenant.Name)
	} else if err != nil {
		return refs, err
	}
	refs.ImageBackendID, refs.ImageName = image.BackendID, image.Name
	refs.SystemVolumeSize, refs.DataVolumeSize = a.int("system_volume_size"), a.int("data_volume_size")
	if refs.SystemVolumeSize > 0 && refs.SystemVolumeSize < image.MinDisk {
		return fail("The system volume (%d MiB) is smaller than image %s needs (%d MiB).", refs.SystemVolumeSize, image.Name, image.MinDisk)
	}
	for key, dst := range map[string]*string{"system_volume_type": &refs.SystemVolumeType, "data_volume_type": &refs.DataVolumeType} {
		if v := a.str(key); v != "" {
			vt, err := k.Store.VolumeType(ctx, tenant.ID, ref(v))
			if notFound(err) {
				return fail("Volume type %q not found in tenant %s.", v, tenant.Name)
			} else if err != nil {
				return refs, err
			}
			*dst = vt.Name
		}
	}
	subnets := a.list("ports", "subnet")
	for _, sn := range subnets {
		s, err := k.Store.Subnet(ctx, tenant.ID, ref(sn))
		if notFound(err) {
			return fail("Subnet %q not found in tenant %s.", sn, tenant.Name)
		} else if err != nil {
			return refs, err
		}
		refs.Subnets = append(refs.Subnets, SubnetRef{SubnetID: s.BackendID, NetworkID: s.NetworkBackendID})
	}
	if len(subnets) == 0 && tenant.SubnetID != "" {
		refs.Subnets = []SubnetRef{{SubnetID: tenant.SubnetID, NetworkID: tenant.InternalNetworkID}}
	}
	groups := a.list("security_groups", "url", "uuid", "name")
	if len(groups) == 0 {
		groups = []string{"default"}
	}
	for _, g := range groups {
		sg, err := k.Store.SecurityGroup(ctx, tenant.ID, ref(g))
		if notFound(err) {
			if len(a.list("security_groups", "url", "uuid", "name")) == 0 {
				continue // no default group recorded: the port gets Neutron's
			}
			return fail("Security group %q not found in tenant %s.", g, tenant.Name)
		} else if err != nil {
			return refs, err
		}
		refs.SecurityGroups = append(refs.SecurityGroups, sg.BackendID)
	}
	var key *store.SSHKey
	if v := a.str("ssh_public_key"); v != "" {
		id, perr := models.ParseUUID(ref(v))
		if perr != nil {
			return fail("SSH key %q is not a key reference.", v)
		}
		key, err = k.Store.SSHKeyByUUID(ctx, id)
		if notFound(err) || (err == nil && !key.IsShared && (o.CreatedByID == nil || key.UserID != *o.CreatedByID)) {
			return fail("SSH key %s not found.", v)
		} else if err != nil {
			return refs, err
		}
		refs.PublicKey = key.PublicKey
	}
	refs.UserData = a.str("user_data")
	refs.FloatingIP = len(a.list("floating_ips", "subnet", "url")) > 0 || a.bool("floating_ip")
	in := &InstanceRow{ResourceID: &o.ResourceID, ProjectID: o.ProjectID, TenantID: tenant.ID, Name: info.ResourceName,
		Description: a.str("description"), State: pending(o, models.CoreCreationScheduled, models.CoreCreating), FlavorName: refs.Flavor.Name,
		FlavorDisk: refs.Flavor.Disk, Cores: refs.Flavor.Cores, RAM: refs.Flavor.RAM, Disk: refs.Flavor.Disk + refs.SystemVolumeSize + refs.DataVolumeSize,
		MinRAM: image.MinRAM, MinDisk: image.MinDisk, ImageName: image.Name, UserData: refs.UserData, AvailabilityZone: refs.AvailabilityZone}
	if key != nil {
		in.KeyName, in.KeyFingerprint = key.Name, key.FingerprintMD5
	}
	if err := k.Store.EnsureInstance(ctx, in); err != nil {
		return refs, err
	}
	return refs, nil
}

func (k *Keeper) resolveVolume(ctx context.Context, info *store.OrderInfo, tenant *TenantRow, refs Refs) (Refs, error) {
	o := info.Order
	a := attrs(o.Attributes)
	fail := func(format string, args ...any) (Refs, error) {
		return Refs{Error: fmt.Sprintf(format, args...)}, nil
	}
	refs.Size = a.int("size")
	if v, ok := o.Limits["size"]; ok && refs.Size == 0 {
		refs.Size = v
	}
	if refs.Size <= 0 {
		return fail("The order gives no volume size (attribute size, MiB).")
	}
	row := &VolumeRow{ResourceID: &o.ResourceID, ProjectID: o.ProjectID, TenantID: tenant.ID, Name: info.ResourceName,
		Description: a.str("description"), State: pending(o, models.CoreCreationScheduled, models.CoreCreating), Size: refs.Size,
		AvailabilityZone: refs.AvailabilityZone}
	if v := a.str("type"); v != "" {
		vt, err := k.Store.VolumeType(ctx, tenant.ID, ref(v))
		if models.IsCode(err, models.CodeNotFound) {
			return fail("Volume type %q not found in tenant %s.", v, tenant.Name)
		} else if err != nil {
			return refs, err
		}
		refs.VolumeType, row.TypeName = vt.Name, vt.Name
	}
	if v := a.str("image"); v != "" {
		im, err := k.Store.Image(ctx, tenant.ID, ref(v))
		if models.IsCode(err, models.CodeNotFound) {
			return fail("Image %q not found in tenant %s.", v, tenant.Name)
		} else if err != nil {
			return refs, err
		}
		refs.ImageBackendID, row.ImageName, row.Bootable = im.BackendID, im.Name, true
	}
	if v := a.str("instance"); v != "" {
		id, perr := models.ParseUUID(ref(v))
		if perr != nil {
			return fail("Instance %q is not an instance reference.", v)
		}
		in, err := k.Store.InstanceByRef(ctx, id)
		if models.IsCode(err, models.CodeNotFound) || (err == nil && (in.TenantID != tenant.ID || in.BackendID == "")) {
			return fail("Instance %s not found in tenant %s.", v, tenant.Name)
		} else if err != nil {
			return refs, err
		}
		refs.InstanceBackendID, row.InstanceID = in.BackendID, &in.ID
	}
	if err := k.Store.EnsureVolume(ctx, row); err != nil {
		return refs, err
	}
	return refs, nil
}

// onlyTenant is the project's one OK tenant, nil when it has none or several.
func (k *Keeper) onlyTenant(ctx context.Context, projectID int64) (*TenantRow, error) {
	var ts []TenantRow
	if err := k.Store.DB.WithContext(ctx).Where("project_id = ? AND state = ?", projectID, models.CoreOK).Limit(2).Find(&ts).Error; err != nil {
		return nil, models.Internal(err)
	}
	if len(ts) != 1 {
		return nil, nil
	}
	return &ts[0], nil
}

// message is an application error's caller-safe message.
func message(err error) string {
	var me *models.Error
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
