package models

import "time"

// Event is one audit record, stored once and linked (fed) to every scope it
// concerns: a project event is fed to the project and its customer.
type Event struct {
	ID        int64
	UUID      UUID
	Created   time.Time
	EventType string
	Message   string
	Context   map[string]any
	// Scopes are the feeds; set when emitting.
	Scopes []Scope
}

// Event groups (Waldur's event_groups), for hooks and the events API.
var EventGroups = map[string][]string{
	"users": {"user_creation_succeeded", "user_update_succeeded", "user_details_update_succeeded", "user_deletion_succeeded",
		"user_password_updated", "user_activated", "user_deactivated", "user_profile_changed",
		"user_has_been_created_by_staff", "user_password_updated_by_staff"},
	"auth": {"auth_logged_in_with_username", "auth_login_failed_with_username", "auth_logged_out",
		"auth_logged_in_with_saml2", "auth_logged_out_with_saml2", "auth_logged_in_with_oauth", "token_created", "token_lifetime_updated"},
	"ssh":         {"ssh_key_creation_succeeded", "ssh_key_deletion_succeeded"},
	"permissions": {"role_granted", "role_revoked", "role_updated"},
	"customers":   {"customer_creation_succeeded", "customer_update_succeeded", "customer_deletion_succeeded"},
	"projects":    {"project_creation_succeeded", "project_update_succeeded", "project_deletion_succeeded", "project_deletion_triggered"},
	"invitations": {"invitation_created", "invitation_accepted", "invitation_canceled", "invitation_expired", "invitation_approved", "invitation_rejected"},
}

// EventGroupOf returns the group of an event type ("" when none).
func EventGroupOf(eventType string) string {
	for g, ts := range EventGroups {
		for _, t := range ts {
			if t == eventType {
				return g
			}
		}
	}
	return ""
}
