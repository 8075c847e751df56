package deploytest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("deploytest: cannot locate the source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// deployPath joins elem under deploy/.
func deployPath(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{repoRoot(t), "deploy"}, elem...)...)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("deploytest: %v", err)
	}
	return b
}

// testVersion is what the tests pass as the Dockerfile's VERSION build arg.
const testVersion = "v0.0.0-deploytest"

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// consortBinary builds consort exactly as the Dockerfile's build stage does
// (see buildCommand) once per test binary, and returns its path.
func consortBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the consort binary; skipped under -short")
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "deploytest-")
		if build.err != nil {
			return
		}
		df, err := parseDockerfile(string(readFile(t, deployPath(t, "Dockerfile"))))
		if err != nil {
			build.err = err
			return
		}
		bc, err := df.buildCommand(map[string]string{"VERSION": testVersion})
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(build.dir, "consort")
		args := bc.withOutput(build.bin)
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), bc.env...)
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("deploytest: building consort as deploy/Dockerfile does: %v\n%s", build.err, build.out)
	}
	return build.bin
}

// TestMain removes the built binary.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	if certsDir != "" {
		os.RemoveAll(certsDir)
	}
	os.Exit(code)
}

var (
	flagsMu    sync.Mutex
	flagsCache = map[string]map[string]bool{}
	flagLine   = regexp.MustCompile(`^\s+(?:-[A-Za-z], )?--([a-z0-9][a-z0-9-]*)\b`)
)

// consortFlags returns the long flags `consort CMD --help` lists,
// including the global ones.
func consortFlags(t testing.TB, cmd string) map[string]bool {
	t.Helper()
	bin := consortBinary(t)
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if f, ok := flagsCache[cmd]; ok {
		return f
	}
	out, err := exec.Command(bin, cmd, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("deploytest: consort %s --help: %v\n%s", cmd, err, out)
	}
	flags := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	if len(flags) < 5 || !flags["nats"] || !flags["etcd"] {
		t.Fatalf("deploytest: consort %s --help lists too few flags (%d):\n%s", cmd, len(flags), out)
	}
	flagsCache[cmd] = flags
	return flags
}

// envFlag maps CONSORT_NATS_CA to "nats-ca"; ok is false for other names.
func envFlag(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "CONSORT_")
	if !ok || rest == "" {
		return "", false
	}
	return strings.ReplaceAll(strings.ToLower(rest), "_", "-"), true
}

// checkArgs reports the arguments of `consort CMD args...` that are not
// flags of CMD. Flags take the form --name=value or --name value.
func checkArgs(t testing.TB, where, cmd string, args []string) {
	t.Helper()
	flags := consortFlags(t, cmd)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: consort %s: argument %q is not a flag", where, cmd, a)
			continue
		}
		name, _, hasValue := strings.Cut(a[2:], "=")
		if !flags[name] {
			t.Errorf("%s: consort %s has no flag --%s", where, cmd, name)
			continue
		}
		// Every consort flag but --wait and --help takes a value.
		if !hasValue && name != "wait" && name != "help" {
			i++
		}
	}
}

// checkEnv reports CONSORT_* variables that are no flag of CMD.
func checkEnv(t testing.TB, where, cmd string, env map[string]string) {
	t.Helper()
	flags := consortFlags(t, cmd)
	for k := range env {
		name, ok := envFlag(k)
		if !ok {
			continue
		}
		if !flags[name] {
			t.Errorf("%s: %s sets --%s, which consort %s does not have", where, k, name, cmd)
		}
	}
}

// subcommands lists the consort commands a deployment may run.
var subcommands = map[string]bool{"coordinator": true, "worker": true, "submit": true, "status": true, "cancel": true, "run": true, "version": true}

// makeCerts runs deploy/tls/make-certs.sh into dir.
func makeCerts(t testing.TB, dir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs openssl; skipped under -short")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	out, err := exec.Command("bash", deployPath(t, "tls", "make-certs.sh"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("deploytest: make-certs.sh: %v\n%s", err, out)
	}
}

var (
	certsOnce sync.Once
	certsDir  string
)

// certs returns a directory holding make-certs.sh's output, made once.
func certs(t testing.TB) string {
	t.Helper()
	certsOnce.Do(func() {
		d, err := os.MkdirTemp("", "deploytest-tls-")
		if err != nil {
			t.Fatalf("deploytest: %v", err)
		}
		makeCerts(t, d)
		certsDir = d
	})
	if certsDir == "" {
		t.Skip("no certificates")
	}
	return certsDir
}
