package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

func TestFieldsOnLists(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		allKeys := []string{"url", "uuid", "name", "state", "created", "id"}
		cases := []struct {
			name  string
			query string
			keys  []string // expected keys of every item, in order
		}{
			{name: "no field param", query: "", keys: allKeys},
			{name: "empty field param", query: "field=", keys: allKeys},
			{name: "two fields in struct order", query: "field=name&field=uuid", keys: []string{"uuid", "name"}},
			{name: "unknown ignored", query: "field=name&field=password", keys: []string{"name"}},
			{name: "only unknown", query: "field=password", keys: []string{}},
			{name: "trimmed", query: "field=+id+", keys: []string{"id"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := env.serve(t, http.MethodGet, "/api/items/?page_size=5&state=OK&"+tc.query, nil)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				require.Equal(t, "101", w.Header().Get("X-Result-Count"))
				var items []json.RawMessage
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &items))
				require.Len(t, items, 5)
				for _, raw := range items {
					require.Equal(t, tc.keys, objectKeys(t, raw), string(raw))
				}
			})
		}
		t.Run("values kept", func(t *testing.T) {
			w := env.serve(t, http.MethodGet, "/api/items/?o=id&page_size=1&field=uuid&field=url&field=name", nil)
			require.Equal(t, http.StatusOK, w.Code)
			first := env.rows[0]
			require.Equal(t,
				`[{"url":"http://example.com/api/items/`+first.UUID.String()+`/","uuid":"`+first.UUID.String()+`","name":"`+first.Name+`"}]`,
				w.Body.String())
		})
	})
}

func TestFieldsOnObjects(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		it := env.rows[41]
		path := "/api/items/" + it.UUID.Dashed() + "/"
		t.Run("all fields", func(t *testing.T) {
			w := env.serve(t, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, []string{"url", "uuid", "name", "state", "created", "id"}, objectKeys(t, w.Body.Bytes()))
			var out itemOut
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
			require.Equal(t, it.ID, out.ID)
			require.Equal(t, "http://example.com/api/items/"+it.UUID.String()+"/", out.URL)
		})
		t.Run("selected fields", func(t *testing.T) {
			w := env.serve(t, http.MethodGet, path+"?field=state&field=url&field=nope", map[string]string{"X-Forwarded-Proto": "https"})
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, `{"url":"https://example.com/api/items/`+it.UUID.String()+`/","state":"`+it.State+`"}`, w.Body.String())
			require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
		})
		t.Run("only unknown fields", func(t *testing.T) {
			w := env.serve(t, http.MethodGet, path+"?field=nope", nil)
			require.Equal(t, http.StatusOK, w.Code)
			require.Equal(t, `{}`, w.Body.String())
		})
		t.Run("HEAD has no body", func(t *testing.T) {
			w := env.serve(t, http.MethodHead, path+"?field=state", nil)
			require.Equal(t, http.StatusOK, w.Code)
			require.Empty(t, w.Body.String())
			require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
		})
	})
}

// objectKeys returns the keys of a JSON object in wire order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	keys := []string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, err := dec.Token()
	require.NoError(t, err)
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	require.Len(t, keys, len(m))
	return keys
}

func TestRender(t *testing.T) {
	type nested struct {
		A int            `json:"a"`
		B map[string]int `json:"b"`
		C string         `json:"c,omitempty"`
		D []int          `json:"d"`
	}
	obj := nested{A: 1, B: map[string]int{"x": 2}, D: []int{3}}
	cases := []struct {
		name   string
		query  string
		obj    any
		status int
		body   string
	}{
		{name: "all", query: "", obj: obj, status: 201, body: `{"a":1,"b":{"x":2},"d":[3]}`},
		{name: "nested values kept whole", query: "field=b&field=d&field=x", obj: obj, status: 200, body: `{"b":{"x":2},"d":[3]}`},
		{name: "omitted field stays omitted", query: "field=c", obj: obj, status: 200, body: `{}`},
		{name: "map", query: "field=k", obj: map[string]any{"k": "<v>", "z": nil}, status: 200, body: `{"k":"\u003cv\u003e"}`},
		{name: "non-object unchanged", query: "field=a", obj: []int{1, 2}, status: 200, body: `[1,2]`},
		{name: "null unchanged", query: "field=a", obj: nil, status: 200, body: `null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, w := testContext(http.MethodGet, "/x?"+tc.query, nil)
			require.NoError(t, Render(c, tc.status, tc.obj))
			c.Writer.WriteHeaderNow()
			require.Equal(t, tc.status, w.Code)
			require.Equal(t, tc.body, w.Body.String())
		})
	}
	t.Run("marshal error writes nothing", func(t *testing.T) {
		c, w := testContext(http.MethodGet, "/x?field=a", nil)
		err := Render(c, http.StatusOK, map[string]any{"a": make(chan int)})
		require.Error(t, err)
		require.True(t, models.IsCode(err, models.CodeInternal))
		require.False(t, c.Writer.Written())
		require.Empty(t, w.Body.String())
	})
}

func TestFilterArray(t *testing.T) {
	keep := map[string]bool{"a": true}
	cases := []struct{ in, out string }{
		{`[]`, `[]`},
		{`[{"a":1,"b":2},{"b":3},5,"s",null,[{"a":1,"b":2}]]`, `[{"a":1},{},5,"s",null,[{"a":1,"b":2}]]`},
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`}, // not an array: unchanged
		{` [ {"b" : 1 , "a" : [ 1 ] } ] `, `[{"a":[ 1 ]}]`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			out, err := filterArray([]byte(tc.in), keep)
			require.NoError(t, err)
			require.Equal(t, tc.out, string(out))
		})
	}
	_, err := filterArray([]byte(`[{"a":}]`), keep)
	require.Error(t, err)
	_, err = filterObject([]byte(`{"a":1`), keep)
	require.Error(t, err)
}

// testContext is a gin context for a request to target, outside any engine.
func testContext(method, target string, header map[string]string) (*gin.Context, *httptest.ResponseRecorder) {
	gin.SetMode(gin.TestMode)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(method, target, nil)
	for k, v := range header {
		c.Request.Header.Set(k, v)
	}
	return c, w
}
