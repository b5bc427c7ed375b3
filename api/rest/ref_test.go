package rest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

func TestParseRef(t *testing.T) {
	id := models.MustParseUUID("0123456789abcdef0123456789abcdef")
	hex, dashed := id.String(), id.Dashed()
	cases := []struct {
		name  string
		value string
		msg   string // expected error message; "" means id
	}{
		{name: "URL with trailing slash", value: "https://any.host/api/projects/" + hex + "/"},
		{name: "URL without trailing slash", value: "http://other.example:8080/api/projects/" + hex},
		{name: "URL with dashed uuid", value: "https://any.host/api/projects/" + dashed + "/"},
		{name: "URL with query", value: "https://any.host/api/projects/" + hex + "/?x=1"},
		{name: "path only", value: "/api/projects/" + hex + "/"},
		{name: "bare hex", value: hex},
		{name: "bare dashed", value: dashed},
		{name: "bare upper case", value: "0123456789ABCDEF0123456789ABCDEF"},
		{name: "surrounding spaces", value: "  " + hex + " "},
		{name: "wrong collection", value: "https://any.host/api/customers/" + hex + "/", msg: MsgIncorrectURL},
		{name: "collection prefix", value: "https://any.host/api/projects-x/" + hex + "/", msg: MsgIncorrectURL},
		{name: "nested path", value: "https://any.host/api/projects/" + hex + "/users/" + hex + "/", msg: MsgIncorrectURL},
		{name: "bad uuid in URL", value: "https://any.host/api/projects/nope/", msg: MsgDoesNotExist},
		{name: "collection only", value: "https://any.host/api/projects/", msg: MsgNoMatch},
		{name: "no api prefix", value: "https://any.host/projects/" + hex + "/", msg: MsgNoMatch},
		{name: "uuid right under api", value: "https://any.host/api/" + hex + "/", msg: MsgNoMatch},
		{name: "double slash", value: "https://any.host/api/projects/" + hex + "//", msg: MsgNoMatch},
		{name: "host only", value: "https://any.host", msg: MsgNoMatch},
		{name: "unparseable URL", value: "http://[::1/api/projects/" + hex + "/", msg: MsgNoMatch},
		{name: "garbage", value: "not a reference", msg: MsgNoMatch},
		{name: "short hex", value: hex[:30], msg: MsgNoMatch},
		{name: "empty", value: "", msg: MsgNull},
		{name: "blank", value: "   ", msg: MsgNull},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRef("project", tc.value, "projects")
			if tc.msg != "" {
				requireFieldError(t, err, "project", tc.msg)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, id, got)
		})
	}
}

func TestURL(t *testing.T) {
	id := models.MustParseUUID("fedcba98-7654-3210-fedc-ba9876543210")
	const path = "/api/customers/fedcba9876543210fedcba9876543210/"
	cases := []struct {
		name   string
		target string
		header map[string]string
		want   string
	}{
		{name: "plain http", target: "http://example.com/x", want: "http://example.com" + path},
		{name: "host with port", target: "http://example.com:8000/x", want: "http://example.com:8000" + path},
		{name: "TLS", target: "https://example.com/x", want: "https://example.com" + path},
		{name: "forwarded https", target: "http://example.com/x", header: map[string]string{"X-Forwarded-Proto": "https"}, want: "https://example.com" + path},
		{name: "forwarded list", target: "http://example.com/x", header: map[string]string{"X-Forwarded-Proto": "HTTPS, http"}, want: "https://example.com" + path},
		{name: "forwarded http over TLS", target: "https://example.com/x", header: map[string]string{"X-Forwarded-Proto": "http"}, want: "http://example.com" + path},
		{name: "forwarded junk ignored", target: "http://example.com/x", header: map[string]string{"X-Forwarded-Proto": "gopher"}, want: "http://example.com" + path},
		{name: "forwarded junk ignored over TLS", target: "https://example.com/x", header: map[string]string{"X-Forwarded-Proto": "gopher"}, want: "https://example.com" + path},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testContext(http.MethodGet, tc.target, tc.header)
			got := URL(c, "customers", id)
			require.Equal(t, tc.want, got)
			back, err := ParseRef("customer", got, "customers")
			require.NoError(t, err)
			require.Equal(t, id, back)
		})
	}
}
