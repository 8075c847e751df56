package deploytest

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
	line int
}

// stage is one FROM … section.
type stage struct {
	base, name string
	args       map[string]string // ARG defaults declared in the stage
	ins        []instruction
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	globalArgs map[string]string
	stages     []*stage
}

// parseDockerfile parses the subset of Dockerfile syntax deploy/ uses:
// comments, line continuations, and instructions.
func parseDockerfile(src string) (*dockerfile, error) {
	df := &dockerfile{globalArgs: map[string]string{}}
	var cur *stage
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			line = strings.TrimSuffix(line, `\`) + " " + next
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		switch in.cmd {
		case "FROM":
			f := strings.Fields(in.args)
			s := &stage{base: f[0], args: map[string]string{}}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			} else if len(f) != 1 {
				return nil, fmt.Errorf("Dockerfile line %d: FROM %q", start, in.args)
			}
			cur = s
			df.stages = append(df.stages, s)
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			if cur == nil {
				df.globalArgs[name] = def
			} else {
				cur.args[name] = def
			}
		}
		if cur == nil && in.cmd != "ARG" {
			return nil, fmt.Errorf("Dockerfile line %d: %s before FROM", start, in.cmd)
		}
		if cur != nil {
			cur.ins = append(cur.ins, in)
		}
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("Dockerfile: no FROM")
	}
	return df, nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes ${NAME} and $NAME from vars.
func expand(s string, vars map[string]string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("undefined variables %v in %q", missing, s)
	}
	return out, nil
}

// shellWords splits a command line as sh does for the quoting deploy/ uses:
// single and double quotes, backslash escapes; no expansion.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool
		quote rune
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' && i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			in = true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '&' || r == ';' || r == '|':
			return nil, fmt.Errorf("shell operator %q in %q: only one command is supported", r, s)
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// goBuild is the build stage's go build command.
type goBuild struct {
	env    []string // NAME=VALUE assignments before `go`
	args   []string // after `go`: build …
	output string   // the -o argument
	pkg    string
}

// withOutput returns args with the -o argument replaced by path.
func (g *goBuild) withOutput(path string) []string {
	out := make([]string, len(g.args))
	copy(out, g.args)
	for i := range out[:len(out)-1] {
		if out[i] == "-o" && i+1 < len(out) {
			out[i+1] = path
		}
	}
	return out
}

// buildStage returns the stage that runs go build.
func (df *dockerfile) buildStage() (*stage, *instruction, error) {
	for _, s := range df.stages {
		for i := range s.ins {
			if s.ins[i].cmd == "RUN" && strings.Contains(s.ins[i].args, "go build") {
				return s, &s.ins[i], nil
			}
		}
	}
	return nil, nil, fmt.Errorf("Dockerfile: no RUN … go build")
}

// buildCommand extracts the go build command line, with ARG defaults
// overridden by buildArgs as `docker build --build-arg` would.
func (df *dockerfile) buildCommand(buildArgs map[string]string) (*goBuild, error) {
	s, in, err := df.buildStage()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for k, v := range s.args {
		vars[k] = v
		if o, ok := buildArgs[k]; ok {
			vars[k] = o
		}
	}
	words, err := shellWords(in.args)
	if err != nil {
		return nil, fmt.Errorf("Dockerfile line %d: %w", in.line, err)
	}
	g := &goBuild{}
	i := 0
	for ; i < len(words) && strings.HasPrefix(words[i], "--mount="); i++ {
	}
	for ; i < len(words) && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[i]); i++ {
		g.env = append(g.env, words[i])
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		return nil, fmt.Errorf("Dockerfile line %d: want [--mount…] [VAR=…] go build …, got %q", in.line, in.args)
	}
	for _, w := range words[i+1:] {
		e, err := expand(w, vars)
		if err != nil {
			return nil, fmt.Errorf("Dockerfile line %d: %w", in.line, err)
		}
		g.args = append(g.args, e)
	}
	for j, a := range g.args {
		if a == "-o" && j+1 < len(g.args) {
			g.output = g.args[j+1]
		}
	}
	g.pkg = g.args[len(g.args)-1]
	return g, nil
}

func TestDockerfile(t *testing.T) {
	df, err := parseDockerfile(string(readFile(t, deployPath(t, "Dockerfile"))))
	if err != nil {
		t.Fatal(err)
	}
	bs, _, err := df.buildStage()
	if err != nil {
		t.Fatal(err)
	}
	bc, err := df.buildCommand(nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("build stage", func(t *testing.T) {
		base, err := expand(bs.base, df.globalArgs)
		if err != nil {
			t.Fatal(err)
		}
		goMod := string(readFile(t, repoRoot(t)+"/go.mod"))
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
		if m == nil {
			t.Fatal("go.mod has no go directive")
		}
		if want := "golang:" + m[1]; base != want && !strings.HasPrefix(base, want+"-") && !strings.HasPrefix(base, want+".") {
			t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", base, want, m[1])
		}
		if !slices.Contains(bc.env, "CGO_ENABLED=0") {
			t.Errorf("go build runs with %v, want CGO_ENABLED=0", bc.env)
		}
		if !slices.Contains(bc.args, "-trimpath") {
			t.Errorf("go build %v: no -trimpath", bc.args)
		}
		ld := ""
		for i, a := range bc.args {
			if a == "-ldflags" && i+1 < len(bc.args) {
				ld = bc.args[i+1]
			}
		}
		if !strings.Contains(ld, "-X github.com/consort-ml/consort/internal/cli.Version=") {
			t.Errorf("-ldflags %q does not set internal/cli.Version", ld)
		}
		if bc.pkg != "./cmd/consort" || bc.output == "" {
			t.Errorf("go build builds %q into %q, want ./cmd/consort into a file", bc.pkg, bc.output)
		}
	})

	t.Run("final stage", func(t *testing.T) {
		final := df.stages[len(df.stages)-1]
		if final == bs {
			t.Fatal("the final stage is the build stage: not multi-stage")
		}
		if !strings.HasPrefix(final.base, "gcr.io/distroless/static") && final.base != "scratch" {
			t.Errorf("final stage FROM %s, want distroless static or scratch", final.base)
		}
		var user, entry, copied string
		for _, in := range final.ins {
			switch in.cmd {
			case "USER":
				user = in.args
			case "ENTRYPOINT":
				var ep []string
				if err := json.Unmarshal([]byte(in.args), &ep); err != nil || len(ep) == 0 {
					t.Errorf("ENTRYPOINT %s: want a JSON array (exec form)", in.args)
				} else {
					entry = ep[0]
				}
			case "COPY":
				f := strings.Fields(in.args)
				if len(f) == 3 && f[0] == "--from="+bs.name && f[1] == bc.output {
					copied = f[2]
				}
			}
		}
		uid, _, _ := strings.Cut(user, ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("final stage USER %q: want a non-root user", user)
		}
		if copied == "" {
			t.Errorf("final stage does not COPY --from=%s %s", bs.name, bc.output)
		}
		if entry != copied || !strings.HasSuffix(entry, "/consort") {
			t.Errorf("ENTRYPOINT %q, want the copied binary %q", entry, copied)
		}
	})

	t.Run("go build", func(t *testing.T) {
		bin := consortBinary(t)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary has a program interpreter: it is dynamically linked")
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
		}
		if _, err := exec.LookPath("file"); err == nil {
			out, err := exec.Command("file", bin).Output()
			if err != nil || !strings.Contains(string(out), "statically linked") {
				t.Errorf("file %s: %s %v", bin, out, err)
			}
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "consort "+testVersion+" ") {
			t.Errorf("consort version = %q, %v; want the VERSION build arg %s", out, err, testVersion)
		}
	})

	t.Run("dockerignore", func(t *testing.T) {
		ig := string(readFile(t, deployPath(t, "Dockerfile.dockerignore")))
		for _, p := range []string{".git", "deploy/tls/out/", "**/*.key"} {
			if !strings.Contains(ig, "\n"+p+"\n") {
				t.Errorf("Dockerfile.dockerignore does not exclude %s", p)
			}
		}
	})
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: `go build -o x ./cmd`, want: []string{"go", "build", "-o", "x", "./cmd"}},
		{in: `a "b c" 'd e' f\ g`, want: []string{"a", "b c", "d e", "f g"}},
		{in: `-ldflags "-X a.B=${V}"`, want: []string{"-ldflags", "-X a.B=${V}"}},
		{in: `a "b`, err: true},
		{in: `a && b`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := shellWords(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
