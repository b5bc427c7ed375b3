package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestSSHKeys: names and fingerprints are unique per user, not across
// users; users see their own keys, staff and support all; filters apply.
func TestSSHKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		ctx := context.Background()
		st, _ := idtStore(db)
		ann := idtUser(t, st, "ann", nil)
		ben := idtUser(t, st, "ben", nil)
		staff := idtUser(t, st, "staff", func(p *store.UserProfile) { p.IsStaff = true })
		key := func(u *store.UserProfile, name, fp string) error {
			k := &store.SSHKey{UserID: u.ID, Name: name, PublicKey: "ssh-ed25519 AAAA" + fp, Type: "ssh-ed25519",
				FingerprintMD5: "md5-" + fp, FingerprintSHA256: "SHA256:" + fp, FingerprintSHA512: "SHA512:" + fp}
			return st.CreateSSHKey(ctx, k, func(k *store.SSHKey) *models.Event {
				return &models.Event{EventType: "ssh_key_creation_succeeded", Message: "x", Scopes: []models.Scope{{Type: models.ScopeUser, ID: k.UserID}}}
			})
		}
		require.NoError(t, key(ann, "laptop", "a"))
		require.NoError(t, key(ann, "", "b"))
		require.NoError(t, key(ann, "", "c"), "blank names may repeat")
		require.NoError(t, key(ben, "laptop", "a"), "another user may reuse name and key")
		err := key(ann, "laptop", "z")
		require.True(t, models.IsCode(err, models.CodeInvalid))
		require.Equal(t, []string{"This field must be unique."}, err.(*models.Error).Fields["name"])
		err = key(ann, "desk", "a")
		require.True(t, models.IsCode(err, models.CodeInvalid))
		require.Contains(t, err.(*models.Error).Fields, "public_key")

		count := func(q *gorm.DB) int64 {
			var n int64
			require.NoError(t, q.Count(&n).Error)
			return n
		}
		require.EqualValues(t, 3, count(st.VisibleSSHKeys(ctx, &ann.User)))
		require.EqualValues(t, 1, count(st.VisibleSSHKeys(ctx, &ben.User)))
		require.EqualValues(t, 4, count(st.VisibleSSHKeys(ctx, &staff.User)))
		require.EqualValues(t, 0, count(st.VisibleSSHKeys(ctx, nil)))
		all := st.VisibleSSHKeys(ctx, &staff.User)
		require.EqualValues(t, 2, count(store.FilterSSHKeys(all, store.SSHKeyFilter{Name: "LAP"})))
		require.EqualValues(t, 1, count(store.FilterSSHKeys(st.VisibleSSHKeys(ctx, &staff.User), store.SSHKeyFilter{Name: "lap", UserUUID: &ben.UUID})))
		require.EqualValues(t, 2, count(store.FilterSSHKeys(st.VisibleSSHKeys(ctx, &staff.User), store.SSHKeyFilter{FingerprintSHA256: "SHA256:a"})))

		var k store.SSHKey
		require.NoError(t, st.VisibleSSHKeys(ctx, &ann.User).Where("name = ?", "laptop").Take(&k).Error)
		got, err := st.SSHKeyByUUID(ctx, k.UUID)
		require.NoError(t, err)
		require.Equal(t, "SHA512:a", got.FingerprintSHA512)
		require.NoError(t, st.DeleteSSHKey(ctx, k.ID, nil))
		require.True(t, models.IsCode(st.DeleteSSHKey(ctx, k.ID, nil), models.CodeNotFound))
		require.EqualValues(t, 2, count(st.VisibleSSHKeys(ctx, &ann.User)))
	})
}
