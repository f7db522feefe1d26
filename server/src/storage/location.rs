//! Table locations: a local directory or an object-store URL.

use std::path::Path;

use url::Url;

use crate::error::{PortalError, Result};

/// Turns what an admin typed into a URL deltalake can open. Local paths must exist.
pub fn table_url(location: &str) -> Result<Url> {
    if let Ok(url) = Url::parse(location) {
        if url.scheme().len() > 1 {
            return Ok(url);
        }
    }
    let path = Path::new(location);
    let abs = path
        .canonicalize()
        .map_err(|_| PortalError::InvalidParameter(format!("`{location}` is not a Delta table: the directory does not exist")))?;
    if !abs.is_dir() {
        return Err(PortalError::InvalidParameter(format!("`{location}` is not a Delta table: it is not a directory")));
    }
    Url::from_directory_path(&abs).map_err(|_| PortalError::InvalidParameter(format!("`{location}` is not a usable path")))
}

/// The local directory of a `file://` table, if it is one.
pub fn local_dir(url: &Url) -> Option<std::path::PathBuf> {
    (url.scheme() == "file").then(|| url.to_file_path().ok()).flatten()
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
    fn missing_paths_are_refused_and_urls_kept() {
        let err = table_url("/definitely/not/here").unwrap_err();
        assert!(err.to_string().contains("is not a Delta table"));
        assert_eq!(table_url("s3://bucket/sales").unwrap().as_str(), "s3://bucket/sales");
    }
}
