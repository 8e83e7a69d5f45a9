package store

import "atrium/internal/app"

// NewResources returns the services of the resources made with `make
// scaffold`, over db.
func NewResources(db *DB) app.Resources {
	return app.Resources{
		// scaffold:resources (make scaffold adds services above this line)
	}
}
