package deploytest

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of the Compose specification deploy/ uses.
// Unknown service keys are errors (a typo is a silent no-op in Compose).
type composeFile struct {
	Name     string                     `yaml:"name"`
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]any             `yaml:"volumes"`
	// Extensions holds the x-* keys (anchors).
	Extensions map[string]any `yaml:",inline"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	User        string            `yaml:"user"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	Restart     string            `yaml:"restart"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Profiles    []string          `yaml:"profiles"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
	ContainerName   string `yaml:"container_name"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

func loadCompose(t *testing.T) *composeFile {
	t.Helper()
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, deployPath(t, "docker-compose.yml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for k := range c.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("docker-compose.yml: unknown top-level key %q", k)
		}
	}
	return &c
}

// interpolate applies Compose's ${VAR:-default} with every VAR unset.
func interpolate(s string) string {
	re := regexp.MustCompile(`\$\{[A-Z_][A-Z0-9_]*(?::?-([^}]*))?\}`)
	return re.ReplaceAllString(s, "$1")
}

// mount is one short-syntax volume: SOURCE:TARGET[:ro].
type mount struct {
	source, target string
	ro             bool
}

func mounts(s *composeService) []mount {
	var ms []mount
	for _, v := range s.Volumes {
		f := strings.Split(interpolate(v), ":")
		m := mount{source: f[0], target: f[1]}
		m.ro = len(f) > 2 && f[2] == "ro"
		ms = append(ms, m)
	}
	return ms
}

// hostFile maps a container path to the file in deploy/ (or the
// make-certs.sh output for ./tls/out) behind a bind mount of s.
func hostFile(t *testing.T, s *composeService, p string) (string, bool) {
	t.Helper()
	for _, m := range mounts(s) {
		if !strings.HasPrefix(m.source, ".") {
			continue
		}
		rel, ok := strings.CutPrefix(p, m.target+"/")
		if p == m.target {
			rel, ok = "", true
		}
		if ok {
			src := filepath.Join(deployPath(t), m.source, rel)
			if strings.HasPrefix(m.source, "./tls/out") {
				src = filepath.Join(certs(t), rel)
			}
			return src, m.ro
		}
	}
	return "", false
}

func TestCompose(t *testing.T) {
	c := loadCompose(t)
	var nats, etcd, coordinators, workers []string
	for name, s := range c.Services {
		switch {
		case strings.HasPrefix(s.Image, "nats:"):
			nats = append(nats, name)
		case strings.Contains(s.Image, "etcd"):
			etcd = append(etcd, name)
		case s.Build != nil && len(s.Command) > 0 && s.Command[0] == "coordinator":
			coordinators = append(coordinators, name)
		case s.Build != nil && len(s.Command) > 0 && s.Command[0] == "worker":
			workers = append(workers, name)
		}
	}
	slices.Sort(nats)
	slices.Sort(etcd)
	if len(nats) != 3 || len(etcd) != 3 || len(coordinators) != 2 || len(workers) != 1 {
		t.Fatalf("services: nats %v, etcd %v, coordinators %v, workers %v; want 3, 3, 2 (leader and standby), 1 (scaled)", nats, etcd, coordinators, workers)
	}

	for name, s := range c.Services {
		for dep := range s.DependsOn {
			if c.Services[dep] == nil {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
		for _, m := range mounts(s) {
			if !strings.HasPrefix(m.source, ".") && !strings.HasPrefix(m.source, "/") {
				if _, ok := c.Volumes[m.source]; !ok {
					t.Errorf("%s mounts undeclared volume %s", name, m.source)
				}
			} else if strings.HasPrefix(m.source, "./compose/") || m.source == "../configs" {
				if _, err := os.Stat(filepath.Join(deployPath(t), m.source)); err != nil {
					t.Errorf("%s mounts %s: %v", name, m.source, err)
				}
			}
		}
	}

	t.Run("consort services", func(t *testing.T) {
		for name, s := range c.Services {
			if s.Build == nil {
				continue
			}
			where := "docker-compose.yml " + name
			if s.Build.Dockerfile != "deploy/Dockerfile" || filepath.Clean(filepath.Join(deployPath(t), s.Build.Context)) != filepath.Clean(repoRoot(t)) {
				t.Errorf("%s: builds %s in %s, want deploy/Dockerfile in the repository root", where, s.Build.Dockerfile, s.Build.Context)
			}
			if uid, _, _ := strings.Cut(interpolate(s.User), ":"); uid == "" || uid == "0" || uid == "root" {
				t.Errorf("%s: user %q, want non-root", where, s.User)
			}
			if !s.ReadOnly {
				t.Errorf("%s: root filesystem not read-only", where)
			}
			if len(s.Command) == 0 || !subcommands[s.Command[0]] {
				t.Errorf("%s: command %q does not start with a consort command", where, s.Command)
				continue
			}
			cmd := s.Command[0]
			checkArgs(t, where, cmd, s.Command[1:])
			checkEnv(t, where, cmd, s.Environment)
			checkClusterURLs(t, where, s.Environment["CONSORT_NATS"], "tls", nats)
			checkClusterURLs(t, where, s.Environment["CONSORT_ETCD"], "https", etcd)
			for _, k := range []string{"CONSORT_NATS_CA", "CONSORT_NATS_CERT", "CONSORT_NATS_KEY", "CONSORT_ETCD_CA", "CONSORT_ETCD_CERT", "CONSORT_ETCD_KEY"} {
				p := s.Environment[k]
				if p == "" {
					t.Errorf("%s: %s not set: TLS must be on", where, k)
					continue
				}
				src, ro := hostFile(t, s, p)
				if src == "" || !ro {
					t.Errorf("%s: %s=%s is not on a read-only bind mount", where, k, p)
					continue
				}
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s: %s=%s: make-certs.sh makes no such file: %v", where, k, p, err)
				}
			}
		}
	})

	t.Run("coordinators", func(t *testing.T) {
		ids := map[string]bool{}
		for _, name := range coordinators {
			s := c.Services[name]
			id, replicas := flagValue(s.Command, "id"), flagValue(s.Command, "replicas")
			if id == "" || ids[id] {
				t.Errorf("%s: --id %q missing or shared", name, id)
			}
			ids[id] = true
			if replicas != "3" {
				t.Errorf("%s: --replicas %q, want 3 (the NATS cluster's size)", name, replicas)
			}
		}
	})

	t.Run("workers", func(t *testing.T) {
		s := c.Services[workers[0]]
		if s.ContainerName != "" || len(s.Ports) > 0 {
			t.Errorf("worker: container_name %q, ports %v: it cannot be scaled", s.ContainerName, s.Ports)
		}
		root := s.Environment["CONSORT_DATA_ROOT"]
		found := false
		for _, m := range mounts(s) {
			if m.target == root {
				found = true
				if !m.ro {
					t.Errorf("worker: data root %s mounted read-write", root)
				}
			}
		}
		if root == "" || !found {
			t.Errorf("worker: CONSORT_DATA_ROOT %q is not a mounted volume", root)
		}
		if s.StopGracePeriod == "" {
			t.Error("worker: no stop_grace_period: a stopping worker cannot drain")
		}
	})

	t.Run("nats", func(t *testing.T) {
		for _, name := range nats {
			s := c.Services[name]
			if s.Environment["NATS_SERVER_NAME"] != name {
				t.Errorf("%s: NATS_SERVER_NAME %q", name, s.Environment["NATS_SERVER_NAME"])
			}
			conf, _ := hostFile(t, s, flagValue(s.Command, "config"))
			if conf == "" {
				t.Fatalf("%s: --config %s is not a file from deploy/", name, flagValue(s.Command, "config"))
			}
			src := string(readFile(t, conf))
			routes := regexp.MustCompile(`nats-route://([a-z0-9-]+):6222`).FindAllStringSubmatch(src, -1)
			var hosts []string
			for _, r := range routes {
				hosts = append(hosts, r[1])
			}
			slices.Sort(hosts)
			if !slices.Equal(hosts, nats) {
				t.Errorf("%s: routes to %v, want every NATS service %v", name, hosts, nats)
			}
			checkNATSConfig(t, src, map[string]string{"NATS_SERVER_NAME": name}, func(p string) string {
				f, _ := hostFile(t, s, p)
				return f
			})
		}
	})

	t.Run("etcd", func(t *testing.T) {
		var want []string
		for _, name := range etcd {
			want = append(want, name+"=https://"+name+":2380")
		}
		for _, name := range etcd {
			e := c.Services[name].Environment
			if e["ETCD_NAME"] != name {
				t.Errorf("%s: ETCD_NAME %q", name, e["ETCD_NAME"])
			}
			if got := strings.Split(e["ETCD_INITIAL_CLUSTER"], ","); !slices.Equal(got, want) {
				t.Errorf("%s: ETCD_INITIAL_CLUSTER %v, want %v", name, got, want)
			}
			for k, v := range e {
				if strings.HasSuffix(k, "_URLS") && !strings.HasPrefix(v, "https://") {
					t.Errorf("%s: %s=%s is not TLS", name, k, v)
				}
			}
			if e["ETCD_CLIENT_CERT_AUTH"] != "true" || e["ETCD_PEER_CLIENT_CERT_AUTH"] != "true" {
				t.Errorf("%s: client certificates not required on both ports", name)
			}
			for _, k := range []string{"ETCD_CERT_FILE", "ETCD_KEY_FILE", "ETCD_TRUSTED_CA_FILE", "ETCD_PEER_CERT_FILE", "ETCD_PEER_KEY_FILE", "ETCD_PEER_TRUSTED_CA_FILE"} {
				f, _ := hostFile(t, c.Services[name], e[k])
				if _, err := os.Stat(f); f == "" || err != nil {
					t.Errorf("%s: %s=%s is no file make-certs.sh makes", name, k, e[k])
				}
			}
		}
	})
}

// flagValue returns the value of --name in args (--name v or --name=v).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// checkClusterURLs checks a comma-separated URL list: the scheme, and that
// the hosts are exactly hosts (in order).
func checkClusterURLs(t *testing.T, where, list, scheme string, hosts []string) {
	t.Helper()
	var got []string
	for _, u := range strings.Split(list, ",") {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != scheme {
			t.Errorf("%s: URL %q, want %s://", where, u, scheme)
			continue
		}
		got = append(got, p.Hostname())
	}
	if !slices.Equal(got, hosts) {
		t.Errorf("%s: URLs %q reach %v, want %v", where, list, got, hosts)
	}
}

// checkNATSConfig runs `nats-server -t` on a configuration, with its file
// paths mapped through resolve and env set, when nats-server is installed.
func checkNATSConfig(t *testing.T, conf string, env map[string]string, resolve func(string) string) {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Log("nats-server not installed: configuration syntax not checked")
		return
	}
	dir := t.TempDir()
	re := regexp.MustCompile(`(cert_file|key_file|ca_file|store_dir):\s*"([^"]+)"`)
	conf = re.ReplaceAllStringFunc(conf, func(m string) string {
		sub := re.FindStringSubmatch(m)
		if sub[1] == "store_dir" {
			return sub[1] + `: "` + filepath.Join(dir, path.Base(sub[2])) + `"`
		}
		f := resolve(sub[2])
		if f == "" {
			t.Errorf("NATS %s %s is not mounted from deploy/ or the certificates", sub[1], sub[2])
		}
		return sub[1] + `: "` + f + `"`
	})
	file := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nats-server", "-t", "-c", file)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("nats-server -t: %v\n%s", err, out)
	}
}
