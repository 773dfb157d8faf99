package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const (
	promBinary = "prometheus"
	// Stretched by the scale knob.
	promStartTimeout = 30 * time.Second
)

// Prometheus is a real Prometheus server (Debian's prometheus) listening on
// 127.0.0.1 with its TSDB in a temporary directory.
type Prometheus struct {
	port   int
	proc   *process
	client *http.Client
}

// PromAlert is one active alert of GET /api/v1/alerts.
type PromAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // "pending" or "firing"
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// PromSample is one element of an instant query's vector result.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// PromRuleGroup is one rule group of GET /api/v1/rules.
type PromRuleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

// StartPrometheus writes configYAML and starts Prometheus on a free port,
// and waits until GET /-/ready answers 200. Paths in the configuration
// (rule_files) should be absolute: the configuration is written to a
// temporary directory.
func StartPrometheus(t testing.TB, configYAML string) *Prometheus {
	t.Helper()
	bin := RequireBinary(t, promBinary)
	dir := t.TempDir()
	p := &Prometheus{
		port:   FreePort(t),
		client: &http.Client{Timeout: Scaled(httpTimeout), Transport: &http.Transport{DisableKeepAlives: true}},
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o644); err != nil {
		t.Fatalf("testenv: writing %s: %v", cfgPath, err)
	}
	p.proc = newProcess(t, "prometheus", filepath.Join(dir, "prometheus.log"), bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(p.port),
		"--web.external-url="+p.URL(),
	)
	p.proc.dir = dir
	if err := p.proc.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := waitHTTPReady(p.proc, p.client, p.URL()+"/-/ready", Scaled(promStartTimeout)); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return p
}

// URL returns the base URL, "http://127.0.0.1:PORT".
func (p *Prometheus) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// Alerts returns the pending and firing alerts (GET /api/v1/alerts).
func (p *Prometheus) Alerts(ctx context.Context) ([]PromAlert, error) {
	var data struct {
		Alerts []PromAlert `json:"alerts"`
	}
	if err := p.api(ctx, "/api/v1/alerts", nil, &data); err != nil {
		return nil, err
	}
	return data.Alerts, nil
}

// Query evaluates an instant query now; only vector results are accepted.
func (p *Prometheus) Query(ctx context.Context, expr string) ([]PromSample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.api(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %q, want vector", expr, data.ResultType)
	}
	samples := make([]PromSample, len(data.Result))
	for i, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", expr, r.Value[1], err)
		}
		samples[i] = PromSample{Metric: r.Metric, Value: v}
	}
	return samples, nil
}

// RuleGroups returns the loaded rule groups (GET /api/v1/rules).
func (p *Prometheus) RuleGroups(ctx context.Context) ([]PromRuleGroup, error) {
	var data struct {
		Groups []PromRuleGroup `json:"groups"`
	}
	if err := p.api(ctx, "/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	return data.Groups, nil
}

// api GETs an HTTP API endpoint and decodes its data into v.
func (p *Prometheus) api(ctx context.Context, path string, query url.Values, v any) error {
	body, err := p.get(ctx, path, query)
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", path, err)
	}
	if resp.Status != "success" {
		return fmt.Errorf("GET %s: status %q: %s", path, resp.Status, resp.Error)
	}
	if err := json.Unmarshal(resp.Data, v); err != nil {
		return fmt.Errorf("GET %s: decoding data: %w", path, err)
	}
	return nil
}

func (p *Prometheus) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	u := p.URL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return request(ctx, p.client, http.MethodGet, u, nil, http.StatusOK)
}
