package cluster

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRegistrationJSON(t *testing.T) {
	started := time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC)
	b, err := newRegistration("host-42", 42, started, "1.2.3", "http://host:8080/").encode()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"agent":      "host-42",
		"pid":        float64(42),
		"created":    started.Local().Format("2006-01-02 15:04:05"),
		"started_at": "2024-03-05T07:08:09Z",
		"version":    "1.2.3",
		"web_url":    "http://host:8080/",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("registration has %d fields, want %d: %s", len(got), len(want), b)
	}
}
