//! ClusterRole aggregation: a role labelled `aggregate-to-view` extends `view`, and through the
//! nested aggregation `edit` and `admin`; its changes and its deletion follow.

mod support;

use std::time::Duration;

use support::{Server, eventually};

fn has_widgets(s: &Server, role: &str, verb: &str) -> bool {
    let rules = s.ok(&["get", "clusterrole", role, "-o", "jsonpath={range .rules[*]}{.resources}:{.verbs}{\"\\n\"}{end}"]);
    rules.lines().any(|l| l.contains("widgets") && l.contains(verb))
}

#[test]
fn aggregated_roles_follow_labelled_roles() {
    let s = Server::start();
    s.ok(&["create", "clusterrolebinding", "jane-view", "--clusterrole=view", "--user=jane"]);
    let jane_lists_secrets = || s.kubectl(&["auth", "can-i", "list", "secrets", "--as", "jane"]).stdout == b"yes\n";
    assert!(!jane_lists_secrets(), "view lets jane list secrets before any aggregation");
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: widgets-view\n  labels:\n    rbac.authorization.k8s.io/aggregate-to-view: \"true\"\nrules:\n- apiGroups: [example.com]\n  resources: [widgets]\n  verbs: [get, list, watch]\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [list]\n",
    );
    for role in ["view", "edit", "admin"] {
        eventually(Duration::from_secs(20), &format!("widgets in {role}"), || has_widgets(&s, role, "list"));
    }
    eventually(Duration::from_secs(10), "jane (bound to view) may list secrets", jane_lists_secrets);
    // A change of the labelled role follows.
    s.ok(&["patch", "clusterrole", "widgets-view", "--type=json", "-p", r#"[{"op":"add","path":"/rules/0/verbs/-","value":"deletecollection"}]"#]);
    eventually(Duration::from_secs(20), "deletecollection in admin", || has_widgets(&s, "admin", "deletecollection"));
    // Deleted: its rules leave the aggregated roles.
    s.ok(&["delete", "clusterrole", "widgets-view"]);
    for role in ["view", "edit", "admin"] {
        eventually(Duration::from_secs(20), &format!("widgets gone from {role}"), || !has_widgets(&s, role, "get"));
    }
    eventually(Duration::from_secs(10), "jane may no longer list secrets", || !jane_lists_secrets());
    // The built-in rules are still there.
    assert!(s.ok(&["get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"]).contains("configmaps"));
}
