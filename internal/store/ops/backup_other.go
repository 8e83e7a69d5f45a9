//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package ops

// SQLiteHolder reports whether another process has the SQLite database at
// path open. This system does not support the check: ok is false.
func SQLiteHolder(path string) (pid int, ok bool, err error) { return 0, false, nil }
