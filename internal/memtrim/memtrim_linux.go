//go:build linux

// Package memtrim hands back to the kernel the pages of the process's own
// binary that only start-up needed.
//
// A Go binary of this size maps its code (.text), read-only data (.rodata)
// and tables (.gopclntab) from the executable file. Start-up (every
// package's init, the embedded Temporal server's and the UI server's set
// up, the schema, the first requests) touches most of them once, and the
// kernel maps 64 KiB around each touched page; they stay in the process's
// RSS for its whole life though the running process uses a fraction of
// them. ReleaseStartupPages unmaps (MADV_DONTNEED) the resident pages of
// the executable's read-only mappings: they are clean file pages, stay in
// the page cache, and a page used again is mapped back on its next touch
// (a minor fault, no disk read while the page cache keeps it). Writable
// mappings (.data, .bss, the heap) are never touched: dropping them would
// lose their contents.
package memtrim

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseStartupPages unmaps the resident pages of the executable's
// read-only mappings and returns how many bytes of mappings it released.
func ReleaseStartupPages() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var released int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-049ab000 r-xp 00000000 fd:01 1234 /path/to/exe
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe {
			continue
		}
		perms := fields[1]
		if len(perms) < 4 || perms[1] == 'w' || perms[3] != 'p' {
			continue // writable (its pages may hold writes) or shared
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED); errno != 0 {
			return released, fmt.Errorf("memtrim: madvise %s: %w", fields[0], errno)
		}
		released += int64(end - start)
	}
	return released, sc.Err()
}
