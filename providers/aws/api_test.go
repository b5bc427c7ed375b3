package aws_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers/aws"
)

type env struct {
	t        *testing.T
	db       *gorm.DB
	srv      *api.Server
	toks     map[string]string
	offering int64
	other    int64 // a second AWS offering, of another provider
	resource models.UUID
	project  models.UUID
}

// newEnv: provider P offers EC2 (offering) to project J of customer C,
// where an instance runs for a resource; a legacy instance of P's account
// has no resource. "member" is a member of J, "owner" owns P, "plain" has
// no role, "staff" is staff.
func newEnv(t *testing.T, db *gorm.DB) *env {
	ctx := context.Background()
	st := store.New(db)
	e := &env{t: t, db: db, toks: map[string]string{}}
	e.srv = api.New(api.Deps{DB: db, Users: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, aws.NewAPI(aws.APIDeps{Store: st}))
	now := time.Now().UTC()
	ins := func(table string, v map[string]any) (int64, models.UUID) {
		id := models.NewUUID()
		v["uuid"] = id
		require.NoError(t, db.Table(table).Create(v).Error)
		var n int64
		require.NoError(t, db.Raw("SELECT id FROM "+table+" WHERE uuid = ?", id).Scan(&n).Error)
		return n, id
	}
	users := map[string]*models.User{}
	for _, name := range []string{"staff", "owner", "member", "plain"} {
		u := &models.User{Username: name, Email: name + "@example.com", IsActive: true, IsStaff: name == "staff"}
		require.NoError(t, st.CreateUser(ctx, u, ""))
		tok, err := st.EnsureToken(ctx, u.ID)
		require.NoError(t, err)
		users[name], e.toks[name] = u, tok.Key
	}
	provider, _ := ins("customers", map[string]any{"name": "P", "accounting_start_date": now, "created": now, "modified": now})
	other, _ := ins("customers", map[string]any{"name": "Q", "accounting_start_date": now, "created": now, "modified": now})
	consumer, _ := ins("customers", map[string]any{"name": "C", "abbreviation": "CC", "accounting_start_date": now, "created": now, "modified": now})
	project, pu := ins("projects", map[string]any{"name": "J", "customer_id": consumer, "created": now, "modified": now})
	e.project = pu
	cat, _ := ins("categories", map[string]any{"title": "VMs", "created": now, "modified": now})
	e.offering, _ = ins("offerings", map[string]any{"name": "EC2", "customer_id": provider, "category_id": cat, "type": "AWS.Instance", "state": models.OfferingActive, "created": now, "modified": now})
	e.other, _ = ins("offerings", map[string]any{"name": "EC2 too", "customer_id": other, "category_id": cat, "type": "AWS.Instance", "state": models.OfferingActive, "created": now, "modified": now})
	_, e.resource = ins("resources", map[string]any{"name": "web", "project_id": project, "offering_id": e.offering, "state": models.ResourceOK,
		"backend_id": "i-web", "attributes": `{}`, "limits": `{}`, "created": now, "modified": now})
	grant := func(user, role string, s models.Scope, customer int64) {
		r, err := st.RoleByName(ctx, role)
		require.NoError(t, err)
		_, err = st.GrantRole(ctx, store.Grant{User: users[user], Role: r, Scope: s, CustomerID: customer, EventScopes: []models.Scope{s}})
		require.NoError(t, err)
	}
	grant("owner", models.RoleCustomerOwner, models.Scope{Type: models.ScopeCustomer, ID: provider}, provider)
	grant("member", models.RoleProjectMember, models.Scope{Type: models.ScopeProject, ID: project}, consumer)

	_, err := aws.SaveCatalog(ctx, st, e.offering, aws.CatalogRows{Region: "eu-west-1",
		Regions: []aws.RegionRow{{Name: "eu-west-1"}, {Name: "us-east-1"}},
		Images:  []aws.ImageRow{{BackendID: "ami-1", Name: "Ubuntu 24.04"}, {BackendID: "ami-2", Name: "Debian 12"}},
		Sizes:   []aws.SizeRow{{BackendID: "t3.micro", Cores: 2, RAM: 1024}, {BackendID: "m5.large", Cores: 2, RAM: 8192, Disk: 0, Description: "x86_64"}}})
	require.NoError(t, err)
	_, err = aws.SaveCatalog(ctx, st, e.other, aws.CatalogRows{Region: "us-east-1", Regions: []aws.RegionRow{{Name: "us-east-1"}},
		Images: []aws.ImageRow{{BackendID: "ami-9", Name: "Rocky"}}})
	require.NoError(t, err)
	launched := now.Add(-time.Hour)
	_, err = aws.SaveInstances(ctx, st, e.offering, []aws.InstanceRow{
		{BackendID: "i-web", Name: "web", RuntimeState: "running", InstanceType: "t3.micro", ImageID: "ami-1", Region: "eu-west-1",
			AvailabilityZone: "eu-west-1a", PrivateIP: "10.0.0.5", PublicIP: "203.0.113.7", LaunchTime: &launched},
		{BackendID: "i-legacy", Name: "legacy", RuntimeState: "stopped", InstanceType: "m5.large", ImageID: "ami-404", Region: "eu-west-1"},
	})
	require.NoError(t, err)
	return e
}

func (e *env) get(path, user string, want int, out any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok, ok := e.toks[user]; ok {
		req.Header.Set("Authorization", "Token "+tok)
	}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	require.Equal(e.t, want, w.Code, "GET %s as %s: %s", path, user, w.Body.String())
	if want < 300 {
		apitest.ValidateResponse(e.t, req, w)
	}
	if out != nil {
		require.NoError(e.t, json.Unmarshal(w.Body.Bytes(), out))
	}
}

func names(items []map[string]any) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it["name"].(string))
	}
	return out
}

func TestCatalogEndpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		var list []map[string]any
		e.get("/api/aws-regions/", "anonymous", http.StatusUnauthorized, nil)

		e.get("/api/aws-regions/", "plain", http.StatusOK, &list)
		require.Equal(t, []string{"eu-west-1", "us-east-1", "us-east-1"}, names(list), "every offering's regions, by name")

		var offUUID string
		require.NoError(t, db.Raw("SELECT uuid FROM offerings WHERE id = ?", e.offering).Scan(&offUUID).Error)
		e.get("/api/aws-regions/?offering_uuid="+offUUID, "plain", http.StatusOK, &list)
		require.Equal(t, []string{"eu-west-1", "us-east-1"}, names(list))
		e.get("/api/aws-regions/?offering_uuid=nope", "plain", http.StatusBadRequest, nil)
		regionURL := list[0]["url"].(string)
		regionUUID := list[0]["uuid"].(string)
		var one map[string]any
		e.get("/api/aws-regions/"+regionUUID+"/", "plain", http.StatusOK, &one)
		require.Equal(t, regionURL, one["url"])
		e.get("/api/aws-regions/"+models.NewUUID().String()+"/", "plain", http.StatusNotFound, nil)

		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{"Debian 12", "Rocky", "Ubuntu 24.04"}},
			{"?name=ub", []string{"Ubuntu 24.04"}},
			{"?name_exact=Rocky", []string{"Rocky"}},
			{"?region=" + regionUUID, []string{"Debian 12", "Ubuntu 24.04"}},
			{"?offering_uuid=" + offUUID + "&o=-name", []string{"Ubuntu 24.04", "Debian 12"}},
		}
		for _, tc := range cases {
			t.Run("images"+tc.query, func(t *testing.T) {
				e.get("/api/aws-images/"+tc.query, "member", http.StatusOK, &list)
				require.Equal(t, tc.want, names(list))
			})
		}
		e.get("/api/aws-images/?name_exact=Ubuntu%2024.04", "member", http.StatusOK, &list)
		require.Equal(t, "ami-1", list[0]["backend_id"])
		region := list[0]["region"].(map[string]any)
		require.Equal(t, "eu-west-1", region["name"])
		e.get("/api/aws-images/"+list[0]["uuid"].(string)+"/", "member", http.StatusOK, &one)
		require.Equal(t, "Ubuntu 24.04", one["name"])

		e.get("/api/aws-sizes/?region="+regionUUID, "owner", http.StatusOK, &list)
		require.Equal(t, []string{"m5.large", "t3.micro"}, names(list))
		require.EqualValues(t, 8192, list[0]["ram"])
		require.EqualValues(t, 2, list[0]["cores"])
		require.Equal(t, "x86_64", list[0]["description"])
		require.Len(t, list[0]["regions"], 1)
		e.get("/api/aws-sizes/"+list[1]["uuid"].(string)+"/", "owner", http.StatusOK, &one)
		require.Equal(t, "t3.micro", one["name"])
		e.get("/api/aws-sizes/not-a-uuid/", "owner", http.StatusNotFound, nil)
	})
}

func TestInstanceEndpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		visible := []struct {
			user string
			want []string
		}{
			{"staff", []string{"legacy", "web"}},
			{"owner", []string{"legacy", "web"}}, // the provider sees its account's instances, the import listing too
			{"member", []string{"web"}},          // the consumer sees its project's
			{"plain", []string{}},
		}
		for _, tc := range visible {
			t.Run(tc.user, func(t *testing.T) {
				var list []map[string]any
				e.get("/api/aws-instances/?o=name", tc.user, http.StatusOK, &list)
				require.Equal(t, tc.want, names(list))
			})
		}
		var list []map[string]any
		e.get("/api/aws-instances/?importable=true", "owner", http.StatusOK, &list)
		require.Equal(t, []string{"legacy"}, names(list))
		legacy := list[0]
		require.Nil(t, legacy["marketplace_resource_uuid"])
		require.NotContains(t, legacy, "project")
		require.Equal(t, "OK", legacy["state"])
		require.Equal(t, "stopped", legacy["runtime_state"])
		require.Equal(t, "ami-404", legacy["image_name"], "an image not in the catalog shows its id")
		require.EqualValues(t, 8192, legacy["ram"])

		var webs []map[string]any // a fresh slice: Unmarshal reuses the maps of an old one
		e.get("/api/aws-instances/?backend_id=i-web", "member", http.StatusOK, &webs)
		require.Len(t, webs, 1)
		web := webs[0]
		require.Equal(t, e.resource.String(), web["marketplace_resource_uuid"])
		require.Equal(t, "OK", web["marketplace_resource_state"])
		require.Equal(t, e.project.String(), web["project_uuid"])
		require.Equal(t, "CC", web["customer_abbreviation"])
		require.Equal(t, []any{"203.0.113.7"}, web["external_ips"])
		require.Equal(t, []any{"10.0.0.5"}, web["internal_ips"])
		require.Equal(t, "Ubuntu 24.04", web["image_name"])
		require.EqualValues(t, 2, web["cores"])
		require.EqualValues(t, 1024, web["ram"])
		require.Equal(t, "EC2", web["service_name"])

		var byProject []map[string]any
		e.get("/api/aws-instances/?project_uuid="+e.project.String(), "staff", http.StatusOK, &byProject)
		require.Equal(t, []string{"web"}, names(byProject))

		// Retrieve follows the same visibility.
		var one map[string]any
		e.get("/api/aws-instances/"+web["uuid"].(string)+"/", "member", http.StatusOK, &one)
		require.Equal(t, "i-web", one["backend_id"])
		e.get("/api/aws-instances/"+legacy["uuid"].(string)+"/", "member", http.StatusNotFound, nil)
		e.get("/api/aws-instances/"+legacy["uuid"].(string)+"/", "plain", http.StatusNotFound, nil)

		// An erred resource's instance is ERRED with the resource's message.
		require.NoError(t, db.Exec("UPDATE resources SET state = ?, error_message = ? WHERE uuid = ?", models.ResourceErred, "Instance i-web is terminated on AWS.", e.resource.String()).Error)
		e.get("/api/aws-instances/"+web["uuid"].(string)+"/", "member", http.StatusOK, &one)
		require.Equal(t, "ERRED", one["state"])
		require.Equal(t, "Instance i-web is terminated on AWS.", one["error_message"])
	})
}
