package lambdahost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

type echoIn struct {
	Name string `json:"name"`
}

type echoOut struct {
	Greeting  string `json:"greeting"`
	RequestID string `json:"request_id"`
	Deadline  bool   `json:"deadline"`
}

type denyError struct{ msg string }

func (e *denyError) Error() string { return e.msg }

func testHost(t *testing.T, events *atomic.Int32) http.Handler {
	t.Helper()
	return lambdahost.New(map[string]lambda.Handler{
		"echo": lambda.NewHandler(func(ctx context.Context, in echoIn) (echoOut, error) {
			lc, _ := lambdacontext.FromContext(ctx)
			_, hasDeadline := ctx.Deadline()
			return echoOut{Greeting: "hello " + in.Name, RequestID: lc.AwsRequestID, Deadline: hasDeadline}, nil
		}),
		"fail": lambda.NewHandler(func(context.Context, echoIn) (echoOut, error) {
			return echoOut{}, &denyError{"email domain not allowed"}
		}),
		"panic": lambda.NewHandler(func(context.Context, echoIn) (echoOut, error) {
			panic("boom")
		}),
		"slow": lambda.NewHandler(func(ctx context.Context, _ echoIn) (echoOut, error) {
			select {
			case <-ctx.Done():
				return echoOut{}, ctx.Err()
			case <-time.After(5 * time.Second):
				return echoOut{}, nil
			}
		}),
		"count": lambda.NewHandler(func(context.Context, echoIn) error {
			events.Add(1)
			return nil
		}),
	}, lambdahost.WithTimeout(100*time.Millisecond), lambdahost.WithMaxBodyBytes(1024))
}

func TestServeHTTP(t *testing.T) {
	var n atomic.Int32
	h := testHost(t, &n)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		funcErr                  string
		errType                  string // X-Amzn-ErrorType for API errors
		bodyHas                  string
	}{
		{name: "ok", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{"name":"ada"}`,
			status: 200, bodyHas: `"greeting":"hello ada"`},
		{name: "deadline set", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{}`,
			status: 200, bodyHas: `"deadline":true`},
		{name: "empty body is {}", method: "POST", path: "/2015-03-31/functions/echo/invocations",
			status: 200, bodyHas: `"greeting":"hello "`},
		{name: "arn", method: "POST", path: "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:echo:live/invocations",
			body: `{"name":"b"}`, status: 200, bodyHas: "hello b"},
		{name: "qualified name", method: "POST", path: "/2015-03-31/functions/echo:$LATEST/invocations",
			body: `{"name":"c"}`, status: 200, bodyHas: "hello c"},
		{name: "handler error", method: "POST", path: "/2015-03-31/functions/fail/invocations", body: `{}`,
			status: 200, funcErr: "Unhandled", bodyHas: `{"errorMessage":"email domain not allowed","errorType":"denyError"}`},
		{name: "panic", method: "POST", path: "/2015-03-31/functions/panic/invocations", body: `{}`,
			status: 200, funcErr: "Unhandled", bodyHas: `"errorMessage":"boom"`},
		{name: "timeout", method: "POST", path: "/2015-03-31/functions/slow/invocations", body: `{}`,
			status: 200, funcErr: "Unhandled", bodyHas: `"errorType":"Sandbox.Timedout"`},
		{name: "bad payload type", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{"name":7}`,
			status: 200, funcErr: "Unhandled", bodyHas: `"errorType":"UnmarshalTypeError"`},
		{name: "unknown function", method: "POST", path: "/2015-03-31/functions/nope/invocations", body: `{}`,
			status: 404, errType: "ResourceNotFoundException", bodyHas: "function:nope"},
		{name: "unknown path", method: "POST", path: "/2015-03-31/functions/echo", body: `{}`,
			status: 404, errType: "UnknownOperationException"},
		{name: "slash in name", method: "POST", path: "/2015-03-31/functions/a/b/invocations", body: `{}`,
			status: 404, errType: "UnknownOperationException"},
		{name: "GET", method: "GET", path: "/2015-03-31/functions/echo/invocations",
			status: 405, errType: "UnknownOperationException"},
		{name: "invalid json", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{"name":`,
			status: 400, errType: "InvalidRequestContentException"},
		{name: "too large", method: "POST", path: "/2015-03-31/functions/echo/invocations",
			body: `{"name":"` + strings.Repeat("x", 2000) + `"}`, status: 413, errType: "RequestEntityTooLargeException"},
		{name: "dry run", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{}`,
			header: map[string]string{"X-Amz-Invocation-Type": "DryRun"}, status: 204},
		{name: "bad invocation type", method: "POST", path: "/2015-03-31/functions/echo/invocations", body: `{}`,
			header: map[string]string{"X-Amz-Invocation-Type": "Later"}, status: 400, errType: "InvalidParameterValueException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("X-Amz-Function-Error"); got != tc.funcErr {
				t.Errorf("X-Amz-Function-Error = %q, want %q", got, tc.funcErr)
			}
			if got := rec.Header().Get("X-Amzn-ErrorType"); got != tc.errType {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tc.errType)
			}
			if !strings.Contains(rec.Body.String(), tc.bodyHas) {
				t.Errorf("body %s does not contain %s", rec.Body, tc.bodyHas)
			}
			if tc.status == 200 {
				if !json.Valid(rec.Body.Bytes()) {
					t.Errorf("body is not JSON: %s", rec.Body)
				}
				if rec.Header().Get("X-Amzn-RequestId") == "" {
					t.Error("no X-Amzn-RequestId")
				}
			}
		})
	}
}

func TestRequestIDMatchesContext(t *testing.T) {
	h := testHost(t, new(atomic.Int32))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", lambdahost.InvokePath("echo"), strings.NewReader(`{}`)))
	var out echoOut
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.RequestID == "" || out.RequestID != rec.Header().Get("X-Amzn-RequestId") {
		t.Fatalf("context request id %q, header %q", out.RequestID, rec.Header().Get("X-Amzn-RequestId"))
	}
}

func TestEventInvocation(t *testing.T) {
	var n atomic.Int32
	h := testHost(t, &n)
	req := httptest.NewRequest("POST", lambdahost.InvokePath("count"), strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d", rec.Code)
	}
	for i := 0; n.Load() == 0 && i < 200; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if n.Load() != 1 {
		t.Fatalf("event handler ran %d times", n.Load())
	}
}

// TestSDKClient drives the host with the AWS SDK Lambda client, the way the
// project's own code and tools reach it.
func TestSDKClient(t *testing.T) {
	srv := httptest.NewServer(testHost(t, new(atomic.Int32)))
	defer srv.Close()
	client := awslambda.NewFromConfig(testenv.AWSConfig(), func(o *awslambda.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	ctx := t.Context()

	out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"name":"sdk"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || out.FunctionError != nil || !bytes.Contains(out.Payload, []byte("hello sdk")) {
		t.Fatalf("Invoke echo = %d %v %s", out.StatusCode, out.FunctionError, out.Payload)
	}

	out, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fail")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !bytes.Contains(out.Payload, []byte("email domain not allowed")) {
		t.Fatalf("Invoke fail = %v %s", out.FunctionError, out.Payload)
	}

	arn := "arn:aws:lambda:us-east-1:123456789012:function:echo"
	if _, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(arn)}); err != nil {
		t.Fatalf("Invoke by ARN: %v", err)
	}

	_, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("nope")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("Invoke nope: %v, want ResourceNotFoundException", err)
	}
}

// TestCognitoLocalTrigger proves the wiring other packages rely on:
// cognito-local invokes a PreSignUp handler hosted here, the handler's
// response takes effect, and its error reaches the client as Cognito reports it.
func TestCognitoLocalTrigger(t *testing.T) {
	var got, gotMsg atomic.Value
	host := lambdahost.New(map[string]lambda.Handler{
		"custommessage": lambda.NewHandler(func(_ context.Context, ev events.CognitoEventUserPoolsCustomMessage) (events.CognitoEventUserPoolsCustomMessage, error) {
			gotMsg.Store(ev)
			ev.Response.EmailSubject = "Welcome"
			ev.Response.EmailMessage = "Your code is " + ev.Request.CodeParameter
			return ev, nil
		}),
		"presignup": lambda.NewHandler(func(_ context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
			got.Store(ev)
			if strings.HasSuffix(ev.Request.UserAttributes["email"], "@blocked.example") {
				return ev, errors.New("email domain not allowed")
			}
			ev.Response.AutoConfirmUser = true
			ev.Response.AutoVerifyEmail = true
			return ev, nil
		}),
	})
	srv := httptest.NewServer(host)
	defer srv.Close()
	c := testenv.CognitoLocal(t, testenv.CognitoOptions{
		LambdaEndpoint: srv.URL,
		Triggers:       map[string]string{"PreSignUp": "presignup", "CustomMessage": "custommessage"},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	out, err := c.Client.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(c.ClientID), Username: aws.String("ada@example.com"), Password: aws.String("Passw0rd!"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.UserConfirmed {
		t.Fatal("user not confirmed: the PreSignUp response was not applied")
	}
	ev, _ := got.Load().(events.CognitoEventUserPoolsPreSignup)
	if ev.TriggerSource != "PreSignUp_SignUp" || ev.UserPoolID != c.UserPoolID || ev.CallerContext.ClientID != c.ClientID {
		t.Fatalf("event = %+v", ev)
	}
	if _, err := c.Login(ctx, "ada@example.com", "Passw0rd!"); err != nil {
		t.Fatalf("login of the auto-confirmed user: %v", err)
	}
	msg, _ := gotMsg.Load().(events.CognitoEventUserPoolsCustomMessage)
	if msg.TriggerSource != "CustomMessage_SignUp" || msg.Request.CodeParameter != "{####}" {
		t.Fatalf("custom message event = %+v", msg)
	}
	if out := c.Output(); !strings.Contains(out, "Email Subject: Welcome") || !regexp.MustCompile(`Your code is \d{6}`).MatchString(out) {
		t.Fatalf("cognito-local did not deliver the custom message; output:\n%s", out)
	}

	_, err = c.Client.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(c.ClientID), Username: aws.String("eve@blocked.example"), Password: aws.String("Passw0rd!"),
	})
	var lve *types.UserLambdaValidationException
	if !errors.As(err, &lve) || !strings.Contains(aws.ToString(lve.Message), "presignup failed with error email domain not allowed") {
		t.Fatalf("blocked sign-up: %v, want UserLambdaValidationException quoting the handler error", err)
	}
}

func Example() {
	host := lambdahost.New(map[string]lambda.Handler{
		"hello": lambda.NewHandler(func(_ context.Context, in struct{ Name string }) (string, error) {
			return "hello " + in.Name, nil
		}),
	})
	srv := httptest.NewServer(host)
	defer srv.Close()

	resp, err := http.Post(srv.URL+lambdahost.InvokePath("hello"), "application/json", strings.NewReader(`{"Name":"world"}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK "hello world"
}
