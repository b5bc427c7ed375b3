package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/internal/version"
)

// HealthStatus reports each dependency as "working" or the error.
type HealthStatus struct {
	Database string `json:"database" example:"working"`
	Temporal string `json:"temporal" example:"working"`
}

// healthCheck godoc
//
//	@Summary		Health check
//	@Description	200 when the database and Temporal answer, 503 (with the failing part) otherwise.
//	@Tags			health
//	@Produce		json
//	@Success		200	{object}	HealthStatus
//	@Failure		503	{object}	HealthStatus
//	@Router			/health-check/ [get]
func (s *Server) healthCheck(c *gin.Context) error {
	dbErr, tErr := s.ping(c.Request.Context())
	st := HealthStatus{Database: "working", Temporal: "working"}
	status := http.StatusOK
	if dbErr != nil {
		st.Database = "unavailable: " + dbErr.Error()
		status = http.StatusServiceUnavailable
	}
	if tErr != nil {
		st.Temporal = "unavailable: " + tErr.Error()
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, st)
	return nil
}

// Version is the running version.
type Version struct {
	Version string `json:"version" example:"1.0.0"`
	// LatestVersion is Waldur's "latest available version from GitHub": this
	// server asks no one, so it is empty.
	LatestVersion string `json:"latest_version"`
}

// version godoc
//
//	@Summary		Get application version
//	@Description	The installed version, to any signed-in user. Waldur answers only staff and support, but Waldur's
//	@Description	site agent calls it first, as a service provider's user, and stops on anything but 200.
//	@Tags			version
//	@Produce		json
//	@Security		TokenAuth
//	@Success		200	{object}	Version
//	@Failure		401	{object}	ErrorBody
//	@Router			/api/version/ [get]
func (s *Server) version(c *gin.Context) error {
	c.JSON(http.StatusOK, Version{Version: version.String()})
	return nil
}
