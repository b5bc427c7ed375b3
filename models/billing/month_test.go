package billing_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/billing"
)

// TestMonthTravelsAsItsString: a Month in a Temporal payload is the
// "YYYY-MM" string that used to be sent, so histories recorded before the
// type replay; the zero Month is "", which meant "the current month".
func TestMonthTravelsAsItsString(t *testing.T) {
	type in struct{ Month billing.Month }
	b, err := json.Marshal(in{Month: billing.Month{Year: 2026, Month: time.March}})
	require.NoError(t, err)
	require.JSONEq(t, `{"Month":"2026-03"}`, string(b))
	b, err = json.Marshal(in{})
	require.NoError(t, err)
	require.JSONEq(t, `{"Month":""}`, string(b))

	var got in
	require.NoError(t, json.Unmarshal([]byte(`{"Month":"2025-12"}`), &got))
	require.Equal(t, billing.Month{Year: 2025, Month: time.December}, got.Month)
	require.NoError(t, json.Unmarshal([]byte(`{"Month":""}`), &got))
	require.True(t, got.Month.IsZero())
	var ms []billing.Month
	require.NoError(t, json.Unmarshal([]byte(`["2026-01","2026-02"]`), &ms))
	require.Equal(t, []billing.Month{{Year: 2026, Month: time.January}, {Year: 2026, Month: time.February}}, ms)

	err = json.Unmarshal([]byte(`{"Month":"2026-13"}`), &got)
	var me *models.Error
	require.ErrorAs(t, err, &me)
	require.Equal(t, models.CodeInvalid, me.Code)
}
