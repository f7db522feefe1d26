//! Text derived from each file of a cached snapshot, rendered once and kept with it.
//!
//! A query of a 50,000-file table spends most of its time turning each file into its answer
//! line (path, partition values, statistics, id). All of that but the signed URL and its expiry
//! is the same on every request for the same snapshot, so a cached snapshot keeps it, rendered
//! by whoever asked for it (`sharing` renders protocol lines; this module does not know their
//! shape). Each kind of rendering is built once, then counted in the cache's budget.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::FileAction;

/// For every file of a snapshot, in its position order: the path as in the log and a rendered
/// fragment.
pub struct FileTexts {
    paths: String,
    fragments: Vec<u8>,
    /// Per file: where its path and its fragment end (each starts where the previous one ended).
    ends: Vec<(usize, usize)>,
}

impl FileTexts {
    /// Renders `files` (every file of the snapshot, in position order).
    pub fn render(files: impl Iterator<Item = FileAction>, mut render: impl FnMut(&FileAction, &mut Vec<u8>)) -> Self {
        let (mut paths, mut fragments, mut ends) = (String::new(), Vec::new(), Vec::new());
        for file in files {
            paths.push_str(&file.path);
            render(&file, &mut fragments);
            ends.push((paths.len(), fragments.len()));
        }
        paths.shrink_to_fit();
        fragments.shrink_to_fit();
        ends.shrink_to_fit();
        Self { paths, fragments, ends }
    }

    /// The path and the fragment of the file at `position`.
    pub fn get(&self, position: u32) -> Option<(&str, &[u8])> {
        let i = position as usize;
        let (path_end, fragment_end) = *self.ends.get(i)?;
        let (path_start, fragment_start) = if i == 0 { (0, 0) } else { self.ends[i - 1] };
        Some((&self.paths[path_start..path_end], &self.fragments[fragment_start..fragment_end]))
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Memory held, for the cache's budget.
    pub fn bytes(&self) -> usize {
        self.paths.capacity() + self.fragments.capacity() + self.ends.capacity() * std::mem::size_of::<(usize, usize)>()
    }
}

/// The renderings of one cached snapshot, by kind.
#[derive(Default)]
pub(super) struct Renderings {
    kinds: Mutex<HashMap<&'static str, Arc<Rendering>>>,
}

/// One kind of rendering: done once, by whoever claims it first.
#[derive(Default)]
pub(super) struct Rendering {
    pub(super) texts: OnceLock<Arc<FileTexts>>,
    claimed: AtomicBool,
}

impl Rendering {
    /// `true` for the one caller that is to render (until it [`release`](Self::release)s).
    pub(super) fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    /// Lets another caller render (this one failed).
    pub(super) fn release(&self) {
        self.claimed.store(false, Ordering::Release);
    }
}

impl Renderings {
    /// The rendering of one kind, shared by every request for the snapshot.
    pub(super) fn of(&self, kind: &'static str) -> Arc<Rendering> {
        self.kinds.lock().unwrap_or_else(|p| p.into_inner()).entry(kind).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileAction {
        FileAction {
            path: path.into(),
            size: path.len() as i64,
            partition_values: HashMap::new(),
            stats: None,
            deleted_rows: 0,
            raw: serde_json::Value::Null,
        }
    }

    #[test]
    fn each_file_keeps_its_path_and_fragment() {
        let texts = FileTexts::render(["a.parquet", "", "d=1/ü.parquet"].into_iter().map(file), |f, out| {
            out.extend_from_slice(format!(",size={}", f.size).as_bytes());
        });
        assert_eq!(texts.len(), 3);
        assert_eq!(texts.get(0), Some(("a.parquet", &b",size=9"[..])));
        assert_eq!(texts.get(1), Some(("", &b",size=0"[..])));
        assert_eq!(texts.get(2), Some(("d=1/ü.parquet", &b",size=14"[..])));
        assert_eq!(texts.get(3), None);
        assert!(texts.bytes() >= "a.parquet,size=9,size=0d=1/ü.parquet,size=14".len());
    }
}
