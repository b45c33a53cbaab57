//! Query-string parsing with repeated keys (`filter=a&filter=b`), which the API needs and
//! serde_urlencoded cannot express.

/// Decodes `%XX` escapes and `+` as space.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// All `(key, value)` pairs of a raw query string, decoded.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The last value of a boolean parameter as go-openapi binds it: absent or empty is
/// `default`; otherwise `swag.ConvertBool`, which is true for "true", "1", "yes", "ok", "y",
/// "on", "selected", "checked", "t" and "enabled" (any case) and false for anything else,
/// so a misspelt value is false rather than an error.
pub fn bool_param(pairs: &[(String, String)], key: &str, default: bool) -> bool {
    match pairs.iter().rev().find(|(k, _)| k == key) {
        None => default,
        Some((_, v)) if v.is_empty() => default,
        Some((_, v)) => matches!(
            v.to_lowercase().as_str(),
            "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_repeated_keys() {
        let p =
            pairs(Some("filter=alertname%3D%22A%22&filter=job%3D~%22x.%2A%22&active=false&x=%zz"));
        assert_eq!(p[0], ("filter".into(), "alertname=\"A\"".into()));
        assert_eq!(p[1].1, "job=~\"x.*\"");
        assert!(!bool_param(&p, "active", true));
        assert_eq!(p[3].1, "%zz");
    }

    #[test]
    fn booleans_as_go_openapi_binds_them() {
        let p = |q: &str| pairs(Some(q));
        assert!(bool_param(&p("active="), "active", true), "empty is the default");
        assert!(bool_param(&p("active=YES"), "active", false));
        assert!(bool_param(&p("active=1"), "active", false));
        assert!(!bool_param(&p("active=garbage"), "active", true), "anything else is false");
        assert!(!bool_param(&p("active=true&active=0"), "active", true), "the last one counts");
    }
}
