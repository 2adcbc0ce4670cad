package safeio

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncData makes f's data durable with fdatasync(2): the bytes and the
// metadata needed to read them back (its size), without the timestamps a
// full fsync also forces through the journal. Its name becomes durable
// with SyncDir. On ext4 this halves the cost of a commit.
func SyncData(f *os.File) error {
	return retry("fdatasync", f, unix.Fdatasync)
}

// retry runs a system call on f's descriptor again while it is
// interrupted.
func retry(op string, f *os.File, call func(fd int) error) error {
	for {
		err := call(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: op, Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

func syncFS(f *os.File) error { return retry("syncfs", f, unix.Syncfs) }

// checkWriteback returns the write-back error recorded against f's data
// since f was opened, or since the last check through f, without writing
// anything: sync_file_range(SYNC_FILE_RANGE_WAIT_BEFORE) waits for the
// write-back already under way (none after a syncfs) and then reports
// file_check_and_advance_wb_err, the same per-open-file errseq check
// fdatasync ends with, but without fdatasync's journal commit and cache
// flush. See Committer.roundFS for why the round needs it.
func checkWriteback(f *os.File) error {
	return retry("sync_file_range", f, func(fd int) error {
		return unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WAIT_BEFORE)
	})
}

func device(f *os.File) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return uint64(st.Dev), nil
}

// FilesystemSync reports whether syncfs(2) can be trusted for durability:
// it reports write-back errors only since Linux 5.8.
func FilesystemSync() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
}

// renameNoReplace renames from to to, failing (EEXIST) rather than
// replacing a file already named to.
func renameNoReplace(from, to string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
