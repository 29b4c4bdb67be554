package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/dicominbox/dicominbox/app"
)

// Formatting of numbers, dates and DICOM values for the tables.

// groupThousands writes n as "20,000".
func groupThousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// dicomDate turns YYYYMMDD into YYYY-MM-DD (other values unchanged).
func dicomDate(s string) string {
	if len(s) == 8 && strings.Trim(s, "0123456789") == "" {
		return s[:4] + "-" + s[4:6] + "-" + s[6:]
	}
	return s
}

// personName shows a DICOM PN readably: the first component group, "^" as
// ", " between family and given name, other groups in brackets.
func personName(pn string) string {
	groups := strings.Split(pn, "=")
	show := func(g string) string {
		parts := strings.Split(strings.TrimRight(g, "^"), "^")
		if len(parts) == 1 {
			return parts[0]
		}
		return strings.TrimSpace(parts[0] + ", " + strings.Join(parts[1:], " "))
	}
	out := show(groups[0])
	var rest []string
	for _, g := range groups[1:] {
		if g = show(g); g != "" {
			rest = append(rest, g)
		}
	}
	if len(rest) > 0 {
		if out == "" {
			return strings.Join(rest, " / ")
		}
		out += " (" + strings.Join(rest, " / ") + ")"
	}
	return out
}

// rate formats bytes per second.
func rate(bps float64) string {
	if bps <= 0 {
		return "—"
	}
	return app.HumanBytes(int64(bps)) + "/s"
}

// shortDuration formats a duration as "4.2 s", "3 min 05 s", "1 h 02 min".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// timeOfDay formats t in loc: the time of day on the day of now, else the date.
func timeOfDay(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t, now = t.In(loc), now.In(loc)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02")
}
