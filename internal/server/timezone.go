package server

import (
	"slices"
	"time"

	"atrium/internal/app"
)

// validTimeZone reports whether tz is an IANA time zone name a user may
// keep: clean text that the time package loads, not "Local".
func validTimeZone(tz string) bool {
	clean, err := app.CleanText("time_zone", "time zone", tz, 0)
	if err != nil || clean != tz || tz == "" || tz == "Local" {
		return false
	}
	_, err = time.LoadLocation(tz)
	return err == nil
}

// commonTimeZones are the choices offered on the account page. Any valid
// IANA name is accepted; a user's current zone is always offered.
var commonTimeZones = []string{
	"UTC",
	"Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi",
	"America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Chicago",
	"America/Denver", "America/Halifax", "America/Los_Angeles", "America/Mexico_City",
	"America/New_York", "America/Phoenix", "America/Santiago", "America/Sao_Paulo",
	"America/St_Johns", "America/Toronto", "America/Vancouver",
	"Asia/Bangkok", "Asia/Dhaka", "Asia/Dubai", "Asia/Hong_Kong", "Asia/Jakarta",
	"Asia/Jerusalem", "Asia/Karachi", "Asia/Kathmandu", "Asia/Kolkata", "Asia/Manila",
	"Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Taipei", "Asia/Tehran", "Asia/Tokyo",
	"Atlantic/Azores", "Atlantic/Reykjavik",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Perth", "Australia/Sydney",
	"Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Brussels", "Europe/Dublin",
	"Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Europe/Lisbon", "Europe/London",
	"Europe/Madrid", "Europe/Moscow", "Europe/Oslo", "Europe/Paris", "Europe/Prague",
	"Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Zurich",
	"Pacific/Auckland", "Pacific/Honolulu",
}

// timeZoneChoices returns the offered zones, with current added if missing.
func timeZoneChoices(current string) []string {
	if current == "" || slices.Contains(commonTimeZones, current) {
		return commonTimeZones
	}
	return append([]string{current}, commonTimeZones...)
}
