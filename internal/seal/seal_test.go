package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"atrium/internal/seal"
)

func TestBox_SealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, seal.KeySize)
	box := seal.New(key)
	sealed, err := box.Seal("JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatalf("sealed value %q holds the secret", sealed)
	}
	again, _ := box.Seal("JBSWY3DPEHPK3PXP")
	if again == sealed {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if got, err := box.Open(sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v; want the secret", got, err)
	}

	t.Run("OtherKey", func(t *testing.T) {
		other := seal.New(bytes.Repeat([]byte{8}, seal.KeySize))
		if _, err := other.Open(sealed); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("Open under another key: err = %v, want ErrOpen", err)
		}
	})
	t.Run("Altered", func(t *testing.T) {
		b := []byte(sealed)
		b[len(b)-3] ^= 1
		if _, err := box.Open(string(b)); err == nil {
			t.Fatal("an altered value opened")
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		for _, v := range []string{"", "not base64!", "AAAA"} {
			if _, err := box.Open(v); !errors.Is(err, seal.ErrMalformed) {
				t.Fatalf("Open(%q): err = %v, want ErrMalformed", v, err)
			}
		}
	})
	t.Run("NoKey", func(t *testing.T) {
		for _, b := range []*seal.Box{seal.New(nil), seal.New([]byte("short")), nil} {
			if _, err := b.Seal("x"); !errors.Is(err, seal.ErrNoKey) {
				t.Fatalf("Seal without a key: err = %v, want ErrNoKey", err)
			}
			if _, err := b.Open(sealed); !errors.Is(err, seal.ErrNoKey) {
				t.Fatalf("Open without a key: err = %v, want ErrNoKey", err)
			}
		}
	})
}
