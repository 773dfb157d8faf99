package testenv

import (
	"context"
	"testing"
	"time"
)

// AlertsWith returns the alerts Alertmanager holds whose labels include
// every label of match. A failed request is logged and returns none, for
// tests that poll until what they wait for shows.
func (a *Alertmanager) AlertsWith(tb testing.TB, match map[string]string) []AMAlert {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Scaled(5*time.Second))
	defer cancel()
	alerts, err := a.Alerts(ctx)
	if err != nil {
		tb.Logf("listing alerts: %v", err)
		return nil
	}
	var out []AMAlert
next:
	for _, al := range alerts {
		for name, value := range match {
			if al.Labels[name] != value {
				continue next
			}
		}
		out = append(out, al)
	}
	return out
}
