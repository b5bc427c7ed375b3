package store

import (
	"context"
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
type Query struct{ db *gorm.DB }

// QueryOf wraps q (filters, joins and preloads only: no ordering, limit or
// offset). A plugin's own store uses it for its lists.
func QueryOf(q *gorm.DB) Query { return Query{db: q} }

// NoRows is a query that selects nothing (an anonymous caller's list).
func (s *Store) NoRows(ctx context.Context) Query {
	return QueryOf(s.DB.WithContext(ctx).Where("1 = 0"))
}

// Count counts the rows; model names the table when the query was built
// without one (a pointer to a row type, e.g. new(T)).
func (q Query) Count(model any) (int64, error) {
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
	fq := q.db.Session(&gorm.Session{})
	for _, term := range order {
		fq = fq.Order(term)
	}
	if err := fq.Limit(limit).Offset(offset).Find(dest).Error; err != nil {
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
