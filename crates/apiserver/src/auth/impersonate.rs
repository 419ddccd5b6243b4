//! Impersonation: `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
//! `Impersonate-Extra-<key>` headers replace the requesting user, each one authorized by the
//! `impersonate` verb (on users, groups, serviceaccounts, uids and userextras/<key>).

use apimachinery::ApiError;
use http::HeaderMap;

use super::UserInfo;
use super::authz::{self, Attributes};
use crate::Api;

/// Applies impersonation headers, if any. Returns the user the request runs as.
pub fn apply(api: &Api, user: UserInfo, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let name = headers.get("impersonate-user").and_then(|v| v.to_str().ok()).map(str::to_string);
    let groups: Vec<String> = headers.get_all("impersonate-group").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
    let uid = headers.get("impersonate-uid").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut extra: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in headers.iter() {
        if let Some(key) = k.as_str().strip_prefix("impersonate-extra-")
            && let Ok(v) = v.to_str()
        {
            extra.entry(apimachinery::query::decode(key)).or_default().push(v.to_string());
        }
    }
    let Some(name) = name else {
        if !groups.is_empty() || uid.is_some() || !extra.is_empty() {
            return Err(ApiError::internal("requested impersonation of groups, a uid or extra fields without impersonating a user"));
        }
        return Ok(user);
    };
    let check = |a: Attributes| authz::check(api, &user, &a);
    let imp = |group: &str, resource: &str, namespace: &str, name: &str| Attributes {
        verb: "impersonate".into(),
        api_group: group.into(),
        resource: resource.into(),
        namespace: namespace.into(),
        name: name.into(),
        resource_request: true,
        ..Default::default()
    };
    let mut new = UserInfo { name: name.clone(), ..Default::default() };
    if let Some(rest) = name.strip_prefix("system:serviceaccount:")
        && let Some((ns, sa)) = rest.split_once(':')
    {
        check(imp("", "serviceaccounts", ns, sa))?;
        new.groups = vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}")];
    } else {
        check(imp("", "users", "", &name))?;
    }
    for g in &groups {
        check(imp("", "groups", "", g))?;
        if !new.groups.contains(g) {
            new.groups.push(g.clone());
        }
    }
    if let Some(u) = uid {
        check(imp("authentication.k8s.io", "uids", "", &u))?;
        new.uid = u;
    }
    for (k, vals) in &extra {
        for v in vals {
            let mut a = imp("authentication.k8s.io", "userextras", "", v);
            a.subresource = k.clone();
            check(a)?;
        }
    }
    new.extra = extra;
    if name != "system:anonymous" && !new.in_group(super::SYSTEM_AUTHENTICATED) {
        new.groups.push(super::SYSTEM_AUTHENTICATED.into());
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    #[test]
    fn extra_keys_are_percent_decoded() {
        assert_eq!(apimachinery::query::decode("example.com%2fscopes"), "example.com/scopes");
        assert_eq!(apimachinery::query::decode("plain"), "plain");
        assert_eq!(apimachinery::query::decode("bad%zz"), "bad%zz");
    }
}
