//! No import circle between the app's files (issue 11): in `src/`, a file that another file
//! imports (`crate::…` paths) never imports that file back, directly or through others. A
//! circle is how the outbox came to hold chats while chats called the outbox: layers stop
//! meaning anything once two files need each other.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const APP_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../src");

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `state/chat.rs` is `state::chat`; `effects/mod.rs` is `effects`; `lib.rs` is the root.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without comments and without its `#[cfg(test)] mod tests` (tests may
/// reach anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules of `known` that `code` names through `crate::` paths, each the longest
/// known prefix of the path (an item's own module); `crate::a::{b::C, d}` names `a::b` and
/// `a::d` where those are modules.
fn imports_of(code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches(':');
        let mut candidates = Vec::new();
        if !rest[end..].starts_with('{') {
            candidates.push(path.to_owned());
        } else {
            let group = &rest[end + 1..rest[end..].find('}').map_or(rest.len(), |j| end + j)];
            for item in group.split(',') {
                let first = item.trim().split("::").next().unwrap_or("");
                candidates.push(format!("{path}::{first}"));
            }
        }
        for candidate in candidates {
            let segments: Vec<&str> = candidate.split("::").collect();
            if let Some(module) = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|m| known.contains(m))
            {
                out.insert(module);
            }
        }
    }
    out
}

/// Every set of two or more modules that import each other (Tarjan's strongly connected
/// components).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.graph[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn import_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            let text = fs::read_to_string(f).expect("read file");
            (module_of(root, f), code_of(&text))
        })
        .collect();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(m, code)| {
            let mut imports = imports_of(code, &known);
            imports.remove(m);
            // The crate root declares every module; naming it says nothing about layers.
            imports.remove("");
            (m.clone(), imports)
        })
        .collect()
}

#[test]
fn the_apps_files_import_each_other_one_way() {
    let graph = import_graph(Path::new(APP_SRC));
    assert!(
        graph.contains_key("state::chat") && graph.contains_key("effects::outbox_driver"),
        "the scan found the app's modules: {:?}",
        graph.keys().collect::<Vec<_>>()
    );
    assert_eq!(circles(&graph), Vec::<Vec<String>>::new());
}

#[test]
fn a_circle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, deps)| (m.to_owned(), deps.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
}

#[test]
fn imports_name_the_module_of_each_item() {
    let known: BTreeSet<String> = ["state", "state::chat", "state::typing", "effects::api"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let code = "use crate::state::chat::{ChatState, Toast};\nuse crate::state::{typing::TypingState};\nfn f() { crate::effects::api::Api::new(); }";
    let found: Vec<String> = imports_of(code, &known).into_iter().collect();
    assert_eq!(found, ["effects::api", "state::chat", "state::typing"]);
}
