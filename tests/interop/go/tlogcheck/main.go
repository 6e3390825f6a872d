// Command tlogcheck reads a Signet audit directory's C2SP tiles with golang.org/x/mod/sumdb/tlog and checks the
// tree hash, records and proofs Signet produced against Go's own computation.
//
// Usage: tlogcheck DIR SIZE ROOTHEX, then commands on stdin, one a line:
//
//	entry INDEX LINEHEX               tlog.RecordHash(line) equals the leaf hash at INDEX in the tiles
//	record INDEX PROOF                tlog.ProveRecord gives PROOF, and tlog.CheckRecord accepts PROOF
//	tree OLDSIZE OLDROOTHEX PROOF     tlog.TreeHash(OLDSIZE) is OLDROOT, tlog.ProveTree gives PROOF, tlog.CheckTree accepts it
//
// PROOF is comma-separated hex hashes, or "-" for none. Prints "ok ..." or "FAIL ..." per check; exits 1 on a failure.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// tiles reads Signet's tile files: Go names a tile tile/H/L/N[.p/W], Signet (C2SP) tile/L/N[.p/W].
type tiles struct{ dir string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		data, err := t.read(tile)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (t tiles) read(tile tlog.Tile) ([]byte, error) {
	full := tile
	full.W = 1 << uint(tile.H)
	goPath := full.Path()
	ours := "tile/" + strings.TrimPrefix(goPath, "tile/8/")
	need := tile.W * tlog.HashSize
	if data, err := os.ReadFile(filepath.Join(t.dir, filepath.FromSlash(ours))); err == nil && len(data) >= need {
		return data[:need], nil
	}
	for w := tile.W; w < 1<<uint(tile.H); w++ {
		data, err := os.ReadFile(filepath.Join(t.dir, filepath.FromSlash(ours)+".p", strconv.Itoa(w)))
		if err == nil && len(data) == w*tlog.HashSize {
			return data[:need], nil
		}
	}
	return nil, fmt.Errorf("no tile file for %s (as %s) in %s", tile.Path(), ours, t.dir)
}

// raw reads stored hashes straight from the tile files, without checking them against a tree hash.
func raw(t tiles) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, index := range indexes {
			tile := tlog.TileForIndex(8, index)
			data, err := t.read(tile)
			if err != nil {
				return nil, err
			}
			if out[i], err = tlog.HashFromTile(tile, data, index); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseProof(s string) ([]tlog.Hash, error) {
	if s == "-" {
		return nil, nil
	}
	var out []tlog.Hash
	for _, part := range strings.Split(s, ",") {
		h, err := parseHash(part)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func same(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck DIR SIZE ROOTHEX < commands")
		os.Exit(2)
	}
	t := tiles{dir: os.Args[1]}
	size, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	root, err := parseHash(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	failed := false
	fail := func(format string, args ...interface{}) {
		failed = true
		fmt.Printf("FAIL "+format+"\n", args...)
	}

	computed, err := tlog.TreeHash(size, raw(t))
	switch {
	case err != nil:
		fail("tree hash of size %d: %v", size, err)
	case computed != root:
		fail("tree hash of size %d: Go computes %x from the tiles, Signet says %x", size, computed[:], root[:])
	default:
		fmt.Printf("ok root %d %x\n", size, computed[:])
	}
	verified := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, t)

	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	for scanner.Scan() {
		f := strings.Fields(scanner.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "entry" && len(f) == 3:
			index, _ := strconv.ParseInt(f[1], 10, 64)
			line, err := hex.DecodeString(f[2])
			if err != nil {
				fail("entry %d: bad hex", index)
				continue
			}
			hashes, err := verified.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail("entry %d: %v", index, err)
			} else if tlog.RecordHash(line) != hashes[0] {
				fail("entry %d: RecordHash(line) %x is not the tiles' leaf hash %x", index, tlog.RecordHash(line), hashes[0])
			} else {
				fmt.Printf("ok entry %d\n", index)
			}
		case f[0] == "record" && len(f) == 3:
			index, _ := strconv.ParseInt(f[1], 10, 64)
			ours, err := parseProof(f[2])
			if err != nil {
				fail("record %d: %v", index, err)
				continue
			}
			theirs, err := tlog.ProveRecord(size, index, verified)
			if err != nil {
				fail("record %d: ProveRecord: %v", index, err)
				continue
			}
			if !same(ours, theirs) {
				fail("record %d: Signet's proof differs from tlog.ProveRecord's", index)
				continue
			}
			leaf, err := verified.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail("record %d: %v", index, err)
				continue
			}
			if err := tlog.CheckRecord(ours, size, root, index, leaf[0]); err != nil {
				fail("record %d: CheckRecord: %v", index, err)
				continue
			}
			fmt.Printf("ok record %d\n", index)
		case f[0] == "tree" && len(f) == 4:
			old, _ := strconv.ParseInt(f[1], 10, 64)
			oldRoot, err := parseHash(f[2])
			if err != nil {
				fail("tree %d: %v", old, err)
				continue
			}
			ours, err := parseProof(f[3])
			if err != nil {
				fail("tree %d: %v", old, err)
				continue
			}
			if h, err := tlog.TreeHash(old, verified); err != nil || h != oldRoot {
				fail("tree %d: Go's tree hash %x (%v) is not Signet's %x", old, h[:], err, oldRoot[:])
				continue
			}
			theirs, err := tlog.ProveTree(size, old, verified)
			if err != nil {
				fail("tree %d: ProveTree: %v", old, err)
				continue
			}
			if !same(ours, theirs) {
				fail("tree %d: Signet's proof differs from tlog.ProveTree's", old)
				continue
			}
			if err := tlog.CheckTree(ours, size, root, old, oldRoot); err != nil {
				fail("tree %d: CheckTree: %v", old, err)
				continue
			}
			fmt.Printf("ok tree %d\n", old)
		default:
			fail("unknown command %q", scanner.Text())
		}
	}
	if failed {
		os.Exit(1)
	}
}
