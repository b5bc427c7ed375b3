package models

import (
	"context"
	"regexp"
	"time"
)

// User is a person or robot that calls the API (Waldur's core.User).
type User struct {
	ID                   int64
	UUID                 UUID
	Username             string
	Password             string `json:"-"` // bcrypt hash; empty means no password login
	Email                string
	FirstName            string
	LastName             string
	IsStaff              bool
	IsSupport            bool
	IsActive             bool
	NotificationsEnabled bool
	// TokenLifetime is the sliding lifetime of the user's token in seconds; nil: no expiry.
	TokenLifetime *int
	DateJoined    time.Time
	LastLogin     *time.Time
	Modified      time.Time
}

// DefaultTokenLifetime is Waldur's WALDUR_CORE.TOKEN_LIFETIME, copied into
// each new user's TokenLifetime.
const DefaultTokenLifetime = 3600

// Token is a user's API key (one per user, as DRF's authtoken).
type Token struct {
	Key     string
	UserID  int64
	Created time.Time
}

var usernameRe = regexp.MustCompile(`^[0-9a-z_.@+-]+$`)

// ValidateUsername applies Waldur's username rule.
func ValidateUsername(username string) error {
	switch {
	case username == "":
		return FieldError("username", "This field may not be blank.")
	case len(username) > 128:
		return FieldError("username", "Ensure this field has no more than 128 characters.")
	case !usernameRe.MatchString(username):
		return FieldError("username", "Enter a valid username. This value may contain only lowercase letters, numbers and @/./+/-/_ characters.")
	}
	return nil
}

// UserStore persists users and tokens.
type UserStore interface {
	// CreateUser validates and inserts u with the given plain password (empty:
	// no password login), filling ID, UUID and timestamps. Codes: invalid,
	// conflict (username taken).
	CreateUser(ctx context.Context, u *User, password string) error
	// UserByUsername returns the active or inactive user. Codes: not_found.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserByUUID returns the user. Codes: not_found.
	UserByUUID(ctx context.Context, id UUID) (*User, error)
	// TokenOf returns the user's token. Codes: not_found.
	TokenOf(ctx context.Context, userID int64) (*Token, error)
	// UserByToken returns the user owning key and the token. Codes: not_found.
	UserByToken(ctx context.Context, key string) (*User, *Token, error)
	// EnsureToken returns the user's token, creating it when missing.
	EnsureToken(ctx context.Context, userID int64) (*Token, error)
	// TouchToken moves the token's creation time to now (sliding lifetime).
	TouchToken(ctx context.Context, key string, now time.Time) error
}
