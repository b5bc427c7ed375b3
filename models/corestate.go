package models

// CoreState is the state of a plugin resource (a cloud's tenant, instance,
// volume, network, ...): Waldur's CoreStates.
type CoreState string

const (
	CoreCreationScheduled CoreState = "CREATION_SCHEDULED"
	CoreCreating          CoreState = "CREATING"
	CoreUpdateScheduled   CoreState = "UPDATE_SCHEDULED"
	CoreUpdating          CoreState = "UPDATING"
	CoreDeletionScheduled CoreState = "DELETION_SCHEDULED"
	CoreDeleting          CoreState = "DELETING"
	CoreOK                CoreState = "OK"
	CoreErred             CoreState = "ERRED"
)

// CoreStates lists every state, in the OpenAPI enum's order.
var CoreStates = []CoreState{CoreCreationScheduled, CoreCreating, CoreUpdateScheduled, CoreUpdating,
	CoreDeletionScheduled, CoreDeleting, CoreOK, CoreErred}

// coreMoves are the allowed transitions (Waldur's StateMixin FSM):
// schedule_creating → begin_creating → set_ok; schedule_updating →
// begin_updating → set_ok; schedule_deleting → begin_deleting (then the
// row goes); set_erred from anywhere; recover (ERRED → OK) after a pull.
var coreMoves = map[CoreState][]CoreState{
	CoreCreationScheduled: {CoreCreating, CoreOK},
	CoreCreating:          {CoreOK},
	CoreUpdateScheduled:   {CoreUpdating, CoreOK},
	CoreUpdating:          {CoreOK},
	CoreDeletionScheduled: {CoreDeleting, CoreOK},
	CoreDeleting:          {CoreOK},
	CoreOK:                {CoreUpdateScheduled, CoreUpdating, CoreDeletionScheduled, CoreDeleting},
	CoreErred:             {CoreOK, CoreUpdateScheduled, CoreUpdating, CoreDeletionScheduled, CoreDeleting},
}

// CoreTransition checks a move of a plugin resource. Erred is reachable
// from every state; staying in a state is allowed (a retried step).
// Codes: conflict.
func CoreTransition(from, to CoreState) error {
	if from == to || to == CoreErred {
		return nil
	}
	for _, s := range coreMoves[from] {
		if s == to {
			return nil
		}
	}
	return Errorf(CodeConflict, "Cannot move from %s to %s.", from, to)
}
