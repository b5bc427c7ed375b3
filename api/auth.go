package api

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

const ctxUser = "waldur.user"

// CurrentUser is the authenticated user of the request, nil for anonymous.
func CurrentUser(c *gin.Context) *models.User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*models.User)
	}
	return nil
}

// tokenFromRequest reads `Authorization: Token <key>` (keyword
// case-insensitive, `Bearer` accepted too) or `?x-auth-token=`.
func tokenFromRequest(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		kw, key, ok := strings.Cut(strings.TrimSpace(h), " ")
		if ok && (strings.EqualFold(kw, "token") || strings.EqualFold(kw, "bearer")) {
			return strings.TrimSpace(key)
		}
		return ""
	}
	return c.Query("x-auth-token")
}

// authenticate resolves the token, if any, to a user. A request with a bad
// token is refused even on public endpoints, as DRF does.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		hasHeader := c.GetHeader("Authorization") != ""
		key := tokenFromRequest(c)
		if key == "" {
			if hasHeader {
				WriteError(c, models.Errorf(models.CodeUnauthorized, "Invalid token header. No credentials provided."))
			}
			return
		}
		u, tok, err := s.users.UserByToken(c.Request.Context(), key)
		if err != nil {
			if models.IsCode(err, models.CodeNotFound) {
				WriteError(c, models.Errorf(models.CodeUnauthorized, "Invalid token."))
				return
			}
			WriteError(c, err)
			return
		}
		if !u.IsActive {
			WriteError(c, models.Errorf(models.CodeUnauthorized, "User inactive or deleted."))
			return
		}
		now := s.now()
		if u.TokenLifetime != nil && tok.Created.Add(time.Duration(*u.TokenLifetime)*time.Second).Before(now) {
			WriteError(c, models.Errorf(models.CodeUnauthorized, "Token has expired."))
			return
		}
		// Sliding lifetime: each authenticated request restarts the clock.
		// Skip the write when the token was refreshed moments ago.
		if now.Sub(tok.Created) > 10*time.Second {
			if err := s.users.TouchToken(c.Request.Context(), key, now); err != nil {
				WriteError(c, err)
				return
			}
		}
		c.Set(ctxUser, u)
	}
}

// requireUser refuses anonymous requests.
func requireUser(c *gin.Context) {
	if CurrentUser(c) == nil {
		WriteError(c, models.Errorf(models.CodeUnauthorized, "Authentication credentials were not provided."))
	}
}

// requireStaffOrSupport allows staff and global support users.
func requireStaffOrSupport(c *gin.Context) {
	u := CurrentUser(c)
	if u == nil {
		WriteError(c, models.Errorf(models.CodeUnauthorized, "Authentication credentials were not provided."))
		return
	}
	if !u.IsStaff && !u.IsSupport {
		WriteError(c, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action."))
	}
}
