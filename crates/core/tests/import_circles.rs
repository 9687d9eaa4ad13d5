//! No two files of the workspace import each other, directly or around a longer circle
//! (issue 11): a repository check, kept with the core's tests because they are the
//! cheapest of the workspace to build (no dependency of its own, milliseconds to run).
//!
//! Method: the module tree of each crate is read from its `mod name;` declarations (each
//! module's file found as rustc finds it), and each file's imports from its source, with
//! comments and string literals removed: every `use` (with its `{…}` groups) and every
//! path written in code that starts with `crate::`, `super::`, `self::` or the name of a
//! module the file declares. A path names the file of the longest module prefix it
//! reaches. An import between a file and a module file above it in the tree (its `mod.rs`
//! or the crate root) is not counted: a parent declares and wires its children, and
//! children share the parent's items; a circle there is the module tree itself. Every
//! other circle (Tarjan's strongly connected components) fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The crate roots checked: the app, the server (library and binary) and every crate.
fn crate_roots() -> Vec<PathBuf> {
    let ws = workspace();
    let mut roots = vec![
        ws.join("src/lib.rs"),
        ws.join("server/src/lib.rs"),
        ws.join("server/src/main.rs"),
    ];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(ws.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src/lib.rs"))
        .filter(|p| p.exists())
        .collect();
    crates.sort();
    roots.extend(crates);
    roots
}

/// The source without comments, and with string and char literals emptied, so that a
/// path in a doc comment or a message is not taken for an import.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_len(rest) {
            out.push_str("\"\"");
            i += len;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && char_literal_len(rest).is_some() {
            i += char_literal_len(rest).unwrap();
            out.push_str("' '");
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `r"…"`, `r#"…"#`, `br"…"`: its length, when `s` starts with one.
fn raw_string_len(s: &str) -> Option<usize> {
    let after_b = s.strip_prefix('b').unwrap_or(s);
    let body = after_b.strip_prefix('r')?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let open = &body[hashes..];
    if !open.starts_with('"') {
        return None;
    }
    let close = format!("\"{}", "#".repeat(hashes));
    let end = open[1..].find(&close)? + 1 + close.len();
    Some(s.len() - after_b.len() + 1 + hashes + end)
}

/// `'a'`, `'\n'`, `'\u{2068}'` (not a lifetime `'a`): its length.
fn char_literal_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().skip(1);
    let (_, c) = chars.next()?;
    if c == '\\' {
        let close = s[2..].find('\'')?;
        return Some(close + 3);
    }
    let (j, next) = chars.next()?;
    (next == '\'').then_some(j + 1)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `mod name;` declarations of a file (not inline `mod name { … }` blocks).
fn declared_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in code.match_indices("mod ") {
        if code[..i].chars().last().is_some_and(is_ident_char) {
            continue;
        }
        let rest = &code[i + 4..];
        let name: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
        // A `#[path = "…"]` module is test support from elsewhere (not part of the tree).
        let attributes = &code[code[..i].rfind([';', '}', '{']).map_or(0, |j| j + 1)..i];
        if !name.is_empty()
            && rest[name.len()..].trim_start().starts_with(';')
            && !attributes.contains("#[path")
        {
            names.push(name);
        }
    }
    names
}

/// Every file of one crate: module path → file, read from the declarations.
fn module_tree(root: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut tree = BTreeMap::new();
    let mut todo = vec![(Vec::<String>::new(), root.to_path_buf())];
    while let Some((module, file)) = todo.pop() {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        // rustc's rule: children of a root or `mod.rs` sit beside it, children of `x.rs`
        // in the folder `x/`.
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let dir = if module.is_empty() || stem == "mod" {
            file.parent().unwrap().to_path_buf()
        } else {
            file.parent().unwrap().join(stem)
        };
        for name in declared_modules(&code) {
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let child = if flat.exists() { flat } else { nested };
            assert!(child.exists(), "{}: mod {name} has no file", file.display());
            let mut path = module.clone();
            path.push(name);
            todo.push((path, child));
        }
        tree.insert(module, file);
    }
    tree
}

/// The paths `code` names: each `use` tree expanded, and every path written elsewhere
/// that starts with `crate`, `super`, `self` or one of `children`.
fn named_paths(code: &str, children: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest_of_code = String::new();
    let mut cursor = 0;
    for (i, _) in code.match_indices("use ") {
        if i < cursor || code[..i].chars().last().is_some_and(is_ident_char) {
            continue;
        }
        let Some(end) = code[i..].find(';') else {
            continue;
        };
        rest_of_code.push_str(&code[cursor..i]);
        expand_use(&code[i + 4..i + end], &mut Vec::new(), &mut paths);
        cursor = i + end + 1;
    }
    rest_of_code.push_str(&code[cursor..]);
    let starts: Vec<&str> = ["crate", "super", "self"]
        .into_iter()
        .chain(children.iter().map(String::as_str))
        .collect();
    for start in starts {
        let pattern = format!("{start}::");
        for (i, _) in rest_of_code.match_indices(&pattern) {
            let before = rest_of_code[..i].trim_end();
            if before.ends_with("::") || before.chars().last().is_some_and(is_ident_char) {
                continue;
            }
            let path: Vec<String> = rest_of_code[i..]
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| is_ident_char(*c))
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            paths.push(path);
        }
    }
    paths
}

/// `a::b::{c, d::{e, self}}` → `a::b::c`, `a::b::d::e`, `a::b::d`.
fn expand_use(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let depth = prefix.len();
        prefix.extend(head);
        let mut level = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => level += 1,
                '}' => level -= 1,
                ',' if level == 0 => {
                    expand_use(&inner[start..i], prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_use(&inner[start..], prefix, out);
        prefix.truncate(depth);
    } else {
        let path = tree.split(" as ").next().unwrap_or("");
        let mut full = prefix.clone();
        full.extend(
            path.split("::")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty() && s != "*"),
        );
        if full.last().is_some_and(|s| s == "self") {
            full.pop();
        }
        if !full.is_empty() {
            out.push(full);
        }
    }
}

/// The module a path names, from within `module`; `None` when it leaves the crate.
fn resolve(
    module: &[String],
    path: &[String],
    children: &[String],
    tree: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let (mut base, rest) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (module.to_vec(), &path[1..]),
        "super" => {
            let mut base = module.to_vec();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        child if children.iter().any(|c| c == child) => (module.to_vec(), path),
        _ => return None,
    };
    // The longest prefix that is a module: the rest is an item in it.
    for segment in rest {
        let mut next = base.clone();
        next.push(segment.clone());
        if !tree.contains_key(&next) {
            break;
        }
        base = next;
    }
    Some(base)
}

/// Tarjan's strongly connected components with more than one file.
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<BTreeSet<PathBuf>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<BTreeSet<PathBuf>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a PathBuf) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        w.on_stack.insert(v);
        for u in w.edges.get(v).into_iter().flatten() {
            if !w.index.contains_key(u) {
                visit(w, u);
                let low = w.low[v].min(w.low[u]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(u) {
                let low = w.low[v].min(w.index[u]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = BTreeSet::new();
            while let Some(u) = w.stack.pop() {
                w.on_stack.remove(u);
                component.insert(u.clone());
                if u == v {
                    break;
                }
            }
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let mut w = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.found
}

/// Every file's imports of other files of its crate, parents and their children apart.
fn import_graph(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let tree = module_tree(root);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (module, file) in &tree {
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let children = declared_modules(&code);
        let targets = edges.entry(file.clone()).or_default();
        for path in named_paths(&code, &children) {
            let Some(target) = resolve(module, &path, &children, &tree) else {
                continue;
            };
            let related = target.starts_with(module) || module.starts_with(&target);
            if !related {
                targets.insert(tree[&target].clone());
            }
        }
    }
    edges
}

fn relative(file: &Path) -> String {
    let ws = workspace().canonicalize().unwrap();
    file.canonicalize()
        .unwrap()
        .strip_prefix(&ws)
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn no_two_files_import_each_other() {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut files = 0;
    for root in crate_roots() {
        let graph = import_graph(&root);
        files += graph.len();
        for circle in circles(&graph) {
            let mut names: Vec<String> = circle.iter().map(|f| relative(f)).collect();
            names.sort();
            found.push(names);
        }
    }
    // Otherwise the check looked at nothing (a path mistake would make it pass).
    assert!(files > 100, "only {files} files read");
    found.sort();
    assert!(found.is_empty(), "files that import each other: {found:#?}");
}

/// The reader finds what it must: a pair that imports each other through a `use` group,
/// a `super::` path and a path written in code, and not a parent and its child.
#[test]
fn the_reader_sees_imports_in_each_form() {
    let mut tree = BTreeMap::new();
    for (module, file) in [
        (vec![], "lib.rs"),
        (vec!["a"], "a.rs"),
        (vec!["b"], "b/mod.rs"),
        (vec!["b", "c"], "b/c.rs"),
    ] {
        tree.insert(
            module.into_iter().map(str::to_owned).collect::<Vec<_>>(),
            PathBuf::from(file),
        );
    }
    let code = code_only(
        "use crate::{b::{c::Thing, self}, a};\n// use crate::x;\nlet s = \"crate::a\";\nfn f() { super::super::a::g(); c::h(); }",
    );
    let children = vec!["c".to_owned()];
    let here = ["b".to_owned()];
    let resolved: BTreeSet<Vec<String>> = named_paths(&code, &children)
        .iter()
        .filter_map(|p| resolve(&here, p, &children, &tree))
        .collect();
    let expected: BTreeSet<Vec<String>> = [vec!["a"], vec!["b"], vec!["b", "c"]]
        .into_iter()
        .map(|m| m.into_iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(resolved, expected);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    edges.insert("a.rs".into(), ["b.rs".into()].into());
    edges.insert("b.rs".into(), ["c.rs".into()].into());
    edges.insert("c.rs".into(), ["a.rs".into()].into());
    edges.insert("d.rs".into(), ["a.rs".into()].into());
    assert_eq!(
        circles(&edges),
        vec![["a.rs".into(), "b.rs".into(), "c.rs".into()].into()]
    );
}
