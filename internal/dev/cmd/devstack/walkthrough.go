package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Section is one step of the walkthrough printed when the stack is up.
type Section struct {
	Title string
	// Commands are shell lines that work when pasted verbatim into bash;
	// lines starting with # are comments.
	Commands string
}

// extraSections add walkthrough steps that belong to no service, e.g. for
// a trigger; services add theirs through Service.Walkthrough.
var extraSections = []func(env Env) Section{}

const (
	demoUser     = "ada@example.com"
	demoPassword = "Correct-Horse-9"
)

// cognitoCall is a curl command for one Cognito API action against
// cognito-local, which speaks the same JSON protocol as Cognito.
func cognitoCall(env Env, action, body string) string {
	return fmt.Sprintf("curl -sS -w '\\n' %s \\\n  -H 'Content-Type: application/x-amz-json-1.1' \\\n  -H 'X-Amz-Target: AWSCognitoIdentityProviderService.%s' \\\n  -d '%s'",
		env.CognitoEndpoint, action, body)
}

// baseSections are the steps for the emulators and the Lambda host.
func baseSections(env Env, stateDir string) []Section {
	auth := filepath.Join(stateDir, "auth.json")
	signIn := Section{
		Title: "Sign up and sign in (cognito-local; curl and node, no aws CLI needed)",
		Commands: strings.Join([]string{
			cognitoCall(env, "SignUp", fmt.Sprintf(`{"ClientId":"%s","Username":"%s","Password":"%s"}`, env.ClientID, demoUser, demoPassword)),
			"# If SignUp answered \"UserConfirmed\":false, confirm the user as an admin would:",
			cognitoCall(env, "AdminConfirmSignUp", fmt.Sprintf(`{"UserPoolId":"%s","Username":"%s"}`, env.UserPoolID, demoUser)),
			cognitoCall(env, "InitiateAuth", fmt.Sprintf(`{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"%s","AuthParameters":{"USERNAME":"%s","PASSWORD":"%s"}}`, env.ClientID, demoUser, demoPassword)) +
				" \\\n  -o " + auth,
			fmt.Sprintf(`export ID_TOKEN=$(node -p 'require("%s").AuthenticationResult.IdToken')`, auth),
			fmt.Sprintf(`export ACCESS_TOKEN=$(node -p 'require("%s").AuthenticationResult.AccessToken')`, auth),
			fmt.Sprintf(`export REFRESH_TOKEN=$(node -p 'require("%s").AuthenticationResult.RefreshToken')`, auth),
			"# The ID token's claims, and the key that signs it:",
			`node -p 'JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url"))' "$ID_TOKEN"`,
			"curl -sS -w '\\n' " + env.JWKSURL,
		}, "\n"),
	}

	var lambda []string
	target, example := "presignup", "{}"
	if len(functions) == 0 {
		lambda = append(lambda, "# No functions registered yet: the host answers 404 ResourceNotFoundException.")
	} else {
		target = functions[0].Name
		for _, f := range functions {
			line := "# " + f.Name
			if len(f.Triggers) > 0 {
				line += " (Cognito " + strings.Join(f.Triggers, ", ") + ")"
			}
			lambda = append(lambda, line)
		}
		if i := slices.IndexFunc(functions, func(f Function) bool { return f.Example != "" }); i >= 0 {
			target, example = functions[i].Name, functions[i].Example
			lambda = append(lambda, "# Invoke one with an event of its own type:")
		} else {
			lambda = append(lambda, "# Invoke one with an event of its own type (an empty event may be refused):")
		}
	}
	lambda = append(lambda, fmt.Sprintf("curl -sS -i -w '\\n' %s/2015-03-31/functions/%s/invocations -d '%s'", env.LambdaInvokeURL, target, example))

	return []Section{
		signIn,
		{Title: "Dev Lambda host (Lambda Invoke API)", Commands: strings.Join(lambda, "\n")},
		{
			Title: "DynamoDB (dynalite; needs a syntactically valid, unchecked signature)",
			Commands: fmt.Sprintf("curl -sS -w '\\n' %s \\\n  -H 'Content-Type: application/x-amz-json-1.0' \\\n  -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \\\n"+
				"  -H 'X-Amz-Date: 20260101T000000Z' \\\n"+
				"  -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/%s/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' \\\n"+
				"  -d '{}'", env.DynamoEndpoint, env.Region),
		},
		{
			Title:    "Mail sent through SES (aws-ses-v2-local)",
			Commands: "# Open " + env.SESWebURL + " in a browser, or:\ncurl -sS -w '\\n' " + env.SESEndpoint + "/store",
		},
	}
}

// walkthrough renders every section: the base ones, then the services', then
// the extra ones, then how to stop.
func walkthrough(env Env, stateDir string, pid int) string {
	sections := baseSections(env, stateDir)
	for _, s := range services {
		if s.Walkthrough != nil {
			sections = append(sections, s.Walkthrough(env))
		}
	}
	for _, f := range extraSections {
		sections = append(sections, f(env))
	}
	sections = append(sections, Section{
		Title:    "Stop the stack",
		Commands: fmt.Sprintf("# Ctrl-C in this terminal, or from another one:\nkill -INT %d", pid),
	})

	var b strings.Builder
	b.WriteString("shortfuse dev stack is up. Endpoints: " + filepath.Join(stateDir, "endpoints.json") + "\n")
	rows := [][2]string{
		{"DynamoDB", env.DynamoEndpoint + "  (table " + env.Table + ")"},
		{"Cognito", env.CognitoEndpoint + "  pool " + env.UserPoolID + "  client " + env.ClientID},
		{"Issuer", env.Issuer},
		{"SES", env.SESEndpoint + "  (mail: " + env.SESWebURL + ")"},
		{"Lambda", env.LambdaInvokeURL},
	}
	names := make([]string, 0, len(env.ServiceURLs))
	for n := range env.ServiceURLs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		rows = append(rows, [2]string{n, env.ServiceURLs[n]})
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-9s %s\n", r[0], r[1])
	}
	for i, s := range sections {
		fmt.Fprintf(&b, "\n# %d. %s\n%s\n", i+1, s.Title, strings.TrimRight(s.Commands, "\n"))
	}
	return b.String()
}
