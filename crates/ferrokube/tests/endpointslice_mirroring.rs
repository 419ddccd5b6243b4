//! EndpointSlice mirroring through kubectl 1.32: the Endpoints of a Service without a selector
//! are mirrored into an EndpointSlice that follows their changes and goes away when they are
//! labelled skip-mirror; a Service with a selector is left to the EndpointSlice controller.

mod support;

use std::time::Duration;

use support::{Server, eventually};

const MIRROR: &str = "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io";

fn mirrored(s: &Server, service: &str) -> String {
    s.ok(&[
        "get",
        "endpointslices",
        "-l",
        &format!("{MIRROR},kubernetes.io/service-name={service}"),
        "-o",
        "jsonpath={range .items[*]}{.addressType}|{.ports[0].port}|{range .endpoints[*]}{.addresses[0]}={.conditions.ready} {end}|{.metadata.ownerReferences[0].kind}\n{end}",
    ])
    .trim()
    .to_string()
}

#[test]
fn endpoints_of_a_selectorless_service_are_mirrored() {
    let s = Server::start();
    let manifests = "apiVersion: v1\nkind: Service\nmetadata:\n  name: external\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n---\n\
        apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: external\nsubsets:\n- addresses: [{ip: 192.0.2.10}, {ip: 192.0.2.11}]\n  \
        notReadyAddresses: [{ip: 192.0.2.12}]\n  ports: [{port: 8080}]\n";
    s.ok_stdin(&["apply", "-f", "-"], manifests);
    eventually(Duration::from_secs(20), "the mirrored slice", || mirrored(&s, "external").contains("192.0.2.12"));
    assert_eq!(mirrored(&s, "external"), "IPv4|8080|192.0.2.10=true 192.0.2.11=true 192.0.2.12=false |Endpoints");
    // an unchanged mirror is left alone (not rewritten or recreated pass after pass)
    let name_rv = |s: &Server| s.ok(&["get", "endpointslices", "-l", &format!("{MIRROR},kubernetes.io/service-name=external"), "-o", "jsonpath={.items[*].metadata.name}/{.items[*].metadata.resourceVersion}"]);
    let before = name_rv(&s);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(name_rv(&s), before, "the mirror churned");

    // changes follow
    s.ok(&["patch", "endpoints", "external", "--type=json", "-p", r#"[{"op":"replace","path":"/subsets/0/addresses","value":[{"ip":"192.0.2.20"}]}]"#]);
    eventually(Duration::from_secs(20), "the updated slice", || mirrored(&s, "external") == "IPv4|8080|192.0.2.20=true 192.0.2.12=false |Endpoints");

    // skip-mirror removes the mirror
    s.ok(&["label", "endpoints", "external", "endpointslice.kubernetes.io/skip-mirror=true"]);
    eventually(Duration::from_secs(20), "no mirror", || mirrored(&s, "external").is_empty());

    // a Service with a selector: its Endpoints are the endpoints controller's, not mirrored
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: v1\nkind: Service\nmetadata:\n  name: selected\nspec:\n  selector: {app: x}\n  ports: [{port: 80}]\n");
    eventually(Duration::from_secs(20), "the controller's slice", || {
        !s.ok(&["get", "endpointslices", "-l", "kubernetes.io/service-name=selected", "-o", "name"]).trim().is_empty()
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(mirrored(&s, "selected").is_empty());
}
