package activities

// Classify makes application errors that a retry cannot change
// non-retryable, as the platform's activities do: for plugins' activities.
func Classify(err error) error { return classify(err) }
