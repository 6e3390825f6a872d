// Command notecheck checks Signet's signed notes and checkpoint cosignatures with Go's
// golang.org/x/mod/sumdb/note, an implementation Signet did not write, and signs notes for Signet to read.
//
// Build in GOPATH mode over Debian's golang-golang-x-mod-dev (Go 1.19, no module download):
//
//	GO111MODULE=off GOPATH=$(mktemp -d):/usr/share/gocode go build -o notecheck .
//
// Usage:
//
//	notecheck verify VKEY NOTEFILE              verifies an Ed25519 (type 0x01) note signature; prints the text
//	notecheck verify-cosignature VKEY NOTEFILE  verifies a cosignature/v1 (type 0x04); prints the text and "time N"
//	notecheck sign NAME TEXTFILE                makes a key and signs the text; prints the vkey line, then the note
//
// Exit status 0 means verified (or signed), 1 means refused, 2 means bad usage.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 4 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "verify":
		err = verify(os.Args[2], os.Args[3])
	case "verify-cosignature":
		err = verifyCosignature(os.Args[2], os.Args[3])
	case "sign":
		err = sign(os.Args[2], os.Args[3])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notecheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: notecheck verify|verify-cosignature VKEY NOTEFILE | notecheck sign NAME TEXTFILE")
	os.Exit(2)
}

func verify(vkey, file string) error {
	msg, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return err
	}
	fmt.Print(n.Text)
	return nil
}

// cosigVerifier checks cosignature/v1 (c2sp.org/tlog-cosignature, type 0x04), which x/mod/sumdb/note does not
// know; note.Open still parses the note and matches signature lines to it by name and key id.
type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
	time uint64
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }

func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > 1<<63-1 {
		return false
	}
	signed := "cosignature/v1\ntime " + strconv.FormatUint(t, 10) + "\n" + string(msg)
	if !ed25519.Verify(v.key, []byte(signed), sig[8:]) {
		return false
	}
	v.time = t
	return true
}

func parseCosignatureVkey(vkey string) (*cosigVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return nil, fmt.Errorf("vkey %q is not name+hex+base64", vkey)
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("vkey key id: %v", err)
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 1+ed25519.PublicKeySize || material[0] != 0x04 {
		return nil, fmt.Errorf("vkey %q is not a type 0x04 Ed25519 key", vkey)
	}
	// Key id per signed-note: SHA-256(name || 0x0A || type || key)[:4], computed here independently of Signet.
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), material...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(hash) {
		return nil, fmt.Errorf("vkey key id %s does not match the name and key", parts[1])
	}
	return &cosigVerifier{name: parts[0], hash: uint32(hash), key: ed25519.PublicKey(material[1:])}, nil
}

func verifyCosignature(vkey, file string) error {
	msg, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	v, err := parseCosignatureVkey(vkey)
	if err != nil {
		return err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return err
	}
	fmt.Print(n.Text)
	fmt.Printf("time %d\n", v.time)
	return nil
}

func sign(name, file string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return err
	}
	fmt.Println(vkey)
	os.Stdout.Write(msg)
	return nil
}
