//! Real etcd processes for tests (feature `testing`): a single member or an n-member cluster on
//! free loopback ports, plain or TLS with client certificates, each in a temporary directory that
//! goes away with the [`EtcdProcess`]. Dropping it kills every member by its process id.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use storage::etcd::{EtcdStore, testing::EtcdProcess};
//! let etcd = EtcdProcess::start_single(true)?; // TLS, client certificates required
//! let store = EtcdStore::connect(etcd.options()).await.expect("connect");
//! println!("{}", etcd.etcdctl(&["endpoint", "status"])?);
//! # Ok(()) }
//! ```
//!
//! The binaries are `$ETCD_BIN` / `$ETCDCTL_BIN`, else `etcd` / `etcdctl` from `PATH` (Debian:
//! `etcd-server`, `etcd-client`). Only 127.0.0.1 is used. Starting blocks the calling thread
//! (for well under a second per member on an idle machine; call it from `spawn_blocking` if the
//! runtime must keep running meanwhile).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use super::EtcdOptions;

/// How long a member may take to report itself healthy.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with fresh ports when a port was taken between choosing and binding it.
const PORT_ATTEMPTS: usize = 3;

fn other(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}

/// The PEM files of a TLS cluster (all in the cluster's temporary directory).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The CA that signed the members' and the client's certificates.
    pub ca_file: PathBuf,
    /// The CA's private key (to issue more certificates).
    pub ca_key_file: PathBuf,
    /// A client certificate (CN `root`) the members accept.
    pub client_cert_file: PathBuf,
    /// Its private key.
    pub client_key_file: PathBuf,
}

struct Member {
    name: String,
    client_port: u16,
    metrics_port: u16,
    args: Vec<String>,
    log_file: PathBuf,
    child: Option<Child>,
}

/// Running etcd members; see the [module docs](self).
pub struct EtcdProcess {
    dir: tempfile::TempDir,
    members: Vec<Member>,
    tls: Option<TlsFiles>,
}

impl std::fmt::Debug for EtcdProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdProcess").field("endpoints", &self.endpoints()).field("tls", &self.tls.is_some()).finish()
    }
}

fn binary(env: &str, name: &str) -> String {
    std::env::var(env).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| name.to_string())
}

/// `n` distinct free loopback ports (all bound at once, then released).
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..n).map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0))).collect::<std::io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect()
}

fn write_private(path: &Path, data: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(data.as_bytes())
}

fn serial(params: &mut CertificateParams) {
    let mut b: [u8; 16] = rand::random();
    b[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&b));
}

fn cert_error(e: rcgen::Error) -> std::io::Error {
    other(format!("making test certificates: {e}"))
}

/// Makes a CA, a certificate per member (serving and peer: server and client use, for
/// 127.0.0.1 and localhost) and a client certificate.
fn make_certs(dir: &Path, members: &[String]) -> std::io::Result<TlsFiles> {
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "etcd test CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    serial(&mut ca_params);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_error)?;
    let files = TlsFiles {
        ca_file: dir.join("ca.crt"),
        ca_key_file: dir.join("ca.key"),
        client_cert_file: dir.join("client.crt"),
        client_key_file: dir.join("client.key"),
    };
    std::fs::write(&files.ca_file, ca_cert.pem())?;
    write_private(&files.ca_key_file, &ca_key.serialize_pem())?;
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |cn: &str, server: bool| -> std::io::Result<(String, String)> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        if server {
            params.subject_alt_names = vec![
                SanType::DnsName("localhost".try_into().map_err(cert_error)?),
                SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        } else {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        serial(&mut params);
        let key = KeyPair::generate().map_err(cert_error)?;
        let cert = params.signed_by(&key, &issuer).map_err(cert_error)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    for name in members {
        let (cert, key) = leaf(name, true)?;
        std::fs::write(dir.join(format!("{name}.crt")), cert)?;
        write_private(&dir.join(format!("{name}.key")), &key)?;
    }
    let (cert, key) = leaf("root", false)?;
    std::fs::write(&files.client_cert_file, cert)?;
    write_private(&files.client_key_file, &key)?;
    Ok(files)
}

/// A plain HTTP/1.0 GET on 127.0.0.1; the body.
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

impl EtcdProcess {
    /// Starts a one-member etcd (with `tls`: https and client certificates required).
    pub fn start_single(tls: bool) -> std::io::Result<EtcdProcess> {
        Self::start_cluster(1, tls)
    }

    /// Starts an `n`-member cluster (1..=9 members) and waits until every member is healthy
    /// (which needs a leader). With `tls`, clients and peers use https with certificates from
    /// one test CA, and client certificates are required.
    pub fn start_cluster(n: usize, tls: bool) -> std::io::Result<EtcdProcess> {
        if !(1..=9).contains(&n) {
            return Err(other(format!("an etcd test cluster has 1 to 9 members, not {n}")));
        }
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start(n, tls) {
                Ok(p) => return Ok(p),
                Err((e, port_clash)) => {
                    if !port_clash {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| other("etcd did not start")))
    }

    /// One attempt; the error says whether a port clash may explain it.
    fn try_start(n: usize, tls: bool) -> Result<EtcdProcess, (std::io::Error, bool)> {
        let fatal = |e: std::io::Error| (e, false);
        let dir = tempfile::Builder::new().prefix("etcd-test-").tempdir().map_err(fatal)?;
        let names: Vec<String> = (1..=n).map(|i| format!("m{i}")).collect();
        let tls_files = if tls { Some(make_certs(dir.path(), &names).map_err(fatal)?) } else { None };
        let ports = free_ports(3 * n).map_err(fatal)?;
        let scheme = if tls { "https" } else { "http" };
        let cluster = names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{name}={scheme}://127.0.0.1:{}", ports[3 * i + 1]))
            .collect::<Vec<_>>()
            .join(",");
        let mut members = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let (client, peer, metrics) = (ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]);
            let data = dir.path().join(format!("{name}.data"));
            let mut args: Vec<String> = vec![
                format!("--name={name}"),
                format!("--data-dir={}", data.display()),
                format!("--listen-client-urls={scheme}://127.0.0.1:{client}"),
                format!("--advertise-client-urls={scheme}://127.0.0.1:{client}"),
                format!("--listen-peer-urls={scheme}://127.0.0.1:{peer}"),
                format!("--initial-advertise-peer-urls={scheme}://127.0.0.1:{peer}"),
                format!("--initial-cluster={cluster}"),
                "--initial-cluster-state=new".into(),
                "--initial-cluster-token=ferrokube-test".into(),
                format!("--listen-metrics-urls=http://127.0.0.1:{metrics}"),
                "--logger=zap".into(),
                "--log-outputs=stderr".into(),
            ];
            if let Some(t) = &tls_files {
                let cert = dir.path().join(format!("{name}.crt"));
                let key = dir.path().join(format!("{name}.key"));
                let ca = &t.ca_file;
                args.extend([
                    format!("--cert-file={}", cert.display()),
                    format!("--key-file={}", key.display()),
                    "--client-cert-auth".into(),
                    format!("--trusted-ca-file={}", ca.display()),
                    format!("--peer-cert-file={}", cert.display()),
                    format!("--peer-key-file={}", key.display()),
                    "--peer-client-cert-auth".into(),
                    format!("--peer-trusted-ca-file={}", ca.display()),
                ]);
            }
            members.push(Member {
                name: name.clone(),
                client_port: client,
                metrics_port: metrics,
                args,
                log_file: dir.path().join(format!("{name}.log")),
                child: None,
            });
        }
        let mut p = EtcdProcess { dir, members, tls: tls_files };
        for i in 0..n {
            p.spawn(i).map_err(fatal)?;
        }
        for i in 0..n {
            if let Err(e) = p.wait_healthy(i) {
                let clash = (0..n).any(|j| {
                    std::fs::read_to_string(&p.members[j].log_file)
                        .unwrap_or_default()
                        .contains("address already in use")
                });
                return Err((e, clash));
            }
        }
        Ok(p)
    }

    fn spawn(&mut self, i: usize) -> std::io::Result<()> {
        let m = self.members.get_mut(i).ok_or_else(|| other(format!("no member {i}")))?;
        if m.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&m.log_file)?;
        let child = Command::new(binary("ETCD_BIN", "etcd"))
            .args(&m.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| other(format!("starting etcd (install etcd-server, or set ETCD_BIN): {e}")))?;
        m.child = Some(child);
        Ok(())
    }

    /// Waits until member `i` answers its health check.
    fn wait_healthy(&mut self, i: usize) -> std::io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let m = self.members.get_mut(i).ok_or_else(|| other(format!("no member {i}")))?;
            if let Some(child) = m.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                m.child = None;
                return Err(other(format!(
                    "etcd member {} exited ({status}); log:\n{}",
                    m.name,
                    log_tail(&m.log_file)
                )));
            }
            if http_get(m.metrics_port, "/health").is_ok_and(|b| b.contains("\"health\":\"true\"")) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(other(format!(
                    "etcd member {} not healthy within {START_TIMEOUT:?}; log:\n{}",
                    m.name,
                    log_tail(&m.log_file)
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The client URLs of all members (stopped ones too).
    pub fn endpoints(&self) -> Vec<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.members.iter().map(|m| format!("{scheme}://127.0.0.1:{}", m.client_port)).collect()
    }

    /// The TLS files, for a TLS cluster.
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// Options to connect an [`EtcdStore`](super::EtcdStore) to all members (with the client
    /// certificate for a TLS cluster).
    pub fn options(&self) -> EtcdOptions {
        let mut o = EtcdOptions::new(self.endpoints());
        if let Some(t) = &self.tls {
            o.ca_file = Some(t.ca_file.clone());
            o.cert_file = Some(t.client_cert_file.clone());
            o.key_file = Some(t.client_key_file.clone());
        }
        o
    }

    /// The temporary directory holding data, logs and certificates.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Never true: a cluster has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Process ids of the running members.
    pub fn pids(&self) -> Vec<u32> {
        self.members.iter().filter_map(|m| m.child.as_ref().map(Child::id)).collect()
    }

    /// The log (stderr) of member `i` so far.
    pub fn log(&self, i: usize) -> String {
        self.members.get(i).map(|m| std::fs::read_to_string(&m.log_file).unwrap_or_default()).unwrap_or_default()
    }

    /// Member `i`'s Prometheus metrics text.
    pub fn metrics(&self, i: usize) -> std::io::Result<String> {
        let m = self.members.get(i).ok_or_else(|| other(format!("no member {i}")))?;
        http_get(m.metrics_port, "/metrics")
    }

    /// Kills member `i` (SIGKILL, by its process id) and reaps it; its data stays.
    pub fn stop_member(&mut self, i: usize) -> std::io::Result<()> {
        let m = self.members.get_mut(i).ok_or_else(|| other(format!("no member {i}")))?;
        if let Some(mut child) = m.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts member `i` again on its data and ports, and waits until it is healthy.
    pub fn start_member(&mut self, i: usize) -> std::io::Result<()> {
        self.spawn(i)?;
        self.wait_healthy(i)
    }

    /// Runs `etcdctl` (API v3) against all running members with the client certificate;
    /// its standard output, or an error with its standard error.
    pub fn etcdctl(&self, args: &[&str]) -> std::io::Result<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let endpoints = self
            .members
            .iter()
            .filter(|m| m.child.is_some())
            .map(|m| format!("{scheme}://127.0.0.1:{}", m.client_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut cmd = Command::new(binary("ETCDCTL_BIN", "etcdctl"));
        cmd.env("ETCDCTL_API", "3").arg(format!("--endpoints={endpoints}")).arg("--command-timeout=10s");
        if let Some(t) = &self.tls {
            cmd.arg(format!("--cacert={}", t.ca_file.display()))
                .arg(format!("--cert={}", t.client_cert_file.display()))
                .arg(format!("--key={}", t.client_key_file.display()));
        }
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| other(format!("running etcdctl (install etcd-client, or set ETCDCTL_BIN): {e}")))?;
        if !out.status.success() {
            return Err(other(format!(
                "etcdctl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut child) = m.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
