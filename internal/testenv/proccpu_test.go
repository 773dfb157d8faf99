package testenv

import (
	"os"
	"testing"
	"time"
)

func TestParseProcessCPU(t *testing.T) {
	// utime 250 and stime 50 ticks: 3 s.
	const line = "4242 (zk monitor (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 2000000 5000 18446744073709551615"
	if got, err := parseProcessCPU(line); err != nil || got != 3*time.Second {
		t.Fatalf("parseProcessCPU = %v, %v; want 3s", got, err)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2", "4242 (x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 a 50 0"} {
		if _, err := parseProcessCPU(bad); err == nil {
			t.Errorf("parseProcessCPU(%q) succeeded", bad)
		}
	}
	if cpu, err := ProcessCPU(os.Getpid()); err != nil || cpu < 0 {
		t.Fatalf("ProcessCPU(self) = %v, %v", cpu, err)
	}
}
