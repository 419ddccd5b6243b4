//! Image pulls on a real node: a local registry (Debian's docker-registry, the CNCF distribution
//! registry, on loopback with htpasswd auth) holds the busybox test image; a pod with a
//! `kubernetes.io/dockerconfigjson` pull secret pulls it, one without gets upstream's
//! ErrImagePull/ImagePullBackOff, and `imagePullPolicy: Never` for an absent image gives
//! ErrImageNeverPull.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{Server, eventually};

struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry(user: &str, password: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let out = Command::new("htpasswd").args(["-Bbc"]).arg(&htpasswd).args([user, password]).output().expect("htpasswd (apache2-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let port = support::free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: ferrokube-test\n    path: {htpasswd}\n",
        root = dir.path().join("store").display(),
        htpasswd = htpasswd.display()
    );
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let child = Command::new("docker-registry").arg("serve").arg(&cfg).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("docker-registry");
    let r = Registry { child, port, _dir: dir };
    eventually(Duration::from_secs(20), "registry listening", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    r
}

#[test]
fn pull_secrets_and_pull_policies() {
    let reg = registry("puller", "s3cret");
    let host = format!("127.0.0.1:{}", reg.port);
    // push the busybox test image into the registry
    let images = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokube")).args(["images", "build-test", "--out"]).arg(images.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", "puller:s3cret"])
        .arg(format!("oci-archive:{}", images.path().join("busybox.tar").display()))
        .arg(format!("docker://{host}/private/busybox:1.35"))
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&out.stderr));

    let s = Server::start_node("node-i", &[]);
    // containerd reaches the registry over plain HTTP through a hosts.toml (read at each pull)
    let hosts = s.data_dir().join("agent/containerd/certs.d").join(&host);
    std::fs::create_dir_all(&hosts).unwrap();
    std::fs::write(hosts.join("hosts.toml"), format!("server = \"http://{host}\"\n\n[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n")).unwrap();

    s.ok(&["create", "secret", "docker-registry", "regcred", &format!("--docker-server={host}"), "--docker-username=puller", "--docker-password=s3cret"]);
    let image = format!("{host}/private/busybox:1.35");
    let pod = |name: &str, extra: &str, image: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{extra}  containers:\n  - name: c\n    image: {image}\n    imagePullPolicy: Always\n    command: [sleep, '3600']\n")
    };
    s.ok_stdin(&["apply", "-f", "-"], &pod("with-secret", "  imagePullSecrets: [{name: regcred}]\n", &image));
    s.ok_stdin(&["apply", "-f", "-"], &pod("without-secret", "", &image));
    s.ok_stdin(&["apply", "-f", "-"], &pod("never", "", "docker.io/library/absent:1").replace("imagePullPolicy: Always", "imagePullPolicy: Never"));

    eventually(Duration::from_secs(60), "the pod with the pull secret Running", || {
        s.ok(&["get", "pod", "with-secret", "-o", "jsonpath={.status.phase}"]) == "Running"
    });
    let ev = s.ok(&["get", "events", "--field-selector", "involvedObject.name=with-secret", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);
    assert!(ev.contains(&format!("Pulling: Pulling image \"{image}\"")), "{ev}");
    assert!(ev.contains(&format!("Pulled: Successfully pulled image \"{image}\"")), "{ev}");
    let id = s.ok(&["get", "pod", "with-secret", "-o", "jsonpath={.status.containerStatuses[0].imageID}"]);
    assert!(id.starts_with(&format!("{host}/private/busybox@sha256:")), "the pulled image is known by its repository digest: {id}");

    // no credentials: the registry refuses, the kubelet backs off
    eventually(Duration::from_secs(60), "ImagePullBackOff", || {
        let r = s.ok(&["get", "pod", "without-secret", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]);
        r == "ImagePullBackOff" || r == "ErrImagePull"
    });
    let msg = s.ok(&["get", "pod", "without-secret", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"]);
    assert!(msg.contains(&image), "{msg}");
    let ev = s.ok(&["get", "events", "--field-selector", "involvedObject.name=without-secret,reason=Failed", "-o", "jsonpath={.items[*].message}"]);
    assert!(ev.contains("Failed to pull image") && ev.contains("Error: ErrImagePull"), "{ev}");
    assert!(ev.to_lowercase().contains("unauthorized") || ev.contains("401"), "the registry's refusal is passed on: {ev}");

    // Never: an absent image is not pulled
    eventually(Duration::from_secs(30), "ErrImageNeverPull", || {
        s.ok(&["get", "pod", "never", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]) == "ErrImageNeverPull"
    });
    let msg = s.ok(&["get", "pod", "never", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"]);
    assert_eq!(msg, "Container image \"docker.io/library/absent:1\" is not present with pull policy of Never");
}
