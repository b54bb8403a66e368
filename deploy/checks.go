package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/cognitoevents"
	"github.com/shortfuse/shortfuse/shared/cors"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Check runs every check that needs only the template: the schema, then
// the wiring. It returns one error per problem, each naming the resource
// and saying what to change.
func Check(t *Template) []error {
	errs := Validate(t)
	if t.ParseErr != nil {
		return append(errs, fmt.Errorf("parse: %w", t.ParseErr))
	}
	for _, c := range []func(*Template) []error{
		CheckReferences, CheckFunctions, CheckTriggers, CheckUserPool, CheckTable,
		CheckRoutes, CheckThrottling, CheckLogs, CheckIAM, CheckConsistency, CheckCORS, CheckCognitoEvents,
		CheckInvokePermissions,
	} {
		errs = append(errs, c(t)...)
	}
	return errs
}

func problem(check, format string, args ...any) error {
	return fmt.Errorf(check+": "+format, args...)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func functionSpec(id string) (Function, bool) {
	for _, f := range Functions {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

// ---------------------------------------------------------------- references

// CheckReferences finds references to nothing (a misspelt !Ref or !GetAtt)
// and parameters nothing uses.
func CheckReferences(t *Template) []error {
	var errs []error
	params := mapAt(t.Tree, "Parameters")
	resources := mapAt(t.Tree, "Resources")
	used := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(path+"."+k, x[k])
			}
		case []any:
			for i, val := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), val)
			}
		case string:
			for _, r := range Refs(x) {
				used[r.Name] = true
				_, isParam := params[r.Name]
				_, isResource := resources[r.Name]
				switch {
				case strings.HasPrefix(r.Name, "AWS::"):
				case isResource:
				case isParam && r.Attr == "":
				default:
					name := r.Name
					if r.Attr != "" {
						name += "." + r.Attr
					}
					errs = append(errs, problem("references", "%s refers to %q, which is neither a parameter nor a resource", strings.TrimPrefix(path, "."), name))
				}
			}
		}
	}
	for _, section := range []string{"Resources", "Outputs", "Globals", "Conditions"} {
		walk(section, t.Tree[section])
	}
	// A parameter used only in a branch of Fn::If that Tree does not show
	// (the other branch of a condition) is used too.
	markRawRefs(t.Raw, used)
	for _, p := range sortedKeys(params) {
		if !used[p] {
			errs = append(errs, problem("references", "parameter %s is never used; remove it or wire it", p))
		}
	}
	return errs
}

// markRawRefs marks every name referenced in a raw (long-form) tree.
func markRawRefs(v any, used map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["Ref"].(string); ok && len(x) == 1 {
			used[name] = true
		}
		for k, val := range x {
			if sub, ok := val.(string); ok && k == "Fn::Sub" {
				for _, r := range Refs(sub) {
					used[r.Name] = true
				}
			}
			markRawRefs(val, used)
		}
	case []any:
		for i, val := range x {
			if sub, ok := val.(string); ok && i == 0 {
				for _, r := range Refs(sub) {
					used[r.Name] = true
				}
			}
			markRawRefs(val, used)
		}
	}
}

// ---------------------------------------------------------------- functions

// CheckFunctions asserts that the template defines exactly the functions
// in Functions, each built by `make build-<LogicalID>` into a bootstrap
// binary for provided.al2023 on arm64.
func CheckFunctions(t *Template) []error {
	var errs []error
	fns := t.CFN.GetAllServerlessFunctionResources()
	for _, spec := range Functions {
		if _, ok := fns[spec.LogicalID]; !ok {
			errs = append(errs, problem("functions", "%s (cmd/%s) is missing from the template", spec.LogicalID, spec.Cmd))
		}
	}
	for _, id := range sortedKeys(fns) {
		f := fns[id]
		if _, ok := functionSpec(id); !ok {
			errs = append(errs, problem("functions", "%s is not listed in deploy.Functions; add it there with its command and the exact permissions it needs", id))
			continue
		}
		if got := str(f.Runtime); got != Runtime {
			errs = append(errs, problem("functions", "%s: Runtime is %q, want %q", id, got, Runtime))
		}
		if !slices.Equal(f.Architectures, []string{Architecture}) {
			errs = append(errs, problem("functions", "%s: Architectures is %v, want [%s] (make build cross-compiles for GOARCH=arm64)", id, f.Architectures, Architecture))
		}
		if got := str(f.Handler); got != Handler {
			errs = append(errs, problem("functions", "%s: Handler is %q, want %q: the binary make builds is named bootstrap", id, got, Handler))
		}
		// Two forms: the source template (sam build runs the Makefile from
		// the root), or the one make package writes next to the zips.
		bm, _ := f.AWSCloudFormationMetadata["BuildMethod"].(string)
		spec, _ := functionSpec(id)
		packaged := f.CodeUri != nil && str(f.CodeUri.String) == spec.Cmd+".zip"
		switch {
		case packaged && bm != "":
			errs = append(errs, problem("functions", "%s: CodeUri is the prebuilt %s.zip, yet Metadata.BuildMethod is %q: sam build would rebuild it", id, spec.Cmd, bm))
		case packaged:
		case f.CodeUri == nil || str(f.CodeUri.String) != ".":
			errs = append(errs, problem("functions", "%s: CodeUri must be \".\" (the repository root holding the Makefile that sam build runs), or %s.zip in a template written by make package", id, spec.Cmd))
		case bm != BuildMethod:
			errs = append(errs, problem("functions", "%s: Metadata.BuildMethod is %q, want %q so that sam build runs make build-%s", id, bm, BuildMethod, id))
		}
		if f.InlineCode != nil || f.ImageUri != nil || str(f.PackageType) == "Image" {
			errs = append(errs, problem("functions", "%s: must be a zip package built from cmd/, not inline code or an image", id))
		}
		if f.Role != nil {
			errs = append(errs, problem("functions", "%s: sets Role; let SAM create the role from Policies so the least-privilege checks can see every permission", id))
		}
		if len(f.Events) > 0 {
			errs = append(errs, problem("functions", "%s: has Events %v; wire triggers through UserPool.LambdaConfig and routes as AWS::ApiGatewayV2::Route so the checks see them", id, sortedKeys(f.Events)))
		}
	}
	return errs
}

// ---------------------------------------------------------------- Cognito

// CheckTriggers asserts that every trigger function is hooked into the
// user pool's LambdaConfig and that Cognito, from this user pool only, may
// invoke it.
func CheckTriggers(t *Template) []error {
	var errs []error
	pools := t.Resources("AWS::Cognito::UserPool")
	if t.ExistingPool() {
		// `shortfuse triggers attach` hooks the functions into the pool;
		// the stack must let that pool, and only it, invoke them.
		if len(pools) != 0 {
			errs = append(errs, problem("triggers", "ExistingUserPoolId is set, yet the stack creates %v: give it Condition: CreateUserPool", pools))
		}
		for _, spec := range Functions {
			if spec.Trigger != "" && !invokable(t, spec.LogicalID, "cognito-idp.amazonaws.com", func(src string) bool { return src == existingPoolArn }) {
				errs = append(errs, problem("triggers", "no AWS::Lambda::Permission lets cognito-idp.amazonaws.com invoke %s from the existing pool (SourceArn %s): the %s trigger would fail once attached", spec.LogicalID, existingPoolArn, spec.Trigger))
			}
		}
		return errs
	}
	if len(pools) != 1 {
		return []error{problem("triggers", "want exactly one AWS::Cognito::UserPool, found %d", len(pools))}
	}
	pool := pools[0]
	config := mapAt(t.Props(pool), "LambdaConfig")
	hooked := map[string]bool{}
	for _, spec := range Functions {
		if spec.Trigger == "" {
			continue
		}
		hooked[spec.Trigger] = true
		if v, ok := config[spec.Trigger]; !ok {
			errs = append(errs, problem("triggers", "%s.LambdaConfig.%s is not set: Cognito would never call %s", pool, spec.Trigger, spec.LogicalID))
		} else if !isRef(v, spec.LogicalID, "Arn") {
			errs = append(errs, problem("triggers", "%s.LambdaConfig.%s is %v, want !GetAtt %s.Arn", pool, spec.Trigger, v, spec.LogicalID))
		}
		if !invokable(t, spec.LogicalID, "cognito-idp.amazonaws.com", func(src string) bool { return src == "${"+pool+".Arn}" }) {
			errs = append(errs, problem("triggers", "no AWS::Lambda::Permission lets cognito-idp.amazonaws.com invoke %s (FunctionName !GetAtt %s.Arn, SourceArn !GetAtt %s.Arn): Cognito cannot call the %s trigger", spec.LogicalID, spec.LogicalID, pool, spec.Trigger))
		}
	}
	for _, k := range sortedKeys(config) {
		if !hooked[k] && k != "KMSKeyID" {
			errs = append(errs, problem("triggers", "%s.LambdaConfig.%s is set but no function in deploy.Functions has that trigger", pool, k))
		}
	}
	return errs
}

// invokable reports whether a Lambda permission lets principal invoke fn
// with a SourceArn accepted by source.
func invokable(t *Template, fn, principal string, source func(string) bool) bool {
	for _, p := range t.CFN.GetAllLambdaPermissionResources() {
		if p.Action == "lambda:InvokeFunction" && p.Principal == principal &&
			isRefTo(p.FunctionName, fn) &&
			source(str(p.SourceArn)) {
			return true
		}
	}
	return false
}

// CheckInvokePermissions asserts that API Gateway may invoke a function
// only from one API: the stack's own HTTP API, or the API named by the
// ExistingApiId parameter; and the authorizer function only from that API's
// authorizers. A SourceArn with a wildcard API would let any API in the
// account (or, without the account, anywhere) call it.
func CheckInvokePermissions(t *Template) []error {
	var errs []error
	const prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
	perms := t.CFN.GetAllLambdaPermissionResources()
	for _, id := range sortedKeys(perms) {
		p := perms[id]
		if p.Principal != "apigateway.amazonaws.com" {
			continue
		}
		src := str(p.SourceArn)
		rest, ok := strings.CutPrefix(src, prefix)
		api, path, _ := strings.Cut(rest, "/")
		r, isRef := soleRef(api)
		ownAPI := isRef && t.ResourceType(r.Name) == "AWS::ApiGatewayV2::Api"
		existing := isRef && r.Name == "ExistingApiId" && mapAt(t.Tree, "Parameters", r.Name) != nil
		if !ok || !(ownAPI || existing) {
			errs = append(errs, problem("permissions", "%s: SourceArn %q must name one API: %s${HttpApi}/... or %s${ExistingApiId}/...", id, src, prefix, prefix))
			continue
		}
		if isRefTo(p.FunctionName, AuthorizerFunctionID) && !strings.HasPrefix(path, "authorizers/") {
			errs = append(errs, problem("permissions", "%s: the authorizer function may be invoked from the API's authorizers only (SourceArn .../authorizers/...), got %q", id, src))
		}
	}
	return errs
}

// isRefTo reports whether v references the resource id (Ref or Arn).
func isRefTo(v any, id string) bool {
	return isRef(v, id, "Arn") || isRef(v, id, "")
}

// CheckUserPool asserts mail through SES (so custom messages can set
// subjects) and token revocation on every app client.
func CheckUserPool(t *Template) []error {
	var errs []error
	for id, pool := range t.CFN.GetAllCognitoUserPoolResources() {
		ec := pool.EmailConfiguration
		if ec == nil || str(ec.EmailSendingAccount) != "DEVELOPER" || str(ec.SourceArn) == "" {
			errs = append(errs, problem("userpool", "%s: EmailConfiguration must use EmailSendingAccount DEVELOPER with an SES SourceArn", id))
		}
	}
	clients := t.CFN.GetAllCognitoUserPoolClientResources()
	if len(clients) == 0 && !t.ExistingPool() {
		errs = append(errs, problem("userpool", "no AWS::Cognito::UserPoolClient: the token service needs an app client"))
	}
	for _, id := range sortedKeys(clients) {
		if c := clients[id]; c.EnableTokenRevocation == nil || !*c.EnableTokenRevocation {
			errs = append(errs, problem("userpool", "%s: EnableTokenRevocation must be true", id))
		}
	}
	return errs
}

// ---------------------------------------------------------------- table

// CheckTable asserts the single table of the data model: pk/sk, the gsi1
// index, on-demand billing, point-in-time recovery, encryption and TTL on
// ttl.
func CheckTable(t *Template) []error {
	tables := t.CFN.GetAllDynamoDBTableResources()
	if len(tables) != 1 {
		return []error{problem("table", "want exactly one AWS::DynamoDB::Table, found %d", len(tables))}
	}
	var errs []error
	for id, tb := range tables {
		fail := func(format string, args ...any) {
			errs = append(errs, problem("table", id+": "+format, args...))
		}
		if str(tb.BillingMode) != "PAY_PER_REQUEST" {
			fail("BillingMode must be PAY_PER_REQUEST (on demand)")
		}
		if p := tb.PointInTimeRecoverySpecification; p == nil || p.PointInTimeRecoveryEnabled == nil || !*p.PointInTimeRecoveryEnabled {
			fail("point-in-time recovery must be enabled")
		}
		if s := tb.SSESpecification; s == nil || !s.SSEEnabled {
			fail("SSESpecification.SSEEnabled must be true")
		}
		if ttl := tb.TimeToLiveSpecification; ttl == nil || str(ttl.AttributeName) != "ttl" || !ttl.Enabled {
			fail("TimeToLiveSpecification must enable TTL on attribute ttl")
		}
		keys := func(ks []string) string { return strings.Join(ks, "/") }
		var pk []string
		for _, k := range tb.KeySchema {
			pk = append(pk, k.AttributeName)
		}
		if keys(pk) != "pk/sk" {
			fail("key schema is %s, want pk/sk", keys(pk))
		}
		found := false
		for _, g := range tb.GlobalSecondaryIndexes {
			if g.IndexName != "gsi1" {
				continue
			}
			found = true
			var gk []string
			for _, k := range g.KeySchema {
				gk = append(gk, k.AttributeName)
			}
			if keys(gk) != "gsi1pk/gsi1sk" {
				fail("index gsi1 keys are %s, want gsi1pk/gsi1sk", keys(gk))
			}
		}
		if !found {
			fail("global secondary index gsi1 is missing (sessions are listed by user through it)")
		}
		if string(tb.AWSCloudFormationDeletionPolicy) != "Retain" {
			fail("DeletionPolicy must be Retain: deleting the stack must not delete sessions and revocations")
		}
	}
	return errs
}

// ---------------------------------------------------------------- routes

// CheckRoutes asserts the HTTP API: every expected route exists and reaches
// a function API Gateway may invoke, and every route that is not in
// PublicRoutes is behind the Lambda authorizer.
func CheckRoutes(t *Template) []error {
	var errs []error
	for _, typ := range []string{"AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi"} {
		for _, id := range t.Resources(typ) {
			errs = append(errs, problem("routes", "%s is a %s; declare routes as AWS::ApiGatewayV2::Route so each one's authorizer and throttling are checked", id, typ))
		}
	}
	apis := t.Resources("AWS::ApiGatewayV2::Api")
	if len(apis) == 0 && paramValue(t, "${CreateHttpApi}") == "false" {
		// No API of the stack's own (CreateHttpApi=false): nothing may be
		// left that needs one.
		for _, typ := range []string{"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Authorizer", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Stage"} {
			for _, id := range t.Resources(typ) {
				errs = append(errs, problem("routes", "%s (%s) is deployed without the HTTP API: give it Condition CreateHttpApi", id, typ))
			}
		}
		return errs
	}
	if len(apis) != 1 {
		return append(errs, problem("routes", "want exactly one AWS::ApiGatewayV2::Api, found %d", len(apis)))
	}
	api := apis[0]
	if p := t.CFN.GetAllApiGatewayV2ApiResources()[api]; str(p.ProtocolType) != "HTTP" {
		errs = append(errs, problem("routes", "%s: ProtocolType must be HTTP", api))
	}

	authorizers := checkAuthorizers(t, api, &errs)

	routes := t.CFN.GetAllApiGatewayV2RouteResources()
	byKey := map[string]string{}
	for _, id := range sortedKeys(routes) {
		r := routes[id]
		name := fmt.Sprintf("route %q (%s)", r.RouteKey, id)
		if prev, dup := byKey[r.RouteKey]; dup {
			errs = append(errs, problem("routes", "%s repeats the route key of %s", name, prev))
		}
		byKey[r.RouteKey] = id
		if !isRef(r.ApiId, api, "") {
			errs = append(errs, problem("routes", "%s: ApiId must be !Ref %s", name, api))
		}
		checkTarget(t, api, name, str(r.Target), &errs)

		// The token service authenticates its Bearer routes itself: they
		// may skip an authorizer that would refuse its tokens (direct
		// mode), and with a REST shape the API has no authorizer at all.
		public := slices.Contains(PublicRoutes, r.RouteKey) ||
			(t.Params["AuthorizerMode"] == "direct" && slices.Contains(SelfAuthenticated, r.RouteKey) && targetsTokenService(t, str(r.Target))) ||
			(len(authorizers) == 0 && restShape(authorizerShape(t)) && targetsTokenService(t, str(r.Target)))
		switch at := str(r.AuthorizationType); {
		case at == "CUSTOM":
			ref, ok := soleRef(str(r.AuthorizerId))
			if !ok || !slices.Contains(authorizers, ref.Name) {
				errs = append(errs, problem("routes", "%s: AuthorizerId is %q, want !Ref to the Lambda authorizer (%s)", name, str(r.AuthorizerId), strings.Join(authorizers, ", ")))
			}
		case public && (at == "" || at == "NONE"):
		default:
			errs = append(errs, problem("routes", "%s is not behind the authorizer: AuthorizationType is %q; set AuthorizationType: CUSTOM and AuthorizerId: !Ref %s, or list the route in deploy.PublicRoutes if it must be public", name, at, strings.Join(authorizers, "|")))
		}
	}
	for _, key := range Routes {
		if _, ok := byKey[key]; !ok {
			errs = append(errs, problem("routes", "route %q is missing", key))
		}
	}
	return errs
}

// checkAuthorizers validates the API's Lambda authorizers, in the format of
// the function's shape, and returns their logical IDs. With a REST shape the
// API has none: the function could not answer an HTTP API.
func checkAuthorizers(t *Template, api string, errs *[]error) []string {
	var ids []string
	shape := authorizerShape(t)
	all := t.CFN.GetAllApiGatewayV2AuthorizerResources()
	for _, id := range sortedKeys(all) {
		a := all[id]
		ids = append(ids, id)
		fail := func(format string, args ...any) {
			*errs = append(*errs, problem("authorizer", id+": "+format, args...))
		}
		if !isRef(a.ApiId, api, "") {
			fail("ApiId must be !Ref %s", api)
		}
		if a.AuthorizerType != "REQUEST" {
			fail("AuthorizerType is %q, want REQUEST (a Lambda authorizer)", a.AuthorizerType)
		}
		if !strings.Contains(str(a.AuthorizerUri), "${"+AuthorizerFunctionID+".Arn}") {
			fail("AuthorizerUri must invoke %s", AuthorizerFunctionID)
		}
		simple := a.EnableSimpleResponses != nil && *a.EnableSimpleResponses
		switch shape {
		case authorizer.ShapeHTTPSimple:
			if str(a.AuthorizerPayloadFormatVersion) != "2.0" || !simple {
				fail("want payload format 2.0 with simple responses (SHORTFUSE_AUTHORIZER_SHAPE http-simple)")
			}
		case authorizer.ShapeHTTPIAM:
			if str(a.AuthorizerPayloadFormatVersion) != "1.0" || simple {
				fail("want payload format 1.0 without simple responses (SHORTFUSE_AUTHORIZER_SHAPE http-iam answers with an IAM policy)")
			}
		default:
			fail("the authorizer function answers in the %s format (AuthorizerShape), which an HTTP API cannot read: give the authorizer Condition HttpApiAuthorizer", shape)
		}
		for _, src := range IdentitySources[shape] {
			if !slices.Contains(a.IdentitySource, src) {
				// API Gateway caches by identity source: a simple response
				// answers for one route, so the route must be in the key.
				fail("IdentitySource %v must include %s (AuthorizerShape %s; a cached result must never answer for another route)", a.IdentitySource, src, shape)
			}
		}
		ttl := mapAt(t.Tree, "Resources", id, "Properties")["AuthorizerResultTtlInSeconds"]
		if r, ok := soleRef(ttl); !ok || mapAt(t.Tree, "Parameters", r.Name) == nil {
			fail("AuthorizerResultTtlInSeconds must come from a parameter (the cache TTL is part of the revocation bound)")
		} else if p := mapAt(t.Tree, "Parameters", r.Name); scalarString(p["Default"]) != "0" {
			fail("parameter %s must default to 0: a cached allow outlives a revocation", r.Name)
		}
		if !invokable(t, AuthorizerFunctionID, "apigateway.amazonaws.com", func(src string) bool {
			return strings.Contains(src, "${"+api+"}/authorizers/${"+id+"}")
		}) {
			fail("no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke %s from ${%s}/authorizers/${%s}: every protected request would fail", AuthorizerFunctionID, api, id)
		}
	}
	if len(ids) == 0 && !restShape(shape) {
		*errs = append(*errs, problem("authorizer", "no AWS::ApiGatewayV2::Authorizer: protected routes need the Lambda authorizer"))
	}
	return ids
}

func restShape(s authorizer.Shape) bool {
	return s == authorizer.ShapeRESTToken || s == authorizer.ShapeRESTRequest
}

func checkTarget(t *Template, api, name, target string, errs *[]error) {
	ref, ok := soleRef(strings.TrimPrefix(target, "integrations/"))
	if !strings.HasPrefix(target, "integrations/") || !ok || t.ResourceType(ref.Name) != "AWS::ApiGatewayV2::Integration" {
		*errs = append(*errs, problem("routes", "%s: Target is %q, want integrations/${<Integration>}", name, target))
		return
	}
	in := t.CFN.GetAllApiGatewayV2IntegrationResources()[ref.Name]
	if str(in.ConnectionType) == "VPC_LINK" {
		checkPrivateIntegration(t, name, ref.Name, errs)
		return
	}
	fn, ok := soleRef(str(in.IntegrationUri))
	if in.IntegrationType != "AWS_PROXY" || !ok || fn.Attr != "Arn" || t.ResourceType(fn.Name) != "AWS::Serverless::Function" {
		*errs = append(*errs, problem("routes", "%s: integration %s must be AWS_PROXY to !GetAtt <Function>.Arn", name, ref.Name))
		return
	}
	if fn.Name == AuthorizerFunctionID {
		*errs = append(*errs, problem("routes", "%s: integration %s targets the authorizer function", name, ref.Name))
	}
	if str(in.PayloadFormatVersion) != "2.0" {
		*errs = append(*errs, problem("routes", "%s: integration %s must use PayloadFormatVersion 2.0", name, ref.Name))
	}
	if !invokable(t, fn.Name, "apigateway.amazonaws.com", func(src string) bool { return strings.Contains(src, "${"+api+"}/") }) {
		*errs = append(*errs, problem("routes", "%s: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke %s from ${%s}", name, fn.Name, api))
	}
}

// targetsTokenService reports whether a route target is the token
// service's integration.
func targetsTokenService(t *Template, target string) bool {
	ref, ok := soleRef(strings.TrimPrefix(target, "integrations/"))
	if !ok {
		return false
	}
	fn, ok := soleRef(str(t.CFN.GetAllApiGatewayV2IntegrationResources()[ref.Name].IntegrationUri))
	return ok && fn.Name == "TokenServiceFunction"
}

// checkPrivateIntegration asserts a route forwarded to a private backend:
// an HTTP proxy through a VPC link of the template, every header of
// ForwardedHeaders overwritten with its value, and no other mapping of an
// x-shortfuse- header (an append or a mapping from the client's request
// would let a caller forge its identity).
func checkPrivateIntegration(t *Template, name, id string, errs *[]error) {
	in := t.CFN.GetAllApiGatewayV2IntegrationResources()[id]
	fail := func(format string, args ...any) {
		*errs = append(*errs, problem("routes", "%s: private integration %s: "+format, append([]any{name, id}, args...)...))
	}
	if in.IntegrationType != "HTTP_PROXY" {
		fail("IntegrationType is %q, want HTTP_PROXY", in.IntegrationType)
	}
	if link, ok := soleRef(str(in.ConnectionId)); !ok || t.ResourceType(link.Name) != "AWS::ApiGatewayV2::VpcLink" {
		fail("ConnectionId is %q, want !Ref to an AWS::ApiGatewayV2::VpcLink of the template", str(in.ConnectionId))
	}
	if str(in.PayloadFormatVersion) != "1.0" {
		fail("PayloadFormatVersion must be 1.0 (HTTP_PROXY to a VPC link)")
	}
	if _, ok := soleRef(str(in.IntegrationUri)); !ok {
		fail("IntegrationUri must be !Ref to the parameter naming the listener or Cloud Map service")
	}
	params := map[string]string{}
	for k, v := range mapAt(t.Effective, "Resources", id, "Properties", "RequestParameters") {
		params[k] = scalarString(v)
	}
	for _, h := range sortedKeys(ForwardedHeaders) {
		want := ForwardedHeaders[h]
		if got, ok := params["overwrite:header."+h]; !ok || got != want {
			fail("RequestParameters must set overwrite:header.%s: %s (got %q): the backend trusts that header, so API Gateway must replace whatever the client sent", h, want, got)
		}
	}
	shape := authorizerShape(t)
	always := authorizer.ForwardedKeys(shape)
	for _, k := range sortedKeys(params) {
		op, target, _ := strings.Cut(k, ":")
		if key, ok := strings.CutPrefix(params[k], "$context.authorizer."); ok && strings.HasPrefix(strings.ToLower(target), "header.x-shortfuse-") && !slices.Contains(always, key) {
			fail("RequestParameters %s maps $context.authorizer.%s, which the %s authorizer does not always set to a non-empty string (it always sets %s): where it is empty, the client's header could reach the backend", k, key, shape, strings.Join(always, ", "))
		}
		if strings.HasPrefix(strings.ToLower(target), "header.x-shortfuse-") && op != "overwrite" {
			fail("RequestParameters %s: %q on an identity header keeps or adds the client's value; use overwrite", k, op)
		}
		if strings.HasPrefix(strings.ToLower(target), "header.x-shortfuse-") && strings.Contains(params[k], "$request.") {
			fail("RequestParameters %s is taken from the client's request (%s); identity headers come from $context.authorizer", k, params[k])
		}
	}
}

// authorizerShape is the SHORTFUSE_AUTHORIZER_SHAPE the template gives the
// authorizer function, a parameter reference resolved to the deployed value.
func authorizerShape(t *Template) authorizer.Shape {
	v := mapAt(t.Effective, "Resources", AuthorizerFunctionID, "Properties", "Environment", "Variables")["SHORTFUSE_AUTHORIZER_SHAPE"]
	return authorizer.Shape(paramValue(t, v))
}

// paramValue resolves a !Ref to a parameter to the value it is deployed
// with (Params, else the default); any other value is returned as a string.
func paramValue(t *Template, v any) string {
	r, ok := soleRef(v)
	if !ok || r.Attr != "" {
		return scalarString(v)
	}
	if val, ok := t.Params[r.Name]; ok {
		return val
	}
	if p := mapAt(t.Tree, "Parameters", r.Name); p != nil {
		return scalarString(p["Default"])
	}
	return scalarString(v)
}

// ---------------------------------------------------------------- throttling

// handleFor reports whether h is a WaitConditionHandle whose Metadata
// references route: the way to depend on a resource a condition may leave
// out.
func handleFor(t *Template, h, route string) bool {
	if t.ResourceType(h) != "AWS::CloudFormation::WaitConditionHandle" {
		return false
	}
	for _, v := range mapAt(t.Tree, "Resources", h, "Metadata") {
		if isRef(v, route, "") {
			return true
		}
	}
	return false
}

// CheckThrottling asserts burst and rate limits, from parameters, on the
// stage default and on every route.
func CheckThrottling(t *Template) []error {
	var errs []error
	stages := t.Resources("AWS::ApiGatewayV2::Stage")
	if len(stages) == 0 && len(t.Resources("AWS::ApiGatewayV2::Api")) == 0 {
		return nil // no API of the stack's own: your API's stage throttles
	}
	if len(stages) != 1 {
		return []error{problem("throttling", "want exactly one AWS::ApiGatewayV2::Stage, found %d", len(stages))}
	}
	stage := stages[0]
	typed := t.CFN.GetAllApiGatewayV2StageResources()[stage]
	if typed.AutoDeploy == nil || !*typed.AutoDeploy {
		errs = append(errs, problem("throttling", "%s: AutoDeploy must be true (the template has no AWS::ApiGatewayV2::Deployment)", stage))
	}
	props := mapAt(t.Tree, "Resources", stage, "Properties")
	limits := func(where string, settings map[string]any) {
		for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
			v, ok := settings[k]
			if !ok {
				errs = append(errs, problem("throttling", "%s has no %s", where, k))
				continue
			}
			r, isRef := soleRef(v)
			p := mapAt(t.Tree, "Parameters", r.Name)
			if !isRef || r.Attr != "" || p["Type"] != "Number" {
				errs = append(errs, problem("throttling", "%s: %s must be !Ref to a Number parameter, got %v", where, k, v))
			}
		}
	}
	limits(stage+".DefaultRouteSettings", mapAt(props, "DefaultRouteSettings"))

	settings := mapAt(props, "RouteSettings")
	routes := t.CFN.GetAllApiGatewayV2RouteResources()
	keys := map[string]bool{}
	resource := mapAt(t.Tree, "Resources", stage)
	var dependsOn []string
	switch d := resource["DependsOn"].(type) {
	case string:
		dependsOn = []string{d}
	case []any:
		for _, x := range d {
			s, _ := x.(string)
			dependsOn = append(dependsOn, s)
		}
	}
	for _, id := range sortedKeys(routes) {
		key := routes[id].RouteKey
		keys[key] = true
		s, ok := settings[key].(map[string]any)
		if !ok {
			errs = append(errs, problem("throttling", "route %q (%s) has no throttling: add RouteSettings[%q] with ThrottlingBurstLimit and ThrottlingRateLimit to %s", key, id, key, stage))
			continue
		}
		limits(fmt.Sprintf("%s.RouteSettings[%q]", stage, key), s)
		if !slices.Contains(dependsOn, id) && !slices.ContainsFunc(dependsOn, func(h string) bool { return handleFor(t, h, id) }) {
			errs = append(errs, problem("throttling", "%s must DependsOn %s: CloudFormation rejects settings for a route that does not exist yet", stage, id))
		}
	}
	for _, key := range sortedKeys(settings) {
		if !keys[key] {
			errs = append(errs, problem("throttling", "%s.RouteSettings[%q] names no route", stage, key))
		}
	}
	return errs
}

// ---------------------------------------------------------------- logs

// CheckLogs asserts JSON access logs that never record the Authorization
// header, and a log group with retention for every function.
func CheckLogs(t *Template) []error {
	var errs []error
	for id, s := range t.CFN.GetAllApiGatewayV2StageResources() {
		als := s.AccessLogSettings
		if als == nil {
			errs = append(errs, problem("logs", "%s has no AccessLogSettings", id))
			continue
		}
		if r, ok := soleRef(str(als.DestinationArn)); !ok || r.Attr != "Arn" || t.ResourceType(r.Name) != "AWS::Logs::LogGroup" {
			errs = append(errs, problem("logs", "%s: AccessLogSettings.DestinationArn must be !GetAtt <LogGroup>.Arn", id))
		}
		format := str(als.Format)
		var fields map[string]any
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			errs = append(errs, problem("logs", "%s: access log Format is not a JSON object: %v", id, err))
		}
		for _, k := range []string{"requestId", "routeKey", "status"} {
			if _, ok := fields[k]; !ok && fields != nil {
				errs = append(errs, problem("logs", "%s: access log Format lacks %q", id, k))
			}
		}
		if l := strings.ToLower(format); strings.Contains(l, "authorization") || strings.Contains(l, "$request.header") {
			errs = append(errs, problem("logs", "%s: access log Format must not record request headers (the Authorization header holds a token)", id))
		}
	}
	groups := map[string]bool{}
	for _, id := range t.Resources("AWS::Logs::LogGroup") {
		p := t.Props(id)
		if _, ok := p["RetentionInDays"]; !ok {
			errs = append(errs, problem("logs", "%s: set RetentionInDays", id))
		}
		if name, ok := p["LogGroupName"].(string); ok {
			groups[name] = true
		}
	}
	for _, f := range Functions {
		if !groups["/aws/lambda/${"+f.LogicalID+"}"] {
			errs = append(errs, problem("logs", "%s has no AWS::Logs::LogGroup named /aws/lambda/${%s} (logs would be kept forever)", f.LogicalID, f.LogicalID))
		}
	}
	return errs
}

// ---------------------------------------------------------------- IAM

type statement struct {
	sid        string
	actions    []string
	resources  []string
	viaService string
}

// CheckIAM asserts least privilege: inline statements only, no wildcard
// action or resource, and for every function exactly the grants listed in
// Functions.
func CheckIAM(t *Template) []error {
	var errs []error
	for id, r := range mapAt(t.Effective, "Resources") {
		typ, _ := r.(map[string]any)["Type"].(string)
		if strings.HasPrefix(typ, "AWS::IAM::") {
			errs = append(errs, problem("iam", "%s is an %s; give each function its permissions through its own Policies so they are checked", id, typ))
		}
	}
	for _, id := range t.Resources("AWS::Serverless::Function") {
		spec, ok := functionSpec(id)
		if !ok {
			continue // reported by CheckFunctions
		}
		stmts, serrs := statements(id, t.Props(id)["Policies"])
		errs = append(errs, serrs...)
		granted := map[[2]string]bool{}
		for _, s := range stmts {
			where := fmt.Sprintf("%s statement %s", id, s.sid)
			for _, a := range s.actions {
				if strings.Contains(a, "*") {
					errs = append(errs, problem("iam", "%s allows %q: name each action the function needs", where, a))
				}
			}
			for _, res := range s.resources {
				if res == "*" {
					errs = append(errs, problem("iam", "%s allows %s on Resource \"*\": scope it to the resources the function uses", where, strings.Join(s.actions, ", ")))
				} else if strings.Contains(res, "*") {
					errs = append(errs, problem("iam", "%s allows %s on the wildcard resource %q: name the resource", where, strings.Join(s.actions, ", "), res))
				}
				for _, a := range s.actions {
					if strings.Contains(a, "*") || strings.Contains(res, "*") {
						continue
					}
					res := canonicalPool(res)
					g, ok := grantFor(spec, a, res)
					switch {
					case !ok:
						errs = append(errs, problem("iam", "%s grants %s on %s, which %s may not have (allowed: %s)", where, a, res, id, describeGrants(spec)))
					case g.ViaService != "" && s.viaService != g.ViaService:
						errs = append(errs, problem("iam", "%s grants %s without the condition kms:ViaService = %s", where, a, g.ViaService))
					default:
						granted[[2]string{strings.ToLower(a), res}] = true
					}
				}
			}
		}
		for _, g := range spec.Grants {
			for _, a := range g.Actions {
				for _, res := range g.Resources {
					if !granted[[2]string{strings.ToLower(a), res}] && !t.absentHere(res) {
						errs = append(errs, problem("iam", "%s lacks %s on %s", id, a, res))
					}
				}
			}
		}
	}
	return errs
}

func grantFor(f Function, action, resource string) (Grant, bool) {
	for _, g := range f.Grants {
		if slices.ContainsFunc(g.Actions, func(a string) bool { return strings.EqualFold(a, action) }) && slices.Contains(g.Resources, resource) {
			return g, true
		}
	}
	return Grant{}, false
}

func describeGrants(f Function) string {
	if len(f.Grants) == 0 {
		return "nothing"
	}
	var parts []string
	for _, g := range f.Grants {
		parts = append(parts, strings.Join(g.Actions, ", ")+" on "+strings.Join(g.Resources, ", "))
	}
	return strings.Join(parts, "; ")
}

// statements flattens a SAM Policies value made of inline policy documents.
func statements(fn string, policies any) ([]statement, []error) {
	if policies == nil {
		return nil, nil
	}
	var docs []any
	switch p := policies.(type) {
	case []any:
		docs = p
	default:
		docs = []any{p}
	}
	var out []statement
	var errs []error
	for i, d := range docs {
		doc, ok := d.(map[string]any)
		switch {
		case !ok:
			errs = append(errs, problem("iam", "%s: policy %v is a managed policy; use inline statements scoped to the function's resources", fn, d))
			continue
		case doc["Statement"] == nil:
			errs = append(errs, problem("iam", "%s: policy %v is a SAM policy template; use inline statements so each action and resource is checked", fn, sortedKeys(doc)))
			continue
		}
		list, ok := doc["Statement"].([]any)
		if !ok {
			list = []any{doc["Statement"]}
		}
		for j, raw := range list {
			sm, ok := raw.(map[string]any)
			if !ok {
				errs = append(errs, problem("iam", "%s: policy %d statement %d is not an object", fn, i, j))
				continue
			}
			sid, _ := sm["Sid"].(string)
			if sid == "" {
				sid = fmt.Sprintf("#%d.%d", i, j)
			}
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if _, ok := sm[k]; ok {
					errs = append(errs, problem("iam", "%s statement %s uses %s, which grants everything else", fn, sid, k))
				}
			}
			if sm["Effect"] != "Allow" {
				continue
			}
			s := statement{sid: sid, actions: stringList(sm["Action"]), resources: stringList(sm["Resource"])}
			if v, ok := mapAt(sm, "Condition", "StringEquals")["kms:ViaService"].(string); ok {
				s.viaService = v
			}
			if len(s.actions) == 0 || len(s.resources) == 0 {
				errs = append(errs, problem("iam", "%s statement %s needs Action and Resource", fn, sid))
			}
			out = append(out, s)
		}
	}
	return out, errs
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, scalarString(e))
		}
		return out
	}
	return nil
}

// ---------------------------------------------------------------- consistency

// CheckConsistency asserts that the token service and the authorizer agree
// on issuer, audience, clients and the Cognito issuer, and that the
// outputs name the same issuer and JWKS URL.
func CheckConsistency(t *Template) []error {
	var errs []error
	env := func(fn string) map[string]any {
		return mapAt(t.Effective, "Resources", fn, "Properties", "Environment", "Variables")
	}
	ts, az := env("TokenServiceFunction"), env(AuthorizerFunctionID)
	for _, k := range []string{"SHORTFUSE_ISSUER", "SHORTFUSE_AUDIENCE", "SHORTFUSE_CLIENTS", "SHORTFUSE_COGNITO_ISSUER", "SHORTFUSE_TABLE"} {
		if ts[k] != az[k] {
			errs = append(errs, problem("consistency", "%s differs: token service %v, authorizer %v", k, ts[k], az[k]))
		}
	}
	if v, ok := ts["SHORTFUSE_CLIENTS"].(string); ok {
		// A reference (!Ref UserPoolClient) stands for one client id: its
		// value is known at deploy time only, the syntax around it now.
		v = refPattern.ReplaceAllString(v, "deployed-client-id")
		if _, err := tokenspec.ParseClients(v); err != nil {
			errs = append(errs, problem("consistency", "SHORTFUSE_CLIENTS: %v", err))
		}
	}
	// One wording everywhere: revocation at the API is bounded (poll +
	// cache), never instant.
	if d, _ := t.Effective["Description"].(string); strings.Contains(strings.ToLower(d), "instant") {
		errs = append(errs, problem("consistency", "the template's Description promises instant revocation; revocation at the API is bounded (say \"bounded revocation\")"))
	}
	outputs := mapAt(t.Effective, "Outputs")
	ownAPI := len(t.Resources("AWS::ApiGatewayV2::Api")) > 0
	for _, o := range Outputs {
		if o == "ApiUrl" && !ownAPI {
			continue
		}
		if _, ok := outputs[o]; !ok {
			errs = append(errs, problem("consistency", "output %s is missing", o))
		}
	}
	issuer, _ := mapAt(outputs, "Issuer")["Value"].(string)
	if issuer != "" && ts["SHORTFUSE_ISSUER"] != issuer {
		errs = append(errs, problem("consistency", "output Issuer %q differs from the token service's SHORTFUSE_ISSUER %v", issuer, ts["SHORTFUSE_ISSUER"]))
	}
	// The identity source to attach the function with is the shape's:
	// checked where the conditions are evaluated (ParseWith), since Parse
	// takes every Fn::If's first branch whatever the shape.
	if t.Params != nil {
		shape := authorizerShape(t)
		want := strings.Join(IdentitySources[shape], ",")
		if got := scalarString(mapAt(outputs, "AuthorizerIdentitySource")["Value"]); got != want {
			errs = append(errs, problem("consistency", "output AuthorizerIdentitySource is %q for AuthorizerShape %s, want %q", got, shape, want))
		}
		if got := paramValue(t, mapAt(outputs, "AuthorizerShape")["Value"]); got != string(shape) {
			errs = append(errs, problem("consistency", "output AuthorizerShape is %q, the function's SHORTFUSE_AUTHORIZER_SHAPE %q", got, shape))
		}
	}
	jwks, _ := mapAt(outputs, "JwksUrl")["Value"].(string)
	if want := issuer + "/.well-known/jwks.json"; issuer != "" && (jwks != want || az["SHORTFUSE_JWKS_URL"] != want) {
		errs = append(errs, problem("consistency", "output JwksUrl %q and the authorizer's SHORTFUSE_JWKS_URL %v must both be %q", jwks, az["SHORTFUSE_JWKS_URL"], want))
	}
	return errs
}

// Join formats problems one per line, for test failures and tools.
func Join(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// ---------------------------------------------------------------- Cognito events

// CognitoEventsFunctionID is the function the Cognito API call rule invokes.
const CognitoEventsFunctionID = "CognitoEventsFunction"

// CheckCognitoEvents asserts the wiring of Cognito-side changes: one rule
// on the user pool API calls CloudTrail records, matching exactly the
// operations the function acts on, the admin ones only for this user pool;
// EventBridge allowed to invoke the function from that rule only; bounded
// retries on both legs (rule delivery and the function's asynchronous
// invocation), each ending in a dead-letter queue.
func CheckCognitoEvents(t *Template) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, problem("events", format, args...)) }
	fnArn := "${" + CognitoEventsFunctionID + ".Arn}"
	var rule string
	var target map[string]any
	for _, id := range t.Resources("AWS::Events::Rule") {
		for _, tg := range sliceAt(t.Props(id), "Targets") {
			if m, ok := tg.(map[string]any); ok && m["Arn"] == fnArn {
				if rule != "" {
					fail("%s and %s both invoke %s: one rule, or events are revoked twice", rule, id, CognitoEventsFunctionID)
				}
				rule, target = id, m
			}
		}
	}
	if rule == "" {
		return []error{problem("events", "no AWS::Events::Rule targets %s (Arn !GetAtt %s.Arn): Cognito-side changes would never reach shortfuse", CognitoEventsFunctionID, CognitoEventsFunctionID)}
	}
	p := t.Props(rule)
	if s, _ := p["State"].(string); s != "ENABLED" {
		fail("%s: State is %q, want ENABLED", rule, s)
	}
	pattern := mapAt(p, "EventPattern")
	for _, want := range [][2]string{{"source", cognitoevents.Source}, {"detail-type", cognitoevents.DetailType}} {
		if got := stringList(pattern[want[0]]); !slices.Equal(got, []string{want[1]}) {
			fail("%s: EventPattern.%s is %v, want [%s]", rule, want[0], got, want[1])
		}
	}
	detail := mapAt(pattern, "detail")
	if got := stringList(detail["eventSource"]); !slices.Equal(got, []string{cognitoevents.EventSource}) {
		fail("%s: EventPattern.detail.eventSource is %v, want [%s]", rule, got, cognitoevents.EventSource)
	}
	branches := []map[string]any{detail}
	if ors := sliceAt(detail, "$or"); len(ors) > 0 {
		branches = nil
		for _, b := range ors {
			if m, ok := b.(map[string]any); ok {
				branches = append(branches, m)
			}
		}
	}
	pool := "${" + firstOr(t.Resources("AWS::Cognito::UserPool"), "UserPool") + "}"
	matched := map[string]bool{}
	for i, b := range branches {
		names := stringList(b["eventName"])
		poolFilter := stringList(mapAt(b, "requestParameters")["userPoolId"])
		for i := range poolFilter {
			poolFilter[i] = canonicalPool(poolFilter[i])
		}
		for _, n := range names {
			matched[n] = true
			switch {
			case cognitoevents.NamesPool(n) && !slices.Equal(poolFilter, []string{pool}):
				fail("%s: pattern branch %d matches %s of any user pool; add requestParameters.userPoolId: [!Ref %s]", rule, i, n, strings.Trim(pool, "${}"))
			case !cognitoevents.NamesPool(n) && len(poolFilter) > 0:
				fail("%s: pattern branch %d filters %s by requestParameters.userPoolId, which CloudTrail does not record for it: it would never match", rule, i, n)
			}
		}
	}
	want := cognitoevents.EventNames()
	for _, n := range want {
		if !matched[n] {
			fail("%s: the pattern does not match eventName %s, which revokes", rule, n)
		}
	}
	for _, n := range sortedKeys(matched) {
		if !slices.Contains(want, n) {
			fail("%s: the pattern matches eventName %s, which the function ignores", rule, n)
		}
	}
	if !invokable(t, CognitoEventsFunctionID, "events.amazonaws.com", func(src string) bool { return src == "${"+rule+".Arn}" }) {
		fail("no AWS::Lambda::Permission lets events.amazonaws.com invoke %s (FunctionName !GetAtt %s.Arn, SourceArn !GetAtt %s.Arn)", CognitoEventsFunctionID, CognitoEventsFunctionID, rule)
	}
	retry := mapAt(target, "RetryPolicy")
	if n, ok := retry["MaximumRetryAttempts"].(float64); !ok || n > 185 {
		fail("%s: the target needs RetryPolicy.MaximumRetryAttempts (bounded retries)", rule)
	}
	if mapAt(target, "DeadLetterConfig")["Arn"] == nil {
		fail("%s: the target needs a DeadLetterConfig: events EventBridge cannot deliver would be lost unseen", rule)
	}
	configured := false
	for _, id := range t.Resources("AWS::Lambda::EventInvokeConfig") {
		c := t.Props(id)
		if c["FunctionName"] != "${"+CognitoEventsFunctionID+"}" {
			continue
		}
		configured = true
		if n, ok := c["MaximumRetryAttempts"].(float64); !ok {
			fail("%s: set MaximumRetryAttempts (0 to 2)", id)
		} else if n > 2 {
			fail("%s: MaximumRetryAttempts %v is more than Lambda allows (2)", id, n)
		}
		if mapAt(c, "DestinationConfig", "OnFailure")["Destination"] == nil {
			fail("%s: needs DestinationConfig.OnFailure: events that fail every retry would be lost unseen", id)
		}
	}
	if !configured {
		fail("no AWS::Lambda::EventInvokeConfig for %s: a failing event would get Lambda's default retries and then be dropped", CognitoEventsFunctionID)
	}
	return errs
}

func sliceAt(m map[string]any, key string) []any {
	s, _ := m[key].([]any)
	return s
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// ---------------------------------------------------------------- CORS

// CheckCORS asserts that the HTTP API's CorsConfiguration, when there is
// one, is the policy of shared/cors: the origins the token service is given
// (so it answers the same way when it answers itself), never a wildcard,
// never credentials, and exactly the shared request, exposed headers and
// methods.
func CheckCORS(t *Template) []error {
	var errs []error
	for _, api := range t.Resources("AWS::ApiGatewayV2::Api") {
		c := mapAt(t.Effective, "Resources", api, "Properties", "CorsConfiguration")
		if len(c) == 0 {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, problem("cors", api+" CorsConfiguration: "+format, args...))
		}
		origins := stringList(c["AllowOrigins"])
		for _, o := range origins {
			if strings.Contains(o, "*") {
				fail("AllowOrigins %q: list exact origins, never a wildcard", o)
			}
		}
		ts := mapAt(t.Effective, "Resources", "TokenServiceFunction", "Properties", "Environment", "Variables")
		if want := fmt.Sprint(ts["SHORTFUSE_CORS_ORIGINS"]); len(origins) != 1 || origins[0] != want {
			fail("AllowOrigins %v must be the token service's SHORTFUSE_CORS_ORIGINS (%s), split at commas", origins, want)
		}
		if v, ok := c["AllowCredentials"].(bool); ok && v {
			fail("AllowCredentials must be false: tokens travel in the Authorization header")
		}
		for _, x := range []struct {
			key  string
			want []string
		}{{"AllowHeaders", cors.AllowHeaders}, {"ExposeHeaders", cors.ExposeHeaders}, {"AllowMethods", cors.AllowMethods}} {
			got := stringList(c[x.key])
			if !slices.EqualFunc(got, x.want, strings.EqualFold) {
				fail("%s %v, want %v (shared/cors)", x.key, got, x.want)
			}
		}
	}
	return errs
}
