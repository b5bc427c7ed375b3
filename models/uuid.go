package models

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// UUID is the public identifier of every entity. It renders as 32 lowercase
// hex characters (Waldur's wire form) in JSON, URLs and the database.
// Parsing accepts the hex and the dashed forms and, like Waldur, does not
// check the version or variant bits.
type UUID [16]byte

// NilUUID is the zero UUID; IsZero reports it.
var NilUUID UUID

// NewUUID returns a random (version 4) UUID.
func NewUUID() UUID {
	var u UUID
	if _, err := rand.Read(u[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// ParseUUID accepts "0123…cdef" (32 hex), the dashed 36-character form,
// and the braced or urn: forms google/uuid understands.
func ParseUUID(s string) (UUID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return NilUUID, Errorf(CodeInvalid, "%q is not a valid UUID.", s)
	}
	return UUID(u), nil
}

// MustParseUUID is ParseUUID for constants in tests and presets.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

func (u UUID) String() string { return hex.EncodeToString(u[:]) }

// Dashed renders the canonical 8-4-4-4-12 form (for backends that want it).
func (u UUID) Dashed() string { return uuid.UUID(u).String() }

func (u UUID) IsZero() bool { return u == NilUUID }

func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

func (u *UUID) UnmarshalText(b []byte) error {
	p, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = p
	return nil
}

func (u UUID) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

func (u *UUID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(CodeInvalid, "UUID must be a string.")
	}
	return u.UnmarshalText([]byte(s))
}

// Value stores the UUID as 32 hex characters, the same on every dialect.
func (u UUID) Value() (driver.Value, error) { return u.String(), nil }

func (u *UUID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		return u.UnmarshalText([]byte(v))
	case []byte:
		return u.UnmarshalText(v)
	case nil:
		*u = NilUUID
		return nil
	}
	return fmt.Errorf("cannot scan %T into UUID", src)
}

// GormDataType makes GORM declare the column as a fixed-width string.
func (UUID) GormDataType() string { return "char(32)" }
