//! Tests for apps/v1 and batch/v1 kinds.

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
        "ports": [{"containerPort": 80}], "resources": {"requests": {"cpu": "100m"}}}]}})
}

fn base_deployment() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web", "tier": "fe"})),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "revisionHistoryLimit": 5, "progressDeadlineSeconds": 600, "minReadySeconds": 10}})
}

#[test]
fn deployments() {
    let d: apps::Deployment = obj(base_deployment());
    assert_eq!(strings(deployment(&d)), Vec::<String>::new());
    assert!(deployment_update(&d, &d).is_empty());
    let cases = vec![
        (
            "selector mismatch",
            json!({"spec": {"selector": {"matchLabels": {"app": "db"}}}}),
            vec![s("spec.template.metadata.labels: Invalid value: {\"app\":\"web\",\"tier\":\"fe\"}: `selector` does not match template `labels`")],
        ),
        (
            "empty selector",
            json!({"spec": {"selector": {"matchLabels": null}}}),
            vec![s("spec.selector: Invalid value: {}: empty selector is invalid for deployment")],
        ),
        (
            "bad selector",
            json!({"spec": {"selector": {"matchLabels": null, "matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]}}}),
            vec![
                s("spec.selector.matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator"),
                s("spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Equals\",\"values\":[\"web\"]}]}: invalid label selector"),
            ],
        ),
        ("negative replicas", json!({"spec": {"replicas": -1}}), vec![s("spec.replicas: Invalid value: -1: must be greater than or equal to 0")]),
        (
            "strategy",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "150%"}}}}),
            vec![s("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%")],
        ),
        (
            "both zero",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 0}}}}),
            vec![s("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0")],
        ),
        (
            "bad percent",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "x%"}}}}),
            vec![
                s("spec.strategy.rollingUpdate.maxSurge: Invalid value: \"x%\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"),
                s("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
            ],
        ),
        (
            "recreate with rolling update",
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
            vec![s("spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'")],
        ),
        (
            "strategy type",
            json!({"spec": {"strategy": {"type": "BlueGreen", "rollingUpdate": null}}}),
            vec![s("spec.strategy: Unsupported value: {\"type\":\"BlueGreen\"}: supported values: \"Recreate\", \"RollingUpdate\"")],
        ),
        (
            "progress deadline",
            json!({"spec": {"progressDeadlineSeconds": 10}}),
            vec![s("spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds")],
        ),
        (
            "template restart policy and container",
            json!({"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "Web", "image": "nginx"}]}}}}),
            vec![
                format!("spec.template.spec.containers[0].name: Invalid value: \"Web\": {LABEL_MSG}"),
                s("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""),
            ],
        ),
    ];
    check_table::<apps::Deployment>(&base_deployment(), deployment, &cases);
    let changed: apps::Deployment = obj(merge(&base_deployment(), &json!({"spec": {"selector": {"matchLabels": {"app": "web", "tier": "fe"}}}})));
    assert_eq!(
        strings(deployment_update(&changed, &d)),
        vec![s("spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"}}: field is immutable")]
    );
    let st: apps::Deployment = obj(merge(&base_deployment(), &json!({"status": {"replicas": 1, "updatedReplicas": 2, "collisionCount": 1}})));
    let old_st: apps::Deployment = obj(merge(&base_deployment(), &json!({"status": {"collisionCount": 2}})));
    assert_eq!(
        strings(deployment_status_update(&st, &old_st)),
        vec![
            s("status.updatedReplicas: Invalid value: 2: cannot be greater than status.replicas"),
            s("status.collisionCount: Invalid value: 1: cannot be decremented"),
        ]
    );
}

#[test]
fn replica_sets_and_daemon_sets() {
    let rs = json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"}))}});
    assert!(replica_set(&obj(rs.clone())).is_empty());
    let cases = vec![
        ("empty selector", json!({"spec": {"selector": {"matchLabels": null}}}), vec![s("spec.selector: Invalid value: {}: empty selector is invalid for deployment")]),
        ("no template", json!({"spec": {"template": null}}), vec![s("spec.template: Required value")]),
        (
            "deadline",
            json!({"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}}),
            vec![s("spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported")],
        ),
    ];
    check_table::<apps::ReplicaSet>(&rs, replica_set, &cases);
    let old: apps::ReplicaSet = obj(rs.clone());
    let new: apps::ReplicaSet = obj(merge(&rs, &json!({"spec": {"selector": {"matchLabels": {"app": "web", "x": "y"}}}})));
    let got = strings(replica_set_update(&new, &old));
    assert_eq!(got.last().unwrap(), "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"x\":\"y\"}}: field is immutable");

    let ds = json!({"spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template(json!({"app": "agent"})),
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}}});
    assert!(daemon_set(&obj(ds.clone())).is_empty());
    let cases = vec![
        (
            "surge and unavailable",
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"maxSurge": 1}}}}),
            vec![s("spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero")],
        ),
        (
            "both zero",
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0}}}}),
            vec![s("spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0")],
        ),
        (
            "bad type",
            json!({"spec": {"updateStrategy": {"type": "Canary", "rollingUpdate": null}}}),
            vec![s("spec.updateStrategy: Unsupported value: {\"type\":\"Canary\"}: supported values: \"RollingUpdate\", \"OnDelete\"")],
        ),
        (
            "mismatch and restart policy",
            json!({"spec": {"template": {"metadata": {"labels": {"app": "other"}}, "spec": {"restartPolicy": "OnFailure"}}}}),
            vec![
                s("spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"),
                s("spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""),
            ],
        ),
        (
            "empty selector",
            json!({"spec": {"selector": {"matchLabels": null}}}),
            vec![s("spec.selector: Invalid value: {}: empty selector is invalid for daemonset")],
        ),
    ];
    check_table::<apps::DaemonSet>(&ds, daemon_set, &cases);
}

fn base_stateful_set() -> Value {
    json!({"spec": {"serviceName": "db", "replicas": 3, "selector": {"matchLabels": {"app": "db"}}, "template": template(json!({"app": "db"})),
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"}}})
}

#[test]
fn stateful_sets() {
    let ss: apps::StatefulSet = obj(base_stateful_set());
    assert!(stateful_set(&ss).is_empty());
    let cases = vec![
        (
            "policies",
            json!({"spec": {"podManagementPolicy": "Random", "updateStrategy": {"type": "OnDelete"},
                "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Keep"}, "ordinals": {"start": -1}}}),
            vec![
                s("spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"),
                s("spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":0}: only allowed for updateStrategy 'RollingUpdate'"),
                s("spec.persistentVolumeClaimRetentionPolicy.whenScaled: Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\""),
                s("spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0"),
            ],
        ),
        (
            "partition",
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": -2, "maxUnavailable": 0}}}}),
            vec![
                s("spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0"),
                s("spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"),
            ],
        ),
        (
            "template",
            json!({"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"activeDeadlineSeconds": 1, "containers": [{"name": "BAD"}]}}}}),
            vec![
                s("spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"),
                s("spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported"),
            ],
        ),
    ];
    check_table::<apps::StatefulSet>(&base_stateful_set(), stateful_set, &cases);
    let scaled: apps::StatefulSet = obj(merge(&base_stateful_set(), &json!({"spec": {"replicas": 5, "minReadySeconds": 3}})));
    assert!(stateful_set_update(&scaled, &ss).is_empty());
    let renamed: apps::StatefulSet = obj(merge(&base_stateful_set(), &json!({"spec": {"serviceName": "db2"}})));
    assert_eq!(
        strings(stateful_set_update(&renamed, &ss)),
        vec![s("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
    );
    let st: apps::StatefulSet = obj(merge(&base_stateful_set(), &json!({"status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 2}})));
    assert_eq!(
        strings(stateful_set_status_update(&st, &st)),
        vec![
            s("status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas"),
            s("status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas"),
        ]
    );
    let cr: apps::ControllerRevision = obj(json!({"metadata": {"name": "r"}, "revision": -1}));
    assert_eq!(
        strings(controller_revision(&cr)),
        vec![s("data: Required value: data is mandatory"), s("revision: Invalid value: -1: must be greater than or equal to 0")]
    );
}

fn base_job() -> Value {
    let mut j: batch::Job = obj(json!({"metadata": {"name": "pi", "namespace": "default", "uid": "1234-5678"},
        "spec": {"backoffLimit": 4, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}]}}}}));
    prepare_job_for_create(&mut j);
    serde_json::to_value(&j).unwrap()
}

#[test]
fn jobs() {
    let j: batch::Job = obj(base_job());
    assert_eq!(strings(job(&j)), Vec::<String>::new());
    assert_eq!(strings(job_update(&j, &j)), Vec::<String>::new());
    let cases = vec![
        (
            "restart policy always",
            json!({"spec": {"template": {"spec": {"restartPolicy": "Always"}}}}),
            vec![s("spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"")],
        ),
        (
            "negative counts",
            json!({"spec": {"parallelism": -1, "completions": -2, "backoffLimit": -3, "ttlSecondsAfterFinished": -4}}),
            vec![
                s("spec.parallelism: Invalid value: -1: must be greater than or equal to 0"),
                s("spec.completions: Invalid value: -2: must be greater than or equal to 0"),
                s("spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0"),
                s("spec.ttlSecondsAfterFinished: Invalid value: -4: must be greater than or equal to 0"),
            ],
        ),
        (
            "indexed without completions",
            json!({"spec": {"completionMode": "Indexed", "parallelism": 2}}),
            vec![s("spec.completions: Required value: when completion mode is Indexed")],
        ),
        (
            "per-index limits need indexed",
            json!({"spec": {"backoffLimitPerIndex": 1, "maxFailedIndexes": 1}}),
            vec![
                s("spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"),
                s("spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode"),
            ],
        ),
        (
            "completion mode",
            json!({"spec": {"completionMode": "Sometimes"}}),
            vec![s("spec.completionMode: Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"")],
        ),
        (
            "pod failure policy",
            json!({"spec": {"podFailurePolicy": {"rules": [
                {"action": "Explode", "onExitCodes": {"containerName": "nope", "operator": "In", "values": [0, 3, 2, 2]}},
                {"action": "Ignore"}]}, "template": {"spec": {"restartPolicy": "OnFailure"}}}}),
            vec![
                s("spec.podFailurePolicy.rules[0].action: Unsupported value: \"Explode\": supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\""),
                s("spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"nope\": must be one of the container or initContainer names in the pod template"),
                s("spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator"),
                s("spec.podFailurePolicy.rules[0].onExitCodes.values[3]: Duplicate value: 2"),
                s("spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,2,2]: must be ordered"),
                s("spec.podFailurePolicy.rules[1]: Invalid value: null: specifying one of OnExitCodes and OnPodConditions is required"),
                s("spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"),
            ],
        ),
        (
            "success policy needs indexed",
            json!({"spec": {"successPolicy": {"rules": [{"succeededCount": 1}]}}}),
            vec![s("spec.successPolicy: Invalid value: {\"rules\":[{\"succeededCount\":1}]}: requires indexed completion mode")],
        ),
        (
            "success policy rules",
            json!({"spec": {"completionMode": "Indexed", "completions": 5, "successPolicy": {"rules": [{"succeededIndexes": "0-2,1", "succeededCount": 7}, {}]}}}),
            vec![
                s("spec.successPolicy.rules[0].succeededIndexes: Invalid value: \"0-2,1\": error parsing succeededIndexes: non-increasing order, previous: 2, current: 1"),
                s("spec.successPolicy.rules[0].succeededCount: Invalid value: 7: must be less than or equal to 5 (the number of specified completions)"),
                s("spec.successPolicy.rules[0].succeededCount: Invalid value: 7: must be less than or equal to 0 (the number of indexes in the specified succeededIndexes field)"),
                s("spec.successPolicy.rules[1]: Required value: at least one of succeededCount or succeededIndexes must be specified"),
            ],
        ),
        (
            "managedBy",
            json!({"spec": {"managedBy": "kueue"}}),
            vec![s("spec.managedBy: Invalid value: \"kueue\": must be a domain-prefixed path (such as \"acme.io/foo\")")],
        ),
        (
            "template labels changed",
            json!({"spec": {"template": {"metadata": {"labels": {"controller-uid": "other"}}}}}),
            vec![
                s("spec.template.metadata.labels[controller-uid]: Invalid value: {\"batch.kubernetes.io/controller-uid\":\"1234-5678\",\"batch.kubernetes.io/job-name\":\"pi\",\"controller-uid\":\"other\",\"job-name\":\"pi\"}: must be '1234-5678'"),
            ],
        ),
    ];
    check_table::<batch::Job>(&base_job(), job, &cases);
    // a job nobody prepared has no selector
    let raw: batch::Job = obj(json!({"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}));
    assert_eq!(
        strings(job(&raw)),
        vec![s("spec.selector: Required value"), s("spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`")]
    );
    // updates
    let mut changed: batch::Job = j.clone();
    changed.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].image = Some("perl:5.36".into());
    let got = strings(job_update(&changed, &j));
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("spec.template: Invalid value: {") && got[0].ends_with("}: field is immutable"), "{got:?}");
    let mut comp = j.clone();
    comp.spec.as_mut().unwrap().completions = Some(3);
    assert_eq!(strings(job_update(&comp, &j)), vec![s("spec.completions: Invalid value: 3: field is immutable")]);
    // suspended jobs that never started may change scheduling directives
    let mut susp = j.clone();
    susp.spec.as_mut().unwrap().suspend = Some(true);
    let mut moved = susp.clone();
    moved.spec.as_mut().unwrap().template.spec.as_mut().unwrap().node_selector = Some([("zone".to_string(), "a".to_string())].into());
    assert!(job_update(&moved, &susp).is_empty());
}

#[test]
fn cron_schedules() {
    let ok = ["*/5 * * * *", "0 0 * * *", "@hourly", "@every 1h30m", "0 9-17 * * mon-fri", "15 3 1,15 jan,jul ?", "0 0 L * *"];
    let results: Vec<_> = ok.iter().map(|s| parse_cron_schedule(s)).collect();
    assert_eq!(results[..6], [Ok(()), Ok(()), Ok(()), Ok(()), Ok(()), Ok(())]);
    assert_eq!(results[6], Err(s("failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax")));
    assert_eq!(parse_cron_schedule("foo"), Err(s("expected exactly 5 fields, found 1: [foo]")));
    assert_eq!(parse_cron_schedule("60 * * * *"), Err(s("end of range (60) above maximum (59): 60")));
    assert_eq!(parse_cron_schedule("* * 0 * *"), Err(s("beginning of range (0) below minimum (1): 0")));
    assert_eq!(parse_cron_schedule("5-1 * * * *"), Err(s("beginning of range (5) beyond end of range (1): 5-1")));
    assert_eq!(parse_cron_schedule("*/0 * * * *"), Err(s("step of range should be a positive number: */0")));
    assert_eq!(parse_cron_schedule("1-2-3 * * * *"), Err(s("too many hyphens: 1-2-3")));
    assert_eq!(parse_cron_schedule("@weekly2"), Err(s("unrecognized descriptor: @weekly2")));
    assert_eq!(parse_cron_schedule("@every x"), Err(s("failed to parse duration @every x: time: invalid duration \"x\"")));
}

fn base_cron_job() -> Value {
    json!({"metadata": {"name": "backup"}, "spec": {"schedule": "0 3 * * *", "timeZone": "Europe/Berlin", "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 3, "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
        "containers": [{"name": "backup", "image": "backup:1"}]}}}}}})
}

#[test]
fn cron_jobs() {
    let cj: batch::CronJob = obj(base_cron_job());
    assert_eq!(strings(cron_job(&cj)), Vec::<String>::new());
    assert!(cron_job_update(&cj, &cj).is_empty());
    let cases = vec![
        ("empty schedule", json!({"spec": {"schedule": ""}}), vec![s("spec.schedule: Required value")]),
        (
            "bad schedule",
            json!({"spec": {"schedule": "61 * * * *"}}),
            vec![s("spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61")],
        ),
        (
            "TZ in schedule",
            json!({"spec": {"schedule": "TZ=UTC 0 3 * * *"}}),
            vec![s("spec.schedule: Invalid value: \"TZ=UTC 0 3 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead")],
        ),
        ("empty tz", json!({"spec": {"timeZone": ""}}), vec![s("spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string")]),
        (
            "unknown tz",
            json!({"spec": {"timeZone": "Mars/Olympus_Mons"}}),
            vec![s("spec.timeZone: Invalid value: \"Mars/Olympus_Mons\": unknown time zone Mars/Olympus_Mons")],
        ),
        (
            "bad tz characters",
            json!({"spec": {"timeZone": "Europe/../Berlin"}}),
            vec![s("spec.timeZone: Invalid value: \"Europe/../Berlin\": unknown time zone Europe/../Berlin")],
        ),
        (
            "local tz",
            json!({"spec": {"timeZone": "Local"}}),
            vec![s("spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")],
        ),
        (
            "concurrency and limits",
            json!({"spec": {"concurrencyPolicy": "Sometimes", "startingDeadlineSeconds": -1, "failedJobsHistoryLimit": -1}}),
            vec![
                s("spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"),
                s("spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""),
                s("spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"),
            ],
        ),
        (
            "job template",
            json!({"spec": {"jobTemplate": {"spec": {"selector": {"matchLabels": {"a": "b"}}, "manualSelector": true,
                "template": {"spec": {"restartPolicy": "Always"}}}}}}),
            vec![
                s("spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""),
                s("spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: `selector` will be auto-generated"),
                s("spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\""),
            ],
        ),
        (
            "long name",
            json!({"metadata": {"name": "a".repeat(53)}}),
            vec![format!("metadata.name: Invalid value: \"{}\": must be no more than 52 characters", "a".repeat(53))],
        ),
    ];
    check_table::<batch::CronJob>(&base_cron_job(), cron_job, &cases);
}
