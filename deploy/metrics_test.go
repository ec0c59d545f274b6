package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The scraper of docs/operations.md: pods labelled
// app.kubernetes.io/name=prometheus in the namespace named prometheus.
var (
	scraperNamespace = map[string]string{"kubernetes.io/metadata.name": "prometheus"}
	scraperPod       = map[string]string{"app.kubernetes.io/name": "prometheus"}
)

// adminPaths is what a pod labelled privateim.io/role=admin (imctl) may
// reach: the userservice's and the message nodes' gRPC, where the Admin
// services are.
var adminPaths = []string{"admin -> messageservice:9091", "admin -> userservice:9092"}

// deploy/k8s: every service's METRICS_ADDR is a container port named
// metrics, which the pod's prometheus.io annotations name and a Service
// carries; the scraper (namespace prometheus, pod label prometheus)
// reaches that port of each service and no other, a scraper-labelled pod
// of another namespace none. The admin certificate is a Secret no service
// mounts, and an admin-labelled pod reaches exactly adminPaths.
func TestKustomizeMetricsAndAdmin(t *testing.T) {
	bins := Binaries(t)
	fsys, dir := tree(t)
	for _, kz := range []string{"base", "overlays/production"} {
		t.Run(kz, func(t *testing.T) {
			r := render(t, fsys, filepath.Join(dir, kz))
			for _, w := range r.Workloads {
				where := w.Kind + " " + w.Name
				for _, c := range w.Pod.Spec.Containers {
					bin := binaryOf(c, bins)
					if bin == "" {
						continue
					}
					checkMetrics(t, r, where, w, c, bins[bin])
				}
				for _, v := range w.Pod.Spec.Volumes {
					if v.Secret != nil && strings.HasPrefix(v.Secret.SecretName, "admin-cert") {
						t.Errorf("%s mounts the admin certificate: only an admin pod may", where)
					}
				}
			}

			// The generator's name, with kustomize's content hash.
			var s corev1.Secret
			for name, sec := range r.Secrets {
				if name == "admin-cert" || strings.HasPrefix(name, "admin-cert-") {
					s = sec
				}
			}
			if s.Name == "" {
				t.Errorf("no Secret admin-cert")
			}
			for _, key := range []string{"ca.pem", "cert.pem", "key.pem"} {
				if _, ok := s.Data[key]; !ok {
					t.Errorf("Secret admin-cert has no key %s", key)
				}
			}
			admin := workload{Kind: "Pod", Name: "admin", Pod: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"privateim.io/role": "admin"}}}}
			var got []string
			for _, dst := range r.Workloads {
				for _, c := range dst.Pod.Spec.Containers {
					for _, p := range c.Ports {
						if allowed(r.Policies, networkingv1.PolicyTypeEgress, admin, dst, p) && allowed(r.Policies, networkingv1.PolicyTypeIngress, dst, admin, p) {
							got = append(got, fmt.Sprintf("admin -> %s:%d", dst.Name, p.ContainerPort))
						}
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, adminPaths) {
				t.Errorf("an admin pod reaches %v, want %v", got, adminPaths)
			}
		})
	}
}

func checkMetrics(t *testing.T, r rendered, where string, w workload, c corev1.Container, b Binary) {
	t.Helper()
	where += " container " + c.Name
	addr := envValue(c, b, "METRICS_ADDR")
	_, port, ok := strings.Cut(addr, ":")
	if !ok || strings.Contains(port, ":") {
		t.Errorf("%s: METRICS_ADDR %q: want \":<port>\" (metrics on in the shipped manifests)", where, addr)
		return
	}
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" })
	if i < 0 || fmt.Sprint(c.Ports[i].ContainerPort) != port {
		t.Errorf("%s: no container port named metrics on %s (METRICS_ADDR)", where, port)
		return
	}
	metrics := c.Ports[i]
	if a := w.Pod.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("%s: pod annotations %v: want prometheus.io/scrape \"true\", port %q, path /metrics", where, a, port)
	}
	if !slices.ContainsFunc(r.Services, func(s corev1.Service) bool {
		return len(s.Spec.Selector) > 0 && selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, w.Pod.Labels) &&
			slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == "metrics" && sp.TargetPort.String() == "metrics" })
	}) {
		t.Errorf("%s: no Service of its pods has a port metrics -> metrics", where)
	}
	for _, p := range c.Ports {
		want := p == metrics
		if got := ingressFrom(r.Policies, w, scraperNamespace, scraperPod, p); got != want {
			t.Errorf("%s: the scraper reaches port %s (%d): %v, want %v", where, p.Name, p.ContainerPort, got, want)
		}
		if ingressFrom(r.Policies, w, map[string]string{"kubernetes.io/metadata.name": "elsewhere"}, scraperPod, p) {
			t.Errorf("%s: a prometheus-labelled pod of another namespace reaches port %s", where, p.Name)
		}
	}
}

// ingressFrom reports whether the policies selecting self admit a pod with
// podLabels in a namespace with nsLabels on port (a pod no Ingress policy
// selects admits everyone). Only namespaceSelector peers match another
// namespace's pod.
func ingressFrom(policies []networkingv1.NetworkPolicy, self workload, nsLabels, podLabels map[string]string, port corev1.ContainerPort) bool {
	isolated := false
	for _, p := range policies {
		if !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !selects(&p.Spec.PodSelector, self.Pod.Labels) {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if !portsMatch(rule.Ports, port) {
				continue
			}
			if len(rule.From) == 0 {
				return true
			}
			for _, peer := range rule.From {
				if peer.NamespaceSelector != nil && selects(peer.NamespaceSelector, nsLabels) && (peer.PodSelector == nil || selects(peer.PodSelector, podLabels)) {
					return true
				}
			}
		}
	}
	return !isolated
}

// deploy/compose: every PrivateIM service sets METRICS_ADDR and is a
// target of prometheus.yml's job named after its binary (the job names
// deploy/prometheus/alerts.yml expects) on that port; the prometheus
// service mounts prometheus.yml and the alert rules it loads, grafana the
// dashboard; imctl reaches the userservice and a message node on the
// host's loopback with the admin certificate setup.sh writes.
func TestComposeMetricsAndAdmin(t *testing.T) {
	root := repoRoot(t)
	bins := Binaries(t)
	dir := filepath.Join(root, "deploy", "compose")
	c, _ := readCompose(t, dir)
	promData, err := os.ReadFile(filepath.Join(dir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(promData, &prom); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	targets := map[string][]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], st.Targets...)
		}
	}
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		bin := strings.TrimSuffix(filepath.Base(s.Build.Dockerfile), ".Dockerfile")
		if _, ok := bins[bin]; !ok {
			continue // TestCompose says so
		}
		_, port, ok := strings.Cut(s.Environment["METRICS_ADDR"], ":")
		if !ok || port == "" {
			t.Errorf("%s: METRICS_ADDR %q: want \":<port>\"", name, s.Environment["METRICS_ADDR"])
			continue
		}
		if !slices.Contains(targets[bin], name+":"+port) {
			t.Errorf("prometheus.yml: job %s does not scrape %s:%s (%s's METRICS_ADDR)", bin, name, port, name)
		}
		for _, p := range s.Ports {
			if strings.HasSuffix(p, ":"+port) {
				t.Errorf("%s: publishes its metrics port (%s): only Prometheus on the compose network reads it", name, p)
			}
		}
	}
	mounts := func(service, src, dst string) {
		t.Helper()
		if !slices.Contains(c.Services[service].Volumes, src+":"+dst+":ro") {
			t.Errorf("%s: does not mount %s read-only at %s", service, src, dst)
		}
	}
	mounts("prometheus", "./prometheus.yml", "/etc/prometheus/prometheus.yml")
	mounts("prometheus", "../prometheus/alerts.yml", "/etc/prometheus/alerts.yml")
	if !slices.Contains(prom.RuleFiles, "/etc/prometheus/alerts.yml") {
		t.Errorf("prometheus.yml: rule_files %v does not load /etc/prometheus/alerts.yml", prom.RuleFiles)
	}
	mounts("grafana", "../grafana/privateim.json", "/var/lib/grafana/dashboards/privateim.json")
	for _, f := range []string{"prometheus/alerts.yml", "grafana/privateim.json"} {
		if _, err := os.Stat(filepath.Join(root, "deploy", f)); err != nil {
			t.Error(err)
		}
	}

	// imctl's defaults (docs/operations.md, imctl): the userservice and a
	// message node on the host's loopback, certs/admin.pem from certgen.
	for service, p := range map[string]string{"userservice": "127.0.0.1:9092:9092", "messageservice-1": "127.0.0.1:9091:9091"} {
		if !slices.Contains(c.Services[service].Ports, p) {
			t.Errorf("%s: ports %v: want %s for imctl", service, c.Services[service].Ports, p)
		}
	}
	setup, err := os.ReadFile(filepath.Join(dir, "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if !strings.Contains(string(setup), "hosts="+host) && !strings.Contains(string(setup), ","+host+",") {
			t.Errorf("setup.sh: the certificates do not name %s, which imctl dials", host)
		}
	}
}
