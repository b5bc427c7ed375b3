package rest

import (
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// DRF's HyperlinkedRelatedField messages, for ParseRef and for callers that
// look the referenced object up afterwards.
const (
	// MsgNull is the error for an empty reference.
	MsgNull = "This field may not be null."
	// MsgNoMatch is the error for a value that is neither an API URL nor a UUID.
	MsgNoMatch = "Invalid hyperlink - No URL match."
	// MsgIncorrectURL is the error for the URL of an object of another collection.
	MsgIncorrectURL = "Invalid hyperlink - Incorrect URL match."
	// MsgDoesNotExist is the error for a reference to no (visible) object.
	MsgDoesNotExist = "Invalid hyperlink - Object does not exist."
)

const apiPrefix = "/api/"

// ParseRef resolves a reference to an object of collection (the URL path
// segment, e.g. "projects") given in a request body field, either as the
// object's URL or as its bare UUID (32-hex or dashed). A URL is resolved by
// its path only (/api/<collection>/<uuid>/, trailing slash optional); its
// scheme and host are ignored. Failures are 400 field errors on field with
// DRF's messages: MsgNull for an empty value, MsgIncorrectURL for a URL of
// another collection, MsgDoesNotExist for a malformed UUID in a URL of the
// right collection and MsgNoMatch for anything else.
func ParseRef(field, value, collection string) (models.UUID, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return models.NilUUID, models.FieldError(field, MsgNull)
	}
	if !strings.Contains(value, "/") {
		id, err := models.ParseUUID(value)
		if err != nil {
			return models.NilUUID, models.FieldError(field, MsgNoMatch)
		}
		return id, nil
	}
	u, err := url.Parse(value)
	if err != nil || !strings.HasPrefix(u.Path, apiPrefix) {
		return models.NilUUID, models.FieldError(field, MsgNoMatch)
	}
	p := strings.TrimSuffix(strings.TrimPrefix(u.Path, apiPrefix), "/")
	i := strings.LastIndex(p, "/")
	if i <= 0 || i == len(p)-1 {
		return models.NilUUID, models.FieldError(field, MsgNoMatch)
	}
	if !collectionMatches(p[:i], collection) {
		return models.NilUUID, models.FieldError(field, MsgIncorrectURL)
	}
	id, err := models.ParseUUID(p[i+1:])
	if err != nil {
		return models.NilUUID, models.FieldError(field, MsgDoesNotExist)
	}
	return id, nil
}

// Origin returns "scheme://host" of the request: the scheme is the first
// X-Forwarded-Proto value when it is http or https, else https for TLS and
// http otherwise; the host is the request's Host.
func Origin(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	if p, _, _ := strings.Cut(c.GetHeader("X-Forwarded-Proto"), ","); p != "" {
		if p = strings.ToLower(strings.TrimSpace(p)); p == "http" || p == "https" {
			scheme = p
		}
	}
	return scheme + "://" + c.Request.Host
}

// URL returns the absolute URL of an object for rendering url fields:
// scheme://host/api/<collection>/<32-hex uuid>/.
func URL(c *gin.Context, collection string, id models.UUID) string {
	return Origin(c) + apiPrefix + collection + "/" + id.String() + "/"
}

// NestedURL is the URL of child in a sub-collection of parent, e.g. a
// public offering's plan: /api/marketplace-public-offerings/<o>/plans/<p>/.
func NestedURL(c *gin.Context, collection string, parent models.UUID, sub string, child models.UUID) string {
	return URL(c, collection, parent) + sub + "/" + child.String() + "/"
}

// collectionMatches compares a reference's collection path with a
// collection name in which "*" stands for one path segment (the parent of a
// nested collection: "marketplace-public-offerings/*/plans").
func collectionMatches(path, collection string) bool {
	if !strings.Contains(collection, "*") {
		return path == collection
	}
	ps, cs := strings.Split(path, "/"), strings.Split(collection, "/")
	if len(ps) != len(cs) {
		return false
	}
	for i := range cs {
		if ps[i] == "" || (cs[i] != "*" && cs[i] != ps[i]) {
			return false
		}
	}
	return true
}
