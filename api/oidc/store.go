package oidc

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// IdentityProvider is an OpenID Connect provider (Waldur's
// waldur_auth_social IdentityProvider), named by its slug (provider):
// keycloak, eduteams, tara or any other; several may be configured at once.
type IdentityProvider struct {
	ID                       int64
	Provider                 string
	Label                    string
	IsActive                 bool
	ClientID                 string
	ClientSecret             string
	VerifySSL                bool `gorm:"column:verify_ssl"`
	EnablePKCE               bool `gorm:"column:enable_pkce"`
	EnablePostLogoutRedirect bool
	DiscoveryURL             string
	// The endpoints the discovery document names (read-only to clients).
	AuthURL, TokenURL, UserinfoURL, LogoutURL string
	ManagementURL                             string
	ExtraScope, ExtraFields                   *string
	UserField, UserClaim                      string
	AttributeMapping                          map[string]string `gorm:"serializer:json"`
	ProtectedFields                           []string          `gorm:"serializer:json"`
	AllowedRedirects                          []string          `gorm:"serializer:json"`
	Created, Modified                         time.Time
}

// TableName is the providers' table.
func (IdentityProvider) TableName() string { return "oidc_identity_providers" }

// authRequest is an authorization request waiting for its answer: the
// state names it, the nonce must come back in the ID token, the verifier
// is PKCE's.
type authRequest struct {
	State       string `gorm:"primaryKey"`
	Provider    string
	Nonce       string
	Verifier    string
	WantSession bool
	// Redirect is the front end origin the login returns to (one of the
	// provider's allowed_redirects; empty: LoginCompletedURL as it is).
	Redirect string
	Expires  time.Time
}

func (authRequest) TableName() string { return "oidc_auth_requests" }

// Store keeps the OIDC tables.
type Store struct{ st *store.Store }

// NewStore returns the OIDC store over st.
func NewStore(st *store.Store) *Store { return &Store{st: st} }

func (s *Store) db(ctx context.Context) *gorm.DB { return s.st.DB.WithContext(ctx) }

// Providers is every provider (active only unless all), for a list to page.
func (s *Store) Providers(ctx context.Context, all bool) store.Query {
	q := s.db(ctx).Model(&IdentityProvider{})
	if !all {
		q = q.Where("is_active = ?", true)
	}
	return store.QueryOf(q)
}

// Provider returns the provider of slug. Codes: not_found.
func (s *Store) Provider(ctx context.Context, slug string) (*IdentityProvider, error) {
	var p IdentityProvider
	err := s.db(ctx).Where("provider = ?", slug).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.CodeNotFound, "Not found.")
	}
	if err != nil {
		return nil, models.Internal(err)
	}
	return &p, nil
}

// normalize gives the JSON columns their empty values.
func (p *IdentityProvider) normalize() {
	if p.AttributeMapping == nil {
		p.AttributeMapping = map[string]string{}
	}
	if p.ProtectedFields == nil {
		p.ProtectedFields = []string{}
	}
	if p.AllowedRedirects == nil {
		p.AllowedRedirects = []string{}
	}
}

// CreateProvider inserts p. Codes: invalid (the slug is taken).
func (s *Store) CreateProvider(ctx context.Context, p *IdentityProvider) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		var n int64
		if err := tx.DB.WithContext(ctx).Model(&IdentityProvider{}).Where("provider = ?", p.Provider).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return models.FieldError("provider", "identity provider with this provider already exists.")
		}
		p.ID = 0
		p.normalize()
		p.Created, p.Modified = tx.Now(), tx.Now()
		if err := tx.DB.WithContext(ctx).Create(p).Error; err != nil {
			return models.Internal(err)
		}
		return nil
	})
}

// SaveProvider writes every column of p (found by its ID). Codes:
// not_found, invalid (a new slug that is taken).
func (s *Store) SaveProvider(ctx context.Context, p *IdentityProvider) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		var n int64
		if err := tx.DB.WithContext(ctx).Model(&IdentityProvider{}).Where("provider = ? AND id <> ?", p.Provider, p.ID).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return models.FieldError("provider", "identity provider with this provider already exists.")
		}
		p.normalize()
		p.Modified = tx.Now()
		res := tx.DB.WithContext(ctx).Select("*").Omit("id", "created").Where("id = ?", p.ID).Updates(p)
		if res.Error != nil {
			return models.Internal(res.Error)
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Not found.")
		}
		return nil
	})
}

// SetEndpoints records the endpoints a provider's discovery named.
func (s *Store) SetEndpoints(ctx context.Context, id int64, auth, token, userinfo, logout string) error {
	err := s.db(ctx).Model(&IdentityProvider{}).Where("id = ?", id).
		Updates(map[string]any{"auth_url": auth, "token_url": token, "userinfo_url": userinfo, "logout_url": logout}).Error
	if err != nil {
		return models.Internal(err)
	}
	return nil
}

// DeleteProvider deletes the provider of slug and its pending requests.
// Codes: not_found.
func (s *Store) DeleteProvider(ctx context.Context, slug string) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		res := tx.DB.WithContext(ctx).Where("provider = ?", slug).Delete(&IdentityProvider{})
		if res.Error != nil {
			return models.Internal(res.Error)
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "Not found.")
		}
		if err := tx.DB.WithContext(ctx).Where("provider = ?", slug).Delete(&authRequest{}).Error; err != nil {
			return models.Internal(err)
		}
		return nil
	})
}

// AddRequest records an authorization request.
func (s *Store) AddRequest(ctx context.Context, r authRequest) error {
	if err := s.db(ctx).Create(&r).Error; err != nil {
		return models.Internal(err)
	}
	return nil
}

// errState is a state that names no pending request of the provider
// (unknown, taken already, expired, or another provider's).
var errState = errors.New("unknown state")

// TakeRequest returns and deletes the pending request of state for
// provider: a state is answered once. errState when there is none.
func (s *Store) TakeRequest(ctx context.Context, provider, state string) (*authRequest, error) {
	var out authRequest
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		db := tx.DB.WithContext(ctx)
		err := db.Where("state = ? AND provider = ?", state, provider).Take(&out).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errState
		}
		if err != nil {
			return models.Internal(err)
		}
		res := db.Where("state = ?", state).Delete(&authRequest{})
		if res.Error != nil {
			return models.Internal(res.Error)
		}
		if res.RowsAffected == 0 {
			return errState // another request took it meanwhile
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !out.Expires.After(s.st.Now()) {
		return nil, errState
	}
	return &out, nil
}

// Login provisions the user through write and issues the user's token, in
// one transaction.
func (s *Store) Login(ctx context.Context, write func(tx *store.Store) (*models.User, error)) (*models.User, *models.Token, error) {
	var u *models.User
	var tok *models.Token
	err := s.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if u, err = write(tx); err != nil {
			return err
		}
		tok, err = tx.LoginToken(ctx, u)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return u, tok, nil
}

// Prune deletes the expired authorization requests and browser sessions.
func (s *Store) Prune(ctx context.Context) error {
	if err := s.db(ctx).Where("expires <= ?", s.st.Now()).Delete(&authRequest{}).Error; err != nil {
		return models.Internal(err)
	}
	_, err := s.st.PruneSessions(ctx)
	return err
}
