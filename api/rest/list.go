package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

const (
	// DefaultPageSize is the page size when ?page_size= is absent or invalid.
	DefaultPageSize = 10
	// MaxPageSize is the largest page size; larger requests are clamped to it.
	MaxPageSize = 300
)

// ListSpec declares how a list endpoint may be ordered.
type ListSpec struct {
	// Ordering maps each name accepted by ?o= to the SQL column expression it
	// sorts by (trusted text, never taken from the request). Names not in the
	// map are ignored, as DRF's OrderingFilter does.
	Ordering map[string]string
	// DefaultOrdering applies when ?o= gives no known name, e.g. {"-created"}.
	// Its names are looked up in Ordering like request names.
	DefaultOrdering []string
	// TieBreaker is a unique column appended (ascending) to every ordering so
	// that pages are stable, e.g. "id" or "projects.id" when q joins tables.
	// Empty means "id".
	TieBreaker string
}

// Page parses ?page= and ?page_size= without looking at the data.
// The page defaults to 1; a non-integer or < 1 page is a 404 "Invalid page."
// as in DRF. The size defaults to DefaultPageSize when absent, non-numeric
// or < 1, and is clamped to MaxPageSize.
func Page(c *gin.Context) (number, size int, err error) {
	size = DefaultPageSize
	if s := Last(c, "page_size"); s != "" {
		if n, perr := strconv.Atoi(s); perr == nil && n >= 1 {
			size = min(n, MaxPageSize)
		}
	}
	number = 1
	if s := Last(c, "page"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 {
			return 0, 0, invalidPage()
		}
		number = n
	}
	return number, size, nil
}

func invalidPage() error { return models.Errorf(models.CodeNotFound, "Invalid page.") }

// OrderBy returns the ORDER BY terms the request asks for under spec:
// the known names of ?o= (repeated keys and comma-separated lists, "-" for
// descending), or spec.DefaultOrdering when there is none, always ending
// with the tie-breaker. Each term is a trusted SQL expression for q.Order.
func OrderBy(c *gin.Context, spec ListSpec) []string {
	var names []string
	for _, v := range Values(c, "o") {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	terms, seen := spec.terms(names)
	if len(terms) == 0 {
		terms, seen = spec.terms(spec.DefaultOrdering)
	}
	tie := spec.TieBreaker
	if tie == "" {
		tie = "id"
	}
	if !seen[tie] {
		terms = append(terms, tie)
	}
	return terms
}

// terms maps ordering names to SQL terms, dropping unknown names and repeated
// columns (the first mention wins); seen holds the columns used.
func (spec ListSpec) terms(names []string) (terms []string, seen map[string]bool) {
	seen = map[string]bool{}
	for _, n := range names {
		desc := strings.HasPrefix(n, "-")
		col, ok := spec.Ordering[strings.TrimPrefix(n, "-")]
		if !ok || col == "" || seen[col] {
			continue
		}
		seen[col] = true
		if desc {
			terms = append(terms, col+" DESC")
		} else {
			terms = append(terms, col)
		}
	}
	return terms, seen
}

// List serves a Waldur list endpoint: it counts the filtered query q, checks
// the requested page, loads that page of []T ordered in SQL by ?o= (see
// OrderBy), renders each row, applies ?field= and writes X-Result-Count,
// Link and the 200 JSON array. A HEAD request gets the headers only and
// loads no rows. q should carry the filters (and joins or preloads) only:
// no ordering, limit or offset. It returns a *models.Error: 404 "Invalid
// page." or an internal error from the database.
func List[T any, R any](c *gin.Context, q store.Query, spec ListSpec, render func(*T) R) error {
	return ListBatch(c, q, spec, func(rows []T) ([]R, error) {
		out := make([]R, len(rows))
		for i := range rows {
			out[i] = render(&rows[i])
		}
		return out, nil
	})
}

// ListBatch is List with a renderer that sees the whole page at once, for
// renderings that load related data for all rows in one query. An error
// from render is returned as is when it is a *models.Error, wrapped as an
// internal error otherwise.
func ListBatch[T any, R any](c *gin.Context, q store.Query, spec ListSpec, render func([]T) ([]R, error)) error {
	number, size, err := Page(c)
	if err != nil {
		return err
	}

	total, err := q.Count(new(T))
	if err != nil {
		return err
	}

	pages := 1
	if total > 0 {
		pages = int((total + int64(size) - 1) / int64(size))
	}
	if number > pages {
		return invalidPage()
	}

	headers := func() {
		c.Header("X-Result-Count", strconv.FormatInt(total, 10))
		c.Header("Link", linkHeader(c, number, pages))
	}
	if c.Request.Method == http.MethodHead {
		headers()
		return writeJSON(c, http.StatusOK, nil, nil, true)
	}

	rows := make([]T, 0, size)
	if err := q.Page(&rows, OrderBy(c, spec), size, (number-1)*size); err != nil {
		return err
	}
	items, err := render(rows)
	if err != nil {
		var appErr *models.Error
		if errors.As(err, &appErr) {
			return err
		}
		return models.Internal(err)
	}
	if items == nil {
		items = []R{}
	}
	b, err := marshalJSON(items, Fields(c), true)
	if err != nil {
		return err
	}
	headers()
	c.Data(http.StatusOK, jsonContentType, b)
	return nil
}

// linkHeader builds the RFC 8288 Link header of Waldur's LinkHeaderPagination.
func linkHeader(c *gin.Context, number, pages int) string {
	links := make([]string, 0, 4)
	add := func(rel string, page int) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", pageURL(c, page), rel))
	}
	add("first", 1)
	if number > 1 {
		add("prev", number-1)
	}
	if number < pages {
		add("next", number+1)
	}
	add("last", pages)
	return strings.Join(links, ", ")
}

// AuthParams are query parameters that authenticate a request; they are
// never echoed (a Link URL ends up in logs, caches and other hands).
var AuthParams = []string{"x-auth-token"}

// pageURL is the absolute request URL with page set and every other query
// parameter kept (repeated keys included), except the AuthParams.
func pageURL(c *gin.Context, page int) string {
	q := c.Request.URL.Query() // a fresh copy, not gin's cache
	for k := range q {
		for _, a := range AuthParams {
			if strings.EqualFold(k, a) {
				delete(q, k)
			}
		}
	}
	q.Set("page", strconv.Itoa(page))
	return Origin(c) + c.Request.URL.EscapedPath() + "?" + q.Encode()
}
