package store

import (
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestFingerprintIsStable: stored items carry fingerprints, so the hash of
// an item must never change (else every item would be rewritten once): it
// equals the formula it was first written with, fmt's "%s\x00" per field.
func TestFingerprintIsStable(t *testing.T) {
	first := func(it *InvoiceItem) string {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", it.Name, it.Start.UTC().Format(time.RFC3339Nano),
			it.End.UTC().Format(time.RFC3339Nano), it.Unit, it.UnitPrice.String(), it.Quantity.String(), it.Price.String(), it.MeasuredUnit,
			it.ArticleCode, it.ProjectName)
		h.Write(it.Details)
		return fmt.Sprintf("%016x", h.Sum64())
	}
	east := time.FixedZone("UTC+5", 5*3600)
	items := []InvoiceItem{
		{},
		{Name: "vm 1 (Cloud / Monthly) / Cores", Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			End: time.Date(2026, 3, 31, 23, 59, 59, 999999000, time.UTC), Unit: "month", UnitPrice: decimal.RequireFromString("3"),
			Quantity: decimal.RequireFromString("4.5000"), Price: decimal.RequireFromString("13.50"), MeasuredUnit: "GB",
			ArticleCode: "a%sb", ProjectName: "päivä \x00 ✓", Details: RawJSON(`{"resource_name":"vm 1"}`)},
		{Name: "%d %s", Start: time.Date(2024, 3, 10, 14, 0, 0, 123, east), End: time.Date(2024, 3, 25, 12, 0, 0, 0, east),
			Unit: "half_month", UnitPrice: decimal.RequireFromString("-0.0000000001"), Quantity: decimal.RequireFromString("1e3"),
			Price: decimal.New(-5, -2)},
	}
	for i := range items {
		require.Equal(t, first(&items[i]), fingerprint(&items[i]), "item %d", i)
	}
	require.Equal(t, "60b918f4c4201e27", fingerprint(&items[1]))
}
