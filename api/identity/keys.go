package identity

import (
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/ssh"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// SshKeyRequest is the body of POST /api/keys/.
type SshKeyRequest struct {
	Name      string `json:"name" example:"ssh_public_key1"`
	PublicKey string `json:"public_key" example:"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... john@example.com"`
}

// SshKey is Waldur's SshKey object.
type SshKey struct {
	URL               string      `json:"url"`
	UUID              models.UUID `json:"uuid"`
	Name              string      `json:"name"`
	PublicKey         string      `json:"public_key"`
	FingerprintMD5    string      `json:"fingerprint_md5"`
	FingerprintSHA256 string      `json:"fingerprint_sha256"`
	FingerprintSHA512 string      `json:"fingerprint_sha512"`
	UserUUID          models.UUID `json:"user_uuid"`
	IsShared          bool        `json:"is_shared"`
	Type              string      `json:"type"`
}

// Waldur's SshKeySerializer messages.
const (
	msgKeyLines   = "Key is not valid: it should be single line."
	msgKeyInvalid = "Key is not valid: cannot generate fingerprint_md5 from it."
)

// ParsedKey is what a public key line gives.
type ParsedKey struct {
	Type, MD5, SHA256, SHA512 string
}

// ParseSSHPublicKey parses one authorized_keys line ("type base64 [comment]",
// no options) and computes Waldur's fingerprints of the key blob: MD5 as
// colon-separated hex, SHA256 and SHA512 as "SHA256:"/"SHA512:" and
// unpadded base64 (what ssh-keygen -l prints).
func ParseSSHPublicKey(text string) (ParsedKey, error) {
	text = strings.TrimSpace(text)
	if strings.ContainsAny(text, "\r\n") {
		return ParsedKey{}, models.FieldError("public_key", msgKeyLines)
	}
	pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(text))
	if err != nil || len(options) > 0 || len(strings.TrimSpace(string(rest))) > 0 {
		return ParsedKey{}, models.FieldError("public_key", msgKeyInvalid)
	}
	sum := sha512.Sum512(pub.Marshal())
	return ParsedKey{
		Type:   pub.Type(),
		MD5:    ssh.FingerprintLegacyMD5(pub),
		SHA256: ssh.FingerprintSHA256(pub),
		SHA512: "SHA512:" + base64.RawStdEncoding.EncodeToString(sum[:]),
	}, nil
}

func keyOut(c *gin.Context, k *store.SSHKey, owner models.UUID) SshKey {
	return SshKey{URL: rest.URL(c, "keys", k.UUID), UUID: k.UUID, Name: k.Name, PublicKey: k.PublicKey,
		FingerprintMD5: k.FingerprintMD5, FingerprintSHA256: k.FingerprintSHA256, FingerprintSHA512: k.FingerprintSHA512,
		UserUUID: owner, IsShared: k.IsShared, Type: k.Type}
}

func (m *Module) renderKeys(c *gin.Context, rows []store.SSHKey) ([]SshKey, error) {
	return RenderKeys(c, m.st, rows)
}

// RenderKeys renders keys in the SshKey shape (also for the keys of a
// service provider's users, served by the catalog).
func RenderKeys(c *gin.Context, st *store.Store, rows []store.SSHKey) ([]SshKey, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].UserID
	}
	owners, err := st.UserUUIDs(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]SshKey, len(rows))
	for i := range rows {
		out[i] = keyOut(c, &rows[i], owners[rows[i].UserID])
	}
	return out, nil
}

func keyEvent(t, msg string, k *store.SSHKey, owner *models.User) *models.Event {
	return &models.Event{EventType: t, Message: msg, Scopes: []models.Scope{{Type: models.ScopeUser, ID: k.UserID}},
		Context: map[string]any{
			"ssh_key_uuid": k.UUID.String(), "ssh_key_name": k.Name, "ssh_key_type": k.Type,
			"ssh_key_fingerprint_md5": k.FingerprintMD5, "ssh_key_fingerprint_sha256": k.FingerprintSHA256,
			"ssh_key_fingerprint_sha512": k.FingerprintSHA512,
			"affected_user_uuid":         owner.UUID.String(), "affected_user_username": owner.Username,
		}}
}

// visibleKey returns the key with the path's UUID if the caller may see it (else 404).
func (m *Module) visibleKey(c *gin.Context) (*store.SSHKey, error) {
	id, err := api.PathUUID(c, "")
	if err != nil {
		return nil, err
	}
	return m.st.VisibleSSHKey(c.Request.Context(), id)
}

func keyFilter(c *gin.Context) (store.SSHKeyFilter, error) {
	last := func(k string) string { return rest.Last(c, k) }
	f := store.SSHKeyFilter{Name: last("name"), NameExact: last("name_exact"), FingerprintMD5: last("fingerprint_md5"),
		FingerprintSHA256: last("fingerprint_sha256"), FingerprintSHA512: last("fingerprint_sha512")}
	for k, dst := range map[string]**models.UUID{"uuid": &f.UUID, "user_uuid": &f.UserUUID} {
		ids, err := rest.UUIDs(c, k)
		if err != nil {
			return f, err
		}
		if len(ids) > 0 {
			*dst = &ids[len(ids)-1]
		}
	}
	var err error
	if f.IsShared, err = rest.Bool(c, "is_shared"); err != nil {
		return f, err
	}
	if f.CreatedFrom, err = queryTime("created", last("created")); err != nil {
		return f, err
	}
	return f, nil
}

// listKeys godoc
//
//	@Summary		List SSH keys
//	@Description	The caller's keys; staff and support see all.
//	@Tags			keys
//	@Produce		json
//	@Security		TokenAuth
//	@Param			name				query	string	false	"Name contains"
//	@Param			name_exact			query	string	false	"Name"
//	@Param			fingerprint_md5		query	string	false	"MD5 fingerprint"
//	@Param			fingerprint_sha256	query	string	false	"SHA256 fingerprint"
//	@Param			fingerprint_sha512	query	string	false	"SHA512 fingerprint"
//	@Param			user_uuid			query	string	false	"Owner UUID"
//	@Param			uuid				query	string	false	"UUID"
//	@Param			is_shared			query	bool	false	"Is shared"
//	@Param			o					query	string	false	"Ordering: name, -name"
//	@Success		200	{array}		SshKey
//	@Failure		401	{object}	api.ErrorBody
//	@Router			/api/keys/ [get]
func (m *Module) listKeys(c *gin.Context) error {
	f, err := keyFilter(c)
	if err != nil {
		return err
	}
	q := m.st.SSHKeysQuery(c.Request.Context(), f)
	spec := rest.ListSpec{Ordering: store.SSHKeyOrdering, DefaultOrdering: []string{"name"}, TieBreaker: "ssh_keys.id"}
	return rest.ListBatch(c, q, spec, func(rows []store.SSHKey) ([]SshKey, error) { return m.renderKeys(c, rows) })
}

// getKey godoc
//
//	@Summary	Retrieve an SSH key
//	@Tags		keys
//	@Produce	json
//	@Security	TokenAuth
//	@Param		uuid	path		string	true	"Key UUID"
//	@Success	200		{object}	SshKey
//	@Failure	404		{object}	api.ErrorBody
//	@Router		/api/keys/{uuid}/ [get]
func (m *Module) getKey(c *gin.Context) error {
	k, err := m.visibleKey(c)
	if err != nil {
		return err
	}
	out, err := m.renderKeys(c, []store.SSHKey{*k})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusOK, out[0])
}

// createKey godoc
//
//	@Summary		Create an SSH key
//	@Description	Adds a public key to the caller's account. The key must be one authorized_keys line without options; a user cannot have two keys with the same name or fingerprint.
//	@Tags			keys
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		SshKeyRequest	true	"Key"
//	@Success		201		{object}	SshKey
//	@Failure		400		{object}	map[string][]string
//	@Router			/api/keys/ [post]
func (m *Module) createKey(c *gin.Context) error {
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	name, _ := str(f, "name", 150, true)
	text, present := str(f, "public_key", 2000, false)
	f.Require("public_key")
	var parsed ParsedKey
	if present {
		var err error
		if parsed, err = ParseSSHPublicKey(text); err != nil {
			for k, msgs := range err.(*models.Error).Fields {
				for _, msg := range msgs {
					f.Fail(k, msg)
				}
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	owner := api.CurrentUser(c)
	k := &store.SSHKey{UserID: owner.ID, Name: name, PublicKey: text, Type: parsed.Type,
		FingerprintMD5: parsed.MD5, FingerprintSHA256: parsed.SHA256, FingerprintSHA512: parsed.SHA512}
	err := m.st.CreateSSHKey(c.Request.Context(), k, func(k *store.SSHKey) *models.Event {
		return keyEvent("ssh_key_creation_succeeded", fmt.Sprintf("SSH key %s has been created for user %s.", k.Name, owner.Username), k, owner)
	})
	if err != nil {
		return err
	}
	return rest.Render(c, http.StatusCreated, keyOut(c, k, owner.UUID))
}

// deleteKey godoc
//
//	@Summary	Delete an SSH key
//	@Description	The key's owner or staff.
//	@Tags		keys
//	@Security	TokenAuth
//	@Param		uuid	path	string	true	"Key UUID"
//	@Success	204
//	@Failure	403	{object}	api.ErrorBody
//	@Failure	404	{object}	api.ErrorBody
//	@Router		/api/keys/{uuid}/ [delete]
func (m *Module) deleteKey(c *gin.Context) error {
	k, err := m.visibleKey(c)
	if err != nil {
		return err
	}
	viewer := api.CurrentUser(c)
	if !viewer.IsStaff && k.UserID != viewer.ID {
		return api.Forbidden()
	}
	owner := viewer
	if k.UserID != viewer.ID {
		if owner, err = m.ownerOf(c, k); err != nil {
			return err
		}
	}
	ev := keyEvent("ssh_key_deletion_succeeded", fmt.Sprintf("SSH key %s has been deleted for user %s.", k.Name, owner.Username), k, owner)
	if err := m.st.DeleteSSHKey(c.Request.Context(), k.ID, ev); err != nil {
		return err
	}
	return api.NoContent(c)
}

func (m *Module) ownerOf(c *gin.Context, k *store.SSHKey) (*models.User, error) {
	ids, err := m.st.UserUUIDs(c.Request.Context(), []int64{k.UserID})
	if err != nil {
		return nil, err
	}
	return m.st.UserByUUID(c.Request.Context(), ids[k.UserID])
}
