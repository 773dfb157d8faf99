package cluster

import (
	"encoding/json"
	"fmt"
	"time"
)

// registration is the JSON stored in <workspace>/agents/<agent>. "pid" and
// "created" (local time, "YYYY-mm-dd HH:MM:SS") have the shape the original
// Python zkmonitor wrote; the rest is new.
type registration struct {
	Agent     string `json:"agent"`
	PID       int    `json:"pid"`
	Created   string `json:"created"`
	StartedAt string `json:"started_at"` // RFC 3339
	Version   string `json:"version"`
	WebURL    string `json:"web_url"`
}

func newRegistration(agent string, pid int, started time.Time, version, webURL string) registration {
	return registration{
		Agent:     agent,
		PID:       pid,
		Created:   started.Local().Format("2006-01-02 15:04:05"),
		StartedAt: started.Format(time.RFC3339),
		Version:   version,
		WebURL:    webURL,
	}
}

func (r registration) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding agent registration: %w", err)
	}
	return b, nil
}
