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

func TestOperationReadsXPermissions(t *testing.T) {
	id, perms, found, err := Operation(http.MethodPost, "/api/marketplace-orders/x/approve_by_provider/")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "marketplace_orders_approve_by_provider", id)
	require.Equal(t, []Permission{{Permission: "ORDER.APPROVE", Scopes: []string{"offering.customer"}}}, perms)
	_, perms, found, err = Operation(http.MethodGet, "/api/customers/")
	require.NoError(t, err)
	require.True(t, found)
	require.Empty(t, perms)
	_, _, found, err = Operation(http.MethodGet, "/api/no-such-path/")
	require.NoError(t, err)
	require.False(t, found)
}
