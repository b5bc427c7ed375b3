package models

import "strings"

// AgentType is the kind of work an offering's site agent reports its
// liveness for (Waldur's IntegrationStatus.AgentTypes), rendered as the
// display names of the OpenAPI AgentTypeEnum.
type AgentType string

const (
	AgentOrderProcessing AgentType = "Order processing"
	AgentUsageReporting  AgentType = "Usage reporting"
	AgentGlauthSync      AgentType = "Glauth sync"
	AgentResourceSync    AgentType = "Resource sync"
	AgentEventProcessing AgentType = "Event processing"
	AgentUnknown         AgentType = "unknown"
)

// IntegrationState is whether an offering's agent is heard from
// (Waldur's IntegrationStatus.States), rendered as its display name.
type IntegrationState string

const (
	IntegrationUnknown      IntegrationState = "Unknown"
	IntegrationActive       IntegrationState = "Active"
	IntegrationDisconnected IntegrationState = "Disconnected"
)

// AgentServiceState is the state of a site agent's service (Waldur's
// AgentService.States); stored as 1, 2, 3 and rendered as its name.
type AgentServiceState int

const (
	AgentServiceActive AgentServiceState = 1
	AgentServiceIdle   AgentServiceState = 2
	AgentServiceError  AgentServiceState = 3
)

// String is the display name (the OpenAPI AgentServiceState enum).
func (s AgentServiceState) String() string {
	switch s {
	case AgentServiceIdle:
		return "Idle"
	case AgentServiceError:
		return "Error"
	}
	return "Active"
}

// IsSiteAgent reports whether a User-Agent header is Waldur's site agent:
// "waldur-site-agent-<mode>/<version>" (or its predecessor's
// "waldur-slurm-agent/<version>", which Waldur itself matches).
func IsSiteAgent(userAgent string) bool {
	ua := strings.ToLower(userAgent)
	return strings.Contains(ua, "waldur-site-agent") || strings.Contains(ua, "waldur-slurm-agent")
}

// AgentTypeOf names the agent type of a site agent request. The mode in the
// User-Agent decides: order_process → Order processing, report → Usage
// reporting, membership_sync → Resource sync (the mode keeps the resources'
// teams, limits and states in step; Waldur's "Glauth sync" is the GLAuth
// configuration endpoint, which this build does not serve), event_process →
// Event processing. A User-Agent without a mode (the older agent) falls back
// to the endpoint, as Waldur does: the order list is order processing, the
// resource and usage endpoints usage reporting; anything else is unknown.
func AgentTypeOf(userAgent, path string) AgentType {
	ua := strings.ToLower(strings.ReplaceAll(userAgent, "_", "-"))
	switch {
	case strings.Contains(ua, "order-process"):
		return AgentOrderProcessing
	case strings.Contains(ua, "membership-sync"):
		return AgentResourceSync
	case strings.Contains(ua, "event-process"):
		return AgentEventProcessing
	case strings.Contains(ua, "-report"):
		return AgentUsageReporting
	case strings.Contains(ua, "glauth"):
		return AgentGlauthSync
	}
	switch {
	case strings.HasPrefix(path, "/api/marketplace-orders/"):
		return AgentOrderProcessing
	case strings.HasPrefix(path, "/api/marketplace-resources/"), strings.HasPrefix(path, "/api/marketplace-provider-resources/"),
		strings.HasPrefix(path, "/api/marketplace-component-usages/"), strings.HasPrefix(path, "/api/marketplace-component-user-usages/"):
		return AgentUsageReporting
	}
	return AgentUnknown
}
