//! `ferrokube images`: build the test images as OCI archives and import archives into a
//! node's containerd, without a registry (the work is done by `cri::images`).

use std::path::PathBuf;

use anyhow::Context as _;

/// `ferrokube images ...`.
#[derive(clap::Subcommand, Debug)]
pub enum ImagesCommand {
    /// Build the test images as OCI image-layout archives: busybox.tar
    /// (docker.io/library/busybox:1.35, from Debian's busybox-static) and pause.tar
    /// (localhost/ferrokube/pause:1, compiled with cc -static).
    BuildTest(BuildTestArgs),
    /// Import image archives (OCI layout or docker save; .tar, .tar.gz) into a containerd's
    /// k8s.io namespace, the one its CRI serves, and check that CRI shows them.
    Import(ImportArgs),
}

/// Flags of `ferrokube images build-test`.
#[derive(clap::Args, Debug)]
pub struct BuildTestArgs {
    /// The directory to write busybox.tar and pause.tar to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Flags of `ferrokube images import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The containerd to import into (unix:///path/to.sock); by default the node agent's of
    /// --data-dir.
    #[arg(long)]
    pub container_runtime_endpoint: Option<String>,
    /// The server's data directory, whose agent runs containerd at
    /// <data-dir>/agent/containerd/containerd.sock.
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// The archives to import.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs an `images` subcommand.
pub async fn run(cmd: ImagesCommand) -> anyhow::Result<()> {
    match cmd {
        ImagesCommand::BuildTest(args) => {
            let out = args.out;
            let built = tokio::task::spawn_blocking(move || cri::images::build_test_images(&out)).await??;
            for b in built {
                println!("{}\t{}\t{}", b.path.display(), b.name, b.config_digest);
            }
            Ok(())
        }
        ImagesCommand::Import(args) => {
            let endpoint = match args.container_runtime_endpoint {
                Some(endpoint) => endpoint,
                None => {
                    let dir = std::path::absolute(&args.data_dir)
                        .with_context(|| format!("data directory {}", args.data_dir.display()))?;
                    let agent = dir.join("agent");
                    format!("unix://{}", cri::containerd::Paths::new(&agent).socket.display())
                }
            };
            for file in &args.files {
                let names = cri::images::import(&endpoint, file).await?;
                if names.is_empty() {
                    println!("{}\t(unnamed image)", file.display());
                }
                for name in names {
                    println!("{}\t{}", file.display(), name);
                }
            }
            Ok(())
        }
    }
}
