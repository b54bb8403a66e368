package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// config is the validated command line.
type config struct {
	ports   map[string]int // by component name, see portNames
	table   string
	persist bool
	dir     string // state directory; default <repo>/.devstack
}

// fixed components and their default ports; services add theirs.
var basePorts = []struct {
	name string
	port int
	what string
}{
	{"dynamodb", 8000, "DynamoDB (dynalite)"},
	{"cognito", 9229, "Cognito (cognito-local)"},
	{"ses", 8005, "SES v2 (aws-ses-v2-local)"},
	{"lambda", 9001, "dev Lambda host"},
}

func envName(name string) string {
	return "SHORTFUSE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_PORT"
}

// parseConfig reads flags, then environment variables for flags not given.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{ports: map[string]int{}}
	portFlags := map[string]*int{}
	add := func(name string, def int, what string) {
		portFlags[name] = fs.Int(name+"-port", def, fmt.Sprintf("port of %s (env %s)", what, envName(name)))
	}
	for _, b := range basePorts {
		add(b.name, b.port, b.what)
	}
	for _, s := range services {
		add(s.Name, s.Port, "service "+s.Name)
	}
	fs.StringVar(&cfg.table, "table", "shortfuse", "DynamoDB table name (env SHORTFUSE_TABLE)")
	fs.BoolVar(&cfg.persist, "persist", false, "keep DynamoDB and Cognito state in <dir>/data across runs (env SHORTFUSE_DEVSTACK_PERSIST=1)")
	fs.StringVar(&cfg.dir, "dir", "", "state directory for the pid file, endpoints.json and logs (default <repo>/.devstack)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./internal/dev/cmd/devstack [flags]\n\nRuns the local shortfuse stack until interrupted.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	for name, p := range portFlags {
		port := *p
		if ev := envName(name); !set[name+"-port"] && getenv(ev) != "" {
			n, err := strconv.Atoi(getenv(ev))
			if err != nil {
				return config{}, fmt.Errorf("%s: %q is not a port number", ev, getenv(ev))
			}
			port = n
		}
		if port < 1 || port > 65535 {
			return config{}, fmt.Errorf("port of %s: %d is out of range 1-65535", name, port)
		}
		cfg.ports[name] = port
	}
	if !set["table"] && getenv("SHORTFUSE_TABLE") != "" {
		cfg.table = getenv("SHORTFUSE_TABLE")
	}
	if cfg.table == "" {
		return config{}, errors.New("table name must not be empty")
	}
	if !set["persist"] && getenv("SHORTFUSE_DEVSTACK_PERSIST") != "" {
		v, err := strconv.ParseBool(getenv("SHORTFUSE_DEVSTACK_PERSIST"))
		if err != nil {
			return config{}, fmt.Errorf("SHORTFUSE_DEVSTACK_PERSIST: %q is not a boolean", getenv("SHORTFUSE_DEVSTACK_PERSIST"))
		}
		cfg.persist = v
	}
	byPort := map[int]string{}
	for name, port := range cfg.ports {
		if other, dup := byPort[port]; dup {
			a, b := other, name
			if a > b {
				a, b = b, a
			}
			return config{}, fmt.Errorf("%s and %s both use port %d", a, b, port)
		}
		byPort[port] = name
	}
	return cfg, nil
}

// portFlagHint tells how to move a component to another port.
func portFlagHint(name string) string {
	return fmt.Sprintf("-%s-port or %s", name, envName(name))
}
