// Command httpload keeps N clients sending GET requests to the given URLs
// (round robin, with a token) for a while, then prints how many answered,
// how many failed and the latency percentiles. scripts/bench-serve.sh uses
// it to load `waldur serve` before reading its memory.
//
//	httpload -c 50 -d 60s -token KEY http://127.0.0.1:8080/api/projects/ …
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	clients := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", time.Minute, "how long to send")
	token := flag.String("token", "", "API token (Authorization: Token …)")
	flag.Parse()
	urls := flag.Args()
	if len(urls) == 0 {
		fmt.Fprintln(os.Stderr, "httpload: no URL given")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: *clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		failed int
		wg     sync.WaitGroup
	)
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for n := i; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls[n%len(urls)], nil)
				if *token != "" {
					req.Header.Set("Authorization", "Token "+*token)
				}
				start := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat, failed = append(lat, mine...), failed+bad
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("httpload: %d clients, %s: %d answered (%.0f/s), %d failed, p50 %s, p99 %s\n", *clients, *dur, len(lat),
		float64(len(lat))/dur.Seconds(), failed, pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	if failed > 0 {
		os.Exit(1)
	}
}
