package offeringusers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
)

// TestOfferingUserAttributeExposure: the offering user carries the user's
// profile only as the offering's user attribute configuration (Waldur's
// default: username, full name, email) exposes it, to every caller: the
// provider, staff and the user alike; the rest is empty or null.
func TestOfferingUserAttributeExposure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB, _ config.DatabaseKind) {
		e := newEnv(t, db)
		gender := 2
		birth := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
		require.NoError(t, e.st.UpdateUserProfile(context.Background(), e.users["alice"].ID, map[string]any{
			"phone_number": "+3725550000", "organization": "CERN", "job_title": "Physicist", "affiliations": `["member@cern.ch"]`,
			"gender": &gender, "personal_title": "Dr", "place_of_birth": "Tartu", "country_of_residence": "CH",
			"nationality": "EE", "nationalities": `["EE","FI"]`, "organization_country": "CH", "organization_type": "urn:x",
			"organization_registry_code": "123", "eduperson_assurance": `["https://refeds.org/assurance"]`,
			"civil_number": "EE38001010000", "birth_date": &birth, "identity_source": "eduteams",
			"active_isds": `["isd:puhuri"]`,
		}, nil))
		w := e.create("owner", e.anon, "alice", nil)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		var created struct{ UUID string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &created))

		// The store's view holds the user's profile (the copy the exposure filters).
		id, err := models.ParseUUID(created.UUID)
		require.NoError(t, err)
		v, err := e.st.OfferingUserByUUID(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, []string{"member@cern.ch"}, v.UserAffiliations)
		require.Equal(t, 2, *v.UserGender)
		require.Equal(t, "1990-05-17", v.UserBirthDate.Format(time.DateOnly))
		require.Equal(t, "EE38001010000", *v.UserCivilNumber)
		require.Equal(t, []string{"EE", "FI"}, v.UserNationalities)
		require.Equal(t, []string{"isd:puhuri"}, v.UserActiveISDs)
		require.Equal(t, "123", v.UserOrganizationRegistryCode)
		require.Equal(t, "eduteams", v.UserIdentitySource)

		want := map[string]any{
			"user_username": "alice", "user_full_name": "Alice Doe", "user_first_name": "Alice", "user_last_name": "Doe",
			"user_email": "alice@example.com",
			// Not exposed by default.
			"user_phone_number": "", "user_organization": "", "user_job_title": "", "user_affiliations": []any{},
			"user_gender": nil, "user_personal_title": "", "user_place_of_birth": "", "user_country_of_residence": "",
			"user_nationality": "", "user_nationalities": []any{}, "user_organization_country": "", "user_organization_type": "",
			"user_organization_registry_code": "", "user_eduperson_assurance": []any{}, "user_civil_number": nil,
			"user_birth_date": nil, "user_identity_source": "", "user_active_isds": []any{},
			"consent_data": nil,
		}
		check := func(got map[string]any, who string) {
			for k, v := range want {
				require.Contains(t, got, k, who)
				require.Equal(t, v, got[k], "%s as %s", k, who)
			}
		}
		for _, who := range []string{"owner", "staff", "alice"} {
			var list []map[string]any
			e.ok(http.StatusOK, "GET", base+"?user_uuid="+e.users["alice"].UUID.String(), who, nil, &list)
			require.Len(t, list, 1, who)
			check(list[0], who)
			var one map[string]any
			e.ok(http.StatusOK, "GET", base+created.UUID+"/", who, nil, &one)
			check(one, who)
		}

		// The offering's user attribute configuration answers the same default.
		require.Equal(t, []string{"username", "full_name", "email"}, models.OfferingUserAttributeExposure().Fields())
	})
}
