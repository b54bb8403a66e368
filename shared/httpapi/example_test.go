package httpapi_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/httpapi"
)

func ExampleAdapter_Handle() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello %s", r.PathValue("name"))
	})
	a := httpapi.New(mux, httpapi.WithMaxBodyBytes(8<<10))
	// In main: lambda.StartHandlerFunc(a.Handle)

	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/hello/gopher"}
	ev.RequestContext.HTTP.Method = "GET"
	resp, _ := a.Handle(context.Background(), ev)
	fmt.Println(resp.StatusCode, resp.Body)
	// Output: 200 hello gopher
}
