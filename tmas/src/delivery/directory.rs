//! Delivery to a local directory.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncWriteExt, BufWriter};

use super::{Deliver, Delivered, DeliveryError, ImportFile, TEMP_SUFFIX, check_name};
use crate::error::WriteError;

/// Writes files into a local directory: under a hidden temporary name, flushed to disk, then
/// renamed, so a reader of the directory only ever sees complete files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryTarget {
    dir: PathBuf,
}

impl DirectoryTarget {
    /// A target writing into `dir` (which must exist).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn io(operation: String) -> impl FnOnce(std::io::Error) -> DeliveryError {
    move |source| DeliveryError::Io { operation, source }
}

#[async_trait::async_trait]
impl Deliver for DirectoryTarget {
    async fn deliver(&self, name: &str, file: &dyn ImportFile) -> Result<Delivered, DeliveryError> {
        check_name(name)?;
        let final_path = self.dir.join(name);
        let temp_path = self.dir.join(format!(".{name}{TEMP_SUFFIX}"));
        let result: Result<u64, DeliveryError> = async {
            let f = tokio::fs::File::create(&temp_path)
                .await
                .map_err(io(format!("creating {}", temp_path.display())))?;
            let mut out = BufWriter::new(f);
            let bytes = file.write_to(&mut out).await.map_err(|e| match e {
                WriteError::Io(source) => DeliveryError::Io {
                    operation: format!("writing {}", temp_path.display()),
                    source,
                },
                other => DeliveryError::Write(other),
            })?;
            out.flush()
                .await
                .map_err(io(format!("writing {}", temp_path.display())))?;
            let f = out.into_inner();
            f.sync_all()
                .await
                .map_err(io(format!("syncing {}", temp_path.display())))?;
            drop(f);
            tokio::fs::rename(&temp_path, &final_path)
                .await
                .map_err(io(format!("renaming to {}", final_path.display())))?;
            Ok(bytes)
        }
        .await;
        match result {
            Ok(bytes) => {
                // Persist the rename itself; a failure here leaves a complete file, so it is not fatal.
                #[cfg(unix)]
                if let Ok(d) = std::fs::File::open(&self.dir) {
                    let _ = d.sync_all();
                }
                Ok(Delivered {
                    name: name.to_owned(),
                    bytes,
                    attempts: 1,
                })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp_path).await;
                Err(e)
            }
        }
    }
}
