//! Container image reference parsing, as far as `imagePullPolicy` defaulting needs it.
//!
//! Upstream parses the image with the docker distribution reference grammar (after
//! normalising familiar names such as `nginx` to `docker.io/library/nginx`). The pull policy
//! defaults to `Always` exactly when the parse succeeds and the effective tag is `latest`
//! (an explicit `:latest`, or neither tag nor digest given); otherwise, including for images
//! that do not parse, it is `IfNotPresent`.

const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// The effective tag of a reference: `Ok(Some(tag))` when tagged, `Ok(None)` when it has a
/// digest only, `Ok(Some("latest"))` when it has neither; `Err(())` when it does not parse.
fn effective_tag(image: &str) -> Result<Option<String>, ()> {
    if image.len() == 64
        && image
            .bytes()
            .all(|c| matches!(c, b'a'..=b'f' | b'0'..=b'9'))
    {
        return Err(());
    }
    let (domain, remainder) = split_domain(image);
    let remote_name = match remainder.find(':') {
        Some(i) => &remainder[..i],
        None => remainder.as_str(),
    };
    if remote_name.to_lowercase() != remote_name {
        return Err(());
    }
    let full = format!("{domain}/{remainder}");
    let (name_and_tag, digest) = match full.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (full.as_str(), None),
    };
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => {
            (&name_and_tag[..i], Some(&name_and_tag[i + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if let Some(t) = tag
        && !valid_tag(t)
    {
        return Err(());
    }
    if !valid_name(name) {
        return Err(());
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(());
    }
    if let Some(d) = digest
        && !valid_digest(d)
    {
        return Err(());
    }
    Ok(match (tag, digest) {
        (Some(t), _) => Some(t.to_owned()),
        (None, Some(_)) => None,
        (None, None) => Some("latest".to_owned()),
    })
}

fn split_domain(name: &str) -> (String, String) {
    const DEFAULT_DOMAIN: &str = "docker.io";
    let (domain, mut remainder) = match name.split_once('/') {
        None => return (DEFAULT_DOMAIN.to_owned(), format!("library/{name}")),
        Some((d, r)) => {
            if d == "localhost" || d.contains(['.', ':']) || d.to_lowercase() != d {
                if d == "index.docker.io" {
                    (DEFAULT_DOMAIN.to_owned(), r.to_owned())
                } else {
                    (d.to_owned(), r.to_owned())
                }
            } else {
                (DEFAULT_DOMAIN.to_owned(), name.to_owned())
            }
        }
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run between two alphanumerics
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
fn valid_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

/// host (domain name or bracketed IPv6) with an optional `:port`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return false;
        };
        let inner = &rest[..close];
        if inner.is_empty() || !inner.bytes().all(|x| x.is_ascii_hexdigit() || x == b':') {
            return false;
        }
        let after = &rest[close + 1..];
        match after.strip_prefix(':') {
            Some(p) => ("[]", Some(p)),
            None if after.is_empty() => ("[]", None),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|x| x.is_ascii_digit()))
    {
        return false;
    }
    host == "[]" || host.split('.').all(valid_domain_component)
}

fn valid_name(name: &str) -> bool {
    let path_ok = |p: &str| p.split('/').all(valid_path_component);
    if path_ok(name) {
        return true;
    }
    match name.split_once('/') {
        Some((d, rest)) => valid_domain(d) && path_ok(rest),
        None => false,
    }
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// The digest must match the reference grammar and use an algorithm the apiserver can verify
/// (sha256, sha384, sha512) with a lowercase hex encoding of the right length.
fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = {
        let comps: Vec<&str> = alg.split(['-', '_', '+', '.']).collect();
        comps.iter().all(|c| {
            let b = c.as_bytes();
            !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
        })
    };
    if !alg_ok || hex.len() < 32 || !hex.bytes().all(|x| x.is_ascii_hexdigit()) {
        return false;
    }
    let want = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|x| matches!(x, b'a'..=b'f' | b'0'..=b'9'))
}

/// The `imagePullPolicy` upstream defaults for a container using `image`.
pub fn pull_policy_for_image(image: &str) -> &'static str {
    match effective_tag(image) {
        Ok(Some(tag)) if tag == "latest" => "Always",
        _ => "IfNotPresent",
    }
}

#[cfg(test)]
mod tests {
    use super::pull_policy_for_image as p;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn latest_or_untagged_is_always() {
        for image in [
            "nginx",
            "nginx:latest",
            "library/nginx",
            "docker.io/library/nginx",
            "index.docker.io/nginx:latest",
            "registry.k8s.io/pause",
            "localhost/app",
            "localhost:5000/team/app:latest",
            "[::1]:5000/app",
            "my-registry.example.com:443/a/b/c",
            "a_b.c/foo",
            "Registry.Example.com/app",
            "busybox__x",
        ] {
            assert_eq!(p(image), "Always", "image {image}");
        }
        assert_eq!(p(&format!("nginx:latest@{SHA}")), "Always");
    }

    #[test]
    fn other_tags_digests_and_garbage_are_if_not_present() {
        for image in [
            "nginx:1.2",
            "nginx:Latest",
            "registry.k8s.io/pause:3.9",
            "localhost:5000/app:v1",
            "",
            "Nginx",
            "nginx:",
            "nginx:latest@sha256:abc",
            "nginx@md5:0123456789abcdef0123456789abcdef",
            "-nginx",
            "ng inx",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "example.com/Upper/app",
        ] {
            assert_eq!(p(image), "IfNotPresent", "image {image:?}");
        }
        assert_eq!(p(&format!("nginx@{SHA}")), "IfNotPresent");
        assert_eq!(
            p(&format!(
                "nginx@{}",
                SHA.to_uppercase().replace("SHA256", "sha256")
            )),
            "IfNotPresent"
        );
        assert_eq!(p(&format!("a/{}", "b".repeat(300))), "IfNotPresent");
    }
}
