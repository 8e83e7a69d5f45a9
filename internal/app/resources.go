package app

// Resources are the services of the workspace resources made with `make
// scaffold` (see /docs/extending). Each generated resource adds its field
// above the marker below; store.NewResources fills them in.
type Resources struct {
	// scaffold:resources (make scaffold adds fields above this line)
}
