// Package config reads typed settings from the environment once, at init.
//
// Each component declares its own Config struct and fills it through an Env,
// which records every problem instead of stopping at the first, so a
// misconfigured function reports all its mistakes in one cold start.
// Every error names the variable it concerns.
//
// The settings every function shares (log level, region, endpoint
// overrides, Common) and the table (Env.Table) are read here and nowhere
// else, once per Env.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables from a lookup function and collects errors.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error

	// The common settings are read on first use and kept, so that every
	// reader of one Env sees one value and each problem is reported once.
	common    *Common
	table     string
	tableRead bool
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads from m; it is meant for tests and for the local stack.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Err returns every problem recorded so far, joined, or nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// Fail records a problem with the named variable; components use it for
// cross-field checks.
func (e *Env) Fail(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (e *Env) get(name string) (string, bool) {
	v, ok := e.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if v, ok := e.get(name); ok {
		return v
	}
	return def
}

// Required returns the variable and records an error when it is unset or empty.
func (e *Env) Required(name string) string {
	v, ok := e.get(name)
	if !ok {
		e.Fail(name, "required but not set")
	}
	return v
}

// OneOf returns the variable, which must be one of allowed, or def.
func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.String(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.Fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

// Int returns the variable as an integer within [min, max], or def.
func (e *Env) Int(name string, def, min, max int) int {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.Fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		e.Fail(name, "%d is outside [%d, %d]", n, min, max)
		return def
	}
	return n
}

// Bool returns the variable as a boolean (true/false/1/0), or def.
func (e *Env) Bool(name string, def bool) bool {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.Fail(name, "%q is not a boolean", v)
		return def
	}
	return b
}

// Duration returns the variable as a duration within [min, max], or def.
// A bare number means seconds, since lifetimes are configured in seconds;
// Go duration syntax ("90s", "5m") is accepted too.
func (e *Env) Duration(name string, def, min, max time.Duration) time.Duration {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil {
		e.Fail(name, "%v", err)
		return def
	}
	if d < min || d > max {
		e.Fail(name, "%s is outside [%s, %s]", d, min, max)
		return def
	}
	return d
}

// ParseDuration parses a number of seconds or a Go duration.
func ParseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(1<<62)/int64(time.Second) {
			return 0, fmt.Errorf("%q is out of range", v)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is neither seconds nor a duration like 90s", v)
	}
	return d, nil
}

// List returns the comma-separated variable as trimmed, non-empty items, or def.
func (e *Env) List(name string, def []string) []string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// URL returns the variable as an absolute http(s) URL, or def.
func (e *Env) URL(name, def string) string {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		e.Fail(name, "%q is not an absolute http(s) URL", v)
		return def
	}
	return v
}
