package audit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

// Where an [Journal] writes, in [Options].Journal and from [Journal.Sink].
const (
	SinkAuto    = "auto"    // journald when it answers at start, else stderr
	SinkJournal = "journal" // journald; a record it does not take goes to stderr
	SinkStderr  = "stderr"  // JSON lines on stderr
)

// Options configure an [Journal]. The zero value is ready to use.
type Options struct {
	// Stderr is where records go as JSON lines when journald is not used
	// or does not take them; default os.Stderr.
	Stderr io.Writer
	// Journal is SinkAuto (the default), SinkJournal or SinkStderr. Any
	// other value is taken as SinkAuto, and said in an "error" record.
	Journal string
	// Queue is how many records wait to be written before Record drops
	// them; default 1024.
	Queue int
}

// journalConn is the journal as a Journal uses it: go-systemd's journal
// package, a fake in tests.
type journalConn interface {
	Enabled() bool
	Send(message string, priority journal.Priority, fields map[string]string) error
}

// systemJournal is journald at go-systemd's fixed socket,
// /run/systemd/journal/socket.
type systemJournal struct{}

func (systemJournal) Enabled() bool { return journal.Enabled() }

func (systemJournal) Send(message string, priority journal.Priority, fields map[string]string) error {
	return journal.Send(message, priority, fields)
}

// Journal writes audit records, in the background, to journald's native
// protocol or as JSON lines to stderr.
//
// [Journal.Record] never blocks: it renders the record and queues it, and a
// goroutine owned by the Journal writes the queue out until [Journal.Close].
// When the queue is full, the record is dropped and counted
// ([Journal.Dropped]); once the writer gets on again, it writes an "error"
// record with SSHWARDEN_DROPPED, the number lost since the last such
// report.
//
// With journald, each record is sent to /run/systemd/journal/socket anew
// (go-systemd's unconnected datagram socket), so a journald that restarts
// is used again from the next record on; a record that journald does not
// take goes to stderr instead, with SSHWARDEN_JOURNAL_ERROR saying why. A
// journald that is alive but does not read its socket blocks the writer:
// records then queue up and are dropped, but Record still returns at once.
//
// On stderr, each record is one JSON line of log/slog's JSONHandler:
// "time" (when Record was called), "level" (ERROR for priorities err and
// above, WARN for warning, INFO for notice and info, DEBUG for debug),
// "msg" (MESSAGE), then PRIORITY, MESSAGE_ID, SYSLOG_IDENTIFIER and the
// SSHWARDEN_ fields as strings, keys sorted.
type Journal struct {
	journal journalConn // nil: stderr only
	stderr  slog.Handler
	sink    string

	mu     sync.RWMutex // held to write closed and close queue
	closed bool
	queue  chan entry

	dropped atomic.Uint64
	abandon atomic.Bool   // Close gave up: drop the rest of the queue
	done    chan struct{} // closed when the writer has returned
}

// entry is a rendered Record in the queue.
type entry struct {
	at       time.Time
	message  string
	priority journal.Priority
	fields   map[string]string
}

// NewJournal starts a Journal. Its writer runs until [Journal.Close].
func NewJournal(o Options) *Journal {
	return newJournal(o, systemJournal{})
}

func newJournal(o Options, j journalConn) *Journal {
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	a := &Journal{
		stderr: slog.NewJSONHandler(o.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}),
		queue:  make(chan entry, o.Queue),
		done:   make(chan struct{}),
	}
	var bad string
	switch o.Journal {
	case SinkStderr:
	case SinkJournal:
		a.journal = j
	default:
		if o.Journal != "" && o.Journal != SinkAuto {
			bad = o.Journal
		}
		if j.Enabled() {
			a.journal = j
		}
	}
	a.sink = SinkStderr
	if a.journal != nil {
		a.sink = SinkJournal
	}
	go a.run()
	if bad != "" {
		a.Record(Record{
			Action:  ActionError,
			Message: fmt.Sprintf("sshwarden: unknown audit sink %q, using %s (journald when it answers at start, else stderr)", bad, SinkAuto),
		})
	}
	return a
}

// Sink is where records go: SinkJournal or SinkStderr.
func (a *Journal) Sink() string { return a.sink }

// Dropped is the number of records dropped so far: the queue was full,
// Record came after Close, or Close gave up before they were written.
func (a *Journal) Dropped() uint64 { return a.dropped.Load() }

// Record queues r to be written, and never blocks. r is rendered before
// Record returns, so the caller may reuse r.Session and r.Fields.
func (a *Journal) Record(r Record) {
	e := entry{at: time.Now(), message: r.JournalMessage(), priority: r.JournalPriority(), fields: r.JournalFields()}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.dropped.Add(1)
		return
	}
	select {
	case a.queue <- e:
	default:
		a.dropped.Add(1)
	}
}

// Close stops taking records and waits until the queued ones are written
// or ctx is done. Then it returns an error saying how many records were
// left; they are dropped, and the writer returns as soon as the write in
// progress does.
func (a *Journal) Close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		a.abandon.Store(true)
		return fmt.Errorf("audit: %d records not written: %w", len(a.queue), context.Cause(ctx))
	}
}

// run writes the queue out, and reports drops.
func (a *Journal) run() {
	defer close(a.done)
	var reported uint64
	for e := range a.queue {
		if a.abandon.Load() {
			a.dropped.Add(1)
			continue
		}
		a.write(e)
		if !a.abandon.Load() {
			reported = a.reportDropped(reported)
		}
	}
	if !a.abandon.Load() {
		a.reportDropped(reported)
	}
}

// reportDropped writes an "error" record when records were dropped since
// reported were, and returns the new count of reported drops.
func (a *Journal) reportDropped(reported uint64) uint64 {
	n := a.dropped.Load()
	if n == reported {
		return n
	}
	r := Record{
		Action:  ActionError,
		Message: fmt.Sprintf("sshwarden lost %d audit records: they came faster than they could be written", n-reported),
		Fields: map[string]string{
			FieldDropped: strconv.FormatUint(n-reported, 10),
			FieldError:   "the audit queue was full",
		},
	}
	a.write(entry{at: time.Now(), message: r.JournalMessage(), priority: r.JournalPriority(), fields: r.JournalFields()})
	return n
}

// write writes e to journald, or to stderr when journald is not used or
// does not take it.
func (a *Journal) write(e entry) {
	var journalErr error
	if a.journal != nil {
		if journalErr = a.journal.Send(e.message, e.priority, e.fields); journalErr == nil {
			return
		}
	}
	level := slog.LevelInfo
	switch {
	case e.priority <= journal.PriErr:
		level = slog.LevelError
	case e.priority == journal.PriWarning:
		level = slog.LevelWarn
	case e.priority == journal.PriDebug:
		level = slog.LevelDebug
	}
	rec := slog.NewRecord(e.at, level, e.message, 0)
	names := make([]string, 0, len(e.fields))
	for name := range e.fields {
		names = append(names, name)
	}
	sort.Strings(names)
	rec.AddAttrs(slog.String("PRIORITY", strconv.Itoa(int(e.priority))))
	for _, name := range names {
		rec.AddAttrs(slog.String(name, e.fields[name]))
	}
	if journalErr != nil {
		rec.AddAttrs(slog.String(FieldJournalError, clean(FieldJournalError, journalErr.Error())))
	}
	// A failed write to stderr leaves nowhere to say so.
	_ = a.stderr.Handle(context.Background(), rec)
}
