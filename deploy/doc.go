// Package deploy holds no code: it is the home of zk_monitor's operations
// files (Prometheus scrape configuration and rules, the Grafana dashboard,
// the systemd unit, docker-compose and Kubernetes manifests, and, in
// deploy/alertmanager, the Alertmanager configuration) and of the tests that
// check them with the tool that owns each format (promtool, systemd-analyze)
// or, where no such tool runs on a build machine (Docker, Kubernetes,
// Grafana), statically: every file parses, and the images, ports, paths,
// flags and metric names they mention agree with each other and with what
// zk_monitor really serves. The root Dockerfile is checked here too.
package deploy

//go:generate go run ./mixin/cmd/generate
