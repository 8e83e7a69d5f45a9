// Package atrium holds the files at the root of the repository that the
// binary embeds. Go can embed files only from a package's own folder or
// below, so RUNBOOK.md, which the public docs serve as their operations
// page, is embedded here and stays the one copy of the runbook.
package atrium

import _ "embed"

//go:embed RUNBOOK.md
var runbook []byte

// Runbook returns a copy of RUNBOOK.md, the operations runbook.
func Runbook() []byte { return append([]byte(nil), runbook...) }
