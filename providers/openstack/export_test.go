package openstack

// SetRunOpenHook makes startAction call f when it meets an open run of the
// action it starts (see runOpenHook); the returned func removes it.
func SetRunOpenHook(f func(workflowID string)) (restore func()) {
	runOpenHook.Store(&f)
	return func() { runOpenHook.Store(nil) }
}
