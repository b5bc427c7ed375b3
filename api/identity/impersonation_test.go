package identity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

// TestImpersonation: staff act as a user with X-Impersonated-User-Uuid;
// the response names the impersonator, events record both, the user's
// token is not shown to the impersonator; non-staff get 403 and a target
// without a token 400.
func TestImpersonation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		as := func(caller, target string) map[string]string {
			h := f.as(caller)
			h[api.HeaderImpersonate] = target
			return h
		}
		target := f.users["user"]
		w := f.do("GET", "/api/users/me/", nil, as("staff", target.UUID.String()))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, f.users["staff"].UUID.String(), w.Header().Get(api.HeaderImpersonator))
		me := f.obj(w)
		require.Equal(t, "user", me["username"])
		require.NotContains(t, me, "token", "impersonation does not hand out the user's token")
		require.NotContains(t, me, "is_staff", "staff see what the user sees")

		// An event emitted during the impersonated request records both.
		w = f.do("POST", "/api/keys/", map[string]any{"name": "imp", "public_key": newEd25519Key(t, "imp")}, as("staff", target.UUID.Dashed()))
		require.Equal(t, 201, w.Code, w.Body.String())
		require.Equal(t, target.UUID.String(), f.obj(w)["user_uuid"], "acting as the user")
		ev := f.events("ssh_key_creation_succeeded")
		require.Len(t, ev, 1)
		require.Equal(t, target.UUID.String(), ev[0].Context["user_uuid"])
		require.Equal(t, f.users["staff"].UUID.String(), ev[0].Context["impersonator_uuid"])
		require.Equal(t, "staff", ev[0].Context["impersonator_username"])

		// Without the header, no impersonator.
		w = f.do("GET", "/api/users/me/", nil, f.as("staff"))
		require.Empty(t, w.Header().Get(api.HeaderImpersonator))
		require.Equal(t, "staff", f.obj(w)["username"])

		w = f.do("GET", "/api/users/me/", nil, as("user", f.users["owner"].UUID.String()))
		require.Equal(t, 403, w.Code, "only staff impersonate")
		require.Equal(t, 403, f.do("GET", "/api/users/me/", nil, as("support", target.UUID.String())).Code)

		require.NoError(t, f.st.DeleteToken(context.Background(), f.users["owner"].ID, nil))
		w = f.do("GET", "/api/users/me/", nil, as("staff", f.users["owner"].UUID.String()))
		require.Equal(t, 400, w.Code, "a target without a token")
		require.Equal(t, []any{"Unable to impersonate user which does not have an active session."}, f.obj(w)["non_field_errors"])
		require.Equal(t, 400, f.do("GET", "/api/users/me/", nil, as("staff", "not-a-uuid")).Code)
	})
}
