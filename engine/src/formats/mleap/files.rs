//! Access to the files of a bundle, wherever they are stored: an exploded directory, a `.zip`
//! (MLeap's own packaging), or a `.tar.gz` / `.tar` (SageMaker's `model.tar.gz`). Archives are
//! read in place; nothing is extracted to disk.
//!
//! A bundle is untrusted input. Entry names that are absolute or climb out with `..`
//! (zip-slip) are rejected, as are symlinks, hard links and device entries; the number of
//! entries and the bytes decompressed are bounded by [`BundleLimits`], so a zip bomb fails
//! fast with an error instead of filling memory.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{EmberError, Result};

/// Read access to the files of a bundle by their path inside it (`root/model.json`).
pub trait BundleFiles: std::fmt::Debug + Send + Sync {
    /// The bytes of the file at `path`.
    fn read(&self, path: &str) -> Result<Vec<u8>>;
    /// A description of `path` for error messages.
    fn describe(&self, path: &str) -> PathBuf;
}

/// Bounds on what reading an archived bundle may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Entries an archive may hold.
    pub max_entries: usize,
    /// Bytes all entries together may decompress to.
    pub max_total_bytes: u64,
}

impl Default for BundleLimits {
    /// 100 000 entries, 2 GiB decompressed: far above real bundles (the largest public
    /// fixtures are ~40 MB unpacked), far below what would exhaust a serving host.
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_total_bytes: 2 << 30,
        }
    }
}

impl BundleLimits {
    /// Limits with the decompressed-size bound given in MiB.
    pub fn with_max_mb(mb: u64) -> Self {
        Self {
            max_total_bytes: mb.saturating_mul(1 << 20),
            ..Self::default()
        }
    }
}

/// A bundle exploded in a directory.
#[derive(Debug, Clone)]
pub struct DirBundle {
    root: PathBuf,
}

impl DirBundle {
    /// The bundle in `root` (which holds `bundle.json`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

/// Rejects absolute paths and `..` so a bundle cannot name files outside itself.
pub(crate) fn safe_relative(path: &str) -> Option<PathBuf> {
    if path.contains('\\') || path.contains('\0') {
        return None;
    }
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// The normalized form of an archive entry name (`./root//x` → `root/x`), or `None` when the
/// name is unsafe.
fn entry_key(name: &str) -> Option<String> {
    let rel = safe_relative(name)?;
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    Some(parts.join("/"))
}

impl BundleFiles for DirBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let rel = safe_relative(path)
            .ok_or_else(|| EmberError::format(self.root.join(path), "path escapes the bundle"))?;
        let full = self.root.join(rel);
        // a symlink inside a bundle directory could point anywhere: refuse to follow it
        if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(EmberError::format(
                full,
                "symlinks in bundles are not followed",
            ));
        }
        std::fs::read(&full).map_err(|source| EmberError::Io { path: full, source })
    }

    fn describe(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}

/// What an archive lets the reader seek in.
trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A bundle inside a zip archive, read in place.
pub struct ZipBundle {
    archive: PathBuf,
    zip: Mutex<zip::ZipArchive<Box<dyn ReadSeek>>>,
    /// Normalized entry name (without the wrapper prefix) → index in the archive.
    entries: HashMap<String, usize>,
    limits: BundleLimits,
    read_so_far: AtomicU64,
}

impl fmt::Debug for ZipBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipBundle")
            .field("archive", &self.archive)
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn archive_err(archive: &Path, message: impl Into<String>) -> EmberError {
    EmberError::format(archive, message)
}

impl ZipBundle {
    /// Opens the zip file at `path`.
    pub fn open(path: &Path, limits: BundleLimits) -> Result<Self> {
        let file = File::open(path).map_err(|source| EmberError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(path, Box::new(BufReader::new(file)), limits)
    }

    /// A zip held in memory (e.g. found inside a tar archive); `name` is used in messages.
    pub fn from_bytes(name: &Path, bytes: Vec<u8>, limits: BundleLimits) -> Result<Self> {
        Self::from_reader(name, Box::new(Cursor::new(bytes)), limits)
    }

    fn from_reader(path: &Path, reader: Box<dyn ReadSeek>, limits: BundleLimits) -> Result<Self> {
        let mut zip = zip::ZipArchive::new(reader)
            .map_err(|e| archive_err(path, format!("not a readable zip archive: {e}")))?;
        if zip.len() > limits.max_entries {
            return Err(archive_err(
                path,
                format!(
                    "{} entries exceed the limit of {}",
                    zip.len(),
                    limits.max_entries
                ),
            ));
        }
        let mut names = HashMap::with_capacity(zip.len());
        let mut declared: u64 = 0;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| archive_err(path, format!("entry {i}: {e}")))?;
            let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            let key = entry_key(&raw_name).ok_or_else(|| {
                archive_err(
                    path,
                    format!("entry '{raw_name}' is an absolute path or escapes the bundle"),
                )
            })?;
            if entry.is_symlink() {
                return Err(archive_err(
                    path,
                    format!("entry '{raw_name}' is a symlink; bundles may not hold links"),
                ));
            }
            if entry.is_dir() {
                continue;
            }
            declared = declared.saturating_add(entry.size());
            if declared > limits.max_total_bytes {
                return Err(archive_err(
                    path,
                    format!(
                        "entries decompress to more than the limit of {} bytes",
                        limits.max_total_bytes
                    ),
                ));
            }
            names.insert(key, i);
        }
        let entries = strip_wrapper(names, path)?;
        Ok(Self {
            archive: path.to_path_buf(),
            zip: Mutex::new(zip),
            entries,
            limits,
            read_so_far: AtomicU64::new(0),
        })
    }
}

/// Finds `bundle.json`: at the top of the archive, or inside a single wrapper folder
/// (`model/bundle.json`), and re-keys entries relative to it.
fn strip_wrapper<T>(entries: HashMap<String, T>, archive: &Path) -> Result<HashMap<String, T>> {
    if entries.contains_key("bundle.json") {
        return Ok(entries);
    }
    let wrappers: Vec<String> = entries
        .keys()
        .filter_map(|k| k.strip_suffix("/bundle.json"))
        .filter(|p| !p.contains('/'))
        .map(str::to_string)
        .collect();
    match wrappers.as_slice() {
        [prefix] => {
            let prefix = format!("{prefix}/");
            Ok(entries
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_string(), v)))
                .collect())
        }
        _ => Err(archive_err(
            archive,
            "no bundle.json at the top of the archive (nor in a single top-level folder): not an MLeap bundle",
        )),
    }
}

impl BundleFiles for ZipBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let key = entry_key(path)
            .ok_or_else(|| EmberError::format(self.describe(path), "path escapes the bundle"))?;
        let index = *self
            .entries
            .get(&key)
            .ok_or_else(|| EmberError::format(self.describe(path), "no such file in the bundle"))?;
        let mut zip = self
            .zip
            .lock()
            .map_err(|_| EmberError::format(&self.archive, "archive reader poisoned"))?;
        let entry = zip
            .by_index(index)
            .map_err(|e| EmberError::format(self.describe(path), format!("unreadable: {e}")))?;
        let budget = self
            .limits
            .max_total_bytes
            .saturating_sub(self.read_so_far.load(Ordering::Relaxed));
        let declared = entry.size();
        let out = read_bounded(entry, declared, budget).map_err(|e| match e {
            Bounded::Io(e) => EmberError::format(self.describe(path), format!("unreadable: {e}")),
            Bounded::TooBig => EmberError::format(
                self.describe(path),
                format!(
                    "decompresses past the bundle limit of {} bytes (zip bomb?)",
                    self.limits.max_total_bytes
                ),
            ),
        })?;
        self.read_so_far
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(out)
    }

    fn describe(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}!/{path}", self.archive.display()))
    }
}

enum Bounded {
    Io(std::io::Error),
    TooBig,
}

/// Reads at most `budget` bytes; more than that is an error rather than a truncation.
fn read_bounded(
    reader: impl Read,
    size_hint: u64,
    budget: u64,
) -> std::result::Result<Vec<u8>, Bounded> {
    let mut out = Vec::with_capacity(size_hint.min(budget).min(64 << 20) as usize);
    reader
        .take(budget.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(Bounded::Io)?;
    if out.len() as u64 > budget {
        return Err(Bounded::TooBig);
    }
    Ok(out)
}

/// A bundle read from a tar archive (optionally gzip-compressed) into memory.
pub struct MemBundle {
    archive: PathBuf,
    files: HashMap<String, Vec<u8>>,
}

impl fmt::Debug for MemBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemBundle")
            .field("archive", &self.archive)
            .field("files", &self.files.len())
            .finish()
    }
}

impl BundleFiles for MemBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let key = entry_key(path)
            .ok_or_else(|| EmberError::format(self.describe(path), "path escapes the bundle"))?;
        self.files
            .get(&key)
            .cloned()
            .ok_or_else(|| EmberError::format(self.describe(path), "no such file in the bundle"))
    }

    fn describe(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}!/{path}", self.archive.display()))
    }
}

/// Reads every regular file of a tar archive (gzip-compressed or not) into memory, within the
/// limits; links, devices and unsafe names are errors.
fn read_tar(path: &Path, limits: BundleLimits) -> Result<HashMap<String, Vec<u8>>> {
    let mut file = File::open(path).map_err(|source| EmberError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut magic = [0u8; 2];
    let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.rewind().map_err(|source| EmberError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut archive = tar::Archive::new(reader);
    let bad = |m: String| archive_err(path, m);
    let mut files = HashMap::new();
    let mut total: u64 = 0;
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a readable tar archive: {e}")))?;
    for (n, entry) in entries.enumerate() {
        if n >= limits.max_entries {
            return Err(bad(format!(
                "more entries than the limit of {}",
                limits.max_entries
            )));
        }
        let entry = entry.map_err(|e| bad(format!("entry {n}: {e}")))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| bad(format!("entry {n}: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(bad(format!(
                "entry '{name}' is a link; bundles may not hold links"
            )));
        }
        if !kind.is_file() {
            return Err(bad(format!(
                "entry '{name}' is not a regular file ({kind:?})"
            )));
        }
        let key = entry_key(&name).ok_or_else(|| {
            bad(format!(
                "entry '{name}' is an absolute path or escapes the bundle"
            ))
        })?;
        let size = entry.size();
        let bytes =
            read_bounded(entry, size, limits.max_total_bytes - total).map_err(|e| match e {
                Bounded::Io(e) => bad(format!("entry '{name}': {e}")),
                Bounded::TooBig => bad(format!(
                    "entries decompress to more than the limit of {} bytes",
                    limits.max_total_bytes
                )),
            })?;
        total += bytes.len() as u64;
        files.insert(key, bytes);
    }
    Ok(files)
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// Opens the bundle at `path`: a directory holding `bundle.json`, a zip archive, or a tar
/// archive (gzip-compressed or not) holding the bundle or a single zipped bundle. The archive
/// kind is detected from the file's first bytes, not its name.
pub fn open_bundle(path: &Path, limits: BundleLimits) -> Result<Box<dyn BundleFiles>> {
    if path.is_dir() {
        return Ok(Box::new(DirBundle::new(path)));
    }
    if is_zip(path) {
        return Ok(Box::new(ZipBundle::open(path, limits)?));
    }
    let files = read_tar(path, limits)?;
    if files.contains_key("bundle.json")
        || files.keys().any(|k| {
            k.strip_suffix("/bundle.json")
                .is_some_and(|p| !p.contains('/'))
        })
    {
        return Ok(Box::new(MemBundle {
            archive: path.to_path_buf(),
            files: strip_wrapper(files, path)?,
        }));
    }
    let mut zips: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(k, _)| k.ends_with(".zip") && !k.contains('/'))
        .collect();
    if zips.len() == 1 {
        let (name, bytes) = zips.remove(0);
        let inner = PathBuf::from(format!("{}!/{name}", path.display()));
        return Ok(Box::new(ZipBundle::from_bytes(&inner, bytes, limits)?));
    }
    Err(archive_err(
        path,
        "no bundle.json (nor a single zipped bundle) at the top of the archive: not an MLeap bundle",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_normalized_or_rejected() {
        assert_eq!(
            entry_key("./root//model.json").as_deref(),
            Some("root/model.json")
        );
        assert_eq!(entry_key("root/"), Some("root".into()));
        assert_eq!(entry_key("../evil"), None);
        assert_eq!(entry_key("root/../../evil"), None);
        assert_eq!(entry_key("/etc/passwd"), None);
        assert_eq!(entry_key("..\\evil"), None);
        assert_eq!(entry_key(""), None);
    }

    #[test]
    fn wrapper_folder_is_stripped_only_when_unique() {
        let m: HashMap<String, ()> = [("m/bundle.json", ()), ("m/root/model.json", ())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let s = strip_wrapper(m, Path::new("x.zip")).unwrap();
        assert!(s.contains_key("bundle.json") && s.contains_key("root/model.json"));
        let two: HashMap<String, ()> = [("a/bundle.json", ()), ("b/bundle.json", ())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert!(strip_wrapper(two, Path::new("x.zip")).is_err());
    }
}
