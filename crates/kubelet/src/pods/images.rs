//! Image pulls for containers: the pull policy, credentials from `kubernetes.io/dockerconfigjson`
//! pull secrets, and upstream's waiting reasons (ErrImagePull, ImagePullBackOff, ErrImageNeverPull).

use base64::Engine;
use cri::api;
use k8s_openapi::api::core::v1::{Container, Pod, Secret};
use kube::api::Api;

/// A pull that did not give an image.
#[derive(Debug)]
pub struct PullError {
    /// Waiting reason.
    pub reason: &'static str,
    /// Message for status and event.
    pub message: String,
}

/// The registry host of a normalised image reference.
pub fn registry_of(image: &str) -> &str {
    image.split('/').next().unwrap_or("docker.io")
}

/// Credentials for `image` from a dockerconfigjson document (`{"auths": {host: {...}}}`).
pub fn auth_for(doc: &serde_json::Value, image: &str) -> Option<api::AuthConfig> {
    let host = registry_of(image);
    let auths = doc.get("auths").and_then(|a| a.as_object())?;
    for (key, v) in auths {
        let key_host = key.trim_start_matches("https://").trim_start_matches("http://").split('/').next().unwrap_or("");
        let matches = key_host == host || (host == "docker.io" && (key_host == "index.docker.io" || key_host == "registry-1.docker.io"));
        if !matches {
            continue;
        }
        let mut a = api::AuthConfig {
            username: v.get("username").and_then(|x| x.as_str()).unwrap_or("").into(),
            password: v.get("password").and_then(|x| x.as_str()).unwrap_or("").into(),
            auth: v.get("auth").and_then(|x| x.as_str()).unwrap_or("").into(),
            // left empty: containerd parses it as a URL and drops credentials whose
            // address has no scheme; the registry was matched above
            server_address: String::new(),
            ..Default::default()
        };
        if a.username.is_empty()
            && !a.auth.is_empty()
            && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(&a.auth)
            && let Some((u, p)) = String::from_utf8_lossy(&raw).split_once(':')
        {
            a.username = u.into();
            a.password = p.into();
        }
        return Some(a);
    }
    None
}

async fn credentials(client: &kube::Client, pod: &Pod, image: &str) -> Vec<api::AuthConfig> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let mut out = Vec::new();
    for r in pod.spec.as_ref().and_then(|s| s.image_pull_secrets.clone()).unwrap_or_default() {
        let Ok(s) = secrets.get(&r.name).await else { continue };
        let data = s.data.unwrap_or_default();
        let doc = data
            .get(".dockerconfigjson")
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b.0).ok())
            .or_else(|| data.get(".dockercfg").and_then(|b| serde_json::from_slice::<serde_json::Value>(&b.0).ok()).map(|v| serde_json::json!({"auths": v})));
        if let Some(a) = doc.and_then(|d| auth_for(&d, image)) {
            out.push(a);
        }
    }
    out
}

/// What happened: whether a pull was made (for the Pulling/Pulled events) and the image ref.
pub struct Pulled {
    /// The image id (digest) the runtime holds.
    pub image_ref: String,
    /// Whether the image was pulled now (else already present).
    pub pulled: bool,
    /// Pull duration.
    pub took: std::time::Duration,
    /// The user the image runs as.
    pub user: ImageUser,
}

/// The user an image's config names, as CRI ImageStatus reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageUser {
    /// A numeric user.
    pub uid: Option<i64>,
    /// A user name (when not numeric).
    pub username: String,
}

impl ImageUser {
    /// Upstream's `getImageUser`: a numeric uid, else a name, else root.
    pub fn from_image(image: &api::Image) -> ImageUser {
        match (&image.uid, image.username.as_str()) {
            (Some(u), _) => ImageUser { uid: Some(u.value), username: String::new() },
            (None, name) if !name.is_empty() => ImageUser { uid: None, username: name.to_string() },
            _ => ImageUser { uid: Some(0), username: String::new() },
        }
    }
}

async fn image_user(images: &mut api::image_service_client::ImageServiceClient<tonic::transport::Channel>, image: &str) -> ImageUser {
    let spec = api::ImageSpec { image: image.into(), ..Default::default() };
    images
        .image_status(api::ImageStatusRequest { image: Some(spec), verbose: false })
        .await
        .ok()
        .and_then(|r| r.into_inner().image)
        .map(|i| ImageUser::from_image(&i))
        .unwrap_or(ImageUser { uid: Some(0), username: String::new() })
}

/// Makes the container's image present per its pull policy.
pub async fn ensure(rt: &cri::Runtime, client: &kube::Client, pod: &Pod, c: &Container, image: &str) -> Result<Pulled, PullError> {
    let mut images = rt.images.clone();
    let spec = api::ImageSpec { image: image.into(), ..Default::default() };
    let present_image = images.image_status(api::ImageStatusRequest { image: Some(spec.clone()), verbose: false }).await.ok().and_then(|r| r.into_inner().image);
    let present = present_image.as_ref().map(|i| i.id.clone());
    let tag_latest = !image.contains('@') && image.ends_with(":latest");
    let policy = c.image_pull_policy.clone().unwrap_or_else(|| if tag_latest { "Always".into() } else { "IfNotPresent".into() });
    match (policy.as_str(), &present) {
        ("Never", None) => {
            return Err(PullError {
                reason: "ErrImageNeverPull",
                message: format!("Container image \"{}\" is not present with pull policy of Never", c.image.clone().unwrap_or_default()),
            });
        }
        ("Never" | "IfNotPresent", Some(id)) => {
            let user = present_image.as_ref().map(ImageUser::from_image).unwrap_or_default();
            return Ok(Pulled { image_ref: id.clone(), pulled: false, took: Default::default(), user });
        }
        _ => {}
    }
    let started = std::time::Instant::now();
    let auths = credentials(client, pod, image).await;
    let mut last = String::new();
    for auth in auths.into_iter().map(Some).chain(std::iter::once(None)) {
        match images.pull_image(api::PullImageRequest { image: Some(spec.clone()), auth, sandbox_config: None }).await {
            Ok(r) => {
                let image_ref = r.into_inner().image_ref;
                let user = image_user(&mut images, &image_ref).await;
                return Ok(Pulled { image_ref, pulled: true, took: started.elapsed(), user });
            }
            Err(e) => last = e.message().to_string(),
        }
    }
    Err(PullError { reason: "ErrImagePull", message: format!("failed to pull and unpack image \"{image}\": {last}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_the_registry() {
        let doc = serde_json::json!({"auths": {
            "https://index.docker.io/v1/": {"auth": base64::engine::general_purpose::STANDARD.encode("u:p")},
            "127.0.0.1:5000": {"username": "a", "password": "b"}
        }});
        let d = auth_for(&doc, "docker.io/library/busybox:1.35").unwrap();
        assert_eq!((d.username.as_str(), d.password.as_str()), ("u", "p"));
        let l = auth_for(&doc, "127.0.0.1:5000/app:1").unwrap();
        assert_eq!(l.username, "a");
        assert!(auth_for(&doc, "quay.io/x:1").is_none());
    }
}
