package orders_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/internal/temporalserver/temporaltest"
	"github.com/waldur-go/waldur/models"
)

// resourceOut is what these tests read back of a resource.
type resourceOut struct {
	Slug                 string  `json:"slug"`
	Downscaled           bool    `json:"downscaled"`
	Paused               bool    `json:"paused"`
	RestrictMemberAccess bool    `json:"restrict_member_access"`
	EndDate              *string `json:"end_date"`
	EndDateRequestedBy   *string `json:"end_date_requested_by"`
	Modified             string  `json:"modified"`
}

func (e *env) readResource(base, id string) resourceOut {
	e.t.Helper()
	w := e.do(http.MethodGet, base+id+"/", "staff", nil)
	require.Equal(e.t, http.StatusOK, w.Code, w.Body.String())
	return decode[resourceOut](e.t, w)
}

// doRaw sends body as it is (an invalid value, a missing key).
func (e *env) doRaw(method, path, user, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+e.toks[user])
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	return w
}

const (
	consumerBase = "/api/marketplace-resources/"
	providerBase = "/api/marketplace-provider-resources/"
)

// TestResourceFlags: staff set a resource's downscaled, paused and
// restrict_member_access flags on both views; a bad body is a field error
// and changes nothing; a caller who sees the resource but is not staff gets
// 403, one who does not see it 404.
func TestResourceFlags(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		id := e.mustOrder("owner", e.basic).ResourceUUID
		flag := func(r resourceOut, key string) bool {
			return map[string]bool{"downscaled": r.Downscaled, "paused": r.Paused, "restrict_member_access": r.RestrictMemberAccess}[key]
		}
		for _, base := range []string{consumerBase, providerBase} {
			// Who is refused: on the consumer's view the provider does not see it, on the provider's the consumer does not.
			refused := map[string]int{"owner": 403, "admin": 403, "member": 403, "support": 403, "provider": 404, "outsider": 404}
			if base == providerBase {
				refused = map[string]int{"owner": 404, "admin": 404, "member": 404, "support": 403, "provider": 403, "outsider": 404}
			}
			for _, key := range []string{"downscaled", "paused", "restrict_member_access"} {
				path := base + id + "/set_" + key + "/"
				want := base == consumerBase // the consumer's pass turns it on, the provider's off
				for user, code := range refused {
					w := e.do(http.MethodPost, path, user, map[string]any{key: want})
					require.Equal(t, code, w.Code, "%s %s: %s", user, path, w.Body.String())
				}
				before := e.readResource(base, id)
				require.Equal(t, !want, flag(before, key), "%s: nobody else changed it", path)
				for body, msg := range map[string]string{`{}`: "This field is required.", `{"` + key + `":"maybe"}`: "Must be a valid boolean.",
					`{"` + key + `":null}`: "This field may not be null."} {
					w := e.doRaw(http.MethodPost, path, "staff", body)
					require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
					require.JSONEq(t, `{"`+key+`":["`+msg+`"]}`, w.Body.String())
				}
				require.Equal(t, before, e.readResource(base, id), "a refused body changes nothing")

				w := e.do(http.MethodPost, path, "staff", map[string]any{key: want})
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				require.JSONEq(t, `{"status":"Resource `+key+` flag has been changed."}`, w.Body.String())
				after := e.readResource(consumerBase, id)
				require.Equal(t, want, flag(after, key))
				require.Equal(t, want, flag(e.readResource(providerBase, id), key), "both views show it")
				require.NotEqual(t, before.Modified, after.Modified, "modified is bumped")
				w = e.do(http.MethodPost, path, "staff", map[string]any{key: want})
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				require.JSONEq(t, `{"status":"Resource `+key+` flag is not changed."}`, w.Body.String())
			}
		}
		var n int64
		require.NoError(t, db.Table("events").Where("event_type IN ?", []string{"marketplace_resource_downscaled", "marketplace_resource_paused"}).Count(&n).Error)
		require.EqualValues(t, 2, n, "turning downscaled and paused on is recorded")
		w := e.do(http.MethodPost, consumerBase+models.NewUUID().String()+"/set_paused/", "staff", map[string]any{"paused": true})
		require.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
	})
}

// TestResourceSetSlug: staff set a resource's slug (Waldur's SlugField,
// at most 50 characters), which must not be another resource's.
func TestResourceSetSlug(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		id := e.mustOrder("owner", e.basic).ResourceUUID
		other := e.mustOrder("owner", e.auto).ResourceUUID
		for user, code := range map[string]int{"owner": 403, "member": 403, "support": 403, "provider": 404, "outsider": 404} {
			w := e.do(http.MethodPost, consumerBase+id+"/set_slug/", user, map[string]any{"slug": "mine"})
			require.Equal(t, code, w.Code, "%s: %s", user, w.Body.String())
		}
		for user, code := range map[string]int{"owner": 404, "support": 403, "provider": 403, "outsider": 404} {
			w := e.do(http.MethodPost, providerBase+id+"/set_slug/", user, map[string]any{"slug": "mine"})
			require.Equal(t, code, w.Code, "%s: %s", user, w.Body.String())
		}
		before := e.readResource(consumerBase, id)
		otherSlug := e.readResource(consumerBase, other).Slug
		require.NotEmpty(t, otherSlug)
		for body, msg := range map[string]string{
			`{}`:                    "This field is required.",
			`{"slug":""}`:           "This field may not be blank.",
			`{"slug":"not a slug"}`: "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
			`{"slug":"` + strings.Repeat("s", 51) + `"}`: "Ensure this field has no more than 50 characters.",
			`{"slug":"` + otherSlug + `"}`:               "Resource with this slug already exists.",
		} {
			w := e.doRaw(http.MethodPost, consumerBase+id+"/set_slug/", "staff", body)
			require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", body, w.Body.String())
			require.JSONEq(t, `{"slug":["`+msg+`"]}`, w.Body.String(), body)
		}
		require.Equal(t, before, e.readResource(consumerBase, id), "a refused body changes nothing")

		w := e.do(http.MethodPost, consumerBase+id+"/set_slug/", "staff", map[string]any{"slug": "hpc_account-1"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.JSONEq(t, `{"status":"Resource slug has been changed."}`, w.Body.String())
		require.Equal(t, "hpc_account-1", e.readResource(providerBase, id).Slug)
		w = e.do(http.MethodPost, providerBase+id+"/set_slug/", "staff", map[string]any{"slug": "hpc_account-1"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.JSONEq(t, `{"status":"Resource slug is not changed."}`, w.Body.String(), "its own slug is no duplicate")
		w = e.do(http.MethodPost, providerBase+other+"/set_slug/", "staff", map[string]any{"slug": "hpc_account-1"})
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.Equal(t, otherSlug, e.readResource(consumerBase, other).Slug)
		w = e.do(http.MethodPost, providerBase+models.NewUUID().String()+"/set_slug/", "staff", map[string]any{"slug": "x"})
		require.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
	})
}

// TestResourceSetEndDate: staff set a resource's end date on both views,
// the provider (RESOURCE.SET_END_DATE on the offering's customer) and global
// support on its own; the date is not before today, null clears it, and who
// set it is the resource's end_date_requested_by.
func TestResourceSetEndDate(t *testing.T) {
	srv := temporaltest.Start(t)
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, srv, db)
		id := e.mustOrder("owner", e.basic).ResourceUUID
		// admin also manages the offering: it sees the provider's view, without RESOURCE.SET_END_DATE on its customer.
		var offeringID int64
		require.NoError(t, db.Table("offerings").Where("uuid = ?", e.basic).Pluck("id", &offeringID).Error)
		e.grant("admin", models.RoleOfferingManager, models.Scope{Type: models.ScopeOffering, ID: offeringID}, e.provider.ID)
		userURL := func(name string) string { return "/api/users/" + e.users[name].UUID.String() + "/" }
		today := time.Now().UTC().Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")

		cases := []struct {
			path    string
			refused map[string]int
			allowed []string
		}{
			{consumerBase + id + "/set_end_date_by_staff/", map[string]int{"owner": 403, "admin": 403, "member": 403, "support": 403, "provider": 404, "outsider": 404}, []string{"staff"}},
			{providerBase + id + "/set_end_date_by_staff/", map[string]int{"owner": 404, "admin": 403, "member": 404, "support": 403, "provider": 403, "outsider": 404}, []string{"staff"}},
			{providerBase + id + "/set_end_date_by_provider/", map[string]int{"owner": 404, "admin": 403, "member": 404, "outsider": 404}, []string{"provider", "support", "staff"}},
		}
		for _, tc := range cases {
			for user, code := range tc.refused {
				w := e.do(http.MethodPost, tc.path, user, map[string]any{"end_date": "2099-01-31"})
				require.Equal(t, code, w.Code, "%s %s: %s", user, tc.path, w.Body.String())
			}
			require.Nil(t, e.readResource(consumerBase, id).EndDate, "%s: nobody else set it", tc.path)
			for body, msg := range map[string]string{
				`{"end_date":"` + yesterday + `"}`: "Cannot be earlier than the current date.",
				`{"end_date":"next week"}`:         "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
			} {
				w := e.doRaw(http.MethodPost, tc.path, tc.allowed[0], body)
				require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", body, w.Body.String())
				require.JSONEq(t, `{"end_date":["`+msg+`"]}`, w.Body.String(), body)
			}
			require.Nil(t, e.readResource(consumerBase, id).EndDate, "a refused body changes nothing")

			for _, user := range tc.allowed {
				w := e.do(http.MethodPost, tc.path, user, map[string]any{"end_date": "2099-01-31"})
				require.Equal(t, http.StatusOK, w.Code, "%s %s: %s", user, tc.path, w.Body.String())
				require.Empty(t, w.Body.String(), "no response body")
				r := e.readResource(consumerBase, id)
				require.Equal(t, "2099-01-31", *r.EndDate)
				require.NotNil(t, r.EndDateRequestedBy)
				require.True(t, strings.HasSuffix(*r.EndDateRequestedBy, userURL(user)), "%s: %s", user, *r.EndDateRequestedBy)

				w = e.doRaw(http.MethodPost, tc.path, user, `{}`)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				require.Equal(t, "2099-01-31", *e.readResource(providerBase, id).EndDate, "without end_date nothing changes")

				w = e.do(http.MethodPost, tc.path, user, map[string]any{"end_date": today})
				require.Equal(t, http.StatusOK, w.Code, "today is not in the past: %s", w.Body.String())
				require.Equal(t, today, *e.readResource(providerBase, id).EndDate)

				w = e.do(http.MethodPost, tc.path, user, map[string]any{"end_date": nil})
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				r = e.readResource(providerBase, id)
				require.Nil(t, r.EndDate, "null clears it")
				require.Nil(t, r.EndDateRequestedBy)
			}
		}
		var msgs []string
		require.NoError(t, db.Table("events").Where("event_type = ?", "marketplace_resource_update_end_date_succeeded").
			Order("id").Pluck("message", &msgs).Error)
		require.Len(t, msgs, 3*5)
		require.Equal(t, "End date of marketplace resource vm has been updated by staff. End date: 2099-01-31. User: staff.", msgs[0])
		require.Contains(t, msgs, "End date of marketplace resource vm has been updated by provider. End date: 2099-01-31. User: provider.")
		w := e.do(http.MethodPost, providerBase+models.NewUUID().String()+"/set_end_date_by_provider/", "provider", map[string]any{"end_date": nil})
		require.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
	})
}
