//! The datastore side of the binary: choosing the backend (embedded or etcd), snapshot files
//! (`ferrokube snapshot save|restore`, scheduled snapshots), and `ferrokube datastore migrate`.
//!
//! A snapshot file is a whole-cluster backup: a header, the data directory's credentials (the
//! `tls/` directory: cluster CA, service-account signing key, component certificates; and the
//! encryption configuration with its keys, without which the stored secrets cannot be read),
//! each with a checksum, then the store snapshot (`storage::embedded::snapshot`). It is as
//! sensitive as the data directory itself and is written with mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;

const MAGIC: &[u8] = b"FERROKUBE-SNAPSHOT-1\n";
/// The credentials a snapshot carries, relative to the data directory: every file of `tls/`,
/// and this file.
const ENCRYPTION_CONFIG: &str = "encryption-config.yaml";

/// Flags naming the datastore (shared by `server` and `datastore migrate`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DatastoreArgs {
    /// etcd endpoints (comma-separated or repeated, https://host:2379): use this etcd cluster
    /// instead of the embedded store.
    #[arg(long)]
    pub datastore_endpoint: Vec<String>,
    /// The TLS files for etcd.
    #[command(flatten)]
    pub tls: EtcdTlsArgs,
}

/// The TLS files for etcd (shared by `server` and `datastore migrate`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EtcdTlsArgs {
    /// CA certificate (PEM) that signed etcd's serving certificates.
    #[arg(long)]
    pub datastore_cafile: Option<PathBuf>,
    /// Client certificate (PEM) to present to etcd.
    #[arg(long)]
    pub datastore_certfile: Option<PathBuf>,
    /// Key (PEM) of the client certificate.
    #[arg(long)]
    pub datastore_keyfile: Option<PathBuf>,
}

impl EtcdTlsArgs {
    /// The flags again, as a command line would give them.
    fn to_flags(&self) -> String {
        [("--datastore-cafile", &self.datastore_cafile), ("--datastore-certfile", &self.datastore_certfile), ("--datastore-keyfile", &self.datastore_keyfile)]
            .iter()
            .filter_map(|(flag, p)| p.as_ref().map(|p| format!(" {flag} {}", p.display())))
            .collect()
    }
}

impl DatastoreArgs {
    /// The etcd endpoints, if any were given.
    pub fn endpoints(&self) -> Vec<String> {
        self.datastore_endpoint
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Connects to the etcd cluster these flags name.
    pub async fn connect_etcd(&self) -> anyhow::Result<Arc<storage::etcd::EtcdStore>> {
        let endpoints = self.endpoints();
        if endpoints.is_empty() {
            bail!("no etcd endpoint given (--datastore-endpoint)");
        }
        let opts = storage::etcd::EtcdOptions {
            endpoints: endpoints.clone(),
            ca_file: self.tls.datastore_cafile.clone(),
            cert_file: self.tls.datastore_certfile.clone(),
            key_file: self.tls.datastore_keyfile.clone(),
            ..Default::default()
        };
        storage::etcd::EtcdStore::connect(opts).await.with_context(|| format!("connecting to etcd at {}", endpoints.join(",")))
    }
}

/// The store of a server: embedded in `data_dir/db` unless etcd endpoints are given.
pub enum Store {
    /// The embedded store (closed cleanly on shutdown).
    Embedded(Arc<storage::embedded::EmbeddedStore>),
    /// An etcd cluster.
    Etcd(Arc<storage::etcd::EtcdStore>),
}

impl Store {
    /// Opens the store the flags choose.
    pub async fn open(data_dir: &Path, args: &DatastoreArgs) -> anyhow::Result<Store> {
        if args.endpoints().is_empty() {
            let s = storage::embedded::EmbeddedStore::open(&data_dir.join("db"), Default::default())
                .await
                .context("opening the embedded store")?;
            Ok(Store::Embedded(s))
        } else {
            let s = args.connect_etcd().await?;
            tracing::info!(endpoints = %args.endpoints().join(","), "storing the cluster in etcd");
            Ok(Store::Etcd(s))
        }
    }

    /// The store as a backend.
    pub fn backend(&self) -> Arc<dyn storage::Backend> {
        match self {
            Store::Embedded(s) => s.clone(),
            Store::Etcd(s) => s.clone(),
        }
    }

    /// Whether several servers may share it (and so must elect the controllers' leader).
    pub fn shared(&self) -> bool {
        matches!(self, Store::Etcd(_))
    }
}

/// Holds `data_dir/LOCK` for the life of a server: one server per data directory, whatever the
/// backend.
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<File> {
    let f = OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(data_dir.join("LOCK"))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => bail!("{} is in use by another ferrokube server", data_dir.display()),
        Err(fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// This server's stable identity (for leases): the host name and an id kept in the data
/// directory, so that a restarted server takes its own lease back at once.
pub fn server_identity(data_dir: &Path, host: &str) -> anyhow::Result<String> {
    let path = data_dir.join("server-id");
    let id = match fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => {
            let id = uuid::Uuid::new_v4().to_string();
            pki::write_file(&path, id.as_bytes(), 0o600)?;
            id
        }
    };
    Ok(format!("{host}_{id}"))
}

/// The credential files of a data directory: (path relative to it, contents).
fn credentials(data_dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let tls = data_dir.join("tls");
    let mut names: Vec<String> = fs::read_dir(&tls)
        .with_context(|| format!("reading {}", tls.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    for n in names {
        out.push((format!("tls/{n}"), fs::read(tls.join(&n))?));
    }
    if let Ok(b) = fs::read(data_dir.join(ENCRYPTION_CONFIG)) {
        out.push((ENCRYPTION_CONFIG.to_string(), b));
    }
    Ok(out)
}

fn write_header(w: &mut impl Write, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&(files.len() as u32).to_le_bytes())?;
    for (name, data) in files {
        w.write_all(&(name.len() as u16).to_le_bytes())?;
        w.write_all(name.as_bytes())?;
        w.write_all(&(data.len() as u32).to_le_bytes())?;
        w.write_all(data)?;
        let mut h = crc32fast::Hasher::new();
        h.update(name.as_bytes());
        h.update(data);
        w.write_all(&h.finalize().to_le_bytes())?;
    }
    Ok(())
}

fn read_exact_vec(r: &mut impl Read, n: usize) -> anyhow::Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    r.read_exact(&mut v).context("the snapshot file is truncated")?;
    Ok(v)
}

/// Reads and verifies the header of a snapshot file; the reader is left at the store snapshot.
fn read_header(r: &mut impl Read) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let magic = read_exact_vec(r, MAGIC.len())?;
    if magic != MAGIC {
        bail!("not a ferrokube snapshot file");
    }
    let n = u32::from_le_bytes(read_exact_vec(r, 4)?.try_into().unwrap_or_default());
    if n > 4096 {
        bail!("the snapshot file's header is malformed");
    }
    let mut files = Vec::new();
    for _ in 0..n {
        let len = u16::from_le_bytes(read_exact_vec(r, 2)?.try_into().unwrap_or_default()) as usize;
        let name = String::from_utf8(read_exact_vec(r, len)?).context("malformed file name in the snapshot")?;
        let safe = !name.is_empty()
            && !name.starts_with('/')
            && name.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
            && (name == ENCRYPTION_CONFIG || (name.starts_with("tls/") && name.matches('/').count() == 1));
        if !safe {
            bail!("the snapshot names an unexpected file {name:?}");
        }
        let dlen = u32::from_le_bytes(read_exact_vec(r, 4)?.try_into().unwrap_or_default()) as usize;
        if dlen > 16 << 20 {
            bail!("the snapshot's {name} is implausibly large");
        }
        let data = read_exact_vec(r, dlen)?;
        let crc = u32::from_le_bytes(read_exact_vec(r, 4)?.try_into().unwrap_or_default());
        let mut h = crc32fast::Hasher::new();
        h.update(name.as_bytes());
        h.update(&data);
        if h.finalize() != crc {
            bail!("the snapshot's copy of {name} is damaged (checksum mismatch)");
        }
        files.push((name, data));
    }
    Ok(files)
}

/// Writes a snapshot file of `backend` with `data_dir`'s credentials to `file` (through a
/// temporary file, synced and renamed: a file at `file` is always complete). Returns its size.
pub async fn write_snapshot_file(data_dir: &Path, backend: Arc<dyn storage::Backend>, file: &Path) -> anyhow::Result<u64> {
    let chunks = storage::embedded::snapshot::save(backend).map(|c| c.map_err(anyhow::Error::from));
    write_file_from(data_dir, chunks.boxed(), file).await
}

async fn write_file_from(
    data_dir: &Path,
    mut chunks: futures::stream::BoxStream<'_, anyhow::Result<bytes::Bytes>>,
    file: &Path,
) -> anyhow::Result<u64> {
    let creds = credentials(data_dir)?;
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file.file_name().context("the snapshot file needs a name")?.to_string_lossy().to_string();
    let tmp = dir.join(format!(".{name}.partial"));
    let res = async {
        let f = OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        write_header(&mut w, &creds)?;
        while let Some(chunk) = chunks.next().await {
            w.write_all(&chunk?)?;
        }
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        let size = f.metadata()?.len();
        fs::rename(&tmp, file)?;
        if let Ok(d) = File::open(&dir) {
            d.sync_all()?;
        }
        Ok::<_, anyhow::Error>(size)
    }
    .await;
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// `ferrokube snapshot` commands.
#[derive(clap::Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Saves a consistent snapshot of the cluster (the running server's, or a stopped one's
    /// embedded store) and the data directory's credentials to FILE.
    Save(SnapshotArgs),
    /// Makes a new data directory from a snapshot file; start a server on it to serve the
    /// snapshot's state.
    Restore(SnapshotArgs),
}

/// Flags of `ferrokube snapshot save|restore`.
#[derive(clap::Args, Debug)]
pub struct SnapshotArgs {
    /// The server's data directory (for restore: a new, empty one).
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// The snapshot file.
    pub file: PathBuf,
}

/// Runs a `snapshot` command.
pub async fn snapshot(cmd: SnapshotCommand) -> anyhow::Result<()> {
    match cmd {
        SnapshotCommand::Save(a) => {
            let size = match lock_data_dir(&a.data_dir) {
                // No server runs on this data directory: read its embedded store directly.
                Ok(lock) => {
                    let db = a.data_dir.join("db");
                    if !db.exists() {
                        bail!("{} has no embedded store and no server is running on it", a.data_dir.display());
                    }
                    let store = storage::embedded::EmbeddedStore::open(&db, Default::default()).await?;
                    let size = write_snapshot_file(&a.data_dir, store.clone(), &a.file).await;
                    store.close().await?;
                    drop(lock);
                    size?
                }
                // The server holds it: stream the snapshot from the server.
                Err(_) => {
                    let client = crate::admin::admin_client(&a.data_dir).await?;
                    let req = http::Request::builder().uri(apiserver::server::SNAPSHOT_PATH).body(Vec::<u8>::new())?;
                    let body = Box::pin(client.request_stream(req).await.context("asking the running server for a snapshot")?);
                    let blocks = futures::stream::try_unfold(body, |mut body| async move {
                        let mut buf = vec![0u8; 256 << 10];
                        let n = futures::io::AsyncReadExt::read(&mut body, &mut buf).await?;
                        if n == 0 {
                            return Ok(None);
                        }
                        buf.truncate(n);
                        Ok(Some((bytes::Bytes::from(buf), body)))
                    });
                    write_file_from(&a.data_dir, blocks.boxed(), &a.file).await?
                }
            };
            println!("snapshot saved to {} ({size} bytes)", a.file.display());
            Ok(())
        }
        SnapshotCommand::Restore(a) => {
            let restored = restore(&a.file, &a.data_dir)?;
            println!(
                "restored revision {} ({} keys) into {}; start it with: ferrokube server --data-dir {}",
                restored.revision,
                restored.keys,
                a.data_dir.display(),
                a.data_dir.display()
            );
            Ok(())
        }
    }
}

/// Restores a snapshot file into a new data directory: the store, then the credentials.
/// Nothing is written unless the whole file is valid.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<storage::embedded::snapshot::Restored> {
    if data_dir.exists() && fs::read_dir(data_dir)?.next().is_some() {
        bail!("{} is not empty: restore needs a new data directory", data_dir.display());
    }
    let mut r = BufReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?);
    let creds = read_header(&mut r)?;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(data_dir)?;
    let restored = match storage::embedded::snapshot::restore(r, &data_dir.join("db")) {
        Ok(x) => x,
        Err(e) => {
            let _ = fs::remove_dir(data_dir);
            return Err(e).context("restoring the store");
        }
    };
    fs::DirBuilder::new().recursive(true).mode(0o700).create(data_dir.join("tls"))?;
    for (name, data) in creds {
        pki::write_file(&data_dir.join(&name), &data, 0o600)?;
    }
    Ok(restored)
}

/// Parses `30s`, `15m`, `12h`, `7d`; `0` means never.
pub fn parse_interval(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    // one or more <number><unit> parts, as Go durations are written (`8760h0m0s`, `1h30m`)
    let mut rest = s;
    let mut secs = 0u64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().with_context(|| format!("{s:?} is not an interval like 30m, 12h, 1d or 1h30m"))?;
        let after = &rest[digits..];
        let unit_len = after.find(|c: char| c.is_ascii_digit()).unwrap_or(after.len());
        let scale = match &after[..unit_len] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => bail!("{s:?}: unknown unit (use s, m, h or d)"),
        };
        secs = n.checked_mul(scale).and_then(|v| v.checked_add(secs)).with_context(|| format!("{s:?} is too long"))?;
        rest = &after[unit_len..];
    }
    Ok(Duration::from_secs(secs))
}

/// Takes a snapshot into `data_dir/snapshots/` every `interval`, keeping the newest `retention`.
pub async fn scheduled_snapshots(data_dir: PathBuf, backend: Arc<dyn storage::Backend>, interval: Duration, retention: usize) {
    let dir = data_dir.join("snapshots");
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot create the snapshot directory");
            continue;
        }
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        let file = dir.join(format!("ferrokube-snapshot-{stamp}.db"));
        match write_snapshot_file(&data_dir, backend.clone(), &file).await {
            Ok(size) => tracing::info!(file = %file.display(), bytes = size, "scheduled snapshot saved"),
            Err(e) => {
                tracing::warn!(error = %e, "scheduled snapshot failed");
                continue;
            }
        }
        prune(&dir, retention);
    }
}

/// Deletes all but the newest `keep` scheduled snapshots (names sort by time).
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("ferrokube-snapshot-") && n.ends_with(".db"))
        })
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep.max(1));
    for p in names.into_iter().take(excess) {
        if let Err(e) = fs::remove_file(&p) {
            tracing::warn!(error = %e, file = %p.display(), "cannot delete an old snapshot");
        }
    }
}

/// `ferrokube datastore` commands.
#[derive(clap::Subcommand, Debug)]
pub enum DatastoreCommand {
    /// Copies a stopped server's embedded store into an empty etcd cluster; afterwards start the
    /// server with the same --data-dir and the --datastore-* flags.
    Migrate(MigrateArgs),
}

/// Flags of `ferrokube datastore migrate`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The (stopped) server's data directory.
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// The etcd endpoints to move to (comma-separated).
    #[arg(long = "to")]
    pub to: String,
    /// The TLS files for etcd.
    #[command(flatten)]
    pub tls: EtcdTlsArgs,
}

/// Copies every key of `from` (at one revision) into `to`, which must hold none of them.
/// Returns the number of keys copied.
pub async fn copy_all(from: Arc<dyn storage::Backend>, to: Arc<dyn storage::Backend>) -> anyhow::Result<u64> {
    let existing = to.range(storage::RangeRequest { count_only: true, ..storage::RangeRequest::prefix("/registry/") }).await?;
    if existing.count > 0 {
        bail!("the target already holds {} keys under /registry/: migrate needs an empty datastore", existing.count);
    }
    let rev = from.current_revision().await?;
    let mut start = String::new();
    let mut copied = 0u64;
    loop {
        let (kvs, next) = storage::page_at(&*from, rev, &start, 500).await?;
        let writes = futures::stream::iter(kvs)
            .map(|kv| {
                let to = to.clone();
                async move {
                    let r = to.txn(&kv.key, 0, storage::TxnOp::Put(kv.value.clone())).await?;
                    if !r.succeeded {
                        bail!("{} appeared in the target during the migration", kv.key);
                    }
                    Ok::<_, anyhow::Error>(())
                }
            })
            .buffer_unordered(64);
        futures::pin_mut!(writes);
        while let Some(r) = writes.next().await {
            r?;
            copied += 1;
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    Ok(copied)
}

/// Runs `datastore migrate`.
pub async fn migrate(a: MigrateArgs) -> anyhow::Result<()> {
    let _lock = lock_data_dir(&a.data_dir).context("stop the server before migrating its datastore")?;
    let db = a.data_dir.join("db");
    if !db.exists() {
        bail!("{} has no embedded store to migrate", db.display());
    }
    let target = DatastoreArgs { datastore_endpoint: vec![a.to.clone()], tls: a.tls.clone() };
    let etcd = target.connect_etcd().await?;
    let src = storage::embedded::EmbeddedStore::open(&db, Default::default()).await?;
    let copied = copy_all(src.clone(), etcd).await;
    src.close().await?;
    let copied = copied?;
    // The embedded store is kept (renamed) as a fallback, and cannot be started by mistake.
    let kept = a.data_dir.join("db.migrated");
    fs::rename(&db, &kept)?;
    println!(
        "migrated {copied} keys to {}; the embedded store is kept at {}.\nStart the server with: ferrokube server --data-dir {} --datastore-endpoint {}{}",
        a.to,
        kept.display(),
        a.data_dir.display(),
        a.to,
        a.tls.to_flags(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_damage() {
        let files = vec![("tls/ca.crt".to_string(), b"cert".to_vec()), (ENCRYPTION_CONFIG.to_string(), b"keys".to_vec())];
        let mut buf = Vec::new();
        write_header(&mut buf, &files).expect("write");
        buf.extend_from_slice(b"STORE");
        let mut r = &buf[..];
        assert_eq!(read_header(&mut r).expect("read"), files);
        assert_eq!(r, b"STORE");
        let mut bad = buf.clone();
        bad[MAGIC.len() + 4 + 2 + "tls/ca.crt".len() + 4 + 1] ^= 1; // inside "cert"
        assert!(read_header(&mut &bad[..]).unwrap_err().to_string().contains("damaged"));
        let evil = vec![("../etc/passwd".to_string(), b"x".to_vec())];
        let mut buf = Vec::new();
        write_header(&mut buf, &evil).expect("write");
        assert!(read_header(&mut &buf[..]).unwrap_err().to_string().contains("unexpected file"));
        assert!(read_header(&mut &b"garbage"[..]).is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("12h").expect("12h"), Duration::from_secs(43200));
        assert_eq!(parse_interval("0").expect("0"), Duration::ZERO);
        assert_eq!(parse_interval("90s").expect("90s"), Duration::from_secs(90));
        assert!(parse_interval("12").is_err());
        assert!(parse_interval("x").is_err());
        // Go's form, as upstream's flags print their defaults
        assert_eq!(parse_interval("8760h0m0s").expect("go form"), Duration::from_secs(8760 * 3600));
        assert_eq!(parse_interval("1h30m").expect("1h30m"), Duration::from_secs(5400));
        assert!(parse_interval("1h30").is_err());
        assert!(parse_interval("5w").is_err());
    }

    #[test]
    fn prune_keeps_the_newest() {
        let d = tempfile::tempdir().expect("tempdir");
        for s in ["20260101T000000Z", "20260102T000000Z", "20260103T000000Z"] {
            fs::write(d.path().join(format!("ferrokube-snapshot-{s}.db")), b"x").expect("write");
        }
        fs::write(d.path().join("other.db"), b"x").expect("write");
        prune(d.path(), 2);
        let mut left: Vec<String> =
            fs::read_dir(d.path()).expect("dir").map(|e| e.expect("e").file_name().to_string_lossy().to_string()).collect();
        left.sort();
        assert_eq!(left, ["ferrokube-snapshot-20260102T000000Z.db", "ferrokube-snapshot-20260103T000000Z.db", "other.db"]);
    }
}
