//! The host side of volumes: `hostPath` type checks (upstream's texts), tmpfs mounts for
//! memory-backed volumes, and the mount table.
//!
//! Mounting uses the `mount`/`umount` tools (util-linux): the workspace forbids `unsafe`, and
//! the tools report errors a person can read.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Checks (and for the `...OrCreate` types creates) a `hostPath` volume's path as upstream's
/// `checkType` does.
pub fn check_host_path(path: &Path, kind: &str) -> Result<(), String> {
    let p = path.display();
    let meta = std::fs::metadata(path).ok();
    let is = |f: &dyn Fn(&std::fs::Metadata) -> bool| meta.as_ref().is_some_and(f);
    match kind {
        "" => Ok(()),
        "DirectoryOrCreate" if meta.is_none() => {
            std::fs::create_dir_all(path).map_err(|e| format!("mkdir {p}: {e}"))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| format!("chmod {p}: {e}"))
        }
        "DirectoryOrCreate" | "Directory" => {
            if is(&|m| m.is_dir()) { Ok(()) } else { Err(format!("hostPath type check failed: {p} is not a directory")) }
        }
        "FileOrCreate" if meta.is_none() => std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)))
            .map_err(|e| format!("open {p}: {e}")),
        "FileOrCreate" | "File" => {
            if is(&|m| m.is_file()) { Ok(()) } else { Err(format!("hostPath type check failed: {p} is not a file")) }
        }
        "Socket" => {
            if is(&|m| m.file_type().is_socket()) { Ok(()) } else { Err(format!("hostPath type check failed: {p} is not a socket file")) }
        }
        "CharDevice" => {
            if is(&|m| m.file_type().is_char_device()) {
                Ok(())
            } else {
                Err(format!("hostPath type check failed: {p} is not a character device"))
            }
        }
        "BlockDevice" => {
            if is(&|m| m.file_type().is_block_device()) {
                Ok(())
            } else {
                Err(format!("hostPath type check failed: {p} is not a block device"))
            }
        }
        other => Err(format!("{other} is an invalid volume type")),
    }
}

/// Mount points at or below `dir`, deepest first (from `/proc/self/mountinfo`).
pub fn mounts_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    let mut out: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mount_path(m)))
        .filter(|m| m.starts_with(dir))
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    out.dedup();
    Ok(out)
}

/// Whether `dir` itself is a mount point.
pub fn is_mount_point(dir: &Path) -> io::Result<bool> {
    Ok(mounts_under(dir)?.iter().any(|m| m == dir))
}

/// The tmpfs `size=` option of the mount at `dir`, in bytes (for tests and diagnostics).
pub fn tmpfs_size(dir: &Path) -> io::Result<Option<u64>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    for l in text.lines() {
        let fields: Vec<&str> = l.split(' ').collect();
        if fields.len() < 5 || Path::new(&unescape_mount_path(fields[4])) != dir {
            continue;
        }
        let Some(sep) = fields.iter().position(|f| *f == "-") else { continue };
        if fields.get(sep + 1) != Some(&"tmpfs") {
            return Ok(None);
        }
        for opt in fields.get(sep + 3).unwrap_or(&"").split(',') {
            if let Some(v) = opt.strip_prefix("size=") {
                return Ok(parse_size(v));
            }
        }
    }
    Ok(None)
}

fn parse_size(v: &str) -> Option<u64> {
    let (num, mult) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1u64 << 10),
        'm' => (&v[..v.len() - 1], 1 << 20),
        'g' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

/// Mount paths in mountinfo escape space, tab, newline and backslash as octal.
fn unescape_mount_path(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mounts a tmpfs of `size` bytes (none: the kernel's default) on `dir` unless one is there.
pub async fn mount_tmpfs(dir: &Path, size: Option<u64>) -> Result<(), String> {
    if is_mount_point(dir).map_err(|e| format!("reading the mount table: {e}"))? {
        return Ok(());
    }
    let mut cmd = tokio::process::Command::new("mount");
    cmd.arg("-t").arg("tmpfs");
    if let Some(s) = size.filter(|s| *s > 0) {
        cmd.arg("-o").arg(format!("size={s}"));
    }
    cmd.arg("tmpfs").arg(dir);
    run(cmd, &format!("mount tmpfs on {}", dir.display())).await
}

/// Unmounts `dir`.
pub async fn unmount(dir: &Path) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new("umount");
    cmd.arg(dir);
    run(cmd, &format!("unmount {}", dir.display())).await
}

async fn run(mut cmd: tokio::process::Command, what: &str) -> Result<(), String> {
    let out = cmd.output().await.map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what}: {} ({})", String::from_utf8_lossy(&out.stderr).trim(), out.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_types() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let dir = d.join("a/b");
        check_host_path(&dir, "DirectoryOrCreate").unwrap();
        assert!(dir.is_dir());
        check_host_path(&dir, "Directory").unwrap();
        let f = d.join("f");
        assert_eq!(check_host_path(&f, "File").unwrap_err(), format!("hostPath type check failed: {} is not a file", f.display()));
        check_host_path(&f, "FileOrCreate").unwrap();
        assert!(f.is_file());
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o644);
        assert_eq!(
            check_host_path(&f, "Directory").unwrap_err(),
            format!("hostPath type check failed: {} is not a directory", f.display())
        );
        assert_eq!(
            check_host_path(&dir, "FileOrCreate").unwrap_err(),
            format!("hostPath type check failed: {} is not a file", dir.display())
        );
        assert!(check_host_path(&d.join("no/parent"), "FileOrCreate").is_err(), "parents are not created");
        assert!(check_host_path(&f, "Socket").unwrap_err().ends_with("is not a socket file"));
        let sock = d.join("s");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        check_host_path(&sock, "Socket").unwrap();
        check_host_path(Path::new("/dev/null"), "CharDevice").unwrap();
        assert!(check_host_path(&f, "BlockDevice").unwrap_err().ends_with("is not a block device"));
        assert_eq!(check_host_path(&f, "Weird").unwrap_err(), "Weird is an invalid volume type");
        check_host_path(&d.join("whatever"), "").unwrap();
    }

    #[test]
    fn mount_paths_unescape() {
        assert_eq!(unescape_mount_path("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
        assert_eq!(unescape_mount_path("/x\\04"), "/x\\04");
        assert_eq!(parse_size("1024k"), Some(1 << 20));
        assert_eq!(parse_size("12345"), Some(12345));
    }
}
