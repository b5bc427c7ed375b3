package api

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/models"
)

const (
	ctxUser         = "waldur.user"
	ctxImpersonator = "waldur.impersonator"
	ctxTokenKey     = "waldur.token_key"
	// HeaderImpersonate names the user a staff request acts as.
	HeaderImpersonate = "X-Impersonated-User-Uuid"
	// HeaderImpersonator carries the staff user's UUID back.
	HeaderImpersonator = "X-impersonator-uuid"
)

// Impersonator is the staff user behind an impersonated request, nil otherwise.
func Impersonator(c *gin.Context) *models.User {
	if v, ok := c.Get(ctxImpersonator); ok {
		return v.(*models.User)
	}
	return nil
}

// TokenKey is the key of the token that authenticated the request (the
// staff user's under impersonation), "" for anonymous.
func TokenKey(c *gin.Context) string { return c.GetString(ctxTokenKey) }

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

// authenticate resolves the token, if any, to a user, else the browser
// session of the sessionid cookie (session.go). A request with a bad token
// is refused even on public endpoints, as DRF does; a stale session cookie
// is ignored, as Django does.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxServer, s)
		hasHeader := c.GetHeader("Authorization") != ""
		key := tokenFromRequest(c)
		var u *models.User
		if key == "" {
			if hasHeader {
				WriteError(c, models.Errorf(models.CodeUnauthorized, "Invalid token header. No credentials provided."))
				return
			}
			// No token: the browser session of the sessionid cookie, if any.
			su, skey, err := s.sessionUser(c)
			if err != nil {
				WriteError(c, err)
				return
			}
			if su == nil {
				c.Request = c.Request.WithContext(models.WithActor(c.Request.Context(), models.Actor{IP: c.ClientIP()}))
				return
			}
			if !su.IsActive {
				WriteError(c, models.Errorf(models.CodeUnauthorized, "User inactive or deleted."))
				return
			}
			u = su
			c.Set(ctxSessionKey, skey)
		} else {
			tu, tok, err := s.users.UserByToken(c.Request.Context(), key)
			if err != nil {
				if models.IsCode(err, models.CodeNotFound) {
					WriteError(c, models.Errorf(models.CodeUnauthorized, "Invalid token."))
					return
				}
				WriteError(c, err)
				return
			}
			if !tu.IsActive {
				WriteError(c, models.Errorf(models.CodeUnauthorized, "User inactive or deleted."))
				return
			}
			now := s.now()
			if tu.TokenLifetime != nil && tok.Created.Add(time.Duration(*tu.TokenLifetime)*time.Second).Before(now) {
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
			u = tu
			c.Set(ctxTokenKey, key)
		}
		if target := c.GetHeader(HeaderImpersonate); target != "" {
			imp, err := s.impersonate(c, u, target)
			if err != nil {
				WriteError(c, err)
				return
			}
			c.Set(ctxImpersonator, u)
			c.Header(HeaderImpersonator, u.UUID.String())
			u = imp
		}
		c.Set(ctxUser, u)
		c.Request = c.Request.WithContext(models.WithActor(c.Request.Context(), models.Actor{
			User: u, Impersonator: Impersonator(c), IP: c.ClientIP(),
		}))
	}
}

// impersonate lets staff act as another user who has an active session
// (a token), as Waldur does; the response names the impersonator.
func (s *Server) impersonate(c *gin.Context, staff *models.User, target string) (*models.User, error) {
	if !staff.IsStaff {
		return nil, models.Errorf(models.CodeForbidden, "Only staff users can impersonate other users.")
	}
	id, err := models.ParseUUID(target)
	if err != nil {
		return nil, models.Errorf(models.CodeInvalid, "%s is not a valid UUID.", HeaderImpersonate)
	}
	u, err := s.users.UserByUUID(c.Request.Context(), id)
	if err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, models.Errorf(models.CodeInvalid, "Impersonated user does not exist.")
		}
		return nil, err
	}
	if _, err := s.users.TokenOf(c.Request.Context(), u.ID); err != nil {
		if models.IsCode(err, models.CodeNotFound) {
			return nil, models.Errorf(models.CodeInvalid, "Unable to impersonate user which does not have an active session.")
		}
		return nil, err
	}
	if !u.IsActive {
		return nil, models.Errorf(models.CodeInvalid, "Impersonated user is not active.")
	}
	return u, nil
}

// RequireUser refuses anonymous requests (use as route middleware).
func RequireUser(c *gin.Context) {
	if CurrentUser(c) == nil {
		WriteError(c, models.Errorf(models.CodeUnauthorized, "Authentication credentials were not provided."))
	}
}

// RequireStaff allows staff only.
func RequireStaff(c *gin.Context) {
	u := CurrentUser(c)
	if u == nil {
		WriteError(c, models.Errorf(models.CodeUnauthorized, "Authentication credentials were not provided."))
		return
	}
	if !u.IsStaff {
		WriteError(c, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action."))
	}
}

// RequireStaffOrSupport allows staff and global support users.
func RequireStaffOrSupport(c *gin.Context) {
	u := CurrentUser(c)
	if u == nil {
		WriteError(c, models.Errorf(models.CodeUnauthorized, "Authentication credentials were not provided."))
		return
	}
	if !u.IsStaff && !u.IsSupport {
		WriteError(c, models.Errorf(models.CodeForbidden, "You do not have permission to perform this action."))
	}
}
