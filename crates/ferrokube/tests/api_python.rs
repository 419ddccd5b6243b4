//! The official Kubernetes Python client (`pip install kubernetes`) against `ferrokube server`.

mod support;

use support::Server;

#[test]
fn python_client_works_unchanged() {
    let s = Server::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_smoke.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&s.kubeconfig)
        .env("HOME", s.path())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("created pycm"), "{stdout}");
    assert!(stdout.contains("event ADDED pycm"), "{stdout}");
    assert!(stdout.contains("deployment pyd 1 RollingUpdate"), "{stdout}");
    assert!(stdout.contains("error 404 Not Found"), "{stdout}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}
