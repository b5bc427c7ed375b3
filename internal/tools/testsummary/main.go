// Command testsummary reads `go test -json` on stdin and prints what a plain
// `go test` prints (a line per package; the output of failing tests, and of
// a package that failed outside any test), then a summary of every skipped
// test grouped by the reason it gave, so that a test skipped for want of a
// backing service (PostgreSQL, Slurm, bubblewrap, moto) is never silent.
// It exits 1 when a test, a package or a build failed.
//
//	go test -json ./... | go run ./internal/tools/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of test2json's output (go doc test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

type key struct{ pkg, test string }

// summary accumulates the stream.
type summary struct {
	out     io.Writer
	buf     map[key][]string // output of running tests (and of each package outside tests)
	skipped map[string][]string
	failed  bool
	tests   int
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, buf: map[key][]string{}, skipped: map[string][]string{}}
}

func (s *summary) add(e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "build-fail":
		s.failed = true
	case "output":
		if e.Test == "" && isPackageLine(e.Output) {
			fmt.Fprint(s.out, e.Output)
			return
		}
		s.buf[k] = append(s.buf[k], e.Output)
	case "pass":
		if e.Test != "" {
			s.tests++
		}
		delete(s.buf, k)
	case "skip":
		if e.Test != "" {
			s.tests++
			s.skipped[reason(s.buf[k])] = append(s.skipped[reason(s.buf[k])], shortPkg(e.Package)+"."+e.Test)
		}
		delete(s.buf, k)
	case "fail":
		// A failed test's own lines (a failing subtest's parent prints
		// its own), or a package's lines outside its tests (a panic, a
		// timeout, TestMain).
		s.failed = true
		if e.Test != "" {
			s.tests++
		}
		for _, line := range s.buf[k] {
			fmt.Fprint(s.out, line)
		}
		delete(s.buf, k)
	}
}

// isPackageLine: the lines plain `go test` prints for a package.
func isPackageLine(line string) bool {
	for _, p := range []string{"ok ", "ok\t", "FAIL\t", "FAIL ", "?   \t"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// reason is the last line a skipped test wrote before its "--- SKIP" line:
// what it passed to t.Skip.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		// "file_test.go:30: message": keep the message.
		return location.ReplaceAllString(l, "")
	}
	return "(no reason given)"
}

// location is the "file.go:line: " that testing puts before a message.
var location = regexp.MustCompile(`^\S+\.go:\d+: `)

func shortPkg(p string) string {
	const mod = "github.com/waldur-go/waldur/"
	return strings.TrimPrefix(p, mod)
}

func (s *summary) report() {
	if len(s.skipped) == 0 {
		fmt.Fprintf(s.out, "\n%d tests ran, none skipped.\n", s.tests)
		return
	}
	n := 0
	reasons := make([]string, 0, len(s.skipped))
	for r, ts := range s.skipped {
		n += len(ts)
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if a, b := len(s.skipped[reasons[i]]), len(s.skipped[reasons[j]]); a != b {
			return a > b
		}
		return reasons[i] < reasons[j]
	})
	fmt.Fprintf(s.out, "\n%d of %d tests skipped, by reason:\n", n, s.tests)
	for _, r := range reasons {
		ts := s.skipped[r]
		sort.Strings(ts)
		shown := ts
		if len(shown) > 4 {
			shown = shown[:4]
		}
		more := ""
		if len(ts) > len(shown) {
			more = fmt.Sprintf(", … %d more", len(ts)-len(shown))
		}
		fmt.Fprintf(s.out, "  %4d  %s\n        %s%s\n", len(ts), r, strings.Join(shown, ", "), more)
	}
}

func run(in io.Reader, out io.Writer) (failed bool, err error) {
	s := newSummary(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not an event: go test's own message
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	s.report()
	return s.failed, nil
}

func main() {
	failed, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}
