//! Table locations: a local directory or an object-store URL.

use std::path::Path;

use url::Url;

use crate::error::{PortalError, Result};

/// Turns what an admin typed into a URL deltalake can open. Local paths must exist.
/// Object-store URLs are refused until their signers (S3 SigV4, Azure SAS, GCS V4) are wired in:
/// serving them without signed URLs would hand partners nothing they could download.
pub fn table_url(location: &str) -> Result<Url> {
    if let Ok(url) = Url::parse(location) {
        match url.scheme() {
            "file" => return Ok(url),
            // One-letter "schemes" are Windows drive letters: a local path.
            s if s.len() > 1 => {
                return Err(PortalError::InvalidParameter(format!(
                    "`{location}`: {s}:// tables are not served yet; this version shares local Delta tables only"
                )))
            }
            _ => {}
        }
    }
    let path = Path::new(location);
    let abs = path
        .canonicalize()
        .map_err(|_| PortalError::NotATable(format!("`{location}` is not a Delta table: the directory does not exist")))?;
    if !abs.is_dir() {
        return Err(PortalError::NotATable(format!("`{location}` is not a Delta table: it is not a directory")));
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
        let s3 = table_url("s3://bucket/sales").unwrap_err().to_string();
        assert!(s3.contains("s3:// tables are not served yet"), "{s3}");
        let dir = tempfile::tempdir().unwrap();
        let file_url = Url::from_directory_path(dir.path()).unwrap();
        assert_eq!(table_url(file_url.as_str()).unwrap(), file_url);
    }
}
