package autostart

import (
	"fmt"
	"strings"
)

// launchAgent is the LaunchAgent property list that starts exe with --autostart
// when the user logs in.
func launchAgent(exe string) (string, error) {
	if exe == "" {
		return "", fmt.Errorf("empty binary path")
	}
	if err := checkText(exe); err != nil {
		return "", fmt.Errorf("binary path %q: %w", exe, err)
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + AppID + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + escapeXML(exe) + `</string>
		<string>` + Flag + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`, nil
}

// escapeXML escapes character data: & < >, and a carriage return, which an XML
// reader would otherwise turn into a newline.
func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;").Replace(s)
}
