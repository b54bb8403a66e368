package testenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRepoRootFrom(t *testing.T) {
	tmp := t.TempDir()
	nested := filepath.Join(tmp, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := repoRootFrom(nested); err == nil || !strings.Contains(err.Error(), "no package.json") {
		t.Fatalf("no package.json: got %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := repoRootFrom(nested); err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("no node_modules: got %v, want a hint to run npm ci", err)
	}
	if err := os.Mkdir(filepath.Join(tmp, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := repoRootFrom(nested)
	if err != nil || got != tmp {
		t.Fatalf("repoRootFrom = %q, %v; want %q", got, err, tmp)
	}
}

func createTable(ctx context.Context, c *dynamodb.Client, name string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		return err
	}
	// Even with --createTableMs 0 the table turns ACTIVE asynchronously.
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	return w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second)
}

func putGet(ctx context.Context, c *dynamodb.Client) error {
	item := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: item}); err != nil {
		return err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: item, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return errors.New("item missing")
	}
	return nil
}

// alive reports whether pid runs; a zombie awaiting its reaper counts as dead.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // not Linux: trust kill(0)
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func TestDynaliteStopStart(t *testing.T) {
	ctx := ctxT(t)
	d := Dynalite(t)
	if !strings.HasPrefix(d.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q", d.Endpoint)
	}
	if err := createTable(ctx, d.Client, "tbl"); err != nil {
		t.Fatal(err)
	}
	if err := putGet(ctx, d.Client); err != nil {
		t.Fatal(err)
	}
	pid := d.proc.cmd.Process.Pid
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("dynalite pid %d still alive after Stop", pid)
	}
	if err := d.Stop(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := d.Client.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("ListTables succeeded while dynalite was stopped")
	}
	port := d.Port
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Port != port {
		t.Fatalf("port changed across restart: %d -> %d", port, d.Port)
	}
	out, err := d.Client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("after Start: %v", err)
	}
	if len(out.TableNames) != 0 {
		t.Fatalf("in-memory dynalite kept tables across restart: %v", out.TableNames)
	}
}

func TestDynalitePersistent(t *testing.T) {
	ctx := ctxT(t)
	d := Dynalite(t, Persistent())
	if err := createTable(ctx, d.Client, "tbl"); err != nil {
		t.Fatal(err)
	}
	if err := putGet(ctx, d.Client); err != nil {
		t.Fatal(err)
	}
	if err := d.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("tbl"),
		Key:       map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("item after restart: %v, %v", out, err)
	}
}

func TestFixedPortTaken(t *testing.T) {
	d := Dynalite(t)
	_, err := StartDynalite(ctxT(t), WithPort(d.Port))
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("StartDynalite on a taken port: %v, want ErrPortInUse", err)
	}
}

func TestCognitoLocal(t *testing.T) {
	ctx := ctxT(t)
	c := CognitoLocal(t, CognitoOptions{})
	if want := c.Endpoint + "/" + c.UserPoolID; c.Issuer != want {
		t.Fatalf("Issuer = %q, want %q", c.Issuer, want)
	}
	tok, err := c.SignUpAndLogin(ctx, "ada@example.com", "Passw0rd!", map[string]string{"locale": "fr"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Fetch(ctx, c.JWKSURL)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := set.Key(0)
	if !ok {
		t.Fatal("empty JWKS")
	}
	if kid, _ := key.KeyID(); kid != "CognitoLocal" {
		t.Fatalf("kid = %q", kid)
	}
	id, err := jwt.Parse([]byte(tok.IDToken), jwt.WithKeySet(set),
		jwt.WithIssuer(c.Issuer), jwt.WithAudience(c.ClientID))
	if err != nil {
		t.Fatalf("ID token does not verify against JWKSURL with Issuer and ClientID: %v", err)
	}
	var use string
	if err := id.Get("token_use", &use); err != nil || use != "id" {
		t.Fatalf("token_use = %q, %v", use, err)
	}
	var email string
	if err := id.Get("email", &email); err != nil || email != "ada@example.com" {
		t.Fatalf("email = %q, %v", email, err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatal("missing access or refresh token")
	}
	if _, err := c.Client.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(tok.AccessToken)}); err != nil {
		t.Fatalf("GetUser with the access token: %v", err)
	}
	// A second sign-up of the same email is refused.
	if _, err := c.SignUp(ctx, "ada@example.com", "Passw0rd!", nil); err == nil {
		t.Fatal("duplicate SignUp succeeded")
	}
}

func TestCognitoOptionsValidate(t *testing.T) {
	for _, o := range []CognitoOptions{
		{Triggers: map[string]string{"PreSignUp": "x"}},
		{LambdaEndpoint: "http://127.0.0.1:1", Triggers: map[string]string{"DefineAuthChallenge": "x"}},
		{LambdaEndpoint: "http://127.0.0.1:1", Triggers: map[string]string{"PreSignUp": ""}},
	} {
		if err := o.validate(); err == nil {
			t.Errorf("validate(%+v) = nil, want error", o)
		}
	}
}

func TestCognitoDataDirReusesPool(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	c1, err := StartCognitoLocal(ctx, CognitoOptions{}, WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.SignUp(ctx, "bo@example.com", "Passw0rd!", nil); err != nil {
		t.Fatal(err)
	}
	_ = c1.Stop()
	c2, err := StartCognitoLocal(ctx, CognitoOptions{}, WithDataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	if c2.UserPoolID != c1.UserPoolID || c2.ClientID != c1.ClientID {
		t.Fatalf("pool/client changed: %s/%s -> %s/%s", c1.UserPoolID, c1.ClientID, c2.UserPoolID, c2.ClientID)
	}
	if _, err := c2.Login(ctx, "bo@example.com", "Passw0rd!"); err != nil {
		t.Fatalf("login after restart: %v", err)
	}
}

func TestSESLocal(t *testing.T) {
	ctx := ctxT(t)
	s := SESLocal(t)
	_, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"Ada@Example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your code")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String("code 123456")},
				Html: &sestypes.Content{Data: aws.String("<p>code 123456</p>")},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.WaitForMail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Your code" || m.Text != "code 123456" || m.HTML != "<p>code 123456</p>" ||
		m.From != "no-reply@example.com" || len(m.To) != 1 || m.MessageID == "" || m.At.IsZero() {
		t.Fatalf("mail = %+v", m)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if all, err := s.Messages(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after Clear: %v, %v", all, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.WaitForMail(short, "nobody@example.com"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForMail with no mail: %v", err)
	}
}
