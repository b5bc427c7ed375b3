package rest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models/store"
)

func decodeIDs(t *testing.T, body []byte) []int64 {
	t.Helper()
	var out []itemOut
	require.NoError(t, json.Unmarshal(body, &out))
	require.NotNil(t, out, "a list is a JSON array, never null: %s", body)
	ids := make([]int64, len(out))
	for i, o := range out {
		ids[i] = o.ID
	}
	return ids
}

func byState(states ...string) func(item) bool {
	return func(it item) bool {
		for _, s := range states {
			if it.State == s {
				return true
			}
		}
		return false
	}
}

func TestListPagination(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		all := expected(env.rows, nil, orderKey{"created", true})
		okErred := expected(env.rows, byState("OK", "Erred"), orderKey{"created", true})
		even := expected(env.rows, func(it item) bool { return it.ID%2 == 0 }, orderKey{"created", true})
		odd := expected(env.rows, func(it item) bool { return it.ID%2 == 1 }, orderKey{"created", true})
		u7, u9 := env.rows[6].UUID, env.rows[8].UUID
		byUUID := expected(env.rows, func(it item) bool { return it.ID == 7 || it.ID == 9 }, orderKey{"created", true})

		cases := []struct {
			name   string
			query  string
			status int
			ids    []int64
			count  int
			body   string // exact body for error cases and empty lists
		}{
			{name: "defaults", query: "", status: 200, ids: page(all, 1, 10), count: 305},
			{name: "page 2 of 25", query: "page=2&page_size=25", status: 200, ids: page(all, 2, 25), count: 305},
			{name: "last partial page", query: "page=31", status: 200, ids: page(all, 31, 10), count: 305},
			{name: "page_size clamped to 300", query: "page_size=1000", status: 200, ids: page(all, 1, 300), count: 305},
			{name: "second clamped page", query: "page_size=1000&page=2", status: 200, ids: page(all, 2, 300), count: 305},
			{name: "page_size 300", query: "page_size=300", status: 200, ids: page(all, 1, 300), count: 305},
			{name: "page_size 0 is the default", query: "page_size=0", status: 200, ids: page(all, 1, 10), count: 305},
			{name: "negative page_size is the default", query: "page_size=-3", status: 200, ids: page(all, 1, 10), count: 305},
			{name: "non-numeric page_size is the default", query: "page_size=abc", status: 200, ids: page(all, 1, 10), count: 305},
			{name: "empty page is page 1", query: "page=", status: 200, ids: page(all, 1, 10), count: 305},
			{name: "last of repeated page wins", query: "page=1&page=3", status: 200, ids: page(all, 3, 10), count: 305},
			{name: "page beyond the end", query: "page=32", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "page beyond the clamped end", query: "page=3&page_size=500", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "page 0", query: "page=0", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "negative page", query: "page=-1", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "non-integer page", query: "page=abc", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "fractional page", query: "page=1.5", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "repeated filter keys", query: "state=OK&state=Erred&page=3", status: 200, ids: page(okErred, 3, 10), count: len(okErred)},
			{name: "empty list page 1", query: "state=Nope", status: 200, ids: []int64{}, count: 0, body: `[]`},
			{name: "empty list page 2", query: "state=Nope&page=2", status: 404, body: `{"detail":"Invalid page."}`},
			{name: "bool true", query: "even=true&page_size=300", status: 200, ids: page(even, 1, 300), count: len(even)},
			{name: "bool 0", query: "even=0&page_size=300", status: 200, ids: page(odd, 1, 300), count: len(odd)},
			{name: "bad bool", query: "even=maybe", status: 400, body: `{"even":["Must be a valid boolean."]}`},
			{name: "uuids hex and dashed", query: "uuid=" + u7.String() + "&uuid=" + u9.Dashed(), status: 200, ids: byUUID, count: 2},
			{name: "bad uuid", query: "uuid=" + u7.String() + "&uuid=nope", status: 400, body: `{"uuid":["Enter a valid UUID."]}`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := env.serve(t, http.MethodGet, "/api/items/?"+tc.query, nil)
				require.Equal(t, tc.status, w.Code, w.Body.String())
				if tc.body != "" {
					require.JSONEq(t, tc.body, w.Body.String())
				}
				if tc.status != 200 {
					require.Empty(t, w.Header().Get("X-Result-Count"))
					require.Empty(t, w.Header().Get("Link"))
					return
				}
				require.Equal(t, strconv.Itoa(tc.count), w.Header().Get("X-Result-Count"))
				require.Equal(t, tc.ids, decodeIDs(t, w.Body.Bytes()))
				require.Contains(t, w.Header().Get("Content-Type"), "application/json")
			})
		}
	})
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="(first|prev|next|last)"$`)

// parseLink splits a Link header into its rels, in order, and their URLs.
func parseLink(t *testing.T, header string) (rels []string, urls map[string]*url.URL) {
	t.Helper()
	urls = map[string]*url.URL{}
	for _, part := range strings.Split(header, ", ") {
		m := linkRE.FindStringSubmatch(part)
		require.NotNil(t, m, "malformed link %q in %q", part, header)
		u, err := url.Parse(m[1])
		require.NoError(t, err)
		rels = append(rels, m[2])
		urls[m[2]] = u
	}
	return rels, urls
}

func TestListLinkHeader(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		okErred := len(expected(env.rows, byState("OK", "Erred")))
		okPages := (okErred + 9) / 10
		require.Greater(t, okPages, 3)
		const other = "state=OK&state=Erred&o=name&x=&z=a+b"
		cases := []struct {
			name   string
			target string
			header map[string]string
			scheme string
			rels   map[string]int // rel -> page
		}{
			{
				name: "first page", target: "http://example.com/api/items/?" + other, scheme: "http",
				rels: map[string]int{"first": 1, "next": 2, "last": okPages},
			},
			{
				name: "middle page", target: "http://example.com/api/items/?" + other + "&page=2", scheme: "http",
				rels: map[string]int{"first": 1, "prev": 1, "next": 3, "last": okPages},
			},
			{
				name: "last page", target: "http://example.com/api/items/?page=" + strconv.Itoa(okPages) + "&" + other, scheme: "http",
				rels: map[string]int{"first": 1, "prev": okPages - 1, "last": okPages},
			},
			{
				name: "page_size kept", target: "http://example.com/api/items/?page_size=150&page=2&" + other, scheme: "http",
				rels: map[string]int{"first": 1, "prev": 1, "last": 2},
			},
			{
				name: "clamped page_size kept as given", target: "http://example.com/api/items/?page_size=1000", scheme: "http",
				rels: map[string]int{"first": 1, "next": 2, "last": 2},
			},
			{
				name: "single page", target: "http://example.com/api/items/?page_size=300&state=OK", scheme: "http",
				rels: map[string]int{"first": 1, "last": 1},
			},
			{
				name: "empty list", target: "http://example.com/api/items/?state=Nope", scheme: "http",
				rels: map[string]int{"first": 1, "last": 1},
			},
			{
				name: "forwarded https", target: "http://example.com/api/items/?" + other,
				header: map[string]string{"X-Forwarded-Proto": "https"}, scheme: "https",
				rels: map[string]int{"first": 1, "next": 2, "last": okPages},
			},
			{
				name: "TLS", target: "https://example.com/api/items/?" + other, scheme: "https",
				rels: map[string]int{"first": 1, "next": 2, "last": okPages},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := env.serve(t, http.MethodGet, tc.target, tc.header)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				rels, urls := parseLink(t, w.Header().Get("Link"))
				var wantOrder []string
				for _, rel := range []string{"first", "prev", "next", "last"} {
					if _, ok := tc.rels[rel]; ok {
						wantOrder = append(wantOrder, rel)
					}
				}
				require.Equal(t, wantOrder, rels)

				reqURL, err := url.Parse(tc.target)
				require.NoError(t, err)
				reqQuery := reqURL.Query()
				for rel, want := range tc.rels {
					u := urls[rel]
					require.Equal(t, tc.scheme, u.Scheme, rel)
					require.Equal(t, "example.com", u.Host, rel)
					require.Equal(t, "/api/items/", u.Path, rel)
					got := u.Query()
					require.Equal(t, []string{strconv.Itoa(want)}, got["page"], rel)
					delete(got, "page")
					wantQuery := url.Values{}
					for k, v := range reqQuery {
						if k != "page" {
							wantQuery[k] = v
						}
					}
					require.Equal(t, wantQuery, got, rel)
				}
			})
		}
	})
}

func TestListHead(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		for _, query := range []string{"", "page=2&state=OK&state=Erred&o=-name", "page_size=1000", "state=Nope"} {
			t.Run("query "+query, func(t *testing.T) {
				env.rec.take()
				get := env.serve(t, http.MethodGet, "/api/items/?"+query, nil)
				require.Equal(t, http.StatusOK, get.Code)
				getSQL := env.rec.take()
				require.Len(t, getSQL, 2, "one count and one find: %q", getSQL)
				count, find := strings.ToUpper(getSQL[0]), strings.ToUpper(getSQL[1])
				require.Contains(t, count, "COUNT(")
				require.NotContains(t, count, "ORDER BY")
				require.NotContains(t, count, "LIMIT")
				require.NotContains(t, find, "COUNT(")
				require.Contains(t, find, "ORDER BY")
				require.Contains(t, find, "LIMIT")

				head := env.serve(t, http.MethodHead, "/api/items/?"+query, nil)
				require.Equal(t, http.StatusOK, head.Code)
				require.Empty(t, head.Body.String())
				require.NotEmpty(t, head.Header().Get("X-Result-Count"))
				require.Equal(t, get.Header().Get("X-Result-Count"), head.Header().Get("X-Result-Count"))
				require.Equal(t, get.Header().Get("Link"), head.Header().Get("Link"))
				headSQL := env.rec.take()
				require.Len(t, headSQL, 1, "HEAD only counts: %q", headSQL)
				require.Contains(t, strings.ToUpper(headSQL[0]), "COUNT(")
			})
		}
		t.Run("invalid page", func(t *testing.T) {
			head := env.serve(t, http.MethodHead, "/api/items/?page=99", nil)
			require.Equal(t, http.StatusNotFound, head.Code)
			require.Empty(t, head.Header().Get("Link"))
		})
	})
}

func TestListOrdering(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		cases := []struct {
			name  string
			query string
			keys  []orderKey
			order string // the expected ORDER BY of the find query
		}{
			{name: "default", query: "", keys: []orderKey{{"created", true}}, order: "ORDER BY created DESC,id "},
			{name: "asc", query: "o=name", keys: []orderKey{{"name", false}}, order: "ORDER BY name,id "},
			{name: "desc", query: "o=-name", keys: []orderKey{{"name", true}}, order: "ORDER BY name DESC,id "},
			{name: "comma separated", query: "o=state,-created", keys: []orderKey{{"state", false}, {"created", true}}, order: "ORDER BY state,created DESC,id "},
			{name: "comma separated with spaces", query: "o=state,+-created", keys: []orderKey{{"state", false}, {"created", true}}, order: "ORDER BY state,created DESC,id "},
			{name: "repeated keys", query: "o=-state&o=created", keys: []orderKey{{"state", true}, {"created", false}}, order: "ORDER BY state DESC,created,id "},
			{name: "unknown ignored", query: "o=bogus,-name&o=password", keys: []orderKey{{"name", true}}, order: "ORDER BY name DESC,id "},
			{name: "only unknown gives default", query: "o=bogus&o=-uuid", keys: []orderKey{{"created", true}}, order: "ORDER BY created DESC,id "},
			{name: "empty o gives default", query: "o=&o=,", keys: []orderKey{{"created", true}}, order: "ORDER BY created DESC,id "},
			{name: "repeated name once", query: "o=name,-name", keys: []orderKey{{"name", false}}, order: "ORDER BY name,id "},
			{name: "tie-breaker not repeated", query: "o=-id", keys: []orderKey{{"id", true}}, order: "ORDER BY id DESC "},
			{name: "ties broken by id", query: "o=state", keys: []orderKey{{"state", false}}, order: "ORDER BY state,id "},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want := expected(env.rows, nil, tc.keys...)
				// Small pages stress stability: concatenated, they must be the
				// whole ordered table, every row exactly once.
				var got []int64
				for p := 1; p <= 11; p++ {
					env.rec.take()
					w := env.serve(t, http.MethodGet, "/api/items/?page_size=28&page="+strconv.Itoa(p)+"&"+tc.query, nil)
					require.Equal(t, http.StatusOK, w.Code, w.Body.String())
					got = append(got, decodeIDs(t, w.Body.Bytes())...)
					sqls := env.rec.take()
					require.Len(t, sqls, 2)
					require.Contains(t, sqls[1], tc.order)
				}
				require.Equal(t, want, got)
			})
		}
	})
}

func TestListBatchErrors(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		w := env.serve(t, http.MethodGet, "/api/failing/?fail=app", nil)
		require.Equal(t, http.StatusForbidden, w.Code)
		require.Empty(t, w.Header().Get("X-Result-Count"))
		require.JSONEq(t, `{"detail":"No."}`, w.Body.String())
		w = env.serve(t, http.MethodGet, "/api/failing/", nil)
		require.Equal(t, http.StatusInternalServerError, w.Code)
		require.JSONEq(t, `{"detail":"Internal error"}`, w.Body.String())
	})
}

type testOwner struct {
	ID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Name string
}

func (testOwner) TableName() string { return "rest_owners" }

type testPet struct {
	ID      int64 `gorm:"primaryKey;autoIncrement:false"`
	OwnerID int64
	Owner   *testOwner
}

func (testPet) TableName() string { return "rest_pets" }

// A query with preloads and joins counts rows of the base table and still
// preloads on the page; the caller's query is left untouched.
func TestListPreloadAndJoin(t *testing.T) {
	eachDB(t, func(t *testing.T, env *testEnv) {
		require.NoError(t, env.db.AutoMigrate(&testOwner{}, &testPet{}))
		require.NoError(t, env.db.Create([]testOwner{{ID: 1, Name: "ann"}, {ID: 2, Name: "bob"}}).Error)
		var pets []testPet
		for i := int64(1); i <= 7; i++ {
			pets = append(pets, testPet{ID: i, OwnerID: 1 + i%2})
		}
		require.NoError(t, env.db.Create(pets).Error)

		spec := ListSpec{Ordering: map[string]string{"owner": "rest_owners.name"}, TieBreaker: "rest_pets.id"}
		type out struct {
			ID    int64  `json:"id"`
			Owner string `json:"owner"`
		}
		q := env.db.Joins("JOIN rest_owners ON rest_owners.id = rest_pets.owner_id").Preload("Owner")
		r := gin.New()
		r.GET("/api/pets/", func(c *gin.Context) {
			writeErr(c, List(c, store.QueryOf(q), spec, func(p *testPet) out { return out{ID: p.ID, Owner: p.Owner.Name} }))
		})
		for i := 0; i < 2; i++ { // twice: the shared q must not be modified by a request
			req := httptest.NewRequest(http.MethodGet, "/api/pets/?o=-owner&page_size=3&page=2", nil)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, "7", w.Header().Get("X-Result-Count"))
			// bob owns 1,3,5,7; ann owns 2,4,6: -owner gives 1,3,5,7,2,4,6
			require.JSONEq(t, `[{"id":7,"owner":"bob"},{"id":2,"owner":"ann"},{"id":4,"owner":"ann"}]`, w.Body.String())
		}
	})
}
