package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

// Forbidden is DRF's 403 for a caller without the permission.
func Forbidden() error {
	return models.Errorf(models.CodeForbidden, "You do not have permission to perform this action.")
}

// NotFound is a 404: DRF's "Not found." when what is "", else Django's
// get_object_or_404 wording, "No <what> matches the given query.".
func NotFound(what string) error {
	if what == "" {
		return models.Errorf(models.CodeNotFound, "Not found.")
	}
	return models.Errorf(models.CodeNotFound, "No %s matches the given query.", what)
}

// PathUUID parses the :uuid path parameter (32 hex digits, dashed or not).
// A malformed one is NotFound(what), as a missing object: the route would
// not match in Waldur.
func PathUUID(c *gin.Context, what string) (models.UUID, error) {
	id, err := models.ParseUUID(c.Param("uuid"))
	if err != nil {
		return models.NilUUID, NotFound(what)
	}
	return id, nil
}

// NoContent answers 204 with no body.
func NoContent(c *gin.Context) error {
	c.Status(http.StatusNoContent)
	return nil
}

// FullName is the user's first and last name joined by a space and trimmed,
// as the API renders a user's full name.
func FullName(u *models.User) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}
