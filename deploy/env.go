package deploy

import (
	"regexp"
	"slices"
	"strings"
)

var envName = regexp.MustCompile(`^SHORTFUSE_[A-Z0-9_]*[A-Z0-9]$`)

// CheckCode holds the template against the functions' code, analysed from
// their main packages (see Analyse); root is the module root. It asserts,
// for every function:
//
//   - its Environment sets each variable of Function.Env, no Forbidden
//     variable, and no SHORTFUSE_ variable its code never reads;
//   - a variable that several functions' code reads is set on all of them,
//     to the same value, or on none: two triggers must not disagree on the
//     code length, say;
//   - its Grants allow every AWS operation its code calls, except those
//     listed in Function.Ungranted, and nothing it never calls, except
//     kms:Decrypt through a service.
func CheckCode(t *Template, root string) []error {
	cmds := make([]string, 0, len(Functions))
	for _, f := range Functions {
		cmds = append(cmds, f.Cmd)
	}
	usage, err := analyseOnce(root, cmds)
	if err != nil {
		return []error{problem("code", "%v", err)}
	}
	return checkCode(t, Functions, usage)
}

func checkCode(t *Template, fns []Function, usage map[string]Usage) []error {
	var errs []error
	envOf := func(f Function) map[string]any {
		return mapAt(t.Effective, "Resources", f.LogicalID, "Properties", "Environment", "Variables")
	}
	for _, f := range fns {
		set := envOf(f)
		reads := usage[f.Cmd].Vars
		for _, name := range f.Env {
			if v, ok := set[name]; !ok || v == "" {
				errs = append(errs, problem("env", "%s does not set %s, which it needs", f.LogicalID, name))
			}
			if _, ok := reads[name]; !ok {
				errs = append(errs, problem("env", "deploy.Functions says %s needs %s, but cmd/%s never reads it", f.LogicalID, name, f.Cmd))
			}
		}
		for _, name := range sortedKeys(set) {
			_, read := reads[name]
			switch {
			case slices.Contains(Forbidden, name):
				errs = append(errs, problem("env", "%s sets %s, which must not be set in AWS", f.LogicalID, name))
			case strings.HasPrefix(name, "SHORTFUSE_") && !read:
				errs = append(errs, problem("env", "%s sets %s, which cmd/%s never reads (misspelt or stale?)", f.LogicalID, name, f.Cmd))
			}
		}
	}
	errs = append(errs, checkShared(fns, usage, envOf)...)
	errs = append(errs, checkActions(fns, usage)...)
	return errs
}

// checkShared asserts that a variable read by several functions is set on
// all of them to one value, or on none.
func checkShared(fns []Function, usage map[string]Usage, envOf func(Function) map[string]any) []error {
	var errs []error
	readers := map[string][]Function{}
	for _, f := range fns {
		for name := range usage[f.Cmd].Vars {
			if !slices.Contains(Forbidden, name) {
				readers[name] = append(readers[name], f)
			}
		}
	}
	for _, name := range sortedKeys(readers) {
		fs := readers[name]
		var setters, unset []string
		values := map[string]bool{}
		for _, f := range fs {
			if v, ok := envOf(f)[name]; ok {
				setters = append(setters, f.LogicalID)
				values[scalarString(v)] = true
			} else {
				unset = append(unset, f.LogicalID)
			}
		}
		if len(setters) == 0 {
			continue
		}
		for _, id := range unset {
			f, _ := functionSpec(id)
			verb := "sets"
			if len(setters) > 1 {
				verb = "set"
			}
			errs = append(errs, problem("env", "%s %s %s but %s does not, though cmd/%s reads it too (%s): the functions would disagree; set it on %s as well",
				strings.Join(setters, ", "), verb, name, id, f.Cmd, usage[f.Cmd].Vars[name], id))
		}
		if len(values) > 1 {
			errs = append(errs, problem("env", "%s is set to different values on %s: %s", name, strings.Join(setters, ", "), strings.Join(sortedKeys(values), " | ")))
		}
	}
	return errs
}

// checkActions compares each function's grants with the AWS operations its
// code calls.
func checkActions(fns []Function, usage map[string]Usage) []error {
	var errs []error
	for _, f := range fns {
		granted := map[string]bool{}
		for _, g := range f.Grants {
			for _, a := range g.Actions {
				granted[strings.ToLower(a)] = true
			}
		}
		calls := usage[f.Cmd].Actions
		called := map[string]bool{}
		for _, a := range sortedKeys(calls) {
			called[strings.ToLower(a)] = true
			if slices.ContainsFunc(f.Ungranted, func(u string) bool { return strings.EqualFold(u, a) }) {
				continue
			}
			if !granted[strings.ToLower(a)] {
				errs = append(errs, problem("iam", "cmd/%s calls %s (%s) but %s is not granted it: add it to the function's Policies and to deploy.Functions",
					f.Cmd, a, calls[a], f.LogicalID))
			}
		}
		for _, g := range f.Grants {
			if g.ViaService != "" || g.ByLambda {
				continue // used by that service on the function's behalf, not by its code
			}
			for _, a := range g.Actions {
				if !called[strings.ToLower(a)] {
					errs = append(errs, problem("iam", "%s is granted %s on %s, but cmd/%s never calls it: remove it from the function's Policies and from deploy.Functions",
						f.LogicalID, a, strings.Join(g.Resources, ", "), f.Cmd))
				}
			}
		}
		for _, u := range f.Ungranted {
			if !called[strings.ToLower(u)] {
				errs = append(errs, problem("iam", "deploy.Functions lists %s as ungranted for %s, but cmd/%s never calls it: drop it from Ungranted", u, f.LogicalID, f.Cmd))
			}
		}
	}
	return errs
}
