package autostart

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// desktopEntry is the XDG autostart entry that starts exe with --autostart.
func desktopEntry(exe, icon string) (string, error) {
	for _, v := range []struct{ what, s string }{{"binary path", exe}, {"icon", icon}} {
		if err := checkText(v.s); err != nil {
			return "", fmt.Errorf("%s %q: %w", v.what, v.s, err)
		}
	}
	if exe == "" {
		return "", fmt.Errorf("empty binary path")
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=timebridge\n")
	b.WriteString("Comment=Start timebridge in the tray at login\n")
	b.WriteString("Exec=" + escapeDesktopString(execCommand(exe)) + "\n")
	b.WriteString("Icon=" + escapeDesktopString(icon) + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String(), nil
}

// execCommand is the Exec command line before the string escapes.
//
// GLib (GNOME's session reads autostart entries with it) checks that the program
// exists before it expands %%, so a binary whose path holds a % would never start
// there; env, found on the PATH, takes that check instead and GLib passes it the
// expanded path at launch.
func execCommand(exe string) string {
	cmd := quoteExecArg(exe) + " " + Flag
	if strings.ContainsRune(exe, '%') {
		cmd = "env " + cmd
	}
	return cmd
}

// quoteExecArg quotes one argument of an Exec key: inside double quotes the
// characters " ` $ and \ take a backslash, and a literal % is written %% (a single
// % starts a field code).
func quoteExecArg(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// escapeDesktopString applies the escapes of the string value type: \\ \n \t \r,
// and \s for a leading space, which a reader would otherwise trim. Readers undo
// these before they parse the quoting of an Exec key, so a backslash in a quoted
// argument ends up as four and a dollar sign as \\$, as the specification says.
func escapeDesktopString(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case ' ':
			if i == 0 {
				b.WriteString(`\s`)
			} else {
				b.WriteByte(' ')
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkText rejects what no desktop entry or property list can carry: invalid
// UTF-8 and control characters other than tab, newline and carriage return.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || r == 0xfffe || r == 0xffff {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	return nil
}

// desktopEntryActive reports whether an autostart entry will run: not when its
// [Desktop Entry] group says Hidden=true or X-GNOME-Autostart-enabled=false
// (desktop settings tools switch entries off that way).
func desktopEntryActive(content string) bool {
	group := ""
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			group = line[1 : len(line)-1]
			continue
		}
		if group != "Desktop Entry" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "Hidden" && v == "true":
			return false
		case k == "X-GNOME-Autostart-enabled" && v == "false":
			return false
		}
	}
	return true
}
