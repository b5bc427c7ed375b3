package catalog_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
)

func TestOfferingPartitions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, kind config.DatabaseKind) {
		e := newEnv(t, db, kind)
		e.registerProvider()
		o := e.createOffering("HPC")
		require.Equal(t, []any{}, o["partitions"])
		ou := o["uuid"].(string)
		path := "/api/marketplace-provider-offerings/" + ou + "/"
		dashed := mustUUID(t, ou).Dashed()

		// Add: 201 with Waldur's OfferingPartition (validated against the file by e.ok).
		var batch map[string]any
		e.ok(http.StatusCreated, "POST", path+"add_partition/", "owner", map[string]any{
			"offering": ou, "partition_name": " batch ", "max_time": 1440, "def_mem_per_cpu": int64(1) << 40,
			"priority_tier": 32767, "exclusive_user": true, "qos": "normal", "max_nodes": nil}, &batch)
		require.Equal(t, "batch", batch["partition_name"], "trimmed, as a CharField")
		require.Equal(t, ou, batch["offering"])
		require.Equal(t, "HPC", batch["offering_name"])
		require.EqualValues(t, 1440, batch["max_time"])
		require.EqualValues(t, int64(1)<<40, batch["def_mem_per_cpu"])
		require.EqualValues(t, 32767, batch["priority_tier"])
		require.Equal(t, true, batch["exclusive_user"])
		require.Equal(t, false, batch["exclusive_topo"])
		require.Equal(t, false, batch["req_resv"])
		require.Equal(t, "normal", batch["qos"])
		require.Nil(t, batch["max_nodes"])
		require.Nil(t, batch["cpu_bind"])
		require.Len(t, batch["uuid"], 32)
		require.NotEmpty(t, batch["created"])
		require.NotEmpty(t, batch["modified"])
		// The offering named dashed, as the site agent's generated client may; the manager may too.
		var gpu map[string]any
		e.ok(http.StatusCreated, "POST", path+"add_partition/", "manager", map[string]any{"offering": dashed, "partition_name": "gpu", "req_resv": "true"}, &gpu)
		require.Equal(t, "", gpu["qos"])
		require.Equal(t, true, gpu["req_resv"])

		// Duplicate name: 400 on partition_name.
		w := e.do("POST", path+"add_partition/", "owner", map[string]any{"offering": ou, "partition_name": "batch"})
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.JSONEq(t, `{"partition_name":["Offering partition with this partition name already exists."]}`, w.Body.String())

		// Bad values: 400 with the fields' errors.
		long := strings.Repeat("p", 256)
		for name, tc := range map[string]struct {
			body   any
			fields []string
		}{
			"no name, no offering": {map[string]any{}, []string{"partition_name", "offering"}},
			"blank name":           {map[string]any{"offering": ou, "partition_name": "  "}, []string{"partition_name"}},
			"name too long":        {map[string]any{"offering": ou, "partition_name": long}, []string{"partition_name"}},
			"qos too long":         {map[string]any{"offering": ou, "partition_name": "q", "qos": long}, []string{"qos"}},
			"name not a string":    {map[string]any{"offering": ou, "partition_name": []string{"a"}}, []string{"partition_name"}},
			"negative":             {map[string]any{"offering": ou, "partition_name": "n", "max_time": -1}, []string{"max_time"}},
			"over int32":           {map[string]any{"offering": ou, "partition_name": "n", "max_nodes": int64(1) << 31}, []string{"max_nodes"}},
			"priority over 32767":  {map[string]any{"offering": ou, "partition_name": "n", "priority_tier": 32768}, []string{"priority_tier"}},
			"int64 over":           {map[string]any{"offering": ou, "partition_name": "n", "max_mem_per_node": "9223372036854775808"}, []string{"max_mem_per_node"}},
			"not an integer":       {map[string]any{"offering": ou, "partition_name": "n", "grace_time": "soon", "min_nodes": 1.5}, []string{"grace_time", "min_nodes"}},
			"huge exponent":        {`{"offering":"` + ou + `","partition_name":"n","default_time":1e999999999}`, []string{"default_time"}},
			"bool wrong":           {map[string]any{"offering": ou, "partition_name": "n", "exclusive_topo": "maybe", "req_resv": nil}, []string{"exclusive_topo", "req_resv"}},
			"qos null":             {map[string]any{"offering": ou, "partition_name": "n", "qos": nil}, []string{"qos"}},
			"another offering":     {map[string]any{"offering": "0123456789abcdef0123456789abcdef", "partition_name": "n"}, []string{"offering"}},
			"offering not a UUID":  {map[string]any{"offering": "nope", "partition_name": "n"}, []string{"offering"}},
			"not an object":        {`[1]`, nil},
			"several bad at once":  {map[string]any{"offering": ou, "partition_name": "", "cpu_bind": -5, "qos": 7.5e300}, []string{"partition_name", "cpu_bind"}},
			"offering null":        {map[string]any{"offering": nil, "partition_name": "n"}, []string{"offering"}},
		} {
			w := e.do("POST", path+"add_partition/", "owner", tc.body)
			require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", name, w.Body.String())
			for _, f := range tc.fields {
				require.Contains(t, w.Body.String(), `"`+f+`"`, name)
			}
		}

		// Update: partial, 200 with the whole partition.
		var up map[string]any
		e.ok(http.StatusOK, "PATCH", path+"update_partition/", "owner", map[string]any{"partition_uuid": batch["uuid"], "qos": "high",
			"max_time": nil, "min_nodes": 2}, &up)
		require.Equal(t, batch["uuid"], up["uuid"])
		require.Equal(t, "high", up["qos"])
		require.Nil(t, up["max_time"])
		require.EqualValues(t, 2, up["min_nodes"])
		require.EqualValues(t, 32767, up["priority_tier"], "untouched")
		require.Equal(t, "batch", up["partition_name"])
		require.Equal(t, ou, up["offering"])
		for name, tc := range map[string]struct {
			body  any
			field string
		}{
			"no partition_uuid":       {map[string]any{"qos": "x"}, "partition_uuid"},
			"unknown partition_uuid":  {map[string]any{"partition_uuid": "0123456789abcdef0123456789abcdef"}, "partition_uuid"},
			"bad partition_uuid":      {map[string]any{"partition_uuid": 5}, "partition_uuid"},
			"rename onto another":     {map[string]any{"partition_uuid": batch["uuid"], "partition_name": "gpu"}, "partition_name"},
			"negative limit":          {map[string]any{"partition_uuid": batch["uuid"], "grace_time": -1}, "grace_time"},
			"blank name":              {map[string]any{"partition_uuid": batch["uuid"], "partition_name": ""}, "partition_name"},
			"priority tier too large": {map[string]any{"partition_uuid": batch["uuid"], "priority_tier": 40000}, "priority_tier"},
		} {
			w := e.do("PATCH", path+"update_partition/", "owner", tc.body)
			require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", name, w.Body.String())
			require.Contains(t, w.Body.String(), `"`+tc.field+`"`, name)
		}
		// Nothing changed by the refusals.
		var got map[string]any
		e.ok(http.StatusOK, "GET", path, "owner", nil, &got)
		require.Len(t, got["partitions"], 2)
		require.Equal(t, "batch", got["partitions"].([]any)[0].(map[string]any)["partition_name"])
		require.Equal(t, "high", got["partitions"].([]any)[0].(map[string]any)["qos"])

		// A partition of another offering is not this one's: 400 on partition_uuid, for update and remove.
		o2 := e.createOffering("HPC 2")
		path2 := "/api/marketplace-provider-offerings/" + o2["uuid"].(string) + "/"
		w = e.do("PATCH", path2+"update_partition/", "owner", map[string]any{"partition_uuid": batch["uuid"], "qos": "x"})
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.JSONEq(t, `{"partition_uuid":["Offering partition does not exist."]}`, w.Body.String())
		w = e.do("POST", path2+"remove_partition/", "owner", map[string]any{"partition_uuid": batch["uuid"]})
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.JSONEq(t, `{"partition_uuid":["Offering partition does not exist."]}`, w.Body.String())
		// The same name in another offering is fine.
		e.ok(http.StatusCreated, "POST", path2+"add_partition/", "owner", map[string]any{"offering": o2["uuid"], "partition_name": "batch"}, nil)

		// Who may: OFFERING.UPDATE on the offering or its customer; others 403 if they see the offering, else 404.
		for user, want := range map[string]int{"support": 403, "member": 404, "plain": 404, "other": 404, "anonymous": 401} {
			require.Equal(t, want, e.do("POST", path+"add_partition/", user, map[string]any{"offering": ou, "partition_name": "x-" + user}).Code, user)
			require.Equal(t, want, e.do("PATCH", path+"update_partition/", user, map[string]any{"partition_uuid": gpu["uuid"], "qos": "x"}).Code, user)
			require.Equal(t, want, e.do("POST", path+"remove_partition/", user, map[string]any{"partition_uuid": gpu["uuid"]}).Code, user)
		}
		e.ok(http.StatusOK, "PATCH", path+"update_partition/", "staff", map[string]any{"partition_uuid": gpu["uuid"], "exclusive_topo": true}, nil)

		// Remove: 204; again: 400 on partition_uuid.
		require.Equal(t, http.StatusNoContent, e.do("POST", path+"remove_partition/", "manager", map[string]any{"partition_uuid": gpu["uuid"]}).Code)
		w = e.do("POST", path+"remove_partition/", "owner", map[string]any{"partition_uuid": gpu["uuid"]})
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "partition_uuid")
		require.Equal(t, http.StatusBadRequest, e.do("POST", path+"remove_partition/", "owner", map[string]any{}).Code)

		// The offering shows what is left, in the provider's view, its list and the public catalog.
		got = nil
		e.ok(http.StatusOK, "GET", path, "owner", nil, &got)
		parts := got["partitions"].([]any)
		require.Len(t, parts, 1)
		p := parts[0].(map[string]any)
		require.Equal(t, batch["uuid"], p["uuid"])
		require.Equal(t, "batch", p["partition_name"])
		require.Equal(t, "high", p["qos"])
		require.EqualValues(t, 2, p["min_nodes"])
		require.Nil(t, p["max_time"])
		_, hasOffering := p["offering"]
		require.False(t, hasOffering, "NestedPartition has no offering")
		var list []map[string]any
		e.ok(http.StatusOK, "GET", "/api/marketplace-provider-offerings/?o=name", "owner", nil, &list)
		require.Len(t, list, 2)
		require.Len(t, list[0]["partitions"], 1)
		require.Len(t, list[1]["partitions"], 1)
		require.Equal(t, o2["uuid"], list[1]["uuid"])
		e.ok(http.StatusOK, "GET", path+"?field=partitions&field=uuid", "owner", nil, &got)
		require.Len(t, got["partitions"], 1)
		e.ok(http.StatusOK, "POST", path+"activate/", "owner", nil, nil)
		var pub map[string]any
		e.ok(http.StatusOK, "GET", "/api/marketplace-public-offerings/"+ou+"/", "plain", nil, &pub)
		require.Len(t, pub["partitions"], 1)
	})
}
