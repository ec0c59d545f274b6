package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// rendered is one kustomization's output, each object decoded strictly
// into its k8s.io/api type.
type rendered struct {
	Workloads       []workload
	Services        []corev1.Service
	Secrets         map[string]corev1.Secret
	ConfigMaps      map[string]corev1.ConfigMap
	Claims          map[string]bool
	ServiceAccounts map[string]bool
	PDBs            []policyv1.PodDisruptionBudget
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	Policies        []networkingv1.NetworkPolicy
	Ingresses       []networkingv1.Ingress
	Namespaces      []corev1.Namespace
}

// workload is a Deployment or a StatefulSet.
type workload struct {
	Kind, Name string
	Selector   *metav1.LabelSelector
	Pod        corev1.PodTemplateSpec
}

// strict decodes j into v, refusing fields v's type does not have.
func strict(j []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// render runs kustomize on dir of fsys, as `kustomize build` does.
func render(t *testing.T, fsys filesys.FileSystem, dir string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	r := rendered{Secrets: map[string]corev1.Secret{}, ConfigMaps: map[string]corev1.ConfigMap{}, Claims: map[string]bool{}, ServiceAccounts: map[string]bool{}}
	for _, res := range m.Resources() {
		j, err := res.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		kind, name, apiVersion := res.GetKind(), res.GetName(), res.GetApiVersion()
		want := map[string]string{
			"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "Secret": "v1", "ConfigMap": "v1",
			"PersistentVolumeClaim": "v1", "ServiceAccount": "v1", "Namespace": "v1", "PodDisruptionBudget": "policy/v1",
			"HorizontalPodAutoscaler": "autoscaling/v2", "NetworkPolicy": "networking.k8s.io/v1", "Ingress": "networking.k8s.io/v1",
		}[kind]
		if want == "" {
			t.Errorf("%s %s: a kind this test does not validate", kind, name)
			continue
		}
		if apiVersion != want {
			t.Errorf("%s %s: apiVersion %s, want %s", kind, name, apiVersion, want)
		}
		obj := map[string]func() any{
			"Deployment": func() any { return &appsv1.Deployment{} }, "StatefulSet": func() any { return &appsv1.StatefulSet{} },
			"Service": func() any { return &corev1.Service{} }, "Secret": func() any { return &corev1.Secret{} },
			"ConfigMap": func() any { return &corev1.ConfigMap{} }, "PersistentVolumeClaim": func() any { return &corev1.PersistentVolumeClaim{} },
			"ServiceAccount": func() any { return &corev1.ServiceAccount{} }, "Namespace": func() any { return &corev1.Namespace{} },
			"PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} }, "HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
			"NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} }, "Ingress": func() any { return &networkingv1.Ingress{} },
		}[kind]()
		if err := strict(j, obj); err != nil {
			t.Errorf("%s %s does not decode strictly into %T: %v", kind, name, obj, err)
			continue
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.Workloads = append(r.Workloads, workload{kind, o.Name, o.Spec.Selector, o.Spec.Template})
		case *appsv1.StatefulSet:
			r.Workloads = append(r.Workloads, workload{kind, o.Name, o.Spec.Selector, o.Spec.Template})
		case *corev1.Service:
			r.Services = append(r.Services, *o)
		case *corev1.Secret:
			r.Secrets[name] = *o
		case *corev1.ConfigMap:
			r.ConfigMaps[name] = *o
		case *corev1.PersistentVolumeClaim:
			r.Claims[name] = true
		case *corev1.ServiceAccount:
			r.ServiceAccounts[name] = true
		case *corev1.Namespace:
			r.Namespaces = append(r.Namespaces, *o)
		case *policyv1.PodDisruptionBudget:
			r.PDBs = append(r.PDBs, *o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.HPAs = append(r.HPAs, *o)
		case *networkingv1.NetworkPolicy:
			r.Policies = append(r.Policies, *o)
		case *networkingv1.Ingress:
			r.Ingresses = append(r.Ingresses, *o)
		}
	}
	return r
}

// tree copies deploy/k8s into an in-memory file system at the same paths;
// an overlay's secrets.example/ is also written as its secrets/ (what an
// operator writes, gitignored).
func tree(t *testing.T) (filesys.FileSystem, string) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "k8s")
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "secrets") {
			return nil // an operator's real secrets: never read by the test
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := mem.WriteFile(path, data); err != nil {
			return err
		}
		if filepath.Base(filepath.Dir(path)) == "secrets.example" {
			return mem.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(path)), "secrets", filepath.Base(path)), data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mem, dir
}

// binaryOf is the PrivateIM binary a container runs (its image
// privateim/<name> or .../privateim/<name>), or "".
func binaryOf(c corev1.Container, bins map[string]Binary) string {
	image, _, _ := strings.Cut(c.Image, ":")
	name := filepath.Base(image)
	if _, ok := bins[name]; ok && strings.HasSuffix(filepath.Dir(image), "privateim") {
		return name
	}
	return ""
}

// envValue is the value a container's env gives name, else the binary's
// default.
func envValue(c corev1.Container, b Binary, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return b.Settings[name].Default
}

// The base and the production overlay render, every object decodes
// strictly into its API type, and the rules of checkRendered hold.
func TestKustomize(t *testing.T) {
	bins := Binaries(t)
	fsys, dir := tree(t)
	for _, kz := range []struct {
		name       string
		production bool
	}{{"base", false}, {"overlays/production", true}} {
		t.Run(kz.name, func(t *testing.T) {
			r := render(t, fsys, filepath.Join(dir, kz.name))
			checkRendered(t, r, bins, kz.production)
		})
	}
}

func checkRendered(t *testing.T, r rendered, bins map[string]Binary, production bool) {
	shipped := map[string]bool{}
	for _, w := range r.Workloads {
		where := w.Kind + " " + w.Name
		pod := w.Pod.Spec
		sel, err := metav1.LabelSelectorAsSelector(w.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(w.Pod.Labels)) {
			t.Errorf("%s: selector %v does not select its pods %v", where, w.Selector, w.Pod.Labels)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken must be false (no service calls the Kubernetes API)", where)
		}
		if pod.ServiceAccountName == "" || !r.ServiceAccounts[pod.ServiceAccountName] {
			t.Errorf("%s: serviceAccountName %q: want its own ServiceAccount, defined", where, pod.ServiceAccountName)
		}
		if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("%s: pod securityContext must say runAsNonRoot and a non-zero runAsUser", where)
		}
		// Volumes name what exists.
		for _, v := range pod.Volumes {
			switch {
			case v.Secret != nil:
				checkSecretRef(t, r, where, v.Secret.SecretName, "")
			case v.ConfigMap != nil:
				if _, ok := r.ConfigMaps[v.ConfigMap.Name]; !ok {
					t.Errorf("%s: volume %s: no ConfigMap %s", where, v.Name, v.ConfigMap.Name)
				}
			case v.PersistentVolumeClaim != nil:
				if !r.Claims[v.PersistentVolumeClaim.ClaimName] {
					t.Errorf("%s: volume %s: no PersistentVolumeClaim %s", where, v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		for _, c := range pod.Containers {
			where := where + " container " + c.Name
			checkContainer(t, r, where, c)
			bin := binaryOf(c, bins)
			if bin == "" {
				continue
			}
			shipped[bin] = true
			b := bins[bin]
			var names []string
			for _, e := range c.Env {
				names = append(names, e.Name)
			}
			if bad := unknownEnv(b, names); len(bad) > 0 {
				t.Errorf("%s: env %v: not settings of %s", where, bad, bin)
			}
			// The listen ports are the container's ports.
			for env, port := range b.Listens() {
				if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return fmt.Sprint(p.ContainerPort) == port }) && envValue(c, b, env) == b.Settings[env].Default {
					t.Errorf("%s: %s listens on %s, which is not among its ports", where, env, port)
				}
			}
			// Graceful termination: the preStop pause and the service's
			// own shutdown deadline fit in the grace period.
			stop, err := time.ParseDuration(envValue(c, b, "SHUTDOWN_TIMEOUT"))
			if err != nil {
				t.Errorf("%s: SHUTDOWN_TIMEOUT: %v", where, err)
			}
			var pause time.Duration
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				pause = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			}
			grace := 30 * time.Second // the Kubernetes default
			if pod.TerminationGracePeriodSeconds != nil {
				grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
			}
			if grace < pause+stop+5*time.Second {
				t.Errorf("%s: terminationGracePeriodSeconds %s < preStop %s + SHUTDOWN_TIMEOUT %s + 5s: the kubelet would kill it mid-shutdown", where, grace, pause, stop)
			}
			if env := envValue(c, b, "ENV"); production != (env == "production") {
				t.Errorf("%s: ENV=%s in %s", where, env, map[bool]string{true: "the production overlay", false: "the base"}[production])
			}
			if production && (strings.HasSuffix(c.Image, ":dev") || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":")) {
				t.Errorf("%s: image %s: production runs a released tag", where, c.Image)
			}
		}
		// Every workload survives voluntary disruptions one pod at a time.
		pdbs := 0
		for _, p := range r.PDBs {
			if s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector); err == nil && !s.Empty() && s.Matches(labels.Set(w.Pod.Labels)) {
				pdbs++
			}
		}
		if pdbs != 1 {
			t.Errorf("%s: %d PodDisruptionBudgets select its pods, want 1", where, pdbs)
		}
	}
	// The ingress sends each path to a Service port that exists, on the
	// host of the userservice's PUBLIC_URL.
	for _, in := range r.Ingresses {
		for _, rule := range in.Spec.Rules {
			if pub := settingOf(r, bins, "userservice", "PUBLIC_URL"); !strings.HasSuffix(pub, "://"+rule.Host) {
				t.Errorf("Ingress %s: host %s, but the userservice's PUBLIC_URL is %s", in.Name, rule.Host, pub)
			}
			for _, p := range rule.HTTP.Paths {
				be := p.Backend.Service
				if be == nil || !slices.ContainsFunc(r.Services, func(s corev1.Service) bool {
					return s.Name == be.Name && slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == be.Port.Name || sp.Port == be.Port.Number })
				}) {
					t.Errorf("Ingress %s path %s: no such Service port %+v", in.Name, p.Path, be)
				}
			}
		}
	}
	// Chat file URLs the message nodes accept are the userservice's.
	if pub, files := settingOf(r, bins, "userservice", "PUBLIC_URL"), settingOf(r, bins, "messageservice", "FILE_BASE_URL"); files != strings.TrimRight(pub, "/")+"/static/" {
		t.Errorf("messageservice FILE_BASE_URL %q: want the userservice's PUBLIC_URL %q + /static/", files, pub)
	}
	for name := range bins {
		if !shipped[name] {
			t.Errorf("no workload runs %s (image privateim/%s)", name, name)
		}
	}
	for _, h := range r.HPAs {
		ref := h.Spec.ScaleTargetRef
		if !slices.ContainsFunc(r.Workloads, func(w workload) bool { return w.Kind == ref.Kind && w.Name == ref.Name }) {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which does not exist", h.Name, ref.Kind, ref.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			t.Errorf("HorizontalPodAutoscaler %s: minReplicas %v, maxReplicas %d: want 2 <= min <= max", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
	}
	for _, s := range r.Services {
		sel := labels.SelectorFromSet(s.Spec.Selector)
		var target *workload
		for i, w := range r.Workloads {
			if len(s.Spec.Selector) > 0 && sel.Matches(labels.Set(w.Pod.Labels)) {
				target = &r.Workloads[i]
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no workload's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !slices.ContainsFunc(target.Pod.Spec.Containers, func(c corev1.Container) bool {
				return slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
					return cp.Name == p.TargetPort.String() || fmt.Sprint(cp.ContainerPort) == p.TargetPort.String()
				})
			}) {
				t.Errorf("Service %s port %s: targetPort %s is no port of %s", s.Name, p.Name, p.TargetPort.String(), target.Name)
			}
		}
	}
}

func checkContainer(t *testing.T, r rendered, where string, c corev1.Container) {
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: needs a readinessProbe and a livenessProbe", where)
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		if p == nil {
			continue
		}
		var port string
		switch {
		case p.HTTPGet != nil:
			port = p.HTTPGet.Port.String()
		case p.TCPSocket != nil:
			port = p.TCPSocket.Port.String()
		}
		if port != "" && !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == port || fmt.Sprint(cp.ContainerPort) == port }) {
			t.Errorf("%s: a probe asks port %s, which the container does not have", where, port)
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[res]
		lim, okLim := c.Resources.Limits[res]
		if !okReq || !okLim {
			t.Errorf("%s: resources must set requests and limits of %s", where, res)
		} else if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s above its limit %s", where, res, req.String(), lim.String())
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: securityContext must forbid privilege escalation, make the root file system read-only and drop ALL capabilities", where)
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			if secretName.MatchString(e.Name) && e.Value != "" {
				t.Errorf("%s: env %s has its value in the manifest: take it from a Secret", where, e.Name)
			}
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			checkSecretRef(t, r, where+" env "+e.Name, ref.Name, ref.Key)
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			if _, ok := r.ConfigMaps[ref.Name].Data[ref.Key]; !ok {
				t.Errorf("%s env %s: no key %s in ConfigMap %s", where, e.Name, ref.Key, ref.Name)
			}
		}
	}
}

func checkSecretRef(t *testing.T, r rendered, where, name, key string) {
	s, ok := r.Secrets[name]
	if !ok {
		t.Errorf("%s: no Secret %s", where, name)
		return
	}
	if key == "" {
		return
	}
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	if !inData && !inString {
		t.Errorf("%s: Secret %s has no key %s", where, name, key)
	}
}

// settingOf is the value the first container running bin gives env, or
// the binary's default.
func settingOf(r rendered, bins map[string]Binary, bin, env string) string {
	for _, w := range r.Workloads {
		for _, c := range w.Pod.Spec.Containers {
			if binaryOf(c, bins) == bin {
				return envValue(c, bins[bin], env)
			}
		}
	}
	return bins[bin].Settings[env].Default
}
