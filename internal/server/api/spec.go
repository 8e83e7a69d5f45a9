package api

import (
	"context"
	_ "embed"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// document is openapi.yaml, as committed.
//
//go:embed openapi.yaml
var document []byte

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Spec returns the API's OpenAPI document, loaded and validated once. It
// is shared: callers copy it before changing anything.
func Spec() (*openapi3.T, error) {
	loadOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(document)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			loadErr = fmt.Errorf("api: openapi.yaml: %w", err)
			return
		}
		loaded = doc
	})
	return loaded, loadErr
}

// Scope returns the API key scope an operation needs (its x-scope), or ""
// for an operation that needs no key.
func Scope(op *openapi3.Operation) string {
	if op == nil || op.Security == nil || len(*op.Security) == 0 {
		return ""
	}
	s, _ := op.Extensions["x-scope"].(string)
	return s
}
