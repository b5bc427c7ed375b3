package openstack

import "time"

// SetRunOpenHook makes startAction call f when it meets an open run of the
// action it starts (see runOpenHook); the returned func removes it.
func SetRunOpenHook(f func(workflowID string)) (restore func()) {
	runOpenHook.Store(&f)
	return func() { runOpenHook.Store(nil) }
}

// SetMigrationPoll sets how often a migration reads its destination's
// state; the returned func restores it.
func SetMigrationPoll(d time.Duration) (restore func()) {
	old := migrationPolicies.Poll
	migrationPolicies.Poll = d
	return func() { migrationPolicies.Poll = old }
}
