package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
)

// TestOfferingUserTransitions checks every action from every state against
// Waldur's OfferingUser FSM, written out here as the allowed moves.
func TestOfferingUserTransitions(t *testing.T) {
	const (
		req  = models.OfferingUserRequested
		cre  = models.OfferingUserCreating
		link = models.OfferingUserPendingAccountLinking
		val  = models.OfferingUserPendingAdditionalValidation
		ok   = models.OfferingUserOK
		rdel = models.OfferingUserRequestedDeletion
		del  = models.OfferingUserDeleting
		gone = models.OfferingUserDeleted
		ecr  = models.OfferingUserErrorCreating
		edel = models.OfferingUserErrorDeleting
	)
	allowed := map[string]map[models.OfferingUserState]models.OfferingUserState{
		"begin_creating":                    {req: cre, ecr: cre},
		"set_ok":                            {req: ok, cre: ok, link: ok, val: ok, ecr: ok, edel: ok, rdel: ok, del: ok},
		"set_pending_additional_validation": {cre: val, ecr: val, link: val},
		"set_pending_account_linking":       {cre: link, ecr: link, val: link},
		"set_validation_complete":           {val: ok, link: ok},
		"request_deletion":                  {ok: rdel, cre: rdel, link: rdel, val: rdel, ecr: rdel},
		"set_deleting":                      {rdel: del, edel: del},
		"set_deleted":                       {req: gone, del: gone},
		"set_error_creating":                {req: ecr, cre: ecr, link: ecr, val: ecr},
		"set_error_deleting":                {rdel: edel, del: edel},
	}
	require.ElementsMatch(t, models.OfferingUserActions, func() []string {
		var out []string
		for a := range allowed {
			out = append(out, a)
		}
		return out
	}())
	for _, action := range models.OfferingUserActions {
		for _, from := range models.OfferingUserStates {
			t.Run(action+" from "+string(from), func(t *testing.T) {
				to, err := models.OfferingUserTransition(action, from)
				want, allowedMove := allowed[action][from]
				if allowedMove {
					require.NoError(t, err)
					require.Equal(t, want, to)
					return
				}
				require.True(t, models.IsCode(err, models.CodeConflict), "%v", err)
				require.Contains(t, err.Error(), "Valid states for operation: ")
				require.Equal(t, from, to)
			})
		}
	}
	t.Run("unknown action", func(t *testing.T) {
		_, err := models.OfferingUserTransition("explode", req)
		require.True(t, models.IsCode(err, models.CodeInvalid))
	})
}

func TestOfferingUserStatesMatchOpenAPI(t *testing.T) {
	// The OpenAPI OfferingUserState enum, in its order.
	want := []string{"Requested", "Creating", "Pending account linking", "Pending additional validation", "OK",
		"Requested deletion", "Deleting", "Deleted", "Error creating", "Error deleting"}
	got := make([]string, len(models.OfferingUserStates))
	for i, s := range models.OfferingUserStates {
		got[i] = string(s)
		require.True(t, s.Valid())
	}
	require.Equal(t, want, got)
	require.False(t, models.OfferingUserState("ok").Valid())
}

func TestUsernameCompletes(t *testing.T) {
	for _, s := range models.OfferingUserStates {
		want := s == models.OfferingUserRequested || s == models.OfferingUserCreating || s == models.OfferingUserPendingAccountLinking ||
			s == models.OfferingUserPendingAdditionalValidation || s == models.OfferingUserErrorCreating
		require.Equal(t, want, models.UsernameCompletes(s), string(s))
	}
}

func TestUsernameOptions(t *testing.T) {
	tests := []struct {
		name       string
		opts       map[string]any
		wantPolicy models.UsernamePolicy
		wantPrefix string
	}{
		{"absent", nil, models.UsernameServiceProvider, "walduruser_"},
		{"anonymized with prefix", map[string]any{"username_generation_policy": "anonymized", "username_anonymized_prefix": "hpc_"}, models.UsernameAnonymized, "hpc_"},
		{"empty prefix keeps the default", map[string]any{"username_generation_policy": "full_name", "username_anonymized_prefix": ""}, models.UsernameFullName, "walduruser_"},
		{"unknown policy", map[string]any{"username_generation_policy": "magic"}, models.UsernameServiceProvider, "walduruser_"},
		{"not a string", map[string]any{"username_generation_policy": 3}, models.UsernameServiceProvider, "walduruser_"},
		{"waldur_username", map[string]any{"username_generation_policy": "waldur_username"}, models.UsernameWaldur, "walduruser_"},
		{"freeipa", map[string]any{"username_generation_policy": "freeipa"}, models.UsernameFreeIPA, "walduruser_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, prefix := models.UsernameOptions(tt.opts)
			require.Equal(t, tt.wantPolicy, p)
			require.Equal(t, tt.wantPrefix, prefix)
		})
	}
}

func TestGenerateUsername(t *testing.T) {
	u := &models.User{Username: "jdoe", FirstName: "José María", LastName: "O'Brien-Smith"}
	tests := []struct {
		name   string
		policy models.UsernamePolicy
		taken  []string
		want   string
	}{
		{"service provider sets it", models.UsernameServiceProvider, nil, ""},
		{"freeipa without profiles", models.UsernameFreeIPA, nil, ""},
		{"waldur username", models.UsernameWaldur, nil, "jdoe"},
		{"first anonymized", models.UsernameAnonymized, nil, "hpc_00000"},
		{"next after the highest", models.UsernameAnonymized, []string{"hpc_00000", "hpc_00007", "HPC_00003", "hpc_x", "other_00042"}, "hpc_00008"},
		{"first full name", models.UsernameFullName, nil, "jose_maria_obriensmith_00"},
		{"next full name", models.UsernameFullName, []string{"jose_maria_obriensmith_00", "jose_maria_obriensmith_01"}, "jose_maria_obriensmith_02"},
		{"beyond the width", models.UsernameFullName, []string{"jose_maria_obriensmith_99"}, "jose_maria_obriensmith_100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, models.GenerateUsername(tt.policy, "hpc_", u, tt.taken))
		})
	}
	require.Equal(t, "hpc_", models.UsernameStem(models.UsernameAnonymized, "hpc_", u))
	require.Equal(t, "jose_maria_obriensmith_", models.UsernameStem(models.UsernameFullName, "hpc_", u))
	require.Equal(t, "", models.UsernameStem(models.UsernameWaldur, "hpc_", u))
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"  Anna  Lee ": "anna_lee",
		"Jürgen":       "jurgen",
		"Zoë-Ann":      "zoeann",
		"李":            "",
		"a.b@c":        "abc",
		"":             "",
	} {
		require.Equal(t, want, models.SanitizeName(in), in)
	}
}

func TestAgentTypeOf(t *testing.T) {
	tests := []struct {
		ua, path string
		want     models.AgentType
	}{
		{"waldur-site-agent-order-process/0.7.0", "/api/users/me/", models.AgentOrderProcessing},
		{"waldur-site-agent-order_process/0.7.0", "/api/users/me/", models.AgentOrderProcessing},
		{"waldur-site-agent-report/0.7.0", "/api/marketplace-orders/", models.AgentUsageReporting},
		{"waldur-site-agent-membership-sync/0.7.0", "/api/marketplace-provider-resources/", models.AgentResourceSync},
		{"waldur-site-agent-event-process/0.7.0", "/api/marketplace-orders/", models.AgentEventProcessing},
		{"waldur-slurm-agent/1.0.0", "/api/marketplace-orders/", models.AgentOrderProcessing},
		{"waldur-slurm-agent/1.0.0", "/api/marketplace-provider-resources/", models.AgentUsageReporting},
		{"waldur-slurm-agent/1.0.0", "/api/marketplace-component-usages/", models.AgentUsageReporting},
		{"waldur-slurm-agent/1.0.0", "/api/users/me/", models.AgentUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.ua+" "+tt.path, func(t *testing.T) {
			require.Equal(t, tt.want, models.AgentTypeOf(tt.ua, tt.path))
		})
	}
	require.True(t, models.IsSiteAgent("waldur-site-agent-report/0.7.0"))
	require.True(t, models.IsSiteAgent("Waldur-Slurm-Agent/1.0"))
	require.False(t, models.IsSiteAgent("curl/8.0"))
	require.Equal(t, "Active", models.AgentServiceActive.String())
	require.Equal(t, "Idle", models.AgentServiceIdle.String())
	require.Equal(t, "Error", models.AgentServiceError.String())
}
