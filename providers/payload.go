package providers

import (
	"bytes"
	"encoding/json"
)

// A plugin's private payloads (Request.Resolved, Result.Pulled,
// ImportedResource.Pulled) travel through the core opaquely, as the JSON
// of the plugin's own type: the plugin renders them with Encode (or
// MustEncode) and reads them back with Decode. The core never looks inside.

// Encode renders a plugin's typed payload for Request.Resolved,
// Result.Pulled or ImportedResource.Pulled: the JSON v marshals to.
func Encode(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(raw), nil
}

// MustEncode is Encode for values that cannot fail to marshal (plain
// structs of strings, numbers, slices and times); it panics otherwise.
func MustEncode(v any) json.RawMessage {
	raw, err := Encode(v)
	if err != nil {
		panic("providers: payload does not marshal: " + err.Error())
	}
	return raw
}

// Decode reads a payload back into the plugin's type T; an empty or null
// payload (nothing was sent) is T's zero value.
func Decode[T any](raw json.RawMessage) (T, error) {
	var out T
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, nil
	}
	err := json.Unmarshal(raw, &out)
	return out, err
}
