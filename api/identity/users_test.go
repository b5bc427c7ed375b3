package identity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestCreateUser: staff create users with Waldur's defaults and
// validation, and the creation events are fed to the new user.
func TestCreateUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		w := f.do("POST", "/api/users/", map[string]any{
			"username": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Liddell",
			"organization": "Wonderland", "is_support": true, "birth_date": "1990-05-17", "gender": 2,
			"nationalities": []string{"GB"}, "password": "rabbit-hole1", "unknown_field": 1,
		}, f.as("staff"))
		require.Equal(t, 201, w.Code, w.Body.String())
		u := f.obj(w)
		require.Equal(t, "alice", u["username"])
		require.Equal(t, "Alice Liddell", u["full_name"])
		require.Equal(t, true, u["is_support"])
		require.Equal(t, true, u["is_active"])
		require.Equal(t, false, u["is_staff"])
		require.EqualValues(t, models.DefaultTokenLifetime, u["token_lifetime"])
		require.Nil(t, u["token_expires_at"], "no token yet")
		require.Equal(t, "default", u["registration_method"])
		require.Equal(t, "1990-05-17", u["birth_date"])
		require.EqualValues(t, 2, u["gender"])
		require.Equal(t, []any{"GB"}, u["nationalities"])
		require.Equal(t, "alice-1", u["slug"])
		require.Equal(t, []any{}, u["permissions"])
		require.Regexp(t, `^http://example\.com/api/users/[0-9a-f]{32}/$`, u["url"])
		require.NotContains(t, u, "token", "staff do not see others' tokens")
		code, _ := f.login("alice", "rabbit-hole1", "192.0.2.1:1")
		require.Equal(t, 200, code, "the password given at creation works")

		ev := f.events("user_creation_succeeded", "user_has_been_created_by_staff")
		require.Len(t, ev, 2)
		require.Equal(t, "alice", ev[0].Context["affected_user_username"])
		require.Equal(t, "staff", ev[1].Context["user_username"], "the actor is recorded")
		var id int64
		require.NoError(t, db.Raw(`SELECT id FROM users WHERE username = 'alice'`).Scan(&id).Error)
		require.Equal(t, []models.Scope{{Type: models.ScopeUser, ID: id}}, ev[0].Feeds)

		w = f.do("POST", "/api/users/", map[string]any{"username": "nolife", "email": "n@example.com", "token_lifetime": nil}, f.as("staff"))
		require.Equal(t, 201, w.Code, w.Body.String())
		require.Nil(t, f.obj(w)["token_lifetime"], "null: no expiry")

		cases := []struct {
			name string
			body map[string]any
			want map[string]any
		}{
			{"missing", map[string]any{}, map[string]any{"username": []any{"This field is required."}, "email": []any{"This field is required."}}},
			{"taken", map[string]any{"username": "alice", "email": "a2@example.com"}, map[string]any{"username": []any{"User with this username already exists."}}},
			{"bad username", map[string]any{"username": "Alice!", "email": "a@example.com"},
				map[string]any{"username": []any{"Enter a valid username. This value may contain only lowercase letters, numbers and @/./+/-/_ characters."}}},
			{"bad email", map[string]any{"username": "bob", "email": "bob"}, map[string]any{"email": []any{"Enter a valid email address."}}},
			{"short lifetime", map[string]any{"username": "bob", "email": "b@example.com", "token_lifetime": 59},
				map[string]any{"token_lifetime": []any{"Ensure this value is greater than or equal to 60."}}},
			{"lifetime type", map[string]any{"username": "bob", "email": "b@example.com", "token_lifetime": "soon"},
				map[string]any{"token_lifetime": []any{"A valid integer is required."}}},
			{"flag type", map[string]any{"username": "bob", "email": "b@example.com", "is_staff": "perhaps"},
				map[string]any{"is_staff": []any{"Must be a valid boolean."}}},
			{"weak password", map[string]any{"username": "bob", "email": "b@example.com", "password": "abcdefgh"},
				map[string]any{"password": []any{"Ensure this field has at least one digit."}}},
			{"gender", map[string]any{"username": "bob", "email": "b@example.com", "gender": 5}, map[string]any{"gender": []any{`"5" is not a valid choice.`}}},
			{"long name", map[string]any{"username": "bob", "email": "b@example.com", "country_of_residence": "EST"},
				map[string]any{"country_of_residence": []any{"Ensure this field has no more than 2 characters."}}},
			{"list type", map[string]any{"username": "bob", "email": "b@example.com", "nationalities": "EE"},
				map[string]any{"nationalities": []any{`Expected a list of items but got type "str".`}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f.t = t
				w := f.do("POST", "/api/users/", c.body, f.as("staff"))
				require.Equal(t, 400, w.Code, w.Body.String())
				require.Equal(t, c.want, f.obj(w))
			})
		}
	})
}

// TestUpdateUser: users change their own profile once they agree with the
// policy; administrative fields are staff's (silently ignored for others,
// as DRF drops read-only fields); username and email cannot change here;
// the change events are emitted.
func TestUpdateUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		path := userPath(f.users["user"], "")
		w := f.do("PATCH", path, map[string]any{"job_title": "Tester"}, f.as("user"))
		require.Equal(t, 400, w.Code)
		require.Equal(t, map[string]any{"agree_with_policy": []any{"User must agree with the policy."}}, f.obj(w))

		w = f.do("PATCH", path, map[string]any{"agree_with_policy": true, "job_title": "Tester", "is_staff": true,
			"username": "renamed", "email": "new@example.com", "token_lifetime": 7200, "description": "x"}, f.as("user"))
		require.Equal(t, 200, w.Code, w.Body.String())
		u := f.obj(w)
		require.Equal(t, "Tester", u["job_title"])
		require.Equal(t, "user", u["username"], "username is read-only on update")
		require.Equal(t, "user@example.com", u["email"], "email is protected")
		require.EqualValues(t, 7200, u["token_lifetime"])
		require.NotNil(t, u["agreement_date"])
		p, err := f.st.UserProfileByUUID(context.Background(), f.users["user"].UUID)
		require.NoError(t, err)
		require.False(t, p.IsStaff, "users cannot make themselves staff")
		require.Empty(t, p.Description)

		// Agreed once: no need to repeat.
		w = f.do("PUT", path, map[string]any{"first_name": "Ulla"}, f.as("user"))
		require.Equal(t, 200, w.Code, w.Body.String())
		require.Equal(t, "Ulla Last", f.obj(w)["full_name"])

		// Staff change administrative fields without the user's agreement.
		opath := userPath(f.users["owner"], "")
		w = f.do("PATCH", opath, map[string]any{"is_active": false, "description": "left", "token_lifetime": nil, "slug": "the-owner"}, f.as("staff"))
		require.Equal(t, 200, w.Code, w.Body.String())
		o := f.obj(w)
		require.Equal(t, false, o["is_active"])
		require.Equal(t, "left", o["description"])
		require.Nil(t, o["token_lifetime"])
		require.Equal(t, "the-owner", o["slug"])
		require.Equal(t, 401, f.do("GET", "/api/users/me/", nil, f.as("owner")).Code, "a deactivated user's token stops working")
		w = f.do("PATCH", opath, map[string]any{"slug": "not a slug"}, f.as("staff"))
		require.Equal(t, 400, w.Code)

		types := func(evs []event) []string {
			var out []string
			for _, e := range evs {
				out = append(out, e.Type)
			}
			return out
		}
		ev := f.events("user_update_succeeded", "user_deactivated", "user_activated", "token_lifetime_updated")
		require.Equal(t, []string{"user_update_succeeded", "token_lifetime_updated", "user_update_succeeded",
			"user_update_succeeded", "user_deactivated", "token_lifetime_updated"}, types(ev))
		require.Equal(t, "owner", ev[4].Context["affected_user_username"])
		require.Equal(t, []models.Scope{{Type: models.ScopeUser, ID: f.users["owner"].ID}}, ev[4].Feeds)

		w = f.do("PATCH", opath, map[string]any{"is_active": true}, f.as("staff"))
		require.Equal(t, 200, w.Code)
		require.Len(t, f.events("user_activated"), 1)

		// Malformed bodies.
		require.Equal(t, 400, f.do("PATCH", path, `{"job_title": }`, f.as("user")).Code)
		w = f.do("PATCH", path, map[string]any{"job_title": nil}, f.as("user"))
		require.Equal(t, 400, w.Code)
		require.Equal(t, []any{"This field may not be null."}, f.obj(w)["job_title"])
		require.Equal(t, 404, f.do("PATCH", "/api/users/not-a-uuid/", map[string]any{}, f.as("staff")).Code)
	})
}

// TestChangePasswordAndTokens: Waldur's password rule, the events, and the
// staff-only token actions.
func TestChangePasswordAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		path := userPath(f.users["user"], "change_password/")
		for pw, msg := range map[string]string{
			"":         "This field may not be blank.",
			"a1":       "Ensure this field has at least 7 characters.",
			"abcdefgh": "Ensure this field has at least one digit.",
			"12345678": "Ensure this field has at least one latin letter.",
		} {
			w := f.do("POST", path, map[string]any{"new_password": pw}, f.as("user"))
			require.Equal(t, 400, w.Code, pw)
			require.Equal(t, map[string]any{"new_password": []any{msg}}, f.obj(w), pw)
		}
		w := f.do("POST", path, map[string]any{}, f.as("user"))
		require.Equal(t, map[string]any{"new_password": []any{"This field is required."}}, f.obj(w))

		w = f.do("POST", path, map[string]any{"new_password": "mine-1234"}, f.as("user"))
		require.Equal(t, 200, w.Code)
		require.Equal(t, map[string]any{"status": "password set"}, f.obj(w))
		code, _ := f.login("user", "mine-1234", "192.0.2.1:1")
		require.Equal(t, 200, code)
		code, _ = f.login("user", password, "192.0.2.1:1")
		require.Equal(t, 401, code)
		require.Equal(t, 200, f.do("POST", path, map[string]any{"new_password": "staffs-1234"}, f.as("staff")).Code)
		code, body := f.login("user", "staffs-1234", "192.0.2.1:1")
		require.Equal(t, 200, code)
		f.tokens["user"] = body["token"].(string) // the staff change revoked the old one
		ev := f.events("user_password_updated", "user_password_updated_by_staff")
		require.Len(t, ev, 2)
		require.Equal(t, "user_password_updated", ev[0].Type)
		require.Equal(t, "user_password_updated_by_staff", ev[1].Type)
		require.Equal(t, "user", ev[1].Context["affected_user_username"])

		// Token actions (staff only).
		w = f.do("GET", userPath(f.users["user"], "token/"), nil, f.as("staff"))
		require.Equal(t, 200, w.Code)
		tok := f.obj(w)
		require.Equal(t, f.tokens["user"], tok["token"])
		require.Equal(t, "user", tok["user_username"])
		w = f.do("POST", userPath(f.users["user"], "refresh_token/"), nil, f.as("staff"))
		require.Equal(t, 200, w.Code)
		fresh := f.obj(w)["token"].(string)
		require.NotEqual(t, f.tokens["user"], fresh)
		require.Equal(t, 401, f.do("GET", "/api/users/me/", nil, f.as("user")).Code, "the old token is gone")
		f.tokens["user"] = fresh
		require.Equal(t, 200, f.do("GET", "/api/users/me/", nil, f.as("user")).Code)
		noTok := f.addUser("notoken", nil)
		require.NoError(t, f.st.DeleteToken(context.Background(), noTok.ID, nil))
		require.Equal(t, 404, f.do("GET", userPath(noTok, "token/"), nil, f.as("staff")).Code)
	})
}

// TestChangePasswordRevokesOtherTokens: a password change revokes the
// user's tokens except the one of the request: staff changing a user's
// password (also while impersonating them) log the user out; a user
// changing their own stays logged in; the staff token is untouched.
func TestChangePasswordRevokesOtherTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		me := func(user string) int { return f.do("GET", "/api/users/me/", nil, f.as(user)).Code }
		change := func(target, caller string, hdr map[string]string) {
			t.Helper()
			w := f.do("POST", userPath(f.users[target], "change_password/"), map[string]any{"new_password": "changed-123"}, hdr)
			require.Equal(t, 200, w.Code, w.Body.String())
		}

		change("user", "staff", f.as("staff"))
		w := f.do("GET", "/api/users/me/", nil, f.as("user"))
		require.Equal(t, 401, w.Code, "the user's token died with the old password")
		require.Equal(t, "Invalid token.", f.obj(w)["detail"])
		require.Equal(t, 200, me("staff"))

		change("other", "other", f.as("other"))
		require.Equal(t, 200, me("other"), "the token of the request that changed it stays")

		imp := f.as("staff")
		imp[api.HeaderImpersonate] = f.users["owner"].UUID.String()
		change("owner", "staff", imp)
		require.Equal(t, 401, me("owner"), "the request's token was the staff user's")
		require.Equal(t, 200, me("staff"))
	})
}

// TestDeleteUser: staff delete users; the token dies with the user and
// the deletion event is stored.
func TestDeleteUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		v := f.addUser("doomed", func(p *store.UserProfile) {})
		require.Equal(t, 204, f.do("DELETE", userPath(v, ""), nil, f.as("staff")).Code)
		require.Equal(t, 401, f.do("GET", "/api/users/me/", nil, f.as("doomed")).Code)
		require.Equal(t, 404, f.do("GET", userPath(v, ""), nil, f.as("staff")).Code)
		require.Equal(t, 404, f.do("DELETE", userPath(v, ""), nil, f.as("staff")).Code)
		ev := f.events("user_deletion_succeeded")
		require.Len(t, ev, 1)
		require.Equal(t, "doomed", ev[0].Context["affected_user_username"])
	})
}
