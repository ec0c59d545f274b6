package local_test

import (
	"testing"

	"github.com/privateim/privateim/userservice/internal/filestore/local"
	"github.com/privateim/privateim/userservice/internal/filestoretest"
	"github.com/privateim/privateim/userservice/internal/media"
)

func TestConformance(t *testing.T) {
	filestoretest.Run(t, func(t *testing.T) media.Storage {
		d, err := local.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}, 3<<20)
}

// A key cannot reach outside the directory.
func TestKeysStayInside(t *testing.T) {
	d, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Open(t.Context(), "../../etc/passwd"); err == nil {
		t.Error("Open of ../../etc/passwd succeeded")
	}
}
