package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a SAM template prepared for offline checks.
//
// Tree is the document as written, with every intrinsic function replaced
// by a placeholder that keeps its references readable:
//
//	!Ref Table                  -> "${Table}"
//	!GetAtt Table.Arn           -> "${Table.Arn}"
//	!Sub "arn:...:${Table.Arn}" -> "arn:...:${Table.Arn}" (unchanged)
//	!If [Cond, A, B]            -> A (B when A is AWS::NoValue)
//	!Split [",", !Ref P]        -> ["${P}"]
//	!Ref AWS::NoValue           -> removed, as CloudFormation does
//
// Tests mutate a copy of Tree (see Clone) and rebuild a Template with
// FromTree to show that a planted mistake is caught.
type Template struct {
	Tree map[string]any

	// Typed is Tree with references to Number parameters replaced by their
	// defaults, so numeric properties carry numbers, as CloudFormation sees
	// them after parameter resolution. The schema is checked against it.
	Typed map[string]any

	// Effective is Typed with the SAM Globals applied to every function and
	// environment values converted to strings, as SAM and CloudFormation do.
	Effective map[string]any

	// CFN is goformation's typed view of Effective; nil when ParseErr is set.
	CFN      *cloudformation.Template
	ParseErr error

	// Params are the parameter values ParseWith deployed the template
	// with (defaults included); nil for Parse, which checks every Fn::If as
	// if its condition held.
	Params map[string]string

	// Raw is the document with intrinsic functions as written ({"Fn::If":
	// [...]}, {"Ref": ...}); nil for a Template built by FromTree. Both
	// branches of every Fn::If are in it.
	Raw map[string]any
}

// Load reads and prepares the template at path (YAML or JSON).
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse prepares a template from YAML or JSON source.
func Parse(data []byte) (*Template, error) {
	raw, err := rawTree(data)
	if err != nil {
		return nil, err
	}
	return fromRaw(raw, raw)
}

// fromRaw builds the Template whose placeholder tree comes from doc (a
// long-form tree such as rawTree returns, or one ParseWith resolved from
// it) and whose Raw is raw. The YAML source is parsed once, by rawTree;
// the placeholders are resolved on doc as JSON, which is what ProcessYAML
// would do after its own parse.
func fromRaw(doc, raw map[string]any) (*Template, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out, err := intrinsics.ProcessJSON(b, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: placeholderHandlers(),
	})
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(out, &tree); err != nil {
		return nil, fmt.Errorf("deploy: template is not an object: %w", err)
	}
	t, err := FromTree(tree)
	if t != nil {
		t.Raw = raw
	}
	return t, err
}

// rawTree is the document with its intrinsic functions in long form.
func rawTree(data []byte) (map[string]any, error) {
	out, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("deploy: template is not an object: %w", err)
	}
	return raw, nil
}

// FromTree builds a Template from a placeholder tree such as Tree or a
// mutated Clone of it. It fails only when tree is not a template at all;
// typing errors are kept in ParseErr and reported by Check.
func FromTree(tree map[string]any) (*Template, error) {
	if tree == nil {
		return nil, fmt.Errorf("deploy: empty template")
	}
	t := &Template{Tree: dropNulls(tree).(map[string]any)}
	t.Typed = deepCopy(t.Tree).(map[string]any)
	nums := numberParams(t.Tree)
	lists := listParams(t.Tree)
	for k, v := range t.Typed {
		if k != "Parameters" {
			t.Typed[k] = typeLists(typeNumbers(v, nums), lists)
		}
	}
	t.Effective = applyGlobals(deepCopy(t.Typed).(map[string]any))
	// The schema wants parameter bounds as strings, goformation as numbers.
	for _, p := range mapAt(t.Effective, "Parameters") {
		pm, _ := p.(map[string]any)
		for _, k := range []string{"MinValue", "MaxValue", "MinLength", "MaxLength"} {
			if f, err := strconv.ParseFloat(scalarString(pm[k]), 64); err == nil {
				pm[k] = f
			}
		}
	}

	data, err := json.Marshal(t.Effective)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if unknown := unknownTypes(t.Effective); len(unknown) > 0 {
		t.ParseErr = fmt.Errorf("goformation cannot type resources %s: unknown resource type", strings.Join(unknown, ", "))
		return t, nil
	}
	cfn := &cloudformation.Template{}
	if err := json.Unmarshal(data, cfn); err != nil {
		t.ParseErr = fmt.Errorf("goformation: %w", err)
		return t, nil
	}
	t.CFN = cfn
	return t, nil
}

// Clone returns a deep copy of Tree for a test to mutate.
func (t *Template) Clone() map[string]any { return deepCopy(t.Tree).(map[string]any) }

// Resources returns the logical IDs of the resources of type typ in
// Effective, sorted.
func (t *Template) Resources(typ string) []string {
	var ids []string
	for id, r := range mapAt(t.Effective, "Resources") {
		if rm, ok := r.(map[string]any); ok && rm["Type"] == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Resource returns the resource with the given logical ID from Effective.
func (t *Template) Resource(id string) map[string]any {
	return mapAt(t.Effective, "Resources", id)
}

// Props returns the Properties of a resource from Effective.
func (t *Template) Props(id string) map[string]any {
	return mapAt(t.Effective, "Resources", id, "Properties")
}

// ResourceType returns the Type of a resource, or "" when it does not exist.
func (t *Template) ResourceType(id string) string {
	s, _ := t.Resource(id)["Type"].(string)
	return s
}

// ---------------------------------------------------------------- the user pool

// Placeholders of the user pool the stack uses: the one it creates, or the
// one ExistingUserPoolId names.
const (
	createdPool     = "${UserPool}"
	createdPoolArn  = "${UserPool.Arn}"
	existingPool    = "${ExistingUserPoolId}"
	existingPoolArn = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${ExistingUserPoolId}"
)

// ExistingPool reports whether the template was deployed (ParseWith) to
// use an existing user pool instead of creating one.
func (t *Template) ExistingPool() bool { return t.Params["ExistingUserPoolId"] != "" }

// canonicalPool writes a reference to the stack's user pool the one way
// the Functions spec does, whichever pool it is.
func canonicalPool(s string) string {
	switch s {
	case existingPoolArn:
		return createdPoolArn
	case existingPool:
		return createdPool
	}
	return s
}

// absentHere reports whether a grant's resource is a parameter left empty
// in this deployment (an optional KMS key, say), so the statement that
// would name it is rightly left out by its condition.
func (t *Template) absentHere(res string) bool {
	if t.Params == nil {
		return false
	}
	refs := Refs(res)
	for _, r := range refs {
		if v, ok := t.Params[r.Name]; ok && v == "" {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- placeholders

// refPattern matches one placeholder: ${Name}, ${Name.Attr} or ${AWS::Region}.
var refPattern = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}`)

// Ref is one reference found in a placeholder string.
type Ref struct {
	Name string // logical ID, parameter or pseudo parameter
	Attr string // GetAtt attribute, "" for a Ref
}

// Refs returns the references in a placeholder string, in order.
func Refs(s string) []Ref {
	var refs []Ref
	for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
		refs = append(refs, Ref{Name: m[1], Attr: m[2]})
	}
	return refs
}

// isRef reports whether v is exactly the placeholder of a reference to
// name (with attribute attr, "" for a Ref).
func isRef(v any, name, attr string) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if attr == "" {
		return s == "${"+name+"}"
	}
	return s == "${"+name+"."+attr+"}"
}

// soleRef returns the reference when v is exactly one placeholder.
func soleRef(v any) (Ref, bool) {
	s, ok := v.(string)
	if !ok {
		return Ref{}, false
	}
	m := refPattern.FindStringSubmatch(s)
	if m == nil || m[0] != s {
		return Ref{}, false
	}
	return Ref{Name: m[1], Attr: m[2]}, true
}

func placeholderHandlers() map[string]intrinsics.IntrinsicHandler {
	keep := func(name string, input, _ any) any { return map[string]any{name: input} }
	opaque := func(name string, _, _ any) any { return "${" + strings.ReplaceAll(name, "::", ":") + "}" }
	return map[string]intrinsics.IntrinsicHandler{
		"Ref":        ref,
		"Fn::GetAtt": getAtt,
		"Fn::Sub":    sub,
		"Fn::Join":   join,
		"Fn::If":     fnIf,
		"Fn::Select": func(name string, input, t any) any {
			if args, ok := input.([]any); ok && len(args) == 2 {
				i, iok := toInt(args[0])
				if list, lok := args[1].([]any); iok && lok && i >= 0 && i < len(list) {
					return list[i]
				}
			}
			return opaque(name, input, t)
		},
		"Fn::Base64": func(_ string, input, _ any) any { return input },
		// A list of one placeholder: the parts are unknown until deploy
		// time, but the property is a list, as the schema expects.
		"Fn::Split": func(name string, input, t any) any {
			if args, ok := input.([]any); ok && len(args) == 2 {
				if s, ok := args[1].(string); ok {
					return []any{s}
				}
			}
			return []any{opaque(name, input, t)}
		},
		// Condition functions stay as written: the Conditions section is
		// schema-checked as objects, and no check evaluates them.
		"Fn::Equals": keep, "Fn::And": keep, "Fn::Or": keep, "Fn::Not": keep,
		"Fn::FindInMap": opaque, "Fn::GetAZs": opaque,
		"Fn::ImportValue": opaque, "Fn::Cidr": opaque, "Fn::Transform": opaque,
	}
}

func ref(_ string, input, _ any) any {
	name, ok := input.(string)
	if !ok {
		return "${?}"
	}
	if name == "AWS::NoValue" {
		return nil
	}
	return "${" + name + "}"
}

func getAtt(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		return "${" + v + "}"
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		return "${" + strings.Join(parts, ".") + "}"
	}
	return "${?}"
}

func sub(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		return v
	case []any:
		if len(v) == 0 {
			return "${?}"
		}
		s, _ := v[0].(string)
		if len(v) > 1 {
			if vars, ok := v[1].(map[string]any); ok {
				for k, val := range vars {
					s = strings.ReplaceAll(s, "${"+k+"}", scalarString(val))
				}
			}
		}
		return s
	}
	return "${?}"
}

func join(_ string, input, _ any) any {
	args, ok := input.([]any)
	if !ok || len(args) != 2 {
		return "${Fn:Join}"
	}
	sep, _ := args[0].(string)
	if s, ok := args[1].(string); ok {
		return s // a list parameter, "${P}": its items are known at deploy time
	}
	list, ok := args[1].([]any)
	if !ok {
		return "${Fn:Join}"
	}
	parts := make([]string, 0, len(list))
	for _, p := range list {
		parts = append(parts, scalarString(p))
	}
	return strings.Join(parts, sep)
}

// fnIf takes the first branch that is a value, so a statement guarded by a
// condition is checked as if the condition held.
func fnIf(_ string, input, _ any) any {
	args, ok := input.([]any)
	if !ok || len(args) != 3 {
		return "${Fn:If}"
	}
	if args[1] != nil {
		return args[1]
	}
	return args[2]
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), x == float64(int(x))
	case string:
		i, err := strconv.Atoi(x)
		return i, err == nil
	}
	return 0, false
}

// ---------------------------------------------------------------- tree helpers

// mapAt walks nested maps; it returns nil when a step is missing.
func mapAt(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = deepCopy(val)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, val := range x {
			s[i] = deepCopy(val)
		}
		return s
	}
	return v
}

// dropNulls removes AWS::NoValue (null) from maps and lists, as
// CloudFormation removes the property or element.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if val == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(val)
		}
		return x
	case []any:
		out := x[:0]
		for _, val := range x {
			if val != nil {
				out = append(out, dropNulls(val))
			}
		}
		return out
	}
	return v
}

// numberParams maps each Number parameter with a numeric default to it.
func numberParams(tree map[string]any) map[string]float64 {
	out := map[string]float64{}
	for name, p := range mapAt(tree, "Parameters") {
		pm, ok := p.(map[string]any)
		if !ok || pm["Type"] != "Number" {
			continue
		}
		if f, err := strconv.ParseFloat(scalarString(pm["Default"]), 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// listParams are the parameters whose value is a list.
func listParams(tree map[string]any) map[string]bool {
	out := map[string]bool{}
	for name, p := range mapAt(tree, "Parameters") {
		pm, _ := p.(map[string]any)
		if typ, _ := pm["Type"].(string); typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
			out[name] = true
		}
	}
	return out
}

// typeLists replaces "${P}" by ["${P}"] for a list parameter P: a !Ref to
// it is a list, as the schema expects.
func typeLists(v any, lists map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = typeLists(val, lists)
		}
	case []any:
		for i, val := range x {
			x[i] = typeLists(val, lists)
		}
	case string:
		if r, ok := soleRef(x); ok && r.Attr == "" && lists[r.Name] {
			return []any{x}
		}
	}
	return v
}

// typeNumbers replaces "${P}" by the default of the Number parameter P.
func typeNumbers(v any, nums map[string]float64) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = typeNumbers(val, nums)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = typeNumbers(val, nums)
		}
		return x
	case string:
		if r, ok := soleRef(x); ok && r.Attr == "" {
			if f, ok := nums[r.Name]; ok {
				return f
			}
		}
	}
	return v
}

// applyGlobals merges Globals.Function into every AWS::Serverless::Function
// the way SAM does: the resource's scalars win, maps merge, lists append.
// Environment values become strings, as CloudFormation passes them.
func applyGlobals(tree map[string]any) map[string]any {
	globals := mapAt(tree, "Globals", "Function")
	for _, r := range mapAt(tree, "Resources") {
		rm, ok := r.(map[string]any)
		if !ok || rm["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := rm["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			rm["Properties"] = props
		}
		if globals != nil {
			rm["Properties"] = mergeGlobal(deepCopy(globals).(map[string]any), props)
			props = rm["Properties"].(map[string]any)
		}
		for k, v := range mapAt(props, "Environment", "Variables") {
			if _, isString := v.(string); !isString {
				mapAt(props, "Environment", "Variables")[k] = scalarString(v)
			}
		}
	}
	return tree
}

func mergeGlobal(global, local map[string]any) map[string]any {
	out := maps.Clone(global)
	for k, lv := range local {
		gv, ok := out[k]
		if !ok {
			out[k] = lv
			continue
		}
		gm, gIsMap := gv.(map[string]any)
		lm, lIsMap := lv.(map[string]any)
		gl, gIsList := gv.([]any)
		ll, lIsList := lv.([]any)
		switch {
		case gIsMap && lIsMap:
			out[k] = mergeGlobal(gm, lm)
		case gIsList && lIsList:
			out[k] = append(slices.Clone(gl), ll...)
		default:
			out[k] = lv
		}
	}
	return out
}

func unknownTypes(tree map[string]any) []string {
	var bad []string
	known := cloudformation.AllResources()
	for id, r := range mapAt(tree, "Resources") {
		rm, _ := r.(map[string]any)
		typ, _ := rm["Type"].(string)
		if _, ok := known[typ]; !ok && !strings.HasPrefix(typ, "Custom::") {
			bad = append(bad, fmt.Sprintf("%s (%q)", id, typ))
		}
	}
	slices.Sort(bad)
	return bad
}
