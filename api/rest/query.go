// Package rest implements Waldur's (Django REST Framework's) list and
// reference conventions on top of gin (the rows come from the store as a store.Query): page-number pagination with
// X-Result-Count and Link headers, ?o= ordering, repeated query keys,
// ?field= sparse fieldsets, hyperlinked references in request bodies and
// absolute object URLs in responses.
//
// Every function that can fail returns a *models.Error; the api package maps
// its code to the HTTP status. Nothing here writes an error response.
package rest

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// Values returns every value of the query key, in request order, trimmed,
// with empty values dropped: ?state=OK&state=Erred gives [OK Erred].
// It returns nil when the key is absent or has only empty values.
func Values(c *gin.Context, key string) []string {
	raw := c.QueryArray(key)
	if len(raw) == 0 {
		return nil
	}
	var out []string
	for _, v := range raw {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Last returns the last non-empty value of key, as Django's QueryDict.get
// returns the last of repeated values; "" when there is none.
func Last(c *gin.Context, key string) string {
	vs := Values(c, key)
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// UUIDs parses every value of the query key as a UUID (32-hex or dashed
// form). An unparseable value is a 400 field error on key. It returns nil
// when the key is absent.
func UUIDs(c *gin.Context, key string) ([]models.UUID, error) {
	vs := Values(c, key)
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]models.UUID, 0, len(vs))
	for _, v := range vs {
		u, err := models.ParseUUID(v)
		if err != nil {
			return nil, models.FieldError(key, "Enter a valid UUID.")
		}
		out = append(out, u)
	}
	return out, nil
}

// Bool parses the query key as a boolean filter: true, True and 1 are true;
// false, False and 0 are false; anything else is a 400 field error on key.
// It returns nil when the key is absent or empty. Of repeated values the
// last one wins, as in Django.
func Bool(c *gin.Context, key string) (*bool, error) {
	v := Last(c, key)
	var b bool
	switch v {
	case "":
		return nil, nil
	case "true", "True", "1":
		b = true
	case "false", "False", "0":
		b = false
	default:
		return nil, models.FieldError(key, "Must be a valid boolean.")
	}
	return &b, nil
}

// RefUUIDs reads a reference filter (DRF's URLFilter: ?offering=<url>):
// every value is an object URL or a UUID; the UUID is its last path
// segment. A value that names no UUID is a 400 field error on key.
func RefUUIDs(c *gin.Context, key string) ([]models.UUID, error) {
	vs := Values(c, key)
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]models.UUID, 0, len(vs))
	for _, v := range vs {
		segs := strings.Split(strings.TrimRight(v, "/"), "/")
		u, err := models.ParseUUID(segs[len(segs)-1])
		if err != nil {
			return nil, models.FieldError(key, "Invalid hyperlink - Object does not exist.")
		}
		out = append(out, u)
	}
	return out, nil
}

// Since reads a ?created= or ?modified= filter (Waldur: the moment or
// later), as a date or a date and time. A malformed value is a 400 field
// error on key; nil when absent.
func Since(c *gin.Context, key string) (*time.Time, error) {
	v := Last(c, key)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, models.FieldError(key, "Enter a valid date/time.")
}
