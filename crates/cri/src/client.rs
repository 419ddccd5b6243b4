//! A CRI connection: the runtime and image services over one gRPC channel to a unix socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint};

/// What can go wrong reaching a runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint is not a unix socket path or `unix://` URL.
    #[error("container runtime endpoint {0:?}: only unix sockets are supported (unix:///path/to.sock)")]
    Endpoint(String),
    /// The socket did not answer.
    #[error("container runtime at {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: tonic::transport::Error,
    },
    /// The runtime answered with an error.
    #[error("container runtime: {0}")]
    Status(#[from] tonic::Status),
}

/// Both CRI services on one channel. Clients are cheap to clone.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// `runtime.v1.RuntimeService`: sandboxes, containers, exec/attach/port-forward URLs.
    pub runtime: RuntimeServiceClient<Channel>,
    /// `runtime.v1.ImageService`: pull, list, status, remove.
    pub images: ImageServiceClient<Channel>,
    /// The socket this talks to.
    pub socket: PathBuf,
}

/// The socket path of an endpoint given as `unix:///path` or a plain path.
pub fn socket_path(endpoint: &str) -> Result<PathBuf, Error> {
    let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    if path.is_empty() || !path.starts_with('/') {
        return Err(Error::Endpoint(endpoint.to_string()));
    }
    Ok(PathBuf::from(path))
}

/// Connects to the CRI runtime listening on `endpoint` (`unix:///run/containerd/containerd.sock`
/// or a path). Fails when nothing answers on the socket.
pub async fn connect(endpoint: &str) -> Result<Runtime, Error> {
    let path = socket_path(endpoint)?;
    let channel = channel(&path).await.map_err(|source| Error::Connect { path: path.clone(), source })?;
    // CRI messages (image lists, container stats) can exceed tonic's 4 MiB default.
    let max = 16 * 1024 * 1024;
    Ok(Runtime {
        runtime: RuntimeServiceClient::new(channel.clone()).max_decoding_message_size(max),
        images: ImageServiceClient::new(channel).max_decoding_message_size(max),
        socket: path,
    })
}

async fn channel(path: &Path) -> Result<Channel, tonic::transport::Error> {
    let path = path.to_path_buf();
    // The URI is required by tonic but unused: the connector dials the socket.
    Endpoint::from_static("http://cri.invalid")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(path).await?)) }
        }))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_unix_sockets() {
        assert_eq!(socket_path("unix:///run/c.sock").unwrap(), PathBuf::from("/run/c.sock"));
        assert_eq!(socket_path("/run/c.sock").unwrap(), PathBuf::from("/run/c.sock"));
        assert!(socket_path("tcp://127.0.0.1:1").is_err());
        assert!(socket_path("unix://").is_err());
        assert!(socket_path("relative.sock").is_err());
    }
}
