package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
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
	{"Progress", 150, index.SortDefault, nil}, // rendered by progressCell
	{"Patient name", 200, index.SortPatientName, func(s index.Study, _ *studyView) string { return personName(s.PatientName) }},
	{"Patient ID", 120, index.SortPatientID, func(s index.Study, _ *studyView) string { return s.PatientID }},
	{"Study date", 95, index.SortStudyDate, func(s index.Study, _ *studyView) string { return dicomDate(s.StudyDate) }},
	{"Modalities", 90, index.SortModalities, func(s index.Study, _ *studyView) string { return strings.ReplaceAll(s.Modalities, `\`, ", ") }},
	{"Description", 110, index.SortDescription, func(s index.Study, _ *studyView) string { return s.Description }},
	{"Accession", 90, index.SortAccession, func(s index.Study, _ *studyView) string { return s.AccessionNumber }},
	{"Series/inst.", 90, index.SortInstances, func(s index.Study, _ *studyView) string {
		return fmt.Sprintf("%d / %s", s.SeriesCount, groupThousands(s.InstanceCount))
	}},
	{"Size", 85, index.SortSize, func(s index.Study, _ *studyView) string { return app.HumanBytes(s.SizeBytes) }},
	{"Source AE", 105, index.SortSourceAE, func(s index.Study, _ *studyView) string { return s.SourceAE }},
	{"Received", 90, index.SortLastReceived, func(s index.Study, v *studyView) string {
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
	rebuild *indexRebuild   // the way out of a damaged index, under empty
	overlay *fyne.Container // empty and rebuild, over the table
	content fyne.CanvasObject

	// UI goroutine only.
	query     index.StudyQuery // the query shown (or being loaded)
	rows      []index.Study
	total     int
	err       error
	progress  map[string]app.StudyProgress
	now       time.Time
	frame     int  // counts progress redraws: steps the activity indicators
	loading   bool // a query is in flight
	again     bool // reload once the query in flight is done
	debounce  *time.Timer
	againLive bool // the reload folded into again was only for arriving instances
	// Live redraws (see liveEvery): the progress column and the page.
	progressShape string     // the tracked studies and their states as last drawn
	livePage      throttle   // spaces out page queries caused by arriving instances
	trailing      bool       // a trailing live reload is scheduled
	pending       *pageQuery // a page queried for arriving instances, shown at the next live redraw
	flushing      bool       // a timer will show pending if no refresh does
}

// pageQuery is the result of one page query.
type pageQuery struct {
	q     index.StudyQuery
	rows  []index.Study
	total int
	err   error
}

func newStudyView(w *mainWindow) *studyView {
	v := &studyView{w: w, query: index.StudyQuery{Limit: studyPageSize}, progress: map[string]app.StudyProgress{}, now: w.opts.now(),
		livePage: throttle{every: w.opts.live}}
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
	v.empty.Wrapping = fyne.TextWrapWord // an error names a folder and a command: it may need lines
	v.rebuild = newIndexRebuild(v.w)
	// The empty-list text and the rebuild button over the table, centred
	// vertically and as wide as the table (so that the text can wrap).
	v.overlay = container.NewVBox(layout.NewSpacer(), v.empty, v.rebuild.content, layout.NewSpacer())
	v.content = container.NewBorder(top, nil, nil, nil, container.NewStack(v.table, container.NewPadded(v.overlay)))
	v.show()
	return v
}

func (v *studyView) size() (int, int) { return len(v.rows), len(studyColumns) }

func (v *studyView) createCell() fyne.CanvasObject {
	act := newPulse()
	act.Hide()
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, act, nil, l)
}

func (v *studyView) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	l := c.Objects[0].(*widget.Label)
	act := c.Objects[1].(*pulse)
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
	width := studyColumns[id.Col].width
	if receiving {
		act.step(v.frame)
		width -= act.MinSize().Width
	}
	if receiving != act.Visible() {
		if receiving {
			act.Show()
		} else {
			act.Hide()
		}
		c.Refresh() // lay the cell out again: the indicator takes room or gives it back
	}
	setCellText(l, text, width)
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
	v.reloadNow()
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
		v.reloadNow()
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
	v.reloadNow()
}

// reload is the reload for arriving instances: the page is queried at once
// unless the last such query is less than liveEvery old; then it is queried
// when that time is up (one trailing query, so the last state always shows).
// UI goroutine only.
func (v *studyView) reload() {
	now := v.w.opts.now()
	if d := v.livePage.wait(now); d > 0 {
		if !v.trailing {
			v.trailing = true
			v.w.opts.after(d, func() {
				v.trailing = false
				select {
				case <-v.w.stop: // the window is gone
				default:
					v.reload()
				}
			})
		}
		return
	}
	v.livePage.due(now)
	v.startQuery(true)
}

// reloadNow queries the current page at once and shows it when it comes (a
// user's search, sort, page turn, refresh or delete).
func (v *studyView) reloadNow() { v.startQuery(false) }

// startQuery queries the current page off the UI goroutine. While a query
// is in flight, further reloads are folded into one that follows it. A live
// query's page is shown at the window's next live redraw, with the other
// moving numbers, rather than in a repaint of its own.
func (v *studyView) startQuery(live bool) {
	if v.loading {
		if !v.again {
			v.again, v.againLive = true, live
		} else {
			v.againLive = v.againLive && live
		}
		return
	}
	v.loading = true
	q := v.query
	v.w.background(func() func() {
		ctx, cancel := contextTimeout()
		defer cancel()
		rows, total, err := v.w.engine.Studies(ctx, q)
		return func() { v.loaded(&pageQuery{q, rows, total, err}, live) }
	})
}

func (v *studyView) loaded(p *pageQuery, live bool) {
	v.loading = false
	switch {
	case p.q != v.query:
		if !v.again { // the query changed while this one ran
			v.again, v.againLive = true, false
		}
	case live && v.w.opts.live > 0:
		v.pending = p
		v.flushSoon()
	default:
		v.pending = nil
		v.showPage(p)
	}
	if v.again {
		v.again = false
		v.startQuery(v.againLive)
	}
}

// showPage shows a page that answers the current query.
func (v *studyView) showPage(p *pageQuery) {
	if p.q != v.query {
		return
	}
	v.rows, v.total, v.err = p.rows, p.total, p.err
	if p.err == nil && p.total > 0 && p.q.Offset >= p.total { // the page went away (deletes)
		v.query.Offset = (p.total - 1) / studyPageSize * studyPageSize
		v.startQuery(false)
	}
	v.show()
}

// flushSoon makes sure a pending page is shown soon even if no refresh of
// the window comes to show it: shortly after the current live slot (the
// event pump's refresh, every refreshEvery while events flow, usually
// comes first), it runs a live refresh of the whole window, so that the page
// and every other moving number are drawn together, in one repaint.
func (v *studyView) flushSoon() {
	if v.flushing {
		return
	}
	v.flushing = true
	v.w.opts.after(v.w.live.t.wait(v.w.opts.now())+2*refreshEvery, func() {
		v.flushing = false
		select {
		case <-v.w.stop:
			return
		default:
		}
		if v.pending == nil {
			return // a refresh showed it
		}
		v.w.refreshLive(v.w.opts.now(), nil)
		if v.pending != nil { // this slot was drawn already: the next one
			v.flushSoon()
		}
	})
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
	v.rebuild.show(v.err)
	v.overlay.Refresh() // lays out what was shown or hidden
	v.table.Refresh()
}

// showProgress re-reads the study tracker and redraws the table, with the
// page last queried for arriving instances: at once when a study started or
// completed, otherwise (only counts and rates moved) when the window's live
// gate says so. UI goroutine only.
func (v *studyView) showProgress(now time.Time) {
	v.w.frameNow = now
	all := v.w.mon.Studies.All(now)
	shape := progressShape(all)
	if shape == v.progressShape && !v.w.liveDue() {
		return
	}
	if p := v.pending; p != nil { // the page queried for the instances that arrived
		v.pending = nil
		v.showPage(p)
	}
	v.progressShape, v.now = shape, now
	v.frame++
	v.progress = make(map[string]app.StudyProgress, len(all))
	for _, p := range all {
		v.progress[p.StudyInstanceUID] = p
	}
	v.table.Refresh()
}

// progressShape is what of the progress must be shown without delay: which
// studies are tracked and whether each is receiving or complete.
func progressShape(all []app.StudyProgress) string {
	var b strings.Builder
	for _, p := range all {
		b.WriteString(p.StudyInstanceUID)
		b.WriteByte(byte('0' + p.State))
	}
	return b.String()
}

// onSelected opens the detail of the study.
func (v *studyView) onSelected(id widget.TableCellID) {
	v.table.UnselectAll()
	if id.Row < 0 || id.Row >= len(v.rows) {
		return
	}
	showStudyDetail(v.w.win, v.w.engine, v.rows[id.Row], v.reloadNow)
}

// cellText returns the text of a cell as shown (tests).
func (v *studyView) cellText(row, col int) string {
	if col == 0 {
		t, _ := v.progressText(v.rows[row].StudyInstanceUID)
		return t
	}
	return studyColumns[col].text(v.rows[row], v)
}
