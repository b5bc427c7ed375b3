package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	"github.com/waldur-go/waldur/api/docs"
)

// docsRoutes serves the generated OpenAPI spec at /api/schema/ and Swagger UI at /api/docs/.
func (s *Server) docsRoutes(e *gin.Engine) {
	e.GET("/api/schema/", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(docs.SwaggerInfo.ReadDoc()))
	})
	ui := ginSwagger.WrapHandler(swaggerFiles.Handler, ginSwagger.URL("/api/schema/"))
	e.GET("/api/docs/*any", func(c *gin.Context) {
		if p := c.Param("any"); p == "/" || p == "" {
			c.Redirect(http.StatusFound, "/api/docs/index.html")
			return
		}
		ui(c)
	})
}
