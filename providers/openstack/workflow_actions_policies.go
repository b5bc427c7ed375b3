package openstack

import "go.temporal.io/sdk/workflow"

// ActionPolicies are the options of the actions' activities: DB for the
// database steps (core queue), Cloud for RunAction (openstack queue; its
// HeartbeatTimeout is how soon a killed worker's action is retried
// elsewhere).
type ActionPolicies struct {
	DB, Cloud workflow.ActivityOptions
}

// DefaultActionPolicies are the production options.
func DefaultActionPolicies() ActionPolicies { return defaultActionPolicies }

var defaultActionPolicies = ActionPolicies{DB: actionPolicies.DB, Cloud: actionPolicies.Cloud}

// SetActionPolicies replaces the options (tests shorten them); the
// workflows started afterwards in this process use them.
func SetActionPolicies(p ActionPolicies) {
	actionPolicies.DB, actionPolicies.Cloud = p.DB, p.Cloud
}
