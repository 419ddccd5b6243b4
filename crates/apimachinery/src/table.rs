//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for, and the
//! human durations upstream prints in AGE columns.

use serde::Serialize;

/// One column of a table (`TableColumnDefinition`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Column header, e.g. `Name`.
    pub name: &'static str,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// OpenAPI format, e.g. `name`.
    pub format: &'static str,
    /// Description.
    pub description: &'static str,
    /// 0 for default columns, higher for `-o wide`.
    pub priority: i32,
}

impl Column {
    /// A priority-0 string column.
    pub const fn string(name: &'static str, description: &'static str) -> Self {
        Column { name, type_: "string", format: "", description, priority: 0 }
    }
    /// The `Name` column.
    pub const fn name() -> Self {
        Column {
            name: "Name",
            type_: "string",
            format: "name",
            description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
            priority: 0,
        }
    }
    /// The `Age` column.
    pub const fn age() -> Self {
        Column {
            name: "Age",
            type_: "string",
            format: "",
            description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
            priority: 0,
        }
    }
    /// A priority-0 integer column.
    pub const fn integer(name: &'static str, description: &'static str) -> Self {
        Column { name, type_: "integer", format: "", description, priority: 0 }
    }
    /// The same column shown only with `-o wide`.
    pub const fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }
}

/// Upstream's `HumanDuration` (used for AGE): `45s`, `3m20s`, `15m`, `5h3m`, `20h`, `3d4h`,
/// `40d`, `2y10d`, `9y`. Negative durations beyond 1 s of clock skew print `<invalid>`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{}h", hours / 24, h) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{}d", hours / 24 / 365, dy) };
    }
    format!("{}y", hours / 24 / 365)
}

/// Age of a timestamp at `now` as upstream prints it (`<unknown>` when unset).
pub fn age(created: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>, now: jiff::Timestamp) -> String {
    match created {
        None => "<unknown>".into(),
        Some(t) => {
            let secs = now.as_second() - t.0.as_second();
            human_duration(secs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(-5), "<invalid>");
        assert_eq!(human_duration(-1), "0s");
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(120), "2m");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(15 * 60 + 5), "15m");
        assert_eq!(human_duration(3 * 3600), "3h");
        assert_eq!(human_duration(5 * 3600 + 3 * 60), "5h3m");
        assert_eq!(human_duration(20 * 3600), "20h");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(human_duration(40 * 86400), "40d");
        assert_eq!(human_duration((2 * 365 + 10) * 86400), "2y10d");
        assert_eq!(human_duration(9 * 365 * 86400), "9y");
    }
}
