package store

import (
	"context"

	"github.com/waldur-go/waldur/models"
)

// UsersQuery returns the users the caller may see (VisibleUsers, at the
// store's clock), narrowed by f (FilterUsers), as a query over UserProfile
// rows, for the user list.
func (s *Store) UsersQuery(ctx context.Context, f UserFilter) Query {
	now := s.Now()
	return QueryOf(FilterUsers(s.VisibleUsers(ctx, caller(ctx), now), f, now))
}

// VisibleUser returns the user if the caller may see it (see VisibleUsers).
// Codes: not_found ("Not found.").
func (s *Store) VisibleUser(ctx context.Context, id models.UUID) (*UserProfile, error) {
	var p UserProfile
	q := s.VisibleUsers(ctx, caller(ctx), s.Now()).Where("users.uuid = ?", id)
	if err := q.Limit(1).Find(&p).Error; err != nil {
		return nil, models.Internal(err)
	}
	if p.ID == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return &p, nil
}

// SSHKeysQuery returns the SSH keys the caller may see (VisibleSSHKeys),
// narrowed by f (FilterSSHKeys), as a query over SSHKey rows, for the key
// list.
func (s *Store) SSHKeysQuery(ctx context.Context, f SSHKeyFilter) Query {
	return QueryOf(FilterSSHKeys(s.VisibleSSHKeys(ctx, caller(ctx)), f))
}

// VisibleSSHKey returns the key if the caller may see it (see
// VisibleSSHKeys). Codes: not_found ("Not found.").
func (s *Store) VisibleSSHKey(ctx context.Context, id models.UUID) (*SSHKey, error) {
	var k SSHKey
	if err := s.VisibleSSHKeys(ctx, caller(ctx)).Where("ssh_keys.uuid = ?", id).Limit(1).Find(&k).Error; err != nil {
		return nil, models.Internal(err)
	}
	if k.ID == 0 {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	return &k, nil
}
