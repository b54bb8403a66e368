package deploy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ParseWith prepares the template as CloudFormation would deploy it with
// params (every other parameter at its default): conditions are evaluated,
// each Fn::If takes the branch its condition selects, and resources and
// outputs whose condition is false are left out. Parse, by contrast, checks
// every Fn::If as if its condition held; ParseWith shows that the other
// branches deploy too (no reference to a resource left out, say).
func ParseWith(data []byte, params map[string]string) (*Template, error) {
	raw, err := rawTree(data)
	if err != nil {
		return nil, err
	}
	conds, values, err := evalConditions(raw, params)
	if err != nil {
		return nil, err
	}
	resolved, err := resolveIfs(deepCopy(raw), conds)
	if err != nil {
		return nil, err
	}
	tree := resolved.(map[string]any)
	for _, section := range []string{"Resources", "Outputs"} {
		m := mapAt(tree, section)
		for id, v := range m {
			c, _ := v.(map[string]any)["Condition"].(string)
			if c == "" {
				continue
			}
			on, ok := conds[c]
			if !ok {
				return nil, fmt.Errorf("deploy: %s.%s: unknown condition %q", section, id, c)
			}
			if !on {
				delete(m, id)
			}
		}
	}
	t, err := fromRaw(tree, raw)
	if t != nil {
		t.Params = values
	}
	return t, err
}

// evalConditions evaluates the Conditions section for params.
func evalConditions(raw map[string]any, params map[string]string) (map[string]bool, map[string]string, error) {
	values := map[string]string{}
	for name, p := range mapAt(raw, "Parameters") {
		pm, _ := p.(map[string]any)
		values[name] = scalarString(pm["Default"])
	}
	for k, v := range params {
		if _, ok := values[k]; !ok {
			return nil, nil, fmt.Errorf("deploy: no parameter %s", k)
		}
		values[k] = v
	}
	defs := mapAt(raw, "Conditions")
	out := map[string]bool{}
	var eval func(v any, depth int) (any, error)
	cond := func(name string, depth int) (bool, error) {
		if b, ok := out[name]; ok {
			return b, nil
		}
		def, ok := defs[name]
		if !ok || depth > 20 {
			return false, fmt.Errorf("deploy: condition %q is undefined or circular", name)
		}
		r, err := eval(def, depth+1)
		if err != nil {
			return false, err
		}
		b, ok := r.(bool)
		if !ok {
			return false, fmt.Errorf("deploy: condition %q is not a boolean", name)
		}
		out[name] = b
		return b, nil
	}
	eval = func(v any, depth int) (any, error) {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return scalarString(v), nil
		}
		k := slices.Collect(maps.Keys(m))[0]
		args, _ := m[k].([]any)
		bools := func() ([]bool, error) {
			var bs []bool
			for _, a := range args {
				// goformation reads !Condition X inside a condition
				// function as the bare name "X".
				if name, ok := a.(string); ok {
					b, err := cond(name, depth+1)
					if err != nil {
						return nil, err
					}
					bs = append(bs, b)
					continue
				}
				r, err := eval(a, depth+1)
				if err != nil {
					return nil, err
				}
				b, ok := r.(bool)
				if !ok {
					return nil, fmt.Errorf("deploy: %s takes conditions", k)
				}
				bs = append(bs, b)
			}
			return bs, nil
		}
		switch k {
		case "Ref":
			name, _ := m[k].(string)
			if val, ok := values[name]; ok {
				return val, nil
			}
			return "${" + name + "}", nil // a pseudo parameter: unknown offline
		case "Condition":
			name, _ := m[k].(string)
			return cond(name, depth)
		case "Fn::Equals":
			if len(args) != 2 {
				return nil, fmt.Errorf("deploy: Fn::Equals takes two values")
			}
			a, err := eval(args[0], depth+1)
			if err != nil {
				return nil, err
			}
			b, err := eval(args[1], depth+1)
			if err != nil {
				return nil, err
			}
			return a == b, nil
		case "Fn::Join":
			// [sep, !Ref ListParameter] or [sep, [values...]]
			if len(args) != 2 {
				return nil, fmt.Errorf("deploy: Fn::Join takes a separator and a list")
			}
			sep, _ := args[0].(string)
			var parts []string
			if list, ok := args[1].([]any); ok {
				for _, a := range list {
					r, err := eval(a, depth+1)
					if err != nil {
						return nil, err
					}
					parts = append(parts, scalarString(r))
				}
			} else {
				r, err := eval(args[1], depth+1)
				if err != nil {
					return nil, err
				}
				if v := scalarString(r); v != "" {
					parts = strings.Split(v, ",")
				}
			}
			return strings.Join(parts, sep), nil
		case "Fn::Not":
			bs, err := bools()
			if err != nil || len(bs) != 1 {
				return nil, fmt.Errorf("deploy: Fn::Not takes one condition (%v)", err)
			}
			return !bs[0], nil
		case "Fn::And", "Fn::Or":
			bs, err := bools()
			if err != nil {
				return nil, err
			}
			and := k == "Fn::And"
			r := and
			for _, b := range bs {
				if and {
					r = r && b
				} else {
					r = r || b
				}
			}
			return r, nil
		}
		return nil, fmt.Errorf("deploy: %s cannot be evaluated in a condition", k)
	}
	for _, name := range sortedKeys(defs) {
		if _, err := cond(name, 0); err != nil {
			return nil, nil, err
		}
	}
	// Rules: CloudFormation refuses to deploy parameters that fail an
	// assertion, so neither does ParseWith.
	truth := func(v any) (bool, error) {
		r, err := eval(v, 0)
		if err != nil {
			return false, err
		}
		b, ok := r.(bool)
		if !ok {
			return false, fmt.Errorf("deploy: not a boolean: %v", v)
		}
		return b, nil
	}
	rules := mapAt(raw, "Rules")
	for _, name := range sortedKeys(rules) {
		rule, _ := rules[name].(map[string]any)
		if rc, ok := rule["RuleCondition"]; ok {
			on, err := truth(rc)
			if err != nil {
				return nil, nil, fmt.Errorf("deploy: rule %s: %w", name, err)
			}
			if !on {
				continue
			}
		}
		for _, a := range sliceAt(rule, "Assertions") {
			am, _ := a.(map[string]any)
			ok, err := truth(am["Assert"])
			if err != nil {
				return nil, nil, fmt.Errorf("deploy: rule %s: %w", name, err)
			}
			if !ok {
				return nil, nil, fmt.Errorf("%w: %s: %s", ErrRule, name, scalarString(am["AssertDescription"]))
			}
		}
	}
	return out, values, nil
}

// ErrRule reports parameters that a rule of the template refuses, as
// CloudFormation would before deploying anything.
var ErrRule = errors.New("deploy: parameters refused by a rule")

// resolveIfs replaces every {"Fn::If": [cond, a, b]} by a or b.
func resolveIfs(v any, conds map[string]bool) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if args, ok := x["Fn::If"].([]any); ok && len(x) == 1 {
			name, _ := args[0].(string)
			on, known := conds[name]
			if len(args) != 3 || !known {
				return nil, fmt.Errorf("deploy: Fn::If on unknown condition %q", name)
			}
			if on {
				return resolveIfs(args[1], conds)
			}
			return resolveIfs(args[2], conds)
		}
		for k, val := range x {
			r, err := resolveIfs(val, conds)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, val := range x {
			r, err := resolveIfs(val, conds)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}
