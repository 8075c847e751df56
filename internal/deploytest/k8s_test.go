package deploytest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/consort-ml/consort/internal/wire"
)

// scaledObject is KEDA's ScaledObject (keda.sh/v1alpha1), the fields
// deploy/ uses; decoding is strict, so anything else is an error.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// kustomization is the part of kustomize's Kustomization deploy/ uses.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	Patches            []struct {
		Path   string `json:"path,omitempty"`
		Patch  string `json:"patch,omitempty"`
		Target *struct {
			Group string `json:"group,omitempty"`
			Kind  string `json:"kind,omitempty"`
			Name  string `json:"name,omitempty"`
		} `json:"target,omitempty"`
	} `json:"patches,omitempty"`
}

type generator struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

// keys maps each generated key to its file (key=file or file).
func (g generator) keys() map[string]string {
	m := map[string]string{}
	for _, f := range g.Files {
		k, file, ok := strings.Cut(f, "=")
		if !ok {
			k, file = filepath.Base(f), f
		}
		m[k] = file
	}
	return m
}

// manifests is a set of decoded objects plus the ConfigMaps and Secrets
// they may reference, by name, with their keys.
type manifests struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	pdbs         []*policyv1.PodDisruptionBudget
	policies     []*networkingv1.NetworkPolicy
	scaled       []*scaledObject
	pvcs         []*corev1.PersistentVolumeClaim
	namespaces   []*corev1.Namespace
	configMaps   map[string]map[string]string // name → key → content
	secrets      map[string]map[string]bool   // name → keys
}

func newManifests() *manifests {
	return &manifests{configMaps: map[string]map[string]string{}, secrets: map[string]map[string]bool{}}
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decode strictly decodes every document of a YAML stream into its typed
// object and adds it to m.
func (m *manifests) decode(where string, src []byte) error {
	for i, doc := range docSep.Split(string(src), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return fmt.Errorf("%s document %d: %w", where, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			obj = &corev1.Namespace{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "policy/v1 PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = &networkingv1.NetworkPolicy{}
		case "keda.sh/v1alpha1 ScaledObject":
			obj = &scaledObject{}
		default:
			return fmt.Errorf("%s document %d: unexpected %s %s", where, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return fmt.Errorf("%s document %d (%s): %w", where, i+1, tm.Kind, err)
		}
		switch o := obj.(type) {
		case *corev1.Namespace:
			m.namespaces = append(m.namespaces, o)
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o.Data
		case *corev1.Secret:
			keys := map[string]bool{}
			for k := range o.Data {
				keys[k] = true
			}
			for k := range o.StringData {
				keys[k] = true
			}
			m.secrets[o.Name] = keys
		case *corev1.Service:
			m.services = append(m.services, o)
		case *corev1.PersistentVolumeClaim:
			m.pvcs = append(m.pvcs, o)
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *appsv1.StatefulSet:
			m.statefulSets = append(m.statefulSets, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *networkingv1.NetworkPolicy:
			m.policies = append(m.policies, o)
		case *scaledObject:
			m.scaled = append(m.scaled, o)
		}
	}
	return nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// workload is a Deployment or StatefulSet, reduced to what the checks use.
type workload struct {
	kind, name string
	replicas   int32
	selector   *metav1.LabelSelector
	pod        *corev1.PodTemplateSpec
	// claims names a StatefulSet's volume claim templates.
	claims []string
}

func (m *manifests) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{kind: "Deployment", name: d.Name, replicas: ptrOr(d.Spec.Replicas, 1), selector: d.Spec.Selector, pod: &d.Spec.Template})
	}
	for _, s := range m.statefulSets {
		w := workload{kind: "StatefulSet", name: s.Name, replicas: ptrOr(s.Spec.Replicas, 1), selector: s.Spec.Selector, pod: &s.Spec.Template}
		for _, c := range s.Spec.VolumeClaimTemplates {
			w.claims = append(w.claims, c.Name)
		}
		ws = append(ws, w)
	}
	return ws
}

func ptrOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}

// selecting returns the workloads whose pods sel selects.
func (m *manifests) selecting(t *testing.T, where string, sel *metav1.LabelSelector) []workload {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: selector: %v", where, err)
		return nil
	}
	var out []workload
	for _, w := range m.workloads() {
		if s.Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// containerPort resolves a named or numbered port on a pod.
func containerPort(pod *corev1.PodTemplateSpec, p intstr.IntOrString) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// check runs every cross-reference check on m.
func (m *manifests) check(t *testing.T) {
	t.Helper()
	ws := m.workloads()
	if len(ws) != 4 {
		t.Fatalf("%d workloads, want etcd, nats, the coordinators and the workers", len(ws))
	}
	byName := map[string]workload{}
	for _, w := range ws {
		byName[w.name] = w
	}

	t.Run("selectors", func(t *testing.T) {
		for _, w := range ws {
			s, err := metav1.LabelSelectorAsSelector(w.selector)
			if err != nil || s.Empty() || !s.Matches(labels.Set(w.pod.Labels)) {
				t.Errorf("%s %s: selector %v does not select its own pods %v (%v)", w.kind, w.name, w.selector, w.pod.Labels, err)
			}
			for _, o := range ws {
				if o.name != w.name && s.Matches(labels.Set(o.pod.Labels)) {
					t.Errorf("%s %s: selector also selects the pods of %s", w.kind, w.name, o.name)
				}
			}
		}
		for _, svc := range m.services {
			sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
			hits := m.selecting(t, "Service "+svc.Name, sel)
			if len(hits) == 0 {
				t.Errorf("Service %s selects no pods", svc.Name)
			}
			for _, p := range svc.Spec.Ports {
				for _, w := range hits {
					if _, ok := containerPort(w.pod, p.TargetPort); !ok {
						t.Errorf("Service %s port %s: target %s is no port of %s", svc.Name, p.Name, p.TargetPort.String(), w.name)
					}
				}
			}
		}
		for _, s := range m.statefulSets {
			var headless *corev1.Service
			for _, svc := range m.services {
				if svc.Name == s.Spec.ServiceName {
					headless = svc
				}
			}
			if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
				t.Errorf("StatefulSet %s: serviceName %s is not a headless Service publishing unready pods", s.Name, s.Spec.ServiceName)
			}
		}
		for _, p := range m.pdbs {
			hits := m.selecting(t, "PodDisruptionBudget "+p.Name, p.Spec.Selector)
			if len(hits) != 1 {
				t.Errorf("PodDisruptionBudget %s selects %d workloads", p.Name, len(hits))
				continue
			}
			if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() >= int(hits[0].replicas) {
				t.Errorf("PodDisruptionBudget %s: minAvailable %v with %d replicas blocks every disruption", p.Name, p.Spec.MinAvailable, hits[0].replicas)
			}
		}
		for _, name := range []string{"etcd", "nats", "consort-coordinator"} {
			found := false
			for _, p := range m.pdbs {
				for _, w := range m.selecting(t, p.Name, p.Spec.Selector) {
					found = found || w.name == name
				}
			}
			if !found {
				t.Errorf("no PodDisruptionBudget covers %s", name)
			}
		}
	})

	t.Run("pods", func(t *testing.T) {
		for _, w := range ws {
			where := w.kind + " " + w.name
			ps := w.pod.Spec
			if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Errorf("%s: pod does not run as non-root", where)
			}
			if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
				t.Errorf("%s: mounts a service account token it does not use", where)
			}
			vols := map[string]corev1.Volume{}
			for _, c := range w.claims {
				vols[c] = corev1.Volume{Name: c}
			}
			for _, v := range ps.Volumes {
				vols[v.Name] = v
				switch {
				case v.Secret != nil:
					if m.secrets[v.Secret.SecretName] == nil {
						t.Errorf("%s: volume %s: Secret %s is not in the kustomization", where, v.Name, v.Secret.SecretName)
					}
				case v.ConfigMap != nil:
					if m.configMaps[v.ConfigMap.Name] == nil {
						t.Errorf("%s: volume %s: ConfigMap %s is not in the kustomization", where, v.Name, v.ConfigMap.Name)
					}
				case v.PersistentVolumeClaim != nil:
					if !slices.ContainsFunc(m.pvcs, func(p *corev1.PersistentVolumeClaim) bool { return p.Name == v.PersistentVolumeClaim.ClaimName }) {
						t.Errorf("%s: volume %s: PersistentVolumeClaim %s is not in the kustomization", where, v.Name, v.PersistentVolumeClaim.ClaimName)
					}
				}
			}
			for _, c := range ps.Containers {
				where := where + " container " + c.Name
				sc := c.SecurityContext
				if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
					sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
					t.Errorf("%s: want a read-only root filesystem, no privilege escalation, all capabilities dropped", where)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s: want CPU and memory requests and a memory limit", where)
				}
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: want liveness and readiness probes", where)
				}
				for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
					if p != nil && p.HTTPGet != nil {
						if _, ok := containerPort(w.pod, p.HTTPGet.Port); !ok {
							t.Errorf("%s: probe port %s is no container port", where, p.HTTPGet.Port.String())
						}
					}
				}
				for _, vm := range c.VolumeMounts {
					if _, ok := vols[vm.Name]; !ok {
						t.Errorf("%s: mounts unknown volume %s", where, vm.Name)
					}
				}
				for _, ef := range c.EnvFrom {
					if ef.ConfigMapRef != nil && m.configMaps[ef.ConfigMapRef.Name] == nil {
						t.Errorf("%s: envFrom ConfigMap %s is not in the kustomization", where, ef.ConfigMapRef.Name)
					}
					if ef.SecretRef != nil && m.secrets[ef.SecretRef.Name] == nil {
						t.Errorf("%s: envFrom Secret %s is not in the kustomization", where, ef.SecretRef.Name)
					}
				}
				for _, e := range c.Env {
					if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !m.secrets[r.SecretKeyRef.Name][r.SecretKeyRef.Key] {
						t.Errorf("%s: env %s: Secret %s has no key %s", where, e.Name, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
					}
				}
			}
		}
	})

	t.Run("consort", func(t *testing.T) {
		for _, name := range []string{"consort-coordinator", "consort-worker"} {
			w, ok := byName[name]
			if !ok {
				t.Fatalf("no Deployment %s", name)
			}
			m.checkConsortPod(t, w)
		}
		co := byName["consort-coordinator"]
		if co.replicas != 2 {
			t.Errorf("consort-coordinator: %d replicas, want 2 (leader and standby)", co.replicas)
		}
		if r := argValue(co.pod.Spec.Containers[0].Args, "replicas"); r != strconv.Itoa(int(byName["nats"].replicas)) {
			t.Errorf("consort-coordinator --replicas=%s, but NATS has %d servers", r, byName["nats"].replicas)
		}
		wk := byName["consort-worker"].pod.Spec.Containers[0]
		conc, _ := strconv.Atoi(argValue(wk.Args, "concurrency"))
		if cpu := wk.Resources.Requests.Cpu().MilliValue(); conc <= 0 || int64(conc)*1000 != cpu {
			t.Errorf("consort-worker: --concurrency=%d with a CPU request of %dm: want one trial per requested core", conc, cpu)
		}
	})

	t.Run("etcd", func(t *testing.T) {
		w := byName["etcd"]
		c := w.pod.Spec.Containers[0]
		var want []string
		for i := range int(w.replicas) {
			want = append(want, fmt.Sprintf("etcd-%d=https://etcd-%d.etcd-headless:2380", i, i))
		}
		if got := strings.Split(argValue(c.Args, "initial-cluster"), ","); !slices.Equal(got, want) {
			t.Errorf("etcd --initial-cluster %v, want %v", got, want)
		}
		for _, f := range []string{"client-cert-auth", "peer-client-cert-auth"} {
			if !slices.Contains(c.Args, "--"+f) {
				t.Errorf("etcd: no --%s", f)
			}
		}
		for _, a := range c.Args {
			if strings.Contains(a, "-urls=") && !strings.Contains(a, "metrics") && !strings.Contains(a, "https://") {
				t.Errorf("etcd: %s is not TLS", a)
			}
			if strings.HasSuffix(strings.SplitN(a, "=", 2)[0], "-file") {
				m.checkMountedFile(t, "etcd "+a, w.pod, c, strings.SplitN(a, "=", 2)[1])
			}
		}
	})

	t.Run("nats", func(t *testing.T) {
		w := byName["nats"]
		c := w.pod.Spec.Containers[0]
		conf := ""
		for _, v := range w.pod.Spec.Volumes {
			if v.ConfigMap != nil {
				conf = m.configMaps[v.ConfigMap.Name]["nats.conf"]
			}
		}
		if conf == "" {
			t.Fatal("nats: no ConfigMap with nats.conf mounted")
		}
		var routes, want []string
		for _, r := range regexp.MustCompile(`nats-route://([a-z0-9.-]+):6222`).FindAllStringSubmatch(conf, -1) {
			routes = append(routes, r[1])
		}
		for i := range int(w.replicas) {
			want = append(want, fmt.Sprintf("nats-%d.%s", i, byName["nats"].name+"-headless"))
		}
		if !slices.Equal(routes, want) {
			t.Errorf("nats.conf routes %v, want %v", routes, want)
		}
		for _, f := range regexp.MustCompile(`(?:cert|key|ca)_file:\s*"([^"]+)"`).FindAllStringSubmatch(conf, -1) {
			m.checkMountedFile(t, "nats.conf "+f[0], w.pod, c, f[1])
		}
		if !strings.Contains(conf, "verify_and_map: true") || !strings.Contains(conf, "verify: true") {
			t.Error("nats.conf: client certificates not required for clients and routes")
		}
		if !regexp.MustCompile(`(?m)^https: 8222$`).MatchString(conf) {
			t.Error("nats.conf: monitoring is not on HTTPS port 8222")
		}
		if certs := certsOrEmpty(t); certs != "" {
			tmp := t.TempDir()
			for k, file := range map[string]string{"tls.crt": "nats.crt", "tls.key": "nats.key", "ca.crt": "ca.crt"} {
				if err := os.Symlink(filepath.Join(certs, file), filepath.Join(tmp, k)); err != nil {
					t.Fatal(err)
				}
			}
			checkNATSConfig(t, conf, map[string]string{"POD_NAME": "nats-0"}, func(p string) string {
				return filepath.Join(tmp, filepath.Base(p))
			})
		}
	})

	t.Run("keda", func(t *testing.T) {
		if len(m.scaled) != 1 {
			t.Fatalf("%d ScaledObjects, want 1", len(m.scaled))
		}
		so := m.scaled[0]
		ref := so.Spec.ScaleTargetRef
		if w, ok := byName[ref.Name]; !ok || w.kind != ref.Kind || ref.Name != "consort-worker" {
			t.Errorf("ScaledObject scales %s %s, want the Deployment consort-worker", ref.Kind, ref.Name)
		}
		if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "nats-jetstream" {
			t.Fatalf("ScaledObject triggers %+v, want one nats-jetstream", so.Spec.Triggers)
		}
		md := so.Spec.Triggers[0].Metadata
		if md["stream"] != wire.TrialsStream || md["consumer"] != wire.WorkersConsumer || md["account"] != "$G" {
			t.Errorf("trigger reads stream %q consumer %q account %q, want %s, %s, $G", md["stream"], md["consumer"], md["account"], wire.TrialsStream, wire.WorkersConsumer)
		}
		host, port, err := net.SplitHostPort(md["natsServerMonitoringEndpoint"])
		if err != nil || port != "8222" || !strings.HasPrefix(host, "nats-headless.") || md["useHttps"] != "true" {
			t.Errorf("trigger endpoint %q (https %q), want the headless NATS service on HTTPS port 8222", md["natsServerMonitoringEndpoint"], md["useHttps"])
		}
		for _, k := range []string{"lagThreshold", "activationLagThreshold"} {
			if _, err := strconv.Atoi(md[k]); err != nil {
				t.Errorf("trigger %s %q: not a number", k, md[k])
			}
		}
		if mn, mx := ptrOr(so.Spec.MinReplicaCount, 0), ptrOr(so.Spec.MaxReplicaCount, 100); mn > mx {
			t.Errorf("ScaledObject replicas %d..%d", mn, mx)
		}
	})

	t.Run("network policies", func(t *testing.T) { m.checkPolicies(t, byName) })
}

// checkConsortPod checks a coordinator or worker pod: subcommand and flags,
// CONSORT_* settings, the --http port and the probes on it, TLS files.
func (m *manifests) checkConsortPod(t *testing.T, w workload) {
	t.Helper()
	c := w.pod.Spec.Containers[0]
	where := w.name
	if len(c.Args) == 0 || !subcommands[c.Args[0]] {
		t.Fatalf("%s: args %q do not start with a consort command", where, c.Args)
	}
	cmd := c.Args[0]
	if c.Image == "" || !strings.Contains(c.Image, "consort") {
		t.Errorf("%s: image %q", where, c.Image)
	}
	checkArgs(t, where, cmd, c.Args[1:])
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			for k, v := range m.configMaps[ef.ConfigMapRef.Name] {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	checkEnv(t, where, cmd, env)
	for _, k := range []string{"CONSORT_NATS_CA", "CONSORT_NATS_CERT", "CONSORT_NATS_KEY", "CONSORT_ETCD_CA", "CONSORT_ETCD_CERT", "CONSORT_ETCD_KEY"} {
		if env[k] == "" {
			t.Errorf("%s: %s not set: TLS must be on", where, k)
			continue
		}
		m.checkMountedFile(t, where+" "+k, w.pod, c, env[k])
	}
	for _, u := range strings.Split(env["CONSORT_NATS"], ",") {
		if !strings.HasPrefix(u, "tls://") {
			t.Errorf("%s: NATS URL %q is not tls://", where, u)
		}
	}
	for _, u := range strings.Split(env["CONSORT_ETCD"], ",") {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("%s: etcd URL %q is not https://", where, u)
		}
	}
	_, portStr, err := net.SplitHostPort(argValue(c.Args, "http"))
	if err != nil {
		t.Fatalf("%s: --http=%q: %v", where, argValue(c.Args, "http"), err)
	}
	httpPort, _ := strconv.Atoi(portStr)
	for _, p := range []struct {
		probe *corev1.Probe
		path  string
	}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: no HTTP probe for %s", where, p.path)
			continue
		}
		port, ok := containerPort(w.pod, p.probe.HTTPGet.Port)
		if p.probe.HTTPGet.Path != p.path || !ok || int(port) != httpPort {
			t.Errorf("%s: probe GET %s on port %s, want %s on the --http port %d", where, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, httpPort)
		}
	}
}

// checkMountedFile checks that file lies in a volume mounted into c whose
// Secret or ConfigMap has that key.
func (m *manifests) checkMountedFile(t *testing.T, where string, pod *corev1.PodTemplateSpec, c corev1.Container, file string) {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		key, ok := strings.CutPrefix(file, vm.MountPath+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name != vm.Name {
				continue
			}
			switch {
			case v.Secret != nil:
				if keys := m.secrets[v.Secret.SecretName]; keys != nil && !keys[key] {
					t.Errorf("%s: %s: Secret %s has no key %s", where, file, v.Secret.SecretName, key)
				}
				return
			case v.ConfigMap != nil:
				if _, ok := m.configMaps[v.ConfigMap.Name][key]; !ok {
					t.Errorf("%s: %s: ConfigMap %s has no key %s", where, file, v.ConfigMap.Name, key)
				}
				return
			}
		}
	}
	t.Errorf("%s: %s is on no Secret or ConfigMap mount of %s", where, file, c.Name)
}

// checkPolicies checks the network policies: a default deny, and that every
// allowed port is a port of the pods it leads to.
func (m *manifests) checkPolicies(t *testing.T, byName map[string]workload) {
	t.Helper()
	denyAll := false
	for _, p := range m.policies {
		if len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0 && len(p.Spec.PolicyTypes) == 2 {
			denyAll = true
		}
	}
	if !denyAll {
		t.Error("no default-deny NetworkPolicy")
	}
	// allowed[from][to] = ports, for in-namespace traffic.
	egress := map[string]map[string][]int32{}
	ingress := map[string]map[string][]int32{}
	add := func(mm map[string]map[string][]int32, a, b string, port int32) {
		if mm[a] == nil {
			mm[a] = map[string][]int32{}
		}
		mm[a][b] = append(mm[a][b], port)
	}
	for _, p := range m.policies {
		if len(p.Spec.PodSelector.MatchLabels) == 0 {
			continue
		}
		subjects := m.selecting(t, "NetworkPolicy "+p.Name, &p.Spec.PodSelector)
		if len(subjects) == 0 {
			t.Errorf("NetworkPolicy %s selects no pods", p.Name)
		}
		for _, r := range p.Spec.Ingress {
			for _, port := range r.Ports {
				for _, s := range subjects {
					if _, ok := containerPort(s.pod, *port.Port); !ok {
						t.Errorf("NetworkPolicy %s admits port %s, which %s does not serve", p.Name, port.Port.String(), s.name)
					}
				}
			}
			for _, peer := range r.From {
				if peer.PodSelector == nil || peer.NamespaceSelector != nil || len(peer.PodSelector.MatchLabels) == 0 {
					continue
				}
				for _, from := range m.selecting(t, "NetworkPolicy "+p.Name, peer.PodSelector) {
					for _, s := range subjects {
						for _, port := range r.Ports {
							add(ingress, from.name, s.name, port.Port.IntVal)
						}
					}
				}
			}
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.PodSelector == nil || peer.NamespaceSelector != nil {
					continue
				}
				to := m.selecting(t, "NetworkPolicy "+p.Name, peer.PodSelector)
				if len(to) == 0 {
					t.Errorf("NetworkPolicy %s: egress peer %v selects no pods", p.Name, peer.PodSelector)
				}
				for _, dst := range to {
					for _, port := range r.Ports {
						if _, ok := containerPort(dst.pod, *port.Port); !ok {
							t.Errorf("NetworkPolicy %s lets traffic out to port %s, which %s does not serve", p.Name, port.Port.String(), dst.name)
						}
						for _, s := range subjects {
							add(egress, s.name, dst.name, port.Port.IntVal)
						}
					}
				}
			}
		}
	}
	both := func(from, to string, port int32) bool {
		return slices.Contains(egress[from][to], port) && slices.Contains(ingress[from][to], port)
	}
	for _, c := range []string{"consort-coordinator", "consort-worker"} {
		if !both(c, "nats", 4222) || !both(c, "etcd", 2379) {
			t.Errorf("%s may not reach NATS:4222 and etcd:2379 (egress %v, ingress %v)", c, egress[c], ingress[c])
		}
		for dst := range egress[c] {
			if dst != "nats" && dst != "etcd" {
				t.Errorf("%s may reach %s: consort pods reach NATS and etcd only", c, dst)
			}
		}
	}
	if !both("nats", "nats", 6222) || !both("etcd", "etcd", 2380) {
		t.Error("NATS routes (6222) or etcd peers (2380) are not allowed between members")
	}
	for from, to := range ingress {
		if _, ok := to["etcd"]; ok && from != "etcd" && from != "consort-coordinator" && from != "consort-worker" {
			t.Errorf("etcd accepts %s: only consort pods and its peers may reach it", from)
		}
	}
	_ = byName
}

// argValue returns the value of --name=value in args.
func argValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func certsOrEmpty(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		return ""
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		return ""
	}
	return certs(t)
}

// loadKustomization strictly decodes dir/kustomization.yaml and checks that
// the files it names exist (tls/ files are made by make-certs.sh).
func loadKustomization(t *testing.T, dir string) *kustomization {
	t.Helper()
	var k kustomization
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(dir, "kustomization.yaml")), &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s: %s %s", dir, k.APIVersion, k.Kind)
	}
	exists := func(f string) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s/kustomization.yaml: %v", dir, err)
		}
	}
	for _, r := range k.Resources {
		exists(r)
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.keys() {
			exists(f)
		}
	}
	for _, p := range k.Patches {
		if p.Path != "" {
			exists(p.Path)
		}
	}
	return &k
}

// baseManifests decodes the base's resources and adds the ConfigMaps it
// generates and the Secrets an overlay generates.
func baseManifests(t *testing.T, overlay *kustomization) *manifests {
	t.Helper()
	dir := deployPath(t, "k8s", "base")
	k := loadKustomization(t, dir)
	m := newManifests()
	for _, r := range k.Resources {
		if err := m.decode(r, readFile(t, filepath.Join(dir, r))); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		data := map[string]string{}
		for key, f := range g.keys() {
			data[key] = string(readFile(t, filepath.Join(dir, f)))
		}
		m.configMaps[g.Name] = data
	}
	for _, g := range overlay.SecretGenerator {
		keys := map[string]bool{}
		for key, f := range g.keys() {
			keys[key] = true
			if !strings.HasPrefix(f, "tls/") {
				t.Errorf("overlay Secret %s: %s is not a make-certs.sh output under tls/", g.Name, f)
			}
		}
		m.secrets[g.Name] = keys
	}
	return m
}

var overlays = []string{"dev", "prod"}

func TestKubernetesBase(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			dir := deployPath(t, "k8s", "overlays", o)
			k := loadKustomization(t, dir)
			if k.Namespace != "consort" || !slices.Equal(k.Resources, []string{"../../base"}) {
				t.Errorf("overlay %s: namespace %q, resources %v: want consort and ../../base", o, k.Namespace, k.Resources)
			}
			// Patches are partial objects of known kinds: decode them strictly.
			pm := newManifests()
			for _, p := range k.Patches {
				src := []byte(p.Patch)
				if p.Path != "" {
					src = readFile(t, filepath.Join(dir, p.Path))
				}
				if strings.HasPrefix(strings.TrimSpace(string(src)), "- op:") {
					var ops []struct {
						Op    string `json:"op"`
						Path  string `json:"path"`
						Value any    `json:"value"`
					}
					if err := yaml.UnmarshalStrict(src, &ops); err != nil {
						t.Errorf("overlay %s: JSON patch: %v", o, err)
					}
					continue
				}
				if err := pm.decode("overlay "+o+" patch", bytes.ReplaceAll(src, []byte("$patch: delete\n"), nil)); err != nil {
					t.Error(err)
				}
			}
			m := baseManifests(t, k)
			m.check(t)
		})
	}
	t.Run("sweeps", func(t *testing.T) {
		got := readFile(t, deployPath(t, "k8s", "base", "sweeps", "quickstart.yaml"))
		want := readFile(t, filepath.Join(repoRoot(t), "configs", "quickstart.yaml"))
		if !bytes.Equal(got, want) {
			t.Error("deploy/k8s/base/sweeps/quickstart.yaml differs from configs/quickstart.yaml: copy it again")
		}
	})
}

// TestKubernetesRendered renders each overlay with `kubectl kustomize`
// (certificates from make-certs.sh) and checks what would be applied.
func TestKubernetesRendered(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kubectl kustomize; skipped under -short")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed: overlays not rendered")
	}
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			tmp := t.TempDir()
			if out, err := exec.Command("cp", "-r", deployPath(t, "k8s"), tmp).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			dir := filepath.Join(tmp, "k8s", "overlays", o)
			makeCerts(t, filepath.Join(dir, "tls"))
			out, err := exec.Command("kubectl", "kustomize", dir).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("kubectl kustomize %s: %v\n%s", o, err, stderr)
			}
			m := newManifests()
			if err := m.decode("rendered "+o, out); err != nil {
				t.Fatal(err)
			}
			if len(m.namespaces) != 1 || m.namespaces[0].Name != "consort" {
				t.Errorf("rendered %s: namespaces %v", o, m.namespaces)
			}
			m.check(t)
		})
	}
}
