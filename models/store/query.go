package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/rbac"
)

// Query is the rows a list endpoint may show: already narrowed to what the
// caller may see and to the request's filters, not yet ordered or paged.
// It is built here, beside the data; the API counts it and loads one page in
// a trusted order (rest.List) without seeing SQL.
type Query struct {
	db    *gorm.DB
	view  func(*gorm.DB) *gorm.DB    // what a page's rows add to db (WithView)
	scan  func(*sql.Rows, any) error // reads a page's rows into dest (WithView)
	keyed *Keyed                     // when set, the list is counted and paged over its keys
}

// QueryOf wraps q (filters, joins and preloads only: no ordering, limit or
// offset). A plugin's own store uses it for its lists.
func QueryOf(q *gorm.DB) Query { return Query{db: q} }

// WithView is q whose pages are loaded through view: the columns and joins
// only the rendering of a row needs (never a filter), which the count does
// not run; scan, when given, reads the page's rows (the view's columns, in
// its order) into the dest of Page, instead of GORM's reflection.
func (q Query) WithView(view func(*gorm.DB) *gorm.DB, scan func(*sql.Rows, any) error) Query {
	q.view, q.scan = view, scan
	return q
}

// NoRows is a query that selects nothing (an anonymous caller's list).
func (s *Store) NoRows(ctx context.Context) Query {
	return QueryOf(s.DB.WithContext(ctx).Where("1 = 0"))
}

// Count counts the rows; model names the table when the query was built
// without one (a pointer to a row type, e.g. new(T)).
func (q Query) Count(model any) (int64, error) {
	if q.keyed != nil {
		return q.keyed.count()
	}
	cq := q.db.Session(&gorm.Session{}).Limit(-1).Offset(-1) // a private copy of the statement
	cq.Statement.Preloads = nil                              // the count needs no related rows
	if cq.Statement.Model == nil && cq.Statement.Table == "" {
		cq = cq.Model(model)
	}
	var n int64
	if err := cq.Count(&n).Error; err != nil {
		return 0, models.Internal(fmt.Errorf("count: %w", err))
	}
	return n, nil
}

// Page loads limit rows from offset into dest (a pointer to a slice),
// ordered by the given trusted SQL terms.
func (q Query) Page(dest any, order []string, limit, offset int) error {
	if q.keyed != nil {
		return q.keyed.page(dest, order, limit, offset)
	}
	fq := q.db.Session(&gorm.Session{})
	if q.view != nil {
		fq = q.view(fq)
	}
	for _, term := range order {
		fq = fq.Order(term)
	}
	if q.scan != nil {
		rows, err := fq.Limit(limit).Offset(offset).Rows()
		if err != nil {
			return models.Internal(fmt.Errorf("list: %w", err))
		}
		defer rows.Close()
		if err := q.scan(rows, dest); err != nil {
			return models.Internal(fmt.Errorf("list: %w", err))
		}
		return nil
	}
	if err := fq.Limit(limit).Offset(offset).Find(dest).Error; err != nil {
		return models.Internal(fmt.Errorf("list: %w", err))
	}
	return nil
}

// Keyed is a list query in two parts: the keys (the listed table with the
// filters and only the joins they name), counted and paged by a unique key
// column; and the view (every join and computed column of the answer), run
// for the keys of one page only. What only rendering needs is thus neither
// joined nor computed for every matching row, and the count joins only
// what the filters need. Build it with NewKeyed, add filters with Where,
// and hand Query() to rest.List.
type Keyed struct {
	keys  *gorm.DB
	key   string
	view  *gorm.DB
	joins []KeyJoin
	need  map[string]bool
}

// KeyJoin is a join the keys may need: the JOIN clause of table alias
// Alias, which needs the join of alias After first (if any). Inner joins
// here must match exactly one row (a NOT NULL foreign key), so that
// joining them for a filter or an ordering changes no count.
type KeyJoin struct{ Alias, After, SQL string }

// NewKeyed starts a keyed query: keys is the listed table (no joins, no
// ordering), key its unique column (e.g. "orders.id", also the ordering's
// tie-breaker), view the full query whose rows fill a page (the keys'
// aliases mean the same there), joins the joins a filter or an ordering
// term may name.
func NewKeyed(keys *gorm.DB, key string, view *gorm.DB, joins ...KeyJoin) *Keyed {
	return &Keyed{keys: keys, key: key, view: view, joins: joins, need: map[string]bool{}}
}

// Where adds a filter to the keys, joining the aliases its SQL names.
func (k *Keyed) Where(cond string, args ...any) *Keyed {
	k.keys = k.keys.Where(cond, args...)
	k.mark(cond)
	return k
}

// Query is the keyed query as a list's Query.
func (k *Keyed) Query() Query { return Query{keyed: k} }

// mark records the join aliases named in sql ("p.name" names p).
func (k *Keyed) mark(sql string) {
	for _, j := range k.joins {
		if namesAlias(sql, j.Alias) {
			k.need[j.Alias] = true
		}
	}
}

// namesAlias reports whether sql names alias as a qualifier ("alias." not
// preceded by a letter, digit, underscore, dot or quote).
func namesAlias(sql, alias string) bool {
	for i := 0; ; {
		j := strings.Index(sql[i:], alias+".")
		if j < 0 {
			return false
		}
		j += i
		if j == 0 {
			return true
		}
		switch c := sql[j-1]; {
		case c == '_' || c == '.' || c == '"' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		default:
			return true
		}
		i = j + 1
	}
}

// joined is the keys with the joins of need (and those they need).
func (k *Keyed) joined(need map[string]bool) *gorm.DB {
	all := map[string]bool{}
	var add func(alias string)
	add = func(alias string) {
		if all[alias] {
			return
		}
		all[alias] = true
		for _, j := range k.joins {
			if j.Alias == alias && j.After != "" {
				add(j.After)
			}
		}
	}
	for a := range need {
		add(a)
	}
	q := k.keys.Session(&gorm.Session{}) // a private copy of the statement
	for _, j := range k.joins {
		if all[j.Alias] {
			q = q.Joins(j.SQL)
		}
	}
	return q
}

func (k *Keyed) count() (int64, error) {
	var n int64
	if err := k.joined(k.need).Count(&n).Error; err != nil {
		return 0, models.Internal(fmt.Errorf("count: %w", err))
	}
	return n, nil
}

func (k *Keyed) page(dest any, order []string, limit, offset int) error {
	need := map[string]bool{}
	for a := range k.need {
		need[a] = true
	}
	for _, term := range order {
		for _, j := range k.joins {
			if namesAlias(term, j.Alias) {
				need[j.Alias] = true
			}
		}
	}
	kq := k.joined(need)
	for _, term := range order {
		kq = kq.Order(term)
	}
	var ids []int64
	if err := kq.Limit(limit).Offset(offset).Pluck(k.key, &ids).Error; err != nil {
		return models.Internal(fmt.Errorf("list: %w", err))
	}
	if len(ids) == 0 {
		return nil // dest stays empty
	}
	vq := k.view.Session(&gorm.Session{}).Where(k.key+" IN ?", ids)
	for _, term := range order {
		vq = vq.Order(term)
	}
	if err := vq.Find(dest).Error; err != nil {
		return models.Internal(fmt.Errorf("list: %w", err))
	}
	return nil
}

// caller is the user the request acts as (the API's authentication puts it
// in the context as the actor); nil for an anonymous caller or a system job.
// The store's visibility and permission checks read the caller from here,
// not from a parameter, so no handler can pass the wrong user.
func caller(ctx context.Context) *models.User { return models.ActorFrom(ctx).User }

// callerRoleScopes are the scopes where the caller of ctx holds a role in
// force at the store's clock; nil when the caller sees everything (staff,
// support). An anonymous caller holds no role.
func (s *Store) callerRoleScopes(ctx context.Context) (*RoleScopes, error) {
	u := caller(ctx)
	if rbac.SeesEverything(u) {
		return nil, nil
	}
	if u == nil {
		return &RoleScopes{}, nil
	}
	return s.UserRoleScopes(ctx, u.ID, s.Now())
}

// callerID is the id of the caller of ctx; 0 when anonymous.
func callerID(ctx context.Context) int64 {
	if u := caller(ctx); u != nil {
		return u.ID
	}
	return 0
}

// noMatch is the answer for an object the caller may not see, or that does
// not exist (the two are not told apart): Django's get_object_or_404 "No
// <what> matches the given query.". Codes: not_found.
func noMatch(what string) error {
	return models.Errorf(models.CodeNotFound, "No %s matches the given query.", what)
}

// findOne loads the first row of q into dest; none is noMatch(what).
func findOne(q *gorm.DB, dest any, what string) error {
	res := q.Limit(1).Find(dest)
	if res.Error != nil {
		return models.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return noMatch(what)
	}
	return nil
}

// likeContains is the LIKE pattern of the "contains" filters of the
// marketplace lists, matched against LOWER(column): the value lowercased,
// its own wildcards not escaped (as those lists always did).
func likeContains(v string) string { return "%" + strings.ToLower(v) + "%" }

// orNone keeps "IN ?" valid for an empty list of ids.
func orNone(ids []int64) []int64 {
	if len(ids) == 0 {
		return []int64{0}
	}
	return ids
}
