//go:build race

package store_test

// raceEnabled reports whether the tests run under the race detector, which
// makes bulk work several times slower.
const raceEnabled = true
