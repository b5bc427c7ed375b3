package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
)

var _ models.UserStore = (*Store)(nil)

type userRow struct {
	ID                   int64 `gorm:"primaryKey"`
	UUID                 models.UUID
	Username             string
	Password             string
	Email                string
	FirstName            string
	LastName             string
	IsStaff              bool
	IsSupport            bool
	IsActive             bool
	NotificationsEnabled bool
	TokenLifetime        *int
	DateJoined           time.Time
	LastLogin            *time.Time
	Modified             time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) model() *models.User {
	u := models.User(r)
	return &u
}

type tokenRow struct {
	Key     string `gorm:"primaryKey"`
	UserID  int64
	Created time.Time
}

func (tokenRow) TableName() string { return "tokens" }

// Hasher bounds the bcrypt work in flight: at most its concurrency of
// hashes and comparisons run at once (each takes a core for tens of
// milliseconds); a caller beyond that waits at most the hasher's wait for a
// slot and then gets models.CodeThrottled (429 with Retry-After), so a burst
// of logins is refused quickly instead of queueing without limit.
type Hasher struct {
	slots chan struct{}
	wait  time.Duration
}

// DefaultHashWait is how long a hash waits for a free slot by default.
const DefaultHashWait = time.Second

// NewHasher returns a hasher running at most concurrency hashes at once
// (below 1: the number of CPUs) whose callers wait at most wait for a slot.
func NewHasher(concurrency int, wait time.Duration) *Hasher {
	if concurrency < 1 {
		concurrency = runtime.NumCPU()
	}
	return &Hasher{slots: make(chan struct{}, concurrency), wait: wait}
}

// defaultHasher serves the stores whose Hasher is nil.
var defaultHasher = NewHasher(0, DefaultHashWait)

func (s *Store) hasher() *Hasher {
	if s.Hasher != nil {
		return s.Hasher
	}
	return defaultHasher
}

// PasswordHasher is the hasher the store's password work goes through.
func (s *Store) PasswordHasher() *Hasher { return s.hasher() }

var errThrottled = models.Errorf(models.CodeThrottled, "Too many requests are being processed. Try again in a moment.")

// Acquire takes a slot, waiting at most the hasher's wait (and no longer
// than ctx); release gives it back. Codes: throttled.
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	if h.wait <= 0 {
		return nil, errThrottled
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errThrottled
	case <-ctx.Done():
		return nil, models.Internal(ctx.Err())
	}
}

// Hash hashes a plain password for storage in a slot. Codes: invalid, throttled.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}

// Check reports, in a slot, whether password matches the stored hash.
// Codes: throttled.
func (h *Hasher) Check(ctx context.Context, hash, password string) (bool, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return CheckPassword(hash, password), nil
}

// HashPassword hashes a plain password for storage, without a slot (use
// a Hasher where requests can ask for it).
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", models.FieldError("password", "Password is not acceptable.")
	}
	return string(h), nil
}

// CheckPassword reports whether password matches the stored hash, without
// a slot (use a Hasher where requests can ask for it).
func CheckPassword(hash, password string) bool {
	return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// CreateUser implements models.UserStore.
func (s *Store) CreateUser(ctx context.Context, u *models.User, password string) error {
	if err := models.ValidateUsername(u.Username); err != nil {
		return err
	}
	now := s.Now()
	if u.UUID.IsZero() {
		u.UUID = models.NewUUID()
	}
	if u.DateJoined.IsZero() {
		u.DateJoined = now
	}
	u.Modified = now
	u.Password = ""
	if password != "" {
		h, err := s.hasher().Hash(ctx, password)
		if err != nil {
			return err
		}
		u.Password = h
	}
	row := userRow(*u)
	if err := s.DB.WithContext(ctx).Create(&row).Error; err != nil {
		if translate(err, "User").(*models.Error).Code == models.CodeConflict {
			return models.FieldError("username", "User with this username already exists.")
		}
		return translate(err, "User")
	}
	u.ID = row.ID
	u.Password = row.Password
	// Waldur's SlugMixin: from the username (the API's slug pattern forbids an empty one).
	slug, err := s.userSlug(ctx, u.Username)
	if err != nil {
		return err
	}
	return translate(s.DB.WithContext(ctx).Table("users").Where("id = ?", row.ID).Update("slug", slug).Error, "User")
}

// UserByUsername implements models.UserStore.
func (s *Store) UserByUsername(ctx context.Context, username string) (*models.User, error) {
	var row userRow
	if err := s.DB.WithContext(ctx).Where("username = ?", username).Take(&row).Error; err != nil {
		return nil, translate(err, "User")
	}
	return row.model(), nil
}

// UserByUUID implements models.UserStore.
func (s *Store) UserByUUID(ctx context.Context, id models.UUID) (*models.User, error) {
	var row userRow
	if err := s.DB.WithContext(ctx).Where("uuid = ?", id).Take(&row).Error; err != nil {
		return nil, translate(err, "User")
	}
	return row.model(), nil
}

// TokenOf implements models.UserStore.
func (s *Store) TokenOf(ctx context.Context, userID int64) (*models.Token, error) {
	var t tokenRow
	if err := s.DB.WithContext(ctx).Where("user_id = ?", userID).Take(&t).Error; err != nil {
		return nil, translate(err, "Token")
	}
	return &models.Token{Key: t.Key, UserID: t.UserID, Created: t.Created}, nil
}

// UserByToken implements models.UserStore.
func (s *Store) UserByToken(ctx context.Context, key string) (*models.User, *models.Token, error) {
	var t tokenRow
	if err := s.DB.WithContext(ctx).Where("key = ?", key).Take(&t).Error; err != nil {
		return nil, nil, translate(err, "Token")
	}
	var row userRow
	if err := s.DB.WithContext(ctx).Where("id = ?", t.UserID).Take(&row).Error; err != nil {
		return nil, nil, translate(err, "User")
	}
	return row.model(), &models.Token{Key: t.Key, UserID: t.UserID, Created: t.Created}, nil
}

// EnsureToken implements models.UserStore.
func (s *Store) EnsureToken(ctx context.Context, userID int64) (*models.Token, error) {
	var t tokenRow
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("user_id = ?", userID).Take(&t).Error
		if err == nil {
			return nil
		}
		if err != gorm.ErrRecordNotFound {
			return err
		}
		t = tokenRow{Key: newTokenKey(), UserID: userID, Created: s.Now()}
		return tx.Create(&t).Error
	})
	if err != nil {
		return nil, translate(err, "Token")
	}
	return &models.Token{Key: t.Key, UserID: t.UserID, Created: t.Created}, nil
}

// TouchToken implements models.UserStore.
func (s *Store) TouchToken(ctx context.Context, key string, now time.Time) error {
	return translate(s.DB.WithContext(ctx).Model(&tokenRow{}).Where("key = ?", key).Update("created", now).Error, "Token")
}

// newTokenKey is 40 hex characters, the shape of DRF's token keys.
func newTokenKey() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
