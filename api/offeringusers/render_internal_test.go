package offeringusers

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// TestRenderExposed: each exposed attribute is copied from the user's
// profile into its user_* field; without exposure each is blank.
func TestRenderExposed(t *testing.T) {
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "http://example.com/api/marketplace-offering-users/", nil)
	gender, civil := 1, "EE1"
	birth := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	v := &store.OfferingUserView{UserUsername: "alice", UserFirstName: "Alice", UserLastName: "Doe", UserEmail: "a@x.org",
		UserPhoneNumber: "+1", UserOrganization: "CERN", UserJobTitle: "Dr", UserAffiliations: []string{"member@cern.ch"},
		UserGender: &gender, UserPersonalTitle: "Prof", UserPlaceOfBirth: "Tartu", UserCountryOfResidence: "CH",
		UserNationality: "EE", UserNationalities: []string{"EE"}, UserOrganizationCountry: "CH", UserOrganizationType: "urn:x",
		UserOrganizationRegistryCode: "123", UserEdupersonAssurance: []string{"https://refeds.org/assurance"},
		UserCivilNumber: &civil, UserBirthDate: &birth, UserIdentitySource: "eduteams", UserActiveISDs: []string{"isd:puhuri"}}

	all := models.UserAttributeExposure{}
	for _, a := range models.ExposableUserAttributes {
		all[a] = true
	}
	got := renderExposed(c, v, all)
	require.Equal(t, "alice", got.UserUsername)
	require.Equal(t, "Alice Doe", got.UserFullName)
	require.Equal(t, "a@x.org", got.UserEmail)
	require.Equal(t, "+1", got.UserPhoneNumber)
	require.Equal(t, "CERN", got.UserOrganization)
	require.Equal(t, "Dr", got.UserJobTitle)
	require.Equal(t, []string{"member@cern.ch"}, got.UserAffiliations)
	require.Equal(t, 1, *got.UserGender)
	require.Equal(t, "Prof", got.UserPersonalTitle)
	require.Equal(t, "Tartu", got.UserPlaceOfBirth)
	require.Equal(t, "CH", got.UserCountryOfResidence)
	require.Equal(t, "EE", got.UserNationality)
	require.Equal(t, []string{"EE"}, got.UserNationalities)
	require.Equal(t, "CH", got.UserOrganizationCountry)
	require.Equal(t, "urn:x", got.UserOrganizationType)
	require.Equal(t, "123", got.UserOrganizationRegistryCode)
	require.Equal(t, []string{"https://refeds.org/assurance"}, got.UserEdupersonAssurance)
	require.Equal(t, "EE1", *got.UserCivilNumber)
	require.Equal(t, "1990-05-17", *got.UserBirthDate)
	require.Equal(t, "eduteams", got.UserIdentitySource)
	require.Equal(t, []string{"isd:puhuri"}, got.UserActiveISDs)
	require.Nil(t, got.ConsentData)

	none := renderExposed(c, v, models.UserAttributeExposure{})
	require.Equal(t, "", none.UserUsername)
	require.Equal(t, "", none.UserFullName)
	require.Equal(t, "", none.UserFirstName)
	require.Equal(t, "", none.UserEmail)
	require.Equal(t, []string{}, none.UserAffiliations)
	require.Nil(t, none.UserGender)
	require.Nil(t, none.UserCivilNumber)
	require.Nil(t, none.UserBirthDate)
	require.Equal(t, []string{}, none.UserActiveISDs)
	require.Equal(t, v.UUID, none.UUID, "the account itself is always shown")
}
