//! Table locations: a local directory or an object-store URL, and [`Place`], the normalised
//! form external locations are compared in.

use std::path::{Component, Path, PathBuf};

use url::Url;

use crate::error::{PortalError, Result};

/// The URL schemes of object stores the portal reads (see [`Place::parse`] for their families).
pub const STORE_SCHEMES: [&str; 8] = ["s3", "s3a", "az", "azure", "adl", "abfs", "abfss", "gs"];

/// Turns what an admin typed into a URL deltalake can open: a local directory (which must
/// exist) or an object-store URL in its normalised spelling (`s3a://` read as `s3://`, no dot
/// segments). Whether the store has a table there is for the caller to find out.
pub fn table_url(location: &str) -> Result<Url> {
    match url_scheme(location) {
        Some(scheme) if scheme == "file" => Err(file_url_refused(location)),
        Some(_) => {
            let place = Place::parse(location)?;
            Url::parse(&format!("{}/", place.to_text()))
                .map_err(|e| PortalError::InvalidParameter(format!("`{location}` is not a usable location: {e}")))
        }
        None => {
            let path = Path::new(location);
            let abs = path
                .canonicalize()
                .map_err(|_| PortalError::NotATable(format!("`{location}` is not a Delta table: the directory does not exist")))?;
            if !abs.is_dir() {
                return Err(PortalError::NotATable(format!("`{location}` is not a Delta table: it is not a directory")));
            }
            Url::from_directory_path(&abs).map_err(|_| PortalError::InvalidParameter(format!("`{location}` is not a usable path")))
        }
    }
}

/// The text a table's location is stored as: local paths absolute and canonical, store URLs
/// normalised. Unreadable input is kept as typed (the caller has already refused it).
pub fn stored_text(location: &str) -> String {
    match table_url(location) {
        Ok(url) => match local_dir(&url) {
            Some(dir) => dir.to_string_lossy().into_owned(),
            None => url.as_str().trim_end_matches('/').to_string(),
        },
        Err(_) => location.to_string(),
    }
}

/// The local directory of a `file://` table URL, if it is one.
pub fn local_dir(url: &Url) -> Option<PathBuf> {
    (url.scheme() == "file").then(|| url.to_file_path().ok()).flatten()
}

/// The scheme of a URL-looking location (lower case); `None` for a local path. One-letter
/// "schemes" are Windows drive letters: a path.
fn url_scheme(location: &str) -> Option<String> {
    Url::parse(location).ok().map(|u| u.scheme().to_string()).filter(|s| s.len() > 1)
}

fn file_url_refused(location: &str) -> PortalError {
    PortalError::InvalidParameter(format!(
        "`{location}`: write a local directory as a path (such as /data/lake/sales), not as a file:// URL"
    ))
}

/// A location normalised for prefix comparisons, without touching any disk or store:
/// local paths absolute with `.` and `..` resolved by their text and no repeated separators;
/// object-store URLs as scheme family, bucket (container, account) and key segments, with
/// percent-escapes decoded. `/data/lake-south` is not under `/data/lake`: comparisons are by
/// whole segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Local(PathBuf),
    Store { scheme: &'static str, authority: String, segments: Vec<String> },
}

impl Place {
    /// Reads a typed location. Refuses `file://` URLs (write a path), unknown schemes, URLs
    /// without a bucket, and keys with `.`/`..` or empty segments in any spelling.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PortalError::InvalidParameter("the location is empty".into()));
        }
        if text.contains('\0') {
            return Err(PortalError::InvalidParameter("the location contains a NUL character".into()));
        }
        match url_scheme(text) {
            None => Ok(Self::Local(lexical_absolute(Path::new(text))?)),
            Some(scheme) if scheme == "file" => Err(file_url_refused(text)),
            Some(_) => Self::parse_url(text),
        }
    }

    fn parse_url(text: &str) -> Result<Self> {
        let bad = |why: &str| PortalError::InvalidParameter(format!("`{text}` is not a usable location: {why}"));
        // Dot segments are judged on the raw text: URL parsing would quietly resolve them
        // (`%2e%2e` included) to another prefix.
        let raw_path = text.split_once("://").map_or("", |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
        let raw_path = raw_path.split(['?', '#']).next().unwrap_or_default();
        for segment in raw_path.split('/') {
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            if decoded == "." || decoded == ".." || decoded.contains('/') || decoded.contains('\\') {
                return Err(bad("it may not contain `.` or `..` segments or encoded slashes"));
            }
        }
        let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        let scheme = match url.scheme() {
            "s3" | "s3a" => "s3",
            "gs" => "gs",
            "az" | "azure" | "adl" => "az",
            "abfs" | "abfss" => "abfss",
            other => return Err(bad(&format!("{other}:// is not a storage scheme the portal knows (s3, s3a, az, abfs, abfss, gs)"))),
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it may not have a query or a fragment"));
        }
        let host = url.host_str().unwrap_or_default();
        if host.is_empty() {
            return Err(bad("it names no bucket or container"));
        }
        let authority = match url.username() {
            "" => host.to_ascii_lowercase(),
            user => format!("{user}@{}", host.to_ascii_lowercase()),
        };
        let mut segments: Vec<String> = Vec::new();
        let parts: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                // A trailing slash ends a prefix; an empty segment inside a key is refused.
                if i + 1 == parts.len() {
                    continue;
                }
                return Err(bad("it has an empty path segment (`//`)"));
            }
            segments
                .push(percent_encoding::percent_decode_str(part).decode_utf8().map_err(|_| bad("a segment is not UTF-8"))?.into_owned());
        }
        Ok(Self::Store { scheme, authority, segments })
    }

    /// Whether `other` is this place or lies under it (whole segments).
    pub fn contains(&self, other: &Place) -> bool {
        match (self, other) {
            (Self::Local(root), Self::Local(path)) => path.starts_with(root),
            (Self::Store { scheme: a, authority: b, segments: c }, Self::Store { scheme: x, authority: y, segments: z }) => {
                a == x && b == y && z.starts_with(c)
            }
            _ => false,
        }
    }

    /// Whether one of the two contains the other.
    pub fn overlaps(&self, other: &Place) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// A local place with symbolic links resolved: the deepest part that exists is made
    /// canonical, the rest appended as typed. Object-store places are as they are.
    pub fn resolved(&self) -> Place {
        match self {
            Self::Local(path) => Self::Local(resolve_existing_prefix(path)),
            other => other.clone(),
        }
    }

    /// The text the catalog stores: a local directory, or `scheme://authority/segments`.
    pub fn to_text(&self) -> String {
        match self {
            Self::Local(path) => path.to_string_lossy().into_owned(),
            Self::Store { scheme, authority, segments } => {
                let mut out = format!("{scheme}://{authority}");
                for s in segments {
                    out.push('/');
                    out.push_str(&percent_encoding::utf8_percent_encode(s, SEGMENT).to_string());
                }
                out
            }
        }
    }
}

/// What a key segment keeps escaped when written back as a URL.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'%').add(b'/').add(b'?').add(b'#').add(b'"').add(b'<').add(b'>');

/// `path` made absolute (against the working directory) with `.` and `..` resolved by text.
fn lexical_absolute(path: &Path) -> Result<PathBuf> {
    let absolute =
        std::path::absolute(path).map_err(|e| PortalError::InvalidParameter(format!("`{}` is not a usable path: {e}", path.display())))?;
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
        }
    }
    Ok(out)
}

fn resolve_existing_prefix(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut existing = path.to_path_buf();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest.iter().rev().fold(canonical, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_become_directory_urls() {
        let dir = tempfile::tempdir().unwrap();
        let url = table_url(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(url.scheme(), "file");
        assert!(url.path().ends_with('/'));
        assert_eq!(local_dir(&url).unwrap(), dir.path().canonicalize().unwrap());
    }

    #[test]
    fn missing_paths_and_file_urls_are_refused_clearly_and_store_urls_normalised() {
        let err = table_url("/definitely/not/here").unwrap_err();
        assert!(err.to_string().contains("is not a Delta table"));
        assert_eq!(table_url("s3a://Bucket/sales/").unwrap().as_str(), "s3://bucket/sales/");
        assert_eq!(stored_text("s3a://Bucket/sales/"), "s3://bucket/sales");
        assert!(table_url("s3://bucket/a/../b").is_err());
        let dir = tempfile::tempdir().unwrap();
        let file_url = Url::from_directory_path(dir.path()).unwrap();
        let refused = table_url(file_url.as_str()).unwrap_err();
        assert_eq!(refused.status(), 400);
        assert!(refused.to_string().contains("not as a file:// URL"), "{refused}");
        assert!(Place::parse(file_url.as_str()).is_err());
    }

    fn local(text: &str) -> Place {
        Place::parse(text).unwrap()
    }

    #[test]
    fn local_prefixes_compare_whole_segments_after_dot_segments() {
        let lake = local("/data/lake");
        assert!(lake.contains(&local("/data/lake")));
        assert!(lake.contains(&local("/data/lake/sales")));
        assert!(lake.contains(&local("/data/lake//sales/./2026/")));
        assert!(!lake.contains(&local("/data/lake-south/sales")), "a sibling with a longer name is not inside");
        assert!(!lake.contains(&local("/data/lake/../lake-south/sales")));
        assert!(!lake.contains(&local("/data/lake/sales/../../secret")));
        assert!(!lake.contains(&local("/data")));
        // `%2e%2e` is a directory named so on a disk, not a way up.
        assert_eq!(local("/data/lake/%2e%2e/x"), Place::Local(PathBuf::from("/data/lake/%2e%2e/x")));
        assert!(local("/data").overlaps(&lake) && lake.overlaps(&local("/data")));
        assert!(!lake.overlaps(&local("/data/lake2")));
    }

    #[test]
    fn symbolic_links_are_followed_where_they_exist() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("south")).unwrap();
        std::fs::create_dir_all(root.join("north/sales")).unwrap();
        std::os::unix::fs::symlink(root.join("north"), root.join("south/escape")).unwrap();
        let typed = local(root.join("south/escape/sales").to_str().unwrap());
        let south = local(root.join("south").to_str().unwrap());
        assert!(south.contains(&typed), "by its text the path is inside");
        assert!(!south.contains(&typed.resolved()), "by the disk it is not");
        assert_eq!(local(root.join("south/new/table").to_str().unwrap()).resolved(), Place::Local(root.join("south/new/table")));
    }

    #[test]
    fn store_prefixes_are_normalised() {
        let lake = Place::parse("s3://Lake/retail/").unwrap();
        assert_eq!(lake.to_text(), "s3://lake/retail");
        assert!(lake.contains(&Place::parse("s3a://lake/retail/sales").unwrap()), "s3a is s3");
        assert!(!lake.contains(&Place::parse("s3://lake/retail-south/sales").unwrap()));
        assert!(!lake.contains(&Place::parse("s3://other/retail/sales").unwrap()));
        assert!(!lake.contains(&Place::parse("gs://lake/retail/sales").unwrap()));
        assert!(lake.contains(&Place::parse("s3://lake/retail/a%20b").unwrap()));
        assert_eq!(Place::parse("s3://lake/retail/a%20b").unwrap().to_text(), "s3://lake/retail/a%20b");
        for bad in [
            "s3://lake/retail/../x",
            "s3://lake/retail/%2e%2e/x",
            "s3://lake/retail/%2E%2e",
            "s3://lake/a/./b",
            "s3://lake/a%2Fb",
            "s3://lake/a//b",
            "s3:///nobucket",
            "ftp://h/x",
            "s3://lake/x?y=1",
        ] {
            assert!(Place::parse(bad).is_err(), "{bad} is refused");
        }
        let abfss = Place::parse("abfss://Container@acct.dfs.core.windows.net/lake").unwrap();
        assert!(abfss.contains(&Place::parse("abfs://Container@acct.dfs.core.windows.net/lake/t").unwrap()));
        assert!(!abfss.contains(&Place::parse("abfss://other@acct.dfs.core.windows.net/lake/t").unwrap()));
    }
}
