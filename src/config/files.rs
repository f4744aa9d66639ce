//! The files a config names, read before it is checked (I/O here, so that checking stays
//! pure): the schedule and its companions, and the photos, inspected as they are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::media::{self, Inspected};

/// The files a config names, read before it is checked: each file's bytes, or why it could not
/// be read; and each image file's format and size, or why it cannot be posted (images are
/// inspected as they are read and their bytes let go, so a config naming many photos does not
/// hold them all in memory).
#[derive(Debug, Default)]
pub struct Files {
    read: BTreeMap<PathBuf, Result<Vec<u8>, String>>,
    images: BTreeMap<PathBuf, Result<Inspected, String>>,
}

impl Files {
    /// Reads each file (once).
    pub fn read(paths: impl IntoIterator<Item = PathBuf>) -> Files {
        let mut files = Files::default();
        for path in paths {
            files.read.entry(path).or_insert_with_key(|p| std::fs::read(p).map_err(|e| e.to_string()));
        }
        files
    }

    /// Gives `path` these bytes, whatever was read for it.
    pub fn insert(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.read.insert(path, Ok(bytes));
    }

    /// Files given in memory (tests). Image files among them are inspected when asked for.
    pub fn from_memory(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> Files {
        Files { read: files.into_iter().map(|(p, b)| (p, Ok(b))).collect(), images: BTreeMap::new() }
    }

    /// Reads each image file (once), at most `cap` bytes, and keeps what [`media::inspect`]
    /// finds in it (or why it cannot be posted), not its bytes.
    pub fn read_images(&mut self, paths: impl IntoIterator<Item = PathBuf>, cap: u64) {
        for path in paths {
            self.images.entry(path).or_insert_with_key(|p| {
                let bytes = media::read(p, cap).map_err(|e| e.reason.to_string())?;
                media::inspect(&bytes).map_err(|e| e.to_string())
            });
        }
    }

    /// An image file's format and upright size, or why it cannot be posted.
    pub(super) fn image(&self, path: &Path) -> Result<Inspected, String> {
        if let Some(found) = self.images.get(path) {
            return found.clone();
        }
        match self.read.get(path) {
            Some(Ok(bytes)) => media::inspect(bytes).map_err(|e| e.to_string()),
            Some(Err(e)) => Err(format!("cannot read it: {e}")),
            None => Err("it was not read before the config was checked".into()),
        }
    }

    pub(super) fn get(&self, path: &Path) -> Result<&[u8], String> {
        match self.read.get(path) {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(e)) => Err(format!("cannot read {}: {e}", path.display())),
            None => Err(format!("cannot read {}: it was not read before the config was checked", path.display())),
        }
    }

    /// The paths read, in order (image files after the others).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.read.keys().chain(self.images.keys()).map(PathBuf::as_path)
    }

    /// The bytes of a file read (not an image's: those are let go once inspected).
    pub(super) fn bytes(&self, path: &Path) -> Option<&[u8]> {
        self.read.get(path).and_then(|r| r.as_deref().ok())
    }

    /// Feeds every file's path and bytes (or its error) to `hash`.
    pub(super) fn digest(&self, hash: &mut sha2::Sha256) {
        use sha2::Digest;
        for (path, bytes) in &self.read {
            hash.update(path.to_string_lossy().as_bytes());
            hash.update([0]);
            match bytes {
                Ok(b) => hash.update(b),
                Err(e) => hash.update(e.as_bytes()),
            }
            hash.update([0]);
        }
    }
}
