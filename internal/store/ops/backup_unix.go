//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Byte ranges SQLite locks (os_unix.c). A connection to a WAL database
// holds a read lock on the dead-man-switch byte of the -shm file for as long
// as it is open; a rollback-journal connection holds a shared lock on the
// database file's lock range while it reads or writes.
const (
	shmDeadManSwitch = 128        // UNIX_SHM_DMS: (22+8)*4 + 8
	dbLockStart      = 0x40000000 // PENDING_BYTE
	dbLockLen        = 512 + 2    // PENDING, RESERVED and the SHARED range
)

// SQLiteHolder reports whether another process has the SQLite database at
// path open, and that process's id. It tests the locks SQLite itself takes,
// so it sees every SQLite client (the app, the sqlite3 shell, a backup
// tool) without changing anything. Locks held by the calling process are
// not seen. ok is false where the check is not supported.
func SQLiteHolder(path string) (pid int, ok bool, err error) {
	for _, c := range []struct {
		file       string
		start, len int64
	}{
		{path + "-shm", shmDeadManSwitch, 1},
		{path, dbLockStart, dbLockLen},
	} {
		pid, err := lockHolder(c.file, c.start, c.len)
		if err != nil {
			return 0, true, err
		}
		if pid != 0 {
			return pid, true, nil
		}
	}
	return 0, true, nil
}

// lockHolder returns the id of a process holding a lock that conflicts
// with an exclusive lock on [start, start+n) of file, or 0.
func lockHolder(file string, start, n int64) (int, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// Closing f would drop this process's own locks on the file; it holds
	// none, since the caller has not opened the database.
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: start, Len: n}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, fmt.Errorf("test the locks of %s: %w", file, err)
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	if lk.Pid == 0 {
		return -1, nil // held, by a process we cannot name
	}
	return int(lk.Pid), nil
}
