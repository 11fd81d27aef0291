//! File names that work everywhere: on Windows, macOS and Linux, on FAT USB sticks and in zips.
//! Each path component is made portable on its own, so no value (a title, a tag) can ever add a
//! separator, climb out with `..`, or name a drive.

use unicode_normalization::UnicodeNormalization;

/// Longest component in UTF-8 bytes. File systems allow 255; the rest leaves room for a
/// collision suffix and keeps whole paths short enough for Windows.
pub const MAX_COMPONENT_BYTES: usize = 180;

/// Characters Windows forbids in names (besides control characters).
const FORBIDDEN: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Windows' reserved device names (also with any extension: `con.md`).
fn is_reserved(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.len() == 4
        && upper.as_bytes().get(3).is_some_and(|b| b.is_ascii_digit()))
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && matches!(&upper.get(3..), Some("¹" | "²" | "³")))
}

/// One portable path component, and whether it had to change.
pub fn component(raw: &str) -> (String, bool) {
    let nfc: String = raw.nfc().collect();
    let mut s: String = nfc
        .chars()
        .map(|c| {
            if c.is_control() || FORBIDDEN.contains(&c) || c == '\u{feff}' {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Leading and trailing blanks, and trailing dots, vanish on Windows.
    s = s
        .trim_matches(|c: char| c.is_whitespace())
        .trim_end_matches(['.', ' '])
        .to_string();
    if s.is_empty() || s == "." || s == ".." {
        s = "_".into();
    }
    let stem = s.split('.').next().unwrap_or("");
    if is_reserved(stem.trim_end()) {
        s.insert(0, '_');
    }
    let s = truncate(&s, MAX_COMPONENT_BYTES);
    let changed = s != raw;
    (s, changed)
}

/// Cut a name to at most `max` bytes at a character boundary, keeping a short extension.
pub fn truncate(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 10 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let room = max.saturating_sub(ext.len());
    let mut end = room.min(stem.len());
    while end > 0 && !stem.is_char_boundary(end) {
        end -= 1;
    }
    let cut = stem[..end].trim_end_matches(['.', ' ']);
    format!("{cut}{ext}")
}

/// A readable slug for a file name: letters and digits of any script kept, everything else a
/// single `-`, at most 80 characters.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.nfc() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
        if out.chars().count() >= 80 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "post".into()
    } else {
        out
    }
}

/// Whether a relative path is portable: what the tests check every exported path against.
pub fn is_portable(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| component(c).0 == c && c.len() <= 255 && !c.ends_with(['.', ' ']) && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_portable() {
        for (raw, want) in [
            ("a:b?c*d|e", "a_b_c_d_e"),
            ("../etc", ".._etc"),
            ("..", "_"),
            ("C:\\Windows", "C__Windows"),
            ("  spaced. . ", "spaced"),
            ("CON", "_CON"),
            ("aux.md", "_aux.md"),
            ("com1.txt", "_com1.txt"),
            ("line\nbreak\ttab", "line_break_tab"),
            ("", "_"),
            ("e\u{301}", "\u{e9}"),
        ] {
            assert_eq!(component(raw).0, want, "{raw:?}");
            assert!(is_portable(&component(raw).0), "{raw:?}");
        }
        let long = "长".repeat(200);
        let (c, changed) = component(&format!("{long}.md"));
        assert!(
            changed && c.len() <= MAX_COMPONENT_BYTES && c.ends_with(".md"),
            "{c}"
        );
        assert!(!is_portable("a/../b") && !is_portable("/abs") && !is_portable("x./y"));
    }

    #[test]
    fn slugs_keep_letters_of_every_script() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("两岸 关系：新局"), "两岸-关系-新局");
        assert_eq!(slug("???"), "post");
    }
}
