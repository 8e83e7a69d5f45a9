package mail_test

import "atrium/internal/i18n"

// english is the printer the tests of the English emails write with.
var english = i18n.MustNew(i18n.Options{}).Printer(i18n.Source)
