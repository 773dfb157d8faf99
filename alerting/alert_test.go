package alerting

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/zk-monitor/zk_monitor/config"
)

func TestBuildAlert(t *testing.T) {
	const msg = "Found children (0) less than minimum (1)"
	b := alertBuilder{cluster: "prod", agent: "host1-42"}
	for _, tc := range []struct {
		name            string
		spec            config.PathSpec
		wantLabels      map[string]string
		wantAnnotations map[string]string
		wantInvalid     []string
	}{
		{
			name: "no alerter",
			spec: config.PathSpec{Path: "/services/foo/min_3"},
			wantLabels: map[string]string{
				"alertname": "ZnodeNotCompliant", "path": "/services/foo/min_3", "cluster": "prod", "severity": "warning",
			},
			wantAnnotations: map[string]string{
				"summary": msg, "description": "/services/foo/min_3 is in the Error state.", "agent": "host1-42",
			},
		},
		{
			name: "everything set",
			spec: config.PathSpec{
				Path: "/x",
				Alerter: config.Alerter{
					Email:        []string{"a@example.com", "b@example.com"},
					SlackChannel: "#ops",
					HipChatRoom:  "Ops Room",
				},
				Labels:     map[string]string{"team": "storage"},
				Severity:   "critical",
				Summary:    "Too few brokers",
				RunbookURL: "https://runbooks.example.com/zk",
			},
			wantLabels: map[string]string{
				"alertname": "ZnodeNotCompliant", "path": "/x", "cluster": "prod", "severity": "critical",
				"email": "a@example.com,b@example.com", "slack_channel": "#ops", "hipchat_room": "Ops Room", "team": "storage",
			},
			wantAnnotations: map[string]string{
				"summary": "Too few brokers", "description": "/x is in the Error state.", "agent": "host1-42",
				"runbook_url": "https://runbooks.example.com/zk",
			},
		},
		{
			name: "extra labels cannot replace the identity",
			spec: config.PathSpec{
				Path:   "/x",
				Labels: map[string]string{"alertname": "Other", "path": "/y", "cluster": "dev", "severity": "info"},
			},
			wantLabels: map[string]string{
				"alertname": "ZnodeNotCompliant", "path": "/x", "cluster": "prod", "severity": "info",
			},
			wantAnnotations: map[string]string{
				"summary": msg, "description": "/x is in the Error state.", "agent": "host1-42",
			},
		},
		{
			name: "invalid labels are dropped, empty ones left out",
			spec: config.PathSpec{
				Path: "/x",
				Labels: map[string]string{
					"bad-name": "v", "0digit": "v", "dotted.name": "v", "bad_value": "\xff\xfe", "empty": "", "good_1": "v",
					"équipe": "v", // a valid UTF-8 name that Alertmanager 0.25 refuses
				},
			},
			wantLabels: map[string]string{
				"alertname": "ZnodeNotCompliant", "path": "/x", "cluster": "prod", "severity": "warning", "good_1": "v",
			},
			wantAnnotations: map[string]string{
				"summary": msg, "description": "/x is in the Error state.", "agent": "host1-42",
			},
			wantInvalid: []string{"0digit", "bad-name", "bad_value", "dotted.name", "équipe"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, invalid := b.build(tc.spec, msg, t0)
			if !maps.Equal(a.labels, tc.wantLabels) {
				t.Errorf("labels = %v, want %v", a.labels, tc.wantLabels)
			}
			if !maps.Equal(a.annotations, tc.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", a.annotations, tc.wantAnnotations)
			}
			var names []string
			for _, l := range invalid {
				names = append(names, l.name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.wantInvalid) {
				t.Errorf("invalid = %q, want %q", names, tc.wantInvalid)
			}
			if !a.firing() || !a.startsAt.Equal(t0) {
				t.Errorf("want a firing alert starting at %v, got %+v", t0, a)
			}
		})
	}
}

func TestBuildAlertFingerprintIgnoresAgent(t *testing.T) {
	spec := config.PathSpec{Path: "/x", Alerter: config.Alerter{Email: []string{"a@example.com"}}}
	a1, _ := alertBuilder{cluster: "prod", agent: "host1-1"}.build(spec, "m1", t0)
	a2, _ := alertBuilder{cluster: "prod", agent: "host2-2"}.build(spec, "m2", t0.Add(time.Hour))
	if a1.fingerprint != a2.fingerprint {
		t.Fatal("alerts of the same path from two agents have different fingerprints")
	}
}

func TestPostableWireFormat(t *testing.T) {
	firing, _ := alertBuilder{cluster: "prod", agent: "h"}.build(config.PathSpec{Path: "/x"}, "m", t0)
	resolved := firing.resolvedAt(t0.Add(time.Minute))
	ends := t0.Add(4 * time.Minute)
	body, err := json.Marshal(postable([]*alert{firing, resolved}, ends, "http://agent:8080/status"))
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if len(got) != 2 {
		t.Fatalf("got %d alerts in %s", len(got), body)
	}
	for i, want := range []time.Time{ends, t0.Add(time.Minute)} {
		g := got[i]
		if !g.StartsAt.Equal(t0) || !g.EndsAt.Equal(want) {
			t.Errorf("alert %d: startsAt %v endsAt %v, want %v and %v", i, g.StartsAt, g.EndsAt, t0, want)
		}
		if g.GeneratorURL != "http://agent:8080/status" || g.Labels["path"] != "/x" || g.Annotations["summary"] != "m" {
			t.Errorf("alert %d: %+v", i, g)
		}
	}
}
