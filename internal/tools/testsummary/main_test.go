package main

import (
	"bytes"
	"strings"
	"testing"
)

// A stream as `go test -json` writes it: a passing test, two skipped for
// one reason and one for another, a failing subtest, a build failure.
const stream = `{"Action":"run","Package":"github.com/waldur-go/waldur/a","Test":"TestOK"}
{"Action":"output","Package":"github.com/waldur-go/waldur/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"github.com/waldur-go/waldur/a","Test":"TestOK","Output":"    a_test.go:9: chatter\n"}
{"Action":"pass","Package":"github.com/waldur-go/waldur/a","Test":"TestOK"}
{"Action":"output","Package":"github.com/waldur-go/waldur/a","Test":"TestPG/postgres","Output":"    dbtest.go:93: WALDUR_TEST_DATABASE_URL is not set\n"}
{"Action":"output","Package":"github.com/waldur-go/waldur/a","Test":"TestPG/postgres","Output":"--- SKIP: TestPG/postgres (0.00s)\n"}
{"Action":"skip","Package":"github.com/waldur-go/waldur/a","Test":"TestPG/postgres"}
{"Action":"output","Package":"github.com/waldur-go/waldur/b","Test":"TestQ/postgres","Output":"    dbtest.go:93: WALDUR_TEST_DATABASE_URL is not set\n"}
{"Action":"skip","Package":"github.com/waldur-go/waldur/b","Test":"TestQ/postgres"}
{"Action":"output","Package":"github.com/waldur-go/waldur/b","Test":"TestSlurm","Output":"    app_test.go:49: sacctmgr is not installed\n"}
{"Action":"skip","Package":"github.com/waldur-go/waldur/b","Test":"TestSlurm"}
{"Action":"output","Package":"github.com/waldur-go/waldur/b","Test":"TestBad/case","Output":"    b_test.go:20: want 1, got 2\n"}
{"Action":"fail","Package":"github.com/waldur-go/waldur/b","Test":"TestBad/case"}
{"Action":"fail","Package":"github.com/waldur-go/waldur/b","Test":"TestBad"}
{"Action":"output","Package":"github.com/waldur-go/waldur/a","Output":"ok  \tgithub.com/waldur-go/waldur/a\t0.1s\n"}
{"Action":"pass","Package":"github.com/waldur-go/waldur/a"}
{"Action":"output","Package":"github.com/waldur-go/waldur/b","Output":"FAIL\tgithub.com/waldur-go/waldur/b\t0.2s\n"}
{"Action":"fail","Package":"github.com/waldur-go/waldur/b"}
`

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	failed, err := run(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("a failed test must fail the run")
	}
	got := out.String()
	for _, want := range []string{
		"ok  \tgithub.com/waldur-go/waldur/a\t0.1s\n",
		"FAIL\tgithub.com/waldur-go/waldur/b\t0.2s\n",
		"    b_test.go:20: want 1, got 2\n",
		"3 of 6 tests skipped, by reason:\n",
		"     2  WALDUR_TEST_DATABASE_URL is not set\n        a.TestPG/postgres, b.TestQ/postgres\n",
		"     1  sacctmgr is not installed\n        b.TestSlurm\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "chatter") {
		t.Errorf("a passing test's output is not printed:\n%s", got)
	}
}

func TestSummaryPasses(t *testing.T) {
	var out bytes.Buffer
	failed, err := run(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"), &out)
	if err != nil || failed {
		t.Fatalf("failed=%v err=%v", failed, err)
	}
	if !strings.Contains(out.String(), "1 tests ran, none skipped.") {
		t.Errorf("got %q", out.String())
	}
}
