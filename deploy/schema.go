package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7/schema"
	"github.com/xeipuuv/gojsonschema"
)

// The bundled SAM schema is 7 MB; it is decoded once, and only the
// definitions a template uses are compiled, each once.
var (
	samOnce sync.Once
	samRoot map[string]any
	samDefs map[string]any
	samErr  error

	compiledMu sync.Mutex
	compiled   = map[string]*gojsonschema.Schema{}
)

func samSchema() (map[string]any, map[string]any, error) {
	samOnce.Do(func() {
		if err := json.Unmarshal([]byte(schema.SamSchema), &samRoot); err != nil {
			samErr = fmt.Errorf("deploy: bundled SAM schema: %w", err)
			return
		}
		samDefs, _ = samRoot["definitions"].(map[string]any)
	})
	return samRoot, samDefs, samErr
}

// compile returns the schema for key, building it with build on first use.
func compile(key string, build func(defs map[string]any) map[string]any) (*gojsonschema.Schema, error) {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if s, ok := compiled[key]; ok {
		return s, nil
	}
	_, defs, err := samSchema()
	if err != nil {
		return nil, err
	}
	doc := build(defs)
	doc["definitions"] = closure(doc, defs)
	s, err := gojsonschema.NewSchema(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return nil, fmt.Errorf("deploy: compiling schema for %s: %w", key, err)
	}
	compiled[key] = s
	return s, nil
}

// closure collects the definitions reachable through $ref from doc.
func closure(doc any, defs map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				name, _, _ := strings.Cut(strings.TrimPrefix(r, "#/definitions/"), "/")
				if _, seen := out[name]; !seen {
					if d, ok := defs[name]; ok {
						out[name] = d
						walk(d)
					}
				}
			}
			for k, val := range x {
				if k != "definitions" {
					walk(val)
				}
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(doc)
	return out
}

// Validate checks the template against goformation's bundled SAM schema:
// the top-level sections, every resource against the definition of its
// type (unknown properties, wrong types, missing required properties), and
// Globals.Function against the function properties.
func Validate(t *Template) []error {
	var errs []error
	root, err := compile("(template)", func(map[string]any) map[string]any {
		r, _, _ := samSchema()
		doc := map[string]any{}
		for k, v := range r {
			if k != "definitions" && k != "$id" {
				doc[k] = v
			}
		}
		props := shallowCopy(doc["properties"])
		// Resources are validated one by one below, against their own type.
		props["Resources"] = map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"patternProperties":    map[string]any{"^[a-zA-Z0-9]+$": map[string]any{"type": "object"}},
		}
		// CloudFormation allows 200 parameters per template; the bundled
		// schema still has the old limit.
		if pp := shallowCopy(props["Parameters"]); pp != nil {
			pp["maxProperties"] = 200
			props["Parameters"] = pp
		}
		// Rules (parameter assertions) postdate the bundled schema.
		props["Rules"] = map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"patternProperties": map[string]any{"^[a-zA-Z0-9]+$": map[string]any{
				"type": "object", "required": []any{"Assertions"},
				"properties": map[string]any{
					"RuleCondition": map[string]any{"type": "object"},
					"Assertions": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
						"type": "object", "required": []any{"Assert"}, "additionalProperties": false,
						"properties": map[string]any{"Assert": map[string]any{"type": "object"}, "AssertDescription": map[string]any{"type": "string"}},
					}},
				},
				"additionalProperties": false,
			}},
		}
		doc["properties"] = props
		return doc
	})
	if err != nil {
		return []error{err}
	}
	errs = append(errs, run(root, t.Typed, "template")...)

	if g := mapAt(t.Typed, "Globals", "Function"); g != nil {
		s, err := compile("(globals)", func(map[string]any) map[string]any {
			return map[string]any{"$ref": "#/definitions/AWS::Serverless::Function/properties/Properties"}
		})
		if err != nil {
			return append(errs, err)
		}
		errs = append(errs, run(s, g, "Globals.Function")...)
	}

	_, defs, err := samSchema()
	if err != nil {
		return append(errs, err)
	}
	resources := mapAt(t.Typed, "Resources")
	for _, id := range sortedKeys(resources) {
		r, ok := resources[id].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("schema: resource %s is not an object", id))
			continue
		}
		typ, _ := r["Type"].(string)
		if _, ok := defs[typ]; !ok {
			if !strings.HasPrefix(typ, "Custom::") {
				errs = append(errs, fmt.Errorf("schema: resource %s: unknown resource type %q", id, typ))
			}
			continue
		}
		s, err := compile(typ, func(map[string]any) map[string]any {
			return map[string]any{"$ref": "#/definitions/" + typ}
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, run(s, r, fmt.Sprintf("resource %s (%s)", id, typ))...)
	}
	return errs
}

func run(s *gojsonschema.Schema, doc any, where string) []error {
	res, err := s.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return []error{fmt.Errorf("schema: %s: %w", where, err)}
	}
	if res.Valid() {
		return nil
	}
	all := res.Errors()
	// "Must validate at least one schema (anyOf)" only says that the
	// detailed errors next to it exist; keep it when it is alone.
	detailed := slices.DeleteFunc(slices.Clone(all), func(e gojsonschema.ResultError) bool {
		return e.Type() == "number_any_of" || e.Type() == "number_one_of"
	})
	if len(detailed) > 0 {
		all = detailed
	}
	errs := make([]error, 0, len(all))
	for _, e := range all {
		field := e.Field()
		if field == "(root)" {
			errs = append(errs, fmt.Errorf("schema: %s: %s", where, e.Description()))
			continue
		}
		errs = append(errs, fmt.Errorf("schema: %s: %s: %s", where, field, e.Description()))
	}
	return errs
}

func shallowCopy(v any) map[string]any {
	m, _ := v.(map[string]any)
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[k] = val
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
