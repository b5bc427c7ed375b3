package identity

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/waldur-go/waldur/api"
	"github.com/waldur-go/waldur/api/form"
	"github.com/waldur-go/waldur/api/rest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/store"
)

// The Identity Bridge (Waldur's IdentityBridgeView, IdentityBridgeRemoveView
// and IdentityBridgeStatsView): an Identity Service Domain pushes the
// attributes of a user, named by username, and signals its removal. A push
// or a removal is refused with 403 while the bridge is disabled, then to
// callers who are neither staff nor identity managers, then (after the
// body is validated: 400) to identity managers whose managed_isds lack the
// declared source. The statistics are staff's.

// BridgeConfig is the Identity Bridge's configuration (Waldur's
// FEDERATED_IDENTITY_SYNC_ENABLED, FEDERATED_IDENTITY_SYNC_ALLOWED_ATTRIBUTES
// and FEDERATED_IDENTITY_DEACTIVATION_POLICY).
type BridgeConfig struct {
	// Enabled turns the push and removal on (off by default).
	Enabled bool
	// AllowedAttributes are the attributes a push may carry, names of
	// models.BridgeAttributes (nil: models.DefaultBridgeAllowedAttributes).
	AllowedAttributes []string
	// DeactivationPolicy is models.DeactivateOnAnyISDRemoved or
	// DeactivateOnAllISDsRemoved ("": models.DefaultDeactivationPolicy).
	DeactivationPolicy string
}

func (b BridgeConfig) withDefaults() BridgeConfig {
	if b.AllowedAttributes == nil {
		b.AllowedAttributes = models.DefaultBridgeAllowedAttributes
	}
	if b.DeactivationPolicy == "" {
		b.DeactivationPolicy = models.DefaultDeactivationPolicy
	}
	return b
}

// IdentityBridgeRequest documents a push (Waldur's
// IdentityBridgeRequestRequest): username and source are required; the
// other attributes are optional and must be among the allowed ones.
type IdentityBridgeRequest struct {
	Username            string   `json:"username"`
	Source              string   `json:"source" example:"isd:puhuri"`
	FirstName           string   `json:"first_name,omitempty"`
	LastName            string   `json:"last_name,omitempty"`
	Email               string   `json:"email,omitempty"`
	Organization        string   `json:"organization,omitempty"`
	Affiliations        []string `json:"affiliations,omitempty"`
	CivilNumber         string   `json:"civil_number,omitempty"`
	PhoneNumber         string   `json:"phone_number,omitempty"`
	IdentitySource      string   `json:"identity_source,omitempty"`
	Gender              *int     `json:"gender,omitempty"`
	PersonalTitle       string   `json:"personal_title,omitempty"`
	BirthDate           *string  `json:"birth_date,omitempty"`
	PlaceOfBirth        string   `json:"place_of_birth,omitempty"`
	CountryOfResidence  string   `json:"country_of_residence,omitempty"`
	Nationality         string   `json:"nationality,omitempty"`
	Nationalities       []string `json:"nationalities,omitempty"`
	OrganizationCountry string   `json:"organization_country,omitempty"`
	OrganizationType    string   `json:"organization_type,omitempty"`
	EdupersonAssurance  []string `json:"eduperson_assurance,omitempty"`
}

// IdentityBridgeRemoveRequest documents a removal.
type IdentityBridgeRemoveRequest struct {
	Username string `json:"username"`
	Source   string `json:"source" example:"isd:puhuri"`
}

// IdentityBridgeResult is Waldur's answer to a push.
type IdentityBridgeResult struct {
	UUID          models.UUID `json:"uuid"`
	Created       bool        `json:"created"`
	UpdatedFields []string    `json:"updated_fields"`
}

// IdentityBridgeRemoveResult is Waldur's answer to a removal.
type IdentityBridgeRemoveResult struct {
	UUID        models.UUID `json:"uuid"`
	Deactivated bool        `json:"deactivated"`
}

// ISDUserCount is one ISD's users in the statistics.
type ISDUserCount struct {
	ISD            string  `json:"isd"`
	UserCount      int     `json:"user_count"`
	StaleUserCount int     `json:"stale_user_count"`
	OldestSync     *string `json:"oldest_sync"`
}

// IdentityManager is an identity manager in the statistics.
type IdentityManager struct {
	UUID        models.UUID `json:"uuid"`
	FullName    string      `json:"full_name"`
	ManagedISDs []string    `json:"managed_isds"`
}

// IdentityBridgeStats is Waldur's IdentityBridgeStats.
type IdentityBridgeStats struct {
	Enabled                   bool              `json:"enabled"`
	DeactivationPolicy        string            `json:"deactivation_policy"`
	AllowedAttributes         []string          `json:"allowed_attributes"`
	TotalFederatedUsers       int               `json:"total_federated_users"`
	TotalActiveFederatedUsers int               `json:"total_active_federated_users"`
	UsersPerISD               []ISDUserCount    `json:"users_per_isd"`
	StaleThresholdDays        int               `json:"stale_threshold_days"`
	IdentityManagers          []IdentityManager `json:"identity_managers"`
}

// bridgeCaller refuses the caller (403) unless the bridge is enabled and the
// caller is staff or an identity manager; it returns the caller's managed
// ISDs (nil for staff, who may act for any source).
func (m *Module) bridgeCaller(c *gin.Context) (managed []string, staff bool, err error) {
	if !m.bridge.Enabled {
		return nil, false, models.Errorf(models.CodeForbidden, "Identity Bridge is disabled.")
	}
	caller := api.CurrentUser(c)
	if caller.IsStaff {
		return nil, true, nil
	}
	p, err := m.st.UserProfileByUUID(c.Request.Context(), caller.UUID)
	if err != nil {
		return nil, false, err
	}
	if !p.IsIdentityManager {
		return nil, false, models.Errorf(models.CodeForbidden, "Only staff and identity managers are allowed to use the Identity Bridge.")
	}
	return p.ManagedISDs, false, nil
}

// checkSource refuses (403) an identity manager acting for a source outside
// their managed ISDs.
func checkSource(source string, managed []string, staff bool) error {
	if staff || slices.Contains(managed, source) {
		return nil
	}
	return models.Errorf(models.CodeForbidden, "Source '%s' is not in your managed ISDs.", source)
}

// bridgeTarget reads username and source (both required; the username by
// the users' rule, the source as "<type>:<name>").
func bridgeTarget(f *form.Form) (username, source string) {
	if v, ok := f.Char("username", form.Char{Max: 128, Required: true}); ok {
		if err := models.ValidateUsername(v); err != nil {
			f.Fail("username", err.(*models.Error).Message)
		}
		username = v
	}
	if v, ok := f.Char("source", form.Char{Max: 100, Required: true}); ok {
		if !models.ValidISDSource(v) {
			f.Fail("source", models.MsgISDSource)
		}
		source = v
	}
	return username, source
}

// bridgeTextMax are the pushed text attributes with their longest value.
var bridgeTextMax = map[string]int{
	"first_name": 100, "last_name": 100, "email": 320, "organization": 255, "civil_number": 50, "phone_number": 255,
	"identity_source": 50, "personal_title": 50, "place_of_birth": 255, "country_of_residence": 2, "nationality": 2,
	"organization_country": 2, "organization_type": 255,
}

// bridgeAttributes reads the pushed attributes present in f, as
// store.BridgePush.Attributes holds them.
func bridgeAttributes(f *form.Form) map[string]any {
	attrs := map[string]any{}
	for _, k := range models.BridgeAttributes {
		if !f.Has(k) {
			continue
		}
		switch k {
		case "affiliations", "nationalities", "eduperson_assurance":
			if v, ok := f.StrList(k, false, form.Char{}); ok {
				attrs[k] = v
			}
		case "gender":
			if v, ok := f.IntChoice(k, true, 0, 1, 2, 9); ok {
				attrs[k] = v
			}
		case "birth_date":
			if v, ok := f.Date(k, true); ok {
				attrs[k] = v
			}
		default:
			if v, ok := str(f, k, bridgeTextMax[k], true); ok {
				if k == "email" && v != "" && !validEmail(v) {
					f.Fail(k, form.MsgEmail)
					continue
				}
				attrs[k] = v
			}
		}
	}
	return attrs
}

// bridgePush godoc
//
//	@Summary		Push user attributes from an ISD
//	@Description	Allows Identity Service Domains (ISDs) to push user attributes. Creates or updates a user based on username (CUID): a new user gets the pushed attributes, no password and notifications off; an existing one takes each pushed value except an empty one for an attribute another ISD owns. Each pushed attribute records its source and time in attribute_sources; the source joins active_isds. Requires WALDUR_FEDERATED_IDENTITY_SYNC_ENABLED (else 403). Caller must be staff or an identity manager with the declared source in managed_isds (else 403). Attributes outside WALDUR_FEDERATED_IDENTITY_SYNC_ALLOWED_ATTRIBUTES, and a deactivated user, are refused with 400. An identity manager may not push to a staff, support or identity manager account (403).
//	@Tags			identity-bridge
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		IdentityBridgeRequest	true	"The user's attributes"
//	@Success		200		{object}	IdentityBridgeResult
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Router			/api/identity-bridge/ [post]
func (m *Module) bridgePush(c *gin.Context) error {
	managed, staff, err := m.bridgeCaller(c)
	if err != nil {
		return err
	}
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	username, source := bridgeTarget(f)
	attrs := bridgeAttributes(f)
	if err := f.Err(); err != nil {
		return err
	}
	var refused []string
	for k := range attrs {
		if !slices.Contains(m.bridge.AllowedAttributes, k) {
			refused = append(refused, k)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		msg := "Fields not allowed by Identity Bridge configuration: " + strings.Join(refused, ", ")
		return &models.Error{Code: models.CodeInvalid, Message: msg, Fields: map[string][]string{"non_field_errors": {msg}}}
	}
	if err := checkSource(source, managed, staff); err != nil {
		return err
	}
	res, err := m.st.PushBridgeUser(c.Request.Context(), store.BridgePush{Username: username, Source: source, Attributes: attrs, ByStaff: staff},
		func(p *store.UserProfile, created bool, updated []string) []*models.Event {
			extra := map[string]any{"source": source}
			if created {
				return []*models.Event{userEvent("user_creation_succeeded", fmt.Sprintf("User %s has been created. Source: %s.", p.Username, source), p, extra)}
			}
			if len(updated) == 0 {
				return nil
			}
			return []*models.Event{userEvent("user_update_succeeded",
				fmt.Sprintf("User %s has been updated. Source: %s. Fields: %s.", p.Username, source, strings.Join(updated, ", ")), p, extra)}
		})
	if errors.Is(err, store.ErrBridgeUserDeactivated) {
		// Waldur's ParseError: {"detail": …}.
		c.AbortWithStatusJSON(http.StatusBadRequest, api.ErrorBody{Detail: err.(*models.Error).Message})
		return nil
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, IdentityBridgeResult{UUID: res.User.UUID, Created: res.Created, UpdatedFields: res.UpdatedFields})
	return nil
}

// bridgeRemove godoc
//
//	@Summary		Remove a user from an ISD
//	@Description	Signals that a user has been removed from an ISD. Removes the source from active_isds, clears attributes owned by that source, and deactivates the user as WALDUR_FEDERATED_IDENTITY_DEACTIVATION_POLICY says (any_isd_removed, the default: always; all_isds_removed: when no ISD remains). Requires WALDUR_FEDERATED_IDENTITY_SYNC_ENABLED (else 403). Caller must be staff or an identity manager with the declared source in managed_isds (else 403). An identity manager may not remove a staff, support or identity manager account (403); a removal by an ISD that does not assert the user changes nothing (deactivated false).
//	@Tags			identity-bridge
//	@Accept			json
//	@Produce		json
//	@Security		TokenAuth
//	@Param			body	body		IdentityBridgeRemoveRequest	true	"The user and the ISD"
//	@Success		200		{object}	IdentityBridgeRemoveResult
//	@Failure		400		{object}	map[string][]string
//	@Failure		403		{object}	api.ErrorBody
//	@Failure		404		{object}	api.ErrorBody
//	@Router			/api/identity-bridge/remove/ [post]
func (m *Module) bridgeRemove(c *gin.Context) error {
	managed, staff, err := m.bridgeCaller(c)
	if err != nil {
		return err
	}
	f, ok := readForm(c)
	if !ok {
		return nil
	}
	username, source := bridgeTarget(f)
	if err := f.Err(); err != nil {
		return err
	}
	if err := checkSource(source, managed, staff); err != nil {
		return err
	}
	p, deactivated, err := m.st.RemoveBridgeUser(c.Request.Context(),
		store.BridgeRemove{Username: username, Source: source, Policy: m.bridge.DeactivationPolicy, ByStaff: staff},
		func(p *store.UserProfile, wasActive, deactivated bool) []*models.Event {
			extra := map[string]any{"source": source}
			evs := []*models.Event{userEvent("user_update_succeeded",
				fmt.Sprintf("User %s has been removed from %s.", p.Username, source), p, extra)}
			if wasActive && deactivated {
				evs = append(evs, userEvent("user_deactivated", fmt.Sprintf("User %s has been deactivated.", p.Username), p, extra))
			}
			return evs
		})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, IdentityBridgeRemoveResult{UUID: p.UUID, Deactivated: deactivated})
	return nil
}

// bridgeStats godoc
//
//	@Summary		Get Identity Bridge statistics
//	@Description	Staff only. The bridge's configuration, the users per ISD (those whose latest attribute from the ISD is more than stale_threshold_days old, or who have none, are stale), the federated users (an ISD in active_isds) and the active identity managers.
//	@Tags			identity-bridge
//	@Produce		json
//	@Security		TokenAuth
//	@Success		200	{object}	IdentityBridgeStats
//	@Failure		403	{object}	api.ErrorBody
//	@Router			/api/identity-bridge/stats/ [get]
func (m *Module) bridgeStats(c *gin.Context) error {
	if !api.CurrentUser(c).IsStaff {
		return models.Errorf(models.CodeForbidden, "Only staff users can view Identity Bridge statistics.")
	}
	s, err := m.st.IdentityBridgeStats(c.Request.Context(), m.now(), models.BridgeStaleDays)
	if err != nil {
		return err
	}
	allowed := slices.Clone(m.bridge.AllowedAttributes)
	sort.Strings(allowed)
	out := IdentityBridgeStats{Enabled: m.bridge.Enabled, DeactivationPolicy: m.bridge.DeactivationPolicy, AllowedAttributes: allowed,
		TotalFederatedUsers: s.Federated, TotalActiveFederatedUsers: s.ActiveFederated, UsersPerISD: []ISDUserCount{},
		StaleThresholdDays: models.BridgeStaleDays, IdentityManagers: []IdentityManager{}}
	for _, isd := range s.PerISD {
		row := ISDUserCount{ISD: isd.ISD, UserCount: isd.Users, StaleUserCount: isd.Stale}
		if isd.OldestSync != nil {
			v := isd.OldestSync.UTC().Format(time.RFC3339Nano)
			row.OldestSync = &v
		}
		out.UsersPerISD = append(out.UsersPerISD, row)
	}
	for _, mgr := range s.Managers {
		out.IdentityManagers = append(out.IdentityManagers, IdentityManager{UUID: mgr.UUID, FullName: mgr.FullName, ManagedISDs: mgr.ManagedISDs})
	}
	return rest.Render(c, http.StatusOK, out)
}
