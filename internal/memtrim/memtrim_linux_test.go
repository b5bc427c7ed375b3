//go:build linux

package memtrim

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// written lives in .data/.bss: a writable mapping ReleaseStartupPages must
// leave alone.
var written = map[string]int{}

func rssFileKB(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseStartupPages: the binary's resident read-only pages leave the
// RSS, and the process runs on (code and data fault back in) with what it
// wrote intact.
func TestReleaseStartupPages(t *testing.T) {
	for i := range 1000 {
		written[fmt.Sprint("k", i)] = i
	}
	before := rssFileKB(t)
	released, err := ReleaseStartupPages()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFileKB(t)
	if released <= 0 {
		t.Fatalf("released %d bytes of mappings", released)
	}
	if after >= before {
		t.Fatalf("RssFile %d kB before, %d kB after: nothing left the RSS", before, after)
	}
	t.Logf("RssFile %d kB -> %d kB (%d MB of mappings)", before, after, released>>20)
	for i := range 1000 {
		if written[fmt.Sprint("k", i)] != i {
			t.Fatalf("written[k%d] = %d after the release", i, written[fmt.Sprint("k", i)])
		}
	}
	// Twice is harmless.
	if _, err := ReleaseStartupPages(); err != nil {
		t.Fatal(err)
	}
}
