//! Files written whole or not at all.
//!
//! [`write_atomic`] lets a writer fill a fresh, uniquely named temporary file in the
//! target's folder, syncs it to disk and renames it over the target. A reader sees
//! either the old file or the new one, never half of one; on any failure the old
//! file is untouched and the temporary is removed. Nothing else in the folder is
//! touched: the temporary's name is new for each write and created exclusively.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// At most this many symbolic links are followed to find the real target (as Linux's
/// own limit, `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;
/// At most this many names are tried for the temporary file.
const MAX_TRIES: u32 = 64;

/// The file a write to `path` should replace: `path` itself, or, when it is a
/// symbolic link (even one whose target does not exist yet), the file it points to,
/// so that writing keeps the link and updates its target.
fn resolve_target(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(|e| file_error(&current, e))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(Error::File {
        path: path.to_owned(),
        reason: format!("more than {MAX_LINKS} symbolic links to follow"),
    })
}

fn file_error(path: &Path, e: io::Error) -> Error {
    Error::File {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Creates an empty temporary file beside `target`, with a name no other write uses.
fn reserve_temporary(target: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_error = None;
    for _ in 0..MAX_TRIES {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".{base}.geoxr-{}-{nanos:08x}-{n}.tmp", std::process::id());
        let candidate = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(_) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(file_error(target, e)),
        }
    }
    Err(file_error(
        target,
        last_error.unwrap_or_else(|| io::Error::other("no free temporary name")),
    ))
}

/// Writes a file atomically: `write` receives the path of a new temporary file
/// beside the target (the real file when `path` is a symbolic link) and fills it;
/// the temporary is then synced, given the old file's permissions and renamed over
/// the target. When `write` fails, or syncing or renaming does, the temporary is
/// removed, the old file stays as it was and the error is returned.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("geoxr-doc-fsx-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use geoxr::base::fsx::write_atomic;
/// let target = dir.join("notes.txt");
/// write_atomic(&target, |tmp| {
///     std::fs::write(tmp, "all or nothing").map_err(|e| geoxr::Error::File {
///         path: tmp.to_owned(),
///         reason: e.to_string(),
///     })
/// })?;
/// assert_eq!(std::fs::read_to_string(&target).unwrap(), "all or nothing");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), geoxr::Error>(())
/// ```
pub fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let target = resolve_target(path)?;
    let temporary = reserve_temporary(&target)?;
    let finish = || -> Result<()> {
        write(&temporary)?;
        let file = File::open(&temporary).map_err(|e| file_error(path, e))?;
        file.sync_all().map_err(|e| file_error(path, e))?;
        if let Ok(old) = fs::metadata(&target) {
            fs::set_permissions(&temporary, old.permissions()).map_err(|e| file_error(path, e))?;
        }
        fs::rename(&temporary, &target).map_err(|e| file_error(path, e))?;
        // Make the rename itself durable; a folder that cannot be synced is no error.
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    };
    let result = finish();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// The bytes a new file beside `path` may take: the space free to this user on the
/// file system holding its folder, and at most the process's file-size limit
/// (`RLIMIT_FSIZE`). `None` when neither can be learnt.
pub fn room_for_file(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut c_dir = dir.as_os_str().as_bytes().to_vec();
    c_dir.push(0);
    // SAFETY: `c_dir` is NUL-terminated and both structs are plain data that the
    // calls fill in; their results are checked before use.
    let free = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c_dir.as_ptr().cast(), &mut st) == 0)
            .then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    };
    let limit = unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        (libc::getrlimit(libc::RLIMIT_FSIZE, &mut rl) == 0 && rl.rlim_cur != libc::RLIM_INFINITY)
            .then_some(rl.rlim_cur as u64)
    };
    match (free, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuses, before anything is written, a file of about `needed` bytes that cannot
/// fit beside `path` (see [`room_for_file`]); `what` names the file in the error.
pub fn check_room(path: &Path, what: &str, needed: u64) -> Result<()> {
    match room_for_file(path) {
        Some(room) if needed > room => Err(Error::File {
            path: path.to_owned(),
            reason: format!(
                "{what} needs about {} on disk but only {} can be written there                  (free space or file-size limit); nothing was written",
                crate::base::bytes::human(needed),
                crate::base::bytes::human(room)
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("geoxr-fsx-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn put(path: &Path, text: &str) -> Result<()> {
        fs::write(path, text).map_err(|e| file_error(path, e))
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn failure_keeps_old_file_and_leaves_no_temporary() {
        let dir = scratch("fail");
        let target = dir.join("result.nc");
        fs::write(&target, "old").unwrap();
        fs::write(dir.join("result.partial.nc"), "unrelated").unwrap();
        let err = write_atomic(&target, |tmp| {
            fs::write(tmp, "half").unwrap();
            Err(Error::invalid("writing", "disk on fire"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(listing(&dir), ["result.nc", "result.partial.nc"]);
        write_atomic(&target, |tmp| put(tmp, "new")).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(listing(&dir), ["result.nc", "result.partial.nc"]);
        assert_eq!(
            fs::read_to_string(dir.join("result.partial.nc")).unwrap(),
            "unrelated"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlink_is_kept_and_its_target_replaced() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = scratch("link");
        fs::create_dir(dir.join("real")).unwrap();
        let real = dir.join("real").join("data.nc");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("link.nc");
        symlink("real/data.nc", &link).unwrap();
        write_atomic(&link, |tmp| put(tmp, "new")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(listing(&dir.join("real")), ["data.nc"]);
        // A loop of links is an error, not a hang.
        symlink("b.nc", dir.join("a.nc")).unwrap();
        symlink("a.nc", dir.join("b.nc")).unwrap();
        let err = write_atomic(&dir.join("a.nc"), |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_are_unique() {
        let dir = scratch("unique");
        let target = dir.join("x.nc");
        let a = reserve_temporary(&target).unwrap();
        let b = reserve_temporary(&target).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(dir.as_path()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
