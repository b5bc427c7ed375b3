package marketplace_test

import (
	"context"
	"errors"
	"testing"

	"github.com/waldur-go/waldur/internal/config"
	"github.com/waldur-go/waldur/internal/database/dbtest"
	"github.com/waldur-go/waldur/models"
	"github.com/waldur-go/waldur/models/marketplace"
	"github.com/waldur-go/waldur/models/store"
	"github.com/waldur-go/waldur/providers"
	"github.com/waldur-go/waldur/rbac"
)

// fakeImporter records the imports the service allows.
type fakeImporter struct {
	got []marketplace.ImportRequest
	id  models.UUID
}

func (f *fakeImporter) Importable(context.Context, models.UUID) ([]providers.ImportableResource, error) {
	return nil, nil
}

func (f *fakeImporter) Import(_ context.Context, r marketplace.ImportRequest) (models.UUID, error) {
	f.got = append(f.got, r)
	return f.id, nil
}

// TestImportResourceDecides: the service checks the request (a blank
// backend id, a project that does not exist: field errors, before any
// workflow) and hands the import on trimmed; without a workflow service
// it answers unavailable.
func TestImportResourceDecides(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Migrated(t, config.SQLite)
	st := store.New(db)
	checker, err := rbac.NewChecker(db)
	if err != nil {
		t.Fatal(err)
	}
	cust := &models.Customer{Name: "Provider"}
	if err := st.CreateCustomer(ctx, cust); err != nil {
		t.Fatal(err)
	}
	p := &models.Project{Name: "Target"}
	if err := st.CreateProject(ctx, p, cust); err != nil {
		t.Fatal(err)
	}
	staff := &models.User{ID: 1, IsStaff: true, IsActive: true}
	off := &store.ImportOffering{UUID: models.NewUUID()}
	f := &fakeImporter{id: models.NewUUID()}
	s := &marketplace.Service{Store: st, RBAC: checker, Imports: f}

	plan := models.NewUUID()
	got, err := s.ImportResource(ctx, staff, off, marketplace.ImportInput{ProjectUUID: p.UUID, PlanUUID: &plan, BackendID: "  acc1 "})
	if err != nil || got != f.id {
		t.Fatalf("import = %s, %v; want %s", got, err, f.id)
	}
	want := marketplace.ImportRequest{OfferingUUID: off.UUID, ProjectUUID: p.UUID, PlanUUID: &plan, BackendID: "acc1"}
	if len(f.got) != 1 || f.got[0] != want {
		t.Fatalf("imports %+v, want %+v", f.got, want)
	}

	for _, c := range []struct {
		in    marketplace.ImportInput
		field string
	}{
		{marketplace.ImportInput{ProjectUUID: p.UUID, BackendID: "   "}, "backend_id"},
		{marketplace.ImportInput{ProjectUUID: models.NewUUID(), BackendID: "acc1"}, "project"},
	} {
		_, err := s.ImportResource(ctx, staff, off, c.in)
		var e *models.Error
		if !errors.As(err, &e) || e.Code != models.CodeInvalid || len(e.Fields[c.field]) != 1 {
			t.Fatalf("%+v: err = %#v, want an error on %s", c.in, err, c.field)
		}
	}
	if len(f.got) != 1 {
		t.Fatalf("a refused import was handed on: %+v", f.got)
	}

	s.Imports = nil
	_, err = s.ImportResource(ctx, staff, off, marketplace.ImportInput{ProjectUUID: p.UUID, BackendID: "acc1"})
	if !models.IsCode(err, models.CodeUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
}
