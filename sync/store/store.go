// Package store persists ExoCal's sync state and item cache per mailbox in
// an embedded bbolt database (by default os.UserCacheDir()/exocal/state.db;
// the path is passed in, nothing here reads config).
//
// # Layout
//
//	meta/schema                 -> schema version (decimal)
//	meta/compact                -> present: items fetched under another privacy were dropped (see Compact)
//	mailboxes/<addr>/state      -> committed sync state (opaque string)
//	mailboxes/<addr>/last       -> last successful sync (RFC 3339)
//	mailboxes/<addr>/rendered   -> what the ICS file was last rendered with (engine's stamp)
//	mailboxes/<addr>/privacy    -> the privacy setting the items were fetched under
//	mailboxes/<addr>/items/<id> -> a calendar.Event, binary (codec.go; JSON in schema 1)
//	mailboxes/<addr>/count      -> number of items (decimal)
//	mailboxes/<addr>/staging/   -> a full resync in progress:
//	    state                   -> the resync's sync state so far
//	    privacy                 -> the privacy setting the staged items are fetched under (absent: the mailbox's)
//	    items/<id>              -> items the resync has seen so far
//	    count                   -> their number
//
// Addresses are lower-cased.
//
// # Crash safety
//
// ApplyPage writes a page's upserts, its deletes and its new sync state in
// one bbolt transaction, so the stored state never runs ahead of (or behind)
// the items it covers: after a crash the next sync resumes from the last
// committed page and fetches the rest again. Applying a page twice is
// harmless (upserts by ItemID, deletes of absent ids are no-ops).
//
// # Full resync
//
// A sync chain that starts from an empty state (the first sync of a mailbox,
// or a resync after the server refused the state, see Reset) is staged: its
// pages go to the staging bucket, while Events keeps returning the items of
// the last completed sync. The page that reaches the newest change
// (Page.Done) swaps the staged items in, in the same transaction. So a
// resync never leaves the ICS file empty or half-filled in between, and a
// crash during a resync resumes the resync from its staged state.
//
// # Privacy
//
// The engine records with SetPrivacy under which privacy setting a
// mailbox's items are fetched ("full", or "free-busy": no details), and
// resyncs a mailbox whose items were fetched under another one. bbolt
// does not overwrite the pages it frees, so the details of dropped items
// would stay in the file: a completed resync that replaces items fetched
// under another privacy setting (or a Reset that drops such staged items)
// marks the database, and CompactIfNeeded then rewrites it.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/exocal/exocal/sync/calendar"
)

// SchemaVersion is the layout version written under meta/schema. A
// database with a newer version is refused; an older one is migrated:
// version 1 stored items as JSON, version 2 in the binary form of codec.go
// (see migrate).
const SchemaVersion = 2

var (
	bktMeta      = []byte("meta")
	bktMailboxes = []byte("mailboxes")
	bktItems     = []byte("items")
	bktStaging   = []byte("staging")
	keySchema    = []byte("schema")
	keyState     = []byte("state")
	keyLast      = []byte("last")
	keyRendered  = []byte("rendered")
	keyCount     = []byte("count")
	keyPrivacy   = []byte("privacy")
	keyCompact   = []byte("compact")
)

// markCompact records that items fetched under another privacy setting
// were dropped (CompactIfNeeded).
func markCompact(tx *bolt.Tx) error { return tx.Bucket(bktMeta).Put(keyCompact, []byte("1")) }

// stagedPrivacy is the privacy the staged items are fetched under: the
// staging's own, else the mailbox's.
func stagedPrivacy(mb, staging *bolt.Bucket) []byte {
	if p := staging.Get(keyPrivacy); p != nil {
		return p
	}
	return mb.Get(keyPrivacy)
}

// count returns the number of items in items, kept under parent/count (so
// that Info does not walk, and page in, the whole bucket).
func count(parent, items *bolt.Bucket) int {
	if v := parent.Get(keyCount); v != nil {
		if n, err := strconv.Atoi(string(v)); err == nil {
			return n
		}
	}
	return items.Stats().KeyN
}

// ErrLocked is returned (wrapped) by Open when another process holds the
// database open.
var ErrLocked = errors.New("store: the sync database is in use by another exocal process")

// ErrSchema is returned (wrapped) by Open for a database written by a newer
// ExoCal.
var ErrSchema = errors.New("store: the sync database was written by a newer exocal")

// Store is the sync database. It is safe for concurrent use.
type Store struct {
	// mu guards db: Compact replaces it (write lock), every other use
	// holds the read lock.
	mu          sync.RWMutex
	db          *bolt.DB
	path        string
	lockTimeout time.Duration
	now         func() time.Time
}

// view and update run fn in a bbolt transaction under the read lock.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(fn)
}

// Info is a mailbox's stored sync facts.
type Info struct {
	// State is the sync state to resume from (the staged one during a
	// resync).
	State string
	// Items is the number of cached items (of the last completed sync).
	Items int
	// LastSuccess is when a sync last reached the newest change.
	LastSuccess time.Time
	// Resyncing reports that a full resync is staged and not yet complete.
	Resyncing bool
	// Privacy is what SetPrivacy recorded for the items State continues
	// (during a resync the staged ones', by default the mailbox's); "" if
	// nothing was recorded.
	Privacy string
}

// Open opens (creating when missing) the database at path, waiting at most
// lockTimeout for another process to release it (0: one second).
func Open(path string, lockTimeout time.Duration) (*Store, error) {
	if lockTimeout <= 0 {
		lockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{path: path, lockTimeout: lockTimeout, now: time.Now}
	db, err := s.open(path)
	if err != nil {
		return nil, err
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, err
	}
	s.db = db
	return s, nil
}

func (s *Store) open(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: s.lockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w (%s); stop the other process or wait for it to finish", ErrLocked, path)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, fmt.Errorf("store: the sync database %s is damaged (%w); it holds only what ExoCal can fetch again: delete it, and the next sync rebuilds it from Exchange (a full sync; the ICS files stay)", path, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// migrate brings db to SchemaVersion. From version 1 it writes the new
// version first (so that an older exocal refuses the file, see ErrSchema,
// rather than meet items it cannot decode), then re-encodes the JSON items
// in the binary form, one transaction per mailbox (a large database is not
// rewritten in one transaction held in memory). decodeEvent reads both
// forms, so items a crash leaves as JSON still work; they are rewritten in
// the binary form when they change.
func migrate(db *bolt.DB) error {
	version := 0 // a new database
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bktMeta)
		if err != nil {
			return fmt.Errorf("store: create meta: %w", err)
		}
		if _, err := tx.CreateBucketIfNotExists(bktMailboxes); err != nil {
			return fmt.Errorf("store: create mailboxes: %w", err)
		}
		v := meta.Get(keySchema)
		if v == nil {
			return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
		}
		if version, err = strconv.Atoi(string(v)); err != nil {
			return fmt.Errorf("store: bad schema version %q: %w", v, err)
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w (schema %d, this build knows %d); delete the file to start over", ErrSchema, version, SchemaVersion)
		}
		if version == SchemaVersion {
			return nil
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil || version == 0 || version == SchemaVersion {
		return err
	}
	var mailboxes [][]byte
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMailboxes).ForEach(func(k, _ []byte) error {
			mailboxes = append(mailboxes, bytes.Clone(k))
			return nil
		})
	}); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, k := range mailboxes {
		err := db.Update(func(tx *bolt.Tx) error {
			mb := tx.Bucket(bktMailboxes).Bucket(k)
			if mb == nil {
				return nil
			}
			if err := reencode(mb.Bucket(bktItems)); err != nil {
				return err
			}
			if st := mb.Bucket(bktStaging); st != nil {
				return reencode(st.Bucket(bktItems))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migrate %s to schema %d: %w", k, SchemaVersion, err)
		}
	}
	return nil
}

// reencode rewrites items's JSON values (schema 1) in the binary form.
func reencode(items *bolt.Bucket) error {
	if items == nil {
		return nil
	}
	type kv struct{ k, v []byte }
	var todo []kv
	err := items.ForEach(func(k, v []byte) error {
		if len(v) == 0 || v[0] != '{' {
			return nil
		}
		var e calendar.Event
		if err := decodeEvent(v, &e); err != nil {
			return fmt.Errorf("decode item %s: %w", k, err)
		}
		todo = append(todo, kv{k, appendEvent(nil, &e)})
		return nil
	})
	if err != nil {
		return err
	}
	items.FillPercent = 0.9 // keys come in order
	for _, x := range todo {
		if err := items.Put(x.k, x.v); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

func key(mailbox string) []byte { return []byte(strings.ToLower(mailbox)) }

// mailbox returns mailbox's bucket, nil when absent (read-only tx).
func mailboxBucket(tx *bolt.Tx, mailbox string) *bolt.Bucket {
	return tx.Bucket(bktMailboxes).Bucket(key(mailbox))
}

// Info returns mailbox's stored sync facts; the zero Info for an unknown
// mailbox.
func (s *Store) Info(mailbox string) (Info, error) {
	var in Info
	err := s.view(func(tx *bolt.Tx) error {
		b := mailboxBucket(tx, mailbox)
		if b == nil {
			return nil
		}
		in.State = string(b.Get(keyState))
		if items := b.Bucket(bktItems); items != nil {
			in.Items = count(b, items)
		}
		if v := b.Get(keyLast); v != nil {
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("store: %s: bad last-success time: %w", mailbox, err)
			}
			in.LastSuccess = t
		}
		in.Privacy = string(b.Get(keyPrivacy))
		if st := b.Bucket(bktStaging); st != nil {
			in.Resyncing = true
			in.State = string(st.Get(keyState))
			in.Privacy = string(stagedPrivacy(b, st))
		}
		return nil
	})
	return in, err
}

// State returns the sync state to resume mailbox's sync from: "" for a
// mailbox never synced or whose resync has just been started.
func (s *Store) State(mailbox string) (string, error) {
	in, err := s.Info(mailbox)
	return in.State, err
}

// Reset starts a full resync of mailbox: the next State is "" and the pages
// that follow are staged (see the package doc); the cached items stay
// visible until the resync completes.
func (s *Store) Reset(mailbox string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bktMailboxes).CreateBucketIfNotExists(key(mailbox))
		if err != nil {
			return err
		}
		if old := b.Bucket(bktStaging); old != nil {
			if !bytes.Equal(stagedPrivacy(b, old), b.Get(keyPrivacy)) {
				if err := markCompact(tx); err != nil {
					return err
				}
			}
			if err := b.DeleteBucket(bktStaging); err != nil {
				return err
			}
		}
		st, err := b.CreateBucket(bktStaging)
		if err != nil {
			return err
		}
		_, err = st.CreateBucket(bktItems)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: reset %s: %w", mailbox, err)
	}
	return nil
}

// ApplyPage stores one page of mailbox's sync: upserts, deletes and the new
// sync state, in one transaction. A Done page also records the success
// time.
func (s *Store) ApplyPage(mailbox string, page calendar.Page) error {
	// Encode outside the write transaction (bbolt has one writer at a
	// time), into one buffer.
	enc := make([][]byte, len(page.Upserts))
	buf := make([]byte, 0, 768*len(page.Upserts))
	for i := range page.Upserts {
		if page.Upserts[i].ItemID == "" {
			return fmt.Errorf("store: apply page to %s: upsert %d has no ItemID", mailbox, i)
		}
		// When buf grows, the values before stay in the old array.
		lo := len(buf)
		buf = appendEvent(buf, &page.Upserts[i])
		enc[i] = buf[lo:len(buf):len(buf)]
	}
	// Put in key order: a bbolt node is a sorted slice, and inserting in
	// random order moves half of it per Put. Stable, so that of two
	// upserts of one item the later wins, as in page order.
	order := make([]int, len(page.Upserts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(page.Upserts[a].ItemID, page.Upserts[b].ItemID) })
	now := s.now().UTC()
	err := s.update(func(tx *bolt.Tx) error {
		mb, err := tx.Bucket(bktMailboxes).CreateBucketIfNotExists(key(mailbox))
		if err != nil {
			return err
		}
		items, err := mb.CreateBucketIfNotExists(bktItems)
		if err != nil {
			return err
		}
		// A chain from an empty state is a full sync: stage it.
		staging := mb.Bucket(bktStaging)
		if staging == nil && len(mb.Get(keyState)) == 0 {
			if staging, err = mb.CreateBucket(bktStaging); err != nil {
				return err
			}
			if _, err := staging.CreateBucket(bktItems); err != nil {
				return err
			}
		}
		if len(page.Upserts)+len(page.Deletes) > 0 {
			if err := mb.Delete(keyRendered); err != nil {
				return err
			}
		}
		target, stateB := items, mb
		if staging != nil {
			target, stateB = staging.Bucket(bktItems), staging
		}
		n := count(stateB, target)
		for _, i := range order {
			e := &page.Upserts[i]
			if target.Get([]byte(e.ItemID)) == nil {
				n++
			}
			if err := target.Put([]byte(e.ItemID), enc[i]); err != nil {
				return err
			}
		}
		for _, id := range page.Deletes {
			if target.Get([]byte(id)) != nil {
				n--
			}
			if err := target.Delete([]byte(id)); err != nil {
				return err
			}
		}
		if err := stateB.Put(keyCount, []byte(strconv.Itoa(n))); err != nil {
			return err
		}
		if page.State != "" || staging != nil {
			if err := stateB.Put(keyState, []byte(page.State)); err != nil {
				return err
			}
		}
		if !page.Done {
			return nil
		}
		if staging != nil {
			// Swap the staged items in.
			if p := staging.Get(keyPrivacy); p != nil && !bytes.Equal(p, mb.Get(keyPrivacy)) {
				if err := markCompact(tx); err != nil {
					return err
				}
			}
			if err := mb.DeleteBucket(bktItems); err != nil {
				return err
			}
			if err := mb.Put(keyState, []byte(page.State)); err != nil {
				return err
			}
			if err := copyBucket(mb, staging.Bucket(bktItems), bktItems); err != nil {
				return err
			}
			if err := mb.Put(keyCount, staging.Get(keyCount)); err != nil {
				return err
			}
			if p := staging.Get(keyPrivacy); p != nil {
				if err := mb.Put(keyPrivacy, p); err != nil {
					return err
				}
			}
			if err := mb.DeleteBucket(bktStaging); err != nil {
				return err
			}
		}
		return mb.Put(keyLast, []byte(now.Format(time.RFC3339Nano)))
	})
	if err != nil {
		return fmt.Errorf("store: apply page to %s: %w", mailbox, err)
	}
	return nil
}

// copyBucket copies src (a flat bucket) into a new child name of to. (bbolt's
// MoveBucket, tried first, lost the writes made to the moved bucket in
// the same transaction in our tests, so copy.)
func copyBucket(to, src *bolt.Bucket, name []byte) error {
	dst, err := to.CreateBucket(name)
	if err != nil {
		return err
	}
	dst.FillPercent = 0.9 // keys arrive in order
	return src.ForEach(func(k, v []byte) error { return dst.Put(k, v) })
}

// Events returns mailbox's cached events (of the last completed sync),
// sorted by start, then ItemID.
func (s *Store) Events(mailbox string) ([]calendar.Event, error) {
	var out []calendar.Event
	err := s.view(func(tx *bolt.Tx) error {
		b := mailboxBucket(tx, mailbox)
		if b == nil || b.Bucket(bktItems) == nil {
			return nil
		}
		items := b.Bucket(bktItems)
		out = make([]calendar.Event, 0, count(b, items))
		return items.ForEach(func(k, v []byte) error {
			out = append(out, calendar.Event{})
			if err := decodeEvent(v, &out[len(out)-1]); err != nil {
				return fmt.Errorf("store: decode %s item %s: %w", mailbox, k, err)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ItemID < out[j].ItemID
	})
	return out, nil
}

// Mailboxes returns the addresses the store holds state for, sorted.
func (s *Store) Mailboxes() ([]string, error) {
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMailboxes).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// Forget deletes everything stored for mailbox (when it leaves the
// configuration).
func (s *Store) Forget(mailbox string) error {
	err := s.update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bktMailboxes).DeleteBucket(key(mailbox))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: forget %s: %w", mailbox, err)
	}
	return nil
}

// Rendered returns the stamp SetRendered stored for mailbox ("" if none).
func (s *Store) Rendered(mailbox string) (string, error) {
	var v string
	err := s.view(func(tx *bolt.Tx) error {
		if b := mailboxBucket(tx, mailbox); b != nil {
			v = string(b.Get(keyRendered))
		}
		return nil
	})
	return v, err
}

// SetRendered records what mailbox's file was rendered from (the engine's
// render options and the file's identity), so that a later process can skip
// rendering an unchanged mailbox. Any ApplyPage with changes clears it.
func (s *Store) SetRendered(mailbox, stamp string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bktMailboxes).CreateBucketIfNotExists(key(mailbox))
		if err != nil {
			return err
		}
		return b.Put(keyRendered, []byte(stamp))
	})
	if err != nil {
		return fmt.Errorf("store: set rendered %s: %w", mailbox, err)
	}
	return nil
}

// SetPrivacy records the privacy setting under which mailbox's items are
// fetched from now on: with the staged items during a resync (it moves to
// the mailbox when the resync completes), else with the mailbox's items.
// Info.Privacy returns it.
func (s *Store) SetPrivacy(mailbox, privacy string) error {
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bktMailboxes).CreateBucketIfNotExists(key(mailbox))
		if err != nil {
			return err
		}
		if st := b.Bucket(bktStaging); st != nil {
			b = st
		}
		return b.Put(keyPrivacy, []byte(privacy))
	})
	if err != nil {
		return fmt.Errorf("store: set privacy %s: %w", mailbox, err)
	}
	return nil
}

// CompactIfNeeded compacts the database (see Compact) when a resync has
// dropped items fetched under another privacy setting since the last
// compaction, and reports whether it did. The engine calls it when no such
// resync is in flight, so that many mailboxes switching at once cost one
// rewrite.
func (s *Store) CompactIfNeeded() (bool, error) {
	var need bool
	if err := s.view(func(tx *bolt.Tx) error {
		need = tx.Bucket(bktMeta).Get(keyCompact) != nil
		return nil
	}); err != nil || !need {
		return false, err
	}
	if err := s.Compact(); err != nil {
		return false, err
	}
	err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bktMeta).Delete(keyCompact) })
	if err != nil {
		return true, fmt.Errorf("store: compact: %w", err)
	}
	return true, nil
}

// Compact rewrites the database file with only what it holds now, so that
// no freed page keeps the bytes of deleted items (bbolt reuses freed
// pages but does not clear them). It copies into a new file beside the
// database, then renames it over the database; other calls wait meanwhile.
// After a failure the store goes on with the database as it was.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: compact: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.lockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	err = bolt.Compact(dst, s.db, 16<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: compact: %w", err)
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: compact: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr != nil {
		os.Remove(tmp)
	} else if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		// Make the rename durable where directories can be synced (not
		// on Windows; the error is of no consequence there).
		d.Sync()
		d.Close()
	}
	db, err := s.open(s.path)
	if err != nil {
		// The store is unusable until the process restarts; say so.
		return fmt.Errorf("store: compact: reopen: %w", err)
	}
	s.db = db
	if renameErr != nil {
		return fmt.Errorf("store: compact: %w", renameErr)
	}
	return nil
}
