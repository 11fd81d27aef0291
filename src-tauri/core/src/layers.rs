//! The layers of the core, bottom to top. A module may use modules of the layers below its own,
//! never one of its own layer or above: so data flows one way and no cycle can form. The test
//! below reads every source file and holds the code to this order (test code may use anything:
//! tests drive a module through the layers above it).

/// Each entry is one layer, from the bottom up, naming top-level modules of the crate.
pub const LAYERS: &[&[&str]] = &[
    // Leaves: text folding, content hashes and hex, problem records, Shelfmark's own folder;
    // this list; the low-priority pool for background work; bytes stored compressed; work split
    // over both cores.
    &[
        "fold",
        "files",
        "problem",
        "dotdir",
        "layers",
        "background",
        "packed",
        "halves",
    ],
    // The archive's settings; one file read into a `Post`.
    &["settings", "post"],
    // The gate for post paths; post bodies to safe HTML; remote images fetched under a policy.
    &["postfile", "render", "fetch"],
    // The core's errors (they carry `postfile::Refusal`).
    &["error"],
    // The index format: grams, segments, text analysis.
    &["index"],
    // The SQLite index: schema and the writer.
    &["store"],
    // Walking and indexing the archive.
    &["scan"],
    // Queries over the index; the watcher that rescans on changes; duplicates (from the index).
    &["search", "watch", "dupes"],
    // Editing files (journal, safe writes); collections as JSON files.
    &["edit", "collections"],
    // `collection:` terms resolved for the searcher; exports; data-quality findings over the
    // index, fixed through `edit`.
    &["collection_terms", "export", "lint"],
    // The one surface the shells call.
    &["api"],
    // The command table over `api` (dispatch for both shells, the UI's TypeScript).
    &["commands"],
];

/// The layer of a top-level module, if it has one.
pub fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    /// The module path of a file below `src` (`edit/plan.rs` → `["edit", "plan"]`).
    fn module_path(rel: &Path) -> Vec<String> {
        let mut parts: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        parts
    }

    /// Files that are test modules as a whole (`#[cfg(test)] mod proptests;` in their parent).
    fn test_only_files(files: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        for (path, text) in files {
            let dir = if path
                .file_name()
                .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
            {
                path.parent().map(Path::to_path_buf)
            } else {
                path.parent()
                    .map(|p| p.join(path.file_stem().unwrap_or_default()))
            };
            let Some(dir) = dir else { continue };
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            for w in lines.windows(2) {
                if w[0] == "#[cfg(test)]" {
                    let decl = w[1]
                        .trim_start_matches("pub ")
                        .trim_start_matches("pub(crate) ");
                    if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';'))
                    {
                        out.insert(dir.join(format!("{name}.rs")));
                        out.insert(dir.join(name).join("mod.rs"));
                    }
                }
            }
        }
        out
    }

    /// The lines of non-test code, numbered from 1, with `//` comments cut off. An inline
    /// `#[cfg(test)] mod x { ... }` is skipped by counting its braces.
    fn code_lines(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut test_attr = false;
        let mut skipping: Option<i64> = None;
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(depth) = skipping.as_mut() {
                *depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
                if *depth <= 0 {
                    skipping = None;
                }
                continue;
            }
            let t = code.trim();
            if t == "#[cfg(test)]" {
                test_attr = true;
                continue;
            }
            if test_attr && !t.starts_with("#[") {
                test_attr = false;
                let decl = t
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ");
                if decl.starts_with("mod ") && t.contains('{') {
                    let depth = code.matches('{').count() as i64 - code.matches('}').count() as i64;
                    if depth > 0 {
                        skipping = Some(depth);
                    }
                    continue;
                }
            }
            out.push((i + 1, code.to_string()));
        }
        out
    }

    /// The top-level modules a line of a file at `module` refers to through `crate::` or
    /// `super::` paths (including `use crate::{a, b::c}`).
    fn referenced(module: &[String], line: &str) -> Vec<String> {
        let ident = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        let mut out = Vec::new();
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < line.len() {
            let rest = &line[i..];
            let boundary =
                i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if boundary && rest.starts_with("crate::") {
                let after = &rest["crate::".len()..];
                if let Some(group) = after.strip_prefix('{') {
                    let inner = group.split('}').next().unwrap_or("");
                    out.extend(inner.split(',').map(|p| ident(p.trim())));
                } else {
                    out.push(ident(after));
                }
                i += "crate::".len();
                continue;
            }
            if boundary && rest.starts_with("super::") {
                let mut ups = 0;
                let mut r = rest;
                while let Some(next) = r.strip_prefix("super::") {
                    ups += 1;
                    r = next;
                }
                // `super` of a module `a::b` is `a`: the path lands at the crate root when it
                // goes up as many levels as the module is deep.
                if ups >= module.len() {
                    out.push(ident(r));
                }
                i += "super::".len() * ups;
                continue;
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
        out.retain(|m| !m.is_empty() && m != "self");
        out
    }

    /// Every import in the core's code of a module that is not below the importer, as
    /// `file:line: message`.
    fn violations(src: &Path) -> Vec<String> {
        let mut paths = Vec::new();
        rust_files(src, &mut paths);
        let files: Vec<(PathBuf, String)> = paths
            .into_iter()
            .map(|p| {
                let text =
                    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (p, text)
            })
            .collect();
        let test_only = test_only_files(&files);
        let mut out = Vec::new();
        for (path, text) in &files {
            if test_only.contains(path) {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap_or(path);
            let module = module_path(rel);
            let Some(top) = module.first() else {
                continue; // lib.rs, the crate root
            };
            let Some(own) = layer_of(top) else {
                out.push(format!(
                    "{}: module `{top}` is in no layer of LAYERS",
                    rel.display()
                ));
                continue;
            };
            for (n, line) in code_lines(text) {
                for used in referenced(&module, &line) {
                    if &used == top {
                        continue;
                    }
                    match layer_of(&used) {
                        Some(l) if l < own => {}
                        Some(l) => out.push(format!(
                            "src/{}:{n}: `{top}` (layer {own}) uses `{used}` (layer {l}), which is \
                             not below it",
                            rel.display()
                        )),
                        None => {}
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_module_uses_only_modules_of_lower_layers() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let found = violations(&src);
        assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
    }

    #[test]
    fn the_layers_name_every_module_once() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_else(|e| panic!("{e}"));
        let declared: BTreeSet<&str> = lib
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub mod "))
            .filter_map(|l| l.strip_suffix(';'))
            .collect();
        let listed: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(
            unique.len(),
            listed.len(),
            "a module is listed twice: {listed:?}"
        );
        assert_eq!(unique, declared, "LAYERS and the modules of lib.rs differ");
    }

    #[test]
    fn the_check_sees_what_crosses_a_layer() {
        let m = |s: &[&str]| s.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(
            referenced(
                &m(&["store", "writer"]),
                "use crate::search::grams::GramId;"
            ),
            vec!["search"]
        );
        assert_eq!(
            referenced(&m(&["edit"]), "x(crate::{scan, watch::SCAN_LOCK})"),
            vec!["scan", "watch"]
        );
        assert_eq!(
            referenced(&m(&["fetch"]), "use super::api::ApiError;"),
            vec!["api"]
        );
        assert!(referenced(&m(&["edit", "plan"]), "use super::write::Refusal;").is_empty());
        assert!(referenced(&m(&["index"]), "let x = notcrate::search::y;").is_empty());
        // Test modules are not checked; the code after them is.
        let lines = code_lines(
            "use a;\n#[cfg(test)]\nmod tests {\n    use crate::api;\n    fn f() { }\n}\nuse b;\n",
        );
        let kept: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(kept, vec![1, 7]);
        // A bad import is found, with its file and line.
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("lib.rs"), "pub mod store;\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("store.rs"),
            "//! x\nuse crate::search::exec;\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let found = violations(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("src/store.rs:2: `store`"), "{found:?}");
    }
}
