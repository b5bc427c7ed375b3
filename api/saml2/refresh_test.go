package saml2_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/waldur-go/waldur/api/saml2"
	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models/store"
)

// TestSyncProvidersWorkflow: the Schedule's workflow loads the sources
// through its activities and prunes.
func TestSyncProvidersWorkflow(t *testing.T) {
	db := dbtest.Migrated(t, config.SQLite)
	src := filepath.Join(t.TempDir(), "idps.xml")
	require.NoError(t, os.WriteFile(src, []byte(aggregate(25, "wf")), 0o600))
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	saml2.Register(env, &saml2.Refresher{Store: saml2.NewStore(store.New(db)), Sources: []string{src}})
	env.ExecuteWorkflow(saml2.SyncProviders)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res saml2.SyncResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, saml2.SyncResult{Sources: 1, Providers: 25}, res)
}
