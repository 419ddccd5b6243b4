//! The restricted checks.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Volume;

use super::baseline::{containers_phrase, seccomp_bad_setters, valid_seccomp_type};
use super::{Ctx, Violation};
use crate::text::{join_quote, pluralize};

/// allowPrivilegeEscalation (1.8+; Windows pods exempt from 1.25): every container must set
/// `allowPrivilegeEscalation: false`.
pub(super) fn allow_privilege_escalation(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.minor >= 25 && ctx.is_windows() {
        return None;
    }
    let containers = ctx.containers();
    let bad: Vec<&str> = containers
        .iter()
        .filter(|c| {
            c.security_context
                .and_then(|sc| sc.allow_privilege_escalation)
                != Some(false)
        })
        .map(|c| c.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Violation::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    ))
}

/// capabilities_restricted (1.22+, replaces capabilities_baseline; Windows pods exempt from
/// 1.25): drop must include `ALL`, add may only hold `NET_BIND_SERVICE`.
pub(super) fn capabilities(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.minor >= 25 && ctx.is_windows() {
        return None;
    }
    let containers = ctx.containers();
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden_caps: BTreeSet<&str> = BTreeSet::new();
    for c in &containers {
        let Some(caps) = c.security_context.and_then(|sc| sc.capabilities.as_ref()) else {
            missing_drop_all.push(c.name);
            continue;
        };
        if !caps.drop.iter().flatten().any(|d| d == "ALL") {
            missing_drop_all.push(c.name);
        }
        let mut added_forbidden = false;
        for a in caps.add.iter().flatten() {
            if a != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden_caps.insert(a);
            }
        }
        if added_forbidden {
            adding_forbidden.push(c.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let caps: Vec<&str> = forbidden_caps.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&caps)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(Violation::new(
        "unrestricted capabilities",
        details.join("; "),
    ))
}

/// The volume-source name upstream reports for a restricted volume (`unknown` for a source it
/// does not know, such as `image` in 1.32 or no source at all).
fn restricted_volume_type(v: &Volume) -> &'static str {
    if v.host_path.is_some() {
        "hostPath"
    } else if v.gce_persistent_disk.is_some() {
        "gcePersistentDisk"
    } else if v.aws_elastic_block_store.is_some() {
        "awsElasticBlockStore"
    } else if v.git_repo.is_some() {
        "gitRepo"
    } else if v.nfs.is_some() {
        "nfs"
    } else if v.iscsi.is_some() {
        "iscsi"
    } else if v.glusterfs.is_some() {
        "glusterfs"
    } else if v.rbd.is_some() {
        "rbd"
    } else if v.flex_volume.is_some() {
        "flexVolume"
    } else if v.cinder.is_some() {
        "cinder"
    } else if v.cephfs.is_some() {
        "cephfs"
    } else if v.flocker.is_some() {
        "flocker"
    } else if v.fc.is_some() {
        "fc"
    } else if v.azure_file.is_some() {
        "azureFile"
    } else if v.vsphere_volume.is_some() {
        "vsphereVolume"
    } else if v.quobyte.is_some() {
        "quobyte"
    } else if v.azure_disk.is_some() {
        "azureDisk"
    } else if v.photon_persistent_disk.is_some() {
        "photonPersistentDisk"
    } else if v.portworx_volume.is_some() {
        "portworxVolume"
    } else if v.scale_io.is_some() {
        "scaleIO"
    } else if v.storageos.is_some() {
        "storageos"
    } else {
        "unknown"
    }
}

/// restrictedVolumes (1.0+, replaces hostPathVolumes): only configMap, csi, downwardAPI,
/// emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.
pub(super) fn volumes(ctx: &Ctx<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&'static str> = BTreeSet::new();
    for v in ctx.spec.volumes.iter().flatten() {
        let allowed = v.config_map.is_some()
            || v.csi.is_some()
            || v.downward_api.is_some()
            || v.empty_dir.is_some()
            || v.ephemeral.is_some()
            || v.persistent_volume_claim.is_some()
            || v.projected.is_some()
            || v.secret.is_some();
        if allowed {
            continue;
        }
        bad.push(v.name.as_str());
        types.insert(restricted_volume_type(v));
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Violation::new(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    ))
}

/// runAsNonRoot (1.0+): the pod sets `runAsNonRoot: true` (containers may then leave it unset)
/// or every container does; nobody sets it false.
pub(super) fn run_as_non_root(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.relaxed_for_user_namespace() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut pod_true = false;
    match ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_non_root)
    {
        Some(false) => setters.push("pod".into()),
        Some(true) => pod_true = true,
        None => {}
    }
    let containers = ctx.containers();
    let mut explicit_bad = Vec::new();
    let mut implicit_bad = Vec::new();
    for c in &containers {
        match c.security_context.and_then(|sc| sc.run_as_non_root) {
            Some(false) => explicit_bad.push(c.name),
            Some(true) => {}
            None if !pod_true => implicit_bad.push(c.name),
            None => {}
        }
    }
    if !explicit_bad.is_empty() {
        setters.push(containers_phrase(&explicit_bad));
    }
    if !setters.is_empty() {
        return Some(Violation::new(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    if !implicit_bad.is_empty() {
        return Some(Violation::new(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicit_bad)
            ),
        ));
    }
    None
}

/// runAsUser (1.23+): nobody sets `runAsUser: 0`.
pub(super) fn run_as_user(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.relaxed_for_user_namespace() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    if ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_user)
        == Some(0)
    {
        setters.push("pod".into());
    }
    let containers = ctx.containers();
    let bad: Vec<&str> = containers
        .iter()
        .filter(|c| c.security_context.and_then(|sc| sc.run_as_user) == Some(0))
        .map(|c| c.name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Violation::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    ))
}

/// seccompProfile_restricted (1.19+, replaces seccompProfile_baseline; Windows pods exempt
/// from 1.25): RuntimeDefault or Localhost must be set on the pod or on every container.
pub(super) fn seccomp_profile(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.minor >= 25 && ctx.is_windows() {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<String> = BTreeSet::new();
    let mut pod_set = false;
    if let Some(p) = ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
    {
        if valid_seccomp_type(&p.type_) {
            pod_set = true;
        } else {
            setters.push("pod".into());
            bad_values.insert(p.type_.clone());
        }
    }
    let containers = ctx.containers();
    let mut explicit_bad = Vec::new();
    let mut implicit_bad = Vec::new();
    for c in &containers {
        match c
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref())
        {
            Some(p) if !valid_seccomp_type(&p.type_) => {
                explicit_bad.push(c.name);
                bad_values.insert(p.type_.clone());
            }
            Some(_) => {}
            None if !pod_set => implicit_bad.push(c.name),
            None => {}
        }
    }
    if !explicit_bad.is_empty() {
        setters.push(containers_phrase(&explicit_bad));
    }
    if !setters.is_empty() {
        let values: Vec<String> = bad_values.into_iter().collect();
        return Some(seccomp_bad_setters(&setters, &values));
    }
    if !implicit_bad.is_empty() {
        return Some(Violation::new(
            "seccompProfile",
            format!(
                r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
                containers_phrase(&implicit_bad)
            ),
        ));
    }
    None
}
