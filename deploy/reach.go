package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Usage is what a function's code can do once deployed: the SHORTFUSE_
// variables it may read and the AWS API operations it may call. It is
// found by static analysis of the main package and of every function
// reachable from it, so code that is linked in but never runs (another
// trigger's handler in the same package, say) does not count.
type Usage struct {
	// Vars maps each SHORTFUSE_ name in a string literal or constant of
	// reachable code to the call path from main that first reached it.
	Vars map[string]string
	// Actions maps the IAM action of each AWS SDK operation that reachable
	// code calls ("dynamodb:GetItem") to the call path that first reached it.
	Actions map[string]string
}

// iamPrefix maps an AWS SDK for Go v2 service package to its IAM prefix
// where the two differ.
var iamPrefix = map[string]string{
	"sesv2":                   "ses",
	"cognitoidentityprovider": "cognito-idp",
}

const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// dynamicMethods are methods that code outside the module may call on a
// value it holds as an interface, after a type assertion (encoding/json,
// fmt, errors, log/slog, net/http): when a value of a module type becomes
// an interface, these methods of it count as reachable.
var dynamicMethods = []string{
	"MarshalJSON", "UnmarshalJSON", "MarshalText", "UnmarshalText",
	"MarshalBinary", "UnmarshalBinary", "String", "GoString", "Format",
	"Error", "Unwrap", "Is", "As", "LogValue", "ServeHTTP",
}

// Analyse reports the Usage of each command (a directory under cmd/) in
// the module at root, built as make build builds it: linux/arm64, tag
// lambda.norpc. Dependencies outside the module are read from the export
// data `go list -export` leaves in the build cache; the module's own
// packages are type-checked from source.
func Analyse(root string, cmds []string) (map[string]Usage, error) {
	prog, err := loadProgram(root, cmds)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Usage, len(cmds))
	for _, c := range cmds {
		main, ok := prog.mains[c]
		if !ok {
			return nil, fmt.Errorf("analyse: no package for ./cmd/%s", c)
		}
		out[c] = prog.reach(main)
	}
	return out, nil
}

var (
	analyseMu    sync.Mutex
	analyseCache = map[string]map[string]Usage{}
)

// analyseOnce memoizes Analyse: the code does not change while a test
// binary runs.
func analyseOnce(root string, cmds []string) (map[string]Usage, error) {
	key := root + "\x00" + strings.Join(cmds, ",")
	analyseMu.Lock()
	defer analyseMu.Unlock()
	if u, ok := analyseCache[key]; ok {
		return u, nil
	}
	u, err := Analyse(root, cmds)
	if err == nil {
		analyseCache[key] = u
	}
	return u, err
}

// ---------------------------------------------------------------- loading

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Deps       []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

type modulePackage struct {
	path  string
	deps  []string
	files []*ast.File
	info  *types.Info
	types *types.Package
}

type program struct {
	module   string
	packages map[string]*modulePackage // module packages by import path
	mains    map[string]*modulePackage // by command name
	decls    map[*types.Func]declaration
}

type declaration struct {
	decl *ast.FuncDecl
	pkg  *modulePackage
}

func loadProgram(root string, cmds []string) (*program, error) {
	args := []string{"list", "-deps", "-export", "-trimpath", "-tags", "lambda.norpc",
		"-json=ImportPath,Dir,GoFiles,Export,Deps,Module,Error"}
	for _, c := range cmds {
		args = append(args, "./cmd/"+c)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+Architecture)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -export: %v: %s", err, strings.TrimSpace(stderr.String()))
	}

	var listed []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -export: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list -export: %s: %s", p.ImportPath, p.Error.Err)
		}
		listed = append(listed, p)
	}
	prog := &program{
		packages: map[string]*modulePackage{},
		mains:    map[string]*modulePackage{},
		decls:    map[*types.Func]declaration{},
	}
	for _, p := range listed {
		if p.Module != nil && strings.HasSuffix(p.ImportPath, "/cmd/"+cmds[0]) {
			prog.module = p.Module.Path
		}
	}
	if prog.module == "" {
		return nil, fmt.Errorf("go list -export: no main package for ./cmd/%s", cmds[0])
	}

	exports := map[string]string{}
	for _, p := range listed {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	foreign := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	imp := importerFunc(func(path string) (*types.Package, error) {
		if p, ok := prog.packages[path]; ok {
			return p.types, nil
		}
		return foreign.Import(path)
	})

	// go list -deps lists dependencies first, so every module package is
	// checked before the packages that import it.
	for _, p := range listed {
		if p.Module == nil || p.Module.Path != prog.module {
			continue
		}
		mp := &modulePackage{path: p.ImportPath, deps: p.Deps}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			mp.files = append(mp.files, f)
		}
		mp.info = &types.Info{
			Types:     map[ast.Expr]types.TypeAndValue{},
			Defs:      map[*ast.Ident]types.Object{},
			Uses:      map[*ast.Ident]types.Object{},
			Instances: map[*ast.Ident]types.Instance{},
		}
		var firstErr error
		conf := types.Config{
			Importer: imp,
			Sizes:    types.SizesFor("gc", Architecture),
			Error: func(err error) {
				if firstErr == nil {
					firstErr = err
				}
			},
		}
		mp.types, _ = conf.Check(p.ImportPath, fset, mp.files, mp.info)
		if firstErr != nil {
			return nil, fmt.Errorf("type-checking %s: %w", p.ImportPath, firstErr)
		}
		prog.packages[p.ImportPath] = mp
		for _, f := range mp.files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
					if fn, ok := mp.info.Defs[fd.Name].(*types.Func); ok {
						prog.decls[fn] = declaration{decl: fd, pkg: mp}
					}
				}
			}
		}
		for _, c := range cmds {
			if p.ImportPath == prog.module+"/cmd/"+c {
				prog.mains[c] = mp
			}
		}
	}
	return prog, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// ---------------------------------------------------------------- reachability

// reacher walks the functions reachable from one main package, in the
// manner of rapid type analysis. A function is reachable when reachable
// code names it (a call, a method value, a function value). A method of a
// module type T is reachable through an interface when reachable code
// turns a T into an interface value (an argument, an assignment, a
// return, a composite literal element, a conversion, a type argument) and
// reachable code calls that method through an interface T implements.
// Code outside the module is not walked, so the methods of an interface
// declared outside the module count as called when a T becomes such an
// interface, and the dynamicMethods of T count as called when T becomes
// any interface.
type reacher struct {
	prog  *program
	usage Usage
	seen  map[*types.Func]bool
	queue []*types.Func
	from  map[*types.Func]string // the function that first reached each
	cur   string                 // the function being walked

	concrete []types.Type  // module-visible types turned into interfaces
	called   []*types.Func // interface methods called, or handed to code outside the module
	flowed   map[string]bool
}

func (p *program) reach(main *modulePackage) Usage {
	r := &reacher{
		prog:   p,
		usage:  Usage{Vars: map[string]string{}, Actions: map[string]string{}},
		seen:   map[*types.Func]bool{},
		from:   map[*types.Func]string{},
		flowed: map[string]bool{},
	}
	// Roots: main.main, and every init function and package-level variable
	// initializer of the module packages linked into the binary.
	pkgs := []*modulePackage{main}
	for _, d := range main.deps {
		if mp, ok := p.packages[d]; ok {
			pkgs = append(pkgs, mp)
		}
	}
	for _, mp := range pkgs {
		for _, f := range mp.files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil && d.Body != nil && (d.Name.Name == "init" || mp == main && d.Name.Name == "main") {
						r.walk(mp, path.Base(mp.path)+"."+d.Name.Name, d, nil)
					}
				case *ast.GenDecl:
					if d.Tok == token.VAR {
						r.walk(mp, path.Base(mp.path)+" package variables", d, nil)
					}
				}
			}
		}
	}
	for len(r.queue) > 0 {
		fn := r.queue[0]
		r.queue = r.queue[1:]
		d := p.decls[fn]
		sig, _ := fn.Type().(*types.Signature)
		r.walk(d.pkg, funcName(fn), d.decl, sig)
	}
	return r.usage
}

func (r *reacher) enqueue(fn *types.Func) {
	fn = fn.Origin()
	if r.seen[fn] {
		return
	}
	if _, ok := r.prog.decls[fn]; !ok {
		return
	}
	r.seen[fn] = true
	r.from[fn] = r.cur
	r.queue = append(r.queue, fn)
}

// path returns how the function being walked was reached, from main,
// eliding the middle of long chains.
func (r *reacher) path() string {
	chain := []string{r.cur}
	for cur := r.cur; ; {
		var next string
		for fn, from := range r.from {
			if funcName(fn) == cur {
				next = from
				break
			}
		}
		if next == "" || slices.Contains(chain, next) {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	slices.Reverse(chain)
	if len(chain) > 6 {
		chain = append(append(chain[:2:2], "…"), chain[len(chain)-3:]...)
	}
	return strings.Join(chain, " → ")
}

// walk visits one declaration; sig is the signature its return statements
// return to.
func (r *reacher) walk(mp *modulePackage, where string, root ast.Node, sig *types.Signature) {
	info := mp.info
	typeOf := info.TypeOf
	r.cur = where
	var visit func(n ast.Node, sig *types.Signature)
	visit = func(n ast.Node, sig *types.Signature) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				s, _ := typeOf(n).(*types.Signature)
				visit(n.Body, s)
				return false
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil {
						r.envVar(s)
					}
				}
			case *ast.Ident:
				r.ident(info, n)
			case *ast.CallExpr:
				r.call(info, n)
			case *ast.AssignStmt:
				if n.Tok == token.ASSIGN {
					r.assign(info, n.Lhs, n.Rhs)
				}
			case *ast.ValueSpec:
				// var _ I = (*T)(nil) asserts at compile time; the value is dropped.
				if n.Type != nil && slices.ContainsFunc(n.Names, func(id *ast.Ident) bool { return id.Name != "_" }) {
					t := typeOf(n.Type)
					for _, v := range n.Values {
						r.flow(typeOf(v), t)
					}
				}
			case *ast.ReturnStmt:
				if sig != nil && sig.Results().Len() == len(n.Results) {
					for i, e := range n.Results {
						r.flow(typeOf(e), sig.Results().At(i).Type())
					}
				}
			case *ast.CompositeLit:
				r.composite(info, n)
			case *ast.SendStmt:
				if ch, ok := typeOf(n.Chan).Underlying().(*types.Chan); ok {
					r.flow(typeOf(n.Value), ch.Elem())
				}
			}
			return true
		})
	}
	visit(root, sig)
}

func (r *reacher) envVar(s string) {
	if envName.MatchString(s) {
		if _, ok := r.usage.Vars[s]; !ok {
			r.usage.Vars[s] = r.path()
		}
	}
}

func (r *reacher) ident(info *types.Info, id *ast.Ident) {
	if inst, ok := info.Instances[id]; ok {
		r.instance(info.Uses[id], inst)
	}
	switch obj := info.Uses[id].(type) {
	case *types.Const:
		if obj.Val().Kind() == constant.String {
			r.envVar(constant.StringVal(obj.Val()))
		}
	case *types.Func:
		r.action(obj)
		if isInterfaceMethod(obj) {
			r.callInterface(obj)
			return
		}
		r.enqueue(obj)
	}
}

// action records the AWS operation fn performs, if any.
func (r *reacher) action(fn *types.Func) {
	if a := sdkAction(fn); a != "" {
		if _, ok := r.usage.Actions[a]; !ok {
			r.usage.Actions[a] = r.path()
		}
	}
}

func isInterfaceMethod(fn *types.Func) bool {
	sig, _ := fn.Type().(*types.Signature)
	return sig != nil && sig.Recv() != nil && types.IsInterface(sig.Recv().Type())
}

// callInterface records a call of the interface method m: it reaches m on every
// type turned into an interface that implements m's interface.
func (r *reacher) callInterface(m *types.Func) {
	m = m.Origin()
	if slices.Contains(r.called, m) {
		return
	}
	r.called = append(r.called, m)
	for _, t := range slices.Clone(r.concrete) {
		r.dispatch(t, m)
	}
}

func (r *reacher) dispatch(t types.Type, m *types.Func) {
	recv := m.Type().(*types.Signature).Recv()
	if recv == nil {
		return
	}
	it, ok := recv.Type().Underlying().(*types.Interface)
	if !ok || !types.Implements(t, it) {
		return
	}
	r.method(t, m.Pkg(), m.Name())
}

// instance treats the type arguments of an instantiation as turned into
// their constraints.
func (r *reacher) instance(obj types.Object, inst types.Instance) {
	var params *types.TypeParamList
	switch o := obj.(type) {
	case *types.Func:
		if sig, ok := o.Origin().Type().(*types.Signature); ok {
			params = sig.TypeParams()
		}
	case *types.TypeName:
		if n, ok := o.Type().(*types.Named); ok {
			params = n.Origin().TypeParams()
		}
	}
	if params == nil {
		return
	}
	for i := 0; i < params.Len() && i < inst.TypeArgs.Len(); i++ {
		r.flow(inst.TypeArgs.At(i), params.At(i).Constraint())
	}
}

func (r *reacher) call(info *types.Info, call *ast.CallExpr) {
	tv, ok := info.Types[call.Fun]
	if !ok {
		return
	}
	if tv.IsType() {
		if len(call.Args) == 1 {
			r.flow(info.TypeOf(call.Args[0]), tv.Type)
		}
		return
	}
	if tv.IsBuiltin() {
		if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && id.Name == "append" && len(call.Args) > 1 && !call.Ellipsis.IsValid() {
			if s, ok := info.TypeOf(call.Args[0]).Underlying().(*types.Slice); ok {
				for _, a := range call.Args[1:] {
					r.flow(info.TypeOf(a), s.Elem())
				}
			}
		}
		return
	}
	sig, ok := tv.Type.Underlying().(*types.Signature)
	if !ok {
		return
	}
	params := sig.Params()
	args := call.Args
	if len(args) == 1 && params.Len() > 1 {
		// f(g()) with g returning several values
		if tuple, ok := info.TypeOf(args[0]).(*types.Tuple); ok {
			for i := 0; i < tuple.Len() && i < params.Len(); i++ {
				r.flow(tuple.At(i).Type(), params.At(i).Type())
			}
			return
		}
	}
	for i, a := range args {
		var pt types.Type
		switch {
		case sig.Variadic() && i >= params.Len()-1:
			last := params.At(params.Len() - 1).Type()
			if call.Ellipsis.IsValid() {
				pt = last
			} else if s, ok := last.Underlying().(*types.Slice); ok {
				pt = s.Elem()
			}
		case i < params.Len():
			pt = params.At(i).Type()
		}
		r.flow(info.TypeOf(a), pt)
	}
}

func (r *reacher) assign(info *types.Info, lhs, rhs []ast.Expr) {
	if len(lhs) == len(rhs) {
		for i := range lhs {
			r.flow(info.TypeOf(rhs[i]), info.TypeOf(lhs[i]))
		}
		return
	}
	if len(rhs) == 1 {
		if tuple, ok := info.TypeOf(rhs[0]).(*types.Tuple); ok {
			for i := 0; i < tuple.Len() && i < len(lhs); i++ {
				r.flow(tuple.At(i).Type(), info.TypeOf(lhs[i]))
			}
		}
	}
}

func (r *reacher) composite(info *types.Info, lit *ast.CompositeLit) {
	t := info.TypeOf(lit)
	if t == nil {
		return
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if key, ok := kv.Key.(*ast.Ident); ok {
					for j := range u.NumFields() {
						if u.Field(j).Name() == key.Name {
							r.flow(info.TypeOf(kv.Value), u.Field(j).Type())
						}
					}
				}
			} else if i < u.NumFields() {
				r.flow(info.TypeOf(e), u.Field(i).Type())
			}
		}
	case *types.Slice, *types.Array, *types.Map:
		var key, elem types.Type
		switch c := u.(type) {
		case *types.Slice:
			elem = c.Elem()
		case *types.Array:
			elem = c.Elem()
		case *types.Map:
			key, elem = c.Key(), c.Elem()
		}
		for _, e := range lit.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if key != nil {
					r.flow(info.TypeOf(kv.Key), key)
				}
				r.flow(info.TypeOf(kv.Value), elem)
			} else {
				r.flow(info.TypeOf(e), elem)
			}
		}
	}
}

// flow records that a value of type from is used as a value of type to.
func (r *reacher) flow(from, to types.Type) {
	if from == nil || to == nil || !types.IsInterface(to) {
		return
	}
	if _, ok := from.(*types.Tuple); ok {
		return
	}
	key := types.TypeString(from, nil) + "\x00" + types.TypeString(to, nil)
	if r.flowed[key] {
		return
	}
	r.flowed[key] = true
	// Code outside the module may call the methods that it declares: an
	// SDK paginator or waiter, say, handed a client.
	if it, ok := to.Underlying().(*types.Interface); ok {
		for i := range it.NumMethods() {
			if m := it.Method(i); m.Pkg() == nil || r.prog.packages[m.Pkg().Path()] == nil {
				r.action(m)
				r.callInterface(m)
			}
		}
	}
	if types.IsInterface(from) {
		return
	}
	if slices.ContainsFunc(r.concrete, func(c types.Type) bool { return types.Identical(c, from) }) {
		return
	}
	r.concrete = append(r.concrete, from)
	for _, name := range dynamicMethods {
		r.method(from, nil, name)
	}
	for _, m := range slices.Clone(r.called) {
		r.dispatch(from, m)
	}
}

func (r *reacher) method(t types.Type, pkg *types.Package, name string) {
	obj, _, _ := types.LookupFieldOrMethod(t, true, pkg, name)
	if fn, ok := obj.(*types.Func); ok && !isInterfaceMethod(fn) {
		r.enqueue(fn)
	}
}

// sdkAction returns the IAM action of an AWS SDK for Go v2 operation: a
// function or method M whose parameters include *<service>.MInput, whether
// it is the client's method or an interface's that the client satisfies.
func sdkAction(fn *types.Func) string {
	sig, ok := fn.Type().(*types.Signature)
	if !ok {
		return ""
	}
	for i := range sig.Params().Len() {
		ptr, ok := sig.Params().At(i).Type().(*types.Pointer)
		if !ok {
			continue
		}
		named, ok := ptr.Elem().(*types.Named)
		if !ok || named.Obj().Pkg() == nil || named.Obj().Name() != fn.Name()+"Input" {
			continue
		}
		pkgPath := named.Obj().Pkg().Path()
		if !strings.HasPrefix(pkgPath, sdkServicePrefix) {
			continue
		}
		svc := path.Base(pkgPath)
		if p, ok := iamPrefix[svc]; ok {
			svc = p
		}
		return svc + ":" + fn.Name()
	}
	return ""
}

// funcName names a function for messages: "store.(*Store).DeleteChallenge".
func funcName(fn *types.Func) string {
	name := fn.Name()
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		recv := types.TypeString(sig.Recv().Type(), func(p *types.Package) string { return "" })
		if strings.HasPrefix(recv, "*") {
			recv = "(" + recv + ")"
		}
		name = recv + "." + name
	}
	if fn.Pkg() != nil {
		name = path.Base(fn.Pkg().Path()) + "." + name
	}
	return name
}
