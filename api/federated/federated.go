// Package federated is what the federated logins (SAML2, OpenID Connect,
// Valimo mobile ID) share: the user fields an identity provider asserts, the provisioning of
// the user they name (created on the first login with its
// registration_method, the mapped fields updated on later ones, a disabled
// or foreign account refused) and the answer of a completed login (the
// password login's token, or a redirect to the front end with it).
package federated

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// Attributes are the user fields an identity provider asserts.
type Attributes struct {
	Username, FirstName, LastName, Email, Organization string
	Affiliations                                       []string
}

// Login names how a login provisions its user.
type Login struct {
	// Method is the registration_method of the users it creates (saml2,
	// a provider slug); a known user registered otherwise is refused.
	Method string
	// Label names the method in messages (SAML2, Keycloak).
	Label string
	// EventType is the event of a successful login.
	EventType string
	// IP is the client's address, for the events.
	IP string
	// Lookup is the user field that identifies the user (an OIDC
	// provider's user_field): "username" (or empty) or "email"; by email,
	// a first login creates the user with Attributes.Username.
	Lookup string
	// Protected are the fields a later login must not overwrite (an OIDC
	// provider's protected_fields: first_name, last_name, email,
	// organization, affiliations); the first login sets them all.
	Protected []string
}

// Messages of a lookup by email refused.
const (
	MsgAmbiguousEmail = "Several users have this email address; the login cannot tell which one it is."
)

// Messages (Waldur's).
const (
	MsgDisabled = "User account is disabled."
)

// Token is the answer of a login without a front end URL configured: the
// same as /api-auth/password/'s.
type Token struct {
	Token string `json:"token" example:"c84d653b9ec92c6cbac41c706593e66f567a7fa4"`
}

// Provision creates the user of a first login or updates the mapped
// attributes of a known one, and records the login event; run it in the
// login's transaction. Codes: unauthorized (the account is disabled, or
// was registered by another method), invalid.
func Provision(ctx context.Context, tx *store.Store, l Login, in Attributes) (*models.User, error) {
	var p store.UserProfile
	var err error
	if l.Lookup == "email" {
		var ps []store.UserProfile
		err = tx.DB.WithContext(ctx).Where("LOWER(email) = ?", strings.ToLower(in.Email)).Limit(2).Find(&ps).Error
		switch {
		case err != nil:
		case len(ps) > 1:
			return nil, models.Errorf(models.CodeUnauthorized, "%s", MsgAmbiguousEmail)
		case len(ps) == 1:
			p = ps[0]
		default:
			err = gorm.ErrRecordNotFound
		}
	} else {
		err = tx.DB.WithContext(ctx).Where("username = ?", in.Username).Take(&p).Error
	}
	found := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Internal(err)
	}
	if in.Affiliations == nil {
		in.Affiliations = []string{}
	}
	switch {
	case !found:
		lifetime := models.DefaultTokenLifetime
		p = store.UserProfile{}
		p.Username, p.IsActive, p.NotificationsEnabled, p.TokenLifetime = in.Username, true, true, &lifetime
		p.RegistrationMethod = l.Method
		p.FirstName, p.LastName, p.Email, p.Organization, p.Affiliations = in.FirstName, in.LastName, in.Email, in.Organization, in.Affiliations
		err := tx.CreateUserProfile(ctx, &p, "", func(p *store.UserProfile) []*models.Event {
			return []*models.Event{userEvent("user_creation_succeeded", fmt.Sprintf("User %s has been created.", p.Username), p)}
		})
		if err != nil {
			return nil, err
		}
	case p.RegistrationMethod != l.Method:
		return nil, models.Errorf(models.CodeUnauthorized, "A user with this username exists and was not registered with %s.", l.Label)
	case !p.IsActive:
		return nil, models.Errorf(models.CodeUnauthorized, "%s", MsgDisabled)
	default:
		changes := map[string]any{}
		protected := func(col string) bool { return slices.Contains(l.Protected, col) }
		set := func(col string, old *string, v string) {
			if *old != v && !protected(col) {
				*old = v
				changes[col] = v
			}
		}
		set("first_name", &p.FirstName, in.FirstName)
		set("last_name", &p.LastName, in.LastName)
		set("email", &p.Email, in.Email)
		set("organization", &p.Organization, in.Organization)
		if strings.Join(p.Affiliations, "\x00") != strings.Join(in.Affiliations, "\x00") && !protected("affiliations") {
			p.Affiliations = in.Affiliations
			b, _ := json.Marshal(in.Affiliations)
			changes["affiliations"] = string(b)
		}
		if len(changes) > 0 {
			if err := tx.UpdateUserProfile(ctx, p.ID, changes, nil); err != nil {
				return nil, err
			}
		}
	}
	return loggedIn(ctx, tx, l, &p)
}

// loggedIn records the login event of p's user and returns the user.
func loggedIn(ctx context.Context, tx *store.Store, l Login, p *store.UserProfile) (*models.User, error) {
	u := p.User
	ev := &models.Event{
		EventType: l.EventType,
		Message:   fmt.Sprintf("User %s with full name %s logged in successfully with %s.", u.Username, p.FullName(), l.Label),
		Context:   map[string]any{"user_uuid": u.UUID.String(), "user_username": u.Username, "user_full_name": p.FullName()},
		Scopes:    []models.Scope{{Type: models.ScopeUser, ID: u.ID}},
	}
	if err := tx.EmitEvent(models.WithActor(ctx, models.Actor{User: &u, IP: l.IP}), ev); err != nil {
		return nil, err
	}
	return &u, nil
}

// Person is a user a login names by a national personal code (Valimo
// mobile ID: the serial number of the signer's certificate).
type Person struct {
	CivilNumber, FirstName, LastName, PhoneNumber string
}

// ProvisionPerson finds the user whose civil_number is the person's,
// whatever its registration method (a user known by its personal code logs
// in with it), or creates one (registration_method l.Method, a random
// username, the names and phone number given); a user registered with
// l.Method gets its names updated on later logins. Records the login event;
// run it in the login's transaction. Codes: unauthorized (the account is
// disabled), invalid.
func ProvisionPerson(ctx context.Context, tx *store.Store, l Login, in Person) (*models.User, error) {
	if in.CivilNumber == "" {
		return nil, models.Errorf(models.CodeInvalid, "The personal code is missing.")
	}
	var p store.UserProfile
	err := tx.DB.WithContext(ctx).Where("civil_number = ?", in.CivilNumber).Take(&p).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		lifetime := models.DefaultTokenLifetime
		civil := in.CivilNumber
		p = store.UserProfile{}
		p.Username = models.NewUUID().String()[:30]
		p.IsActive, p.NotificationsEnabled, p.TokenLifetime = true, true, &lifetime
		p.RegistrationMethod, p.CivilNumber = l.Method, &civil
		p.FirstName, p.LastName, p.PhoneNumber = Clip(in.FirstName, 100), Clip(in.LastName, 100), in.PhoneNumber
		p.Affiliations = []string{}
		err := tx.CreateUserProfile(ctx, &p, "", func(p *store.UserProfile) []*models.Event {
			return []*models.Event{userEvent("user_creation_succeeded", fmt.Sprintf("User %s has been created.", p.Username), p)}
		})
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, models.Internal(err)
	case !p.IsActive:
		return nil, models.Errorf(models.CodeUnauthorized, "%s", MsgDisabled)
	case p.RegistrationMethod == l.Method:
		changes := map[string]any{}
		for _, f := range []struct {
			col string
			old *string
			v   string
		}{{"first_name", &p.FirstName, Clip(in.FirstName, 100)}, {"last_name", &p.LastName, Clip(in.LastName, 100)},
			{"phone_number", &p.PhoneNumber, in.PhoneNumber}} {
			if f.v != "" && *f.old != f.v {
				*f.old = f.v
				changes[f.col] = f.v
			}
		}
		if len(changes) > 0 {
			if err := tx.UpdateUserProfile(ctx, p.ID, changes, nil); err != nil {
				return nil, err
			}
		}
	}
	return loggedIn(ctx, tx, l, &p)
}

func userEvent(t, msg string, p *store.UserProfile) *models.Event {
	return &models.Event{EventType: t, Message: msg, Scopes: []models.Scope{{Type: models.ScopeUser, ID: p.ID}},
		Context: map[string]any{"affected_user_uuid": p.UUID.String(), "affected_user_username": p.Username, "affected_user_full_name": p.FullName()}}
}

// Complete answers a completed login: a 302 to loginCompletedURL with
// {token} and {method} filled (Waldur's LOGIN_COMPLETED_URL), or, without
// one, the token as /api-auth/password/ answers it.
func Complete(c *gin.Context, loginCompletedURL, method, token string) {
	if loginCompletedURL != "" {
		r := strings.NewReplacer("{token}", url.PathEscape(token), "{method}", url.PathEscape(method))
		c.Redirect(http.StatusFound, r.Replace(loginCompletedURL))
		return
	}
	c.JSON(http.StatusOK, Token{Token: token})
}

// Clip cuts s to n characters.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
