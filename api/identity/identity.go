// Package identity is the API module for users, tokens and SSH keys:
// /api/users/ (list, create, retrieve, update, destroy, me, change_password,
// token, refresh_token), /api-auth/password/ (login with lockout),
// /api-auth/logout/, /api/keys/ and the Identity Bridge
// (/api/identity-bridge/), in Waldur's wire format.
package identity

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/rbac"
)

// Deps are what the module needs.
type Deps struct {
	Store *store.Store
	// RBAC is the permission checker (kept for actions that need a
	// permission on a scope; users and keys need none today).
	RBAC *rbac.Checker
	// Now is the clock (tests move it); nil means the store's clock.
	Now func() time.Time
	// Bridge configures the Identity Bridge; the zero value is Waldur's
	// default: disabled.
	Bridge BridgeConfig
}

// Module serves the identity routes.
type Module struct {
	st     *store.Store
	rbac   *rbac.Checker
	now    func() time.Time
	bridge BridgeConfig
}

var _ api.Module = (*Module)(nil)

// New returns the module.
func New(d Deps) *Module {
	m := &Module{st: d.Store, rbac: d.RBAC, now: d.Now, bridge: d.Bridge.withDefaults()}
	if m.now == nil {
		m.now = d.Store.Now
	}
	return m
}

// Routes implements api.Module; the /api-auth/ routes go on root.
func (m *Module) Routes(a *gin.RouterGroup, root *gin.Engine) {
	h := api.H
	a.GET("/users/", api.RequireUser, h(m.listUsers))
	a.HEAD("/users/", api.RequireUser, h(m.listUsers))
	a.POST("/users/", api.RequireStaff, h(m.createUser))
	a.GET("/users/me/", api.RequireUser, h(m.me))
	a.HEAD("/users/me/", api.RequireUser, h(m.me))
	a.GET("/users/:uuid/", api.RequireUser, h(m.getUser))
	a.PUT("/users/:uuid/", api.RequireUser, h(m.updateUser))
	a.PATCH("/users/:uuid/", api.RequireUser, h(m.updateUser))
	a.DELETE("/users/:uuid/", api.RequireStaff, h(m.deleteUser))
	a.POST("/users/:uuid/change_password/", api.RequireUser, h(m.changePassword))
	a.GET("/users/:uuid/token/", api.RequireStaff, h(m.userToken))
	a.POST("/users/:uuid/refresh_token/", api.RequireStaff, h(m.refreshToken))

	a.POST("/identity-bridge/", api.RequireUser, h(m.bridgePush))
	a.POST("/identity-bridge/remove/", api.RequireUser, h(m.bridgeRemove))
	a.GET("/identity-bridge/stats/", api.RequireUser, h(m.bridgeStats))
	a.HEAD("/identity-bridge/stats/", api.RequireUser, h(m.bridgeStats))

	a.GET("/keys/", api.RequireUser, h(m.listKeys))
	a.HEAD("/keys/", api.RequireUser, h(m.listKeys))
	a.POST("/keys/", api.RequireUser, h(m.createKey))
	a.GET("/keys/:uuid/", api.RequireUser, h(m.getKey))
	a.DELETE("/keys/:uuid/", api.RequireUser, h(m.deleteKey))

	root.POST("/api-auth/password/", h(m.login))
	root.POST("/api-auth/logout/", api.RequireUser, h(m.logout))
}

// readForm reads the body with form.Read. A body that is not JSON is
// answered here as DRF's ParseError is ({"detail": …}, 400), any other
// refusal (a body too large: 413) with api.WriteError; ok is false when the
// request has been answered.
func readForm(c *gin.Context) (f *form.Form, ok bool) {
	f, err := form.Read(c)
	if err == nil {
		return f, true
	}
	var e *models.Error
	switch {
	case errors.Is(err, form.ErrSyntax) && errors.As(err, &e):
		c.AbortWithStatusJSON(http.StatusBadRequest, api.ErrorBody{Detail: e.Message})
	default:
		api.WriteError(c, err)
	}
	return nil, false
}

// str reads a CharField as this module always has: trimmed, numbers taken
// as their text, NUL characters not refused.
func str(f *form.Form, k string, maxLen int, allowBlank bool) (string, bool) {
	return f.Char(k, form.Char{Max: maxLen, AllowBlank: allowBlank})
}
