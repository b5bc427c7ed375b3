package openstack_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/api/apitest"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/providers/openstack"
	"github.com/waldur-go/waldur/providers/openstack/openstacktest"
	"github.com/waldur-go/waldur/workflows"
)

// TestObjectPullsAndServerGroupCreate: through the API, on a real
// Temporal server and the emulator, on SQLite and PostgreSQL, answers
// checked against Waldur's OpenAPI file: the pull of a tenant's network,
// subnet and security group (202, run to its end); a server group made
// by POST /api/openstack-server-groups/ with the tenant in the body (201,
// then OK), refused without a tenant or with one that does not exist
// (400); the marketplace tenants' list (with its filters) and retrieve
// (url, uuid and name; 404 for an unknown tenant).
func TestObjectPullsAndServerGroupCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal")
	}
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			cl := newCloudOn(t, kind, []string{workflows.QueueCore, openstack.Queue}, openstacktest.Options{BuildDelay: 50 * time.Millisecond,
				VolumeDelay: 50 * time.Millisecond, DeleteDelay: 20 * time.Millisecond, ActionDelay: 20 * time.Millisecond})
			_, tenant := cl.tenant("pulls")
			tid := tenant["uuid"].(string)

			for _, r := range []struct {
				k          openstack.Kind
				collection string
			}{
				{openstack.KindNetwork, "openstack-networks"},
				{openstack.KindSubnet, "openstack-subnets"},
				{openstack.KindSecurityGroup, "openstack-security-groups"},
			} {
				var list []map[string]any
				cl.do("GET", "/api/"+r.collection+"/?tenant_uuid="+tid, nil, 200, &list)
				require.NotEmpty(t, list, r.collection)
				id := list[0]["uuid"].(string)
				var ans map[string]any
				cl.checked("POST", "/api/"+r.collection+"/"+id+"/pull/", nil, 202, &ans)
				require.Equal(t, "Pull operation was successfully scheduled.", ans["detail"])
				cl.l3RunDone(r.k, id, "pull")
				cl.do("POST", "/api/"+r.collection+"/"+strings.Repeat("0", 32)+"/pull/", nil, 404, nil)
			}

			var refusal map[string]any
			cl.do("POST", "/api/openstack-server-groups/", map[string]any{"name": "ha"}, 400, &refusal)
			require.Equal(t, []any{"This field is required."}, refusal["tenant"])
			cl.do("POST", "/api/openstack-server-groups/", map[string]any{"name": "ha",
				"tenant": "http://x/api/openstack-tenants/" + strings.Repeat("0", 32) + "/"}, 400, &refusal)
			require.Contains(t, refusal, "tenant")
			cl.do("POST", "/api/openstack-server-groups/", map[string]any{"tenant": tenant["url"]}, 400, &refusal)
			require.Contains(t, refusal, "name")
			var g map[string]any
			cl.checked("POST", "/api/openstack-server-groups/", map[string]any{"tenant": tenant["url"], "name": "ha", "policy": "anti-affinity"}, 201, &g)
			require.Equal(t, "ha", g["name"])
			require.Equal(t, "anti-affinity", g["policy"])
			require.Equal(t, "/api/openstack-tenants/"+tid+"/", path(g["tenant"].(string)))
			g = cl.settle("openstack-server-groups", g["uuid"].(string))
			require.Equal(t, "OK", g["state"])
			require.NotEmpty(t, g["backend_id"])

			var tenants []map[string]any
			cl.checked("GET", "/api/openstack-marketplace-tenants/", nil, 200, &tenants)
			require.Len(t, tenants, 1)
			require.Equal(t, map[string]any{"url": tenant["url"], "uuid": tid, "name": tenant["name"]}, tenants[0])
			cl.checked("GET", "/api/openstack-marketplace-tenants/?name_exact=nope", nil, 200, &tenants)
			require.Empty(t, tenants)
			cl.checked("GET", "/api/openstack-marketplace-tenants/?state=OK&uuid="+tid, nil, 200, &tenants)
			require.Len(t, tenants, 1)
			cl.do("GET", "/api/openstack-marketplace-tenants/?state=GONE", nil, 400, nil)
			var one map[string]any
			cl.checked("GET", "/api/openstack-marketplace-tenants/"+tid+"/", nil, 200, &one)
			require.Equal(t, tenants[0], one)
			cl.do("GET", "/api/openstack-marketplace-tenants/"+strings.Repeat("0", 32)+"/", nil, 404, nil)
			req := httptest.NewRequest(http.MethodHead, "/api/openstack-marketplace-tenants/", nil)
			req.Header.Set("Authorization", "Token "+cl.token)
			w := httptest.NewRecorder()
			cl.api.ServeHTTP(w, req)
			require.Equal(t, http.StatusOK, w.Code)
			apitest.ValidateResponse(t, req, w)
		})
	}
}
