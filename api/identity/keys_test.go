package identity_test

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/api/identity"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// fingerprints computes Waldur's three fingerprints from the base64 body
// of an authorized_keys line, independently of the code under test.
func fingerprints(t *testing.T, line string) (md5fp, sha256fp, sha512fp string) {
	t.Helper()
	blob, err := base64.StdEncoding.DecodeString(strings.Fields(line)[1])
	require.NoError(t, err)
	m := md5.Sum(blob)
	hexs := make([]string, len(m))
	for i, b := range m {
		hexs[i] = fmt.Sprintf("%02x", b)
	}
	s2 := sha256.Sum256(blob)
	s5 := sha512.Sum512(blob)
	return strings.Join(hexs, ":"),
		"SHA256:" + strings.TrimRight(base64.StdEncoding.EncodeToString(s2[:]), "="),
		"SHA512:" + strings.TrimRight(base64.StdEncoding.EncodeToString(s5[:]), "=")
}

// TestSSHKeys: real ed25519 and RSA keys are parsed, typed and
// fingerprinted; bad keys and duplicates are 400; the owner and staff see
// and delete keys; the events are stored.
func TestSSHKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		f := newFx(t, db)
		ed := newEd25519Key(t, "alice@laptop")
		rsaLine, rsaPub := newRSAKey(t)
		for _, c := range []struct{ name, line, typ string }{{"laptop", ed, "ssh-ed25519"}, {"desktop", rsaLine, "ssh-rsa"}} {
			w := f.do("POST", "/api/keys/", map[string]any{"name": "  " + c.name + " ", "public_key": "\n" + c.line + "  "}, f.as("user"))
			require.Equal(t, 201, w.Code, w.Body.String())
			k := f.obj(w)
			md5fp, s256, s512 := fingerprints(t, c.line)
			require.Equal(t, c.name, k["name"], "the name is trimmed")
			require.Equal(t, c.line, k["public_key"], "the key is trimmed")
			require.Equal(t, c.typ, k["type"])
			require.Equal(t, md5fp, k["fingerprint_md5"])
			require.Regexp(t, `^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, k["fingerprint_md5"])
			require.Equal(t, s256, k["fingerprint_sha256"])
			require.Equal(t, s512, k["fingerprint_sha512"])
			require.Equal(t, f.users["user"].UUID.String(), k["user_uuid"])
			require.Equal(t, false, k["is_shared"])
		}
		require.Equal(t, ssh.FingerprintSHA256(rsaPub), mustParse(t, rsaLine).SHA256, "matches ssh-keygen -l")

		bad := []struct {
			name string
			body map[string]any
			want map[string]any
		}{
			{"garbage", map[string]any{"public_key": "ssh-rsa not-base64"}, map[string]any{"public_key": []any{"Key is not valid: cannot generate fingerprint_md5 from it."}}},
			{"two lines", map[string]any{"public_key": ed + "\n" + rsaLine}, map[string]any{"public_key": []any{"Key is not valid: it should be single line."}}},
			{"options", map[string]any{"public_key": `command="ls" ` + ed}, map[string]any{"public_key": []any{"Key is not valid: cannot generate fingerprint_md5 from it."}}},
			{"missing", map[string]any{"name": "x"}, map[string]any{"public_key": []any{"This field is required."}}},
			{"blank", map[string]any{"public_key": "  "}, map[string]any{"public_key": []any{"This field may not be blank."}}},
			{"duplicate key", map[string]any{"name": "again", "public_key": ed}, map[string]any{"public_key": []any{"Public key with this fingerprint already exists."}}},
			{"duplicate name", map[string]any{"name": "laptop", "public_key": newEd25519Key(t, "x")}, map[string]any{"name": []any{"This field must be unique."}}},
			{"too long", map[string]any{"public_key": strings.Repeat("a", 2001)}, map[string]any{"public_key": []any{"Ensure this field has no more than 2000 characters."}}},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				f.t = t
				w := f.do("POST", "/api/keys/", c.body, f.as("user"))
				require.Equal(t, 400, w.Code, w.Body.String())
				require.Equal(t, c.want, f.obj(w))
			})
		}
		f.t = t
		// Another user may hold the same key.
		require.Equal(t, 201, f.do("POST", "/api/keys/", map[string]any{"name": "laptop", "public_key": ed}, f.as("other")).Code)

		list := func(caller, query string) []map[string]any {
			w := f.do("GET", "/api/keys/"+query, nil, f.as(caller))
			require.Equal(t, 200, w.Code, w.Body.String())
			var l []map[string]any
			f.json(w, &l)
			return l
		}
		names := func(l []map[string]any) []string {
			out := []string{}
			for _, k := range l {
				out = append(out, k["name"].(string))
			}
			return out
		}
		require.Equal(t, []string{"desktop", "laptop"}, names(list("user", "")))
		require.Equal(t, []string{"laptop", "desktop"}, names(list("user", "?o=-name")))
		require.Equal(t, []string{"laptop"}, names(list("other", "")))
		require.Len(t, list("staff", ""), 3)
		require.Len(t, list("support", ""), 3)
		_, s256, _ := fingerprints(t, ed)
		require.Len(t, list("staff", "?fingerprint_sha256="+url.QueryEscape(s256)), 2)
		require.Len(t, list("staff", "?user_uuid="+f.users["other"].UUID.String()), 1)
		require.Equal(t, []string{"desktop"}, names(list("user", "?name=DESK")))
		require.Len(t, list("user", "?name_exact=desk"), 0)
		require.Len(t, list("user", "?is_shared=false"), 2)
		require.Equal(t, 400, f.do("GET", "/api/keys/?uuid=zzz", nil, f.as("user")).Code)

		k := list("user", "?name=laptop")[0]
		uuid := k["uuid"].(string)
		require.Equal(t, 200, f.do("GET", "/api/keys/"+uuid+"/", nil, f.as("user")).Code)
		require.Equal(t, 404, f.do("GET", "/api/keys/"+uuid+"/", nil, f.as("other")).Code)
		require.Equal(t, 403, f.do("DELETE", "/api/keys/"+uuid+"/", nil, f.as("support")).Code)
		require.Equal(t, 204, f.do("DELETE", "/api/keys/"+uuid+"/", nil, f.as("staff")).Code)
		require.Equal(t, 404, f.do("GET", "/api/keys/"+uuid+"/", nil, f.as("user")).Code)

		created := f.events("ssh_key_creation_succeeded")
		require.Len(t, created, 3)
		require.Equal(t, "laptop", created[0].Context["ssh_key_name"])
		require.Equal(t, []models.Scope{{Type: models.ScopeUser, ID: f.users["user"].ID}}, created[0].Feeds)
		deleted := f.events("ssh_key_deletion_succeeded")
		require.Len(t, deleted, 1)
		require.Equal(t, "user", deleted[0].Context["affected_user_username"])
		require.Equal(t, "staff", deleted[0].Context["user_username"])
	})
}

func mustParse(t *testing.T, line string) identity.ParsedKey {
	t.Helper()
	k, err := identity.ParseSSHPublicKey(line)
	require.NoError(t, err)
	return k
}
