//! The atomic writer of projected volume contents (upstream's `AtomicWriter`).
//!
//! A volume directory holds its files in a timestamped directory `..<UTC time>.<n>`;
//! `..data` is a symlink to the current one, and each top-level name the user sees is a
//! symlink `name -> ..data/name`. An update writes a complete new timestamped directory,
//! points `..data_tmp` at it and renames that over `..data` (one atomic `rename`), then removes
//! the names that are gone and the old directory. A container that has the volume mounted sees
//! every file change at once, never a mix of old and new files.
//!
//! Nothing is written when the contents are unchanged. Ownership for `fsGroup` follows
//! upstream's `SetVolumeOwnership`.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Name of the symlink to the current timestamped directory.
pub const DATA_DIR: &str = "..data";
const NEW_DATA_DIR: &str = "..data_tmp";
const MAX_PATH_LENGTH: usize = 4096;
const MAX_FILE_NAME_LENGTH: usize = 255;

/// One file of a volume's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProjection {
    /// The file's bytes.
    pub data: Vec<u8>,
    /// Its permission bits.
    pub mode: u32,
    /// The owner to give it (the pod's common `runAsUser`, for service account tokens).
    pub fs_user: Option<u32>,
}

impl FileProjection {
    /// A file with `data` and `mode`, owned by the kubelet.
    pub fn new(data: impl Into<Vec<u8>>, mode: i32) -> Self {
        FileProjection { data: data.into(), mode: (mode as u32) & 0o7777, fs_user: None }
    }
}

/// A volume's contents: relative path → file.
pub type Payload = BTreeMap<String, FileProjection>;

/// Checks a payload path as upstream does (relative, no `..` element, not starting with `..`,
/// bounded lengths) and returns it cleaned.
pub fn validate_path(target: &str) -> Result<String, String> {
    if target.is_empty() {
        return Err("invalid path: must not be empty: \"\"".to_string());
    }
    if target.starts_with('/') {
        return Err(format!("invalid path: must be relative path: {target}"));
    }
    if target.len() > MAX_PATH_LENGTH {
        return Err(format!("invalid path: must be less than or equal to {MAX_PATH_LENGTH} characters"));
    }
    let items: Vec<&str> = target.split('/').collect();
    for item in &items {
        if *item == ".." {
            return Err(format!("invalid path: must not contain '..': {target}"));
        }
        if item.len() > MAX_FILE_NAME_LENGTH {
            return Err(format!("invalid path: filenames must be less than or equal to {MAX_FILE_NAME_LENGTH} characters"));
        }
    }
    if items[0].starts_with("..") && items[0].len() > 2 {
        return Err(format!("invalid path: must not start with '..': {target}"));
    }
    let clean: Vec<&str> = items.into_iter().filter(|s| !s.is_empty() && *s != ".").collect();
    if clean.is_empty() {
        return Err(format!("invalid path: must name a file: {target}"));
    }
    Ok(clean.join("/"))
}

/// Writes `payload` into `target` (which must exist) atomically. `set_perms` runs on the
/// volume directory after a write, before the switch (upstream applies `fsGroup` there).
/// Returns whether anything was written.
pub fn write(target: &Path, payload: &Payload, set_perms: impl FnOnce(&Path) -> io::Result<()>) -> Result<bool, String> {
    let mut clean = Payload::new();
    for (k, v) in payload {
        clean.insert(validate_path(k)?, v.clone());
    }
    let ctx = |what: &str, e: io::Error| format!("{what} in {}: {e}", target.display());

    let data_link = target.join(DATA_DIR);
    let old_ts = match std::fs::read_link(&data_link) {
        Ok(p) => Some(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(ctx("reading the ..data link", e)),
    };
    let old_ts_path = old_ts.as_ref().map(|p| target.join(p));

    let mut to_remove = BTreeSet::new();
    if let Some(old) = &old_ts_path {
        to_remove = paths_to_remove(&clean, old).map_err(|e| ctx("listing the current files", e))?;
        let changed = should_write(&clean, old).map_err(|e| ctx("comparing the current files", e))?;
        if !changed && to_remove.is_empty() {
            // Up to date; make sure the user-visible links exist (a previous write may have
            // been interrupted before creating them).
            create_user_visible(target, &clean).map_err(|e| ctx("creating the visible links", e))?;
            return Ok(false);
        }
    }

    let ts_dir = new_timestamp_dir(target).map_err(|e| ctx("creating a timestamped directory", e))?;
    let ts_name = ts_dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let cleanup = |e: String| {
        let _ = std::fs::remove_dir_all(&ts_dir);
        e
    };
    write_payload(&clean, &ts_dir).map_err(|e| cleanup(ctx("writing the files", e)))?;
    create_user_visible(target, &clean).map_err(|e| cleanup(ctx("creating the visible links", e)))?;
    let tmp_link = target.join(NEW_DATA_DIR);
    let _ = std::fs::remove_file(&tmp_link);
    std::os::unix::fs::symlink(&ts_name, &tmp_link).map_err(|e| cleanup(ctx("creating the ..data_tmp link", e)))?;
    if let Err(e) = set_perms(target) {
        let _ = std::fs::remove_file(&tmp_link);
        return Err(cleanup(ctx("setting ownership", e)));
    }
    if let Err(e) = std::fs::rename(&tmp_link, &data_link) {
        let _ = std::fs::remove_file(&tmp_link);
        return Err(cleanup(ctx("switching the ..data link", e)));
    }
    for p in &to_remove {
        if p.contains('/') {
            continue;
        }
        match std::fs::remove_file(target.join(p)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(ctx("removing an old visible link", e)),
        }
    }
    if let Some(old) = old_ts_path
        && old != ts_dir
    {
        std::fs::remove_dir_all(&old).map_err(|e| ctx("removing the previous timestamped directory", e))?;
    }
    Ok(true)
}

/// Whether any file differs from what the current directory holds (content or mode).
fn should_write(payload: &Payload, old: &Path) -> io::Result<bool> {
    for (p, f) in payload {
        let path = old.join(p);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e),
        };
        if !meta.is_file() || meta.mode() & 0o7777 != f.mode {
            return Ok(true);
        }
        if std::fs::read(&path)? != f.data {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Paths (relative) in the current directory that the new payload no longer has.
fn paths_to_remove(payload: &Payload, old: &Path) -> io::Result<BTreeSet<String>> {
    let mut current = BTreeSet::new();
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if e.file_type()?.is_dir() {
                walk(&e.path(), &rel, out)?;
            }
            out.insert(rel);
        }
        Ok(())
    }
    walk(old, "", &mut current)?;
    let mut new = BTreeSet::new();
    for p in payload.keys() {
        let mut s = p.as_str();
        loop {
            new.insert(s.to_string());
            match s.rfind('/') {
                Some(i) => s = &s[..i],
                None => break,
            }
        }
    }
    Ok(current.difference(&new).cloned().collect())
}

fn new_timestamp_dir(target: &Path) -> io::Result<PathBuf> {
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("..%Y_%m_%d_%H_%M_%S.").to_string();
    let mut n = now.subsec_nanosecond().unsigned_abs();
    for _ in 0..1000 {
        let dir = target.join(format!("{stamp}{n}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n = n.wrapping_add(7919),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free timestamped directory name"))
}

fn write_payload(payload: &Payload, dir: &Path) -> io::Result<()> {
    for (p, f) in payload {
        let full = dir.join(p);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&full, &f.data)?;
        std::fs::set_permissions(&full, std::fs::Permissions::from_mode(f.mode))?;
        if let Some(uid) = f.fs_user {
            std::os::unix::fs::chown(&full, Some(uid), None)?;
        }
    }
    Ok(())
}

fn create_user_visible(target: &Path, payload: &Payload) -> io::Result<()> {
    for p in payload.keys() {
        let top = p.split('/').next().unwrap_or(p);
        let visible = target.join(top);
        match std::fs::symlink_metadata(&visible) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::os::unix::fs::symlink(Path::new(DATA_DIR).join(top), &visible)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Upstream's `SetVolumeOwnership`: every entry under `dir` gets group `gid`; files get
/// `mode | 0440` (read-only volumes) or `mode | 0660`, directories also `0110` and setgid.
/// Symlinks are re-owned but not re-moded, and never followed.
pub fn set_ownership(dir: &Path, gid: u32, read_only: bool) -> io::Result<()> {
    let mask: u32 = if read_only { 0o440 } else { 0o660 };
    fn visit(path: &Path, gid: u32, mask: u32) -> io::Result<()> {
        let meta = std::fs::symlink_metadata(path)?;
        std::os::unix::fs::lchown(path, None, Some(gid))?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        let mode = meta.mode() & 0o7777;
        if meta.is_dir() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | mask | 0o110 | 0o2000))?;
            for e in std::fs::read_dir(path)? {
                visit(&e?.path(), gid, mask)?;
            }
        } else {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | mask))?;
        }
        Ok(())
    }
    visit(dir, gid, mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(files: &[(&str, &str, i32)]) -> Payload {
        files.iter().map(|(p, d, m)| (p.to_string(), FileProjection::new(d.as_bytes(), *m))).collect()
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    fn ts_dirs(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..") && n != DATA_DIR)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn paths_are_validated_like_upstream() {
        assert_eq!(validate_path("a/./b//c").unwrap(), "a/b/c");
        assert_eq!(validate_path("").unwrap_err(), "invalid path: must not be empty: \"\"");
        assert_eq!(validate_path("/etc/x").unwrap_err(), "invalid path: must be relative path: /etc/x");
        assert_eq!(validate_path("a/../b").unwrap_err(), "invalid path: must not contain '..': a/../b");
        assert_eq!(validate_path("..data").unwrap_err(), "invalid path: must not start with '..': ..data");
        assert!(validate_path(&"x".repeat(256)).unwrap_err().contains("255"));
        assert!(validate_path(&"x/".repeat(2100)).unwrap_err().contains("4096"));
        assert!(validate_path("./.").is_err());
    }

    #[test]
    fn writes_links_and_modes_and_swaps_atomically() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let wrote = write(dir, &payload(&[("a", "1", 0o644), ("sub/b", "2", 0o400)]), |_| Ok(())).unwrap();
        assert!(wrote);
        assert_eq!(std::fs::read_link(dir.join("a")).unwrap(), Path::new("..data/a"));
        assert_eq!(std::fs::read_link(dir.join("sub")).unwrap(), Path::new("..data/sub"));
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(dir.join("sub/b")).unwrap(), "2");
        assert_eq!(mode(&dir.join("..data/a")), 0o644);
        assert_eq!(mode(&dir.join("..data/sub/b")), 0o400);
        let first = ts_dirs(dir);
        assert_eq!(first.len(), 1);
        assert_eq!(mode(&dir.join(&first[0])), 0o755);
        assert!(first[0].starts_with(&jiff::Timestamp::now().strftime("..%Y_%m_%d_").to_string()));

        // Same contents: nothing written.
        assert!(!write(dir, &payload(&[("a", "1", 0o644), ("sub/b", "2", 0o400)]), |_| Ok(())).unwrap());
        assert_eq!(ts_dirs(dir), first);

        // A held file descriptor of the old version keeps its contents (no in-place writes).
        let old = std::fs::read_to_string(dir.join("..data/a")).unwrap();
        // Changed contents, "sub" gone, "c" new: one new timestamped dir, links updated.
        assert!(write(dir, &payload(&[("a", "one", 0o644), ("c", "3", 0o600)]), |_| Ok(())).unwrap());
        let second = ts_dirs(dir);
        assert_eq!(second.len(), 1);
        assert_ne!(second, first);
        assert_eq!(old, "1");
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(dir.join("c")).unwrap(), "3");
        assert!(std::fs::symlink_metadata(dir.join("sub")).is_err(), "removed names disappear");
        assert!(std::fs::symlink_metadata(dir.join(NEW_DATA_DIR)).is_err());

        // A mode change alone rewrites.
        assert!(write(dir, &payload(&[("a", "one", 0o640), ("c", "3", 0o600)]), |_| Ok(())).unwrap());
        assert_eq!(mode(&dir.join("..data/a")), 0o640);

        // An empty payload leaves only ..data (to an empty dir).
        assert!(write(dir, &Payload::new(), |_| Ok(())).unwrap());
        let names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn failed_permission_hook_keeps_the_old_version() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        write(dir, &payload(&[("a", "1", 0o644)]), |_| Ok(())).unwrap();
        let before = ts_dirs(dir);
        let err = write(dir, &payload(&[("a", "2", 0o644)]), |_| Err(io::Error::other("boom"))).unwrap_err();
        assert!(err.contains("boom"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "1");
        assert_eq!(ts_dirs(dir), before, "the new directory was cleaned up");
    }

    #[test]
    fn invalid_payload_writes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let err = write(t.path(), &payload(&[("ok", "1", 0o644), ("../x", "2", 0o644)]), |_| Ok(())).unwrap_err();
        assert!(err.contains("must not contain '..'"), "{err}");
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
    }

    #[test]
    fn ownership_masks_follow_upstream() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("v");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&dir, &payload(&[("a", "1", 0o600), ("d/b", "2", 0o644)]), |_| Ok(())).unwrap();
        set_ownership(&dir, 1234, true).unwrap();
        let ts = dir.join(&ts_dirs(&dir)[0]);
        assert_eq!(mode(&ts.join("a")), 0o640);
        assert_eq!(mode(&ts.join("d/b")), 0o644);
        assert_eq!(mode(&ts.join("d")), 0o2755);
        assert_eq!(mode(&dir), 0o2755);
        assert_eq!(std::fs::symlink_metadata(ts.join("a")).unwrap().gid(), 1234);
        assert_eq!(std::fs::symlink_metadata(dir.join("a")).unwrap().gid(), 1234, "links re-owned too");

        let rw = t.path().join("rw");
        std::fs::create_dir(&rw).unwrap();
        std::fs::set_permissions(&rw, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(rw.join("f"), "x").unwrap();
        std::fs::set_permissions(rw.join("f"), std::fs::Permissions::from_mode(0o600)).unwrap();
        set_ownership(&rw, 99, false).unwrap();
        assert_eq!(mode(&rw), 0o2777);
        assert_eq!(mode(&rw.join("f")), 0o660);
    }
}
