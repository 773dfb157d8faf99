package deploy

import (
	"testing"

	"github.com/zk-monitor/zk_monitor/config"
)

// TestExampleConfigsLoad loads the path-spec files the deployments ship
// (the compose one, which the image carries too, and the Kubernetes
// ConfigMap's) with zk_monitor's own config package: each is valid and
// draws no warning.
func TestExampleConfigsLoad(t *testing.T) {
	objs := loadKubernetes(t)
	var cmData string
	for _, o := range objs {
		if o.Kind != "Deployment" {
			continue
		}
		var spec deploymentSpec
		decodeSpec(t, o, &spec)
		data, ok := configMapFile(t, objs, spec.Template.Spec, spec.Template.Spec.Containers[0])
		if !ok {
			t.Fatalf("%s: no path-spec file in a ConfigMap", o)
		}
		cmData = data
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{composeConfigFile, readFile(t, composeConfigFile)},
		{"kubernetes ConfigMap", []byte(cmData)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings, err := config.Parse(tt.data, tt.name)
			if err != nil {
				t.Fatalf("invalid: %v", err)
			}
			for _, w := range warnings {
				t.Errorf("warning: %v", w)
			}
			if len(cfg.Paths) == 0 {
				t.Errorf("no paths")
			}
		})
	}
}
