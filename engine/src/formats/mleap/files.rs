//! Access to the files of a bundle, wherever they are stored: an exploded directory, a `.zip`
//! (MLeap's own packaging), or a `.tar.gz` / `.tar` (SageMaker's `model.tar.gz`). Archives are
//! read in place; nothing is extracted to disk.
//!
//! A bundle is untrusted input. Entry names that are absolute or climb out with `..`
//! (zip-slip) are rejected, as are symlinks, hard links and device entries; the number of
//! entries, the bytes decompressed and the size of each model file are bounded by
//! [`BundleLimits`], counted while decompressing (and checked against the sizes an archive
//! declares before reading), so a zip or tar bomb fails fast with an error instead of filling
//! memory. In an exploded directory, files must be regular files, and symlinks are followed
//! only when they resolve inside the bundle directory (see `formats::local`).

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ember_udfs::shown::Shown;
use serde_json::Value as Json;

use crate::error::{EmberError, Result};
use crate::formats::local::{Limited, ModelDir, file_limit_message, size_text};

/// Read access to the files of a bundle by their path inside it (`root/model.json`).
pub trait BundleFiles: std::fmt::Debug + Send + Sync {
    /// The bytes of the file at `path`.
    fn read(&self, path: &str) -> Result<Vec<u8>>;

    /// The JSON document at `path`. Implementations stream it from the archive where they can,
    /// so the raw bytes and the parsed document are not both held.
    fn read_json(&self, path: &str) -> Result<Json> {
        let bytes = self.read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| invalid_json(self.describe(path), &e))
    }

    /// A description of `path` for error messages.
    fn describe(&self, path: &str) -> PathBuf;
}

fn invalid_json(path: PathBuf, e: &serde_json::Error) -> EmberError {
    EmberError::format(
        path,
        format!(
            "invalid JSON: {}",
            ember_udfs::shown::shown_message(&e.to_string())
        ),
    )
}

/// Bounds on what reading a model may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Entries an archive may hold.
    pub max_entries: usize,
    /// Bytes all entries of an archive together may decompress to (`--max-bundle-mb`).
    pub max_total_bytes: u64,
    /// Bytes one model file may hold (`--max-model-file-mb`): an MLeap bundle's `bundle.json`,
    /// `node.*`, `model.*` and `tree.*` files, and a Spark directory's `metadata/part-*` files.
    pub max_file_bytes: u64,
}

/// The default `max_file_bytes` in MiB.
pub const DEFAULT_MAX_FILE_MB: u64 = 256;

/// The default `max_total_bytes` in MiB.
pub const DEFAULT_MAX_BUNDLE_MB: u64 = 2048;

impl Default for BundleLimits {
    /// 100 000 entries, 2 GiB decompressed, 256 MiB per model file: far above real bundles (the
    /// largest public fixture, a 262 144-feature naive Bayes, has a 31 MiB `model.json` and
    /// unpacks to 36 MiB), far below what would exhaust a serving host.
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_total_bytes: DEFAULT_MAX_BUNDLE_MB << 20,
            max_file_bytes: DEFAULT_MAX_FILE_MB << 20,
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

    /// These limits with the per-file bound given in MiB.
    pub fn with_max_file_mb(self, mb: u64) -> Self {
        Self {
            max_file_bytes: mb.saturating_mul(1 << 20),
            ..self
        }
    }
}

fn total_limit_message(limit: u64) -> String {
    format!(
        "entries decompress to more than the bundle limit of {} (--max-bundle-mb; a zip bomb?)",
        size_text(limit)
    )
}

/// A bundle exploded in a directory. Its files must be regular files; symlinks are followed
/// only when they resolve inside the directory.
#[derive(Debug, Clone)]
pub struct DirBundle {
    root: PathBuf,
    limits: BundleLimits,
}

impl DirBundle {
    /// The bundle in `root` (which holds `bundle.json`), with the default limits.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_limits(root, BundleLimits::default())
    }

    /// The bundle in `root`, each file bounded by `limits.max_file_bytes`.
    pub fn with_limits(root: impl Into<PathBuf>, limits: BundleLimits) -> Self {
        Self {
            root: root.into(),
            limits,
        }
    }

    fn full(&self, path: &str) -> Result<(ModelDir, PathBuf)> {
        let rel = safe_relative(path)
            .ok_or_else(|| EmberError::format(self.root.join(path), "path escapes the bundle"))?;
        Ok((ModelDir::new(&self.root)?, self.root.join(rel)))
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
        let (dir, full) = self.full(path)?;
        dir.read(&full, self.limits.max_file_bytes)
    }

    fn read_json(&self, path: &str) -> Result<Json> {
        let (dir, full) = self.full(path)?;
        let limit = self.limits.max_file_bytes;
        let (mut reader, _) = dir.open_limited(&full, limit)?;
        parse_limited(&mut reader, || full.clone(), limit, file_limit_message)
    }

    fn describe(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}

/// Parses the JSON document coming through `reader`; going past its limit is the error
/// `over(limit)`, not a JSON syntax error.
fn parse_limited<R: Read>(
    reader: &mut Limited<R>,
    path: impl Fn() -> PathBuf,
    limit: u64,
    over: fn(u64) -> String,
) -> Result<Json> {
    // serde_json reads byte by byte: buffer the reader (a Limited over a file is buffered
    // already, but a zip entry is not)
    let mut buffered = BufReader::with_capacity(1 << 16, &mut *reader);
    let parsed = serde_json::from_reader(&mut buffered);
    drop(buffered);
    parsed.map_err(|e| {
        if reader.over() {
            EmberError::format(path(), over(limit))
        } else {
            invalid_json(path(), &e)
        }
    })
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
                    total_limit_message(limits.max_total_bytes),
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

impl ZipBundle {
    /// Runs `f` on the entry at `path`, read through a [`Limited`] reader bounded by the
    /// per-file limit and what is left of the bundle limit; `f` gets the entry's declared size
    /// and the message for going past the bound. Bytes read count against the bundle limit.
    fn with_entry<T>(
        &self,
        path: &str,
        f: impl FnOnce(&mut Limited<&mut dyn Read>, u64, u64, fn(u64) -> String) -> Result<T>,
    ) -> Result<T> {
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
        let mut entry = zip
            .by_index(index)
            .map_err(|e| EmberError::format(self.describe(path), format!("unreadable: {e}")))?;
        let left = self
            .limits
            .max_total_bytes
            .saturating_sub(self.read_so_far.load(Ordering::Relaxed));
        let (limit, over): (u64, fn(u64) -> String) = if self.limits.max_file_bytes <= left {
            (self.limits.max_file_bytes, file_limit_message)
        } else {
            (self.limits.max_total_bytes, total_limit_message)
        };
        let bound = limit.min(left);
        let declared = entry.size();
        // the declared size is only a claim (a bomb may understate it), but one over the bound
        // is refused before anything is decompressed
        if declared > bound {
            return Err(EmberError::format(self.describe(path), over(limit)));
        }
        let mut reader = Limited::new(&mut entry as &mut dyn Read, bound);
        let out = f(&mut reader, declared, limit, over);
        self.read_so_far
            .fetch_add(reader.bytes_read(), Ordering::Relaxed);
        out
    }
}

impl BundleFiles for ZipBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.with_entry(path, |reader, declared, limit, over| {
            let mut out = Vec::with_capacity(declared.min(64 << 20) as usize);
            match reader.read_to_end(&mut out) {
                Ok(_) => Ok(out),
                Err(_) if reader.over() => {
                    Err(EmberError::format(self.describe(path), over(limit)))
                }
                Err(e) => Err(EmberError::format(
                    self.describe(path),
                    format!("unreadable: {e}"),
                )),
            }
        })
    }

    fn read_json(&self, path: &str) -> Result<Json> {
        self.with_entry(path, |reader, _, limit, over| {
            parse_limited(reader, || self.describe(path), limit, over)
        })
    }

    fn describe(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}!/{path}", self.archive.display()))
    }
}

/// A bundle read from a tar archive (optionally gzip-compressed) into memory.
pub struct MemBundle {
    archive: PathBuf,
    files: HashMap<String, Vec<u8>>,
    limits: BundleLimits,
}

impl fmt::Debug for MemBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemBundle")
            .field("archive", &self.archive)
            .field("files", &self.files.len())
            .finish()
    }
}

impl MemBundle {
    fn get(&self, path: &str) -> Result<&[u8]> {
        let key = entry_key(path)
            .ok_or_else(|| EmberError::format(self.describe(path), "path escapes the bundle"))?;
        let bytes = self
            .files
            .get(&key)
            .ok_or_else(|| EmberError::format(self.describe(path), "no such file in the bundle"))?;
        if bytes.len() as u64 > self.limits.max_file_bytes {
            return Err(EmberError::format(
                self.describe(path),
                file_limit_message(self.limits.max_file_bytes),
            ));
        }
        Ok(bytes)
    }
}

impl BundleFiles for MemBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.get(path).map(<[u8]>::to_vec)
    }

    fn read_json(&self, path: &str) -> Result<Json> {
        serde_json::from_slice(self.get(path)?).map_err(|e| invalid_json(self.describe(path), &e))
    }

    fn describe(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("{}!/{path}", self.archive.display()))
    }
}

/// The names of the files bundle readers read (`bundle.json` and each node's files); each is
/// bounded by [`BundleLimits::max_file_bytes`].
fn is_model_file(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    matches!(
        name,
        "bundle.json"
            | "node.json"
            | "node.pb"
            | "model.json"
            | "model.pb"
            | "tree.json"
            | "tree.pb"
    )
}

/// GNU long names and pax headers are read into memory: at most this many bytes each.
const TAR_META_MAX: u64 = 64 << 10;

/// Reads every regular file of a tar archive (gzip-compressed or not) into memory, within the
/// limits; links, devices and unsafe names are errors.
///
/// Entries are streamed: each entry's declared size (which in tar is exact: the reader takes
/// that many bytes and no more) is checked against the limits before the entry is read, so a
/// bomb is refused after decompressing only its headers. GNU long-name and pax records are
/// handled here (the `tar` crate would read them whole, whatever their size), each bounded by
/// 64 KiB.
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
        .map_err(|e| bad(format!("not a readable tar archive: {e}")))?
        .raw(true);
    // a GNU long name or a pax header describes the entry after it
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax: Option<Vec<u8>> = None;
    for (n, entry) in entries.enumerate() {
        if n >= limits.max_entries {
            return Err(bad(format!(
                "more entries than the limit of {}",
                limits.max_entries
            )));
        }
        let mut entry = entry.map_err(|e| bad(format!("entry {n}: {e}")))?;
        let kind = entry.header().entry_type();
        let size = entry.size();
        let meta = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        if meta {
            if size > TAR_META_MAX {
                return Err(bad(format!(
                    "entry {n}: a {size}-byte {kind:?} header, over the limit of {TAR_META_MAX} bytes"
                )));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            Limited::new(&mut entry, TAR_META_MAX)
                .read_to_end(&mut bytes)
                .map_err(|e| bad(format!("entry {n}: {e}")))?;
            if kind.is_gnu_longname() {
                while bytes.last() == Some(&0) {
                    bytes.pop();
                }
                long_name = Some(bytes);
            } else if kind.is_pax_local_extensions() {
                pax = Some(bytes);
            }
            continue;
        }
        let mut name_bytes = entry.path_bytes().into_owned();
        if let Some(long) = long_name.take() {
            name_bytes = long;
        }
        if let Some(pax) = pax.take() {
            for ext in tar::PaxExtensions::new(&pax) {
                let ext = ext.map_err(|e| bad(format!("entry {n}: bad pax header: {e}")))?;
                match ext.key_bytes() {
                    b"path" => name_bytes = ext.value_bytes().to_vec(),
                    b"size" => {
                        let declared = ext.value().ok().and_then(|v| v.parse::<u64>().ok());
                        if declared != Some(size) {
                            return Err(bad(format!(
                                "entry {n}: its pax header declares a size of {} bytes \
                                 (over the limits, or a damaged archive)",
                                Shown(&String::from_utf8_lossy(ext.value_bytes()))
                            )));
                        }
                    }
                    _ => {}
                }
            }
        }
        let name = String::from_utf8_lossy(&name_bytes).into_owned();
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(bad(format!(
                "entry '{}' is a link; bundles may not hold links",
                Shown(&name)
            )));
        }
        if !kind.is_file() {
            return Err(bad(format!(
                "entry '{}' is not a regular file ({kind:?})",
                Shown(&name)
            )));
        }
        let key = entry_key(&name).ok_or_else(|| {
            bad(format!(
                "entry '{}' is an absolute path or escapes the bundle",
                Shown(&name)
            ))
        })?;
        if size > limits.max_total_bytes.saturating_sub(total) {
            return Err(bad(format!(
                "entry '{}' ({size} bytes): {}",
                Shown(&name),
                total_limit_message(limits.max_total_bytes)
            )));
        }
        if is_model_file(&key) && size > limits.max_file_bytes {
            return Err(bad(format!(
                "entry '{}' ({size} bytes) is {}",
                Shown(&name),
                file_limit_message(limits.max_file_bytes)
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        let mut limited = Limited::new(&mut entry, size);
        limited
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("entry '{}': {e}", Shown(&name))))?;
        total += bytes.len() as u64;
        files.insert(key, bytes);
    }
    if long_name.is_some() || pax.is_some() {
        return Err(bad(
            "a long-name or pax header with no entry after it: a damaged archive".into(),
        ));
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
        return Ok(Box::new(DirBundle::with_limits(path, limits)));
    }
    // an archive must be a regular file: opening a FIFO would block, a device never ends
    let meta = std::fs::metadata(path).map_err(|source| EmberError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(archive_err(
            path,
            format!(
                "is {}, not a regular file",
                crate::formats::file_kind_name(&meta.file_type())
            ),
        ));
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
            limits,
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
