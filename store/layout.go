package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Placeholders for missing values: clearly named buckets that no sanitised
// real value can produce by accident (a changed value carries a hash suffix).
const (
	noPatientID   = "_no-patient-id"
	noStudyUID    = "_no-study-uid"
	noSeriesUID   = "_no-series-uid"
	maxComponent  = 64 // bytes per path component, ".dcm" excluded
	hashSuffixLen = 13 // "_" + 12 hex digits (48 bits of SHA-256)
	fileExt       = ".dcm"
	incomingDir   = ".incoming"
)

// layout returns the path components of an instance, relative to the root:
// patient, study, series, file name.
func layout(h Header) [4]string {
	return [4]string{
		sanitize(h.PatientID, noPatientID, true),
		sanitize(h.StudyInstanceUID, noStudyUID, false),
		sanitize(h.SeriesInstanceUID, noSeriesUID, false),
		sanitize(h.SOPInstanceUID, "_no-sop-instance-uid", false) + fileExt,
	}
}

// sanitize turns a value from the peer into one safe path component.
//   - surrounding spaces and NULs are dropped; empty gives placeholder;
//   - every character outside [A-Za-z0-9._-] becomes '_' (one per rune, so
//     "ü", "/", "\", NUL all become '_');
//   - leading and trailing dots become '_' (no ".", "..", hidden names, and no
//     names Windows would silently strip);
//   - names Windows reserves (CON, NUL, COM1 ...) and, at the patient level,
//     names the store keeps beside the tree (index.db*) count as changed;
//   - a changed value, or one longer than 64 bytes, is cut to leave room for
//     "_" + 12 hex digits of the SHA-256 of the original value, so that two
//     different values never map to the same component.
func sanitize(v, placeholder string, topLevel bool) string {
	v = strings.Trim(v, " \x00")
	if v == "" {
		return placeholder
	}
	b := make([]byte, 0, len(v))
	changed := false
	for _, r := range v {
		if r < 0x80 && allowedByte(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
			changed = true
		}
	}
	for i := 0; i < len(b) && b[i] == '.'; i++ {
		b[i], changed = '_', true
	}
	for i := len(b) - 1; i >= 0 && b[i] == '.'; i-- {
		b[i], changed = '_', true
	}
	out := string(b)
	if reservedName(out, topLevel) {
		changed = true
	}
	if !changed && len(out) <= maxComponent {
		return out
	}
	sum := sha256.Sum256([]byte(v))
	if len(out) > maxComponent-hashSuffixLen {
		out = out[:maxComponent-hashSuffixLen]
	}
	return out + "_" + hex.EncodeToString(sum[:(hashSuffixLen-1)/2])
}

func allowedByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// reservedName reports names that must not be used as they are: Windows
// device names (with any extension) and, at the top level, the names of the
// files the store keeps beside the tree (index.db, index.db-wal ...).
func reservedName(s string, topLevel bool) bool {
	u := strings.ToUpper(s)
	if topLevel && strings.HasPrefix(u, "INDEX.DB") {
		return true
	}
	if i := strings.IndexByte(u, '.'); i >= 0 {
		u = u[:i]
	}
	switch u {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(u) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && u[3] >= '0' && u[3] <= '9' {
		return true
	}
	return false
}

// errUnsafePath is returned when a path would leave the root. Sanitising
// makes that impossible; this is the second line of defence.
var errUnsafePath = errors.New("path escapes the storage root")

// resolve joins the components under root and proves the result stays under
// it. It returns the absolute path and the slash-separated relative one.
func resolve(root string, comps []string) (abs, rel string, err error) {
	for _, c := range comps {
		if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "/\\\x00:") {
			return "", "", fmt.Errorf("%w: component %q", errUnsafePath, c)
		}
	}
	abs = filepath.Join(append([]string{root}, comps...)...)
	r, err := filepath.Rel(root, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) ||
		filepath.IsAbs(r) || !filepath.IsLocal(r) {
		return "", "", fmt.Errorf("%w: %q", errUnsafePath, abs)
	}
	return abs, path.Join(comps...), nil
}
