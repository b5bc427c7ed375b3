package stats

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

// Queries are the statistics' SQL: each figure is one set-based query
// (aggregates, scalar subqueries, no loop over rows in Go), written once
// for PostgreSQL and SQLite with the few dialect helpers below.
type Queries struct {
	db *gorm.DB
	pg bool
}

// NewQueries returns the queries over db.
func NewQueries(db *gorm.DB) *Queries {
	return &Queries{db: db, pg: db.Dialector.Name() == "postgres"}
}

// activeStates are the states of a resource Waldur counts as active.
const activeStates = `('OK', 'Updating', 'Terminating')`

// notDeleted keeps the invoice items that are not tombstones.
const notDeleted = `ii.item_key NOT LIKE 'deleted:%'`

// day is the UTC date (YYYY-MM-DD) of a timestamp column.
func (q *Queries) day(col string) string {
	if q.pg {
		return "TO_CHAR(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "strftime('%Y-%m-%d', " + col + ")"
}

// part is the year or month (as an integer) of a timestamp (ts true, read
// in UTC) or date column.
func (q *Queries) part(field, col string, ts bool) string {
	if q.pg {
		if ts {
			col += " AT TIME ZONE 'UTC'"
		}
		return "CAST(EXTRACT(" + field + " FROM " + col + ") AS INTEGER)"
	}
	f := "%Y"
	if field == "MONTH" {
		f = "%m"
	}
	return "CAST(strftime('" + f + "', " + col + ") AS INTEGER)"
}

// seconds is b - a in seconds, for two timestamp columns.
func (q *Queries) seconds(a, b string) string {
	if q.pg {
		return "EXTRACT(EPOCH FROM (" + b + " - " + a + "))"
	}
	return "((julianday(" + b + ") - julianday(" + a + ")) * 86400.0)"
}

// limitOf is the integer value of key (an SQL expression) in the JSON
// object column col.
func (q *Queries) limitOf(col, key string) string {
	if q.pg {
		return "CAST(" + col + "->>" + key + " AS BIGINT)"
	}
	return "CAST(json_extract(" + col + ", '$.\"' || " + key + " || '\"') AS INTEGER)"
}

// limitPairs is the FROM item listing (key, value) of the JSON object
// column col as alias l (l.key, l.value).
func (q *Queries) limitPairs(col string) string {
	if q.pg {
		return "jsonb_each_text(CASE WHEN jsonb_typeof(" + col + ") = 'object' THEN " + col + " ELSE '{}'::jsonb END) l"
	}
	return "json_each(CASE WHEN json_type(" + col + ") = 'object' THEN " + col + " ELSE '{}' END) l"
}

func (q *Queries) raw(ctx context.Context, out any, sql string, args ...any) error {
	if err := q.db.WithContext(ctx).Raw(sql, args...).Scan(out).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// Time scans a timestamp from either database: PostgreSQL gives a
// time.Time, SQLite a string for an aggregate (MAX) of a timestamp column.
type Time struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = Time{}
	case time.Time:
		*t = Time{T: x.UTC(), Valid: true}
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	default:
		return fmt.Errorf("stats: cannot scan %T as a time", v)
	}
	return nil
}

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) {
	if !t.Valid {
		return nil, nil
	}
	return t.T, nil
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02"}

func (t *Time) parse(s string) error {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if v, err := time.Parse(l, s); err == nil {
			*t = Time{T: v.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("stats: cannot parse time %q", s)
}

// dateString is t's date as YYYY-MM-DD, the form of DATE columns' parameters.
func dateString(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// addMonths is the first day of the month n months after t's.
func addMonths(t time.Time, n int) time.Time { return monthStart(t).AddDate(0, n, 0) }
