package providers

// LimitTaker is a provider whose orders carry limits for components that
// are not limit-based (Waldur's available_limits): a SLURM allocation's
// cpu, gpu and ram are billed by usage, and their limits are the
// account's GrpTRESMins.
type LimitTaker interface {
	// AvailableLimits lists the component types whose limits an order of
	// the offering type may carry whatever their billing type.
	AvailableLimits(offeringType string) []string
}

// AvailableLimits returns the component types whose limits orders of the
// offering type may carry besides limit-based ones (nil when its provider
// is not a LimitTaker or the type is unknown).
func (r *Registry) AvailableLimits(offeringType string) []string {
	p, _, err := r.Lookup(offeringType)
	if err != nil {
		return nil
	}
	if lt, ok := p.(LimitTaker); ok {
		return lt.AvailableLimits(offeringType)
	}
	return nil
}
