package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
)

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }

// secs prints a duration in seconds for people and for sleep(1).
func secs(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".00")
}

// apiHelpers are shell functions the API steps use: expect runs curl and
// checks the status; by tells whether the gateway (its own error type
// header) or the token service answered.
const apiHelpers = `SF_OUT=$(mktemp)
expect() { local want=$1; shift; local got; got=$(curl -sS -D "$SF_OUT.h" -o "$SF_OUT" -w '%{http_code}' "$@"); echo "-> HTTP $got (expected $want): $(head -c 300 "$SF_OUT")"; [ "$got" = "$want" ] || { echo "!! expected HTTP $want" >&2; return 1; }; }
by() { if grep -qi '^x-amzn-errortype:' "$SF_OUT.h"; then echo gateway; else echo service; fi; }
answered_by() { if [ "$(by)" = "$1" ]; then echo "   answered by the $1"; else echo "!! answered by the $(by), expected the $1" >&2; return 1; fi; }
field() { node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).'"$1" "$SF_OUT"; }`

// apiWalkthrough is the API step, written from the effective configuration
// so that every expectation it prints holds under the documented overrides.
func apiWalkthrough(env Env) Section {
	eff, err := effectiveConfig(env)
	if err != nil {
		return Section{Title: "API", Commands: "# the configuration is invalid: " + err.Error()}
	}
	api := env.APIGatewayURL
	cache := "off"
	if eff.CacheTTL > 0 {
		cache = secs(eff.CacheTTL) + " s"
	}
	poll := "poll " + secs(eff.Poll) + " s"
	if eff.Strict {
		poll = "strict (every request reads the table)"
	}
	var l []string
	add := func(lines ...string) { l = append(l, lines...) }
	add(fmt.Sprintf("# Effective: authorizer mode %s, shape %s (as in template.yaml unless overridden), gateway cache %s,", eff.Mode, eff.Shape, cache),
		fmt.Sprintf("# revocation %s, refresh grace %s s. The token service sits behind the gateway: /token, /revoke", poll, secs(eff.Grace)),
		"# and /.well-known/* are public; /userinfo, /sessions, /introspect and /admin/* go through the authorizer.",
		"# Helpers: expect STATUS curl-args checks the status; answered_by tells the gateway's refusals from the service's.",
		apiHelpers,
		"# Exchange the Cognito ID token (step 1) for a session (RFC 8693):",
		fmt.Sprintf(`expect 200 %s/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \`, api),
		`  -d subject_token_type=urn:ietf:params:oauth:token-type:id_token --data-urlencode "subject_token=$ID_TOKEN" -d scope=read`,
		`export SF_ACCESS=$(field access_token) SF_REFRESH=$(field refresh_token)`,
		"# Refresh: the refresh token rotates.",
		fmt.Sprintf(`expect 200 %s/token -d grant_type=refresh_token --data-urlencode "refresh_token=$SF_REFRESH"`, api),
		`SF_NEXT=$(field refresh_token); export SF_ACCESS=$(field access_token)`)
	if eff.Grace > 0 {
		add(fmt.Sprintf("# Within the refresh grace window (%s s) the previous token works once more, as a retried request or a", secs(eff.Grace)),
			"# second tab would send it, and answers the SAME new refresh token: one live token, no revocation.",
			fmt.Sprintf(`expect 200 %s/token -d grant_type=refresh_token --data-urlencode "refresh_token=$SF_REFRESH"`, api),
			`if [ "$(field refresh_token)" = "$SF_NEXT" ]; then echo "   same refresh token as the first answer"; else echo "!! another refresh token" >&2; false; fi`)
	} else {
		add("# The refresh grace window is off: presenting the old token again would revoke the session.")
	}
	add(`export SF_REFRESH=$SF_NEXT`)

	if eff.Mode == authorizer.ModeDirect {
		l = append(l, directSteps(env, eff)...)
	} else {
		l = append(l, exchangeSteps(env, eff)...)
	}
	add(`rm -f "$SF_OUT" "$SF_OUT.h"`)
	return Section{Title: "API: the token service behind the gateway and the authorizer", Commands: strings.Join(l, "\n")}
}

// invokeStep calls the authorizer through the Lambda Invoke API with the
// event the gateway sends, and checks that it allows the token.
func invokeStep(env Env, eff effective, tokenVar string) []string {
	ev, err := eff.sampleEvent(env, "/userinfo", tokenVar)
	if err != nil {
		return []string{"# " + err.Error()}
	}
	allowed := `'"Effect":"Allow"'`
	if eff.Shape == devgateway.ShapeHTTPSimple {
		allowed = `'"isAuthorized":true'`
	}
	return []string{
		fmt.Sprintf("# The authorizer itself, through the Lambda Invoke API, with the %s event the gateway sends for GET /userinfo:", eff.Shape),
		fmt.Sprintf(`curl -sS -w '\n' %s/2015-03-31/functions/authorizer/invocations -d '%s' > "$SF_OUT"; head -c 400 "$SF_OUT"; echo`, env.LambdaInvokeURL, ev),
		fmt.Sprintf(`if grep -q %s "$SF_OUT"; then echo "   allowed"; else echo "!! not allowed" >&2; false; fi`, allowed),
	}
}

// afterRevocation is what a revoked token meets at the gateway.
func afterRevocation(eff effective, call string) []string {
	wait := secs(eff.RevocationBound() - eff.CacheTTL + 500*time.Millisecond)
	if eff.CacheTTL == 0 {
		return []string{
			fmt.Sprintf("# Within one revocation poll (%s s) the authorizer refuses the token: 401 from the gateway.", secs(eff.Poll)),
			"sleep " + wait,
			"expect 401 " + call,
			"answered_by gateway",
		}
	}
	return []string{
		fmt.Sprintf("# The gateway caches the authorizer's answer for this token and route for %s s (SHORTFUSE_GATEWAY_CACHE_TTL),", secs(eff.CacheTTL)),
		"# so the request still passes it; the token service checks the session itself and answers 401 invalid_token.",
		fmt.Sprintf("# A backend that trusted the gateway alone would answer 200 for up to %s s: the revocation bound is", secs(eff.RevocationBound())),
		"# poll + cache (see docs/deploy.md).",
		"sleep " + wait,
		"expect 401 " + call,
		"answered_by service",
	}
}

func exchangeSteps(env Env, eff effective) []string {
	api := env.APIGatewayURL
	bearer := `-H "Authorization: Bearer $SF_ACCESS"`
	l := []string{
		"# Exchange mode: the authorizer accepts the token service's access tokens. A protected route:",
		fmt.Sprintf("expect 200 %s/userinfo %s", api, bearer),
		`export SF_SUB=$(field sub)`,
		fmt.Sprintf("expect 200 %s/sessions %s", api, bearer),
		fmt.Sprintf("# An admin route needs the %s group: 403 from the gateway. No token at all: 401 from the gateway.", eff.AdminGroup),
		fmt.Sprintf("expect 403 %s/admin/users/$SF_SUB/sessions %s", api, bearer),
		"answered_by gateway",
		fmt.Sprintf("expect 401 %s/userinfo", api),
		"answered_by gateway",
	}
	l = append(l, invokeStep(env, eff, "SF_ACCESS")...)
	l = append(l,
		"# Sign out (RFC 7009, a public route); the session ends at once:",
		fmt.Sprintf(`expect 200 %s/revoke --data-urlencode "token=$SF_REFRESH"`, api))
	l = append(l, afterRevocation(eff, fmt.Sprintf("%s/userinfo %s", api, bearer))...)
	l = append(l,
		fmt.Sprintf("# Admins (group %s) list and revoke any user's sessions at /admin/*; the CLI works on the same table:", eff.AdminGroup),
		fmt.Sprintf("# go run ./cmd/shortfuse sessions list --endpoint %s --table %s --region %s --user $SF_SUB", env.DynamoEndpoint, env.Table, env.Region))
	return l
}

func directSteps(env Env, eff effective) []string {
	api := env.APIGatewayURL
	idBearer := `-H "Authorization: Bearer $ID_TOKEN"`
	l := []string{
		fmt.Sprintf("# Direct mode: the authorizer accepts Cognito ID tokens at most %s s after iat, and refuses the token", secs(eff.MaxAge)),
		"# service's access tokens: 401 from the gateway.",
		fmt.Sprintf(`expect 401 %s/userinfo -H "Authorization: Bearer $SF_ACCESS"`, api),
		"answered_by gateway",
		"# A fresh ID token (sign in again) passes the authorizer. /userinfo is the token service's own route and wants",
		"# its access token, so the token service answers 401 invalid_token; your own routes get the ID token's claims.",
		cognitoCall(env, "InitiateAuth", fmt.Sprintf(`{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"%s","AuthParameters":{"USERNAME":"%s","PASSWORD":"%s"}}`, env.ClientID, demoUser, demoPassword)) +
			` -o "$SF_OUT"`,
		`export ID_TOKEN=$(field AuthenticationResult.IdToken)`,
		fmt.Sprintf("expect 401 %s/userinfo %s", api, idBearer),
		"answered_by service",
		fmt.Sprintf("expect 401 %s/userinfo", api),
		"answered_by gateway",
	}
	l = append(l, invokeStep(env, eff, "ID_TOKEN")...)
	l = append(l,
		"# Revoke every login of the user up to now, as an admin would, with the CLI on the same table:",
		`SF_SUB=$(node -p 'JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")).sub' "$ID_TOKEN")`,
		"# (cognito-local has no AdminUserGlobalSignOut, so the Cognito sign-out is skipped here.)",
		fmt.Sprintf(`SHORTFUSE_AUTHORIZER_MODE=%s AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local go run ./cmd/shortfuse users revoke --endpoint %s --table %s --region %s --user "$SF_SUB" --global-signout=false`,
			eff.Mode, env.DynamoEndpoint, env.Table, env.Region))
	if eff.CacheTTL == 0 {
		l = append(l,
			fmt.Sprintf("# Within one revocation poll (%s s) the authorizer refuses the ID token: 401 from the gateway.", secs(eff.Poll)),
			"sleep "+secs(eff.RevocationBound()+500*time.Millisecond),
			fmt.Sprintf("expect 401 %s/userinfo %s", api, idBearer),
			"answered_by gateway")
	} else {
		l = append(l,
			fmt.Sprintf("# The gateway keeps serving its cached answer for up to %s s (SHORTFUSE_GATEWAY_CACHE_TTL); the authorizer", secs(eff.CacheTTL)),
			"# itself refuses the ID token within one poll:",
			"sleep "+secs(eff.RevocationBound()-eff.CacheTTL+500*time.Millisecond))
		ev, err := eff.sampleEvent(env, "/userinfo", "ID_TOKEN")
		if err == nil {
			l = append(l,
				fmt.Sprintf(`curl -sS -i -w '\n' %s/2015-03-31/functions/authorizer/invocations -d '%s' > "$SF_OUT"; cat "$SF_OUT"`,
					env.LambdaInvokeURL, ev),
				`if grep -qi '^x-amz-function-error' "$SF_OUT" && grep -q Unauthorized "$SF_OUT"; then echo "   refused"; else echo "!! not refused" >&2; false; fi`)
		}
	}
	return l
}
