package identity

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// ObtainAuthTokenRequest is the body of /api-auth/password/.
type ObtainAuthTokenRequest struct {
	Username string `json:"username" example:"alice"`
	Password string `json:"password" example:"$ecr3t"`
}

// CoreAuthToken is the answer of /api-auth/password/.
type CoreAuthToken struct {
	Token string `json:"token" example:"c84d653b9ec92c6cbac41c706593e66f567a7fa4"`
}

// Waldur's ObtainAuthToken messages.
var (
	msgBadCredentials = "Invalid username/password."
	msgLockedOut      = fmt.Sprintf("Username is locked out. Try in %d minutes.", int(store.LoginLockoutWindow.Minutes()))
	msgDisabled       = "User account is disabled."
)

// dummyHash is compared against when the username does not exist.
var dummyHash, _ = store.HashPassword("not-a-password-1")

func unauthorized(msg string) error { return models.Errorf(models.CodeUnauthorized, "%s", msg) }

// login godoc
//
//	@Summary		Obtain an API token with username and password
//	@Description	Returns the user's token (created when missing, renewed when expired, its lifetime restarted otherwise). With ?session=true a browser session starts too: the sessionid cookie (HttpOnly) and the csrftoken cookie, whose value unsafe requests authenticated by the session send in X-CSRFToken. After 4 failed attempts for one username from one address, attempts are refused for 10 minutes after the last failure (401), even with the right password; a success clears the count. An attempt counts before its password is compared, so parallel requests get no more guesses. When every password-hashing slot is busy the answer is 429 with Retry-After (the attempt does not count).
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		ObtainAuthTokenRequest	true	"Credentials"
//	@Param			session	query		bool					false	"Start a browser session too"
//	@Success		200		{object}	CoreAuthToken
//	@Failure		400		{object}	map[string][]string
//	@Failure		401		{object}	api.ErrorBody
//	@Failure		413		{object}	api.ErrorBody
//	@Failure		429		{object}	api.ErrorBody
//	@Router			/api-auth/password/ [post]
func (m *Module) login(c *gin.Context) error {
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	f.Require("username", "password")
	username, _ := str(f, "username", 128, false)
	password, _ := str(f, "password", 128, false)
	if err := f.Err(); err != nil {
		return err
	}
	if s, ok := f.Text("password"); ok {
		password = s // passwords are not trimmed
	}
	ctx := c.Request.Context()
	ip := c.ClientIP()
	// The attempt counts before the password is compared, in one atomic
	// statement: parallel requests cannot get more guesses compared.
	reserved, err := m.st.ReserveLoginAttempt(ctx, username, ip)
	if err != nil {
		return err
	}
	if !reserved {
		return unauthorized(msgLockedOut)
	}
	u, err := m.st.UserByUsername(ctx, username)
	if err != nil && !models.IsCode(err, models.CodeNotFound) {
		return m.giveBack(ctx, username, ip, err)
	}
	// A missing user costs the same bcrypt work as a wrong password.
	hash := dummyHash
	if u != nil {
		hash = u.Password
	}
	match, err := m.st.PasswordHasher().Check(ctx, hash, password)
	if err != nil {
		return m.giveBack(ctx, username, ip, err) // no hashing slot (429): not a guess
	}
	if u == nil || !match {
		ev := &models.Event{
			EventType: "auth_login_failed_with_username",
			Message:   fmt.Sprintf("User %s failed to authenticate with username and password.", username),
			Context:   map[string]any{"username": username},
		}
		if u != nil {
			ev.Scopes = []models.Scope{{Type: models.ScopeUser, ID: u.ID}}
		}
		if err := m.st.RecordLoginFailure(ctx, ev); err != nil {
			return err
		}
		return unauthorized(msgBadCredentials)
	}
	if err := m.st.ClearLoginFailures(ctx, username, ip); err != nil {
		return err
	}
	if !u.IsActive {
		return unauthorized(msgDisabled)
	}
	tok, err := m.st.LoginToken(ctx, u)
	if err != nil {
		return err
	}
	ev := &models.Event{
		EventType: "auth_logged_in_with_username",
		Message:   fmt.Sprintf("User %s with full name %s authenticated successfully with username and password.", u.Username, fullName(u.FirstName, u.LastName)),
		Context:   actorContext(u),
		Scopes:    []models.Scope{{Type: models.ScopeUser, ID: u.ID}},
	}
	// The request is anonymous: the event names the user who logged in.
	if err := m.st.EmitEvent(models.WithActor(ctx, models.Actor{User: u, IP: ip}), ev); err != nil {
		return err
	}
	if api.WantsSession(c) {
		if err := api.StartSession(c, u, "password"); err != nil {
			return err
		}
	}
	c.JSON(http.StatusOK, CoreAuthToken{Token: tok.Key})
	return nil
}

// giveBack returns the reserved attempt of a login whose password was not
// compared, then err.
func (m *Module) giveBack(ctx context.Context, username, ip string, err error) error {
	if rerr := m.st.ReleaseLoginAttempt(context.WithoutCancel(ctx), username, ip); rerr != nil {
		return rerr
	}
	return err
}

func actorContext(u *models.User) map[string]any {
	return map[string]any{"user_uuid": u.UUID.String(), "user_username": u.Username, "user_full_name": fullName(u.FirstName, u.LastName)}
}

// logout godoc
//
//	@Summary		Log out
//	@Description	Deletes the caller's token: it gives 401 afterwards. Under impersonation the staff user's own token is deleted. A browser session (the sessionid cookie) ends too, its cookies cleared; authenticated by the session, the request must carry X-CSRFToken.
//	@Tags			auth
//	@Security		TokenAuth
//	@Security		waldurCookieAuth
//	@Success		200	{object}	LogoutResponse	"the user logged in through an identity provider with single logout (OIDC's end_session_endpoint): where to send the browser next"
//	@Success		204
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api-auth/logout/ [post]
func (m *Module) logout(c *gin.Context) error {
	u := api.CurrentUser(c)
	if imp := api.Impersonator(c); imp != nil {
		u = imp
	}
	// The provider's logout URL is read before the session records go.
	logoutURL, err := api.LogoutURL(c, u)
	if err != nil {
		return err
	}
	ev := &models.Event{
		EventType: "auth_logged_out",
		Message:   fmt.Sprintf("User %s with full name %s logged out successfully.", u.Username, fullName(u.FirstName, u.LastName)),
		Context:   actorContext(u),
		Scopes:    []models.Scope{{Type: models.ScopeUser, ID: u.ID}},
	}
	if err := m.st.DeleteToken(c.Request.Context(), u.ID, ev); err != nil {
		return err
	}
	if err := api.EndSession(c); err != nil {
		return err
	}
	if logoutURL != "" {
		c.JSON(http.StatusOK, LogoutResponse{LogoutURL: logoutURL})
		return nil
	}
	return api.NoContent(c)
}

// LogoutResponse is Waldur's Logout: the identity provider's URL that
// ends the browser's session there too.
type LogoutResponse struct {
	LogoutURL string `json:"logout_url"`
}
