package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckAcceptsAndRejects(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/api/version/", nil)
	h := http.Header{"Content-Type": {"application/json"}}
	require.NoError(t, Check(req, 200, h, []byte(`{"version":"1.2.3"}`)))
	require.Error(t, Check(req, 200, h, []byte(`{"version":12}`)), "a number where a string is required")
	require.Error(t, Check(req, 200, h, []byte(`{}`)), "a required field missing")
	req = httptest.NewRequest(http.MethodGet, "/api/no-such-path/", nil)
	require.Error(t, Check(req, 200, h, []byte(`{}`)))
}
