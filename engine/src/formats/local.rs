//! Reading model files from a local directory (a Spark `PipelineModel` directory or an exploded
//! MLeap bundle) without trusting it.
//!
//! * Every file read must be a **regular file**: a FIFO, a device, a socket or a directory where
//!   a file is expected is an error naming it, found with `symlink_metadata`/`metadata` before
//!   the file is opened (so a FIFO never blocks the reader and `/dev/zero` is never read).
//! * **Symlinks are followed only within the model directory**: a symlink (or a symlinked parent
//!   directory) whose target resolves outside the directory the user named is an error naming
//!   the link and its target. Links inside it are followed, as deployment tools that assemble a
//!   model directory from links (Kubernetes volumes, `..data/` layouts) need.
//! * Each model file is read through a [`Limited`] reader: more bytes than the per-file limit
//!   is an error, whatever `metadata` claimed (`/proc` files report 0 bytes).

use std::fs::{self, File, FileType};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use ember_udfs::shown::Shown;

use crate::error::{EmberError, Result, io_err};

/// A reader that fails, rather than truncates, once more than its limit of bytes came through;
/// [`Limited::over`] then says so, for callers (such as a JSON parser) that only see an
/// I/O error.
#[derive(Debug)]
pub(crate) struct Limited<R> {
    inner: R,
    left: u64,
    over: bool,
    read: u64,
}

impl<R> Limited<R> {
    /// `inner`, allowed to yield at most `limit` bytes.
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: limit,
            over: false,
            read: 0,
        }
    }

    /// True when the source held more than the limit.
    pub(crate) fn over(&self) -> bool {
        self.over
    }

    /// Bytes read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.read
    }
}

/// The error a [`Limited`] reader returns past its limit.
#[derive(Debug, thiserror::Error)]
#[error("more bytes than the limit")]
pub(crate) struct OverLimit;

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.over {
            return Err(io::Error::other(OverLimit));
        }
        // ask for one byte past the limit, so that a source of exactly `limit` bytes passes
        let want = (buf.len() as u64).min(self.left.saturating_add(1)) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over = true;
            return Err(io::Error::other(OverLimit));
        }
        self.left -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

/// `bytes` for messages: whole MiB as `256 MiB`, anything else in bytes.
pub(crate) fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The message of a file over the per-file limit.
pub(crate) fn file_limit_message(limit: u64) -> String {
    format!(
        "larger than the model-file limit of {} (--max-model-file-mb)",
        size_text(limit)
    )
}

/// What a file system entry is, as the object of "is" in a message: `"a FIFO"`,
/// `"a character device"`, `"a block device"`, `"a socket"`, `"a directory"`, `"a symlink"`,
/// `"a regular file"`, or `"not a regular file"` for anything else. Shared by the model
/// readers and the command line's `--output` checks, so both name a file the same way.
pub fn file_kind_name(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// A model directory: files are read from it only after [`ModelDir::check`].
#[derive(Debug, Clone)]
pub(crate) struct ModelDir {
    /// The directory as the user named it (for messages).
    given: PathBuf,
    /// The directory with every symlink resolved.
    canonical: PathBuf,
}

impl ModelDir {
    /// The model directory `root`.
    pub(crate) fn new(root: &Path) -> Result<Self> {
        let canonical = fs::canonicalize(root).map_err(io_err(root))?;
        Ok(Self {
            given: root.to_path_buf(),
            canonical,
        })
    }

    /// Checks that `path` (a path under the directory) is what `want_dir` asks for — a
    /// directory, or a regular file — once symlinks are resolved, and that it resolves inside
    /// the directory. Returns the resolved metadata.
    fn check(&self, path: &Path, want_dir: bool) -> Result<fs::Metadata> {
        let own = fs::symlink_metadata(path).map_err(io_err(path))?;
        let resolved = fs::canonicalize(path).map_err(io_err(path))?;
        if !resolved.starts_with(&self.canonical) {
            let what = if own.file_type().is_symlink() {
                "a symlink"
            } else {
                "under a symlinked directory"
            };
            return Err(EmberError::format(
                path,
                format!(
                    "is {what} that resolves to {}, outside the model directory {}; only \
                     symlinks within the model directory are followed",
                    Shown(&resolved.to_string_lossy()),
                    self.given.display()
                ),
            ));
        }
        // `metadata` follows the (checked) link; it does not open the file
        let meta = fs::metadata(path).map_err(io_err(path))?;
        let t = meta.file_type();
        let ok = if want_dir { t.is_dir() } else { t.is_file() };
        if !ok {
            let want = if want_dir {
                "a directory"
            } else {
                "a regular file"
            };
            let via = if own.file_type().is_symlink() {
                " (through a symlink)"
            } else {
                ""
            };
            return Err(EmberError::format(
                path,
                format!("is {}{via}, not {want}", file_kind_name(&t)),
            ));
        }
        Ok(meta)
    }

    /// Checks that `path` is a regular file inside the directory; returns its size.
    pub(crate) fn file(&self, path: &Path) -> Result<u64> {
        self.check(path, false).map(|m| m.len())
    }

    /// Checks that `path` is a directory inside the model directory.
    pub(crate) fn dir(&self, path: &Path) -> Result<()> {
        self.check(path, true).map(|_| ())
    }

    /// Opens the regular file `path` for reading at most `limit` bytes; a file whose size is
    /// already over the limit is refused before it is opened.
    /// Returns the reader and the size the file system gives.
    pub(crate) fn open_limited(
        &self,
        path: &Path,
        limit: u64,
    ) -> Result<(Limited<BufReader<File>>, u64)> {
        let len = self.file(path)?;
        if len > limit {
            return Err(EmberError::format(path, file_limit_message(limit)));
        }
        let file = File::open(path).map_err(io_err(path))?;
        Ok((Limited::new(BufReader::new(file), limit), len))
    }

    /// Reads the regular file `path`, at most `limit` bytes.
    pub(crate) fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>> {
        let (mut reader, len) = self.open_limited(path, limit)?;
        let mut out = Vec::with_capacity(len.min(limit) as usize);
        match reader.read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(_) if reader.over() => Err(EmberError::format(path, file_limit_message(limit))),
            Err(source) => Err(EmberError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_reader_passes_exactly_the_limit_and_fails_past_it() {
        let mut ok = Limited::new(&[7u8; 10][..], 10);
        let mut out = Vec::new();
        ok.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 10);
        assert!(!ok.over());
        let mut over = Limited::new(&[7u8; 11][..], 10);
        let err = over.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(over.over(), "{err}");
        assert!(err.get_ref().is_some_and(|e| e.is::<OverLimit>()));
    }

    #[test]
    fn sizes_are_shown_in_mib_when_whole() {
        assert_eq!(size_text(256 << 20), "256 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
