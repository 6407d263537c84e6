//! Access to the files of a bundle, wherever they are stored.

use std::path::{Component, Path, PathBuf};

use crate::error::{EmberError, Result};

/// Read access to the files of a bundle by their path inside it (`root/model.json`).
pub trait BundleFiles: std::fmt::Debug + Send + Sync {
    /// The bytes of the file at `path`.
    fn read(&self, path: &str) -> Result<Vec<u8>>;
    /// A description of `path` for error messages.
    fn describe(&self, path: &str) -> PathBuf;
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

impl BundleFiles for DirBundle {
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let rel = safe_relative(path)
            .ok_or_else(|| EmberError::format(self.root.join(path), "path escapes the bundle"))?;
        let full = self.root.join(rel);
        std::fs::read(&full).map_err(|source| EmberError::Io { path: full, source })
    }

    fn describe(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}
