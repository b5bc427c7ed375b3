package database

import "testing"

func TestParseLSN(t *testing.T) {
	for in, want := range map[string]uint64{"0/0": 0, "0/79000000": 0x79000000, "16/B374D848": 0x16<<32 | 0xB374D848} {
		if got, err := parseLSN(in); err != nil || got != want {
			t.Errorf("%s: %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "79000000", "x/1", "1/100000000"} {
		if _, err := parseLSN(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}
