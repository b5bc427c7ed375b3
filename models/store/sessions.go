package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/waldur-go/waldur/models"
)

// sessionRow is a browser session; the key and the CSRF token are kept as
// SHA-256 digests, so a read of the table gives no usable cookie.
type sessionRow struct {
	KeyHash  string `gorm:"primaryKey"`
	UserID   int64
	CSRFHash string `gorm:"column:csrf_hash"`
	Method   string
	Created  time.Time
	Expires  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// Digest is the hex SHA-256 of a session key or CSRF token.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RandomToken is n random bytes, URL-safe base64 without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var _ models.SessionStore = (*Store)(nil)

// CreateSession implements models.SessionStore.
func (s *Store) CreateSession(ctx context.Context, userID int64, method string, age time.Duration) (*models.Session, error) {
	now := s.Now()
	out := &models.Session{Key: RandomToken(32), CSRF: RandomToken(32), UserID: userID, Method: method,
		Created: now, Expires: now.Add(age)}
	row := sessionRow{KeyHash: Digest(out.Key), UserID: userID, CSRFHash: Digest(out.CSRF), Method: method,
		Created: out.Created, Expires: out.Expires}
	if err := s.DB.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, translate(err, "Session")
	}
	return out, nil
}

// UserBySession implements models.SessionStore.
func (s *Store) UserBySession(ctx context.Context, key string) (*models.User, *models.StoredSession, error) {
	if key == "" {
		return nil, nil, models.Errorf(models.CodeNotFound, "Session not found.")
	}
	var r sessionRow
	err := s.DB.WithContext(ctx).Where("key_hash = ? AND expires > ?", Digest(key), s.Now()).Take(&r).Error
	if err != nil {
		return nil, nil, translate(err, "Session")
	}
	var u userRow
	if err := s.DB.WithContext(ctx).Where("id = ?", r.UserID).Take(&u).Error; err != nil {
		return nil, nil, translate(err, "User")
	}
	return u.model(), &models.StoredSession{KeyHash: r.KeyHash, CSRFHash: r.CSRFHash, UserID: r.UserID,
		Method: r.Method, Created: r.Created, Expires: r.Expires}, nil
}

// DeleteSession implements models.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, key string) error {
	if err := s.DB.WithContext(ctx).Where("key_hash = ?", Digest(key)).Delete(&sessionRow{}).Error; err != nil {
		return translate(err, "Session")
	}
	return nil
}

// DeleteUserSessions implements models.SessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	if err := s.DB.WithContext(ctx).Where("user_id = ?", userID).Delete(&sessionRow{}).Error; err != nil {
		return translate(err, "Session")
	}
	return nil
}

// PruneSessions implements models.SessionStore.
func (s *Store) PruneSessions(ctx context.Context) (int64, error) {
	res := s.DB.WithContext(ctx).Where("expires <= ?", s.Now()).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "Session")
	}
	return res.RowsAffected, nil
}
