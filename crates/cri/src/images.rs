//! Images without a registry: build OCI image-layout archives, import archives into containerd.
//!
//! A node needs a sandbox (pause) image before it can run any pod, and tests need a small
//! image with a shell; no public registry is reachable from these machines. This module builds
//! both from what Debian installs: `busybox` from busybox-static (plus a symlink per applet
//! and the usual /etc files) and `pause` from `pause/pause.c` compiled with `cc -static`.
//! An image is written as an OCI image layout in a tar file (`oci-layout`, `index.json`,
//! `blobs/sha256/...`: a gzipped layer, its config, its manifest), with the image's name in
//! the index's `io.containerd.image.name` annotation. Archives are reproducible: the same
//! inputs give the same digests.
//!
//! Archives (ours, or any OCI or `docker save` tarball) are imported into containerd's
//! `k8s.io` namespace (the one CRI serves) with `ctr images import`; the import is checked
//! through CRI `ImageStatus`. [`import_dir`] imports every archive of `<agent>/images` at
//! agent start, skipping those already imported.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::api::{ImageSpec as CriImageSpec, ImageStatusRequest};
use crate::client::{self, Runtime};
use crate::containerd::find_program;

/// The sandbox (pause) image of every ferrokube node.
pub const PAUSE_IMAGE: &str = "localhost/ferrokube/pause:1";
/// The busybox test image (Debian's busybox-static 1.35).
pub const BUSYBOX_IMAGE: &str = "docker.io/library/busybox:1.35";
/// The namespace of containerd that CRI serves.
pub const K8S_NAMESPACE: &str = "k8s.io";

const PAUSE_C: &str = include_str!("../pause/pause.c");
/// Where Debian's busybox-static installs the binary.
const DEBIAN_BUSYBOX: &str = "/bin/busybox";
/// The `PATH` of both images.
const IMAGE_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The record of [`import_dir`], in the images directory.
const IMPORT_RECORD: &str = ".imported.json";

/// What can go wrong building or importing images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A program we need is not installed.
    #[error("{program} was not found on PATH: install it (apt-get install -y {package})")]
    NotFound {
        /// The program looked for.
        program: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing, with the path.
        what: String,
        /// Why it failed.
        source: io::Error,
    },
    /// Building an image failed.
    #[error("building {image}: {message}")]
    Build {
        /// The image.
        image: String,
        /// What went wrong.
        message: String,
    },
    /// The archive is not an image archive we can read.
    #[error("{file}: {message}")]
    Archive {
        /// The archive.
        file: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// `ctr images import` failed, or the runtime does not show the image afterwards.
    #[error("importing {file}: {message}")]
    Import {
        /// The archive.
        file: PathBuf,
        /// What went wrong (ctr's output).
        message: String,
    },
    /// A CRI call failed.
    #[error(transparent)]
    Cri(#[from] client::Error),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// What a file system entry of a layer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(String),
}

/// One file system entry of an image's single layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the image, relative (`bin/busybox`).
    pub path: String,
    /// Permission bits (with sticky/setuid bits).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Directory, file or symlink.
    pub kind: EntryKind,
}

impl Entry {
    /// A directory owned by root.
    pub fn dir(path: &str, mode: u32) -> Entry {
        Entry {
            path: path.to_string(),
            mode,
            uid: 0,
            gid: 0,
            kind: EntryKind::Dir,
        }
    }
    /// A regular file owned by root.
    pub fn file(path: &str, mode: u32, data: impl Into<Vec<u8>>) -> Entry {
        Entry {
            path: path.to_string(),
            mode,
            uid: 0,
            gid: 0,
            kind: EntryKind::File(data.into()),
        }
    }
    /// A symbolic link owned by root.
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry {
            path: path.to_string(),
            mode: 0o777,
            uid: 0,
            gid: 0,
            kind: EntryKind::Symlink(target.to_string()),
        }
    }
}

/// An image of one layer: its files and its run configuration.
#[derive(Clone, Debug, Default)]
pub struct ImageSpec {
    /// The full reference it is imported as (`docker.io/library/busybox:1.35`).
    pub name: String,
    /// The layer's entries, parents before children.
    pub entries: Vec<Entry>,
    /// `config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `config.Cmd`.
    pub cmd: Vec<String>,
    /// `config.Env` (`KEY=value`).
    pub env: Vec<String>,
    /// `config.User`, empty for root.
    pub user: String,
    /// `config.WorkingDir`, empty for `/`.
    pub working_dir: String,
}

/// A written image archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The image's reference.
    pub name: String,
    /// The archive file.
    pub path: PathBuf,
    /// `sha256:...` of the manifest (the image's repo digest once pushed).
    pub manifest_digest: String,
    /// `sha256:...` of the config: the image ID CRI reports.
    pub config_digest: String,
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The OCI architecture name of the machine this runs on.
pub fn oci_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// A tar header with fixed times and owners, so archives are reproducible.
fn header(kind: tar::EntryType, mode: u32, uid: u64, gid: u64, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(0);
    h.set_size(size);
    h
}

/// The layer's uncompressed tar.
fn layer_tar(entries: &[Entry]) -> io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let path = e.path.trim_start_matches('/');
        match &e.kind {
            EntryKind::Dir => {
                let mut h = header(tar::EntryType::Directory, e.mode, e.uid, e.gid, 0);
                b.append_data(
                    &mut h,
                    format!("{}/", path.trim_end_matches('/')),
                    io::empty(),
                )?;
            }
            EntryKind::File(data) => {
                let mut h = header(
                    tar::EntryType::Regular,
                    e.mode,
                    e.uid,
                    e.gid,
                    data.len() as u64,
                );
                b.append_data(&mut h, path, data.as_slice())?;
            }
            EntryKind::Symlink(target) => {
                let mut h = header(tar::EntryType::Symlink, e.mode, e.uid, e.gid, 0);
                b.append_link(&mut h, path, target)?;
            }
        }
    }
    b.into_inner()
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    // GzEncoder writes mtime 0 and no file name: the output depends on the input only.
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data)?;
    enc.finish()
}

/// The tag of a reference (`1.35` of `docker.io/library/busybox:1.35`), if it has one.
fn tag_of(reference: &str) -> Option<&str> {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, tag)| tag)
}

/// Writes `spec` as an OCI image-layout tar archive at `out` (atomically: a temporary file in
/// the same directory, renamed).
pub fn write_oci_archive(spec: &ImageSpec, out: &Path) -> Result<Built, Error> {
    let build_err = |message: String| Error::Build {
        image: spec.name.clone(),
        message,
    };
    let layer = layer_tar(&spec.entries).map_err(|e| build_err(format!("layer: {e}")))?;
    let diff_id = format!("sha256:{}", sha256_hex(&layer));
    let layer_gz = gzip(&layer).map_err(|e| build_err(format!("compressing the layer: {e}")))?;
    let layer_digest = format!("sha256:{}", sha256_hex(&layer_gz));

    let mut config = serde_json::Map::new();
    config.insert("Env".into(), json!(spec.env));
    if !spec.entrypoint.is_empty() {
        config.insert("Entrypoint".into(), json!(spec.entrypoint));
    }
    if !spec.cmd.is_empty() {
        config.insert("Cmd".into(), json!(spec.cmd));
    }
    if !spec.user.is_empty() {
        config.insert("User".into(), json!(spec.user));
    }
    if !spec.working_dir.is_empty() {
        config.insert("WorkingDir".into(), json!(spec.working_dir));
    }
    let config_json = serde_json::to_vec(&json!({
        "created": "1970-01-01T00:00:00Z",
        "architecture": oci_architecture(),
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "ferrokube (cri::images)"}],
    }))
    .map_err(|e| build_err(e.to_string()))?;
    let config_digest = format!("sha256:{}", sha256_hex(&config_json));

    let manifest_json = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_json.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer_digest,
            "size": layer_gz.len(),
        }],
    }))
    .map_err(|e| build_err(e.to_string()))?;
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest_json));

    let mut annotations = serde_json::Map::new();
    annotations.insert("io.containerd.image.name".into(), json!(spec.name));
    if let Some(tag) = tag_of(&spec.name) {
        annotations.insert("org.opencontainers.image.ref.name".into(), json!(tag));
    }
    let index_json = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_json.len(),
            "platform": {"architecture": oci_architecture(), "os": "linux"},
            "annotations": annotations,
        }],
    }))
    .map_err(|e| build_err(e.to_string()))?;

    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(io_err(format!("creating a file in {}", dir.display())))?;
    {
        let mut b = tar::Builder::new(io::BufWriter::new(tmp.as_file()));
        let mut add = |path: &str, data: &[u8]| -> io::Result<()> {
            let mut h = header(tar::EntryType::Regular, 0o644, 0, 0, data.len() as u64);
            b.append_data(&mut h, path, data)
        };
        let blob = |digest: &str| format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
        let write = (|| -> io::Result<()> {
            add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
            add("index.json", &index_json)?;
            add(&blob(&manifest_digest), &manifest_json)?;
            add(&blob(&config_digest), &config_json)?;
            add(&blob(&layer_digest), &layer_gz)?;
            Ok(())
        })();
        write
            .and_then(|()| b.into_inner()?.flush())
            .map_err(io_err(format!("writing {}", out.display())))?;
    }
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
        .map_err(io_err(format!("chmod {}", tmp.path().display())))?;
    tmp.persist(out)
        .map_err(|e| io_err(format!("writing {}", out.display()))(e.error))?;
    Ok(Built {
        name: spec.name.clone(),
        path: out.to_path_buf(),
        manifest_digest,
        config_digest,
    })
}

/// Whether an ELF executable asks for a program interpreter (is dynamically linked).
/// `None` when the bytes are not a 64-bit little-endian ELF file.
fn elf_is_dynamic(data: &[u8]) -> Option<bool> {
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| data.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let p_type = data
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))?;
        if p_type == 3 {
            return Some(true); // PT_INTERP
        }
    }
    Some(false)
}

/// The root file system entries every test image has: /etc/passwd with root, nobody (65534)
/// and user (1000), /etc/group, /tmp (1777), /root, /home/user.
fn base_entries() -> Vec<Entry> {
    let mut home = Entry::dir("home/user", 0o755);
    home.uid = 1000;
    home.gid = 1000;
    vec![
        Entry::dir("bin", 0o755),
        Entry::dir("dev", 0o755),
        Entry::dir("etc", 0o755),
        Entry::file(
            "etc/passwd",
            0o644,
            "root:x:0:0:root:/root:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
             user:x:1000:1000:user:/home/user:/bin/sh\n",
        ),
        Entry::file(
            "etc/group",
            0o644,
            "root:x:0:\nnobody:x:65534:\nuser:x:1000:\n",
        ),
        Entry::dir("home", 0o755),
        home,
        Entry::dir("proc", 0o555),
        Entry::dir("root", 0o700),
        Entry::dir("sys", 0o555),
        Entry::dir("tmp", 0o1777),
        Entry::dir("usr", 0o755),
        Entry::dir("usr/bin", 0o755),
        Entry::dir("usr/sbin", 0o755),
        Entry::dir("var", 0o755),
    ]
}

/// The busybox image: Debian's static `/bin/busybox` (from busybox-static) with a symlink in
/// /bin for every applet it lists, `Cmd ["sh"]`.
pub fn busybox_spec() -> Result<ImageSpec, Error> {
    let path = if Path::new(DEBIAN_BUSYBOX).is_file() {
        PathBuf::from(DEBIAN_BUSYBOX)
    } else {
        find_program("busybox", None).ok_or(Error::NotFound {
            program: "busybox",
            package: "busybox-static",
        })?
    };
    let binary = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let build_err = |message: String| Error::Build {
        image: BUSYBOX_IMAGE.into(),
        message,
    };
    if elf_is_dynamic(&binary) != Some(false) {
        return Err(build_err(format!(
            "{} is not a statically linked executable: install busybox-static (apt-get install -y busybox-static)",
            path.display()
        )));
    }
    let out = Command::new(&path)
        .arg("--list")
        .stdin(Stdio::null())
        .output()
        .map_err(io_err(format!("running {} --list", path.display())))?;
    if !out.status.success() {
        return Err(build_err(format!(
            "{} --list: {}",
            path.display(),
            out.status
        )));
    }
    let mut entries = base_entries();
    entries.push(Entry::file("bin/busybox", 0o755, binary));
    let list = String::from_utf8_lossy(&out.stdout);
    let mut applets: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|a| {
            !a.is_empty()
                && *a != "busybox"
                && !a.contains('/')
                && a.chars().all(|c| c.is_ascii_graphic())
        })
        .collect();
    applets.sort_unstable();
    applets.dedup();
    if !applets.contains(&"sh") {
        return Err(build_err(format!("{} has no sh applet", path.display())));
    }
    entries.extend(
        applets
            .iter()
            .map(|a| Entry::symlink(&format!("bin/{a}"), "busybox")),
    );
    Ok(ImageSpec {
        name: BUSYBOX_IMAGE.into(),
        entries,
        cmd: vec!["sh".into()],
        env: vec![IMAGE_PATH.into()],
        ..ImageSpec::default()
    })
}

/// Compiles `pause/pause.c` with `cc -static -Os -s` into a static executable.
pub fn compile_pause() -> Result<Vec<u8>, Error> {
    let cc = find_program("cc", None).ok_or(Error::NotFound {
        program: "cc",
        package: "gcc libc6-dev",
    })?;
    let dir = tempfile::tempdir().map_err(io_err("creating a temporary directory"))?;
    let src = dir.path().join("pause.c");
    let bin = dir.path().join("pause");
    fs::write(&src, PAUSE_C).map_err(io_err(format!("writing {}", src.display())))?;
    let out = Command::new(&cc)
        .args(["-static", "-Os", "-s", "-o"])
        .arg(&bin)
        .arg(&src)
        .stdin(Stdio::null())
        .output()
        .map_err(io_err(format!("running {}", cc.display())))?;
    let build_err = |message: String| Error::Build {
        image: PAUSE_IMAGE.into(),
        message,
    };
    if !out.status.success() {
        return Err(build_err(format!(
            "cc -static -Os pause.c failed ({}): {} (a static C library is needed: apt-get install -y libc6-dev)",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let binary = fs::read(&bin).map_err(io_err(format!("reading {}", bin.display())))?;
    if elf_is_dynamic(&binary) == Some(true) {
        return Err(build_err("cc produced a dynamically linked pause".into()));
    }
    Ok(binary)
}

/// The pause image: one static binary, `/pause`, as the entrypoint; runs as 65535 like
/// upstream's pause image.
pub fn pause_spec() -> Result<ImageSpec, Error> {
    let binary = compile_pause()?;
    Ok(ImageSpec {
        name: PAUSE_IMAGE.into(),
        entries: vec![Entry::file("pause", 0o755, binary)],
        entrypoint: vec!["/pause".into()],
        env: vec![IMAGE_PATH.into()],
        user: "65535:65535".into(),
        ..ImageSpec::default()
    })
}

/// Writes `busybox.tar` and `pause.tar` into `dir`.
pub fn build_test_images(dir: &Path) -> Result<Vec<Built>, Error> {
    Ok(vec![
        write_oci_archive(&busybox_spec()?, &dir.join("busybox.tar"))?,
        write_oci_archive(&pause_spec()?, &dir.join("pause.tar"))?,
    ])
}

/// Makes sure `<agent>/images/pause.tar` exists (building it when absent), so that the agent's
/// [`import_dir`] gives containerd its sandbox image. Returns the image when it was built.
pub fn ensure_pause_image(agent_dir: &Path) -> Result<Option<Built>, Error> {
    let out = agent_dir.join("images").join("pause.tar");
    if out.exists() {
        return Ok(None);
    }
    write_oci_archive(&pause_spec()?, &out).map(Some)
}

/// The full reference of a possibly short image name, as containerd names images:
/// `busybox` → `docker.io/library/busybox:latest`, `foo/bar:1` → `docker.io/foo/bar:1`.
pub fn normalize_reference(name: &str) -> String {
    let (repo, suffix) = match name.split_once('@') {
        Some((repo, digest)) => (repo, format!("@{digest}")),
        None => (name, String::new()),
    };
    let (domain, rest) = match repo.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_string(), rest.to_string())
        }
        Some(_) => ("docker.io".to_string(), repo.to_string()),
        None => ("docker.io".to_string(), format!("library/{repo}")),
    };
    let rest = if domain == "docker.io" && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    let tagged = rest
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    let tag = if tagged || !suffix.is_empty() {
        ""
    } else {
        ":latest"
    };
    format!("{domain}/{rest}{tag}{suffix}")
}

/// Opens an archive, uncompressing it when it is gzipped (by its magic bytes).
fn open_archive(file: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let mut f = fs::File::open(file).map_err(io_err(format!("opening {}", file.display())))?;
    let mut magic = [0u8; 2];
    let n = f
        .read(&mut magic)
        .map_err(io_err(format!("reading {}", file.display())))?;
    let head = io::Cursor::new(magic[..n].to_vec());
    let reader = head.chain(f);
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// The image names an archive carries: the `io.containerd.image.name` annotations of an OCI
/// layout's index.json, else the normalized `RepoTags` of a `docker save` manifest.json.
pub fn archive_image_names(file: &Path) -> Result<Vec<String>, Error> {
    let archive_err = |message: String| Error::Archive {
        file: file.to_path_buf(),
        message,
    };
    let mut tar = tar::Archive::new(open_archive(file)?);
    let mut index = None;
    let mut docker = None;
    let entries = tar
        .entries()
        .map_err(|e| archive_err(format!("not a tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_err(format!("reading the archive: {e}")))?;
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().trim_start_matches("./").to_string())
            .unwrap_or_default();
        if path != "index.json" && path != "manifest.json" {
            continue;
        }
        let mut text = Vec::new();
        entry
            .read_to_end(&mut text)
            .map_err(|e| archive_err(format!("reading {path}: {e}")))?;
        let value: Value =
            serde_json::from_slice(&text).map_err(|e| archive_err(format!("{path}: {e}")))?;
        if path == "index.json" {
            index = Some(value);
        } else {
            docker = Some(value);
        }
    }
    let mut names = Vec::new();
    if let Some(index) = &index {
        for m in index["manifests"].as_array().into_iter().flatten() {
            if let Some(name) = m["annotations"]["io.containerd.image.name"].as_str() {
                names.push(name.to_string());
            }
        }
    }
    if names.is_empty()
        && let Some(docker) = &docker
    {
        for m in docker.as_array().into_iter().flatten() {
            for tag in m["RepoTags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                names.push(normalize_reference(tag));
            }
        }
    }
    if index.is_none() && docker.is_none() {
        return Err(archive_err(
            "neither an OCI image layout (index.json) nor a docker save archive (manifest.json)"
                .into(),
        ));
    }
    names.dedup();
    Ok(names)
}

/// Imports an image archive (OCI layout or `docker save`, plain or gzipped tar) into the
/// `k8s.io` namespace of the containerd at `endpoint` with `ctr images import`, then checks
/// through CRI that every image the archive names is there. Returns those names.
pub async fn import(endpoint: &str, file: &Path) -> Result<Vec<String>, Error> {
    import_with(endpoint, file, None).await
}

/// [`import`] with the directories to look for `ctr` in (a PATH value).
pub async fn import_with(
    endpoint: &str,
    file: &Path,
    search_path: Option<OsString>,
) -> Result<Vec<String>, Error> {
    let socket = client::socket_path(endpoint)?;
    let ctr = find_program("ctr", search_path.as_ref()).ok_or(Error::NotFound {
        program: "ctr",
        package: "containerd",
    })?;
    let file = file.to_path_buf();
    let task_file = file.clone();
    let names = tokio::task::spawn_blocking(move || -> Result<Vec<String>, Error> {
        let names = archive_image_names(&task_file)?;
        run_ctr_import(&ctr, &socket, &task_file)?;
        Ok(names)
    })
    .await
    .map_err(|e| Error::Import {
        file: file.clone(),
        message: e.to_string(),
    })??;
    if names.is_empty() {
        tracing::warn!(file = %file.display(), "the archive names no image: ctr imported it under a generated name");
        return Ok(names);
    }
    let mut rt = client::connect(endpoint).await?;
    for name in &names {
        wait_image(&mut rt, name, Duration::from_secs(10))
            .await
            .map_err(|message| Error::Import {
                file: file.clone(),
                message,
            })?;
    }
    Ok(names)
}

/// Runs `ctr --address SOCK -n k8s.io images import --all-platforms FILE` (the archive through
/// stdin, uncompressed, when it is gzipped: ctr reads plain tar only).
fn run_ctr_import(ctr: &Path, socket: &Path, file: &Path) -> Result<(), Error> {
    let import_err = |message: String| Error::Import {
        file: file.to_path_buf(),
        message,
    };
    let mut cmd = Command::new(ctr);
    cmd.arg("--address").arg(socket).args([
        "--namespace",
        K8S_NAMESPACE,
        "images",
        "import",
        "--all-platforms",
    ]);
    let mut magic = [0u8; 2];
    let gz = fs::File::open(file)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(io_err(format!("reading {}", file.display())))?
        == 2
        && magic == [0x1f, 0x8b];
    let out = if gz {
        cmd.arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(io_err(format!("running {}", ctr.display())))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| import_err("no stdin".into()))?;
        let mut reader = open_archive(file)?;
        let copied = io::copy(&mut reader, &mut stdin);
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(io_err(format!("running {}", ctr.display())))?;
        if let Err(e) = copied
            && out.status.success()
        {
            return Err(import_err(format!("uncompressing: {e}")));
        }
        out
    } else {
        cmd.arg(file)
            .stdin(Stdio::null())
            .output()
            .map_err(io_err(format!("running {}", ctr.display())))?
    };
    if !out.status.success() {
        let mut message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if message.is_empty() {
            message = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        return Err(import_err(format!(
            "ctr images import: {} ({})",
            message, out.status
        )));
    }
    Ok(())
}

/// Whether CRI knows the image `name`; its ID when it does.
pub async fn image_id(rt: &mut Runtime, name: &str) -> Result<Option<String>, client::Error> {
    let resp = rt
        .images
        .image_status(ImageStatusRequest {
            image: Some(CriImageSpec {
                image: name.to_string(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await?
        .into_inner();
    Ok(resp.image.map(|i| i.id))
}

/// Waits until CRI shows `name` (its image cache follows containerd's events).
async fn wait_image(rt: &mut Runtime, name: &str, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match image_id(rt, name).await {
            Ok(Some(id)) => return Ok(id),
            Ok(None) if Instant::now() < deadline => {}
            Ok(None) => {
                return Err(format!(
                    "ctr imported it, but CRI does not show image {name}"
                ));
            }
            Err(e) => return Err(format!("checking image {name}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What [`import_dir`] did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    /// Archives imported now, with their image names.
    pub imported: Vec<(PathBuf, Vec<String>)>,
    /// Archives skipped: unchanged since their import, and their images still there.
    pub skipped: Vec<PathBuf>,
    /// Archives that failed, with why.
    pub failed: Vec<(PathBuf, String)>,
}

/// The size and modification time an archive had when imported, and its images.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Imported {
    size: u64,
    mtime_ns: u128,
    images: Vec<String>,
}

fn read_record(dir: &Path) -> BTreeMap<String, Imported> {
    let Ok(text) = fs::read(dir.join(IMPORT_RECORD)) else {
        return BTreeMap::new();
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&text) else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(file, v)| {
            let size = v["size"].as_u64()?;
            let mtime_ns = v["mtimeNs"].as_str()?.parse().ok()?;
            let images = v["images"]
                .as_array()?
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect();
            Some((
                file,
                Imported {
                    size,
                    mtime_ns,
                    images,
                },
            ))
        })
        .collect()
}

fn write_record(dir: &Path, record: &BTreeMap<String, Imported>) -> io::Result<()> {
    let map: serde_json::Map<String, Value> = record
        .iter()
        .map(|(file, i)| {
            (
                file.clone(),
                json!({"size": i.size, "mtimeNs": i.mtime_ns.to_string(), "images": i.images}),
            )
        })
        .collect();
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(tmp.as_file(), &Value::Object(map))?;
    tmp.persist(dir.join(IMPORT_RECORD)).map_err(|e| e.error)?;
    Ok(())
}

fn stamp(meta: &fs::Metadata) -> (u64, u128) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (meta.len(), mtime)
}

/// Imports every `*.tar`, `*.tar.gz` and `*.tgz` in `dir` (in name order) into the containerd
/// at `endpoint`. An archive whose size and modification time match the record of its last
/// import (`dir/.imported.json`) and whose images CRI still shows is skipped. A missing
/// directory imports nothing. Per-archive failures are collected, not returned.
pub async fn import_dir(endpoint: &str, dir: &Path) -> Result<ImportSummary, Error> {
    let mut summary = ImportSummary::default();
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(summary),
        Err(e) => return Err(io_err(format!("reading {}", dir.display()))(e)),
    };
    let mut files: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !name.starts_with('.')
                && [".tar", ".tar.gz", ".tgz"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
                && p.is_file()
        })
        .collect();
    files.sort();
    let mut record = read_record(dir);
    let mut rt = client::connect(endpoint).await?;
    for file in files {
        let key = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = match fs::metadata(&file) {
            Ok(m) => m,
            Err(e) => {
                summary.failed.push((file, e.to_string()));
                continue;
            }
        };
        let (size, mtime_ns) = stamp(&meta);
        if let Some(prev) = record.get(&key)
            && prev.size == size
            && prev.mtime_ns == mtime_ns
            && !prev.images.is_empty()
        {
            let mut present = true;
            for image in &prev.images {
                if image_id(&mut rt, image).await?.is_none() {
                    present = false;
                    break;
                }
            }
            if present {
                summary.skipped.push(file);
                continue;
            }
        }
        match import(endpoint, &file).await {
            Ok(images) => {
                tracing::info!(file = %file.display(), ?images, "image archive imported");
                record.insert(
                    key,
                    Imported {
                        size,
                        mtime_ns,
                        images: images.clone(),
                    },
                );
                summary.imported.push((file, images));
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), "importing an image archive: {e}");
                record.remove(&key);
                summary.failed.push((file, e.to_string()));
            }
        }
    }
    if (!summary.imported.is_empty() || record.len() != read_record(dir).len())
        && let Err(e) = write_record(dir, &record)
    {
        tracing::warn!(dir = %dir.display(), "writing the import record: {e}");
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_spec() -> ImageSpec {
        ImageSpec {
            name: "localhost/test/small:2".into(),
            entries: vec![
                Entry::dir("bin", 0o755),
                Entry::file("bin/hello", 0o755, "#!/bin/sh\necho hi\n"),
                Entry::symlink("bin/hi", "hello"),
                Entry::dir("tmp", 0o1777),
            ],
            cmd: vec!["/bin/hello".into()],
            env: vec![IMAGE_PATH.into()],
            ..ImageSpec::default()
        }
    }

    /// The archive's files by path.
    fn files_of(path: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut ar = tar::Archive::new(fs::File::open(path).unwrap());
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.insert(name, data);
        }
        out
    }

    #[test]
    fn archives_are_oci_layouts_with_consistent_digests() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("small.tar");
        let built = write_oci_archive(&small_spec(), &out).unwrap();
        let files = files_of(&out);
        assert_eq!(files["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
        // Every blob is named by its digest.
        for (name, data) in &files {
            if let Some(hex) = name.strip_prefix("blobs/sha256/") {
                assert_eq!(sha256_hex(data), hex, "{name}");
            }
        }
        let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
        let m = &index["manifests"][0];
        assert_eq!(m["digest"], built.manifest_digest.as_str());
        assert_eq!(
            m["annotations"]["io.containerd.image.name"],
            "localhost/test/small:2"
        );
        assert_eq!(m["annotations"]["org.opencontainers.image.ref.name"], "2");
        assert_eq!(m["platform"]["os"], "linux");
        let manifest: Value = serde_json::from_slice(
            &files[&format!("blobs/sha256/{}", &built.manifest_digest[7..])],
        )
        .unwrap();
        assert_eq!(manifest["config"]["digest"], built.config_digest.as_str());
        let config: Value =
            serde_json::from_slice(&files[&format!("blobs/sha256/{}", &built.config_digest[7..])])
                .unwrap();
        assert_eq!(config["config"]["Cmd"], json!(["/bin/hello"]));
        assert_eq!(config["architecture"], oci_architecture());
        // The diff ID is the digest of the uncompressed layer.
        let layer_digest = manifest["layers"][0]["digest"].as_str().unwrap();
        let gz = &files[&format!("blobs/sha256/{}", &layer_digest[7..])];
        let mut layer = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut layer)
            .unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            format!("sha256:{}", sha256_hex(&layer))
        );
        // The layer holds the entries with their kinds and modes.
        let mut ar = tar::Archive::new(layer.as_slice());
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            let link = h
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned());
            seen.push((
                e.path().unwrap().to_string_lossy().into_owned(),
                h.entry_type(),
                h.mode().unwrap(),
                link,
            ));
        }
        assert_eq!(
            seen,
            vec![
                ("bin/".to_string(), tar::EntryType::Directory, 0o755, None),
                (
                    "bin/hello".to_string(),
                    tar::EntryType::Regular,
                    0o755,
                    None
                ),
                (
                    "bin/hi".to_string(),
                    tar::EntryType::Symlink,
                    0o777,
                    Some("hello".to_string())
                ),
                ("tmp/".to_string(), tar::EntryType::Directory, 0o1777, None),
            ]
        );
        assert_eq!(
            archive_image_names(&out).unwrap(),
            vec!["localhost/test/small:2".to_string()]
        );
    }

    #[test]
    fn archives_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_oci_archive(&small_spec(), &dir.path().join("a.tar")).unwrap();
        let b = write_oci_archive(&small_spec(), &dir.path().join("b.tar")).unwrap();
        assert_eq!(a.manifest_digest, b.manifest_digest);
        assert_eq!(fs::read(&a.path).unwrap(), fs::read(&b.path).unwrap());
        let mut other = small_spec();
        other.cmd = vec!["sh".into()];
        let c = write_oci_archive(&other, &dir.path().join("c.tar")).unwrap();
        assert_ne!(a.config_digest, c.config_digest);
    }

    #[test]
    fn busybox_image_has_applets_users_and_tmp() {
        let spec = busybox_spec().unwrap();
        let find = |p: &str| {
            spec.entries
                .iter()
                .find(|e| e.path == p)
                .unwrap_or_else(|| panic!("{p} missing"))
        };
        assert!(matches!(find("bin/busybox").kind, EntryKind::File(_)));
        assert_eq!(find("bin/sh").kind, EntryKind::Symlink("busybox".into()));
        assert_eq!(find("bin/echo").kind, EntryKind::Symlink("busybox".into()));
        assert_eq!(find("tmp").mode, 0o1777);
        let EntryKind::File(passwd) = &find("etc/passwd").kind else {
            panic!()
        };
        let passwd = String::from_utf8_lossy(passwd);
        assert!(
            passwd.contains("root:x:0:0:")
                && passwd.contains(":65534:65534:")
                && passwd.contains(":1000:1000:")
        );
        assert!(find("etc/group").path == "etc/group");
        assert_eq!(spec.cmd, vec!["sh".to_string()]);
    }

    #[test]
    fn pause_compiles_static() {
        let binary = compile_pause().unwrap();
        assert_eq!(elf_is_dynamic(&binary), Some(false));
        assert!(
            binary.len() < 2 * 1024 * 1024,
            "pause is {} bytes",
            binary.len()
        );
    }

    #[test]
    fn elf_dynamic_detection() {
        assert_eq!(
            elf_is_dynamic(&fs::read("/bin/busybox").unwrap()),
            Some(false)
        );
        assert_eq!(elf_is_dynamic(&fs::read("/bin/ls").unwrap()), Some(true));
        assert_eq!(elf_is_dynamic(b"#!/bin/sh\n"), None);
        let mut truncated = fs::read("/bin/ls").unwrap();
        truncated.truncate(70);
        assert_eq!(elf_is_dynamic(&truncated), None);
    }

    #[test]
    fn references_are_normalized_like_containerd() {
        assert_eq!(
            normalize_reference("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            normalize_reference("busybox:1.35"),
            "docker.io/library/busybox:1.35"
        );
        assert_eq!(normalize_reference("foo/bar:1"), "docker.io/foo/bar:1");
        assert_eq!(
            normalize_reference("localhost/ferrokube/pause:1"),
            "localhost/ferrokube/pause:1"
        );
        assert_eq!(
            normalize_reference("127.0.0.1:5000/x"),
            "127.0.0.1:5000/x:latest"
        );
        assert_eq!(
            normalize_reference("docker.io/library/busybox:1.35"),
            "docker.io/library/busybox:1.35"
        );
        assert_eq!(
            normalize_reference("busybox@sha256:ab"),
            "docker.io/library/busybox@sha256:ab"
        );
        assert_eq!(tag_of("localhost:5000/a/b"), None);
        assert_eq!(tag_of("localhost:5000/a/b:c"), Some("c"));
    }

    #[test]
    fn names_come_from_gzipped_and_docker_archives() {
        let dir = tempfile::tempdir().unwrap();
        let plain = write_oci_archive(&small_spec(), &dir.path().join("a.tar")).unwrap();
        let gz = dir.path().join("a.tar.gz");
        fs::write(&gz, gzip(&fs::read(&plain.path).unwrap()).unwrap()).unwrap();
        assert_eq!(
            archive_image_names(&gz).unwrap(),
            vec!["localhost/test/small:2".to_string()]
        );

        let mut b = tar::Builder::new(Vec::new());
        let manifest =
            br#"[{"Config":"c.json","RepoTags":["busybox:1.35","example.com/x/y:2"],"Layers":[]}]"#;
        let mut h = header(tar::EntryType::Regular, 0o644, 0, 0, manifest.len() as u64);
        b.append_data(&mut h, "manifest.json", &manifest[..])
            .unwrap();
        let docker = dir.path().join("d.tar");
        fs::write(&docker, b.into_inner().unwrap()).unwrap();
        assert_eq!(
            archive_image_names(&docker).unwrap(),
            vec![
                "docker.io/library/busybox:1.35".to_string(),
                "example.com/x/y:2".to_string()
            ]
        );

        let junk = dir.path().join("junk.tar");
        fs::write(&junk, b"not a tar at all").unwrap();
        let err = archive_image_names(&junk).unwrap_err().to_string();
        assert!(err.contains("junk.tar"), "{err}");
    }

    #[test]
    fn import_record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_record(dir.path()).is_empty());
        let mut record = BTreeMap::new();
        record.insert(
            "a.tar".to_string(),
            Imported {
                size: 5,
                mtime_ns: 1 << 70,
                images: vec!["x:1".into()],
            },
        );
        write_record(dir.path(), &record).unwrap();
        assert_eq!(read_record(dir.path()), record);
        fs::write(dir.path().join(IMPORT_RECORD), "garbage").unwrap();
        assert!(read_record(dir.path()).is_empty());
    }
}
