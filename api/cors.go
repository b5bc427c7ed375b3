package api

import (
	"net/http"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// corsPolicy lets the listed origins' scripts call the API (a front end such
// as HomePort served from its own host). Credentials (the Authorization
// header, the session cookie) are allowed unless any origin is.
func corsPolicy(origins []string) gin.HandlerFunc {
	cfg := cors.Config{
		AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
			http.MethodHead, http.MethodOptions},
		AllowHeaders: []string{"Authorization", "Content-Type", "Accept", "Accept-Language", "X-Requested-With",
			HeaderImpersonate, HeaderCSRF},
		// The pagination headers a list answers with; whom staff acts as.
		ExposeHeaders: []string{"Link", "X-Result-Count", HeaderImpersonator},
		MaxAge:        12 * time.Hour,
	}
	if len(origins) == 1 && origins[0] == "*" {
		cfg.AllowAllOrigins = true
	} else {
		cfg.AllowOrigins = origins
		cfg.AllowCredentials = true
	}
	return cors.New(cfg)
}
