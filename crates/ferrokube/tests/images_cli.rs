//! `ferrokube images build-test` and `ferrokube images import` against a real containerd.

use std::process::Command;

use cri::containerd::{Containerd, Options};

fn ferrokube() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferrokube"))
}

#[tokio::test]
async fn build_test_then_import_into_containerd() {
    let tmp = tempfile::Builder::new().prefix("fk-images").tempdir_in("/tmp").unwrap();
    let out = tmp.path().join("out");
    let built = ferrokube().args(["images", "build-test", "--out"]).arg(&out).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let listing = String::from_utf8_lossy(&built.stdout);
    assert!(listing.contains("busybox.tar\tdocker.io/library/busybox:1.35\tsha256:"), "{listing}");
    assert!(listing.contains("pause.tar\tlocalhost/ferrokube/pause:1\tsha256:"), "{listing}");

    // The default endpoint is the agent's containerd of --data-dir.
    let data_dir = tmp.path().join("data");
    let ctrd = Containerd::start(Options::new(data_dir.join("agent"))).await.unwrap();
    let imported = ferrokube()
        .args(["images", "import", "--data-dir"])
        .arg(&data_dir)
        .arg(out.join("busybox.tar"))
        .arg(out.join("pause.tar"))
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let text = String::from_utf8_lossy(&imported.stdout);
    assert!(text.contains("busybox.tar\tdocker.io/library/busybox:1.35"), "{text}");
    assert!(text.contains("pause.tar\tlocalhost/ferrokube/pause:1"), "{text}");
    let mut rt = ctrd.connect().await.unwrap();
    assert!(cri::images::image_id(&mut rt, "busybox:1.35").await.unwrap().is_some());

    // A file that is no image archive fails with its name; so does an endpoint nobody serves.
    let junk = tmp.path().join("junk.tar");
    std::fs::write(&junk, "junk").unwrap();
    let failed = ferrokube().args(["images", "import", "--container-runtime-endpoint", &ctrd.endpoint()]).arg(&junk).output().unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("junk.tar"), "{}", String::from_utf8_lossy(&failed.stderr));
    ctrd.stop().await.unwrap();
    let nobody = format!("unix://{}", tmp.path().join("none.sock").display());
    let failed = ferrokube().args(["images", "import", "--container-runtime-endpoint", &nobody]).arg(out.join("pause.tar")).output().unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("none.sock"), "{err}");
}
