package offeringusers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/offeringusers"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// people: "owner" owns the provider customer, "manager" is OFFERING.MANAGER
// of the anonymized offering, "member" is a member of a project of the
// provider, "other" owns another customer, "alice" and "bob" are users who
// get accounts, "plain" holds nothing.
var people = []string{"staff", "support", "owner", "manager", "member", "other", "alice", "bob", "plain"}

type env struct {
	t        *testing.T
	st       *store.Store
	srv      *api.Server
	users    map[string]*models.User
	toks     map[string]string
	anon     *store.Offering // username_generation_policy anonymized, prefix "hpc_"
	manual   *store.Offering // service_provider policy
	closed   *store.Offering // does not let the provider create users
	provider *models.Customer
}

func newEnv(t *testing.T, db *gorm.DB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: store.New(db), users: map[string]*models.User{}, toks: map[string]string{}}
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	e.srv = api.New(api.Deps{DB: db, Users: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		offeringusers.New(offeringusers.Deps{Store: e.st, RBAC: chk}))
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Doe",
			IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		e.users[name], e.toks[name] = u, tok.Key
	}
	actx := models.WithActor(ctx, models.Actor{User: e.users["staff"]})
	e.provider = &models.Customer{Name: "HPC centre"}
	require.NoError(t, e.st.CreateCustomer(actx, e.provider))
	project := &models.Project{Name: "In-house"}
	require.NoError(t, e.st.CreateProject(actx, project, e.provider))
	foreign := &models.Customer{Name: "Elsewhere"}
	require.NoError(t, e.st.CreateCustomer(actx, foreign))
	now := time.Now().UTC()
	var cat int64
	require.NoError(t, db.Raw(`INSERT INTO categories (uuid, title, created, modified) VALUES (?, 'HPC', ?, ?) RETURNING id`,
		models.NewUUID(), now, now).Scan(&cat).Error)
	offering := func(name, opts string) *store.Offering {
		id := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": id, "name": name, "customer_id": e.provider.ID,
			"category_id": cat, "type": models.OfferingSlurm, "state": models.OfferingActive, "plugin_options": opts,
			"created": now, "modified": now}).Error)
		o, err := e.st.OfferingByUUID(ctx, id)
		require.NoError(t, err)
		return o
	}
	e.anon = offering("Cluster", `{"service_provider_can_create_offering_user":true,"username_generation_policy":"anonymized","username_anonymized_prefix":"hpc_"}`)
	e.manual = offering("Storage", `{"service_provider_can_create_offering_user":true}`)
	e.closed = offering("Closed", `{}`)
	e.grant("owner", models.RoleCustomerOwner, e.provider.Scope(), e.provider.ID)
	e.grant("manager", models.RoleOfferingManager, e.anon.Scope(), e.provider.ID)
	e.grant("member", models.RoleProjectMember, project.Scope(), e.provider.ID)
	e.grant("other", models.RoleCustomerOwner, foreign.Scope(), foreign.ID)
	return e
}

func (e *env) grant(user, role string, scope models.Scope, customerID int64) {
	e.t.Helper()
	r, err := e.st.RoleByName(context.Background(), role)
	require.NoError(e.t, err)
	_, err = e.st.GrantRole(models.WithActor(context.Background(), models.Actor{User: e.users["staff"]}), store.Grant{
		User: e.users[user], Role: r, Scope: scope, CustomerID: customerID, CreatedBy: e.users["staff"],
		EventScopes: []models.Scope{scope}, ScopeName: "x"})
	require.NoError(e.t, err)
}

// do sends a request and validates every 2xx answer against the OpenAPI file.
func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(e.t, err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code >= 200 && w.Code < 300 && method != http.MethodHead {
		apitest.ValidateResponse(e.t, req, w)
	}
	return w
}

func (e *env) ok(want int, method, path, user string, body any, out any) {
	e.t.Helper()
	w := e.do(method, path, user, body)
	require.Equal(e.t, want, w.Code, "%s %s as %s: %s", method, path, user, w.Body.String())
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out), w.Body.String())
	}
}

type ouOut struct {
	URL, UUID, User, Offering, Username, State string
	OfferingUUID                               string `json:"offering_uuid"`
	UserUUID                                   string `json:"user_uuid"`
	UserUsername                               string `json:"user_username"`
	CustomerUUID                               string `json:"customer_uuid"`
	IsRestricted                               bool   `json:"is_restricted"`
	Comment                                    string `json:"service_provider_comment"`
	CommentURL                                 string `json:"service_provider_comment_url"`
}

const base = "/api/marketplace-offering-users/"

func (e *env) create(user string, o *store.Offering, who string, extra map[string]any) *httptest.ResponseRecorder {
	body := map[string]any{"offering": "http://x/api/marketplace-provider-offerings/" + o.UUID.String() + "/",
		"user": "http://x/api/users/" + e.users[who].UUID.String() + "/"}
	for k, v := range extra {
		body[k] = v
	}
	return e.do("POST", base, user, body)
}

func TestOfferingUserLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)

		// The anonymized offering names accounts itself: OK at once.
		var a ouOut
		w := e.create("owner", e.anon, "alice", nil)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a))
		require.Equal(t, "hpc_00000", a.Username)
		require.Equal(t, "OK", a.State)
		require.Equal(t, e.anon.UUID.String(), a.OfferingUUID)
		require.Equal(t, e.users["alice"].UUID.String(), a.UserUUID)
		require.Equal(t, "alice", a.UserUsername)
		require.Equal(t, e.provider.UUID.String(), a.CustomerUUID)
		require.True(t, strings.HasSuffix(a.URL, base+a.UUID+"/"), a.URL)
		require.True(t, strings.HasSuffix(a.User, "/api/users/"+a.UserUUID+"/"), a.User)

		// The manual offering waits for the provider: the site agent walks it to OK.
		// Offering users are the provider customer's (OFFERING.CREATE_USER on offering.customer):
		// not the offering manager's.
		bob := map[string]any{"offering_uuid": e.anon.UUID.Dashed(), "user_uuid": e.users["bob"].UUID.String(), "username": "bob_hpc"}
		require.Equal(t, http.StatusForbidden, e.do("POST", base, "manager", bob).Code)
		var b ouOut
		e.ok(http.StatusCreated, "POST", base, "owner", bob, &b)
		require.Equal(t, "bob_hpc", b.Username)
		require.Equal(t, "OK", b.State)
		var m ouOut
		e.ok(http.StatusCreated, "POST", base, "owner", map[string]any{
			"offering_uuid": e.manual.UUID.String(), "user_uuid": e.users["alice"].UUID.String()}, &m)
		require.Equal(t, "", m.Username)
		require.Equal(t, "Requested", m.State)
		path := base + m.UUID + "/"

		e.ok(http.StatusOK, "POST", path+"begin_creating/", "owner", nil, nil)
		require.Equal(t, http.StatusConflict, e.do("POST", path+"begin_creating/", "owner", nil).Code)
		e.ok(http.StatusOK, "POST", path+"set_pending_account_linking/", "owner",
			map[string]any{"comment": "Link your account", "comment_url": "https://idp.example.com/link"}, nil)
		var got ouOut
		e.ok(http.StatusOK, "GET", path, "owner", nil, &got)
		require.Equal(t, "Pending account linking", got.State)
		require.Equal(t, "Link your account", got.Comment)
		require.Equal(t, "https://idp.example.com/link", got.CommentURL)
		require.Equal(t, http.StatusBadRequest, e.do("POST", path+"set_pending_additional_validation/", "owner",
			map[string]any{"comment_url": "not a url"}).Code)
		e.ok(http.StatusOK, "POST", path+"set_pending_additional_validation/", "owner", map[string]any{"comment": "Upload your ID"}, nil)
		e.ok(http.StatusOK, "POST", path+"set_validation_complete/", "owner", nil, nil)
		e.ok(http.StatusOK, "GET", path, "owner", nil, &got)
		require.Equal(t, "OK", got.State)
		require.Empty(t, got.Comment)
		require.Empty(t, got.CommentURL)

		// A username set while being created completes the account.
		var m2 ouOut
		e.ok(http.StatusCreated, "POST", base, "owner", map[string]any{
			"offering_uuid": e.manual.UUID.String(), "user_uuid": e.users["bob"].UUID.String()}, &m2)
		e.ok(http.StatusOK, "POST", base+m2.UUID+"/begin_creating/", "owner", nil, nil)
		e.ok(http.StatusOK, "PATCH", base+m2.UUID+"/", "owner", map[string]any{"username": "bob_store"}, &got)
		require.Equal(t, "bob_store", got.Username)
		require.Equal(t, "OK", got.State)
		e.ok(http.StatusOK, "PUT", base+m2.UUID+"/", "owner", map[string]any{"username": "bob2"}, &got)
		require.Equal(t, "bob2", got.Username)

		// Deletion goes through its states; errors are reported by the agent.
		for _, step := range []struct {
			action string
			want   int
		}{
			{"set_deleting", http.StatusConflict}, {"request_deletion", 200}, {"set_error_deleting", 200},
			{"set_deleting", 200}, {"set_deleted", 200}, {"set_ok", http.StatusConflict},
		} {
			require.Equal(t, step.want, e.do("POST", base+m2.UUID+"/"+step.action+"/", "owner", nil).Code, step.action)
		}
		e.ok(http.StatusOK, "GET", base+m2.UUID+"/", "owner", nil, &got)
		require.Equal(t, "Deleted", got.State)

		// Restriction and comments.
		e.ok(http.StatusOK, "POST", path+"update_restricted/", "owner", map[string]any{"is_restricted": true}, nil)
		require.Equal(t, http.StatusBadRequest, e.do("POST", path+"update_restricted/", "owner", map[string]any{}).Code)
		var cm map[string]string
		e.ok(http.StatusOK, "PATCH", path+"update_comments/", "owner",
			map[string]any{"service_provider_comment": "Quota raised", "service_provider_comment_url": "https://hpc.example.com/news"}, &cm)
		require.Equal(t, map[string]string{"service_provider_comment": "Quota raised", "service_provider_comment_url": "https://hpc.example.com/news"}, cm)
		e.ok(http.StatusOK, "GET", path, "alice", nil, &got)
		require.True(t, got.IsRestricted)
		require.Equal(t, "Quota raised", got.Comment)

		e.ok(http.StatusNoContent, "DELETE", path, "owner", nil, nil)
		require.Equal(t, http.StatusNotFound, e.do("GET", path, "owner", nil).Code)

		var events int64
		require.NoError(t, db.Table("events").Where("event_type IN ?", []string{"marketplace_offering_user_created",
			"marketplace_offering_user_deleted", "marketplace_offering_user_restriction_updated"}).Count(&events).Error)
		require.EqualValues(t, 4+1+1, events)
	})
}

func TestOfferingUserCreateRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		user := "http://x/api/users/" + e.users["alice"].UUID.String() + "/"
		off := "http://x/api/marketplace-provider-offerings/" + e.anon.UUID.String() + "/"
		tests := []struct {
			name, caller string
			body         any
			want         int
			field        string
		}{
			{"both forms", "owner", map[string]any{"offering": off, "offering_uuid": e.anon.UUID.String(), "user": user}, 400, "non_field_errors"},
			{"no offering", "owner", map[string]any{"user": user}, 400, "offering"},
			{"no user", "owner", map[string]any{"offering": off}, 400, "user"},
			{"bad url", "owner", map[string]any{"offering": "http://x/api/projects/" + e.anon.UUID.String() + "/", "user": user}, 400, "offering"},
			{"unknown offering", "owner", map[string]any{"offering_uuid": models.NewUUID().String(), "user": user}, 400, "offering"},
			{"unknown user", "owner", map[string]any{"offering": off, "user_uuid": models.NewUUID().String()}, 400, "user"},
			{"too long username", "owner", map[string]any{"offering": off, "user": user, "username": strings.Repeat("x", 101)}, 400, "username"},
			{"offering does not allow it", "staff", map[string]any{"offering_uuid": e.closed.UUID.String(), "user": user}, 400, "non_field_errors"},
			{"project member", "member", map[string]any{"offering": off, "user": user}, 403, ""},
			{"owner of another customer", "other", map[string]any{"offering": off, "user": user}, 403, ""},
			{"support", "support", map[string]any{"offering": off, "user": user}, 403, ""},
			{"the user themself", "alice", map[string]any{"offering": off, "user": user}, 403, ""},
			{"anonymous", "nobody", map[string]any{"offering": off, "user": user}, 401, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do("POST", base, tt.caller, tt.body)
				require.Equal(t, tt.want, w.Code, w.Body.String())
				if tt.field != "" {
					var errs map[string]any
					require.NoError(t, json.Unmarshal(w.Body.Bytes(), &errs))
					require.Contains(t, errs, tt.field, w.Body.String())
				}
			})
		}
		require.Equal(t, http.StatusCreated, e.create("staff", e.anon, "alice", nil).Code)
		w := e.create("owner", e.anon, "alice", nil)
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.Contains(t, w.Body.String(), "The fields offering, user must make a unique set.")
	})
}

func TestOfferingUserVisibilityAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		ids := map[string]string{}
		for _, c := range []struct {
			key   string
			o     *store.Offering
			who   string
			extra map[string]any
		}{
			{"anon-alice", e.anon, "alice", nil},
			{"anon-bob", e.anon, "bob", nil},
			{"manual-alice", e.manual, "alice", nil},
			{"manual-bob", e.manual, "bob", map[string]any{"username": "bobby"}},
		} {
			var out ouOut
			w := e.create("owner", c.o, c.who, c.extra)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
			ids[c.key] = out.UUID
		}
		e.ok(http.StatusOK, "POST", base+ids["anon-bob"]+"/update_restricted/", "owner", map[string]any{"is_restricted": true}, nil)

		list := func(user, query string) []string {
			t.Helper()
			var out []ouOut
			e.ok(http.StatusOK, "GET", base+query, user, nil, &out)
			var keys []string
			for _, o := range out {
				for k, id := range ids {
					if id == o.UUID {
						keys = append(keys, k)
					}
				}
			}
			return keys
		}
		all := []string{"anon-alice", "anon-bob", "manual-alice", "manual-bob"}
		for _, tt := range []struct {
			user, query string
			want        []string
		}{
			{"staff", "", all},
			{"support", "", all},
			{"owner", "", all},
			{"manager", "", []string{"anon-alice", "anon-bob"}},
			{"alice", "", []string{"anon-alice", "manual-alice"}},
			{"member", "", nil},
			{"other", "", nil},
			{"plain", "", nil},
			{"staff", "?offering_uuid=" + e.manual.UUID.Dashed(), []string{"manual-alice", "manual-bob"}},
			{"staff", "?offering_uuid=" + e.manual.UUID.String() + "," + e.anon.UUID.String(), all},
			{"staff", "?offering=http://x/api/marketplace-provider-offerings/" + e.anon.UUID.String() + "/", []string{"anon-alice", "anon-bob"}},
			{"staff", "?user_uuid=" + e.users["bob"].UUID.String(), []string{"anon-bob", "manual-bob"}},
			{"staff", "?user_username=ALICE", []string{"anon-alice", "manual-alice"}},
			{"staff", "?provider_uuid=" + e.provider.UUID.String(), all},
			{"staff", "?is_restricted=false&offering_uuid=" + e.anon.UUID.String(), []string{"anon-alice"}},
			{"staff", "?state=Requested", []string{"manual-alice"}},
			{"staff", "?state=Requested&state=OK&o=-username", all},
			{"staff", "?query=storage", []string{"manual-alice", "manual-bob"}},
			{"staff", "?query=hpc_0000", []string{"anon-alice", "anon-bob"}},
		} {
			t.Run(tt.user+tt.query, func(t *testing.T) {
				require.ElementsMatch(t, tt.want, list(tt.user, tt.query))
			})
		}
		require.Equal(t, http.StatusBadRequest, e.do("GET", base+"?state=ok", "staff", nil).Code)
		require.Equal(t, http.StatusBadRequest, e.do("GET", base+"?offering_uuid=nope", "staff", nil).Code)
		require.Equal(t, http.StatusBadRequest, e.do("GET", base+"?is_restricted=maybe", "staff", nil).Code)

		// Ordered by username by default (Waldur's Meta.ordering).
		var ordered []ouOut
		e.ok(http.StatusOK, "GET", base+"?offering_uuid="+e.anon.UUID.String(), "staff", nil, &ordered)
		require.Equal(t, []string{"hpc_00000", "hpc_00001"}, []string{ordered[0].Username, ordered[1].Username})

		// The agent's membership_sync query: only the fields it asks for.
		w := e.do("GET", base+"?field=user_uuid&field=username&field=url&field=state&field=uuid&field=user_username&is_restricted=false&offering_uuid="+
			e.manual.UUID.String()+"&page_size=100", "manager", nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.JSONEq(t, "[]", w.Body.String(), "the manager of another offering sees none")
		w = e.do("GET", base+"?field=user_uuid&field=username&field=url&field=state&field=uuid&field=user_username&is_restricted=false&offering_uuid="+
			e.manual.UUID.String()+"&page_size=100", "owner", nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, "2", w.Header().Get("X-Result-Count"))
		var rows []map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &rows))
		for _, r := range rows {
			require.Len(t, r, 6)
			for _, k := range []string{"user_uuid", "username", "url", "state", "uuid", "user_username"} {
				require.Contains(t, r, k)
			}
		}

		// Retrieve and changes: who sees, who may change.
		for _, tt := range []struct {
			user             string
			get, patch, del  int
			action, restrict int
		}{
			{"plain", 404, 404, 404, 404, 404},
			{"member", 404, 404, 404, 404, 404},
			{"other", 404, 404, 404, 404, 404},
			{"alice", 200, 403, 403, 403, 403},
			{"support", 200, 403, 403, 403, 403},
			{"manager", 200, 403, 403, 403, 403},
			{"owner", 200, 200, 204, 200, 200},
		} {
			t.Run("anon-alice as "+tt.user, func(t *testing.T) {
				p := base + ids["anon-alice"] + "/"
				require.Equal(t, tt.get, e.do("GET", p, tt.user, nil).Code)
				require.Equal(t, tt.patch, e.do("PATCH", p, tt.user, map[string]any{"username": "x_" + tt.user}).Code)
				require.Equal(t, tt.restrict, e.do("POST", p+"update_restricted/", tt.user, map[string]any{"is_restricted": false}).Code)
				require.Equal(t, tt.action, e.do("POST", p+"request_deletion/", tt.user, nil).Code)
				require.Equal(t, tt.del, e.do("DELETE", p, tt.user, nil).Code)
			})
		}
		require.Equal(t, http.StatusNotFound, e.do("GET", base+"not-a-uuid/", "staff", nil).Code)
	})
}
