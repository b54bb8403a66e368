package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/shortfuse/shortfuse/shared/awsx"
)

// Attribute names shared by every item kind.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrTTL    = "ttl"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"

	// IndexGSI1 is the global secondary index that lists a user's sessions.
	IndexGSI1 = "gsi1"
)

// api is the part of the DynamoDB client the store uses. *dynamodb.Client
// implements it; the interface lets a test stand in for DynamoDB.
type api interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Store reads and writes shortfuse's items in one DynamoDB table. It is safe
// for concurrent use.
type Store struct {
	db      api
	table   string
	timeout time.Duration
	clock   func() time.Time

	sessionRetention time.Duration
	userRetention    time.Duration
	pageLimit        int32 // > 0 caps items per Query page (tests force pagination)
	layout           RevocationLayout
}

// An Option configures a Store.
type Option func(*Store)

// WithTimeout sets the deadline of each DynamoDB call, retries included
// (default awsx.CallTimeout).
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithClock sets the clock used for expiry checks and generated times.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.clock = now
		}
	}
}

// DefaultSessionRetention is how long a session item is kept after its
// absolute expiry: long enough for a user or an operator to still see a
// revoked or expired session in the list, and to tell a replayed refresh
// token from garbage while investigating.
const DefaultSessionRetention = 7 * 24 * time.Hour

// DefaultUserRevocationRetention is how long a user's revocation time is
// kept after it was set; 0 means forever. See WithUserRevocationRetention.
const DefaultUserRevocationRetention time.Duration = 0

// WithSessionRetention sets how long a session item outlives its absolute
// expiry before its ttl passes (default DefaultSessionRetention).
func WithSessionRetention(d time.Duration) Option {
	return func(s *Store) {
		if d >= 0 {
			s.sessionRetention = d
		}
	}
}

// WithUserRevocationRetention sets how long a user's revocation time is kept
// (default 0: forever). A user revocation must outlive every Cognito ID token
// that carries an earlier auth_time: without a global sign-out in Cognito, a
// refresh token issued before the revocation keeps minting such ID tokens
// for its whole validity, so the retention must be at least the pool's
// refresh token validity plus the ID token validity (at most 1 day), and at
// least the token service's absolute session lifetime. A shorter value
// silently lets old logins back in; the record is a few bytes per revoked
// user, so keeping it forever is the safe default.
func WithUserRevocationRetention(d time.Duration) Option {
	return func(s *Store) {
		if d >= 0 {
			s.userRetention = d
		}
	}
}

// New returns a Store for table.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	return newStore(client, table, opts...)
}

func newStore(db api, table string, opts ...Option) *Store {
	s := &Store{
		db:               db,
		table:            table,
		timeout:          awsx.CallTimeout,
		clock:            time.Now,
		sessionRetention: DefaultSessionRetention,
		userRetention:    DefaultUserRevocationRetention,
		layout:           DefaultRevocationLayout(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now returns the current time from the store's clock.
func (s *Store) now() time.Time { return s.clock() }

// call runs one DynamoDB request under the store's deadline, derived from
// ctx, and maps its error with mapErr.
func call[T any](ctx context.Context, s *Store, op string, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := fn(ctx)
	if err != nil {
		var zero T
		return zero, mapErr(op, err)
	}
	return out, nil
}

// getItem, putItem, updateItem, deleteItem and query run one call each with
// the store's deadline and error mapping. They fill in the table name when
// the input leaves it nil.

func (s *Store) getItem(ctx context.Context, in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
	if in.TableName == nil {
		in.TableName = aws.String(s.table)
	}
	return call(ctx, s, "GetItem", func(ctx context.Context) (*dynamodb.GetItemOutput, error) {
		return s.db.GetItem(ctx, in)
	})
}

func (s *Store) putItem(ctx context.Context, in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
	if in.TableName == nil {
		in.TableName = aws.String(s.table)
	}
	return call(ctx, s, "PutItem", func(ctx context.Context) (*dynamodb.PutItemOutput, error) {
		return s.db.PutItem(ctx, in)
	})
}

func (s *Store) updateItem(ctx context.Context, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	if in.TableName == nil {
		in.TableName = aws.String(s.table)
	}
	return call(ctx, s, "UpdateItem", func(ctx context.Context) (*dynamodb.UpdateItemOutput, error) {
		return s.db.UpdateItem(ctx, in)
	})
}

func (s *Store) deleteItem(ctx context.Context, in *dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
	if in.TableName == nil {
		in.TableName = aws.String(s.table)
	}
	return call(ctx, s, "DeleteItem", func(ctx context.Context) (*dynamodb.DeleteItemOutput, error) {
		return s.db.DeleteItem(ctx, in)
	})
}

func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	if in.TableName == nil {
		in.TableName = aws.String(s.table)
	}
	if s.pageLimit > 0 && (in.Limit == nil || *in.Limit > s.pageLimit) {
		in.Limit = aws.Int32(s.pageLimit)
	}
	return call(ctx, s, "Query", func(ctx context.Context) (*dynamodb.QueryOutput, error) {
		return s.db.Query(ctx, in)
	})
}

// queryAll runs in page after page, each page one call with its own
// deadline, and hands every page's items to fn in order.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, fn func(items []map[string]types.AttributeValue) error) error {
	for {
		out, err := s.query(ctx, in)
		if err != nil {
			return err
		}
		if err := fn(out.Items); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// mapErr turns an SDK error into the store's vocabulary:
//   - a failed condition is ErrConflict;
//   - anything that says "DynamoDB could not answer now" (network error,
//     deadline, cancellation, throttling, a server fault or 5xx status, a
//     garbled response) is ErrUnavailable wrapping the cause, so callers
//     answer 503;
//   - any other API error (validation, missing table, access denied) is
//     returned wrapped as is: it is a bug or a misconfiguration, not an
//     outage, and retrying will not help.
func mapErr(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s: %w", op, ErrConflict)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		_, throttle := retry.DefaultThrottleErrorCodes[code]
		_, timeout := retry.DefaultRetryableErrorCodes[code]
		if throttle || timeout || ae.ErrorFault() == smithy.FaultServer || statusCode(err) >= 500 {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
		}
		return fmt.Errorf("store: %s: %w", op, err)
	}
	var ips smithy.InvalidParamsError
	var ip smithy.InvalidParamError
	if errors.As(err, &ips) || errors.As(err, &ip) {
		// Client-side validation: the request itself is wrong.
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// statusCode returns the HTTP status of the response behind err, or 0.
func statusCode(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// adminCallTimeout bounds each table-management call; creating a table in
// AWS answers quickly and then takes a while to become active, which the
// waiter in CreateTable bounds separately.
const adminCallTimeout = 10 * time.Second

// CreateTable creates the table with its key schema, gsi1 and on-demand
// billing, waits until it is active and enables TTL on ttl. It is idempotent:
// an existing table is left as it is. The local stack and tests use it; in
// AWS the SAM template owns the table.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	s := func(v string) *string { return aws.String(v) }
	cctx, cancel := context.WithTimeout(ctx, adminCallTimeout)
	defer cancel()
	_, err := client.CreateTable(cctx, &dynamodb.CreateTableInput{
		TableName:   s(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s(attrSK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s(attrGSI1PK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s(attrGSI1SK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: s(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: s(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: s(IndexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: s(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: s(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: s(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("store: wait for table %s: %w", table, err)
	}
	tctx, cancel := context.WithTimeout(ctx, adminCallTimeout)
	defer cancel()
	_, err = client.UpdateTimeToLive(tctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: s(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: s(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil && !ttlUnsupportedOrSet(err) {
		return fmt.Errorf("store: enable ttl on %s: %w", table, err)
	}
	return nil
}

// ttlUnsupportedOrSet reports whether an UpdateTimeToLive error only says
// that TTL is already on, or that the emulator has no TTL (dynalite): both
// are fine, because every read checks expiry itself.
func ttlUnsupportedOrSet(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "UnknownOperationException":
		return true
	case "ValidationException":
		return containsFold(ae.ErrorMessage(), "already enabled")
	}
	return false
}
