package deploytest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unit is a parsed systemd unit file: section → key → values.
type unit map[string]map[string][]string

// parseUnit parses systemd's INI syntax (comments, continuation lines,
// repeated keys).
func parseUnit(src string) (unit, error) {
	u := unit{}
	sec := ""
	sc := bufio.NewScanner(strings.NewReader(src))
	var pending string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending != "" {
			line = pending + " " + line
			pending = ""
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			sec = line[1 : len(line)-1]
			if u[sec] == nil {
				u[sec] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || sec == "" {
			return nil, &unitError{line}
		}
		u[sec][strings.TrimSpace(k)] = append(u[sec][strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	return u, sc.Err()
}

type unitError struct{ line string }

func (e *unitError) Error() string { return "systemd unit: bad line " + e.line }

func (u unit) get(sec, key string) string {
	v := u[sec][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func TestSystemdUnits(t *testing.T) {
	units := map[string]string{"consort-coordinator.service": "coordinator", "consort-worker@.service": "worker"}
	for file, cmd := range units {
		t.Run(file, func(t *testing.T) {
			u, err := parseUnit(string(readFile(t, deployPath(t, "systemd", file))))
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				"Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "DynamicUser": "yes",
				"EnvironmentFile": "/etc/consort/consort.env", "PrivateTmp": "yes", "ProtectHome": "yes", "CapabilityBoundingSet": "",
			} {
				if got, ok := u["Service"][key]; !ok || got[len(got)-1] != want {
					t.Errorf("[Service] %s=%v, want %q", key, got, want)
				}
			}
			if u.get("Install", "WantedBy") != "multi-user.target" {
				t.Error("not wanted by multi-user.target")
			}
			exec := strings.Fields(u.get("Service", "ExecStart"))
			if len(exec) < 2 || exec[0] != "/usr/local/bin/consort" || exec[1] != cmd {
				t.Fatalf("ExecStart %q, want /usr/local/bin/consort %s …", exec, cmd)
			}
			// %d (the credentials directory) holds the TLS files.
			var creds []string
			for _, lc := range u["Service"]["LoadCredential"] {
				name, _, _ := strings.Cut(lc, ":")
				creds = append(creds, name)
			}
			for i, a := range exec {
				if p, ok := strings.CutPrefix(a, "%d/"); ok && !slices.Contains(creds, p) {
					t.Errorf("ExecStart argument %d %s: no LoadCredential=%s", i, a, p)
				}
			}
			checkArgs(t, file, cmd, exec[2:])
		})
	}

	t.Run("consort.env", func(t *testing.T) {
		env := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(readFile(t, deployPath(t, "systemd", "consort.env"))))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || !strings.HasPrefix(k, "CONSORT_") {
				t.Errorf("consort.env: %q is not CONSORT_NAME=value", line)
				continue
			}
			env[k] = v
		}
		// One file serves both units: every key is a flag of one of them
		// (consort ignores the other's keys).
		co, wk := consortFlags(t, "coordinator"), consortFlags(t, "worker")
		for k := range env {
			f, _ := envFlag(k)
			if !co[f] && !wk[f] {
				t.Errorf("consort.env: %s is no flag of consort coordinator or worker", k)
			}
		}
		for _, u := range strings.Split(env["CONSORT_NATS"], ",") {
			if !strings.HasPrefix(u, "tls://") {
				t.Errorf("consort.env: NATS URL %q is not tls://", u)
			}
		}
		for _, u := range strings.Split(env["CONSORT_ETCD"], ",") {
			if !strings.HasPrefix(u, "https://") {
				t.Errorf("consort.env: etcd URL %q is not https://", u)
			}
		}
	})

	t.Run("systemd-analyze verify", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs systemd-analyze; skipped under -short")
		}
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Skip("systemd-analyze is not installed")
		}
		bin := consortBinary(t)
		dir := t.TempDir()
		var files []string
		for file := range units {
			src := strings.ReplaceAll(string(readFile(t, deployPath(t, "systemd", file))), "/usr/local/bin/consort", bin)
			name := strings.Replace(file, "@.", "@9101.", 1)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, filepath.Join(dir, name))
		}
		cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, files...)...)
		out, err := cmd.CombinedOutput()
		// verify exits 0 on unknown keys and bad values, which it only
		// prints: any output about our files is a failure.
		if err != nil || bytes.Contains(out, []byte(dir)) {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}
