package models

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// OfferingUserState is the state of a user's account on an offering's
// backend (Waldur's OfferingUserStates), rendered as its display name.
type OfferingUserState string

const (
	OfferingUserRequested                   OfferingUserState = "Requested"
	OfferingUserCreating                    OfferingUserState = "Creating"
	OfferingUserPendingAccountLinking       OfferingUserState = "Pending account linking"
	OfferingUserPendingAdditionalValidation OfferingUserState = "Pending additional validation"
	OfferingUserOK                          OfferingUserState = "OK"
	OfferingUserRequestedDeletion           OfferingUserState = "Requested deletion"
	OfferingUserDeleting                    OfferingUserState = "Deleting"
	OfferingUserDeleted                     OfferingUserState = "Deleted"
	OfferingUserErrorCreating               OfferingUserState = "Error creating"
	OfferingUserErrorDeleting               OfferingUserState = "Error deleting"
)

// OfferingUserStates lists every state, in Waldur's order.
var OfferingUserStates = []OfferingUserState{
	OfferingUserRequested, OfferingUserCreating, OfferingUserPendingAccountLinking,
	OfferingUserPendingAdditionalValidation, OfferingUserOK, OfferingUserRequestedDeletion,
	OfferingUserDeleting, OfferingUserDeleted, OfferingUserErrorCreating, OfferingUserErrorDeleting,
}

// Valid reports whether s is one of the states.
func (s OfferingUserState) Valid() bool {
	for _, x := range OfferingUserStates {
		if x == s {
			return true
		}
	}
	return false
}

// Offering user actions: the state-changing endpoints of
// /api/marketplace-offering-users/{uuid}/<action>/.
const (
	OUBeginCreating                  = "begin_creating"
	OUSetOK                          = "set_ok"
	OUSetPendingAdditionalValidation = "set_pending_additional_validation"
	OUSetPendingAccountLinking       = "set_pending_account_linking"
	OUSetValidationComplete          = "set_validation_complete"
	OURequestDeletion                = "request_deletion"
	OUSetDeleting                    = "set_deleting"
	OUSetDeleted                     = "set_deleted"
	OUSetErrorCreating               = "set_error_creating"
	OUSetErrorDeleting               = "set_error_deleting"
)

// offeringUserMoves is the transition table of Waldur's OfferingUser FSM:
// action → the states it may start from → the state it leads to.
var offeringUserMoves = map[string]struct {
	from []OfferingUserState
	to   OfferingUserState
}{
	OUBeginCreating: {[]OfferingUserState{OfferingUserRequested, OfferingUserErrorCreating}, OfferingUserCreating},
	OUSetOK: {[]OfferingUserState{OfferingUserRequested, OfferingUserCreating, OfferingUserPendingAccountLinking,
		OfferingUserPendingAdditionalValidation, OfferingUserErrorCreating, OfferingUserErrorDeleting,
		OfferingUserRequestedDeletion, OfferingUserDeleting}, OfferingUserOK},
	OUSetPendingAdditionalValidation: {[]OfferingUserState{OfferingUserCreating, OfferingUserErrorCreating,
		OfferingUserPendingAccountLinking}, OfferingUserPendingAdditionalValidation},
	OUSetPendingAccountLinking: {[]OfferingUserState{OfferingUserCreating, OfferingUserErrorCreating,
		OfferingUserPendingAdditionalValidation}, OfferingUserPendingAccountLinking},
	OUSetValidationComplete: {[]OfferingUserState{OfferingUserPendingAdditionalValidation, OfferingUserPendingAccountLinking},
		OfferingUserOK},
	OURequestDeletion: {[]OfferingUserState{OfferingUserOK, OfferingUserCreating, OfferingUserPendingAccountLinking,
		OfferingUserPendingAdditionalValidation, OfferingUserErrorCreating}, OfferingUserRequestedDeletion},
	OUSetDeleting:      {[]OfferingUserState{OfferingUserRequestedDeletion, OfferingUserErrorDeleting}, OfferingUserDeleting},
	OUSetDeleted:       {[]OfferingUserState{OfferingUserRequested, OfferingUserDeleting}, OfferingUserDeleted},
	OUSetErrorCreating: {[]OfferingUserState{OfferingUserRequested, OfferingUserCreating, OfferingUserPendingAccountLinking, OfferingUserPendingAdditionalValidation}, OfferingUserErrorCreating},
	OUSetErrorDeleting: {[]OfferingUserState{OfferingUserRequestedDeletion, OfferingUserDeleting}, OfferingUserErrorDeleting},
}

// OfferingUserActions lists the actions in a stable order (routes, tests).
var OfferingUserActions = []string{
	OUBeginCreating, OUSetOK, OUSetPendingAdditionalValidation, OUSetPendingAccountLinking, OUSetValidationComplete,
	OURequestDeletion, OUSetDeleting, OUSetDeleted, OUSetErrorCreating, OUSetErrorDeleting,
}

// OfferingUserTransition returns the state an offering user in state from
// moves to on action. A move the table does not allow is a conflict naming
// the valid states (Waldur's 409); an unknown action is invalid.
func OfferingUserTransition(action string, from OfferingUserState) (OfferingUserState, error) {
	m, ok := offeringUserMoves[action]
	if !ok {
		return from, Errorf(CodeInvalid, "Unknown offering user action %q.", action)
	}
	for _, s := range m.from {
		if s == from {
			return m.to, nil
		}
	}
	names := make([]string, len(m.from))
	for i, s := range m.from {
		names[i] = string(s)
	}
	return from, Errorf(CodeConflict, "Valid states for operation: %s.", strings.Join(names, ", "))
}

// OfferingUserActionTakesComment reports whether the action records the service provider's
// comment and comment URL (the two pending states).
func OfferingUserActionTakesComment(action string) bool {
	return action == OUSetPendingAccountLinking || action == OUSetPendingAdditionalValidation
}

// OfferingUserActionClearsComment reports whether the action clears the
// service provider's comment (validation complete).
func OfferingUserActionClearsComment(action string) bool { return action == OUSetValidationComplete }

// UsernameCompletes reports whether setting a (new, non-empty) username on an
// offering user in state s makes it OK: Waldur's OfferingUser.save moves a
// user still being created to OK once its username is known.
func UsernameCompletes(s OfferingUserState) bool {
	switch s {
	case OfferingUserRequested, OfferingUserCreating, OfferingUserPendingAccountLinking,
		OfferingUserPendingAdditionalValidation, OfferingUserErrorCreating:
		return true
	}
	return false
}

// OfferingUser is a user's account on an offering's backend: the username
// the provider's site knows them by and the account's state.
type OfferingUser struct {
	ID                        int64
	UUID                      UUID
	OfferingID                int64
	UserID                    int64
	Username                  string
	State                     OfferingUserState
	IsRestricted              bool
	ServiceProviderComment    string
	ServiceProviderCommentURL string
	Created                   time.Time
	Modified                  time.Time
}

// UsernamePolicy is how an offering names its users' accounts
// (plugin_options.username_generation_policy).
type UsernamePolicy string

const (
	// UsernameServiceProvider: the provider sets usernames itself (the default).
	UsernameServiceProvider UsernamePolicy = "service_provider"
	// UsernameAnonymized: <prefix><5-digit number>, numbered per offering.
	UsernameAnonymized UsernamePolicy = "anonymized"
	// UsernameFullName: <first>_<last>_<2-digit number>, sanitized.
	UsernameFullName UsernamePolicy = "full_name"
	// UsernameWaldur: the user's Waldur username.
	UsernameWaldur UsernamePolicy = "waldur_username"
	// UsernameFreeIPA: the user's FreeIPA profile username. This build keeps
	// no FreeIPA profiles, so it generates no username (as Waldur does for a
	// user without a profile).
	UsernameFreeIPA UsernamePolicy = "freeipa"
)

// DefaultAnonymizedPrefix is the prefix of anonymized usernames when the
// offering names none (plugin_options.username_anonymized_prefix).
const DefaultAnonymizedPrefix = "walduruser_"

// Digits of the running number of generated usernames (Waldur's
// USERNAME_ANONYMIZED_POSTFIX_LENGTH and USERNAME_POSTFIX_LENGTH).
const (
	anonymizedDigits = 5
	fullNameDigits   = 2
)

// UsernameOptions reads the username settings of an offering's plugin
// options: the policy (service_provider when absent or unknown) and the
// anonymized prefix.
func UsernameOptions(pluginOptions map[string]any) (UsernamePolicy, string) {
	policy := UsernameServiceProvider
	if s, ok := pluginOptions["username_generation_policy"].(string); ok {
		switch p := UsernamePolicy(s); p {
		case UsernameServiceProvider, UsernameAnonymized, UsernameFullName, UsernameWaldur, UsernameFreeIPA:
			policy = p
		}
	}
	prefix := DefaultAnonymizedPrefix
	if s, ok := pluginOptions["username_anonymized_prefix"].(string); ok && s != "" {
		prefix = s
	}
	return policy, prefix
}

// UsernameStem is the part of a generated username before its running
// number ("" when the policy numbers nothing): the anonymized prefix, or
// "<first>_<last>" for full_name.
func UsernameStem(policy UsernamePolicy, prefix string, u *User) string {
	switch policy {
	case UsernameAnonymized:
		return prefix
	case UsernameFullName:
		return SanitizeName(u.FirstName) + "_" + SanitizeName(u.LastName) + "_"
	}
	return ""
}

// GenerateUsername names u's account on an offering under policy. taken
// holds the offering's existing usernames that start with
// UsernameStem(policy, prefix, u) (case-insensitively); the generated
// name continues after the highest number among them, as Waldur numbers
// them. service_provider and freeipa generate "" (the provider sets it).
func GenerateUsername(policy UsernamePolicy, prefix string, u *User, taken []string) string {
	switch policy {
	case UsernameWaldur:
		return u.Username
	case UsernameAnonymized:
		return prefix + nextNumber(prefix, taken, anonymizedDigits)
	case UsernameFullName:
		stem := UsernameStem(policy, prefix, u)
		return stem + nextNumber(stem, taken, fullNameDigits)
	}
	return ""
}

// nextNumber is one more than the highest running number among taken names
// of the form <stem><digits>, zero-padded to width; "0…0" when there is none.
func nextNumber(stem string, taken []string, width int) string {
	next := 0
	for _, t := range taken {
		if len(t) < len(stem) || !strings.EqualFold(t[:len(stem)], stem) {
			continue
		}
		n, err := strconv.Atoi(t[len(stem):])
		if err != nil || n < 0 {
			continue
		}
		next = max(next, n+1)
	}
	return fmt.Sprintf("%0*d", width, next)
}

var (
	spaceRun   = regexp.MustCompile(`\s+`)
	nonWordRun = regexp.MustCompile(`[^\p{L}\p{N}_]+`)
)

// SanitizeName turns a name into a username part: trimmed, lowercased,
// whitespace runs as "_", other non-word characters dropped, accents
// removed and anything left outside ASCII dropped ("José María" →
// "jose_maria"), as Waldur's sanitize_name.
func SanitizeName(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	s = spaceRun.ReplaceAllString(s, "_")
	s = nonWordRun.ReplaceAllString(s, "")
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if r < unicode.MaxASCII && !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
