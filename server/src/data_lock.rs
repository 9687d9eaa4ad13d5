//! One server per data directory: two processes writing the same SQLite file and uploads
//! folder would each believe their own view (display ids, uploads being cleaned at start),
//! so the second one refuses to start. The lock is an OS advisory lock (`flock`) on a file
//! in the directory, released by the kernel when the holder exits, even by a crash: no
//! stale lock to clean up by hand.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::StartError;

pub const LOCK_FILE: &str = "parley.lock";

/// Holds the data directory for as long as it lives.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

pub fn lock(data_dir: &Path) -> Result<DataDirLock, StartError> {
    let path: PathBuf = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StartError::DataDir {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(StartError::DataDirInUse {
            path: data_dir.to_owned(),
        }),
        Err(TryLockError::Error(source)) => Err(StartError::DataDir { path, source }),
    }
}
