package deploy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// CheckSnippet checks a template that attaches a deployed stack's
// authorizer to an API of your own (docs/snippets): valid against the
// schema with no reference to nothing, and wired for the shape it names in
// Metadata.Shortfuse.AuthorizerShape (the stack's AuthorizerShape):
//
//   - each authorizer is of the kind that shape answers (REST TOKEN or
//     REQUEST; HTTP API payload 2.0 with simple responses, or 1.0 with IAM
//     policies), invokes the stack's AuthorizerFunctionArn, has exactly the
//     shape's identity sources (IdentitySources, the stack's output
//     AuthorizerIdentitySource), and a result TTL from a parameter that
//     defaults to 0 and is at most 3600 (the TTL adds to the revocation
//     bound);
//   - a TOKEN authorizer's IdentityValidationExpression, if any, accepts
//     every Authorization header the authorizer takes as Bearer and refuses
//     empty, other-scheme and comma-joined headers;
//   - a Lambda permission lets API Gateway invoke the function from that
//     authorizer only;
//   - each method or route uses AuthorizationType CUSTOM with a snippet's
//     authorizer;
//   - an integration that forwards identity headers sets every header of
//     ForwardedHeaders, replacing the client's, from a context key the
//     authorizer always sets non-empty in that shape.
func CheckSnippet(t *Template) []error {
	errs := append(Validate(t), CheckReferences(t)...)
	if t.ParseErr != nil {
		return append(errs, fmt.Errorf("parse: %w", t.ParseErr))
	}
	fail := func(id, format string, args ...any) {
		errs = append(errs, problem("snippet", id+": "+format, args...))
	}
	shape := authorizer.Shape(scalarString(mapAt(t.Effective, "Metadata", "Shortfuse")["AuthorizerShape"]))
	if !slices.Contains(authorizer.Shapes, shape) {
		return append(errs, problem("snippet", "Metadata.Shortfuse.AuthorizerShape is %q, want the stack's AuthorizerShape (one of %v)", shape, authorizer.Shapes))
	}
	var authorizers []string
	for _, id := range t.Resources("AWS::ApiGateway::Authorizer") {
		authorizers = append(authorizers, id)
		p := t.Props(id)
		want := map[authorizer.Shape]string{authorizer.ShapeRESTToken: "TOKEN", authorizer.ShapeRESTRequest: "REQUEST"}[shape]
		if typ := scalarString(p["Type"]); typ != want {
			fail(id, "Type is %q: the stack's %s function answers a %s authorizer", typ, shape, or(want, "HTTP API"))
		}
		if src := strings.Split(scalarString(p["IdentitySource"]), ","); !slices.Equal(trimAll(src), IdentitySources[shape]) {
			fail(id, "IdentitySource is %q, want %q (output AuthorizerIdentitySource)", p["IdentitySource"], strings.Join(IdentitySources[shape], ","))
		}
		if expr, ok := p["IdentityValidationExpression"]; ok {
			checkValidationExpression(scalarString(expr), func(format string, args ...any) { fail(id, format, args...) })
		}
		if _, ok := p["AuthorizerCredentials"]; ok {
			fail(id, "no AuthorizerCredentials: API Gateway invokes the function under a Lambda permission scoped to this authorizer")
		}
		checkSnippetAuthorizer(t, id, str2(p["AuthorizerUri"]), fail)
	}
	for _, id := range t.Resources("AWS::ApiGatewayV2::Authorizer") {
		authorizers = append(authorizers, id)
		p := t.Props(id)
		simple, _ := p["EnableSimpleResponses"].(bool)
		version := scalarString(p["AuthorizerPayloadFormatVersion"])
		switch shape {
		case authorizer.ShapeHTTPSimple:
			if version != "2.0" || !simple {
				fail(id, "want payload format 2.0 with simple responses (AuthorizerShape http-simple)")
			}
		case authorizer.ShapeHTTPIAM:
			if version != "1.0" || simple {
				fail(id, "want payload format 1.0 without simple responses (AuthorizerShape http-iam)")
			}
		default:
			fail(id, "an HTTP API authorizer cannot read the %s function's answers; deploy the stack with an HTTP AuthorizerShape", shape)
		}
		if scalarString(p["AuthorizerType"]) != "REQUEST" {
			fail(id, "AuthorizerType must be REQUEST")
		}
		if src := stringList(p["IdentitySource"]); !slices.Equal(src, IdentitySources[shape]) {
			fail(id, "IdentitySource is %v, want %v (output AuthorizerIdentitySource)", src, IdentitySources[shape])
		}
		checkSnippetAuthorizer(t, id, str2(p["AuthorizerUri"]), fail)
	}
	if len(authorizers) == 0 {
		fail("template", "no AWS::ApiGateway::Authorizer or AWS::ApiGatewayV2::Authorizer")
	}
	isOurs := func(v any) bool {
		r, ok := soleRef(v)
		return ok && r.Attr == "" && slices.Contains(authorizers, r.Name)
	}
	for _, id := range t.Resources("AWS::ApiGateway::Method") {
		p := t.Props(id)
		if scalarString(p["HttpMethod"]) == "OPTIONS" {
			continue // CORS preflights carry no credentials
		}
		if scalarString(p["AuthorizationType"]) != "CUSTOM" || !isOurs(p["AuthorizerId"]) {
			fail(id, "a protected method needs AuthorizationType CUSTOM and AuthorizerId !Ref to the authorizer")
		}
		params := map[string]string{}
		for k, v := range mapAt(p, "Integration", "RequestParameters") {
			if h, ok := strings.CutPrefix(k, "integration.request.header."); ok {
				params[strings.ToLower(h)] = scalarString(v)
			}
		}
		checkForwarded(id, shape, params, "context.", fail)
	}
	for _, id := range t.Resources("AWS::ApiGatewayV2::Route") {
		p := t.Props(id)
		if scalarString(p["AuthorizationType"]) != "CUSTOM" || !isOurs(p["AuthorizerId"]) {
			fail(id, "a protected route needs AuthorizationType CUSTOM and AuthorizerId !Ref to the authorizer")
		}
	}
	for _, id := range t.Resources("AWS::ApiGatewayV2::Integration") {
		params := map[string]string{}
		for k, v := range mapAt(t.Props(id), "RequestParameters") {
			op, target, _ := strings.Cut(k, ":")
			h, ok := strings.CutPrefix(strings.ToLower(target), "header.")
			if !ok {
				continue
			}
			if strings.HasPrefix(h, "x-shortfuse-") && op != "overwrite" {
				fail(id, "RequestParameters %s: %q keeps or adds the client's value; identity headers are written with overwrite", k, op)
			}
			params[h] = scalarString(v)
		}
		checkForwarded(id, shape, params, "$context.", fail)
	}
	return errs
}

// checkSnippetAuthorizer: the stack's function, a TTL parameter within the
// revocation bound, a permission for this authorizer only.
func checkSnippetAuthorizer(t *Template, id, uri string, fail func(id, format string, args ...any)) {
	// Tree, not Effective: Effective has Number parameters typed to their
	// defaults already.
	ttl := mapAt(t.Tree, "Resources", id, "Properties")["AuthorizerResultTtlInSeconds"]
	if !strings.Contains(uri, "${AuthorizerFunctionArn}") {
		fail(id, "AuthorizerUri must invoke the stack's AuthorizerFunctionArn")
	}
	r, ok := soleRef(ttl)
	p := mapAt(t.Tree, "Parameters", r.Name)
	switch {
	case !ok || p == nil:
		fail(id, "AuthorizerResultTtlInSeconds must come from a parameter (the cache TTL adds to the revocation bound)")
	case scalarString(p["Default"]) != "0":
		fail(id, "parameter %s must default to 0: a cached allow outlives a revocation by up to the TTL", r.Name)
	case !atMost(p["MaxValue"], 3600):
		fail(id, "parameter %s needs MaxValue 3600 or less (API Gateway's limit; the TTL adds to the revocation bound)", r.Name)
	}
	if !invokableFrom(t, "${AuthorizerFunctionArn}", "/authorizers/${"+id+"}") {
		fail(id, "no Lambda permission lets apigateway.amazonaws.com invoke the function from this authorizer only (SourceArn .../authorizers/${%s})", id)
	}
}

// checkForwarded: identity headers set by an integration are all of
// ForwardedHeaders, each from a key the shape always sets, so that none is
// left for the client to fill. prefix is "$context." (HTTP APIs) or
// "context." (REST APIs).
func checkForwarded(id string, shape authorizer.Shape, headers map[string]string, prefix string, fail func(id, format string, args ...any)) {
	identity := false
	for h := range headers {
		if strings.HasPrefix(h, "x-shortfuse-") {
			identity = true
		}
	}
	if !identity {
		return
	}
	always := authorizer.ForwardedKeys(shape)
	for _, h := range sortedKeys(ForwardedHeaders) {
		if _, ok := headers[h]; !ok {
			fail(id, "forwards identity headers but not %s: a client could send it", h)
		}
	}
	for _, h := range sortedKeys(headers) {
		if !strings.HasPrefix(h, "x-shortfuse-") {
			continue
		}
		v := headers[h]
		want := strings.TrimPrefix(ForwardedHeaders[h], "$context.")
		key, fromAuthorizer := strings.CutPrefix(v, prefix+"authorizer.")
		switch {
		case v == prefix+"requestId" && want == "requestId":
		case fromAuthorizer && slices.Contains(always, key) && strings.HasPrefix(want, "authorizer."):
		default:
			fail(id, "%s is mapped from %q; identity headers come from %sauthorizer.<key> with a key the %s authorizer always sets (%s), or %srequestId", h, v, prefix, shape, strings.Join(always, ", "), prefix)
		}
	}
}

// checkValidationExpression: a TOKEN authorizer's regular expression must
// let through every header the authorizer accepts as Bearer (or clients are
// refused before it is asked) and should stop headers it would refuse
// anyway, without a Lambda invocation.
func checkValidationExpression(expr string, fail func(format string, args ...any)) {
	re, err := regexp.Compile(expr)
	if err != nil {
		fail("IdentityValidationExpression %q does not compile: %v", expr, err)
		return
	}
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	for _, h := range []string{"Bearer " + jwt, "bearer " + jwt, "BEARER " + jwt, "Bearer  " + jwt} {
		if c, ok := tokenspec.ParseAuthorization(h); !ok || c.Scheme != tokenspec.SchemeBearer {
			continue // not a header the authorizer accepts either
		}
		if !re.MatchString(h) {
			fail("IdentityValidationExpression %q refuses %q, which the authorizer accepts", expr, h)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "DPoP " + jwt, "Bearer " + jwt + ",Bearer " + jwt} {
		if re.MatchString(h) {
			fail("IdentityValidationExpression %q lets %q through, which the authorizer refuses (a wasted invocation; a TOKEN authorizer cannot check DPoP proofs)", expr, h)
		}
	}
}

// atMost reports whether v is a number no greater than limit.
func atMost(v any, limit int) bool {
	n, err := strconv.Atoi(scalarString(v))
	return err == nil && n <= limit
}

func trimAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func str2(v any) string { return scalarString(v) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func invokableFrom(t *Template, fn, sourceSuffix string) bool {
	for _, p := range t.CFN.GetAllLambdaPermissionResources() {
		if p.Action == "lambda:InvokeFunction" && p.Principal == "apigateway.amazonaws.com" && p.FunctionName == fn &&
			strings.HasSuffix(str(p.SourceArn), sourceSuffix) {
			return true
		}
	}
	return false
}
