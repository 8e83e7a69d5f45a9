// Package api holds the contract of Atrium's JSON API (/api/v1):
// openapi.yaml, the OpenAPI document customers read and the source of
// truth, and the server interface and models generated from it by
// oapi-codegen (api.gen.go). The handlers implement StrictServerInterface
// in package server; the client in ../apiclient is generated from the
// same document. After changing openapi.yaml:
//
//	go generate ./internal/server/api/ ./internal/server/apiclient/
//
// TestAPIGenerated fails while the generated code is stale.
package api

//go:generate go tool oapi-codegen -generate types,chi-server,strict-server -package api -o api.gen.go openapi.yaml
