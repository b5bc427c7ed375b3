package rest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/libtnb/sqlite"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// item is the row of the test table.
type item struct {
	ID      int64       `gorm:"primaryKey;autoIncrement:false"`
	UUID    models.UUID `gorm:"column:uuid;not null"`
	Name    string      `gorm:"not null"`
	State   string      `gorm:"not null"`
	Created time.Time   `gorm:"not null"`
}

func (item) TableName() string { return "rest_items" }

// itemOut is the rendered item; fields in this order on the wire.
type itemOut struct {
	URL     string      `json:"url"`
	UUID    models.UUID `json:"uuid"`
	Name    string      `json:"name"`
	State   string      `json:"state"`
	Created time.Time   `json:"created"`
	ID      int64       `json:"id"`
}

const numItems = 305

var (
	testStates = []string{"OK", "Erred", "Creating"}
	testBase   = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
)

// fixture returns the test rows: names and states repeat (ties), created is
// a permutation unrelated to id order.
func fixture() []item {
	rows := make([]item, 0, numItems)
	for i := 1; i <= numItems; i++ {
		var u models.UUID
		u[0], u[15] = 0xab, byte(i)
		u[14] = byte(i >> 8)
		rows = append(rows, item{
			ID:      int64(i),
			UUID:    u,
			Name:    fmt.Sprintf("n%02d", (i*11)%17),
			State:   testStates[i%3],
			Created: testBase.Add(time.Duration((i*37)%numItems) * time.Minute),
		})
	}
	return rows
}

// recorder keeps the SQL of every query run through the database.
type recorder struct {
	mu   sync.Mutex
	sqls []string
}

func (r *recorder) add(sql string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sqls = append(r.sqls, sql)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sqls
	r.sqls = nil
	return s
}

type testEnv struct {
	db   *gorm.DB
	rec  *recorder
	rows []item
	r    *gin.Engine
}

// dialects lists the databases every database test runs on.
func dialects() []string {
	if os.Getenv("WALDUR_TEST_DATABASE_URL") != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// eachDB runs fn as a subtest on every database with a fresh, filled table.
func eachDB(t *testing.T, fn func(t *testing.T, env *testEnv)) {
	for _, d := range dialects() {
		t.Run(d, func(t *testing.T) {
			db := openDB(t, d)
			rows := fixture()
			require.NoError(t, db.AutoMigrate(&item{}))
			require.NoError(t, db.CreateInBatches(rows, 100).Error)
			rec := &recorder{}
			require.NoError(t, db.Callback().Query().After("gorm:query").Register("rest_test:record", func(tx *gorm.DB) {
				rec.add(tx.Statement.SQL.String())
			}))
			fn(t, &testEnv{db: db, rec: rec, rows: rows, r: newEngine(db)})
		})
	}
}

func openDB(t *testing.T, dialect string) *gorm.DB {
	t.Helper()
	cfg := &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)}
	var db *gorm.DB
	var err error
	switch dialect {
	case "sqlite":
		db, err = gorm.Open(sqlite.Open("file:"+filepath.Join(t.TempDir(), "t.db")), cfg)
		require.NoError(t, err)
	case "postgres":
		dsn := os.Getenv("WALDUR_TEST_DATABASE_URL")
		admin, err := gorm.Open(postgres.Open(dsn), cfg)
		require.NoError(t, err)
		schema := "rest_test_" + models.NewUUID().String()
		require.NoError(t, admin.Exec("CREATE SCHEMA "+schema).Error)
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err = gorm.Open(postgres.Open(u.String()), cfg)
		require.NoError(t, err)
		t.Cleanup(func() {
			if sqlDB, err := admin.DB(); err == nil {
				admin.Exec("DROP SCHEMA " + schema + " CASCADE")
				_ = sqlDB.Close()
			}
		})
	default:
		t.Fatalf("unknown dialect %s", dialect)
	}
	sqlDB, err := db.DB()
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqlDB.Close() }) // runs before the schema drop
	return db
}

var itemSpec = ListSpec{
	Ordering: map[string]string{
		"name":    "name",
		"created": "created",
		"state":   "state",
		"id":      "id",
	},
	DefaultOrdering: []string{"-created"},
	TieBreaker:      "id",
}

func renderItem(c *gin.Context) func(*item) itemOut {
	return func(it *item) itemOut {
		return itemOut{URL: URL(c, "items", it.UUID), UUID: it.UUID, Name: it.Name, State: it.State, Created: it.Created.UTC(), ID: it.ID}
	}
}

// newEngine serves the test endpoints: a filtered list of items (GET and
// HEAD), one item, and a list whose batch renderer fails on demand.
func newEngine(db *gorm.DB) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Match([]string{http.MethodGet, http.MethodHead}, "/api/items/", func(c *gin.Context) {
		writeErr(c, listItems(c, db))
	})
	r.Match([]string{http.MethodGet, http.MethodHead}, "/api/items/:uuid/", func(c *gin.Context) {
		writeErr(c, getItem(c, db))
	})
	r.GET("/api/failing/", func(c *gin.Context) {
		writeErr(c, ListBatch(c, store.QueryOf(db.Model(&item{})), itemSpec, func([]item) ([]itemOut, error) {
			if c.Query("fail") == "app" {
				return nil, models.Errorf(models.CodeForbidden, "No.")
			}
			return nil, errors.New("boom")
		}))
	})
	return r
}

func listItems(c *gin.Context, db *gorm.DB) error {
	q := db.Where("1 = 1") // no Model and no Table: List must supply the model
	if states := Values(c, "state"); len(states) > 0 {
		q = q.Where("state IN ?", states)
	}
	ids, err := UUIDs(c, "uuid")
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		q = q.Where("uuid IN ?", ids)
	}
	even, err := Bool(c, "even")
	if err != nil {
		return err
	}
	if even != nil {
		if *even {
			q = q.Where("id % 2 = 0")
		} else {
			q = q.Where("id % 2 = 1")
		}
	}
	return List(c, store.QueryOf(q), itemSpec, renderItem(c))
}

func getItem(c *gin.Context, db *gorm.DB) error {
	id, err := models.ParseUUID(c.Param("uuid"))
	if err != nil {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	var it item
	if err := db.Where("uuid = ?", id).Take(&it).Error; err != nil {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	return Render(c, http.StatusOK, renderItem(c)(&it))
}

// writeErr stands in for the api package's error mapping.
func writeErr(c *gin.Context, err error) {
	if err == nil {
		return
	}
	var e *models.Error
	if !errors.As(err, &e) {
		e = models.Internal(err)
	}
	status := map[models.Code]int{
		models.CodeInvalid:   http.StatusBadRequest,
		models.CodeNotFound:  http.StatusNotFound,
		models.CodeForbidden: http.StatusForbidden,
	}[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if len(e.Fields) > 0 {
		c.JSON(status, e.Fields)
		return
	}
	c.JSON(status, gin.H{"detail": e.Message})
}

// serve performs one request against the engine.
func (env *testEnv) serve(t *testing.T, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	env.r.ServeHTTP(w, req)
	return w
}

// orderKey is one expected ordering term.
type orderKey struct {
	field string
	desc  bool
}

// expected filters and orders the fixture in Go (with id as the final
// tie-breaker), as the reference the SQL results are compared with.
func expected(rows []item, keep func(item) bool, keys ...orderKey) []int64 {
	var sel []item
	for _, r := range rows {
		if keep == nil || keep(r) {
			sel = append(sel, r)
		}
	}
	cmp := func(a, b item, field string) int {
		switch field {
		case "name":
			return strings.Compare(a.Name, b.Name)
		case "state":
			return strings.Compare(a.State, b.State)
		case "created":
			return a.Created.Compare(b.Created)
		case "id":
			return int(a.ID - b.ID)
		}
		panic(field)
	}
	sortItems(sel, func(a, b item) int {
		for _, k := range keys {
			if c := cmp(a, b, k.field); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return int(a.ID - b.ID)
	})
	ids := make([]int64, len(sel))
	for i, r := range sel {
		ids[i] = r.ID
	}
	return ids
}

func sortItems(s []item, cmp func(a, b item) int) {
	// insertion sort keeps the test free of any helper under test
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && cmp(s[j-1], s[j]) > 0; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

// page slices ids like the paginator should.
func page(ids []int64, number, size int) []int64 {
	from := (number - 1) * size
	if from >= len(ids) {
		return []int64{}
	}
	return ids[from:min(from+size, len(ids))]
}
