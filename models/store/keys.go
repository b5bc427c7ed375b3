package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// SSHKey is a user's SSH public key (Waldur's core.SshPublicKey) and the
// row type the key list scans into. The fingerprints are computed by the
// caller from PublicKey.
type SSHKey struct {
	ID                int64 `gorm:"primaryKey"`
	UUID              models.UUID
	UserID            int64
	Name              string
	PublicKey         string
	Type              string
	FingerprintMD5    string `gorm:"column:fingerprint_md5"`
	FingerprintSHA256 string `gorm:"column:fingerprint_sha256"`
	FingerprintSHA512 string `gorm:"column:fingerprint_sha512"`
	IsShared          bool
	Created           time.Time
}

// TableName is the ssh_keys table.
func (SSHKey) TableName() string { return "ssh_keys" }

// SSHKeyFilter holds the filters of GET /api/keys/ (Waldur's SshKeyFilter).
type SSHKeyFilter struct {
	Name, NameExact                   string
	FingerprintMD5, FingerprintSHA256 string
	FingerprintSHA512                 string
	UUID, UserUUID                    *models.UUID
	IsShared                          *bool
	CreatedFrom                       *time.Time
}

// VisibleSSHKeys returns the query over the keys viewer may see: staff and
// support see all keys (Waldur's StaffOrUserFilter), anyone else their own.
func (s *Store) VisibleSSHKeys(ctx context.Context, viewer *models.User) *gorm.DB {
	q := s.DB.WithContext(ctx).Model(&SSHKey{})
	switch {
	case viewer == nil:
		return q.Where("1 = 0")
	case viewer.IsStaff || viewer.IsSupport:
		return q
	}
	return q.Where("ssh_keys.user_id = ?", viewer.ID)
}

// FilterSSHKeys applies f to q (a query over ssh_keys).
func FilterSSHKeys(q *gorm.DB, f SSHKeyFilter) *gorm.DB {
	if f.Name != "" {
		q = q.Where(icontains("ssh_keys.name"), likeEscape(f.Name))
	}
	for col, v := range map[string]string{"name": f.NameExact, "fingerprint_md5": f.FingerprintMD5,
		"fingerprint_sha256": f.FingerprintSHA256, "fingerprint_sha512": f.FingerprintSHA512} {
		if v != "" {
			q = q.Where("ssh_keys."+col+" = ?", v)
		}
	}
	if f.UUID != nil {
		q = q.Where("ssh_keys.uuid = ?", *f.UUID)
	}
	if f.UserUUID != nil {
		q = q.Where("ssh_keys.user_id IN (SELECT id FROM users WHERE uuid = ?)", *f.UserUUID)
	}
	if f.IsShared != nil {
		q = q.Where("ssh_keys.is_shared = ?", *f.IsShared)
	}
	if f.CreatedFrom != nil {
		q = q.Where("ssh_keys.created >= ?", *f.CreatedFrom)
	}
	return q
}

// SSHKeyOrdering is the ?o= of the key list; the default order is by name.
var SSHKeyOrdering = map[string]string{"name": "ssh_keys.name"}

// SSHKeyByUUID returns a key. Codes: not_found.
func (s *Store) SSHKeyByUUID(ctx context.Context, id models.UUID) (*SSHKey, error) {
	var k SSHKey
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&k).Error; err != nil {
		return nil, translate(err, "SSH key")
	}
	return &k, nil
}

// UserUUIDs maps user ids to UUIDs (for rendering owners of keys).
func (s *Store) UserUUIDs(ctx context.Context, ids []int64) (map[int64]models.UUID, error) {
	out := map[int64]models.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		UUID models.UUID
	}
	if err := s.DB.WithContext(ctx).Table("users").Select("id, uuid").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ID] = r.UUID
	}
	return out, nil
}

// CreateSSHKey inserts k, filling ID, UUID and Created, and emits ev (its
// context completed by the caller) in the same transaction. A user cannot
// hold two keys with the same name (Waldur's unique (user, name)) or the
// same fingerprint. Codes: invalid.
func (s *Store) CreateSSHKey(ctx context.Context, k *SSHKey, ev func(k *SSHKey) *models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var n int64
		if k.Name != "" {
			if err := db.Model(&SSHKey{}).Where("user_id = ? AND name = ?", k.UserID, k.Name).Count(&n).Error; err != nil {
				return models.Internal(err)
			}
			if n > 0 {
				return models.FieldError("name", "This field must be unique.")
			}
		}
		if err := db.Model(&SSHKey{}).Where("user_id = ? AND fingerprint_sha256 = ?", k.UserID, k.FingerprintSHA256).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return models.FieldError("public_key", "Public key with this fingerprint already exists.")
		}
		if k.UUID.IsZero() {
			k.UUID = models.NewUUID()
		}
		k.Created = tx.Now()
		if err := db.Create(k).Error; err != nil {
			e := translate(err, "SSH key")
			if models.IsCode(e, models.CodeConflict) {
				return models.FieldError("public_key", "Public key with this fingerprint already exists.")
			}
			return e
		}
		if ev == nil {
			return nil
		}
		return tx.EmitEvent(ctx, ev(k))
	})
}

// DeleteSSHKey removes the key and emits ev in the same transaction. Codes: not_found.
func (s *Store) DeleteSSHKey(ctx context.Context, id int64, ev *models.Event) error {
	return s.Tx(ctx, func(tx *Store) error {
		res := tx.DB.WithContext(ctx).Where("id = ?", id).Delete(&SSHKey{})
		if res.Error != nil {
			return translate(res.Error, "SSH key")
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "SSH key not found.")
		}
		if ev == nil {
			return nil
		}
		return tx.EmitEvent(ctx, ev)
	})
}

// ProviderUserKeys is the query over the SSH keys of a service provider's
// users: holders of a role in force on a project, or on its customer, that
// has a resource (not Terminated) of one of the provider customer's offerings.
func (s *Store) ProviderUserKeys(ctx context.Context, providerCustomerID int64, now time.Time) *gorm.DB {
	projects := s.DB.Table("resources r").Select("r.project_id").Joins("JOIN offerings f ON f.id = r.offering_id").
		Where("f.customer_id = ? AND r.state <> ?", providerCustomerID, models.ResourceTerminated)
	customers := s.DB.Table("projects").Select("customer_id").Where("id IN (?)", projects)
	users := s.DB.Table("user_roles ur").Select("ur.user_id").
		Where(rbac.InForce("ur", now)).
		Where("(ur.scope_type = ? AND ur.scope_id IN (?)) OR (ur.scope_type = ? AND ur.scope_id IN (?))",
			models.ScopeProject, projects, models.ScopeCustomer, customers)
	return s.DB.WithContext(ctx).Model(&SSHKey{}).Where("ssh_keys.user_id IN (?)", users)
}
