package autostart

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Paths with spaces and every character the formats treat specially.
const (
	plainExe   = "/opt/timebridge/timebridge"
	trickyExe  = "/home/Jürgen O'Neil/My Apps/time \"bridge\" $HOME 100% `x` a\\b;|&<>*?#()~/timebridge"
	newlineExe = "/tmp/odd\tdir/line\nbreak/timebridge"
)

func TestDesktopEntryGolden(t *testing.T) {
	tests := []struct {
		name, exe, icon, want string
	}{
		{"plain", plainExe, AppID, `[Desktop Entry]
Type=Application
Name=timebridge
Comment=Start timebridge in the tray at login
Exec="/opt/timebridge/timebridge" --autostart
Icon=app.timebridge.desktop
Terminal=false
X-GNOME-Autostart-enabled=true
`},
		{"spaces and specials", trickyExe, "/usr/share/icons/time bridge.png", `[Desktop Entry]
Type=Application
Name=timebridge
Comment=Start timebridge in the tray at login
Exec=env "/home/Jürgen O'Neil/My Apps/time \\"bridge\\" \\$HOME 100%% \\` + "`x\\\\`" + ` a\\\\b;|&<>*?#()~/timebridge" --autostart
Icon=/usr/share/icons/time bridge.png
Terminal=false
X-GNOME-Autostart-enabled=true
`},
		{"specials, no percent sign", "/home/a b/O'Neil \"q\" $X `y` c\\d;|&<>*?#()~/tb", AppID, `[Desktop Entry]
Type=Application
Name=timebridge
Comment=Start timebridge in the tray at login
Exec="/home/a b/O'Neil \\"q\\" \\$X \\` + "`y\\\\`" + ` c\\\\d;|&<>*?#()~/tb" --autostart
Icon=app.timebridge.desktop
Terminal=false
X-GNOME-Autostart-enabled=true
`},
		{"tab, newline, leading-space icon", newlineExe, " icon", `[Desktop Entry]
Type=Application
Name=timebridge
Comment=Start timebridge in the tray at login
Exec="/tmp/odd\tdir/line\nbreak/timebridge" --autostart
Icon=\sicon
Terminal=false
X-GNOME-Autostart-enabled=true
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := desktopEntry(tt.exe, tt.icon)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("desktop entry:\n got %s\nwant %s", got, tt.want)
			}
			// A reader that follows the specification gets the path back.
			argv, err := parseExec(execLine(t, got))
			if err != nil {
				t.Fatal(err)
			}
			if len(argv) > 0 && argv[0] == "env" {
				argv = argv[1:]
			}
			if len(argv) != 2 || argv[0] != tt.exe || argv[1] != Flag {
				t.Errorf("Exec parses to %q, want [%q %q]", argv, tt.exe, Flag)
			}
		})
	}
}

func TestDesktopEntryRejects(t *testing.T) {
	for _, exe := range []string{"", "/tmp/a\x01b", "/tmp/\xff", "/tmp/a\x7fb"} {
		if _, err := desktopEntry(exe, AppID); err == nil {
			t.Errorf("desktopEntry(%q) accepted it", exe)
		}
	}
}

func TestLaunchAgentGolden(t *testing.T) {
	tests := []struct{ name, exe, want string }{
		{"plain", "/Applications/timebridge.app/Contents/MacOS/timebridge", `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>app.timebridge.desktop</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Applications/timebridge.app/Contents/MacOS/timebridge</string>
		<string>--autostart</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`},
		{"spaces and specials", "/Users/Jürgen O'Neil/Apps/Time & <Bridge> \"β\".app/Contents/MacOS/time bridge\r", `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>app.timebridge.desktop</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Users/Jürgen O'Neil/Apps/Time &amp; &lt;Bridge&gt; "β".app/Contents/MacOS/time bridge&#13;</string>
		<string>--autostart</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := launchAgent(tt.exe)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("plist:\n got %s\nwant %s", got, tt.want)
			}
			// Valid XML, and the arguments read back exactly.
			var doc struct {
				Dict struct {
					Array struct {
						Strings []string `xml:"string"`
					} `xml:"array"`
				} `xml:"dict"`
			}
			if err := xml.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("not valid XML: %v", err)
			}
			if a := doc.Dict.Array.Strings; len(a) != 2 || a[0] != tt.exe || a[1] != Flag {
				t.Errorf("ProgramArguments read back as %q", a)
			}
		})
	}
	if _, err := launchAgent("/tmp/a\x00b"); err == nil {
		t.Error("launchAgent accepted a NUL byte")
	}
}

func TestRunValue(t *testing.T) {
	tests := []struct{ exe, want string }{
		{`C:\Program Files\timebridge\timebridge.exe`, `"C:\Program Files\timebridge\timebridge.exe" --autostart`},
		{`C:\Users\Jürgen O'Neil\AppData\Local\Time & Bridge 100%\timebridge.exe`, `"C:\Users\Jürgen O'Neil\AppData\Local\Time & Bridge 100%\timebridge.exe" --autostart`},
		{`\\server\share\tb (x86)\timebridge.exe`, `"\\server\share\tb (x86)\timebridge.exe" --autostart`},
	}
	for _, tt := range tests {
		got, err := runValue(tt.exe)
		if err != nil {
			t.Fatalf("runValue(%q): %v", tt.exe, err)
		}
		if got != tt.want {
			t.Errorf("runValue(%q)\n got %s\nwant %s", tt.exe, got, tt.want)
		}
	}
	for _, exe := range []string{"", `C:\a"b\tb.exe`, "C:\\a\nb\\tb.exe", "C:\\\xff.exe"} {
		if _, err := runValue(exe); err == nil {
			t.Errorf("runValue(%q) accepted it", exe)
		}
	}
}

func TestApprovedDisabled(t *testing.T) {
	tests := []struct {
		data []byte
		want bool
	}{
		{nil, false},
		{[]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{[]byte{6, 0, 0, 0}, false},
		{[]byte{3, 0, 0, 0, 0xd4, 0x0d, 0x43, 0x8d, 0xc8, 0x3b, 0xd9, 0x01}, true},
		{[]byte{0x63, 0x60, 0x60, 0x60}, true},
	}
	for _, tt := range tests {
		if got := approvedDisabled(tt.data); got != tt.want {
			t.Errorf("approvedDisabled(% x) = %v, want %v", tt.data, got, tt.want)
		}
	}
}

func TestLinuxRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (Options, string) // options and the expected file
	}{
		{"ConfigDir", func(t *testing.T) (Options, string) {
			dir := filepath.Join(t.TempDir(), "my config")
			return Options{ConfigDir: dir}, filepath.Join(dir, "autostart", "app.timebridge.desktop.desktop")
		}},
		{"XDG_CONFIG_HOME", func(t *testing.T) (Options, string) {
			dir := filepath.Join(t.TempDir(), "xdg")
			t.Setenv("XDG_CONFIG_HOME", dir)
			return Options{HomeDir: t.TempDir()}, filepath.Join(dir, "autostart", "app.timebridge.desktop.desktop")
		}},
		{"home .config", func(t *testing.T) (Options, string) {
			t.Setenv("XDG_CONFIG_HOME", "")
			home := t.TempDir()
			return Options{HomeDir: home}, filepath.Join(home, ".config", "autostart", "app.timebridge.desktop.desktop")
		}},
		{"relative XDG_CONFIG_HOME ignored", func(t *testing.T) (Options, string) {
			t.Setenv("XDG_CONFIG_HOME", "relative/dir")
			home := t.TempDir()
			return Options{HomeDir: home}, filepath.Join(home, ".config", "autostart", "app.timebridge.desktop.desktop")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_DIRS", t.TempDir()) // no system-wide entry
			opts, path := tt.setup(t)
			opts.GOOS = "linux"
			opts.Executable = trickyExe
			m := New(opts)
			if loc, err := m.Location(); err != nil || loc != path {
				t.Fatalf("Location = %q, %v; want %q", loc, err, path)
			}
			want, err := desktopEntry(trickyExe, AppID)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, m, path, want)

			// Switched off by a desktop settings tool: not enabled; Enable switches it on again.
			for _, off := range []string{"Hidden=true", "X-GNOME-Autostart-enabled=false"} {
				content := strings.Replace(want, "X-GNOME-Autostart-enabled=true\n", off+"\n", 1)
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				assertEnabled(t, m, false)
				if err := m.Enable(); err != nil {
					t.Fatal(err)
				}
				assertEnabled(t, m, true)
			}
		})
	}
}

func TestLinuxSystemWideEntry(t *testing.T) {
	sysA, sysB := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_DIRS", "relative/ignored:"+sysA+":"+sysB)
	system := filepath.Join(sysB, "autostart", AppID+".desktop")
	entry, err := desktopEntry("/usr/bin/timebridge", AppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(system), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(system, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	user := filepath.Join(dir, "autostart", AppID+".desktop")
	m := New(Options{GOOS: "linux", ConfigDir: dir, Executable: plainExe})

	assertEnabled(t, m, true) // the package's entry alone starts it
	for range 2 {
		if err := m.Disable(); err != nil {
			t.Fatal(err)
		}
		assertEnabled(t, m, false)
		got, err := os.ReadFile(user)
		if err != nil {
			t.Fatal(err)
		}
		const want = "[Desktop Entry]\nType=Application\nName=timebridge\nHidden=true\n"
		if string(got) != want {
			t.Errorf("user entry after Disable:\n got %s\nwant %s", got, want)
		}
	}
	if err := m.Enable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, m, true)

	// A system entry that is itself switched off needs no hiding.
	off := strings.Replace(entry, "X-GNOME-Autostart-enabled=true", "Hidden=true", 1)
	if err := os.WriteFile(system, []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Disable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, m, false)
	if _, err := os.Stat(user); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("user entry written although the system one is off: %v", err)
	}
}

func TestMacOSRoundTrip(t *testing.T) {
	home := filepath.Join(t.TempDir(), "Jürgen's home")
	exe := "/Applications/Time & Bridge.app/Contents/MacOS/timebridge"
	m := New(Options{GOOS: "darwin", HomeDir: home, Executable: exe})
	path := filepath.Join(home, "Library", "LaunchAgents", "app.timebridge.desktop.plist")
	if loc, err := m.Location(); err != nil || loc != path {
		t.Fatalf("Location = %q, %v; want %q", loc, err, path)
	}
	want, err := launchAgent(exe)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, m, path, want)
}

// roundTrip checks Disable with nothing there, Enable (twice), the file, and Disable (twice).
func roundTrip(t *testing.T, m *Manager, path, want string) {
	t.Helper()
	if err := m.Disable(); err != nil {
		t.Fatalf("Disable with nothing there: %v", err)
	}
	assertEnabled(t, m, false)
	for range 2 {
		if err := m.Enable(); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		assertEnabled(t, m, true)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("file content:\n got %s\nwant %s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the login item (no temporary files)", len(entries))
	}
	for range 2 {
		if err := m.Disable(); err != nil {
			t.Fatalf("Disable: %v", err)
		}
		assertEnabled(t, m, false)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there after Disable: %v", err)
	}
}

func assertEnabled(t *testing.T, m *Manager, want bool) {
	t.Helper()
	got, err := m.Enabled()
	if err != nil {
		t.Fatalf("Enabled: %v", err)
	}
	if got != want {
		t.Fatalf("Enabled = %v, want %v", got, want)
	}
}

// fakeRunKey is an in-memory registry.
type fakeRunKey struct {
	run      map[string]string
	approved map[string][]byte
}

func (f *fakeRunKey) Get(name string) (string, bool, error) {
	v, ok := f.run[name]
	return v, ok, nil
}
func (f *fakeRunKey) Set(name, value string) error { f.run[name] = value; return nil }
func (f *fakeRunKey) Delete(name string) error     { delete(f.run, name); return nil }
func (f *fakeRunKey) UserDisabled(name string) (bool, error) {
	return approvedDisabled(f.approved[name]), nil
}
func (f *fakeRunKey) ClearUserChoice(name string) error { delete(f.approved, name); return nil }

func TestWindowsRoundTrip(t *testing.T) {
	reg := &fakeRunKey{run: map[string]string{"Other": "x"}, approved: map[string][]byte{}}
	exe := `C:\Program Files\time bridge\timebridge.exe`
	m := New(Options{GOOS: "windows", Executable: exe})
	m.run = reg
	if loc, _ := m.Location(); loc != `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\timebridge` {
		t.Errorf("Location = %q", loc)
	}
	if err := m.Disable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, m, false)

	// Disabled earlier in Task Manager: Enable makes it run again.
	reg.approved["timebridge"] = []byte{3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	if err := m.Enable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, m, true)
	if got := reg.run["timebridge"]; got != `"C:\Program Files\time bridge\timebridge.exe" --autostart` {
		t.Errorf("Run value = %s", got)
	}
	reg.approved["timebridge"] = []byte{3, 0, 0, 0}
	assertEnabled(t, m, false)
	reg.approved["timebridge"] = []byte{2, 0, 0, 0}
	assertEnabled(t, m, true)

	if err := m.Disable(); err != nil {
		t.Fatal(err)
	}
	assertEnabled(t, m, false)
	if _, ok := reg.run["timebridge"]; ok || reg.run["Other"] != "x" || len(reg.approved) != 0 {
		t.Errorf("after Disable: run %v, approved %v", reg.run, reg.approved)
	}
}

func TestUnsupported(t *testing.T) {
	m := New(Options{GOOS: "plan9", Executable: "/bin/tb", HomeDir: t.TempDir()})
	if err := m.Enable(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Enable = %v", err)
	}
	if err := m.Disable(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Disable = %v", err)
	}
	if _, err := m.Enabled(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Enabled = %v", err)
	}
	if _, err := m.Location(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Location = %v", err)
	}
}

func TestDefaultExecutable(t *testing.T) {
	t.Setenv("APPIMAGE", "")
	t.Setenv("XDG_CONFIG_DIRS", t.TempDir())
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := New(Options{GOOS: "linux", ConfigDir: dir})
	if err := m.Enable(); err != nil {
		t.Fatal(err)
	}
	want, _ := desktopEntry(self, AppID)
	got, _ := os.ReadFile(filepath.Join(dir, "autostart", AppID+".desktop"))
	if string(got) != want {
		t.Errorf("default executable entry:\n got %s\nwant %s", got, want)
	}
}

// execLine returns the raw value of the Exec key.
func execLine(t *testing.T, entry string) string {
	t.Helper()
	for _, l := range strings.Split(entry, "\n") {
		if v, ok := strings.CutPrefix(l, "Exec="); ok {
			return v
		}
	}
	t.Fatal("no Exec key")
	return ""
}

// parseExec reads an Exec value as the Desktop Entry specification says: first the
// string escapes, then %% and the double-quote rules. It is the test's independent
// reader.
func parseExec(v string) ([]string, error) {
	var s strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			s.WriteByte(v[i])
			continue
		}
		i++
		if i == len(v) {
			return nil, errors.New("trailing backslash")
		}
		switch v[i] {
		case 's':
			s.WriteByte(' ')
		case 'n':
			s.WriteByte('\n')
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		case '\\':
			s.WriteByte('\\')
		default:
			return nil, errors.New("unknown string escape")
		}
	}
	line := s.String()
	var argv []string
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\':
			i++
			if i == len(line) || !strings.ContainsRune("\"`$\\", rune(line[i])) {
				return nil, errors.New("bad escape in quoted argument")
			}
			cur.WriteByte(line[i])
		case quoted && c == '"':
			quoted = false
		case c == '"':
			quoted, inArg = true, true
		case c == '%':
			i++
			if i == len(line) || line[i] != '%' {
				return nil, errors.New("field code")
			}
			cur.WriteByte('%')
			inArg = true
		case !quoted && c == ' ':
			if inArg {
				argv = append(argv, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inArg {
		argv = append(argv, cur.String())
	}
	return argv, nil
}
