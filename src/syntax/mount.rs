//! `RUN --mount=…` flags, read as BuildKit's `parseMount` reads them
//! (`frontend/dockerfile/instructions/commands_runmount.go`): comma
//! separated fields, each `key=value` or a bare flag key (`ro`, `rw`,
//! `readonly`, `readwrite`, `required`); keys and the `type` value are case
//! insensitive; the type is `bind` when none is given.
//!
//! Guarantees: one reading for every caller (the effects, the split, the
//! hoist, the replay), and a refusal rather than a guess: a flag whose
//! fields are quoted (BuildKit reads them as CSV) or that repeats a key is
//! not parsed, so each caller falls back to its conservative answer.

/// One `--mount` flag's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount<'a> {
    /// `(lower-case key, value)`; a bare key has no value.
    fields: Vec<(String, Option<&'a str>)>,
}

impl<'a> Mount<'a> {
    /// The mount of a `RUN` flag (`--mount=type=cache,target=/root/.npm`),
    /// or `None`: not a mount flag, or one this reading does not follow
    /// (quotes, an empty field, a repeated key).
    pub fn parse(flag: &'a str) -> Option<Mount<'a>> {
        let spec = strip_prefix_ignore_case(flag, "--mount=")?;
        if spec.contains('"') {
            return None;
        }
        let mut fields: Vec<(String, Option<&'a str>)> = Vec::new();
        for field in spec.split(',') {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
                None => (field.trim().to_ascii_lowercase(), None),
            };
            if key.is_empty() || fields.iter().any(|(k, _)| *k == key) {
                return None;
            }
            fields.push((key, value));
        }
        Some(Mount { fields })
    }

    /// Whether `flag` is a `--mount` flag at all (parsed or not).
    pub fn is_mount_flag(flag: &str) -> bool {
        strip_prefix_ignore_case(flag, "--mount=").is_some()
    }

    /// The value of the first of `keys` present (`Some("")` for `key=`).
    fn value(&self, keys: &[&str]) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .and_then(|(_, v)| *v)
    }

    /// The mount type, lower case: `bind` when none is given.
    pub fn kind(&self) -> String {
        self.value(&["type"])
            .map_or_else(|| "bind".to_string(), str::to_ascii_lowercase)
    }

    /// `source=` / `src=`.
    pub fn source(&self) -> Option<&'a str> {
        self.value(&["source", "src"])
    }

    /// `target=` / `dst=` / `destination=`.
    pub fn target(&self) -> Option<&'a str> {
        self.value(&["target", "dst", "destination"])
    }

    /// `id=`: a secret's or a cache's name.
    pub fn id(&self) -> Option<&'a str> {
        self.value(&["id"])
    }

    /// `env=`: the variable a secret is set as.
    pub fn env(&self) -> Option<&'a str> {
        self.value(&["env"])
    }

    /// `from=`: the stage or image mounted from.
    pub fn from(&self) -> Option<&'a str> {
        self.value(&["from"])
    }

    /// Whether a bind mount is writable (`rw`, `readwrite`, `rw=true`, …):
    /// what the `RUN` writes there is then gone after it.
    /// `readonly=false` too. A value that is not a Go boolean counts as
    /// writable (BuildKit refuses it; the answer errs on the safe side).
    pub fn read_write(&self) -> bool {
        self.fields.iter().any(|(k, v)| {
            let value = v.map_or(Some(true), go_bool);
            match k.as_str() {
                "rw" | "readwrite" => value != Some(false),
                "ro" | "readonly" => value != Some(true),
                _ => false,
            }
        })
    }

    /// The keys it sets, lower case.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::Mount;

    #[test]
    fn fields_are_read_as_buildkit_reads_them() {
        let m = Mount::parse("--mount=type=cache,target=/root/.npm").expect("parsed");
        assert_eq!(m.kind(), "cache");
        assert_eq!(m.target(), Some("/root/.npm"));
        let m = Mount::parse("--mount=Type=TMPFS,DST=/app/node_modules").expect("parsed");
        assert_eq!(m.kind(), "tmpfs");
        assert_eq!(m.target(), Some("/app/node_modules"));
        let m = Mount::parse("--mount=source=package.json,target=/app/package.json,rw")
            .expect("parsed");
        assert_eq!(m.kind(), "bind");
        assert_eq!(m.source(), Some("package.json"));
        assert!(m.read_write());
        let m =
            Mount::parse("--mount=from=build,src=/out,dst=/in,readwrite=false").expect("parsed");
        assert_eq!(m.from(), Some("build"));
        assert!(!m.read_write());
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["from", "src", "dst", "readwrite"]
        );
        for (flags, rw) in [
            ("ro", false),
            ("readonly=True", false),
            ("rw=t", true),
            ("ro=false", true),
            ("readonly=0", true),
            ("rw=maybe", true),
            ("size=1g", false),
        ] {
            let flag = format!("--mount=type=bind,target=/x,{flags}");
            assert_eq!(
                Mount::parse(&flag).expect("parsed").read_write(),
                rw,
                "{flags}"
            );
        }
    }

    #[test]
    fn what_it_does_not_follow_is_refused() {
        assert_eq!(Mount::parse("--network=none"), None);
        assert_eq!(
            Mount::parse("--mount=type=bind,source=\"a,b\",target=/x"),
            None
        );
        assert_eq!(Mount::parse("--mount=type=bind,type=cache,target=/x"), None);
        assert_eq!(Mount::parse("--mount=type=cache,,target=/x"), None);
        assert!(Mount::is_mount_flag("--MOUNT=type=cache,target=/x"));
        assert!(!Mount::is_mount_flag("--mounts"));
    }
}
