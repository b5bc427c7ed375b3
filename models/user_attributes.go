package models

import "slices"

// ExposableUserAttributes are the user attributes an offering's service
// provider may be shown on the offering's users (Waldur's
// OfferingUserAttributeConfig expose_* fields), in Waldur's order. An
// offering user renders each as user_<attribute> (full_name also as
// user_first_name and user_last_name).
var ExposableUserAttributes = []string{
	"username", "full_name", "email", "phone_number", "organization", "job_title", "affiliations", "gender",
	"personal_title", "place_of_birth", "country_of_residence", "nationality", "nationalities",
	"organization_country", "organization_type", "organization_registry_code", "eduperson_assurance",
	"civil_number", "birth_date", "identity_source", "active_isds",
}

// UserAttributeExposure is the set of user attributes an offering's
// service provider sees.
type UserAttributeExposure map[string]bool

// Exposes reports whether the attribute is shown.
func (e UserAttributeExposure) Exposes(attr string) bool { return e[attr] }

// Fields are the exposed attributes, in ExposableUserAttributes' order
// (the configuration's exposed_fields).
func (e UserAttributeExposure) Fields() []string {
	out := []string{}
	for _, a := range ExposableUserAttributes {
		if e[a] {
			out = append(out, a)
		}
	}
	return out
}

// DefaultUserAttributes is Waldur's fallback exposure
// (OfferingUserAttributeConfig.DEFAULT_FALLBACK, the default of
// DEFAULT_OFFERING_USER_ATTRIBUTES): username, full name and email.
var DefaultUserAttributes = []string{"username", "full_name", "email"}

// OfferingUserAttributeExposure is what the service provider of an offering
// sees of the offering's users. No per-offering configuration is kept
// here, so every offering has Waldur's default; the offering's
// user-attribute-config and its offering users both answer from this one
// place.
func OfferingUserAttributeExposure() UserAttributeExposure {
	e := UserAttributeExposure{}
	for _, a := range DefaultUserAttributes {
		if slices.Contains(ExposableUserAttributes, a) {
			e[a] = true
		}
	}
	return e
}
