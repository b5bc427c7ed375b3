// Package preset loads Waldur's demo-preset JSON files (the format of
// Waldur's `demo_presets load`): users with passwords, auth tokens,
// customers, projects, user roles, and — registered by the marketplace —
// category groups, categories, service providers, offerings, components,
// plans and offering users. Given UUIDs and token keys are kept; an object
// whose UUID exists already is left as it is, so loading a file twice
// changes nothing.
package preset

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/waldur-go/waldur/models/store"
)

// Loader loads one section. It returns how many objects it created and how
// many existed already.
type Loader func(ctx context.Context, tx *store.Store, raw json.RawMessage) (created, existing int, err error)

// Section is one top-level key of a preset file. Sections load in Order.
type Section struct {
	Name  string
	Order int
	Load  Loader
}

var sections = map[string]Section{}

// Register adds a section loader (at init time, by the package that owns the data).
func Register(s Section) {
	if _, dup := sections[s.Name]; dup {
		panic("preset: section registered twice: " + s.Name)
	}
	sections[s.Name] = s
}

// SectionReport says what loading one section did.
type SectionReport struct {
	Name     string
	Created  int
	Existing int
}

// Report says what a load did; Skipped lists sections no loader knows yet.
type Report struct {
	Title    string
	Sections []SectionReport
	Skipped  []string
}

// Load reads a preset file and loads every known section, in one transaction:
// a file with an error loads nothing.
func Load(ctx context.Context, st *store.Store, data []byte) (*Report, error) {
	var file map[string]json.RawMessage
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("preset: not a JSON object: %v", err)
	}
	rep := &Report{}
	if raw, ok := file["_metadata"]; ok {
		var meta struct {
			Title string `json:"title"`
		}
		_ = json.Unmarshal(raw, &meta)
		rep.Title = meta.Title
	}
	var todo []Section
	for name := range file {
		if name == "_metadata" {
			continue
		}
		s, ok := sections[name]
		if !ok {
			rep.Skipped = append(rep.Skipped, name)
			continue
		}
		todo = append(todo, s)
	}
	sort.Strings(rep.Skipped)
	sort.Slice(todo, func(i, j int) bool { return todo[i].Order < todo[j].Order })
	err := st.Tx(ctx, func(tx *store.Store) error {
		for _, s := range todo {
			c, e, err := s.Load(ctx, tx, file[s.Name])
			if err != nil {
				return fmt.Errorf("preset section %s: %w", s.Name, err)
			}
			rep.Sections = append(rep.Sections, SectionReport{Name: s.Name, Created: c, Existing: e})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// decode unmarshals a section's array, naming the section in errors.
func decode[T any](raw json.RawMessage) ([]T, error) {
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("not an array of objects of the expected shape: %v", err)
	}
	return out, nil
}
