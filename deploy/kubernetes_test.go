package deploy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No Kubernetes cluster is at hand: these tests check the manifests
// statically. Every object has apiVersion, kind and a name, and the names,
// labels and ports that tie the Deployment, Service, ServiceMonitor,
// PodMonitor and ConfigMap together agree.

type k8sObject struct {
	file       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec yaml.Node         `yaml:"spec"`
}

func (o k8sObject) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", o.Kind, o.Metadata.Namespace, o.Metadata.Name, o.file)
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type deploymentSpec struct {
	Replicas *int          `yaml:"replicas"`
	Selector labelSelector `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	ServiceAccountName string `yaml:"serviceAccountName"`
	SecurityContext    struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
		FSGroup      *int  `yaml:"fsGroup"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			Optional    *bool  `yaml:"optional"`
			DefaultMode *int   `yaml:"defaultMode"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		// Port is a number or a port name.
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort string `yaml:"targetPort"`
	} `yaml:"ports"`
}

type monitorSpec struct {
	Selector          labelSelector `yaml:"selector"`
	NamespaceSelector struct {
		MatchNames []string `yaml:"matchNames"`
	} `yaml:"namespaceSelector"`
	Endpoints []struct {
		Port string `yaml:"port"`
		Path string `yaml:"path"`
	} `yaml:"endpoints"`
	PodMetricsEndpoints []struct {
		Port string `yaml:"port"`
		Path string `yaml:"path"`
	} `yaml:"podMetricsEndpoints"`
}

func loadKubernetes(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", kubernetesDir, err)
	}
	var objs []k8sObject
	for _, f := range files {
		docs, err := decodeYAMLDocuments(readFile(t, f))
		if err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		for _, d := range docs {
			o := k8sObject{file: f}
			if err := d.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

func decodeSpec(t *testing.T, o k8sObject, v any) {
	t.Helper()
	if err := o.Spec.Decode(v); err != nil {
		t.Fatalf("%s: spec: %v", o, err)
	}
}

// kubernetesContainers returns the containers of every Deployment.
func kubernetesContainers(t *testing.T) []container {
	t.Helper()
	var cs []container
	for _, o := range loadKubernetes(t) {
		if o.Kind == "Deployment" {
			var spec deploymentSpec
			decodeSpec(t, o, &spec)
			cs = append(cs, spec.Template.Spec.Containers...)
		}
	}
	return cs
}

// selects reports whether every label of selector is in labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesObjects(t *testing.T) {
	objs := loadKubernetes(t)
	namespaces := map[string]bool{}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.Kind]++
		if o.Kind == "Namespace" {
			namespaces[o.Metadata.Name] = true
		}
	}
	for _, o := range objs {
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: apiVersion, kind and metadata.name are required", o)
		}
		if o.Kind != "Namespace" && !namespaces[o.Metadata.Namespace] {
			t.Errorf("%s: namespace %q is not one the manifests create", o, o.Metadata.Namespace)
		}
		if strings.HasSuffix(o.Kind, "Monitor") && o.APIVersion != "monitoring.coreos.com/v1" {
			t.Errorf("%s: apiVersion %s, want monitoring.coreos.com/v1", o, o.APIVersion)
		}
	}
	for _, want := range []string{"ConfigMap", "Deployment", "Service", "ServiceMonitor", "PodMonitor"} {
		if kinds[want] != 1 {
			t.Errorf("%d objects of kind %s, want 1", kinds[want], want)
		}
	}
}

// TestKubernetesConsistency follows the references between the objects:
// Service and monitors to pods and ports, probes to ports, --config.file to
// the ConfigMap.
func TestKubernetesConsistency(t *testing.T) {
	objs := loadKubernetes(t)
	byKind := map[string][]k8sObject{}
	for _, o := range objs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	if len(byKind["Deployment"]) != 1 || len(byKind["Service"]) != 1 {
		t.Fatalf("want one Deployment and one Service")
	}
	deployObj, svcObj := byKind["Deployment"][0], byKind["Service"][0]
	var dep deploymentSpec
	decodeSpec(t, deployObj, &dep)
	pod := dep.Template.Spec
	podLabels := dep.Template.Metadata.Labels

	if dep.Replicas == nil || *dep.Replicas != 3 {
		t.Errorf("%s: want 3 replicas", deployObj)
	}
	if !selects(dep.Selector.MatchLabels, podLabels) {
		t.Errorf("%s: selector %v does not select its pods %v", deployObj, dep.Selector.MatchLabels, podLabels)
	}
	if pod.ServiceAccountName != "" {
		found := false
		for _, o := range byKind["ServiceAccount"] {
			found = found || o.Metadata.Name == pod.ServiceAccountName
		}
		if !found {
			t.Errorf("%s: service account %s is not defined", deployObj, pod.ServiceAccountName)
		}
	}
	// The agent first; a config-reload sidecar may follow
	// (TestKubernetesConfigReload).
	if len(pod.Containers) == 0 || !strings.Contains(pod.Containers[0].Image, "zk_monitor") {
		t.Fatalf("%s: the first container must be zk_monitor", deployObj)
	}
	c := pod.Containers[0]

	// Ports by name and number.
	portNames := map[string]int{}
	portNumbers := map[string]bool{}
	for _, p := range c.Ports {
		portNames[p.Name] = p.ContainerPort
		portNumbers[strconv.Itoa(p.ContainerPort)] = true
	}
	resolves := func(port string) bool { return portNumbers[port] || portNames[port] != 0 }
	if !portNumbers[listenPort(c.Args)] {
		t.Errorf("container listens on %s (--web.listen-address), but declares ports %v", listenPort(c.Args), c.Ports)
	}

	// Probes.
	for _, p := range []struct {
		name, path string
		probe      *probe
	}{
		{"readinessProbe", "/-/ready", c.ReadinessProbe},
		{"livenessProbe", "/-/healthy", c.LivenessProbe},
	} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("container %s: no HTTP %s", c.Name, p.name)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("container %s: %s path %s, want %s", c.Name, p.name, p.probe.HTTPGet.Path, p.path)
		case !resolves(p.probe.HTTPGet.Port):
			t.Errorf("container %s: %s port %s is not a container port", c.Name, p.name, p.probe.HTTPGet.Port)
		}
	}

	// Security and resources.
	if nonRoot := pod.SecurityContext.RunAsNonRoot; (nonRoot == nil || !*nonRoot) && (c.SecurityContext.RunAsNonRoot == nil || !*c.SecurityContext.RunAsNonRoot) {
		t.Errorf("container %s: runAsNonRoot is not set", c.Name)
	}
	if ape := c.SecurityContext.AllowPrivilegeEscalation; ape == nil || *ape {
		t.Errorf("container %s: allowPrivilegeEscalation must be false", c.Name)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("container %s: want cpu and memory requests and a memory limit, have %+v", c.Name, c.Resources)
	}

	// Arguments: ZooKeeper, and the config file from the ConfigMap.
	if _, ok := flagValue(c.Args, "zookeeper"); !ok {
		t.Errorf("container %s: no --zookeeper", c.Name)
	}
	if _, ok := configMapFile(t, objs, pod, c); !ok {
		t.Errorf("container %s: --config.file is not a key of a mounted ConfigMap", c.Name)
	}

	// Service.
	var svc serviceSpec
	decodeSpec(t, svcObj, &svc)
	if !selects(svc.Selector, podLabels) {
		t.Errorf("%s: selector %v does not select the pods %v", svcObj, svc.Selector, podLabels)
	}
	svcPortNames := map[string]bool{}
	for _, p := range svc.Ports {
		svcPortNames[p.Name] = true
		target := p.TargetPort
		if target == "" {
			target = strconv.Itoa(p.Port)
		}
		if !resolves(target) {
			t.Errorf("%s: port %s targets %s, not a container port", svcObj, p.Name, target)
		}
	}

	// Monitors and the disruption budget.
	for _, o := range objs {
		switch o.Kind {
		case "ServiceMonitor":
			var m monitorSpec
			decodeSpec(t, o, &m)
			if !selects(m.Selector.MatchLabels, svcObj.Metadata.Labels) {
				t.Errorf("%s: selector %v does not select %s labels %v", o, m.Selector.MatchLabels, svcObj, svcObj.Metadata.Labels)
			}
			if !contains(m.NamespaceSelector.MatchNames, svcObj.Metadata.Namespace) && svcObj.Metadata.Namespace != o.Metadata.Namespace {
				t.Errorf("%s: does not look in namespace %s", o, svcObj.Metadata.Namespace)
			}
			if len(m.Endpoints) == 0 {
				t.Errorf("%s: no endpoints", o)
			}
			for _, e := range m.Endpoints {
				if !svcPortNames[e.Port] {
					t.Errorf("%s: endpoint port %q is not a port name of %s", o, e.Port, svcObj)
				}
				if e.Path != "" && e.Path != "/metrics" {
					t.Errorf("%s: path %s, zk_monitor serves /metrics", o, e.Path)
				}
			}
		case "PodMonitor":
			var m monitorSpec
			decodeSpec(t, o, &m)
			if !selects(m.Selector.MatchLabels, podLabels) {
				t.Errorf("%s: selector %v does not select the pods %v", o, m.Selector.MatchLabels, podLabels)
			}
			if !contains(m.NamespaceSelector.MatchNames, deployObj.Metadata.Namespace) && deployObj.Metadata.Namespace != o.Metadata.Namespace {
				t.Errorf("%s: does not look in namespace %s", o, deployObj.Metadata.Namespace)
			}
			if len(m.PodMetricsEndpoints) == 0 {
				t.Errorf("%s: no podMetricsEndpoints", o)
			}
			for _, e := range m.PodMetricsEndpoints {
				if portNames[e.Port] == 0 {
					t.Errorf("%s: port %q is not a named container port", o, e.Port)
				}
				if e.Path != "" && e.Path != "/metrics" {
					t.Errorf("%s: path %s, zk_monitor serves /metrics", o, e.Path)
				}
			}
		case "PodDisruptionBudget":
			var pdb struct {
				Selector labelSelector `yaml:"selector"`
			}
			decodeSpec(t, o, &pdb)
			if !selects(pdb.Selector.MatchLabels, podLabels) {
				t.Errorf("%s: selector %v does not select the pods %v", o, pdb.Selector.MatchLabels, podLabels)
			}
		}
	}
}

// configMapFile returns the content of the file --config.file names, taken
// from the ConfigMap mounted there.
func configMapFile(t *testing.T, objs []k8sObject, pod podSpec, c container) (string, bool) {
	t.Helper()
	cf, ok := flagValue(c.Args, "config.file")
	if !ok {
		return "", false
	}
	return mountedConfigMapFile(objs, pod, c, cf)
}

// mountedConfigMapFile returns the content of the file the container sees
// at path, taken from the ConfigMap mounted in its directory.
func mountedConfigMapFile(objs []k8sObject, pod podSpec, c container, path string) (string, bool) {
	for _, m := range c.VolumeMounts {
		if filepath.Dir(path) != filepath.Clean(m.MountPath) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			for _, o := range objs {
				if o.Kind == "ConfigMap" && o.Metadata.Name == v.ConfigMap.Name {
					data, ok := o.Data[filepath.Base(path)]
					return data, ok
				}
			}
		}
	}
	return "", false
}

// agentPod returns the Deployment's pod spec and its zk_monitor container.
func agentPod(t *testing.T) (podSpec, container) {
	t.Helper()
	for _, o := range loadKubernetes(t) {
		if o.Kind == "Deployment" {
			var spec deploymentSpec
			decodeSpec(t, o, &spec)
			if len(spec.Template.Spec.Containers) > 0 {
				return spec.Template.Spec, spec.Template.Spec.Containers[0]
			}
		}
	}
	t.Fatal("no Deployment with containers")
	return podSpec{}, container{}
}

// TestKubernetesImagePinned checks that the agent's image is the release
// of the VERSION file, not a moving tag.
func TestKubernetesImagePinned(t *testing.T) {
	version := strings.TrimSpace(string(readFile(t, repoRoot+"/VERSION")))
	_, c := agentPod(t)
	if _, tag, _ := strings.Cut(c.Image, ":"); tag != "v"+version {
		t.Errorf("image %s: want the tag v%s of the VERSION file", c.Image, version)
	}
	pod, _ := agentPod(t)
	for _, c := range pod.Containers {
		if _, tag, ok := strings.Cut(c.Image, ":"); !ok || tag == "latest" {
			t.Errorf("container %s: image %s has no pinned tag", c.Name, c.Image)
		}
	}
}

// rssRE finds the measured RSS at 100,000 paths in the README's table.
var rssRE = regexp.MustCompile(`(?m)^\| 100,000 paths: heap added / process RSS after sync \| [0-9.]+ MB / ([0-9.]+) MB \|`)

// TestKubernetesMemoryFromREADME checks that the agent's memory request
// covers the RSS the README measured at 100,000 paths, and the limit
// leaves room above it.
func TestKubernetesMemoryFromREADME(t *testing.T) {
	m := rssRE.FindSubmatch(readFile(t, repoRoot+"/README.md"))
	if m == nil {
		t.Fatal("README.md has no measured RSS at 100,000 paths")
	}
	rssMB, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	rss := rssMB * 1e6
	_, c := agentPod(t)
	request, err := quantityBytes(c.Resources.Requests["memory"])
	if err != nil {
		t.Fatal(err)
	}
	limit, err := quantityBytes(c.Resources.Limits["memory"])
	if err != nil {
		t.Fatal(err)
	}
	if request < rss || request > 1.5*rss {
		t.Errorf("memory request %s: want the measured RSS %.0f MB plus a margin (at most 1.5 times)", c.Resources.Requests["memory"], rssMB)
	}
	if limit < 1.5*request {
		t.Errorf("memory limit %s: want room above the request %s for reloads and scrapes", c.Resources.Limits["memory"], c.Resources.Requests["memory"])
	}
}

// quantityBytes parses a Kubernetes memory quantity with a binary or
// decimal suffix.
func quantityBytes(q string) (float64, error) {
	for _, u := range []struct {
		suffix string
		factor float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}} {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			return v * u.factor, err
		}
	}
	return strconv.ParseFloat(q, 64)
}

func TestQuantityBytes(t *testing.T) {
	for q, want := range map[string]float64{"160Mi": 160 << 20, "1Gi": 1 << 30, "500M": 5e8, "1024": 1024} {
		if got, err := quantityBytes(q); err != nil || got != want {
			t.Errorf("quantityBytes(%q) = %v, %v; want %v", q, got, err, want)
		}
	}
	if _, err := quantityBytes("lots"); err == nil {
		t.Error("quantityBytes accepted lots")
	}
}

// TestKubernetesConfigReload checks how a ConfigMap change reaches the
// agent: a sidecar watches the directory the ConfigMap is mounted on and
// POSTs the agent's /-/reload, which --web.enable-lifecycle enables.
func TestKubernetesConfigReload(t *testing.T) {
	pod, agent := agentPod(t)
	if !contains(agent.Args, "--web.enable-lifecycle") {
		t.Errorf("agent args %q lack --web.enable-lifecycle: /-/reload answers 405", agent.Args)
	}
	configFile, _ := flagValue(agent.Args, "config.file")
	var reloader *container
	for i := range pod.Containers[1:] {
		if c := &pod.Containers[1+i]; strings.Contains(c.Image, "configmap-reload") {
			reloader = c
		}
	}
	if reloader == nil {
		t.Fatal("no configmap-reload sidecar")
	}
	dir, _ := flagValue(reloader.Args, "volume-dir")
	if filepath.Join(dir, filepath.Base(configFile)) != configFile {
		t.Errorf("sidecar watches %s, the agent reads %s", dir, configFile)
	}
	mounted := func(c *container) string {
		for _, m := range c.VolumeMounts {
			if m.MountPath == dir {
				return m.Name
			}
		}
		return ""
	}
	if v := mounted(reloader); v == "" || v != mounted(&agent) {
		t.Errorf("sidecar and agent do not mount the same volume on %s", dir)
	}
	want := fmt.Sprintf("http://127.0.0.1:%s/-/reload", listenPort(agent.Args))
	if url, _ := flagValue(reloader.Args, "webhook-url"); url != want {
		t.Errorf("sidecar webhook %q, want %q", url, want)
	}
}
