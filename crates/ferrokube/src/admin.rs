//! Administrator commands that work on a data directory: `ferrokube kubeconfig` (a short-lived
//! client certificate for a person) and `ferrokube secrets-encrypt` (status, key rotation and
//! re-encryption of stored secrets on the running server).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Flags of `ferrokube kubeconfig`.
#[derive(clap::Args, Debug)]
pub struct KubeconfigArgs {
    /// The server's data directory (its CA signs the certificate).
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// User name (the certificate's CN).
    #[arg(long)]
    pub user: String,
    /// Groups (the certificate's O entries); repeatable.
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// How long the certificate is valid (`30m`, `24h`, `7d`).
    #[arg(long, default_value = "24h")]
    pub expiration: String,
}

fn parse_duration(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().with_context(|| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86400,
        _ => bail!("{s:?}: unknown unit (use s, m, h or d)"),
    };
    if secs < 60 {
        bail!("{s:?}: expiration must be at least a minute");
    }
    Ok(secs)
}

fn server_url(data_dir: &Path) -> anyhow::Result<String> {
    let admin = std::fs::read_to_string(data_dir.join("admin.kubeconfig"))
        .with_context(|| format!("reading {}/admin.kubeconfig (has the server started once?)", data_dir.display()))?;
    admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("server:").map(|s| s.trim().to_string()))
        .context("admin.kubeconfig names no server")
}

/// Prints a kubeconfig with a fresh client certificate.
pub fn kubeconfig(args: KubeconfigArgs) -> anyhow::Result<()> {
    if args.user.trim().is_empty() {
        bail!("--user must not be empty");
    }
    let seconds = parse_duration(&args.expiration)?;
    let tls = args.data_dir.join("tls");
    let pair = pki::read_pair(&tls, "ca")?.with_context(|| format!("no cluster CA in {}", tls.display()))?;
    let ca = pki::Ca::from_pem(pair)?;
    let cert = ca.issue_client_for(&args.user, &args.groups, seconds)?;
    let url = server_url(&args.data_dir)?;
    print!("{}", pki::kubeconfig(&url, "ferrokube", &args.user, &ca.pair.cert_pem, &cert));
    Ok(())
}

/// `ferrokube secrets-encrypt` actions.
#[derive(clap::Subcommand, Debug)]
pub enum SecretsEncrypt {
    /// Shows the active provider and key of each rule.
    Status(DataDir),
    /// Puts a new key first (old keys still read), reloads it and re-encrypts every secret.
    Rotate(DataDir),
    /// Rewrites every stored value not written with the current first key.
    Reencrypt(DataDir),
}

/// The data directory flag.
#[derive(clap::Args, Debug)]
pub struct DataDir {
    /// The server's data directory.
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// The EncryptionConfiguration file (default: DATA_DIR/encryption-config.yaml).
    #[arg(long)]
    pub encryption_provider_config: Option<PathBuf>,
}

pub async fn admin_client(data_dir: &Path) -> anyhow::Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(data_dir.join("admin.kubeconfig"))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await?;
    Ok(kube::Client::try_from(cfg)?)
}

async fn call(client: &kube::Client, method: http::Method, action: &str) -> anyhow::Result<serde_json::Value> {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("/ferrokube/v1/secrets-encrypt/{action}"))
        .body(Vec::new())?;
    let text = client.request_text(req).await.with_context(|| format!("secrets-encrypt {action} on the running server"))?;
    Ok(serde_json::from_str(&text)?)
}

/// Runs a `secrets-encrypt` action against the running server of a data directory.
pub async fn secrets_encrypt(cmd: SecretsEncrypt) -> anyhow::Result<()> {
    let (action, dd) = match &cmd {
        SecretsEncrypt::Status(d) => ("status", d),
        SecretsEncrypt::Rotate(d) => ("rotate", d),
        SecretsEncrypt::Reencrypt(d) => ("reencrypt", d),
    };
    let client = admin_client(&dd.data_dir).await?;
    let out = match action {
        "status" => call(&client, http::Method::GET, "status").await?,
        "reencrypt" => call(&client, http::Method::POST, "reencrypt").await?,
        _ => {
            let path = dd.encryption_provider_config.clone().unwrap_or_else(|| dd.data_dir.join("encryption-config.yaml"));
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let rotated = storage::encryption::rotate(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            // write the new file atomically, readable by its owner only
            pki::write_file(&path, rotated.as_bytes(), 0o600)?;
            call(&client, http::Method::POST, "reload").await?;
            call(&client, http::Method::POST, "reencrypt").await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("24h").unwrap(), 86400);
        assert_eq!(super::parse_duration("30m").unwrap(), 1800);
        assert_eq!(super::parse_duration("7d").unwrap(), 7 * 86400);
        assert!(super::parse_duration("10s").is_err());
        assert!(super::parse_duration("1y").is_err());
        assert!(super::parse_duration("abc").is_err());
    }
}
