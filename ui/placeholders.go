package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// settingsTab is a placeholder until the settings form is wired to the config.
func settingsTab() fyne.CanvasObject {
	l := widget.NewLabel("Settings are coming in a later version: trackers on/off, default project, " +
		"time zone, sync start date, interval and autostart.\n\n" +
		"Until then use the command line: timebridge config list · timebridge config set KEY VALUE")
	l.Wrapping = fyne.TextWrapWord
	return container.NewVBox(widget.NewLabelWithStyle("Coming later", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l)
}

// activityTab is a placeholder until the journal is shown; the log has the details.
func activityTab(openLogs func()) fyne.CanvasObject {
	l := widget.NewLabel("The activity journal (what was created, changed and posted, newest first) " +
		"is coming in a later version. Until then the log files have the details.")
	l.Wrapping = fyne.TextWrapWord
	return container.NewVBox(
		widget.NewLabelWithStyle("Coming later", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		l,
		container.NewHBox(widget.NewButton("Open log folder", openLogs)),
	)
}
