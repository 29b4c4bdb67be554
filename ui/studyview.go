package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/dicominbox/dicominbox/app"
	"github.com/dicominbox/dicominbox/store/index"
)

// studyPageSize is how many studies one page shows: only the page is
// queried, so the list stays quick however large the index.
const studyPageSize = 100

// studyColumn is one column of the study list.
type studyColumn struct {
	title string
	width float32
	sort  index.StudyColumn // SortDefault: not sortable
	text  func(s index.Study, v *studyView) string
}

var studyColumns = []studyColumn{
	{"Progress", 120, index.SortDefault, nil}, // rendered by progressCell
	{"Patient name", 215, index.SortPatientName, func(s index.Study, _ *studyView) string { return personName(s.PatientName) }},
	{"Patient ID", 130, index.SortPatientID, func(s index.Study, _ *studyView) string { return s.PatientID }},
	{"Study date", 95, index.SortStudyDate, func(s index.Study, _ *studyView) string { return dicomDate(s.StudyDate) }},
	{"Modalities", 90, index.SortModalities, func(s index.Study, _ *studyView) string { return strings.ReplaceAll(s.Modalities, `\`, ", ") }},
	{"Description", 140, index.SortDescription, func(s index.Study, _ *studyView) string { return s.Description }},
	{"Accession", 105, index.SortAccession, func(s index.Study, _ *studyView) string { return s.AccessionNumber }},
	{"Series/inst.", 90, index.SortInstances, func(s index.Study, _ *studyView) string {
		return fmt.Sprintf("%d / %s", s.SeriesCount, groupThousands(s.InstanceCount))
	}},
	{"Size", 75, index.SortSize, func(s index.Study, _ *studyView) string { return app.HumanBytes(s.SizeBytes) }},
	{"Source AE", 85, index.SortSourceAE, func(s index.Study, _ *studyView) string { return s.SourceAE }},
	{"Received", 100, index.SortLastReceived, func(s index.Study, v *studyView) string {
		return timeOfDay(s.LastReceived, v.now, v.w.opts.loc)
	}},
}

// studyView is the study list: a search box, a sortable table of one page
// of the index, a pager, and the live progress of receiving studies.
type studyView struct {
	w       *mainWindow
	search  *widget.Entry
	table   *widget.Table
	pageLbl *widget.Label
	prev    *widget.Button
	next    *widget.Button
	empty   *widget.Label
	content fyne.CanvasObject

	// UI goroutine only.
	query    index.StudyQuery // the query shown (or being loaded)
	rows     []index.Study
	total    int
	err      error
	progress map[string]app.StudyProgress
	now      time.Time
	loading  bool // a query is in flight
	again    bool // reload once the query in flight is done
	debounce *time.Timer
}

func newStudyView(w *mainWindow) *studyView {
	v := &studyView{w: w, query: index.StudyQuery{Limit: studyPageSize}, progress: map[string]app.StudyProgress{}, now: w.opts.now()}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search patient name, patient ID, accession, description, modality… (Ctrl+F)")
	v.search.OnChanged = v.onSearch
	v.table = widget.NewTable(v.size, v.createCell, v.updateCell)
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	v.table.UpdateHeader = v.updateHeader
	v.table.OnSelected = v.onSelected
	for i, c := range studyColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.pageLbl = widget.NewLabel("")
	v.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { v.page(-1) })
	v.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { v.page(+1) })
	v.empty = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
	title := widget.NewLabelWithStyle("Studies", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewBorder(nil, nil, title, container.NewHBox(v.prev, v.pageLbl, v.next), v.search)
	v.content = container.NewBorder(top, nil, nil, nil, container.NewStack(v.table, container.NewCenter(v.empty)))
	v.show()
	return v
}

func (v *studyView) size() (int, int) { return len(v.rows), len(studyColumns) }

func (v *studyView) createCell() fyne.CanvasObject {
	act := widget.NewActivity()
	act.Hide()
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, act, nil, l)
}

func (v *studyView) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	l := c.Objects[0].(*widget.Label)
	act := c.Objects[1].(*widget.Activity)
	if id.Row >= len(v.rows) || id.Col >= len(studyColumns) {
		l.SetText("")
		return
	}
	s := v.rows[id.Row]
	text, receiving := "", false
	if id.Col == 0 {
		text, receiving = v.progressText(s.StudyInstanceUID)
	} else {
		text = studyColumns[id.Col].text(s, v)
	}
	if receiving {
		act.Show()
		act.Start()
	} else {
		act.Stop()
		act.Hide()
	}
	if l.Text != text {
		l.SetText(text)
	}
}

// progressText is the progress cell: "37 · 12.3/s" (instances received, rate) with the
// activity indicator while receiving, "complete" once idle, "" for a study
// received before (no fake percentage: the total is not known).
func (v *studyView) progressText(uid string) (string, bool) {
	p, ok := v.progress[uid]
	switch {
	case !ok:
		return "", false
	case p.State == app.StudyStateComplete:
		return "complete", false
	}
	return fmt.Sprintf("%s · %.1f/s", groupThousands(p.Instances), p.Rate), true
}

func (v *studyView) updateHeader(id widget.TableCellID, o fyne.CanvasObject) {
	b := o.(*widget.Button)
	if id.Col < 0 || id.Col >= len(studyColumns) {
		return
	}
	col := studyColumns[id.Col]
	text := col.title
	if col.sort != index.SortDefault && col.sort == v.query.Sort {
		if v.query.Desc {
			text += " ▼"
		} else {
			text += " ▲"
		}
	}
	if col.sort == index.SortDefault {
		b.OnTapped = nil
	} else {
		b.OnTapped = func() { v.sortBy(col.sort) }
	}
	if b.Text != text {
		b.SetText(text)
	}
}

// sortBy sorts by a column: ascending first, descending on the next click,
// back to newest received first on the third.
func (v *studyView) sortBy(c index.StudyColumn) {
	switch {
	case v.query.Sort != c:
		v.query.Sort, v.query.Desc = c, false
	case !v.query.Desc:
		v.query.Desc = true
	default:
		v.query.Sort, v.query.Desc = index.SortDefault, false
	}
	v.query.Offset = 0
	v.table.Refresh()
	v.reload()
}

// onSearch debounces typing; the query runs off the UI goroutine.
func (v *studyView) onSearch(text string) {
	if v.debounce != nil {
		v.debounce.Stop()
	}
	apply := func() {
		if v.query.Filter == text {
			return
		}
		v.query.Filter, v.query.Offset = text, 0
		v.reload()
	}
	if v.w.opts.debounce <= 0 {
		apply()
		return
	}
	v.debounce = time.AfterFunc(v.w.opts.debounce, func() { fyne.Do(apply) })
}

// page moves by delta pages.
func (v *studyView) page(delta int) {
	off := v.query.Offset + delta*studyPageSize
	if off < 0 || off >= v.total {
		return
	}
	v.query.Offset = off
	v.reload()
}

// reload queries the current page off the UI goroutine. While a query is in
// flight, further reloads are folded into one that follows it.
func (v *studyView) reload() {
	if v.loading {
		v.again = true
		return
	}
	v.loading = true
	q := v.query
	v.w.background(func() func() {
		ctx, cancel := contextTimeout()
		defer cancel()
		rows, total, err := v.w.engine.Studies(ctx, q)
		return func() { v.loaded(q, rows, total, err) }
	})
}

func (v *studyView) loaded(q index.StudyQuery, rows []index.Study, total int, err error) {
	v.loading = false
	if q == v.query {
		v.rows, v.total, v.err = rows, total, err
		if err == nil && total > 0 && q.Offset >= total { // the page went away (deletes)
			v.query.Offset = (total - 1) / studyPageSize * studyPageSize
			v.again = true
		}
		v.show()
	} else {
		v.again = true // the query changed while this one ran
	}
	if v.again {
		v.again = false
		v.reload()
	}
}

// show renders rows, pager and the empty-list text.
func (v *studyView) show() {
	first := min(v.query.Offset+1, v.total)
	last := min(v.query.Offset+len(v.rows), v.total)
	v.pageLbl.SetText(fmt.Sprintf("%s–%s of %s", groupThousands(first), groupThousands(last), groupThousands(v.total)))
	if v.query.Offset > 0 {
		v.prev.Enable()
	} else {
		v.prev.Disable()
	}
	if v.query.Offset+studyPageSize < v.total {
		v.next.Enable()
	} else {
		v.next.Disable()
	}
	switch {
	case v.err != nil:
		v.empty.SetText("Cannot read the index: " + v.err.Error())
		v.empty.Importance = widget.DangerImportance
		v.empty.Show()
	case v.total == 0 && v.query.Filter != "":
		v.empty.SetText("No study matches “" + v.query.Filter + "”.")
		v.empty.Importance = widget.MediumImportance
		v.empty.Show()
	case v.total == 0:
		v.empty.SetText("Studies will appear here as they arrive.")
		v.empty.Importance = widget.MediumImportance
		v.empty.Show()
	default:
		v.empty.Hide()
	}
	v.empty.Refresh()
	v.table.Refresh()
}

// showProgress re-reads the study tracker. UI goroutine only.
func (v *studyView) showProgress(now time.Time) {
	v.now = now
	all := v.w.mon.Studies.All(now)
	v.progress = make(map[string]app.StudyProgress, len(all))
	for _, p := range all {
		v.progress[p.StudyInstanceUID] = p
	}
	v.table.Refresh()
}

// onSelected opens the detail of the study.
func (v *studyView) onSelected(id widget.TableCellID) {
	v.table.UnselectAll()
	if id.Row < 0 || id.Row >= len(v.rows) {
		return
	}
	showStudyDetail(v.w.win, v.w.engine, v.rows[id.Row], v.reload)
}

// cellText returns the text of a cell as shown (tests).
func (v *studyView) cellText(row, col int) string {
	if col == 0 {
		t, _ := v.progressText(v.rows[row].StudyInstanceUID)
		return t
	}
	return studyColumns[col].text(v.rows[row], v)
}
