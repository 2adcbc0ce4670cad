package safeio

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestPoolGetCloseRaceAttack2: sessions taking files while the pool is
// closed (a Shutdown whose grace ran out) never get the same file twice,
// and Close never removes a file already handed out: each one taken
// still exists, empty, until its owner commits or discards it; after
// Close and the owners' discards nothing is left.
func TestPoolGetCloseRaceAttack2(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		p := NewPool(dir, 0o640, 8)
		f, err := p.Get() // starts the filling
		if err != nil {
			t.Fatal(err)
		}
		Discard(f)
		time.Sleep(time.Duration(round%4) * time.Millisecond)
		var mu sync.Mutex
		taken := map[string]*os.File{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					f, err := p.Get()
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if _, dup := taken[f.Name()]; dup {
						t.Errorf("%s handed out twice", f.Name())
					}
					taken[f.Name()] = f
					mu.Unlock()
				}
			}()
		}
		if round%2 == 0 {
			p.Close()
		}
		wg.Wait()
		p.Close()
		for name, f := range taken {
			fi, err := os.Stat(name)
			if err != nil || fi.Size() != 0 || filepath.Dir(name) != dir {
				t.Fatalf("a file handed out was removed or changed: %s %v", name, err)
			}
			Discard(f)
		}
		if left := names(t, dir); len(left) != 0 {
			t.Fatalf("round %d: left %v", round, left)
		}
	}
}

// TestPoolFailedFillDoesNotSpinAttack2: when the directory cannot take
// files the filling stops (it does not retry in a loop, burning a core
// and racing the admin who restores the folder); the next Get wakes it.
func TestPoolFailedFillDoesNotSpinAttack2(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "spool")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	p := NewPool(dir, 0o640, 4)
	defer p.Close()
	f, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	Discard(f)
	waitFiles(t, dir, 4)
	if err := os.RemoveAll(dir); err != nil { // the folder goes away under the pool
		t.Fatal(err)
	}
	for range 5 { // the ready files are of the removed folder: handed out, they fail at commit
		if f, err := p.Get(); err == nil {
			f.Close()
		}
	}
	if f, err := p.Get(); err == nil {
		t.Fatalf("Get in a removed folder gave %s", f.Name())
	}
	time.Sleep(50 * time.Millisecond)
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("the filling went on by itself after a failure: %v", got)
	}
	f, err = p.Get()
	if err != nil {
		t.Fatal(err)
	}
	Discard(f)
	waitFiles(t, dir, 4)
}
