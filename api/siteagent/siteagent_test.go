package siteagent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/api/siteagent"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// people: "owner" owns the provider, "agent" is OFFERING.MANAGER of the
// offering (the account the site agent runs as), "member" is a member of a
// provider project, "other" owns another customer, "plain" holds nothing.
var people = []string{"staff", "support", "owner", "agent", "member", "other", "plain"}

type env struct {
	t        *testing.T
	db       *gorm.DB
	st       *store.Store
	srv      *api.Server
	tracker  *siteagent.Tracker
	now      time.Time
	users    map[string]*models.User
	toks     map[string]string
	offering *store.Offering
	foreign  *store.Offering // an offering of "other"
}

// offeringPage stands in for the catalog's provider offering route, which
// the agent reads first (GET /api/marketplace-provider-offerings/{uuid}/).
type offeringPage struct{}

func (offeringPage) Routes(a *gin.RouterGroup, _ *gin.Engine) {
	a.GET("/marketplace-provider-offerings/:uuid/", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
}

func newEnv(t *testing.T, db *gorm.DB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, st: store.New(db), users: map[string]*models.User{}, toks: map[string]string{},
		now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	chk, err := rbac.NewChecker(db)
	require.NoError(t, err)
	e.tracker = &siteagent.Tracker{Store: e.st, RBAC: chk, Now: func() time.Time { return e.now }}
	e.srv = api.New(api.Deps{DB: db, Users: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Middleware: []gin.HandlerFunc{e.tracker.Middleware()}},
		siteagent.New(siteagent.Deps{Store: e.st, RBAC: chk}), offeringPage{})
	for _, name := range people {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, IsStaff: name == "staff", IsSupport: name == "support"}
		require.NoError(t, e.st.CreateUser(ctx, u, ""))
		tok, err := e.st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		e.users[name], e.toks[name] = u, tok.Key
	}
	actx := models.WithActor(ctx, models.Actor{User: e.users["staff"]})
	provider := &models.Customer{Name: "HPC centre"}
	require.NoError(t, e.st.CreateCustomer(actx, provider))
	project := &models.Project{Name: "In-house"}
	require.NoError(t, e.st.CreateProject(actx, project, provider))
	foreign := &models.Customer{Name: "Elsewhere"}
	require.NoError(t, e.st.CreateCustomer(actx, foreign))
	now := time.Now().UTC()
	var cat int64
	require.NoError(t, db.Raw(`INSERT INTO categories (uuid, title, created, modified) VALUES (?, 'HPC', ?, ?) RETURNING id`,
		models.NewUUID(), now, now).Scan(&cat).Error)
	offering := func(name string, customer int64) *store.Offering {
		id := models.NewUUID()
		require.NoError(t, db.Table("offerings").Create(map[string]any{"uuid": id, "name": name, "customer_id": customer,
			"category_id": cat, "type": models.OfferingSlurm, "state": models.OfferingActive, "created": now, "modified": now}).Error)
		o, err := e.st.OfferingByUUID(ctx, id)
		require.NoError(t, err)
		return o
	}
	e.offering = offering("Cluster", provider.ID)
	e.foreign = offering("Their cluster", foreign.ID)
	e.grant("owner", models.RoleCustomerOwner, provider.Scope(), provider.ID)
	e.grant("agent", models.RoleOfferingManager, e.offering.Scope(), provider.ID)
	e.grant("member", models.RoleProjectMember, project.Scope(), provider.ID)
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

// doUA sends a request with a User-Agent and validates every 2xx answer
// against the OpenAPI file.
func (e *env) doUA(method, path, user, ua string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(e.t, err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	if w.Code >= 200 && w.Code < 300 && method != http.MethodHead && req.URL.Path != "/api/marketplace-provider-offerings/"+e.offering.UUID.String()+"/" {
		apitest.ValidateResponse(e.t, req, w)
	}
	return w
}

func (e *env) do(method, path, user string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.doUA(method, path, user, "", body)
}

func (e *env) ok(want int, method, path, user string, body any, out any) {
	e.t.Helper()
	w := e.do(method, path, user, body)
	require.Equal(e.t, want, w.Code, "%s %s as %s: %s", method, path, user, w.Body.String())
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out), w.Body.String())
	}
}

type identityOut struct {
	UUID, URL, Offering, Name string
	Version                   *string
	Dependencies              any
	LastRestarted             string `json:"last_restarted"`
	Services                  []struct{ UUID, Name, State string }
	CreatedBy                 *string `json:"created_by"`
}

type serviceOut struct {
	UUID, URL, Identity, Name, State string
	IdentityName                     string `json:"identity_name"`
	Mode                             *string
	Statistics                       any
	Processors                       []struct {
		UUID, Name     string
		BackendType    string  `json:"backend_type"`
		BackendVersion *string `json:"backend_version"`
	}
}

type processorOut struct {
	UUID, URL, Service, Name string
	ServiceName              string  `json:"service_name"`
	BackendType              string  `json:"backend_type"`
	BackendVersion           *string `json:"backend_version"`
	LastRun                  *string `json:"last_run"`
}

const (
	idBase   = "/api/marketplace-site-agent-identities/"
	svcBase  = "/api/marketplace-site-agent-services/"
	procBase = "/api/marketplace-site-agent-processors/"
)

// TestAgentRegistration replays the agent's start of a cycle (site-agent-protocol.md):
// look up its identity by name, create it (or PUT it again), register its
// service and its processor, and checks every status code and field it reads.
// The agent runs as the provider's owner: managing agent identities needs
// OFFERING.CREATE on the offering's customer, which an offering manager lacks.
func TestAgentRegistration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		name := "agent-" + e.offering.UUID.String()
		body := map[string]any{"offering": e.offering.UUID.String(), "name": name, "version": "0.7.0",
			"dependencies":     []map[string]any{{"package": "waldur-site-agent-slurm", "version": "0.7.0"}},
			"last_restarted":   "2026-11-27T11:58:00+00:00",
			"config_file_path": "/etc/waldur/waldur-site-agent-config.yaml", "config_file_content": "offerings: []\n"}

		var list []identityOut
		e.ok(http.StatusOK, "GET", idBase+"?name="+name, "owner", nil, &list)
		require.Empty(t, list)
		require.Equal(t, http.StatusForbidden, e.do("POST", idBase, "agent", body).Code, "not the offering manager's")
		var id identityOut
		e.ok(http.StatusCreated, "POST", idBase, "owner", body, &id)
		require.Equal(t, e.offering.UUID.String(), id.Offering, "offering is a UUID")
		require.Equal(t, name, id.Name)
		require.Equal(t, "2026-11-27T11:58:00Z", id.LastRestarted)
		require.Equal(t, []any{map[string]any{"package": "waldur-site-agent-slurm", "version": "0.7.0"}}, id.Dependencies)
		require.Empty(t, id.Services)
		// created_by (Waldur 8.1; the agent reads it from this answer): the creator's UUID.
		require.NotNil(t, id.CreatedBy)
		require.Equal(t, e.users["owner"].UUID.String(), *id.CreatedBy)
		e.ok(http.StatusOK, "GET", idBase+"?name="+name, "owner", nil, &list)
		require.Len(t, list, 1)
		require.Equal(t, id.UUID, list[0].UUID)
		require.Equal(t, id.CreatedBy, list[0].CreatedBy)

		// The next start PUTs the same body; a second POST is refused.
		require.Equal(t, http.StatusBadRequest, e.do("POST", idBase, "owner", body).Code)
		body["version"] = "0.7.1"
		e.ok(http.StatusOK, "PUT", idBase+id.UUID+"/", "owner", body, &id)
		require.Equal(t, "0.7.1", *id.Version)
		require.Equal(t, e.users["owner"].UUID.String(), *id.CreatedBy, "a PUT keeps the creator")

		// register_service: 201 once, then 200 with the same service; identity is a UUID.
		var svc, again serviceOut
		e.ok(http.StatusCreated, "POST", idBase+id.UUID+"/register_service/", "owner",
			map[string]any{"name": "order_process", "mode": "order_process"}, &svc)
		require.Equal(t, id.UUID, svc.Identity)
		require.Equal(t, name, svc.IdentityName)
		require.Equal(t, "Active", svc.State)
		require.Equal(t, "order_process", *svc.Mode)
		e.ok(http.StatusOK, "POST", idBase+id.UUID+"/register_service/", "owner",
			map[string]any{"name": "order_process", "mode": "order_process"}, &again)
		require.Equal(t, svc.UUID, again.UUID)

		// register_processor: 201 once, then 200; service is a UUID.
		var p, p2 processorOut
		procBody := map[string]any{"name": "OfferingOrderProcessor", "backend_type": "slurm", "backend_version": "23.02.7"}
		e.ok(http.StatusCreated, "POST", svcBase+svc.UUID+"/register_processor/", "owner", procBody, &p)
		require.Equal(t, svc.UUID, p.Service)
		require.Equal(t, "order_process", p.ServiceName)
		require.Equal(t, "slurm", p.BackendType)
		require.NotNil(t, p.LastRun)
		procBody["backend_version"] = "24.05.1"
		e.ok(http.StatusOK, "POST", svcBase+svc.UUID+"/register_processor/", "owner", procBody, &p2)
		require.Equal(t, p.UUID, p2.UUID)
		require.Equal(t, "24.05.1", *p2.BackendVersion)
		require.Equal(t, http.StatusBadRequest, e.do("POST", svcBase+svc.UUID+"/register_processor/", "owner",
			map[string]any{"name": "X"}).Code, "backend_type is required")

		// What the agent's identity now shows, and the nested lists.
		e.ok(http.StatusOK, "GET", idBase+id.UUID+"/", "owner", nil, &id)
		require.Len(t, id.Services, 1)
		require.Equal(t, svc.UUID, id.Services[0].UUID)
		var svcs []serviceOut
		e.ok(http.StatusOK, "GET", svcBase+"?identity_uuid="+id.UUID, "owner", nil, &svcs)
		require.Len(t, svcs, 1)
		require.Len(t, svcs[0].Processors, 1)
		require.Equal(t, "24.05.1", *svcs[0].Processors[0].BackendVersion)
		e.ok(http.StatusOK, "GET", svcBase+"?state=1&mode=order_process", "owner", nil, &svcs)
		require.Len(t, svcs, 1)
		e.ok(http.StatusOK, "GET", svcBase+"?state=2", "owner", nil, &svcs)
		require.Empty(t, svcs)
		require.Equal(t, http.StatusBadRequest, e.do("GET", svcBase+"?state=9", "owner", nil).Code)
		var procs []processorOut
		e.ok(http.StatusOK, "GET", procBase+"?service_uuid="+svc.UUID, "owner", nil, &procs)
		require.Len(t, procs, 1)
		e.ok(http.StatusOK, "GET", procBase+p.UUID+"/", "owner", nil, &p2)
		require.Equal(t, svc.UUID, p2.Service)
		var orphans []identityOut
		e.ok(http.StatusOK, "GET", idBase+"?orphaned=true", "owner", nil, &orphans)
		require.Empty(t, orphans)

		e.ok(http.StatusOK, "POST", svcBase+svc.UUID+"/set_statistics/", "owner", map[string]any{"statistics": map[string]any{"orders": 3}}, &svc)
		require.Equal(t, map[string]any{"orders": float64(3)}, svc.Statistics)

		// Removal, bottom up.
		e.ok(http.StatusNoContent, "DELETE", procBase+p.UUID+"/", "owner", nil, nil)
		e.ok(http.StatusNoContent, "DELETE", svcBase+svc.UUID+"/", "owner", nil, nil)
		e.ok(http.StatusOK, "GET", idBase+"?orphaned=true", "owner", nil, &orphans)
		require.Len(t, orphans, 1)
		e.ok(http.StatusNoContent, "DELETE", idBase+id.UUID+"/", "owner", nil, nil)
		require.Equal(t, http.StatusNotFound, e.do("GET", idBase+id.UUID+"/", "owner", nil).Code)
	})
}

func TestAgentPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		var id identityOut
		e.ok(http.StatusCreated, "POST", idBase, "owner", map[string]any{"offering": e.offering.UUID.Dashed(), "name": "a1"}, &id)
		var svc serviceOut
		e.ok(http.StatusCreated, "POST", idBase+id.UUID+"/register_service/", "owner", map[string]any{"name": "report"}, &svc)
		require.Nil(t, svc.Mode)
		var p processorOut
		e.ok(http.StatusCreated, "POST", svcBase+svc.UUID+"/register_processor/", "owner",
			map[string]any{"name": "OfferingReportProcessor", "backend_type": "slurm"}, &p)

		for _, tt := range []struct {
			user                           string
			list                           int // identities the caller lists
			get, create, update, register  int
			registerProc, getProc, delProc int
		}{
			{"staff", 1, 200, 201, 200, 200, 200, 200, 204},
			{"support", 1, 200, 403, 403, 403, 403, 200, 403},
			{"owner", 1, 200, 201, 200, 200, 200, 200, 204},
			// The offering manager sees its offering's agent objects but may not change them.
			{"agent", 1, 200, 403, 403, 403, 403, 200, 403},
			{"member", 0, 404, 403, 404, 404, 404, 404, 404},
			{"other", 0, 404, 403, 404, 404, 404, 404, 404},
			{"plain", 0, 404, 403, 404, 404, 404, 404, 404},
		} {
			t.Run(tt.user, func(t *testing.T) {
				var list []identityOut
				e.ok(http.StatusOK, "GET", idBase+"?name=a1", tt.user, nil, &list)
				require.Len(t, list, tt.list)
				require.Equal(t, tt.get, e.do("GET", idBase+id.UUID+"/", tt.user, nil).Code)
				require.Equal(t, tt.create, e.do("POST", idBase, tt.user, map[string]any{"offering": e.offering.UUID.String(), "name": "n-" + tt.user}).Code)
				require.Equal(t, tt.update, e.do("PUT", idBase+id.UUID+"/", tt.user, map[string]any{"offering": e.offering.UUID.String(), "name": "a1"}).Code)
				require.Equal(t, tt.register, e.do("POST", idBase+id.UUID+"/register_service/", tt.user, map[string]any{"name": "report"}).Code)
				require.Equal(t, tt.registerProc, e.do("POST", svcBase+svc.UUID+"/register_processor/", tt.user,
					map[string]any{"name": "OfferingReportProcessor", "backend_type": "slurm"}).Code)
				require.Equal(t, tt.getProc, e.do("GET", procBase+p.UUID+"/", tt.user, nil).Code)
				require.Equal(t, tt.delProc, e.do("DELETE", procBase+p.UUID+"/", tt.user, nil).Code)
				if tt.delProc == http.StatusNoContent {
					e.ok(http.StatusCreated, "POST", svcBase+svc.UUID+"/register_processor/", "staff",
						map[string]any{"name": "OfferingReportProcessor", "backend_type": "slurm"}, &p)
				}
			})
		}

		// Moving an identity to an offering the caller does not manage is refused.
		require.Equal(t, http.StatusForbidden, e.do("PUT", idBase+id.UUID+"/", "agent",
			map[string]any{"offering": e.foreign.UUID.String(), "name": "a1"}).Code)
		for _, tt := range []struct {
			name string
			body map[string]any
		}{
			{"no name", map[string]any{"offering": e.offering.UUID.String()}},
			{"no offering", map[string]any{"name": "x"}},
			{"unknown offering", map[string]any{"offering": models.NewUUID().String(), "name": "x"}},
			{"offering as a URL", map[string]any{"offering": "http://x/api/marketplace-provider-offerings/" + e.offering.UUID.String() + "/", "name": "x"}},
			{"taken name", map[string]any{"offering": e.offering.UUID.String(), "name": "a1"}},
			{"bad last_restarted", map[string]any{"offering": e.offering.UUID.String(), "name": "y", "last_restarted": "yesterday"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				require.Equal(t, http.StatusBadRequest, e.do("POST", idBase, "owner", tt.body).Code)
			})
		}
	})
}

// TestLiveness: the agent's requests mark its offering's integration
// status Active (once a minute at most); other clients, other users and
// failed requests do not.
func TestLiveness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		status := func() map[models.AgentType]store.IntegrationStatus {
			m, err := e.st.IntegrationStatusesOf(context.Background(), []int64{e.offering.ID})
			require.NoError(t, err)
			out := map[models.AgentType]store.IntegrationStatus{}
			for _, s := range m[e.offering.ID] {
				out[s.AgentType] = s
			}
			return out
		}
		o := e.offering.UUID.String()
		const orderUA = "waldur-site-agent-order-process/0.7.0"

		// Not counted: a browser, a user without rights on the offering, a failed request, no offering named.
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "agent", "Mozilla/5.0", nil).Code)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "plain", orderUA, nil).Code)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "member", orderUA, nil).Code)
		require.Equal(t, 400, e.doUA("GET", idBase+"?offering_uuid="+o+"&orphaned=maybe", "agent", orderUA, nil).Code)
		require.Equal(t, 200, e.doUA("GET", idBase, "agent", orderUA, nil).Code)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+models.NewUUID().String(), "agent", orderUA, nil).Code)
		require.Equal(t, 401, e.doUA("GET", idBase+"?offering_uuid="+o, "nobody", orderUA, nil).Code)
		require.Empty(t, status())

		// The agent (an offering manager) in order_process mode.
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "agent", orderUA, nil).Code)
		st := status()
		require.Len(t, st, 1)
		require.Equal(t, models.IntegrationActive, st[models.AgentOrderProcessing].Status)
		require.Equal(t, e.now, st[models.AgentOrderProcessing].LastRequestTimestamp.UTC())
		require.Equal(t, orderUA, st[models.AgentOrderProcessing].ServiceName)

		// Within a minute nothing is written; after it, the time moves.
		t0 := e.now
		e.now = t0.Add(30 * time.Second)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "agent", orderUA, nil).Code)
		require.Equal(t, t0, status()[models.AgentOrderProcessing].LastRequestTimestamp.UTC())
		e.now = t0.Add(61 * time.Second)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "agent", orderUA, nil).Code)
		require.Equal(t, e.now, status()[models.AgentOrderProcessing].LastRequestTimestamp.UTC())

		// Other modes are other agent types; the offering may come from the path.
		require.Equal(t, 200, e.doUA("GET", "/api/marketplace-provider-offerings/"+o+"/", "owner", "waldur-site-agent-report/0.7.0", nil).Code)
		require.Equal(t, 200, e.doUA("GET", svcBase+"?offering_uuid="+e.offering.UUID.Dashed(), "staff", "waldur-site-agent-membership-sync/0.7.0", nil).Code)
		st = status()
		require.Len(t, st, 3)
		require.Equal(t, models.IntegrationActive, st[models.AgentUsageReporting].Status)
		require.Equal(t, models.IntegrationActive, st[models.AgentResourceSync].Status)

		// A disconnected agent that comes back is Active again.
		n, err := e.st.DisconnectStaleIntegrations(context.Background(), e.now.Add(time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
		e.now = e.now.Add(2 * time.Hour)
		require.Equal(t, 200, e.doUA("GET", idBase+"?offering_uuid="+o, "agent", orderUA, nil).Code)
		st = status()
		require.Equal(t, models.IntegrationActive, st[models.AgentOrderProcessing].Status)
		require.Equal(t, models.IntegrationDisconnected, st[models.AgentUsageReporting].Status)
	})
}
