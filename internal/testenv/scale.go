package testenv

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"
)

// ScaleEnv names the environment variable that stretches every timeout of
// the tests at once: ZK_MONITOR_TEST_SCALE=3 gives a slow or loaded machine
// three times as long for everything a test waits for. It never shortens a
// wait (values below 1 count as 1) and it never changes what a test
// asserts, only how long it waits for it.
const ScaleEnv = "ZK_MONITOR_TEST_SCALE"

var scale = sync.OnceValues(func() (float64, error) { return parseScale(os.Getenv(ScaleEnv)) })

// parseScale reads the value of ScaleEnv; unset is 1.
func parseScale(v string) (float64, error) {
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 1) {
		return 1, fmt.Errorf("%s=%q is not a positive number", ScaleEnv, v)
	}
	return max(f, 1), nil
}

// Scaled returns d stretched by the scale knob (ZK_MONITOR_TEST_SCALE).
// Every timeout a test waits for goes through it; intervals of the system
// under test (session timeouts, resend intervals) do not.
func Scaled(d time.Duration) time.Duration {
	f, err := scale()
	if err != nil {
		panic("testenv: " + err.Error())
	}
	return time.Duration(float64(d) * f)
}
