package providers_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/providers"
)

type payload struct {
	Error  string            `json:"error,omitempty"`
	Name   string            `json:"name"`
	Size   int64             `json:"size,omitempty"`
	Taken  time.Time         `json:"taken"`
	Items  []string          `json:"items,omitempty"`
	Nested map[string]string `json:"nested,omitempty"`
}

func TestPayloadRoundTrip(t *testing.T) {
	in := payload{Name: "vm", Size: 1<<60 + 1, Taken: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		Items: []string{"a", "b"}, Nested: map[string]string{"k": "v"}}
	raw, err := providers.Encode(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"vm","size":1152921504606846977,"taken":"2024-05-01T12:00:00Z","items":["a","b"],"nested":{"k":"v"}}`, string(raw))
	require.Equal(t, raw, providers.MustEncode(in))

	out, err := providers.Decode[payload](raw)
	require.NoError(t, err)
	require.Equal(t, in, out, "int64 beyond float64's precision survives")

	// Through a carrier marshalled as Temporal's JSON payloads are.
	type carrier struct{ Resolved json.RawMessage }
	wire, err := json.Marshal(carrier{Resolved: raw})
	require.NoError(t, err)
	var back carrier
	require.NoError(t, json.Unmarshal(wire, &back))
	out, err = providers.Decode[payload](back.Resolved)
	require.NoError(t, err)
	require.Equal(t, in, out)

	ptr, err := providers.Decode[*payload](raw)
	require.NoError(t, err)
	require.Equal(t, in, *ptr)
}

func TestPayloadEmpty(t *testing.T) {
	// A nil payload travels as null, as the maps it replaces did.
	wire, err := json.Marshal(struct{ Pulled json.RawMessage }{})
	require.NoError(t, err)
	require.Equal(t, `{"Pulled":null}`, string(wire))
	var back struct{ Pulled json.RawMessage }
	require.NoError(t, json.Unmarshal(wire, &back))

	for _, raw := range []json.RawMessage{nil, {}, json.RawMessage("null"), json.RawMessage(" \n"), back.Pulled} {
		out, err := providers.Decode[payload](raw)
		require.NoError(t, err, "%q", raw)
		require.Zero(t, out, "%q", raw)
		ptr, err := providers.Decode[*payload](raw)
		require.NoError(t, err)
		require.Nil(t, ptr)
	}
}

func TestPayloadMalformed(t *testing.T) {
	for _, raw := range []string{`{"name":`, `{"name":42}`, `[1,2]`, `"text"`, `{"items":"a"}`} {
		_, err := providers.Decode[payload](json.RawMessage(raw))
		require.Error(t, err, "%s", raw)
	}
	_, err := providers.Encode(math.NaN())
	require.Error(t, err)
	_, err = providers.Encode(make(chan int))
	require.Error(t, err)
	require.Panics(t, func() { providers.MustEncode(func() {}) })
}
