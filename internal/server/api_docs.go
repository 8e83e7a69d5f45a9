package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"atrium/web/page"
)

// apiMethodOrder is the order an API path's operations are listed in.
var apiMethodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// handleAPIDocs handles "GET /api/v1/docs": the API reference rendered on
// the server from the OpenAPI document, so it works offline and under the
// site's script-src 'self' policy.
func (s *Server) handleAPIDocs(oa *openapi3.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := page.APIDocsView{Title: oa.Info.Title, Description: oa.Info.Description,
			SpecURL: "/api/v1/openapi.json", Spec30URL: "/api/v1/openapi-3.0.json"}
		if len(oa.Servers) > 0 {
			v.BaseURL = oa.Servers[0].URL
		}
		for path, item := range oa.Paths.Map() {
			for _, m := range apiMethodOrder {
				op := item.GetOperation(m)
				if op == nil {
					continue
				}
				v.Operations = append(v.Operations, page.APIOperation{Method: m, Path: path, Summary: op.Summary,
					Secured: op.Security != nil && len(*op.Security) > 0})
			}
		}
		slices.SortFunc(v.Operations, func(a, b page.APIOperation) int {
			if c := strings.Compare(a.Path, b.Path); c != 0 {
				return c
			}
			return slices.Index(apiMethodOrder, a.Method) - slices.Index(apiMethodOrder, b.Method)
		})
		s.render(w, r, http.StatusOK, page.APIDocs(s.publicPage(w, r, "API reference", "docs"), v))
	}
}
