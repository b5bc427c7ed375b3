package models

import (
	"regexp"
	"slices"
)

// The Identity Bridge (Waldur's waldur_auth_social identity bridge): an
// Identity Service Domain (ISD, e.g. "isd:puhuri") pushes the attributes of
// a user it knows, named by username (the CUID), and later signals that
// the user left it. Each pushed attribute records its source ISD and time
// in the user's attribute_sources; the user's active_isds lists the ISDs
// that assert it exists. Staff, and identity managers for the ISDs in
// their managed_isds, may call it, and only when it is enabled (Waldur's
// FEDERATED_IDENTITY_SYNC_ENABLED, off by default).

// BridgeAttributes are the user attributes an ISD may push, in the order of
// Waldur 8.0.5's IdentityBridgeRequest (besides username and source).
var BridgeAttributes = []string{
	"first_name", "last_name", "email", "organization", "affiliations", "civil_number", "phone_number",
	"identity_source", "gender", "personal_title", "birth_date", "place_of_birth", "country_of_residence",
	"nationality", "nationalities", "organization_country", "organization_type", "eduperson_assurance",
}

// DefaultBridgeAllowedAttributes is the default of Waldur's
// FEDERATED_IDENTITY_SYNC_ALLOWED_ATTRIBUTES: the attributes a push may
// carry (any other is refused with 400).
var DefaultBridgeAllowedAttributes = []string{"first_name", "last_name", "email", "organization", "affiliations"}

// IsBridgeAttribute reports whether name is one of BridgeAttributes.
func IsBridgeAttribute(name string) bool { return slices.Contains(BridgeAttributes, name) }

// The values of Waldur's FEDERATED_IDENTITY_DEACTIVATION_POLICY: when the
// removal of a user from an ISD deactivates the user.
const (
	// DeactivateOnAnyISDRemoved deactivates the user on every removal.
	DeactivateOnAnyISDRemoved = "any_isd_removed"
	// DeactivateOnAllISDsRemoved deactivates the user when no ISD remains
	// in its active_isds.
	DeactivateOnAllISDsRemoved = "all_isds_removed"
	// DefaultDeactivationPolicy is Waldur's default (its constance
	// setting and configuration reference; its Identity Bridge guide
	// calls all_isds_removed the default in one table and any_isd_removed
	// in another, and the code ships any_isd_removed).
	DefaultDeactivationPolicy = DeactivateOnAnyISDRemoved
)

// DeactivationPolicies are the accepted policies.
var DeactivationPolicies = []string{DeactivateOnAllISDsRemoved, DeactivateOnAnyISDRemoved}

// BridgeStaleDays is the age (in days) past which an ISD's latest pushed
// attribute of a user counts as stale in the bridge's statistics.
const BridgeStaleDays = 7

var isdSourceRe = regexp.MustCompile(`^[a-z]+:[a-zA-Z0-9._-]+$`)

// ValidISDSource reports whether s is an ISD source identifier
// ("<type>:<name>", e.g. "isd:puhuri").
func ValidISDSource(s string) bool { return isdSourceRe.MatchString(s) }

// MsgISDSource is the error of a malformed source, as Waldur words it.
const MsgISDSource = "Source must match pattern '<type>:<name>' (e.g. 'isd:puhuri')."

// AttributeSource is where one attribute of a user came from: the ISD and
// when it last pushed it (ISO 8601), a value of User.attribute_sources.
type AttributeSource struct {
	Source    string `json:"source"`
	Timestamp string `json:"timestamp"`
}
