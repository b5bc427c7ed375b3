package models

import (
	"context"
	"time"
)

// Session is a browser session (Waldur's waldurCookieAuth: the sessionid
// cookie), with the CSRF token its unsafe requests must repeat in the
// X-CSRFToken header. Key and CSRF are known only when it is created; the
// database keeps their digests.
type Session struct {
	Key     string
	CSRF    string
	UserID  int64
	Method  string // how the user logged in: "password", a provider slug
	Created time.Time
	Expires time.Time
}

// SessionStore persists browser sessions.
type SessionStore interface {
	// CreateSession starts a session of the user lasting age, under a new
	// random key and CSRF token. Anyone who has authenticated the user may
	// call it.
	CreateSession(ctx context.Context, userID int64, method string, age time.Duration) (*Session, error)
	// UserBySession returns the user of an unexpired session and the
	// session (Key and CSRF empty; CSRFHash its token's digest).
	// Codes: not_found (unknown or expired key).
	UserBySession(ctx context.Context, key string) (*User, *StoredSession, error)
	// DeleteSession ends the session of key (none: no error).
	DeleteSession(ctx context.Context, key string) error
	// DeleteUserSessions ends every session of the user.
	DeleteUserSessions(ctx context.Context, userID int64) error
	// PruneSessions deletes the sessions past their expiry.
	PruneSessions(ctx context.Context) (int64, error)
}

// StoredSession is a session as read back: digests only.
type StoredSession struct {
	KeyHash, CSRFHash string
	UserID            int64
	Method            string
	Created, Expires  time.Time
}
